package engine

import (
	"context"

	"github.com/mdo-play/mdo-play/modules"
	"github.com/mdo-play/mdo-play/playbook"
)

// runMeta runs a meta: task (flush_handlers, end_play, end_host, ...).
// It returns the hosts that are done with the current list.
func (st *state) runMeta(ctx context.Context, pc *playCtx, hosts []*hostState, t *playbook.Task, sc *scope) []*hostState {
	action, _ := t.Args[modules.RawParams].(string)
	// Which hosts does the meta task apply to? Those whose when holds.
	var on []*hostState
	for _, h := range hosts {
		vs := st.taskVars(pc, h, sc, t)
		ok, err := st.conds(sc.when(t), vs)
		if err == nil && ok {
			on = append(on, h)
		}
	}
	if len(on) == 0 {
		return nil
	}
	switch action {
	case "flush_handlers":
		st.flushHandlers(ctx, pc, hosts, sc.lane)
	case "end_play":
		pc.mu.Lock()
		pc.ended = true
		pc.mu.Unlock()
		return hosts
	case "end_batch":
		pc.mu.Lock()
		pc.endBatch = true
		pc.mu.Unlock()
		return hosts
	case "end_host":
		for _, h := range on {
			h.ended = true
		}
		return on
	case "clear_host_errors":
		for _, h := range pc.batch {
			h.failed = false
		}
	case "clear_facts":
		for _, h := range on {
			h.facts, h.bareFacts = nil, nil
			h.dirty = true
		}
	case "refresh_inventory", "reset_connection", "noop":
	}
	return nil
}
