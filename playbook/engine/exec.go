package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mdo-play/mdo-play/modules"
	"github.com/mdo-play/mdo-play/modules/conn"
	"github.com/mdo-play/mdo-play/playbook"
)

// outcome is the result of a task (all its loop items) on one host.
type outcome struct {
	delegate string
	status   playbook.Status
	result   map[string]any
	diff     []modules.Diff
	verbose  bool
	loop     bool
	facts    map[string]any
	noLog    bool // the result is censored (no_log held for the task or any of its items)
}

// execute runs a resolved task on its host: each loop item (or the task
// once) is resolved into a call and run, and the items' results are
// combined as Ansible combines them.
func (st *state) execute(ctx context.Context, pc *playCtx, h *hostState, ht *hostTask) outcome {
	t := ht.t
	if !ht.loop {
		c, err := st.resolveCall(pc, h, ht, ht.vs)
		if err != nil {
			out := failedOutcome(taskError(t, err))
			out.noLog = c.noLog && !c.noLogErr
			return out
		}
		r := st.runCall(ctx, pc, h, ht, c)
		return outcome{status: r.status, result: r.result, diff: r.diff, verbose: r.verbose, facts: r.facts, delegate: r.delegate, noLog: c.noLog}
	}
	out := outcome{loop: true, status: playbook.StatusSkipped, noLog: ht.noLog}
	results := make([]any, 0, len(ht.items))
	anyChanged, anyFailed, allSkipped := false, false, true
	facts := map[string]any{}
	for i, item := range ht.items {
		if ctx.Err() != nil {
			break
		}
		ivs := st.withItem(ht.vs, ht.loopVar, item, t.LoopControl.IndexVar, i, facts)
		c, err := st.resolveCall(pc, h, ht, ivs)
		var r callResult
		if err != nil {
			r = failedCall(taskError(t, err))
		} else {
			r = st.runCall(ctx, pc, h, ht, c)
		}
		if r.interrupted {
			// Said once, by the host's result; no item line.
			return outcome{status: r.status, result: r.result, loop: true, delegate: r.delegate}
		}
		r.result["item"] = item
		r.result[ht.loopVar] = item
		r.result["ansible_loop_var"] = ht.loopVar
		if t.LoopControl.IndexVar != "" {
			r.result[t.LoopControl.IndexVar] = i
			r.result["ansible_index_var"] = t.LoopControl.IndexVar
		}
		label, shown := c.label, r.result
		if c.noLog {
			out.noLog = true
			shown = censor(r.result)
			label = "None"
			if c.noLogErr {
				shown["msg"] = r.result["msg"]
			}
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
			return outcome{status: playbook.StatusUnreachable, result: res, loop: true, noLog: out.noLog}
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
	case len(ht.items) == 0:
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

// callResult is the result of one module call (one loop item).
type callResult struct {
	delegate string
	status   playbook.Status
	result   map[string]any
	diff     []modules.Diff
	verbose  bool
	facts    map[string]any
	// interrupted: the run was cancelled while the call ran.
	interrupted bool
}

func failedOutcome(msg string) outcome {
	return outcome{status: playbook.StatusFailed, result: map[string]any{"failed": true, "changed": false, "msg": msg}}
}

// interrupted is the result of a call that the run's cancellation (Ctrl-C,
// SIGTERM) cut short: it says so, instead of the transport's "context
// canceled".
func interrupted(t *playbook.Task) callResult {
	cr := failedCall(fmt.Sprintf("the run was interrupted during task %s", playbook.QuoteName(t.DisplayName())))
	cr.interrupted = true
	return cr
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

// runCall runs one resolved call: the module (again while until does not
// hold), then changed_when and failed_when.
func (st *state) runCall(ctx context.Context, pc *playCtx, h *hostState, ht *hostTask, c *call) (cr callResult) {
	t := ht.t
	if c.skip != nil {
		return callResult{status: playbook.StatusSkipped, result: c.skip}
	}
	env := &modules.Env{Check: c.check, Diff: c.diff, Host: h.name(), Vars: &moduleVars{st: st, vs: c.vs}, Files: st.files(pc, ht.sc, t)}
	if c.conn != nil {
		// reboot and wait_for_connection dial again themselves: a host
		// that is not up yet is what they wait for.
		r, reconnects := c.mod.(interface{ Reconnects() bool })
		reconnects = reconnects && r.Reconnects()
		cn, err := st.openConn(ctx, c.conn)
		if err != nil && reconnects && errors.Is(err, conn.ErrUnreachable) && ctx.Err() == nil {
			cn, err = nil, nil
		}
		if err != nil {
			if ctx.Err() != nil {
				return interrupted(t)
			}
			if errors.Is(err, conn.ErrUnreachable) {
				return callResult{status: playbook.StatusUnreachable, delegate: c.conn.delegate, result: map[string]any{"unreachable": true, "changed": false, "msg": err.Error()}}
			}
			return failedCall(taskError(t, err))
		}
		if reconnects {
			cn = &reconnConn{st: st, cs: c.conn, c: cn, broken: cn == nil}
		}
		env.Conn = cn
		defer func() { cr.delegate = c.conn.delegate }()
	}
	until := t.Until
	for attempt := 1; ; attempt++ {
		if pr, ok := c.mod.(prompting); ok && st.Prompter != nil && c.async == 0 {
			cr = st.callPrompt(ctx, t, pr, env, c)
		} else if c.async > 0 {
			cr = st.callAsync(ctx, t, env, c)
		} else {
			cr = st.call(ctx, c.mod, env, c.args, c.timeout, "")
		}
		if ctx.Err() != nil && (cr.status == playbook.StatusFailed || cr.status == playbook.StatusUnreachable) {
			return interrupted(t)
		}
		if cr.status == playbook.StatusUnreachable {
			return cr
		}
		cr = st.postProcess(t, cr, c.vs)
		if len(until) == 0 {
			break
		}
		cr.result["attempts"] = attempt
		uvs := c.vs
		if t.Register != "" {
			uvs = st.withItem(c.vs, t.Register, cr.result, "", 0, nil)
			delete(uvs.m, "ansible_loop_var")
		}
		okAll := true
		for _, u := range until {
			ok, err := st.Templates.Cond(u.Text, uvs.m)
			if err != nil {
				return failedCall(taskError(t, &playbook.Error{Pos: u.Pos, Msg: "until: " + c.vs.explain(err).Error()}))
			}
			if !ok {
				okAll = false
				break
			}
		}
		if okAll {
			break
		}
		if attempt > c.retries {
			cr.status = playbook.StatusFailed
			cr.result["failed"] = true
			if _, ok := cr.result["msg"]; !ok {
				cr.result["msg"] = "Retried task failed"
			}
			break
		}
		st.Sink.Emit(playbook.Event{Kind: playbook.EventRetry, Time: time.Now(), Play: pc.play.Name, Task: t.DisplayName(), Pos: t.Pos, Module: t.Module,
			Host: h.name(), Retries: c.retries - attempt + 1})
		select {
		case <-ctx.Done():
			return interrupted(t)
		case <-time.After(c.delay):
		}
	}
	return cr
}

// call runs the module once, at most timeout long (0: no limit); the
// result of a call cut short says timeoutMsg (default: the timeout
// keyword's message).
func (st *state) call(ctx context.Context, mod modules.Module, env *modules.Env, args modules.Args, timeout time.Duration, timeoutMsg string) callResult {
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
			if timeoutMsg != "" {
				return failedCall(timeoutMsg)
			}
			return failedCall(fmt.Sprintf("The task exceeded its timeout of %d seconds", int(timeout/time.Second)))
		}
		return failedCall(err.Error())
	}
	cr := resultCall(res)
	cr.verbose = isVerboseModule(mod)
	if len(res.Facts) > 0 {
		cr.result["ansible_facts"] = res.Facts
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
