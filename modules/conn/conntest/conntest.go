// Package conntest is the conformance suite every conn.Conn implementation
// must pass: it checks the contract written on conn.Conn.
package conntest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// Opener returns a new connection for one subtest, which the suite may
// close, and a writable scratch directory on its target (absolute, empty,
// private to the subtest). The opener registers its cleanup (closing the
// connection again, removing the directory) with t.Cleanup.
type Opener func(t *testing.T) (c conn.Conn, dir string)

// Capability names one of conn's optional capabilities.
type Capability int

const (
	// FileWriter: the connection is a conn.FileWriter.
	FileWriter Capability = iota + 1
	// FileWriterUnsupported: the connection is a conn.FileWriter that
	// cannot write here (become without an SFTP server as the become
	// user): both methods wrap errors.ErrUnsupported.
	FileWriterUnsupported
	// Shells: the connection is a conn.ShellStarter whose NewShells
	// returns a pool (not nil).
	Shells
)

// Run runs the whole suite against the connections open returns. caps
// are the optional capabilities the connections must have, and they are
// tested too; a connection that has one not listed fails, so that a
// wrapper can neither drop a capability silently nor gain one it must not
// have.
func Run(t *testing.T, open Opener, caps ...Capability) {
	t.Run("Capabilities", func(t *testing.T) { testCapabilities(t, open, caps) })
	t.Run("Exec", func(t *testing.T) { testExec(t, open) })
	t.Run("LargeOutput", func(t *testing.T) { testLargeOutput(t, open) })
	t.Run("LargeStdin", func(t *testing.T) { testLargeStdin(t, open) })
	t.Run("Isolation", func(t *testing.T) { testIsolation(t, open) })
	t.Run("PutGet", func(t *testing.T) { testPutGet(t, open) })
	t.Run("PutAtomic", func(t *testing.T) { testPutAtomic(t, open) })
	t.Run("Stat", func(t *testing.T) { testStat(t, open) })
	t.Run("Cancel", func(t *testing.T) { testCancel(t, open) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, open) })
	t.Run("CloseTwice", func(t *testing.T) { testCloseTwice(t, open) })
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// exec runs a script that must succeed and returns its stdout.
func exec(t *testing.T, c conn.Conn, script string) string {
	t.Helper()
	res, err := c.Exec(ctxT(t), conn.Command{Script: script})
	if err != nil {
		t.Fatalf("exec %q: %v", script, err)
	}
	if res.RC != 0 {
		t.Fatalf("exec %q: rc=%d stderr=%q", script, res.RC, res.Stderr)
	}
	return string(res.Stdout)
}

func testExec(t *testing.T, open Opener) {
	c, dir := open(t)
	allBytes := make([]byte, 0, 512)
	for i := range 512 {
		allBytes = append(allBytes, byte(i))
	}
	tests := []struct {
		name       string
		cmd        conn.Command
		rc         int
		stdout     string
		stderr     string
		stdoutSize int
	}{
		{name: "true", cmd: conn.Command{Script: "true"}},
		{name: "rc", cmd: conn.Command{Script: "exit 3"}, rc: 3},
		{name: "stdout and stderr apart", cmd: conn.Command{Script: "echo out; echo err >&2; echo out2"}, stdout: "out\nout2\n", stderr: "err\n"},
		{name: "stdin", cmd: conn.Command{Script: "cat; echo", Stdin: []byte("line one\nline two")}, stdout: "line one\nline two\n"},
		{name: "binary stdin", cmd: conn.Command{Script: "cat", Stdin: allBytes}, stdout: string(allBytes)},
		{name: "empty stdin", cmd: conn.Command{Script: "cat; echo done"}, stdout: "done\n"},
		{name: "stdin like an option", cmd: conn.Command{Script: "cat", Stdin: []byte("-r %s\n")}, stdout: "-r %s\n"},
		{name: "env", cmd: conn.Command{Script: `printf '%s|%s' "$MDO_A" "$MDO_B"`, Env: map[string]string{"MDO_A": "it's a \"test\" $HOME `x`", "MDO_B": "two\nlines"}},
			stdout: "it's a \"test\" $HOME `x`|two\nlines"},
		{name: "dir", cmd: conn.Command{Script: "pwd -P", Dir: dir}, stdout: dir + "\n"},
		{name: "dir with env", cmd: conn.Command{Script: `echo "$MDO_X" > f && cat "$PWD/f"`, Dir: dir, Env: map[string]string{"MDO_X": "x"}}, stdout: "x\n"},
		{name: "multi-line script", cmd: conn.Command{Script: "a=1\nif [ $a = 1 ]; then\n  echo yes\nfi\n"}, stdout: "yes\n"},
		{name: "quotes in script", cmd: conn.Command{Script: `echo 'single' "double" \$x`}, stdout: "single double $x\n"},
		{name: "killed by signal", cmd: conn.Command{Script: "kill -TERM $$"}, rc: 128 + 15},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := c.Exec(ctxT(t), tc.cmd)
			if err != nil {
				t.Fatal(err)
			}
			if res.RC != tc.rc {
				t.Errorf("rc = %d, want %d (stderr %q)", res.RC, tc.rc, res.Stderr)
			}
			if string(res.Stdout) != tc.stdout {
				t.Errorf("stdout = %q, want %q", res.Stdout, tc.stdout)
			}
			if string(res.Stderr) != tc.stderr {
				t.Errorf("stderr = %q, want %q", res.Stderr, tc.stderr)
			}
		})
	}
}

func testLargeOutput(t *testing.T, open Opener) {
	c, _ := open(t)
	const n = 6 << 20
	res, err := c.Exec(ctxT(t), conn.Command{Script: fmt.Sprintf("head -c %d /dev/zero | tr '\\0' o; head -c %d /dev/zero | tr '\\0' e >&2", n, n/2)})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Stdout) != n || strings.Trim(string(res.Stdout), "o") != "" {
		t.Errorf("stdout: %d bytes, want %d bytes of 'o'", len(res.Stdout), n)
	}
	if len(res.Stderr) != n/2 || strings.Trim(string(res.Stderr), "e") != "" {
		t.Errorf("stderr: %d bytes, want %d bytes of 'e'", len(res.Stderr), n/2)
	}
}

func testLargeStdin(t *testing.T, open Opener) {
	c, _ := open(t)
	data := random(t, 3<<20)
	res, err := c.Exec(ctxT(t), conn.Command{Script: "cat; echo end >&2", Stdin: data})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(res.Stdout, data) {
		t.Errorf("stdout: %d bytes, want the %d random bytes of stdin back", len(res.Stdout), len(data))
	}
	if string(res.Stderr) != "end\n" || res.RC != 0 {
		t.Errorf("rc %d, stderr %q", res.RC, truncate(string(res.Stderr)))
	}
}

// testIsolation checks that a command cannot change what the next one
// starts with: directory, variables, umask, traps, stdin.
func testIsolation(t *testing.T, open Opener) {
	c, dir := open(t)
	before := exec(t, c, "pwd; umask; echo \"${MDO_LEAK-unset}\"")
	exec(t, c, "cd "+conn.Quote(dir)+"; MDO_LEAK=set; export MDO_LEAK; umask 0077; trap 'echo trapped' EXIT; exec 0</dev/null")
	if after := exec(t, c, "pwd; umask; echo \"${MDO_LEAK-unset}\""); after != before {
		t.Errorf("after a command changed its state, the next one starts with %q, want %q", after, before)
	}
	// A command that reads stdin to its end gets only its own.
	res, err := c.Exec(ctxT(t), conn.Command{Script: "cat; echo; cat", Stdin: []byte("mine")})
	if err != nil || string(res.Stdout) != "mine\n" {
		t.Errorf("stdin read twice: %q, %v; want %q", res.Stdout, err, "mine\n")
	}
	if got := exec(t, c, "echo still framed"); got != "still framed\n" {
		t.Errorf("next command: %q", got)
	}
}

func random(t *testing.T, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func testPutGet(t *testing.T, open Opener) {
	c, dir := open(t)
	tests := []struct {
		name string
		size int
		perm fs.FileMode
	}{
		{"empty 0644", 0, 0o644},
		{"small 0600", 100, 0o600},
		{"binary 0755", 70000, 0o755},
		{"large 0640", 8 << 20, 0o640},
		{"group-writable 0664", 10, 0o664}, // not filtered by a umask
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := ctxT(t)
			data := random(t, tc.size)
			dst := path.Join(dir, "put"+strconv.Itoa(i))
			if err := c.Put(ctx, bytes.NewReader(data), dst, tc.perm); err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if err := c.Get(ctx, dst, &got); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), data) {
				t.Errorf("got %d bytes back, want the %d bytes put", got.Len(), len(data))
			}
			fi, err := c.Stat(ctx, dst)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode != tc.perm {
				t.Errorf("mode = %v, want %v", fi.Mode, tc.perm)
			}
			if fi.Size != int64(tc.size) {
				t.Errorf("size = %d, want %d", fi.Size, tc.size)
			}
		})
	}
	t.Run("get missing", func(t *testing.T) {
		err := c.Get(ctxT(t), path.Join(dir, "no-such-file"), &bytes.Buffer{})
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Get of a missing file: %v, want fs.ErrNotExist", err)
		}
		if errors.Is(err, conn.ErrUnreachable) {
			t.Errorf("Get of a missing file reports the host unreachable: %v", err)
		}
	})
}

func listDir(t *testing.T, c conn.Conn, dir string) []string {
	t.Helper()
	out := exec(t, c, "ls -A "+conn.Quote(dir))
	return strings.Fields(out)
}

func testPutAtomic(t *testing.T, open Opener) {
	c, dir := open(t)
	ctx := ctxT(t)
	sub := path.Join(dir, "atomic")
	exec(t, c, "mkdir "+conn.Quote(sub))
	dst := path.Join(sub, "f")
	long := bytes.Repeat([]byte("old content "), 10000)
	if err := c.Put(ctx, bytes.NewReader(long), dst, 0o644); err != nil {
		t.Fatal(err)
	}
	short := []byte("new")
	if err := c.Put(ctx, bytes.NewReader(short), dst, 0o600); err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if err := c.Get(ctx, dst, &got); err != nil {
		t.Fatal(err)
	}
	if got.String() != "new" {
		t.Errorf("after replacing: %d bytes (%q...), want exactly %q", got.Len(), truncate(got.String()), "new")
	}
	if fi, err := c.Stat(ctx, dst); err != nil || fi.Mode != 0o600 {
		t.Errorf("after replacing: mode %v (err %v), want 0600", fi.Mode, err)
	}
	if names := listDir(t, c, sub); len(names) != 1 || names[0] != "f" {
		t.Errorf("directory holds %q after Put, want only f (no temp files)", names)
	}

	t.Run("failed read leaves old file", func(t *testing.T) {
		err := c.Put(ctx, &failingReader{data: []byte("partial"), err: errors.New("source broke")}, dst, 0o644)
		if err == nil {
			t.Fatal("Put from a failing reader succeeded")
		}
		var got bytes.Buffer
		if err := c.Get(ctx, dst, &got); err != nil {
			t.Fatal(err)
		}
		if got.String() != "new" {
			t.Errorf("destination = %q after a failed Put, want the old %q", truncate(got.String()), "new")
		}
		if names := listDir(t, c, sub); len(names) != 1 {
			t.Errorf("directory holds %q after a failed Put, want only f", names)
		}
	})
	t.Run("missing directory", func(t *testing.T) {
		err := c.Put(ctx, strings.NewReader("x"), path.Join(dir, "no-such-dir", "f"), 0o644)
		if err == nil {
			t.Fatal("Put into a missing directory succeeded")
		}
		if errors.Is(err, conn.ErrUnreachable) {
			t.Errorf("Put into a missing directory reports the host unreachable: %v", err)
		}
	})
}

type failingReader struct {
	data []byte
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40]
	}
	return s
}

func testStat(t *testing.T, open Opener) {
	c, dir := open(t)
	exec(t, c, fmt.Sprintf("cd %s && mkdir sdir && chmod 0750 sdir && printf 12345 > sfile && chmod 0640 sfile && ln -s sfile slink && ln -s nowhere dangling", conn.Quote(dir)))
	tests := []struct {
		name    string
		path    string
		mode    fs.FileMode
		size    int64
		notExit bool
	}{
		{name: "file", path: "sfile", mode: 0o640, size: 5},
		{name: "dir", path: "sdir", mode: fs.ModeDir | 0o750, size: -1},
		{name: "symlink not followed", path: "slink", mode: fs.ModeSymlink | 0o777, size: int64(len("sfile"))},
		{name: "dangling symlink", path: "dangling", mode: fs.ModeSymlink | 0o777, size: int64(len("nowhere"))},
		{name: "missing", path: "nothing-here", notExit: true},
		{name: "missing parent", path: "nothing/here", notExit: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := path.Join(dir, tc.path)
			fi, err := c.Stat(ctxT(t), p)
			if tc.notExit {
				if !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("Stat(%s) = %v, %v; want fs.ErrNotExist", p, fi, err)
				}
				if errors.Is(err, conn.ErrUnreachable) {
					t.Errorf("Stat of a missing path reports the host unreachable: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode != tc.mode {
				t.Errorf("mode = %v, want %v", fi.Mode, tc.mode)
			}
			if tc.size >= 0 && fi.Size != tc.size {
				t.Errorf("size = %d, want %d", fi.Size, tc.size)
			}
			if fi.IsDir() != tc.mode.IsDir() {
				t.Errorf("IsDir = %v", fi.IsDir())
			}
			if fi.Path != p {
				t.Errorf("Path = %q, want %q", fi.Path, p)
			}
			if time.Since(fi.ModTime) > time.Hour || time.Until(fi.ModTime) > time.Minute {
				t.Errorf("ModTime = %v, not recent", fi.ModTime)
			}
		})
	}
	t.Run("owner", func(t *testing.T) {
		ids := strings.Fields(exec(t, c, "id -u; id -g"))
		fi, err := c.Stat(ctxT(t), path.Join(dir, "sfile"))
		if err != nil {
			t.Fatal(err)
		}
		if got := []string{strconv.Itoa(fi.UID), strconv.Itoa(fi.GID)}; len(ids) != 2 || got[0] != ids[0] || got[1] != ids[1] {
			t.Errorf("uid/gid = %v, want %v (the user commands run as)", got, ids)
		}
	})
}

func testCancel(t *testing.T, open Opener) {
	c, dir := open(t)
	pidFile := path.Join(dir, "sleep.pid")
	// Warm up first: what is cancelled is a running command, not the
	// connection's set-up (a privilege escalation check, a shell start).
	exec(t, c, "true")
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Exec(ctx, conn.Command{Script: "sleep 30 & echo $! > " + conn.Quote(pidFile) + "; wait"})
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("cancelled Exec returned after %v", took)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("cancelled Exec: err = %v, want one wrapping context.DeadlineExceeded", err)
	}
	if errors.Is(err, conn.ErrUnreachable) {
		t.Errorf("cancelled Exec reports the host unreachable: %v", err)
	}
	pid := strings.TrimSpace(exec(t, c, "cat "+conn.Quote(pidFile)))
	if pid == "" {
		t.Fatal("the command did not record its pid")
	}
	// The remote sleep must die; the kill is asynchronous, so poll.
	alive := "kill -0 " + pid + " 2>/dev/null && ! grep -q '^State:.*Z' /proc/" + pid + "/status 2>/dev/null"
	if !eventually(5*time.Second, func() bool {
		res, err := c.Exec(ctxT(t), conn.Command{Script: alive})
		return err == nil && res.RC != 0
	}) {
		t.Errorf("remote process %s still runs after the Exec was cancelled", pid)
	}
	t.Run("already cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := c.Exec(ctx, conn.Command{Script: "true"}); !errors.Is(err, context.Canceled) {
			t.Errorf("Exec: %v, want context.Canceled", err)
		}
		if err := c.Put(ctx, strings.NewReader("x"), path.Join(dir, "cancelled"), 0o644); !errors.Is(err, context.Canceled) {
			t.Errorf("Put: %v, want context.Canceled", err)
		}
		if err := c.Get(ctx, pidFile, &bytes.Buffer{}); !errors.Is(err, context.Canceled) {
			t.Errorf("Get: %v, want context.Canceled", err)
		}
		if _, err := c.Stat(ctx, pidFile); !errors.Is(err, context.Canceled) {
			t.Errorf("Stat: %v, want context.Canceled", err)
		}
	})
	t.Run("usable afterwards", func(t *testing.T) {
		if got := exec(t, c, "echo alive"); got != "alive\n" {
			t.Errorf("got %q", got)
		}
	})
}

// eventually polls cond every 20ms until it holds or d passes.
func eventually(d time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if cond() {
			return true
		}
		select {
		case <-deadline.C:
			return cond()
		case <-tick.C:
		}
	}
}

func testConcurrent(t *testing.T, open Opener) {
	c, dir := open(t)
	const n = 10
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			ctx := ctxT(t)
			want := fmt.Sprintf("worker %d\n", i)
			res, err := c.Exec(ctx, conn.Command{Script: "sleep 0.2; cat", Stdin: []byte(want)})
			if err != nil || string(res.Stdout) != want {
				errs <- fmt.Errorf("worker %d exec: %q, %v", i, res.Stdout, err)
				return
			}
			dst := path.Join(dir, "conc"+strconv.Itoa(i))
			data := bytes.Repeat([]byte(want), 1000)
			if err := c.Put(ctx, bytes.NewReader(data), dst, 0o600); err != nil {
				errs <- fmt.Errorf("worker %d put: %w", i, err)
				return
			}
			var got bytes.Buffer
			if err := c.Get(ctx, dst, &got); err != nil || !bytes.Equal(got.Bytes(), data) {
				errs <- fmt.Errorf("worker %d get: %d bytes, %v", i, got.Len(), err)
				return
			}
			if fi, err := c.Stat(ctx, dst); err != nil || fi.Size != int64(len(data)) {
				errs <- fmt.Errorf("worker %d stat: %v, %v", i, fi, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func testCloseTwice(t *testing.T, open Opener) {
	c, _ := open(t)
	if err := c.Close(); err != nil {
		t.Errorf("first Close: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
