package modules

import (
	"context"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mdo-play/mdo-play/modules/conn"
	"github.com/mdo-play/mdo-play/modules/conn/local"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// countingConn counts the round trips made through the wrapped Conn and
// keeps the last script run.
type countingConn struct {
	conn.Conn
	calls      atomic.Int32
	lastScript atomic.Value
}

func (c *countingConn) Exec(ctx context.Context, cmd conn.Command) (conn.ExecResult, error) {
	c.calls.Add(1)
	c.lastScript.Store(cmd.Script)
	return c.Conn.Exec(ctx, cmd)
}

func (c *countingConn) Put(ctx context.Context, r io.Reader, dst string, perm fs.FileMode) error {
	c.calls.Add(1)
	return c.Conn.Put(ctx, r, dst, perm)
}

func (c *countingConn) Get(ctx context.Context, src string, w io.Writer) error {
	c.calls.Add(1)
	return c.Conn.Get(ctx, src, w)
}

func (c *countingConn) Stat(ctx context.Context, path string) (conn.FileInfo, error) {
	c.calls.Add(1)
	return c.Conn.Stat(ctx, path)
}

func (c *countingConn) script() string {
	s, _ := c.lastScript.Load().(string)
	return s
}

// fakeVars is a Vars over a map: Lookup walks a dotted path; Cond answers
// from a table of expressions.
type fakeVars struct {
	vars  map[string]any
	conds map[string]bool
}

func (f fakeVars) Cond(expr string) (bool, error) {
	b, ok := f.conds[expr]
	if !ok {
		return false, fmt.Errorf("%w: %q", ErrUndefined, expr)
	}
	return b, nil
}

func (f fakeVars) Lookup(expr string) (any, error) {
	if strings.ContainsAny(expr, "|(") {
		return nil, fmt.Errorf("template: unexpected %q", expr)
	}
	var cur any = f.vars
	for _, part := range strings.Split(strings.TrimPrefix(expr, "."), ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%w: %s", ErrUndefined, expr)
		}
		if cur, ok = m[part]; !ok {
			return nil, fmt.Errorf("%w: %s", ErrUndefined, expr)
		}
	}
	return cur, nil
}

func (f fakeVars) Render(_, text string) (string, error) { return text, nil }
func (f fakeVars) All() map[string]any                   { return f.vars }

// fixedClock returns a clock that starts at a fixed time and advances by
// step on every call.
func fixedClock(step time.Duration) func() time.Time {
	t := time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.Local)
	return func() time.Time {
		now := t
		t = t.Add(step)
		return now
	}
}

// call normalizes raw against m's Spec and runs m through a counting local
// connection; it returns the result and the counting connection.
func call(t *testing.T, m Module, env Env, raw map[string]any) (Result, *countingConn) {
	t.Helper()
	args, err := m.Spec().Normalize(raw)
	if err != nil {
		t.Fatalf("normalize %v: %v", raw, err)
	}
	cc := &countingConn{Conn: local.New()}
	env.Conn = cc
	res, err := m.Run(context.Background(), &env, args)
	if err != nil {
		t.Fatalf("run %v: %v", raw, err)
	}
	return res, cc
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (run with -update after review):\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}
