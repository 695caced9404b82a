package engine

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/mdo-play/mdo-play/modules"
	"github.com/mdo-play/mdo-play/modules/conn"
	"github.com/mdo-play/mdo-play/playbook"
	"github.com/mdo-play/mdo-play/templates"
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
		if len(active) == 0 || pc.ended || pc.endBatch {
			break
		}
		var f []*hostState
		if t.Module == "meta" || t.Module == "include_tasks" {
			if pc.startAt != "" || !playbook.TagsSelected(sc.tags(t), st.Options.Tags, st.Options.SkipTags) && !(t.Module == "meta" && len(t.Tags) == 0) {
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
			if pc.startAt != "" {
				if t.Name != pc.startAt {
					continue
				}
				pc.startAt = ""
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

// runTask runs one task (or handler) on hosts in parallel, up to forks at a
// time (and throttle), and returns the hosts that failed.
func (st *state) runTask(ctx context.Context, pc *playCtx, hosts []*hostState, t *playbook.Task, sc *scope, kind playbook.EventKind) []*hostState {
	if !pc.free {
		st.refreshHostvars(pc)
	}
	st.banner(pc, t, kind)
	pv := varSet{m: pc.playVars}
	runOnce := st.boolKeyword(sc.keyword(t, func(t *playbook.Task) playbook.Value { return t.RunOnce }, nil), pv, false)
	if runOnce && len(hosts) > 1 {
		hosts = hosts[:1]
	}
	var throttle chan struct{}
	if v := sc.keyword(t, func(t *playbook.Task) playbook.Value { return t.Throttle }, nil); v.Set() {
		if n, err := st.intKeyword(v, pv); err == nil && n > 0 {
			throttle = make(chan struct{}, n)
		}
	}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		failed []*hostState
	)
	for _, h := range hosts {
		if !pc.free {
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
			if !pc.free {
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

// outcome is the result of a task (all its loop items) on one host.
type outcome struct {
	delegate string
	status   playbook.Status
	result   map[string]any
	diff     []modules.Diff
	verbose  bool
	loop     bool
	facts    map[string]any
}

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

// taskVars merges the variables a task sees on a host, in Ansible's
// precedence order (lowest first).
func (st *state) taskVars(pc *playCtx, h *hostState, sc *scope, t *playbook.Task) varSet {
	layers := make([]varLayer, 0, 12)
	roleDefaults, roleVars := roleLayers(sc, t)
	for _, d := range roleDefaults {
		layers = append(layers, varLayer{d, true})
	}
	layers = append(layers, varLayer{h.invVars, true})
	if len(h.facts) > 0 {
		layers = append(layers, varLayer{st.factVars(h), false})
	}
	layers = append(layers, varLayer{pc.playVars, true}, varLayer{pc.filesVars, true})
	for _, v := range roleVars {
		layers = append(layers, varLayer{v, true})
	}
	for _, b := range sc.blocks() {
		if len(b.Vars) > 0 {
			layers = append(layers, varLayer{varsMap(b.Vars), true})
		}
	}
	if t != nil && len(t.Vars) > 0 {
		layers = append(layers, varLayer{varsMap(t.Vars), true})
	}
	layers = append(layers, varLayer{h.setVars, false}, varLayer{st.Options.ExtraVars, true}, varLayer{st.magic(pc, h), false})
	return st.merge(layers)
}

func (st *state) factVars(h *hostState) map[string]any {
	m := make(map[string]any, len(h.facts)+1)
	m["ansible_facts"] = h.facts
	for k, v := range h.facts {
		m["ansible_"+k] = v
	}
	return m
}

func varsMap(vs []playbook.Var) map[string]any {
	m := make(map[string]any, len(vs))
	for _, v := range vs {
		m[v.Name] = v.Value
	}
	return m
}

// magic returns the variables Ansible defines for every host.
func (st *state) magic(pc *playCtx, h *hostState) map[string]any {
	name := h.name()
	short := name
	if i := strings.IndexByte(short, '.'); i > 0 {
		short = short[:i]
	}
	groupNames := st.Inventory.GroupNames(h.host)
	gn := make([]any, len(groupNames))
	for i, g := range groupNames {
		gn[i] = g
	}
	return map[string]any{
		"inventory_hostname":       name,
		"inventory_hostname_short": short,
		"group_names":              gn,
		"groups":                   pc.groups,
		"hostvars":                 pc.hostvars,
		"play_hosts":               pc.playHosts,
		"ansible_play_hosts":       pc.playHosts,
		"ansible_play_hosts_all":   pc.playHosts,
		"ansible_play_batch":       pc.playHosts,
		"ansible_play_name":        pc.play.Name,
		"ansible_check_mode":       st.Options.Check,
		"ansible_diff_mode":        st.Options.Diff,
		"ansible_verbosity":        st.Options.Verbosity,
		"playbook_dir":             pc.pb.Dir,
		"omit":                     st.omit,
	}
}

// boolKeyword evaluates a boolean keyword (a YAML boolean, a YAML 1.1 word,
// or a template that renders to one).
func (st *state) boolKeyword(v playbook.Value, vs varSet, def bool) bool {
	b, err := st.evalBool(v, vs, def)
	if err != nil {
		return def
	}
	return b
}

func (st *state) evalBool(v playbook.Value, vs varSet, def bool) (bool, error) {
	if !v.Set() || v.V == nil {
		return def, nil
	}
	x := v.V
	if s, ok := x.(string); ok && strings.Contains(s, "{{") {
		r, err := st.Templates.Render(s, vs.m)
		if err != nil {
			return def, &playbook.Error{Pos: v.Pos, Msg: vs.explain(err).Error()}
		}
		x = r
	}
	b, err := modules.ParseBool(x)
	if err != nil {
		return def, &playbook.Error{Pos: v.Pos, Msg: err.Error()}
	}
	return b, nil
}

// evalString evaluates a string keyword.
func (st *state) evalString(v playbook.Value, vs varSet) (string, error) {
	if !v.Set() || v.V == nil {
		return "", nil
	}
	s := fmt.Sprint(v.V)
	if !strings.Contains(s, "{{") {
		return s, nil
	}
	out, err := st.Templates.RenderString("", s, vs.m)
	if err != nil {
		return "", &playbook.Error{Pos: v.Pos, Msg: vs.explain(err).Error()}
	}
	return out, nil
}

// execute runs t on h: the loop, conditions, module call and result
// post-processing.
func (st *state) execute(ctx context.Context, pc *playCtx, h *hostState, t *playbook.Task, sc *scope, vs varSet) outcome {
	if !t.Loop.Set() {
		r := st.once(ctx, pc, h, t, sc, vs)
		return outcome{status: r.status, result: r.result, diff: r.diff, verbose: r.verbose, facts: r.facts, delegate: r.delegate}
	}
	items, err := st.loopItems(t, vs)
	if err != nil {
		return failedOutcome(taskError(t, err))
	}
	loopVar := t.LoopControl.LoopVar
	if loopVar == "" {
		loopVar = "item"
	}
	out := outcome{loop: true, status: playbook.StatusSkipped}
	results := make([]any, 0, len(items))
	anyChanged, anyFailed, allSkipped := false, false, true
	facts := map[string]any{}
	for i, item := range items {
		if ctx.Err() != nil {
			break
		}
		ivs := st.withItem(vs, loopVar, item, t.LoopControl.IndexVar, i, facts)
		r := st.once(ctx, pc, h, t, sc, ivs)
		r.result["item"] = item
		r.result[loopVar] = item
		r.result["ansible_loop_var"] = loopVar
		if t.LoopControl.IndexVar != "" {
			r.result[t.LoopControl.IndexVar] = i
			r.result["ansible_index_var"] = t.LoopControl.IndexVar
		}
		label := any(item)
		if t.LoopControl.Label != "" {
			if s, err := st.Templates.RenderString("", t.LoopControl.Label, ivs.m); err == nil {
				label = s
			}
		}
		noLog := st.boolKeyword(sc.keyword(t, func(t *playbook.Task) playbook.Value { return t.NoLog }, func(p *playbook.Play) playbook.Value { return p.NoLog }), ivs, false)
		shown := r.result
		if noLog {
			shown = censor(r.result)
			label = "None"
		}
		st.Sink.Emit(playbook.Event{Kind: playbook.EventItem, Time: time.Now(), Play: pc.play.Name, Task: t.DisplayName(), Pos: t.Pos, Module: t.Module,
			Host: h.name(), Delegate: r.delegate, Status: r.status, Item: label, HasItem: true, Result: shown, Verbose: r.verbose, Diff: r.diff})
		results = append(results, r.result)
		out.delegate = r.delegate
		out.diff = append(out.diff, r.diff...)
		for k, v := range r.facts {
			facts[k] = v
		}
		switch r.status {
		case playbook.StatusUnreachable:
			res := map[string]any{"unreachable": true, "changed": anyChanged, "msg": r.result["msg"], "results": results}
			return outcome{status: playbook.StatusUnreachable, result: res, loop: true}
		case playbook.StatusFailed:
			anyFailed = true
			allSkipped = false
		case playbook.StatusChanged:
			anyChanged = true
			allSkipped = false
		case playbook.StatusOK:
			allSkipped = false
		}
	}
	res := map[string]any{"changed": anyChanged, "results": results, "msg": "All items completed"}
	switch {
	case anyFailed:
		res["failed"] = true
		res["msg"] = "One or more items failed"
		out.status = playbook.StatusFailed
	case len(items) == 0:
		res["skipped"] = true
		res["skipped_reason"] = "No items in the list"
		out.status = playbook.StatusSkipped
	case allSkipped:
		res["skipped"] = true
		out.status = playbook.StatusSkipped
	case anyChanged:
		out.status = playbook.StatusChanged
	default:
		out.status = playbook.StatusOK
	}
	if !anyFailed {
		res["failed"] = false
	}
	out.result = res
	out.facts = facts
	return out
}

// withItem returns vs with the loop variables added (and the facts set by
// earlier items, so that set_fact in a loop accumulates as in Ansible).
func (st *state) withItem(vs varSet, loopVar string, item any, indexVar string, i int, facts map[string]any) varSet {
	m := make(map[string]any, len(vs.m)+len(facts)+3)
	for k, v := range vs.m {
		m[k] = v
	}
	for k, v := range facts {
		m[k] = v
	}
	m[loopVar] = item
	m["ansible_loop_var"] = loopVar
	if indexVar != "" {
		m[indexVar] = i
	}
	return varSet{m: m, errs: vs.errs}
}

// loopItems evaluates a task's loop to a list.
func (st *state) loopItems(t *playbook.Task, vs varSet) ([]any, error) {
	v := t.Loop.V
	if s, ok := v.(string); ok {
		r, err := st.Templates.Render(s, vs.m)
		if err != nil {
			return nil, &playbook.Error{Pos: t.Loop.Pos, Msg: "loop: " + vs.explain(err).Error()}
		}
		v = r
	} else {
		r, err := st.Templates.RenderValue(v, vs.m)
		if err != nil {
			return nil, &playbook.Error{Pos: t.Loop.Pos, Msg: "loop: " + vs.explain(err).Error()}
		}
		v = r
	}
	switch x := v.(type) {
	case nil:
		return nil, nil
	case []any:
		return x, nil
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out, nil
	}
	return nil, &playbook.Error{Pos: t.Loop.Pos, Msg: fmt.Sprintf("loop must be a list, got %s %v", modules.TypeName(v), v)}
}

// callResult is the result of one module call (one loop item).
type callResult struct {
	delegate string
	status   playbook.Status
	result   map[string]any
	diff     []modules.Diff
	verbose  bool
	facts    map[string]any
}

func failedOutcome(msg string) outcome {
	return outcome{status: playbook.StatusFailed, result: map[string]any{"failed": true, "changed": false, "msg": msg}}
}

func failedCall(msg string) callResult {
	return callResult{status: playbook.StatusFailed, result: map[string]any{"failed": true, "changed": false, "msg": msg}}
}

// taskError formats an error about a task for its result message.
func taskError(t *playbook.Task, err error) string {
	var pe *playbook.Error
	if errors.As(err, &pe) {
		return fmt.Sprintf("%s: task %s: %s", pe.Pos, playbook.QuoteName(t.DisplayName()), pe.Msg)
	}
	return fmt.Sprintf("%s: task %s: %v", t.Pos, playbook.QuoteName(t.DisplayName()), err)
}

// once runs one module call: conditions, arguments, the call, retries,
// changed_when and failed_when.
func (st *state) once(ctx context.Context, pc *playCtx, h *hostState, t *playbook.Task, sc *scope, vs varSet) (cr callResult) {
	if when := sc.when(t); len(when) > 0 {
		for _, c := range when {
			ok, err := st.Templates.Cond(c.Text, vs.m)
			if err != nil {
				return failedCall(taskError(t, &playbook.Error{Pos: c.Pos, Msg: "when: " + vs.explain(err).Error()}))
			}
			if !ok {
				return callResult{status: playbook.StatusSkipped, result: map[string]any{
					"changed": false, "skipped": true, "skip_reason": "Conditional result was False", "false_condition": c.Text}}
			}
		}
	}
	mod, ok := st.Registry.Lookup(t.Module)
	if !ok {
		return failedCall(taskError(t, fmt.Errorf("unknown module %q", t.Module)))
	}
	spec := mod.Spec()
	args, err := st.renderArgs(t, spec, vs)
	if err != nil {
		return failedCall(taskError(t, err))
	}
	norm, err := spec.Normalize(args)
	if err != nil {
		return failedCall(taskError(t, &playbook.Error{Pos: t.ModulePos, Msg: fmt.Sprintf("module %s: %v", t.ModuleKey, err)}))
	}
	check := st.Options.Check
	if v := sc.keyword(t, func(t *playbook.Task) playbook.Value { return t.CheckMode }, func(p *playbook.Play) playbook.Value { return p.CheckMode }); v.Set() {
		b, err := st.evalBool(v, vs, check)
		if err != nil {
			return failedCall(taskError(t, err))
		}
		check = b
	}
	diff := st.Options.Diff
	if v := sc.keyword(t, func(t *playbook.Task) playbook.Value { return t.Diff }, func(p *playbook.Play) playbook.Value { return p.Diff }); v.Set() {
		diff = st.boolKeyword(v, vs, diff)
	}
	if check && !spec.CheckMode {
		return callResult{status: playbook.StatusSkipped, result: map[string]any{
			"changed": false, "skipped": true, "msg": fmt.Sprintf("module %s does not support check mode", t.Module)}}
	}
	env := &modules.Env{Check: check, Diff: diff, Host: h.name(), Vars: &moduleVars{st: st, vs: vs}, Files: st.files(pc, sc, t)}
	if !spec.Controller {
		c, delegate, err := st.hostConn(ctx, h, t, sc, vs)
		if err != nil {
			if errors.Is(err, conn.ErrUnreachable) {
				return callResult{status: playbook.StatusUnreachable, delegate: delegate, result: map[string]any{"unreachable": true, "changed": false, "msg": err.Error()}}
			}
			return failedCall(taskError(t, err))
		}
		env.Conn = c
		defer func() { cr.delegate = delegate }()
	}

	retries, delay := 0, 5*time.Second
	until := t.Until
	if len(until) > 0 {
		retries = 3
		if t.Retries.Set() {
			if n, err := st.intKeyword(t.Retries, vs); err == nil {
				retries = n
			}
		}
		if t.Delay.Set() {
			if n, err := st.intKeyword(t.Delay, vs); err == nil {
				delay = time.Duration(n) * time.Second
			}
		}
	}
	var timeout time.Duration
	if t.Timeout.Set() {
		n, err := st.intKeyword(t.Timeout, vs)
		if err != nil {
			return failedCall(taskError(t, err))
		}
		timeout = time.Duration(n) * time.Second
	}

	for attempt := 1; ; attempt++ {
		cr = st.call(ctx, mod, env, norm, timeout)
		if cr.status == playbook.StatusUnreachable {
			return cr
		}
		cr = st.postProcess(t, cr, vs)
		if len(until) == 0 {
			break
		}
		cr.result["attempts"] = attempt
		uvs := vs
		if t.Register != "" {
			uvs = st.withItem(vs, t.Register, cr.result, "", 0, nil)
			delete(uvs.m, "ansible_loop_var")
		}
		okAll := true
		for _, c := range until {
			ok, err := st.Templates.Cond(c.Text, uvs.m)
			if err != nil {
				return failedCall(taskError(t, &playbook.Error{Pos: c.Pos, Msg: "until: " + vs.explain(err).Error()}))
			}
			if !ok {
				okAll = false
				break
			}
		}
		if okAll {
			break
		}
		if attempt > retries {
			cr.status = playbook.StatusFailed
			cr.result["failed"] = true
			if _, ok := cr.result["msg"]; !ok {
				cr.result["msg"] = "Retried task failed"
			}
			break
		}
		st.Sink.Emit(playbook.Event{Kind: playbook.EventRetry, Time: time.Now(), Play: pc.play.Name, Task: t.DisplayName(), Pos: t.Pos, Module: t.Module,
			Host: h.name(), Retries: retries - attempt + 1})
		select {
		case <-ctx.Done():
			return cr
		case <-time.After(delay):
		}
	}
	return cr
}

// call runs the module once.
func (st *state) call(ctx context.Context, mod modules.Module, env *modules.Env, args modules.Args, timeout time.Duration) callResult {
	cctx := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		cctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	res, err := mod.Run(cctx, env, args)
	if err != nil {
		switch {
		case errors.Is(err, conn.ErrUnreachable):
			return callResult{status: playbook.StatusUnreachable, result: map[string]any{"unreachable": true, "changed": false, "msg": err.Error()}}
		case timeout > 0 && errors.Is(cctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil:
			return failedCall(fmt.Sprintf("The task exceeded its timeout of %d seconds", int(timeout/time.Second)))
		}
		return failedCall(err.Error())
	}
	m := res.Map()
	cr := callResult{result: m, diff: res.Diff, facts: res.Facts, verbose: isVerboseModule(mod)}
	switch {
	case res.Failed:
		cr.status = playbook.StatusFailed
	case res.Skipped:
		cr.status = playbook.StatusSkipped
	case res.Changed:
		cr.status = playbook.StatusChanged
	default:
		cr.status = playbook.StatusOK
	}
	if len(res.Facts) > 0 {
		m["ansible_facts"] = res.Facts
	}
	return cr
}

// isVerboseModule reports whether a module's result is always shown (debug).
func isVerboseModule(m modules.Module) bool {
	_, ok := m.(interface{ VerboseResult() bool })
	return ok
}

// postProcess applies changed_when and failed_when.
func (st *state) postProcess(t *playbook.Task, cr callResult, vs varSet) callResult {
	if len(t.ChangedWhen) == 0 && len(t.FailedWhen) == 0 || cr.status == playbook.StatusSkipped {
		// A skipped result (check mode, creates/removes) is not judged.
		return cr
	}
	pvs := vs
	if t.Register != "" {
		pvs = st.withItem(vs, t.Register, cr.result, "", 0, nil)
		delete(pvs.m, "ansible_loop_var")
	}
	// The result's own keys are visible too (Ansible exposes them to
	// failed_when through the registered name only; we add nothing else).
	if len(t.ChangedWhen) > 0 {
		ok, err := st.conds(t.ChangedWhen, pvs)
		if err != nil {
			return failedCall(taskError(t, &playbook.Error{Pos: t.ChangedWhen[0].Pos, Msg: "changed_when: " + err.Error()}))
		}
		cr.result["changed"] = ok
		if cr.status == playbook.StatusChanged || cr.status == playbook.StatusOK {
			cr.status = playbook.StatusOK
			if ok {
				cr.status = playbook.StatusChanged
			}
		}
	}
	if len(t.FailedWhen) > 0 {
		ok, err := st.conds(t.FailedWhen, pvs)
		if err != nil {
			return failedCall(taskError(t, &playbook.Error{Pos: t.FailedWhen[0].Pos, Msg: "failed_when: " + err.Error()}))
		}
		cr.result["failed_when_result"] = ok
		cr.result["failed"] = ok
		switch {
		case ok:
			cr.status = playbook.StatusFailed
		case cr.status == playbook.StatusFailed:
			cr.status = playbook.StatusOK
			if c, _ := cr.result["changed"].(bool); c {
				cr.status = playbook.StatusChanged
			}
		}
	}
	return cr
}

// conds evaluates a list of conditions (AND).
func (st *state) conds(exprs []playbook.Expr, vs varSet) (bool, error) {
	for _, c := range exprs {
		ok, err := st.Templates.Cond(c.Text, vs.m)
		if err != nil {
			return false, vs.explain(err)
		}
		if !ok {
			return false, nil
		}
	}
	return true, nil
}

func (st *state) intKeyword(v playbook.Value, vs varSet) (int, error) {
	x := v.V
	if s, ok := x.(string); ok && strings.Contains(s, "{{") {
		r, err := st.Templates.Render(s, vs.m)
		if err != nil {
			return 0, &playbook.Error{Pos: v.Pos, Msg: vs.explain(err).Error()}
		}
		x = r
	}
	n, err := modules.Convert(modules.TypeInt, x)
	if err != nil {
		return 0, &playbook.Error{Pos: v.Pos, Msg: err.Error()}
	}
	return n.(int), nil
}

// renderArgs renders a task's arguments with the host's variables. Raw
// arguments are passed as written; values equal to omit are dropped.
func (st *state) renderArgs(t *playbook.Task, spec *modules.Spec, vs varSet) (map[string]any, error) {
	out := make(map[string]any, len(t.Args))
	for k, v := range t.Args {
		if a, ok := spec.Arg(k); ok && a.Raw {
			out[k] = v
			continue
		}
		r, err := st.Templates.RenderValue(v, vs.m)
		if err != nil {
			return nil, &playbook.Error{Pos: t.ArgsPos[k], Msg: fmt.Sprintf("%s: %v", playbook.ArgName(k), vs.explain(err))}
		}
		if s, ok := r.(string); ok && s == st.omit {
			continue
		}
		out[k] = dropOmitted(r, st.omit)
	}
	return out, nil
}

func dropOmitted(v any, omit string) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && s == omit {
				delete(x, k)
			} else {
				x[k] = dropOmitted(e, omit)
			}
		}
	}
	return v
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

// moduleVars gives controller-side modules access to the task's variables.
type moduleVars struct {
	st *state
	vs varSet
}

func (v *moduleVars) Cond(expr string) (bool, error) {
	ok, err := v.st.Templates.Cond(expr, v.vs.m)
	return ok, v.undefined(err)
}

func (v *moduleVars) Lookup(expr string) (any, error) {
	e := strings.TrimSpace(expr)
	if e != "" && e[0] != '.' && e[0] != '$' && validPath(e) {
		e = "." + e
	}
	r, err := v.st.Templates.Eval(e, v.vs.m)
	return r, v.undefined(err)
}

// undefined marks errors about undefined variables with modules.ErrUndefined
// (debug prints "VARIABLE IS NOT DEFINED!" for those).
func (v *moduleVars) undefined(err error) error {
	var te *templates.Error
	if errors.As(err, &te) && te.Undefined != "" {
		return fmt.Errorf("%w: %v", modules.ErrUndefined, v.vs.explain(err))
	}
	return v.vs.explain(err)
}

func validPath(s string) bool {
	for _, part := range strings.Split(s, ".") {
		if !playbook.ValidVarName(part) {
			return false
		}
	}
	return true
}

func (v *moduleVars) Render(name, text string) (string, error) {
	s, err := v.st.Templates.RenderString(name, text, v.vs.m)
	return s, v.vs.explain(err)
}

func (v *moduleVars) All() map[string]any { return v.vs.m }

// fileFinder looks up controller-side files for src-style arguments, and
// reads them through the run's file reader (which decrypts vault files).
type fileFinder struct {
	dirs []string
	read func(string) ([]byte, error)
}

var _ modules.FileReader = fileFinder{}

func (f fileFinder) ReadFile(path string) ([]byte, error) { return f.read(path) }

func (st *state) files(pc *playCtx, sc *scope, t *playbook.Task) modules.Files {
	taskDir, _ := filepath.Abs(filepath.Dir(t.Pos.File))
	// A role's files/ and templates/ come first, then the task's directory
	// and the playbook's.
	dirs := append(roleDirs(sc, t), taskDir)
	if pc.pb.Dir != taskDir {
		dirs = append(dirs, pc.pb.Dir)
	}
	return fileFinder{dirs: dirs, read: st.readFile}
}

func (f fileFinder) Find(kind, name string) (string, error) {
	if filepath.IsAbs(name) {
		return name, nil
	}
	var tried []string
	for _, d := range f.dirs {
		for _, p := range []string{filepath.Join(d, kind, name), filepath.Join(d, name)} {
			tried = append(tried, p)
			if fileExists(p) {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("could not find %q (searched %s)", name, strings.Join(tried, ", "))
}

func without(hs []*hostState, drop func(*hostState) bool) []*hostState {
	return filter(hs, func(h *hostState) bool { return !drop(h) })
}

func filter(hs []*hostState, keep func(*hostState) bool) []*hostState {
	out := make([]*hostState, 0, len(hs))
	for _, h := range hs {
		if keep(h) {
			out = append(out, h)
		}
	}
	return out
}

func toSet(hs []*hostState) map[*hostState]bool {
	m := make(map[*hostState]bool, len(hs))
	for _, h := range hs {
		m[h] = true
	}
	return m
}

func unique(hs []*hostState) []*hostState {
	seen := map[*hostState]bool{}
	var out []*hostState
	for _, h := range hs {
		if !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	return out
}
