package become_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mdo-play/mdo-play/modules/conn"
	"github.com/mdo-play/mdo-play/modules/conn/become"
	"github.com/mdo-play/mdo-play/modules/conn/conntest"
	"github.com/mdo-play/mdo-play/modules/conn/ssh"
	"github.com/mdo-play/mdo-play/modules/conn/sshtest"
)

var (
	cluster    *sshtest.Cluster
	clusterErr error
)

func TestMain(m *testing.M) {
	cluster, clusterErr = sshtest.StartMain(1)
	code := m.Run()
	if err := sshtest.StopMain(cluster); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}

// login connects to the test host as user with the cluster's key.
func login(t *testing.T, user string) *ssh.Client {
	t.Helper()
	c := sshtest.Require(t, cluster, clusterErr)
	h := c.Hosts[0]
	cl, err := ssh.Dial(context.Background(), ssh.Options{
		Alias: h.Name, Host: h.Addr, Port: h.Port, User: user,
		IdentityFiles: []string{c.ClientKey}, KnownHostsFiles: []string{c.KnownHosts}, SSHConfigFiles: []string{},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}

func run(t *testing.T, c conn.Conn, script string) string {
	t.Helper()
	res, err := c.Exec(context.Background(), conn.Command{Script: script})
	if err != nil {
		t.Fatal(err)
	}
	if res.RC != 0 {
		t.Fatalf("%q: rc %d: %s", script, res.RC, res.Stderr)
	}
	return string(res.Stdout)
}

// scratch makes a directory under /srv as root, removed after the test.
func scratch(t *testing.T) string {
	root := login(t, "root")
	dir := strings.TrimSpace(run(t, root, "mktemp -d /srv/become.XXXXXX"))
	t.Cleanup(func() { root.Exec(context.Background(), conn.Command{Script: "rm -rf " + conn.Quote(dir)}) })
	return dir
}

func TestConformance(t *testing.T) {
	tests := []struct {
		name   string
		login  string
		o      become.Options
		noSFTP bool // the target has no sftp-server: files go through shells
		caps   []conntest.Capability
	}{
		{"sudo with password", sshtest.SudoUser, become.Options{Password: cluster.SudoPassword()}, false, []conntest.Capability{conntest.FileWriter}},
		{"sudo without password", sshtest.NoPassUser, become.Options{}, false, []conntest.Capability{conntest.FileWriter}},
		{"sudo nopass user given a password", sshtest.NoPassUser, become.Options{Password: "unused"}, false, []conntest.Capability{conntest.FileWriter}},
		{"sudo with password per command", sshtest.SudoUser, become.Options{Password: cluster.SudoPassword(), PerCommand: true}, false, []conntest.Capability{conntest.FileWriterUnsupported}},
		{"sudo with password, no sftp-server", sshtest.SudoUser, become.Options{Password: cluster.SudoPassword()}, true, []conntest.Capability{conntest.FileWriterUnsupported}},
		{"sudo without password, no sftp-server", sshtest.NoPassUser, become.Options{}, true, []conntest.Capability{conntest.FileWriterUnsupported}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			conntest.Run(t, func(t *testing.T) (conn.Conn, string) {
				c := become.Wrap(login(t, tc.login), tc.o)
				if tc.noSFTP {
					become.WithoutSFTP(c)
				}
				return c, scratch(t)
			}, tc.caps...)
		})
	}
}

func TestBecomeUsers(t *testing.T) {
	tests := []struct {
		name  string
		login string
		o     become.Options
		want  string
	}{
		{"sudo to root", sshtest.SudoUser, become.Options{Password: cluster.SudoPassword()}, "root"},
		{"sudo to another user", sshtest.SudoUser, become.Options{Password: cluster.SudoPassword(), User: sshtest.NoPassUser}, sshtest.NoPassUser},
		{"su from root", "root", become.Options{Method: "su", User: sshtest.SudoUser}, sshtest.SudoUser},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := become.Wrap(login(t, tc.login), tc.o)
			if got := strings.TrimSpace(run(t, c, "id -un")); got != tc.want {
				t.Errorf("runs as %q, want %q", got, tc.want)
			}
			// Put as the become user: the file belongs to it.
			dst := "/tmp/mdo-become-put-" + tc.want
			if err := c.Put(context.Background(), strings.NewReader("data"), dst, 0o640); err != nil {
				t.Fatal(err)
			}
			defer c.Exec(context.Background(), conn.Command{Script: "rm -f " + dst})
			if got := strings.TrimSpace(run(t, login(t, "root"), "stat -c '%U %a %s' "+dst)); got != tc.want+" 640 4" {
				t.Errorf("put file: %q, want owner %s, mode 640, 4 bytes", got, tc.want)
			}
			// /tmp is the machine's, shared with other test runs: look
			// for uploads of this connection's login user only.
			if got := strings.TrimSpace(run(t, login(t, "root"), "find /tmp -maxdepth 1 -name '.mdo-become-*' -user "+tc.login+" | wc -l")); got != "0" {
				t.Errorf("%s private upload files of %s left in /tmp", got, tc.login)
			}
		})
	}
}

func TestPasswordNeverOnCommandLine(t *testing.T) {
	c := become.Wrap(login(t, sshtest.SudoUser), become.Options{Password: cluster.SudoPassword()})
	// Every process's command line, seen while the become command runs.
	out := run(t, c, "cat /proc/[0-9]*/cmdline | tr '\\0' ' '")
	if !strings.Contains(out, "sudo") {
		t.Fatalf("the command lines do not even show sudo: %q", out)
	}
	if strings.Contains(out, cluster.SudoPassword()) {
		t.Errorf("the password appears on a command line")
	}
	res, err := c.Exec(context.Background(), conn.Command{Script: "echo err >&2"})
	if err != nil || string(res.Stderr) != "err\n" {
		t.Errorf("stderr = %q, %v: want only the command's own", res.Stderr, err)
	}
}

func TestFailures(t *testing.T) {
	root := login(t, "root")
	fake := "/srv/fake-sudo"
	if err := root.Put(context.Background(), strings.NewReader("#!/bin/sh\nexec sleep 60\n"), fake, 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		login  string
		o      become.Options
		want   string
		within time.Duration
	}{
		{"wrong password", sshtest.SudoUser, become.Options{Password: "wrong", Timeout: 20 * time.Second}, "incorrect password", 15 * time.Second},
		{"password required", sshtest.SudoUser, become.Options{}, "password is required", 5 * time.Second},
		{"prompt never comes", sshtest.SudoUser, become.Options{Exe: fake, Password: "x", Timeout: time.Second}, "timed out after 1s", 4 * time.Second},
		{"unknown method", sshtest.SudoUser, become.Options{Method: "pbrun"}, "unknown become method", 5 * time.Second},
		{"su with password", sshtest.SudoUser, become.Options{Method: "su", Password: "x"}, "needs a terminal", 5 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := become.Wrap(login(t, tc.login), tc.o)
			start := time.Now()
			_, err := c.Exec(context.Background(), conn.Command{Script: "echo ran"})
			if took := time.Since(start); took > tc.within {
				t.Errorf("took %v, want under %v", took, tc.within)
			}
			if !errors.Is(err, become.ErrBecome) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrBecome with %q", err, tc.want)
			}
			if errors.Is(err, conn.ErrUnreachable) {
				t.Errorf("a become failure reports the host unreachable: %v", err)
			}
			if strings.Contains(err.Error(), cluster.SudoPassword()) {
				t.Errorf("error shows the password")
			}
			if err := c.Put(context.Background(), bytes.NewReader(nil), "/tmp/x", 0o644); !errors.Is(err, become.ErrBecome) {
				t.Errorf("Put: %v, want ErrBecome", err)
			}
		})
	}
}

func TestShells(t *testing.T) {
	tests := []struct {
		name  string
		login string
		o     become.Options
		same  bool
	}{
		{"sudo with password", sshtest.SudoUser, become.Options{Password: cluster.SudoPassword()}, true},
		{"sudo without password to another user", sshtest.NoPassUser, become.Options{User: sshtest.SudoUser}, true},
		{"su from root", "root", become.Options{Method: "su", User: sshtest.NoPassUser}, true},
		{"per command", sshtest.SudoUser, become.Options{Password: cluster.SudoPassword(), PerCommand: true}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := become.Wrap(login(t, tc.login), tc.o)
			defer c.Close()
			// The parent of each command: its pid and its user.
			probe := "echo $PPID $(stat -c %U /proc/$PPID) $(id -un)"
			first, second := run(t, c, probe), run(t, c, probe)
			user := tc.o.User
			if user == "" {
				user = "root"
			}
			if f := strings.Fields(first); len(f) != 3 || f[2] != user {
				t.Fatalf("probe %q: want the command run as %s", first, user)
			}
			if same := first == second; same != tc.same {
				t.Errorf("parents %q and %q: want the same long-lived shell=%v", first, second, tc.same)
			}
			if tc.same && strings.Fields(first)[1] != user {
				t.Errorf("the long-lived shell %q does not run as %s", first, user)
			}
		})
	}
}

// BenchmarkExec compares a sudo per command with the become user's
// long-lived shells, interleaved so that a busy machine's load hits both
// alike; it reports each one's median (sudo-ms, shell-ms).
func BenchmarkExec(b *testing.B) {
	sshtest.Require(b, cluster, clusterErr)
	dialB := func() *ssh.Client {
		h := cluster.Hosts[0]
		cl, err := ssh.Dial(context.Background(), ssh.Options{
			Alias: h.Name, Host: h.Addr, Port: h.Port, User: sshtest.SudoUser,
			IdentityFiles: []string{cluster.ClientKey}, KnownHostsFiles: []string{cluster.KnownHosts}, SSHConfigFiles: []string{},
		})
		if err != nil {
			b.Fatal(err)
		}
		return cl
	}
	perCommand := become.Wrap(dialB(), become.Options{Password: cluster.SudoPassword(), PerCommand: true})
	defer perCommand.Close()
	shells := become.Wrap(dialB(), become.Options{Password: cluster.SudoPassword()})
	defer shells.Close()
	exec := func(c conn.Conn) time.Duration {
		start := time.Now()
		res, err := c.Exec(context.Background(), conn.Command{Script: "echo hello"})
		if err != nil || string(res.Stdout) != "hello\n" {
			b.Fatalf("exec: %v, %q", err, res.Stdout)
		}
		return time.Since(start)
	}
	exec(perCommand)
	exec(shells)
	var dc, ds []time.Duration
	for b.Loop() {
		dc, ds = append(dc, exec(perCommand)), append(ds, exec(shells))
	}
	b.ReportMetric(median(dc), "sudo-ms")
	b.ReportMetric(median(ds), "shell-ms")
}

func median(d []time.Duration) float64 {
	slices.Sort(d)
	return float64(d[len(d)/2]) / float64(time.Millisecond)
}
