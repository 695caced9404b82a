package engine

import (
	"context"

	"github.com/mdo-play/mdo-play/playbook"
)

// notify marks the handlers named (or listening to) names on h.
func (st *state) notify(pc *playCtx, h *hostState, names []string) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	for _, name := range names {
		for _, hd := range pc.byName[name] {
			h.notified[hd] = true
		}
	}
}

// flushHandlers runs the notified handlers, in the order they are defined,
// on the hosts that notified them. A handler may notify a later handler.
// ln is the lane of a flush_handlers task (nil after a section): a
// free-strategy lane flushes its own hosts only (on) and holds its fork.
func (st *state) flushHandlers(ctx context.Context, pc *playCtx, on []*hostState, ln *lane) {
	force := st.forceHandlers(pc)
	if ln == nil || !ln.forked {
		on = pc.hosts
	}
	for _, hd := range pc.handlers {
		if ctx.Err() != nil {
			return
		}
		var hosts []*hostState
		pc.mu.Lock()
		for _, h := range on {
			if !h.notified[hd] || h.unreachable || h.ended || (h.failed && !force) {
				continue
			}
			delete(h.notified, hd)
			hosts = append(hosts, h)
		}
		pc.mu.Unlock()
		if len(hosts) == 0 {
			continue
		}
		failed := st.runTask(ctx, pc, hosts, hd, &scope{play: pc.play, handler: true, lane: ln}, playbook.EventHandler)
		for _, h := range failed {
			h.failed = true
		}
	}
}

// forceHandlers reports whether handlers run on failed hosts too.
func (st *state) forceHandlers(pc *playCtx) bool {
	return st.Options.ForceHandlers || st.boolKeyword(pc.play.ForceHandlers, varSet{m: pc.playVars}, false)
}
