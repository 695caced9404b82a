package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/mdo-play/mdo-play/modules"
	"github.com/mdo-play/mdo-play/modules/conn"
	"github.com/mdo-play/mdo-play/playbook"
)

// newJID returns an async job id in Ansible's shape (j<12 digits>.<n>).
func newJID() string {
	return fmt.Sprintf("j%012d.%d", rand.Int64N(1e12), rand.IntN(1e6))
}

// callAsync runs a call that has async: with poll > 0 the module runs
// to its end, at most async seconds (then the task fails as Ansible's
// does: "async task did not complete within the requested time"); with
// poll: 0 command and shell start in the background on the target
// (modules.StartAsync) and the task returns at once with the job id,
// which async_status follows. Other modules under poll: 0 run to their
// end before the task returns and leave their result in the job file.
func (st *state) callAsync(ctx context.Context, t *playbook.Task, env *modules.Env, c *call) callResult {
	jid := newJID()
	limit := time.Duration(c.async) * time.Second
	timeout := limit
	if c.timeout > 0 && c.timeout < timeout {
		timeout = c.timeout
	}
	if c.poll > 0 {
		msg := fmt.Sprintf("async task did not complete within the requested time - %ds", c.async)
		if timeout < limit {
			msg = ""
		}
		cr := st.call(ctx, c.mod, env, c.args, timeout, msg)
		if cr.status == playbook.StatusUnreachable {
			return cr
		}
		if msg != "" && cr.result["msg"] == msg {
			cr.result["async_result"] = map[string]any{"ansible_job_id": jid, "started": 1, "finished": 0}
			return cr
		}
		cr.result["ansible_job_id"] = jid
		cr.result["started"], cr.result["finished"] = 1, 1
		return cr
	}
	res, ok, err := modules.StartAsync(ctx, env.Conn, t.Module, c.args, jid, c.async)
	if ok {
		if err != nil {
			if errors.Is(err, conn.ErrUnreachable) {
				return callResult{status: playbook.StatusUnreachable, result: map[string]any{"unreachable": true, "changed": false, "msg": err.Error()}}
			}
			return failedCall(err.Error())
		}
		return resultCall(res)
	}
	cr := st.call(ctx, c.mod, env, c.args, timeout, "Timeout exceeded")
	if cr.status == playbook.StatusUnreachable {
		return cr
	}
	path, err := modules.WriteAsyncResult(ctx, env.Conn, jid, cr.result)
	if err != nil {
		if errors.Is(err, conn.ErrUnreachable) {
			return callResult{status: playbook.StatusUnreachable, result: map[string]any{"unreachable": true, "changed": false, "msg": err.Error()}}
		}
		return failedCall(err.Error())
	}
	return resultCall(modules.Result{Changed: true, Values: map[string]any{"ansible_job_id": jid, "results_file": path, "started": 1, "finished": 0}})
}

// resultCall is the callResult of a module result.
func resultCall(res modules.Result) callResult {
	cr := callResult{result: res.Map(), diff: res.Diff, facts: res.Facts}
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
	return cr
}

// resetConn drops the run's cached connections to cs's host (and the
// become connections over them) and closes them, so that the next
// openConn dials again: reboot and wait_for_connection use it after the
// host went away.
func (st *state) resetConn(cs *connSettings) {
	key := cs.target + "\x00" + cs.connection + "\x00" + cs.user
	st.connsMu.Lock()
	var old []*connEntry
	for k, e := range st.conns {
		if k == key || strings.HasPrefix(k, "become\x00"+key+"\x00") {
			old = append(old, e)
			delete(st.conns, k)
		}
	}
	st.connsMu.Unlock()
	for _, e := range old {
		e.once.Do(func() {}) // an open still running finishes first
		if e.err == nil && e.c != nil {
			e.c.Close()
		}
	}
}

// reconnConn is the connection reboot and wait_for_connection get: after
// a transport failure its next call drops the cached connection and
// dials again through the run's cache (which keeps the new one for the
// tasks that follow).
type reconnConn struct {
	st *state
	cs *connSettings

	mu     sync.Mutex
	c      conn.Conn // nil: dial on the next call
	broken bool      // the cached connection failed: reset before dialling
}

var _ conn.Conn = (*reconnConn)(nil)

func (r *reconnConn) get(ctx context.Context) (conn.Conn, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.c != nil && !r.broken {
		return r.c, nil
	}
	r.st.resetConn(r.cs)
	c, err := r.st.openConn(ctx, r.cs)
	if err != nil {
		r.c, r.broken = nil, true
		if !errors.Is(err, conn.ErrUnreachable) {
			err = fmt.Errorf("%w: %v", conn.ErrUnreachable, err)
		}
		return nil, err
	}
	r.c, r.broken = c, false
	return c, nil
}

func (r *reconnConn) failed(err error) error {
	if errors.Is(err, conn.ErrUnreachable) {
		r.mu.Lock()
		r.broken = true
		r.mu.Unlock()
	}
	return err
}

func (r *reconnConn) Exec(ctx context.Context, cmd conn.Command) (conn.ExecResult, error) {
	c, err := r.get(ctx)
	if err != nil {
		return conn.ExecResult{}, err
	}
	res, err := c.Exec(ctx, cmd)
	if err != nil && ctx.Err() != nil {
		// A probe cut short by its own deadline says nothing about the
		// connection but leaves it in an unknown state: dial again.
		r.mu.Lock()
		r.broken = true
		r.mu.Unlock()
	}
	return res, r.failed(err)
}

func (r *reconnConn) Put(ctx context.Context, rd io.Reader, dst string, perm fs.FileMode) error {
	c, err := r.get(ctx)
	if err != nil {
		return err
	}
	return r.failed(c.Put(ctx, rd, dst, perm))
}

func (r *reconnConn) Get(ctx context.Context, src string, w io.Writer) error {
	c, err := r.get(ctx)
	if err != nil {
		return err
	}
	return r.failed(c.Get(ctx, src, w))
}

func (r *reconnConn) Stat(ctx context.Context, path string) (conn.FileInfo, error) {
	c, err := r.get(ctx)
	if err != nil {
		return conn.FileInfo{}, err
	}
	fi, err := c.Stat(ctx, path)
	return fi, r.failed(err)
}

// Close leaves the connection to the run's cache, which closes it.
func (r *reconnConn) Close() error { return nil }

// prompting is a module that can ask the operator (pause).
type prompting interface {
	RunWith(ctx context.Context, env *modules.Env, args modules.Args, ask modules.Ask) (modules.Result, error)
}

// callPrompt runs a module that may ask the operator, through the
// Runner's Prompter, with Ansible's prompt: "[task name]\ntext:".
func (st *state) callPrompt(ctx context.Context, t *playbook.Task, m prompting, env *modules.Env, c *call) callResult {
	name := strings.TrimSpace(t.DisplayName())
	ask := func(ctx context.Context, text string, echo bool) (string, error) {
		return st.Prompter.Prompt(ctx, "["+name+"]\n"+text+":", echo)
	}
	res, err := m.RunWith(ctx, env, c.args, ask)
	if err != nil {
		return failedCall(err.Error())
	}
	return resultCall(res)
}
