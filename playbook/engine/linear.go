package engine

import (
	"context"
	"fmt"
	"strings"

	"github.com/mdo-play/mdo-play/modules"
	"github.com/mdo-play/mdo-play/playbook"
)

// runList runs tasks in order on hosts (the linear strategy: each task on
// every host before the next task) and returns the hosts that failed and
// were not rescued. Failed hosts take no part in the rest of the list.
func (st *state) runList(ctx context.Context, pc *playCtx, hosts []*hostState, tasks []*playbook.Task, sc *scope) []*hostState {
	var failed []*hostState
	active := hosts
	for _, t := range tasks {
		if ctx.Err() != nil {
			break
		}
		active = without(active, func(h *hostState) bool { return h.unreachable || h.ended })
		if len(active) == 0 || pc.stopping() {
			break
		}
		var f []*hostState
		if t.Module == "meta" || t.Module == "include_tasks" {
			if sc.lane.startAt != "" || !playbook.TagsSelected(sc.tags(t), st.Options.Tags, st.Options.SkipTags) && !(t.Module == "meta" && len(t.Tags) == 0) {
				continue
			}
			if t.Module == "meta" {
				st.runMeta(ctx, pc, active, t, sc)
				continue
			}
			f = st.runInclude(ctx, pc, active, t, sc)
		} else if t.IsBlock() {
			f = st.runBlock(ctx, pc, active, t, sc)
		} else {
			if sc.lane.startAt != "" {
				if t.Name != sc.lane.startAt {
					continue
				}
				sc.lane.startAt = ""
			}
			if !playbook.TagsSelected(sc.tags(t), st.Options.Tags, st.Options.SkipTags) {
				continue
			}
			f = st.runTask(ctx, pc, active, t, sc, playbook.EventTask)
		}
		if len(f) > 0 {
			failed = append(failed, f...)
			set := toSet(f)
			active = without(active, func(h *hostState) bool { return set[h] })
		}
		if sc.block == nil && !sc.handler && st.checkPolicy(pc, t, sc, failed, len(f) > 0) {
			break
		}
	}
	return failed
}

// checkPolicy applies the play's failure policy after a top-level task
// (any_errors_fatal, max_fail_percentage, a batch that failed entirely) and
// reports whether the play must stop.
func (st *state) checkPolicy(pc *playCtx, t *playbook.Task, sc *scope, sectionFailed []*hostState, taskFailed bool) bool {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if pc.aborted {
		return true
	}
	if !taskFailed {
		return false
	}
	down := toSet(sectionFailed)
	if !pc.free {
		// Under the free strategy other hosts' goroutines are still
		// writing their state; each host counts only its own failures.
		for _, h := range pc.batch {
			if h.failed || h.unreachable {
				down[h] = true
			}
		}
	}
	pv := varSet{m: pc.playVars}
	if st.boolKeyword(sc.keyword(t, func(t *playbook.Task) playbook.Value { return t.AnyErrorsFatal }, func(p *playbook.Play) playbook.Value { return p.AnyErrorsFatal }), pv, false) {
		pc.aborted, pc.stopRun = true, true
		return true
	}
	if v := pc.play.MaxFailPercentage; v.Set() {
		pct, err := modules.Convert(modules.TypeRaw, v.V)
		if err == nil {
			var limit float64
			switch x := pct.(type) {
			case int:
				limit = float64(x)
			case float64:
				limit = x
			case string:
				fmt.Sscanf(strings.TrimSuffix(x, "%"), "%g", &limit)
			}
			if float64(len(down))/float64(len(pc.batch))*100 > limit {
				pc.aborted, pc.stopRun, pc.maxFailAbort = true, true, true
				return true
			}
		}
	}
	if len(down) >= len(pc.batch) {
		// Every host has failed: the run ends, as ansible-playbook ends
		// it. Only a serial rollout says NO MORE HOSTS LEFT.
		pc.aborted, pc.stopRun = true, true
		pc.quietAbort = len(pc.batch) == len(pc.hosts)
		return true
	}
	return false
}

// runBlock runs a block, its rescue section on the hosts that failed in it,
// and its always section on every host that entered it.
func (st *state) runBlock(ctx context.Context, pc *playCtx, hosts []*hostState, b *playbook.Task, sc *scope) []*hostState {
	inner := sc.child(b)
	failed := st.runList(ctx, pc, hosts, b.Block, inner)
	if len(failed) > 0 && len(b.Rescue) > 0 {
		for _, h := range failed {
			if h.unreachable {
				continue
			}
			h.stats.Failed--
			h.stats.Rescued++
		}
		rescuable := without(failed, func(h *hostState) bool { return h.unreachable })
		failed = st.runList(ctx, pc, rescuable, b.Rescue, inner)
	}
	if len(b.Always) > 0 {
		alwaysFailed := st.runList(ctx, pc, without(hosts, func(h *hostState) bool { return h.unreachable }), b.Always, inner)
		failed = append(failed, alwaysFailed...)
	}
	return unique(failed)
}
