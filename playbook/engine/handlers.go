package engine

import (
	"context"
	"strings"

	"github.com/mdo-play/mdo-play/playbook"
)

// notify marks the handlers t notifies on h.
func (st *state) notify(pc *playCtx, h *hostState, t *playbook.Task, sc *scope, vs varSet) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	for _, n := range t.Notify {
		name := n
		if strings.Contains(n, "{{") {
			if s, err := st.Templates.RenderString("", n, vs.m); err == nil {
				name = s
			}
		}
		for _, hd := range pc.byName[name] {
			h.notified[hd] = true
		}
	}
}

// flushHandlers runs the notified handlers, in the order they are defined,
// on the hosts that notified them. A handler may notify a later handler.
func (st *state) flushHandlers(ctx context.Context, pc *playCtx) {
	force := st.Options.ForceHandlers || st.boolKeyword(pc.play.ForceHandlers, varSet{m: pc.playVars}, false)
	for _, hd := range pc.handlers {
		if ctx.Err() != nil {
			return
		}
		var hosts []*hostState
		for _, h := range pc.hosts {
			if !h.notified[hd] || h.unreachable || h.ended || (h.failed && !force) {
				continue
			}
			delete(h.notified, hd)
			hosts = append(hosts, h)
		}
		if len(hosts) == 0 {
			continue
		}
		failed := st.runTask(ctx, pc, hosts, hd, &scope{play: pc.play, handler: true}, playbook.EventHandler)
		for _, h := range failed {
			h.failed = true
		}
	}
}

// forceHandlers reports whether handlers run on failed hosts too.
func (st *state) forceHandlers(pc *playCtx) bool {
	return st.Options.ForceHandlers || st.boolKeyword(pc.play.ForceHandlers, varSet{m: pc.playVars}, false)
}
