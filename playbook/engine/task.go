package engine

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/mdo-play/mdo-play/modules"
	"github.com/mdo-play/mdo-play/playbook"
)

// runTask runs one task (or handler) on hosts in parallel, up to forks at a
// time (and throttle), and returns the hosts that failed.
func (st *state) runTask(ctx context.Context, pc *playCtx, hosts []*hostState, t *playbook.Task, sc *scope, kind playbook.EventKind) []*hostState {
	// A free-strategy host lane holds its fork slot already, and other
	// lanes are running: hostvars stay the section's snapshot.
	forked := sc.lane != nil && sc.lane.forked
	if !forked {
		st.takeAllFacts()
		st.refreshHostvars(pc)
		st.refreshGroups(pc)
	}
	st.banner(pc, t, kind)
	runOnce, throttle, err := st.schedule(pc, hosts, t, sc)
	if err != nil {
		// The task cannot be scheduled: it fails on every host, in the
		// same place a per-host keyword would.
		for _, h := range hosts {
			st.record(pc, h, &hostTask{t: t, sc: sc}, failedOutcome(taskError(t, err)), time.Now())
		}
		return hosts
	}
	if runOnce && len(hosts) > 1 {
		hosts = hosts[:1]
	}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		failed []*hostState
	)
	for _, h := range hosts {
		if !forked {
			select {
			case st.sem <- struct{}{}:
			case <-ctx.Done():
			}
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func(h *hostState) {
			defer wg.Done()
			if !forked {
				defer func() { <-st.sem }()
			}
			if throttle != nil {
				throttle <- struct{}{}
				defer func() { <-throttle }()
			}
			if st.runOnHost(ctx, pc, h, t, sc) {
				mu.Lock()
				failed = append(failed, h)
				mu.Unlock()
			}
		}(h)
	}
	wg.Wait()
	if !forked {
		st.takeAllFacts()
	}
	if runOnce && len(hosts) == 1 && !pc.free {
		st.shareRunOnce(pc, hosts[0], t)
	}
	// Keep the inventory order for what follows.
	set := toSet(failed)
	return filter(hosts, func(h *hostState) bool { return set[h] })
}

// shareRunOnce gives every host of the batch the registered result and
// facts of a run_once task, as Ansible does.
func (st *state) shareRunOnce(pc *playCtx, from *hostState, t *playbook.Task) {
	for _, h := range pc.batch {
		if h == from || h.failed || h.unreachable {
			continue
		}
		if t.Register != "" {
			if v, ok := from.setVars[t.Register]; ok {
				h.setVars[t.Register] = v
				h.dirty = true
			}
		}
		for k, v := range from.lastFacts {
			h.setVars[k] = v
			h.dirty = true
		}
	}
}

// banner emits a task's start event; under the free strategy only when the
// task differs from the last one shown.
func (st *state) banner(pc *playCtx, t *playbook.Task, kind playbook.EventKind) {
	if pc.free {
		pc.mu.Lock()
		same := pc.lastTask == t
		pc.lastTask = t
		pc.mu.Unlock()
		if same {
			return
		}
	}
	st.Sink.Emit(playbook.Event{Kind: kind, Time: time.Now(), Play: pc.play.Name, Task: st.taskName(pc, t), Pos: t.Pos, Module: t.Module})
}

// taskName renders a task name that contains a template with the play's
// variables; a name that cannot be rendered is shown as written.
func (st *state) taskName(pc *playCtx, t *playbook.Task) string {
	name := t.DisplayName()
	if !strings.Contains(name, "{{") {
		return name
	}
	vs := st.merge([]varLayer{{pc.playVars, true}, {pc.filesVars, true}, {st.Options.ExtraVars, true}})
	if s, err := st.Templates.RenderString("", name, vs.m); err == nil {
		return s
	}
	return name
}

var _ modules.FileReader = fileFinder{}

// schedule resolves the keywords that decide how a task is spread over
// its hosts, run_once and throttle, with the first host's variables (as
// Ansible templates them). throttle is nil without a limit.
func (st *state) schedule(pc *playCtx, hosts []*hostState, t *playbook.Task, sc *scope) (bool, chan struct{}, error) {
	ro := sc.keyword(t, func(t *playbook.Task) playbook.Value { return t.RunOnce }, nil)
	th := sc.keyword(t, func(t *playbook.Task) playbook.Value { return t.Throttle }, nil)
	bypass := st.bypassHostLoop(t)
	if len(hosts) == 0 || !ro.Set() && !th.Set() {
		return bypass, nil, nil
	}
	vs := st.taskVars(pc, hosts[0], sc, t)
	runOnce, err := st.evalBool(ro, vs, false)
	if err != nil {
		return false, nil, err
	}
	runOnce = runOnce || bypass
	var throttle chan struct{}
	if th.Set() {
		n, err := st.intKeyword(th, vs)
		if err != nil {
			return false, nil, err
		}
		if n > 0 {
			throttle = make(chan struct{}, n)
		}
	}
	return runOnce, throttle, nil
}

// bypassHostLoop reports whether t's module runs once for the batch, on
// its first host, whatever run_once says (Ansible's BYPASS_HOST_LOOP:
// pause, add_host); its result is given to every host as run_once's is.
func (st *state) bypassHostLoop(t *playbook.Task) bool {
	m, ok := st.Registry.Lookup(t.Module)
	if !ok {
		return false
	}
	b, ok := m.(interface{ BypassHostLoop() bool })
	return ok && b.BypassHostLoop()
}
