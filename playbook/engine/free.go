package engine

import (
	"context"
	"sync"

	"github.com/mdo-play/mdo-play/playbook"
)

// runFree runs a section with the free strategy: every host goes through
// the tasks on its own, as fast as it can, up to forks hosts at a time.
func (st *state) runFree(ctx context.Context, pc *playCtx, tasks []*playbook.Task, sc *scope) []*hostState {
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		failed []*hostState
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
			if f := st.runList(ctx, pc, []*hostState{h}, tasks, sc); len(f) > 0 {
				mu.Lock()
				failed = append(failed, f...)
				mu.Unlock()
			}
		}(h)
	}
	wg.Wait()
	return failed
}
