package engine

import (
	"context"
	"time"

	"github.com/mdo-play/mdo-play/playbook"
)

// runOnHost runs t on h, records the result in h's state and stats, emits
// the host event, and reports whether the host failed.
func (st *state) runOnHost(ctx context.Context, pc *playCtx, h *hostState, t *playbook.Task, sc *scope) bool {
	start := time.Now()
	vs := st.taskVars(pc, h, sc, t)
	out := st.execute(ctx, pc, h, t, sc, vs)
	ignored := false
	if out.status == playbook.StatusFailed && st.boolKeyword(sc.keyword(t, func(t *playbook.Task) playbook.Value { return t.IgnoreErrors }, func(p *playbook.Play) playbook.Value { return p.IgnoreErrors }), vs, false) {
		ignored = true
	}
	if out.status == playbook.StatusUnreachable && st.boolKeyword(sc.keyword(t, func(t *playbook.Task) playbook.Value { return t.IgnoreUnreachable }, func(p *playbook.Play) playbook.Value { return p.IgnoreUnreachable }), vs, false) {
		ignored = true
	}
	noLog := st.boolKeyword(sc.keyword(t, func(t *playbook.Task) playbook.Value { return t.NoLog }, func(p *playbook.Play) playbook.Value { return p.NoLog }), vs, false)
	shown := out.result
	if noLog {
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
	if t.Module == "setup" && out.status != playbook.StatusFailed {
		// Gathered facts are host facts (below play vars), not set_fact.
		if h.facts == nil {
			h.facts = map[string]any{}
		}
		for k, v := range out.facts {
			h.facts[k] = v
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
		st.notify(pc, h, t, sc, vs)
	default:
		h.stats.OK++
	}
	return false
}

// censor hides a no_log result.
func censor(m map[string]any) map[string]any {
	out := map[string]any{
		"censored": "the output has been hidden due to the fact that 'no_log: true' was specified for this result",
		"changed":  m["changed"],
	}
	if f, ok := m["failed"]; ok {
		out["failed"] = f
	}
	if s, ok := m["skipped"]; ok {
		out["skipped"] = s
	}
	return out
}
