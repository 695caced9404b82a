package engine

import (
	"context"
	"time"

	"github.com/mdo-play/mdo-play/playbook"
)

// factsModule reports whether the facts of module name are host facts, as
// Ansible records a module's ansible_facts: setup's (named without the
// ansible_ prefix, which the variables add back), package_facts' packages
// and service_facts' services (variables under their own names).
func factsModule(name string) bool {
	switch name {
	case "setup", "gather_facts", "package_facts", "service_facts":
		return true
	}
	return false
}

// runOnHost runs t on h (resolve, execute, record) and reports whether
// the host failed.
func (st *state) runOnHost(ctx context.Context, pc *playCtx, h *hostState, t *playbook.Task, sc *scope) bool {
	start := time.Now()
	ht, err := st.resolveHost(ctx, pc, h, t, sc)
	var out outcome
	if err != nil {
		out = failedOutcome(taskError(t, err))
	} else {
		out = st.execute(ctx, pc, h, ht)
	}
	return st.record(pc, h, ht, out, start)
}

// record records a task's outcome on h: the host event (censored under
// no_log), registered results and facts, the recap counters, notified
// handlers. It reports whether the host failed.
func (st *state) record(pc *playCtx, h *hostState, ht *hostTask, out outcome, start time.Time) bool {
	t := ht.t
	st.applyActions(h, t, &out)
	ignored := out.status == playbook.StatusFailed && ht.ignoreErrors ||
		out.status == playbook.StatusUnreachable && ht.ignoreUnreachable
	shown := out.result
	if out.noLog {
		shown = censor(out.result)
	}
	st.Sink.Emit(playbook.Event{Kind: playbook.EventHost, Time: time.Now(), Play: pc.play.Name, Task: t.DisplayName(), Pos: t.Pos, Module: t.Module,
		Host: h.name(), Delegate: out.delegate, Status: out.status, Ignored: ignored, Result: shown, Verbose: out.verbose, Loop: out.loop,
		Diff: out.diff, Duration: time.Since(start)})

	if t.Register != "" {
		h.setVars[t.Register] = out.result
		h.dirty = true
	}
	h.lastFacts = out.facts
	st.takeFacts(h)
	if to := ht.delegateFacts; to != "" && to != h.name() && len(out.facts) > 0 && out.status != playbook.StatusFailed {
		// delegate_facts: the facts belong to the delegated host, which
		// takes them when no goroutine of its own runs (pendingFacts).
		st.pendMu.Lock()
		if st.pending == nil {
			st.pending = map[string][]pendingFacts{}
		}
		st.pending[to] = append(st.pending[to], pendingFacts{module: t.Module, facts: out.facts})
		st.pendMu.Unlock()
		h.lastFacts, out.facts = nil, nil
	}
	if factsModule(t.Module) && out.status != playbook.StatusFailed {
		// Gathered facts are host facts (below play vars), not set_fact.
		if h.facts == nil {
			h.facts = map[string]any{}
		}
		for k, v := range out.facts {
			h.facts[k] = v
			if t.Module != "setup" && t.Module != "gather_facts" {
				if h.bareFacts == nil {
					h.bareFacts = map[string]bool{}
				}
				h.bareFacts[k] = true
			}
		}
		h.dirty = true
		out.facts = nil
	}
	if len(out.facts) > 0 {
		for k, v := range out.facts {
			h.setVars[k] = v
		}
		h.dirty = true
	}
	switch out.status {
	case playbook.StatusUnreachable:
		if ignored {
			// As Ansible counts an ignored unreachable result.
			h.stats.OK++
			h.stats.Ignored++
			return false
		}
		h.stats.Unreachable++
		h.unreachable = true
		return true
	case playbook.StatusFailed:
		if ignored {
			h.stats.OK++
			h.stats.Ignored++
			if changed, _ := out.result["changed"].(bool); changed {
				h.stats.Changed++
			}
			return false
		}
		h.stats.Failed++
		// For a rescue section, as Ansible provides them.
		h.setVars["ansible_failed_task"] = map[string]any{"name": t.Name, "action": t.Module, "path": t.Pos.String()}
		h.setVars["ansible_failed_result"] = out.result
		h.dirty = true
		return true
	case playbook.StatusSkipped:
		h.stats.Skipped++
	case playbook.StatusChanged:
		h.stats.OK++
		h.stats.Changed++
		st.notify(pc, h, ht.notify)
	default:
		h.stats.OK++
	}
	return false
}

// pendingFacts are facts a task delegated to another host (delegate_facts).
type pendingFacts struct {
	module string
	facts  map[string]any
}

// setFacts records facts a task (module) set on h: a facts module's as
// host facts, others' (set_fact, include_vars) as set_fact variables.
func setFacts(h *hostState, module string, facts map[string]any) {
	if len(facts) == 0 {
		return
	}
	if factsModule(module) {
		if h.facts == nil {
			h.facts = map[string]any{}
		}
		for k, v := range facts {
			h.facts[k] = v
			if module != "setup" && module != "gather_facts" {
				if h.bareFacts == nil {
					h.bareFacts = map[string]bool{}
				}
				h.bareFacts[k] = true
			}
		}
	} else {
		for k, v := range facts {
			h.setVars[k] = v
		}
	}
	h.dirty = true
}

// takeFacts gives h the facts other hosts' tasks delegated to it; it runs
// on h's goroutine, or when no task runs.
func (st *state) takeFacts(h *hostState) {
	st.pendMu.Lock()
	p := st.pending[h.name()]
	delete(st.pending, h.name())
	st.pendMu.Unlock()
	for _, f := range p {
		setFacts(h, f.module, f.facts)
	}
}

// takeAllFacts hands every delegated fact to its host, making the state of
// a delegated host outside the play's hosts; it runs when no task runs.
func (st *state) takeAllFacts() {
	st.pendMu.Lock()
	names := make([]string, 0, len(st.pending))
	for n := range st.pending {
		names = append(names, n)
	}
	st.pendMu.Unlock()
	for _, n := range names {
		h, ok := st.hosts[n]
		if !ok {
			st.invMu.RLock()
			ih, found := st.Inventory.Host(n)
			st.invMu.RUnlock()
			if !found {
				continue
			}
			h = &hostState{host: ih, invVars: st.invHostVars(ih), setVars: map[string]any{}, notified: map[*playbook.Task]bool{}, invGen: st.invGen}
			st.hosts[n] = h
			st.order = append(st.order, n)
		}
		st.takeFacts(h)
	}
}
