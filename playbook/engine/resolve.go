package engine

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mdo-play/mdo-play/modules"
	"github.com/mdo-play/mdo-play/playbook"
	"github.com/mdo-play/mdo-play/templates/yaml11"
)

// A task on one host goes through three steps: resolve (this file: every
// keyword rendered with the host's variables and checked, into the plain
// values of hostTask and call), execute (exec.go), record (record.go). A
// keyword that cannot be rendered fails the task here, in one place.

// hostTask is a task resolved for one host: its variables and the keywords
// that hold for all its loop items.
type hostTask struct {
	t                 *playbook.Task
	sc                *scope
	vs                varSet
	loop              bool
	items             []any // the loop's items
	loopVar           string
	noLog             bool     // for a loop without items (items decide for themselves)
	ignoreErrors      bool     // a failure counts as ok (and ignored)
	ignoreUnreachable bool     // an unreachable host counts as ok (and ignored)
	delegateFacts     string   // delegate_facts: the delegated host, which gets the facts
	notify            []string // handler names and listen topics, rendered
}

// call is one module call resolved for one host and loop item.
type call struct {
	vs    varSet
	noLog bool
	// noLogErr: no_log itself could not be rendered; the failure shows
	// only the render error (which names the keyword, never a value).
	noLogErr bool
	label    any            // the loop item as shown (loop_control.label)
	skip     map[string]any // the skipped result, when a condition is false or check mode does not apply
	mod      modules.Module
	args     modules.Args
	check    bool
	diff     bool
	conn     *connSettings // nil for modules that run on the controller

	retries int // until: attempts after the first
	delay   time.Duration
	timeout time.Duration // 0: none
	async   int           // async: seconds the call may run in the background; 0: not async
	poll    int           // poll: seconds between checks; 0: fire and forget
}

// resolveHost resolves t for h: its variables, loop items and the keywords
// that do not depend on the item. The returned hostTask is never nil (its
// t, sc and vs are set even with an error).
func (st *state) resolveHost(ctx context.Context, pc *playCtx, h *hostState, t *playbook.Task, sc *scope) (*hostTask, error) {
	ht := &hostTask{t: t, sc: sc, vs: st.taskVars(pc, h, sc, t), loop: t.Loop.Set()}
	vs := ht.vs
	var err error
	if ht.ignoreErrors, err = st.evalBool(sc.keyword(t, func(t *playbook.Task) playbook.Value { return t.IgnoreErrors }, func(p *playbook.Play) playbook.Value { return p.IgnoreErrors }), vs, false); err != nil {
		return ht, err
	}
	if df, err := st.evalBool(sc.keyword(t, func(t *playbook.Task) playbook.Value { return t.DelegateFacts }, nil), vs, false); err != nil {
		return ht, err
	} else if df {
		// Controller modules (set_fact) open no connection, so the
		// delegated host is named here rather than by the call.
		if ht.delegateFacts, err = st.evalString(sc.keyword(t, func(t *playbook.Task) playbook.Value { return t.DelegateTo }, nil), vs); err != nil {
			return ht, err
		}
	}
	if ht.ignoreUnreachable, err = st.evalBool(sc.keyword(t, func(t *playbook.Task) playbook.Value { return t.IgnoreUnreachable }, func(p *playbook.Play) playbook.Value { return p.IgnoreUnreachable }), vs, false); err != nil {
		return ht, err
	}
	for _, n := range notifyNames(t, sc) {
		name := n
		if strings.Contains(n, "{{") {
			if name, err = st.Templates.RenderString("", n, vs.m); err != nil {
				return ht, &playbook.Error{Pos: t.Pos, Msg: "notify: " + vs.explain(err).Error()}
			}
		}
		ht.notify = append(ht.notify, name)
	}
	if !ht.loop {
		return ht, nil
	}
	ht.loopVar = t.LoopControl.LoopVar
	if ht.loopVar == "" {
		ht.loopVar = "item"
	}
	if ht.items, err = st.loopItems(ctx, pc, t, sc, vs); err != nil {
		return ht, err
	}
	if len(ht.items) == 0 {
		if ht.noLog, err = st.noLog(t, sc, vs); err != nil {
			return ht, err
		}
	}
	return ht, nil
}

// noLog resolves the no_log keyword that applies to t. Its errors never
// quote the rendered value: it may be the secret no_log is there to hide.
func (st *state) noLog(t *playbook.Task, sc *scope, vs varSet) (bool, error) {
	v := sc.keyword(t, func(t *playbook.Task) playbook.Value { return t.NoLog }, func(p *playbook.Play) playbook.Value { return p.NoLog })
	x, err := st.renderKeyword(v, vs)
	if err != nil || x == nil {
		return false, err
	}
	b, err := yaml11.Bool(x)
	if err != nil {
		return false, &playbook.Error{Pos: v.Pos, Msg: "no_log: expected a boolean (yes/no, true/false, on/off, 1/0), got a " + modules.TypeName(x)}
	}
	return b, nil
}

// resolveCall resolves one call of ht (vs holds the loop item, if any):
// no_log first, so that whatever fails after it is censored, then the
// label, the conditions, the module's arguments and every other keyword.
// The returned call is never nil: with an error, its noLog still says
// whether the failure may be shown.
func (st *state) resolveCall(pc *playCtx, h *hostState, ht *hostTask, vs varSet) (*call, error) {
	t, sc := ht.t, ht.sc
	c := &call{vs: vs}
	var err error
	if c.noLog, err = st.noLog(t, sc, vs); err != nil {
		c.noLog, c.noLogErr = true, true // unknown: show nothing but the error
		return c, err
	}
	if ht.loop {
		c.label = vs.m[ht.loopVar]
		if t.LoopControl.Label != "" {
			s, err := st.Templates.RenderString("", t.LoopControl.Label, vs.m)
			if err != nil {
				return c, &playbook.Error{Pos: t.Pos, Msg: "loop_control.label: " + vs.explain(err).Error()}
			}
			c.label = s
		}
	}
	for _, w := range sc.when(t) {
		ok, err := st.Templates.Cond(w.Text, vs.m)
		if err != nil {
			return c, &playbook.Error{Pos: w.Pos, Msg: "when: " + vs.explain(err).Error()}
		}
		if !ok {
			c.skip = map[string]any{"changed": false, "skipped": true, "skip_reason": "Conditional result was False", "false_condition": w.Text}
			return c, nil
		}
	}
	mod, ok := st.Registry.Lookup(t.Module)
	if !ok {
		return c, fmt.Errorf("unknown module %q", t.Module)
	}
	c.mod = mod
	spec := mod.Spec()
	args, err := st.renderArgs(t, spec, vs)
	if err != nil {
		return c, err
	}
	if err := st.moduleDefaults(t, sc, vs, args); err != nil {
		return c, err
	}
	if c.args, err = spec.Normalize(args); err != nil {
		return c, &playbook.Error{Pos: t.ModulePos, Msg: fmt.Sprintf("module %s: %v", t.ModuleKey, err)}
	}
	if c.check, err = st.evalBool(sc.keyword(t, func(t *playbook.Task) playbook.Value { return t.CheckMode }, func(p *playbook.Play) playbook.Value { return p.CheckMode }), vs, st.Options.Check); err != nil {
		return c, err
	}
	if c.diff, err = st.evalBool(sc.keyword(t, func(t *playbook.Task) playbook.Value { return t.Diff }, func(p *playbook.Play) playbook.Value { return p.Diff }), vs, st.Options.Diff); err != nil {
		return c, err
	}
	if c.check && !spec.CheckMode {
		c.skip = map[string]any{"changed": false, "skipped": true, "msg": fmt.Sprintf("module %s does not support check mode", t.Module)}
		return c, nil
	}
	if !spec.Controller {
		if c.conn, err = st.resolveConn(h, t, sc, vs); err != nil {
			return c, err
		}
	}
	c.retries, c.delay = 3, 5*time.Second
	if t.Retries.Set() {
		if c.retries, err = st.intKeyword(t.Retries, vs); err != nil {
			return c, err
		}
	}
	if t.Delay.Set() {
		n, err := st.intKeyword(t.Delay, vs)
		if err != nil {
			return c, err
		}
		c.delay = time.Duration(n) * time.Second
	}
	if t.Timeout.Set() {
		n, err := st.intKeyword(t.Timeout, vs)
		if err != nil {
			return c, err
		}
		c.timeout = time.Duration(n) * time.Second
	}
	if t.Async.Set() {
		if c.async, err = st.intKeyword(t.Async, vs); err != nil {
			return c, err
		}
		c.poll = 10
		if t.Poll.Set() {
			if c.poll, err = st.intKeyword(t.Poll, vs); err != nil {
				return c, err
			}
		}
		switch {
		case c.async > 0 && spec.Controller:
			return c, &playbook.Error{Pos: t.Async.Pos, Msg: "async is not supported for this task."}
		case c.async > 0 && c.check:
			return c, &playbook.Error{Pos: t.Async.Pos, Msg: "check mode and async cannot be used on same task."}
		}
	}
	return c, nil
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

// loopItems evaluates a task's loop to a list (a with_* loop through its
// lookup).
func (st *state) loopItems(ctx context.Context, pc *playCtx, t *playbook.Task, sc *scope, vs varSet) ([]any, error) {
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
	switch {
	case engineLoops[t.LoopWith]:
		items, err := withItems(ctx, t.LoopWith, v, st.files(pc, sc, t), pc.pb.Dir)
		if err != nil {
			return nil, &playbook.Error{Pos: t.Loop.Pos, Msg: err.Error()}
		}
		return items, nil
	case t.LoopWith != "":
		// with_NAME is query('NAME', ...) with the loop's value as the
		// terms (a value that is no list is a list of one), as Ansible's
		// listify_lookup_plugin_terms makes them.
		terms, ok := v.([]any)
		if !ok {
			terms = []any{v}
		}
		items, err := st.Templates.Lookup(t.LoopWith, terms, vs.m)
		if err != nil {
			return nil, &playbook.Error{Pos: t.Loop.Pos, Msg: "with_" + t.LoopWith + ": " + vs.explain(err).Error()}
		}
		return items, nil
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

// notifyNames is t's notify list, or, when it has none, that of its
// innermost enclosing block that has one (notify on a block applies to
// the tasks inside, as in Ansible).
func notifyNames(t *playbook.Task, sc *scope) []string {
	if len(t.Notify) > 0 {
		return t.Notify
	}
	blocks := sc.blocks()
	for i := len(blocks) - 1; i >= 0; i-- {
		if len(blocks[i].Notify) > 0 {
			return blocks[i].Notify
		}
	}
	return nil
}

// moduleDefaults adds to args the module_defaults of t's module that the
// task does not set: the play's, then each block's (outer first), then the
// task's, a later mapping's entry replacing an earlier one, rendered with
// vs (get_action_args_with_defaults). Action groups hold none of
// mdo-play's modules, so group/ entries add nothing.
func (st *state) moduleDefaults(t *playbook.Task, sc *scope, vs varSet, args map[string]any) error {
	var lists [][]map[string]any
	if sc.play != nil {
		lists = append(lists, sc.play.ModuleDefaults)
	}
	for _, b := range sc.blocks() {
		lists = append(lists, b.ModuleDefaults)
	}
	lists = append(lists, t.ModuleDefaults)
	var defaults any
	found := false
	for _, l := range lists {
		for _, m := range l {
			if d, ok := m[t.Module]; ok {
				defaults, found = d, true
			}
		}
	}
	if !found {
		return nil
	}
	r, err := st.Templates.RenderValue(defaults, vs.m)
	if err != nil {
		return &playbook.Error{Pos: t.ModulePos, Msg: "module_defaults: " + vs.explain(err).Error()}
	}
	m, ok := r.(map[string]any)
	if !ok {
		if r == nil {
			return nil
		}
		return &playbook.Error{Pos: t.ModulePos, Msg: fmt.Sprintf("module_defaults for %s must be a mapping of arguments, got %s", t.Module, modules.TypeName(r))}
	}
	for k, v := range m {
		if _, set := args[k]; set {
			continue
		}
		if s, ok := v.(string); ok && s == st.omit {
			continue
		}
		args[k] = dropOmitted(v, st.omit)
	}
	return nil
}
