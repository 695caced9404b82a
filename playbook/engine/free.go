package engine

import (
	"context"
	"sync"

	"github.com/mdo-play/mdo-play/playbook"
)

// runFree runs a section with the free strategy: every host goes through
// the tasks on its own lane, as fast as it can, up to forks hosts at a
// time. Each lane looks for --start-at-task on its own; once one has
// found it, later sections start from the beginning.
func (st *state) runFree(ctx context.Context, pc *playCtx, tasks []*playbook.Task, sc *scope) []*hostState {
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		failed []*hostState
		found  bool
	)
	for _, h := range pc.alive() {
		select {
		case st.sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func(h *hostState) {
			defer wg.Done()
			defer func() { <-st.sem }()
			ln := &lane{forked: true, startAt: pc.lane.startAt}
			hsc := &scope{play: sc.play, handler: sc.handler, lane: ln}
			f := st.runList(ctx, pc, []*hostState{h}, tasks, hsc)
			mu.Lock()
			defer mu.Unlock()
			failed = append(failed, f...)
			found = found || ln.startAt == ""
		}(h)
	}
	wg.Wait()
	if found {
		pc.lane.startAt = ""
	}
	return failed
}
