// Package local implements conn.Conn on the controller itself, for
// `connection: local` and the implicit localhost.
package local

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// Conn runs commands with /bin/sh on the controller.
type Conn struct{}

var _ conn.Conn = (*Conn)(nil)

// New returns a local connection.
func New() *Conn { return &Conn{} }

// Exec runs cmd.Script with /bin/sh -c.
func (c *Conn) Exec(ctx context.Context, cmd conn.Command) (conn.ExecResult, error) {
	if err := ctx.Err(); err != nil {
		return conn.ExecResult{}, err
	}
	x := exec.CommandContext(ctx, "/bin/sh", "-c", cmd.Script)
	// Kill the whole process group on cancellation, so that children of the
	// script do not outlive it.
	x.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	x.Cancel = func() error { return syscall.Kill(-x.Process.Pid, syscall.SIGKILL) }
	x.Dir = cmd.Dir
	if len(cmd.Env) > 0 {
		x.Env = os.Environ()
		for k, v := range cmd.Env {
			x.Env = append(x.Env, k+"="+v)
		}
	}
	x.Stdin = bytes.NewReader(cmd.Stdin)
	var stdout, stderr bytes.Buffer
	x.Stdout = &stdout
	x.Stderr = &stderr
	err := x.Run()
	res := conn.ExecResult{Stdout: stdout.Bytes(), Stderr: stderr.Bytes()}
	if ctx.Err() != nil {
		return res, fmt.Errorf("run command: %w", ctx.Err())
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		res.RC = ee.ExitCode()
		if res.RC < 0 {
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				res.RC = 128 + int(ws.Signal())
			}
		}
	default:
		return res, fmt.Errorf("run command: %w", err)
	}
	return res, nil
}

// Put writes r to dst atomically with mode perm.
func (c *Conn) Put(ctx context.Context, r io.Reader, dst string, perm fs.FileMode) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(dst), ".mdo-tmp-*")
	if err != nil {
		return fmt.Errorf("put %s: %w", dst, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after a successful rename
	if _, err := io.Copy(f, conn.ContextReader(ctx, r)); err != nil {
		f.Close()
		return fmt.Errorf("put %s: %w", dst, err)
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return fmt.Errorf("put %s: %w", dst, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("put %s: %w", dst, err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		return fmt.Errorf("put %s: %w", dst, err)
	}
	return nil
}

// Get copies the file src into w.
func (c *Conn) Get(ctx context.Context, src string, w io.Writer) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("get %s: %w", src, err)
	}
	defer f.Close()
	if _, err := io.Copy(w, conn.ContextReader(ctx, f)); err != nil {
		return fmt.Errorf("get %s: %w", src, err)
	}
	return nil
}

// Stat describes path without following a final symlink.
func (c *Conn) Stat(ctx context.Context, path string) (conn.FileInfo, error) {
	if err := ctx.Err(); err != nil {
		return conn.FileInfo{}, err
	}
	fi, err := os.Lstat(path)
	if err != nil {
		return conn.FileInfo{}, fmt.Errorf("stat %s: %w", path, err)
	}
	out := conn.FileInfo{Path: path, Mode: fi.Mode(), Size: fi.Size(), ModTime: fi.ModTime()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		out.UID, out.GID = int(st.Uid), int(st.Gid)
	}
	return out, nil
}

// Close does nothing; a local connection holds no resources.
func (c *Conn) Close() error { return nil }
