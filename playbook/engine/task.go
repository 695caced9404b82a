package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/mdo-play/mdo-play/modules"
	"github.com/mdo-play/mdo-play/modules/conn"
	"github.com/mdo-play/mdo-play/playbook"
)

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

var _ modules.FileReader = fileFinder{}
