package ssh_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/mdo-play/mdo-play/modules/conn"
	"github.com/mdo-play/mdo-play/modules/conn/ssh"
)

// parent returns the pid and name of the process that ran the command:
// a long-lived shell, or sshd for a session per command.
func parent(t *testing.T, c conn.Conn) string {
	t.Helper()
	return strings.TrimSpace(run(t, c, "echo $PPID $(cat /proc/$PPID/comm)"))
}

func TestShellReuse(t *testing.T) {
	c := hosts(t)
	tests := []struct {
		name        string
		mode        ssh.ExecMode
		maxSessions int
		shell       bool
	}{
		{"persistent shell", ssh.PersistentShell, 0, true},
		{"session per command", ssh.SessionPerCommand, 0, false},
		// One channel for SFTP, one for commands: no room for a shell.
		{"no session to spare falls back", ssh.PersistentShell, 2, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := rootOpts(t, c, 0)
			o.ExecMode, o.MaxSessions = tc.mode, tc.maxSessions
			cl := dial(t, o)
			first, second := parent(t, cl), parent(t, cl)
			if shell := !strings.HasSuffix(first, " sshd"); shell != tc.shell || first != second {
				t.Errorf("parents %q and %q: want the same shell=%v", first, second, tc.shell)
			}
		})
	}
}

func TestShellPoolSize(t *testing.T) {
	cl := dial(t, rootOpts(t, hosts(t), 0))
	const n = 12
	var wg sync.WaitGroup
	var mu sync.Mutex
	parents := map[string]bool{}
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			res, err := cl.Exec(context.Background(), conn.Command{Script: "sleep 0.1; echo $PPID"})
			if err != nil || res.RC != 0 {
				errs <- fmt.Errorf("exec: %v, rc %d", err, res.RC)
				return
			}
			mu.Lock()
			parents[strings.TrimSpace(string(res.Stdout))] = true
			mu.Unlock()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(parents) < 2 || len(parents) > 4 {
		t.Errorf("%d concurrent commands ran in %d shells, want 2 to 4", n, len(parents))
	}
}

func TestShellDiesUnderCommand(t *testing.T) {
	cl := dial(t, rootOpts(t, hosts(t), 0))
	first := parent(t, cl)
	_, err := cl.Exec(context.Background(), conn.Command{Script: "kill -KILL $PPID"})
	if err == nil {
		t.Fatal("a command that killed its shell reported success")
	}
	if errors.Is(err, conn.ErrUnreachable) {
		t.Errorf("a killed shell reports the host unreachable: %v", err)
	}
	if next := parent(t, cl); next == first {
		t.Errorf("the dead shell %s was used again", first)
	}
}

// TestShellLateOutput: what a command's background processes write
// after it ended, before the next command starts, is not part of the
// next command's output.
func TestShellLateOutput(t *testing.T) {
	c := hosts(t)
	cl := dial(t, rootOpts(t, c, 0))
	o := rootOpts(t, c, 0)
	o.ExecMode = ssh.SessionPerCommand
	watcher := dial(t, o) // looks for the flag without using cl's shell
	flag := "/tmp/mdo-late-" + strings.TrimSpace(run(t, watcher, "echo $$"))
	t.Cleanup(func() { run(t, watcher, "rm -f "+flag) })
	// A background process that writes to the command's stdout and stderr
	// after the command has ended, then leaves a flag file.
	run(t, cl, "(sleep 0.2; echo LATE; echo LATE >&2; touch "+flag+") &")
	for {
		res, err := watcher.Exec(context.Background(), conn.Command{Script: "test -e " + flag})
		if err != nil {
			t.Fatal(err)
		}
		if res.RC == 0 {
			break
		}
	}
	res, err := cl.Exec(context.Background(), conn.Command{Script: "echo ok"})
	if err != nil {
		t.Fatal(err)
	}
	if string(res.Stdout) != "ok\n" || len(res.Stderr) != 0 {
		t.Fatalf("stdout %q, stderr %q; want only the command's own output", res.Stdout, res.Stderr)
	}
}

// TestShellNoExec: a command runs in a subshell of the long-lived shell,
// without an exec of its own, unless it refers to $$ or $PPID.
func TestShellNoExec(t *testing.T) {
	cl := dial(t, rootOpts(t, hosts(t), 0))
	tests := []struct {
		name, script, want string
	}{
		// cut's parent, the command substitution's subshell, is a fork
		// of the long-lived shell: its command line is the shell's
		// (/bin/sh, reading stdin), not "/bin/sh -c SCRIPT".
		{"subshell", "tr '\\0' ' ' < /proc/$(cut -d' ' -f4 /proc/self/stat)/cmdline", "/bin/sh "},
		{"own $$", "tr '\\0' ' ' < /proc/$$/cmdline; echo", "/bin/sh -c tr '\\0' ' ' < /proc/$$/cmdline; echo \n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := run(t, cl, tc.script); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestShellsStartFailure(t *testing.T) {
	cl := dial(t, rootOpts(t, hosts(t), 0))
	p := cl.NewShells(ssh.ShellOptions{Command: "echo no shell here; exit 3"})
	defer p.Close()
	for range 2 { // the failure is remembered
		_, err := p.Exec(context.Background(), conn.Command{Script: "true"})
		if !errors.Is(err, ssh.ErrNoShell) {
			t.Fatalf("err = %v, want ErrNoShell", err)
		}
	}
	if got := run(t, cl, "echo fine"); got != "fine\n" {
		t.Errorf("client's own shells: %q", got)
	}
	o := rootOpts(t, hosts(t), 0)
	o.ExecMode = ssh.SessionPerCommand
	if p := dial(t, o).NewShells(ssh.ShellOptions{}); p != nil {
		t.Errorf("NewShells in SessionPerCommand mode = %v, want nil", p)
	}
}

// TestShellsWithEnv: shells started through conn.WithEnv run their
// commands with the wrapper's environment.
func TestShellsWithEnv(t *testing.T) {
	c := conn.WithEnv(dial(t, rootOpts(t, hosts(t), 0)), map[string]string{"MDO_WRAPPED": "yes"})
	pool := c.(conn.ShellStarter).NewShells(conn.ShellOptions{})
	defer pool.Close()
	res, err := pool.Exec(context.Background(), conn.Command{Script: `echo "$MDO_WRAPPED"`})
	if err != nil || string(res.Stdout) != "yes\n" {
		t.Errorf("got %q, %v; want %q", res.Stdout, err, "yes\n")
	}
}

// TestShellsStdinDir: a shell makes its directory for stdin files once,
// on the first command that has input (a mktemp on the PATH that logs its
// calls shows when). Where it can make none (no mktemp on the PATH), that
// command does not run in the shell (ErrNoShell: the client runs it in a
// session of its own) and the shell stays usable.
func TestShellsStdinDir(t *testing.T) {
	cl := dial(t, rootOpts(t, hosts(t), 0))
	ctx := context.Background()
	bin := t.TempDir()
	log := filepath.Join(bin, "log")
	wrapper := "#!/bin/sh\necho \"$*\" >>" + log + "\nexec /usr/bin/mktemp \"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "mktemp"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	calls := func() int {
		b, _ := os.ReadFile(log)
		return strings.Count(string(b), "\n")
	}
	p := cl.NewShells(ssh.ShellOptions{Command: "PATH=" + bin + ":$PATH /bin/sh"})
	defer p.Close()
	if res, err := p.Exec(ctx, conn.Command{Script: "echo no input"}); err != nil || calls() != 0 {
		t.Errorf("without input: %q, %v, %d mktemp calls; want none", res.Stdout, err, calls())
	}
	for range 2 {
		res, err := p.Exec(ctx, conn.Command{Script: "cat; echo", Stdin: []byte("in\x00put")})
		if err != nil || string(res.Stdout) != "in\x00put\n" {
			t.Errorf("with input: %q, %v", res.Stdout, err)
		}
	}
	if n := calls(); n != 1 {
		t.Errorf("%d mktemp calls after two commands with input, want 1", n)
	}

	broken := cl.NewShells(ssh.ShellOptions{Command: "PATH=/nonexistent /bin/sh"})
	defer broken.Close()
	_, err := broken.Exec(ctx, conn.Command{Script: "read x; echo $x", Stdin: []byte("x\n")})
	if !errors.Is(err, ssh.ErrNoShell) {
		t.Fatalf("no directory for input: err = %v, want ErrNoShell", err)
	}
	res, err := broken.Exec(ctx, conn.Command{Script: "echo still here"})
	if err != nil || string(res.Stdout) != "still here\n" {
		t.Errorf("after the refusal: %q, %v", res.Stdout, err)
	}
}
