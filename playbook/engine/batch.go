package engine

import (
	"context"
	"time"

	"github.com/mdo-play/mdo-play/playbook"
)

// runBatches runs the play on its serial batches in turn (one batch of
// every host without serial), and stops at a failure policy or end_play.
func (st *state) runBatches(ctx context.Context, pc *playCtx, sizes []int) error {
	play := pc.play
	pc.allHosts = pc.playHosts
	for i, off := 0, 0; i < len(sizes); off, i = off+sizes[i], i+1 {
		batch := pc.hosts[off : off+sizes[i]]
		pc.batch = batch
		pc.playHosts = make([]any, len(batch))
		for j, h := range batch {
			pc.playHosts[j] = h.name()
		}
		if i > 0 {
			names := make([]string, len(batch))
			for j, h := range batch {
				names[j] = h.name()
			}
			st.Sink.Emit(playbook.Event{Kind: playbook.EventPlay, Time: time.Now(), Play: play.Name, Pattern: play.Hosts, Pos: play.Pos, Hosts: names})
		}
		pc.endBatch = false
		st.runBatch(ctx, pc)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if pc.ended {
			break
		}
		if pc.aborted || st.stopped {
			if !pc.quietAbort {
				st.Sink.Emit(playbook.Event{Kind: playbook.EventNoMoreHosts, Time: time.Now(), Play: play.Name, Pos: play.Pos})
			}
			if pc.maxFailAbort {
				// ansible-playbook says it twice here (the batch, then the
				// play); the output follows it line for line.
				st.Sink.Emit(playbook.Event{Kind: playbook.EventNoMoreHosts, Time: time.Now(), Play: play.Name, Pos: play.Pos})
			}
			if pc.stopRun {
				st.stopped = true
			}
			break
		}
	}
	return nil
}

// runBatch runs the play's sections on the current batch, flushing
// handlers after each section.
func (st *state) runBatch(ctx context.Context, pc *playCtx) {
	playScope := &scope{play: pc.play}
	if st.gatherFacts(pc) {
		gather := &playbook.Task{Pos: pc.play.Pos, Name: "Gathering Facts", Module: "setup", ModuleKey: "gather_facts", Args: map[string]any{}}
		if sub, ok := pc.play.GatherSubset.V.([]any); ok {
			gather.Args["gather_subset"] = sub
		} else if s, ok := pc.play.GatherSubset.V.(string); ok {
			gather.Args["gather_subset"] = s
		}
		failed := st.runTask(ctx, pc, pc.alive(), gather, playScope, playbook.EventTask)
		for _, h := range failed {
			h.failed = true
		}
	}
	main := append(append([]*playbook.Task{}, pc.play.Roles...), pc.play.Tasks...)
	for _, section := range [][]*playbook.Task{pc.play.PreTasks, main, pc.play.PostTasks} {
		if len(section) == 0 {
			continue
		}
		var failed []*hostState
		if pc.free {
			st.refreshHostvars(pc) // a snapshot: hosts run ahead on their own
			failed = st.runFree(ctx, pc, section, playScope)
		} else {
			failed = st.runList(ctx, pc, pc.alive(), section, &scope{play: pc.play, lane: &pc.lane})
		}
		for _, h := range failed {
			h.failed = true
		}
		if !pc.aborted || st.forceHandlers(pc) {
			st.flushHandlers(ctx, pc, nil, nil)
		}
		if ctx.Err() != nil || pc.aborted || pc.ended || pc.endBatch {
			return
		}
	}
}
