package modules

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// Helpers for the community.mysql modules' tests: a private MariaDB
// server per test (own data directory and socket under t.TempDir(), no
// TCP listener), and the login arguments that reach it as root. The SSH
// test host shares this machine's file system apart from /srv, so it
// reaches the same socket.

// mysqlServer starts mariadbd for t and returns its socket path; the
// server is stopped (and waited for) in t.Cleanup. opts are further
// server options (default --skip-log-bin).
func mysqlServer(t *testing.T, opts ...string) string {
	t.Helper()
	for _, tool := range []string{"mariadbd", "mariadb-install-db", "mysql", "mysqladmin"} {
		if _, err := exec.LookPath(tool); err != nil {
			if _, err := os.Stat("/usr/sbin/" + tool); err != nil {
				sysUnavailable(t, "needs "+tool+" (Debian packages mariadb-server, mariadb-client)")
			}
		}
	}
	if os.Geteuid() != 0 {
		sysUnavailable(t, "needs root (mariadbd runs as root here)")
	}
	dir, err := os.MkdirTemp("", "mdo-mysql-") // short: a socket path is limited to 107 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	data, sock := filepath.Join(dir, "data"), filepath.Join(dir, "sock")
	inst := exec.Command("mariadb-install-db", "--no-defaults", "--datadir="+data, "--user=root",
		"--auth-root-authentication-method=normal", "--skip-test-db")
	if out, err := inst.CombinedOutput(); err != nil {
		t.Fatalf("mariadb-install-db: %v\n%s", err, out)
	}
	mariadbd := "mariadbd"
	if _, err := exec.LookPath(mariadbd); err != nil {
		mariadbd = "/usr/sbin/mariadbd"
	}
	srv := exec.Command(mariadbd, "--no-defaults", "--datadir="+data, "--user=root", "--socket="+sock,
		"--skip-networking", "--pid-file="+filepath.Join(dir, "pid"),
		"--innodb-buffer-pool-size=16M", "--skip-name-resolve")
	if len(opts) == 0 {
		opts = []string{"--skip-log-bin"}
	}
	srv.Args = append(srv.Args, opts...)
	// Without --log-error the server logs to stderr; it is ready when it
	// says so there.
	errPipe, err := srv.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan string, 1)
	var log strings.Builder
	go func() {
		sc := bufio.NewScanner(errPipe)
		said := false
		for sc.Scan() {
			if !said {
				log.WriteString(sc.Text() + "\n")
			}
			if !said && strings.Contains(sc.Text(), "ready for connections") {
				said = true
				ready <- ""
			}
		}
		if !said {
			ready <- log.String()
		}
	}()
	done := make(chan error, 1)
	t.Cleanup(func() {
		srv.Process.Signal(syscall.SIGTERM)
		go func() { done <- srv.Wait() }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			srv.Process.Kill()
			<-done
		}
	})
	select {
	case msg := <-ready:
		if msg != "" {
			t.Fatalf("mariadbd exited before it was ready:\n%s", msg)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("mariadbd not ready after 60s")
	}
	mysqlSQL(t, sock, "SELECT 1")
	return sock
}

// mysqlSQL runs sql as root through the server's socket and returns the
// client's batch output; an error fails t.
func mysqlSQL(t *testing.T, sock, sql string) string {
	t.Helper()
	c := exec.Command("mysql", "--no-defaults", "-uroot", "--socket="+sock, "--batch", "--skip-column-names")
	c.Stdin = strings.NewReader(sql)
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("mysql %q: %v\n%s", sql, err, out)
	}
	return string(out)
}

// mysqlArgs returns raw module arguments that log in as root through
// sock with no option file, plus extra.
func mysqlArgs(sock string, extra map[string]any) map[string]any {
	m := map[string]any{"login_user": "root", "login_unix_socket": sock, "config_file": "/nonexistent/.my.cnf"}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// mysqlStep is one module run in a step table.
type mysqlStep struct {
	what            string
	check           bool
	raw             map[string]any
	changed, failed bool
	msg             string
	state           string // the state function's output afterwards ("" skips the check)
}

// mysqlRunSteps runs steps in order through c and checks each; it returns
// the results by step name.
func mysqlRunSteps(t *testing.T, c conn.Conn, m Module, steps []mysqlStep, state func() string) map[string]Result {
	t.Helper()
	out := map[string]Result{}
	for _, s := range steps {
		res, _ := sysRun(t, c, m, s.check, false, s.raw)
		if res.Changed != s.changed || res.Failed != s.failed || !strings.Contains(res.Msg, s.msg) {
			t.Errorf("%s: changed=%v failed=%v msg=%q, want changed=%v failed=%v msg containing %q (values %v)",
				s.what, res.Changed, res.Failed, res.Msg, s.changed, s.failed, s.msg, res.Values)
		}
		if s.state != "" {
			if got := state(); got != s.state {
				t.Errorf("%s: state\n%s\nwant\n%s", s.what, got, s.state)
			}
		}
		out[s.what] = res
	}
	return out
}

// scriptsConn records every script run through it, so a test can check
// that no secret reached a command line (scripts run as sh -c SCRIPT and
// show in ps; secrets must travel on stdin).
type scriptsConn struct {
	conn.Conn
	mu      sync.Mutex
	scripts []string
}

func (c *scriptsConn) Exec(ctx context.Context, cmd conn.Command) (conn.ExecResult, error) {
	c.mu.Lock()
	c.scripts = append(c.scripts, cmd.Script)
	c.mu.Unlock()
	return c.Conn.Exec(ctx, cmd)
}

// all returns the scripts recorded so far, joined.
func (c *scriptsConn) all() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.scripts, "\n")
}
