package modules

import (
	"bufio"
	"context"
	"fmt"
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

// TestMysqlSpecs checks that bad arguments of the mysql modules are
// refused by Normalize, before anything runs.
func TestMysqlSpecs(t *testing.T) {
	cases := []struct {
		name string
		m    Module
		raw  map[string]any
		want string
	}{
		{"user name", MysqlUser{}, map[string]any{"password": "x"}, `missing required argument "user"`},
		{"user exclusive", MysqlUser{}, map[string]any{"name": "x", "append_privs": true, "subtract_privs": true}, "mutually exclusive: append_privs|subtract_privs"},
		{"user update_password", MysqlUser{}, map[string]any{"name": "x", "update_password": "sometimes"}, `argument "update_password": value "sometimes" is not one of`},
		{"user port", MysqlUser{}, map[string]any{"name": "x", "login_port": "db"}, `argument "login_port": expected an integer`},
		{"db name", MysqlDb{}, map[string]any{"state": "present"}, `missing required argument "name"`},
		{"db state", MysqlDb{}, map[string]any{"name": "x", "state": "backup"}, `argument "state": value "backup" is not one of`},
		{"db master_data", MysqlDb{}, map[string]any{"name": "x", "master_data": 3}, `argument "master_data": value "3" is not one of`},
		{"variables mode", MysqlVariables{}, map[string]any{"variable": "x", "mode": "session"}, `argument "mode": value "session" is not one of`},
		{"replication mode", MysqlReplication{}, map[string]any{"mode": "promote"}, `argument "mode": value "promote" is not one of`},
		{"replication exclusive", MysqlReplication{}, map[string]any{"connection_name": "a", "channel": "b"}, "mutually exclusive: connection_name|channel"},
		{"query required", MysqlQuery{}, map[string]any{"login_db": "x"}, `missing required argument "query"`},
		{"query args", MysqlQuery{}, map[string]any{"query": "x", "positional_args": []any{1}, "named_args": map[string]any{"a": 1}}, "mutually exclusive: positional_args|named_args"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.m.Spec().Normalize(tc.raw)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Normalize(%v) = %v, want an error containing %q", tc.raw, err, tc.want)
			}
		})
	}
}

// TestMysqlPrivileges checks the priv string and SHOW GRANTS parsing on
// the collection's own examples (its unit tests and documentation).
func TestMysqlPrivileges(t *testing.T) {
	unpack := []struct {
		priv, mode string
		want       string
	}{
		{"mydb.*:INSERT,UPDATE/anotherdb.*:SELECT/yetanother.*:ALL", "NOTANSI", "`mydb`.*=[INSERT UPDATE] `anotherdb`.*=[SELECT] `yetanother`.*=[ALL] *.*=[USAGE]"},
		{"*.*:REPLICATION CLIENT", "NOTANSI", "*.*=[REPLICATION CLIENT]"},
		{"db.tbl:select (b, `a`),insert (c),UPDATE", "NOTANSI", "`db`.`tbl`=[SELECT (A, B) INSERT (C) UPDATE] *.*=[USAGE]"},
		{"FUNCTION my_db.my_function:EXECUTE", "NOTANSI", "FUNCTION `my_db`.`my_function`=[EXECUTE] *.*=[USAGE]"},
		{"`weird.db`.*:ALL,GRANT", "ANSI", "\"weird.db\".*=[ALL GRANT] *.*=[USAGE]"},
		{"db.*:SELECT, INSERT", "NOTANSI", "`db`.*=[SELECT  INSERT] *.*=[USAGE]"},
	}
	for _, tc := range unpack {
		p, err := privilegesUnpack(tc.priv, tc.mode, true, false)
		if err != nil {
			t.Fatalf("%q: %v", tc.priv, err)
		}
		var parts []string
		for _, k := range p.keys {
			parts = append(parts, k+"="+fmt.Sprint(p.m[k]))
		}
		if got := strings.Join(parts, " "); got != tc.want {
			t.Errorf("privilegesUnpack(%q) = %s, want %s", tc.priv, got, tc.want)
		}
	}
	if _, err := privilegesUnpack("db.*", "NOTANSI", true, false); err == nil || err.Error() != "invalid privileges string: db.*" {
		t.Errorf("no colon: %v", err)
	}
	rows := [][]string{
		{"GRANT USAGE ON *.* TO `bob`@`localhost` IDENTIFIED BY PASSWORD '*E0D72C1085C46C5278932678FBE2C6A782821B4'"},
		{"GRANT SELECT (`b`, `a`), INSERT, UPDATE (`c`) ON `db`.`t` TO `bob`@`localhost` WITH GRANT OPTION"},
		{"GRANT ALL PRIVILEGES ON `shop`.* TO 'bob'@'localhost'"},
		{"GRANT `admin` TO `bob`@`localhost`"},
	}
	g, err := privilegesGet(rows)
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, k := range g.keys {
		parts = append(parts, k+"="+fmt.Sprint(g.m[k]))
	}
	if got, want := strings.Join(parts, " "), "*.*=[USAGE] `db`.`t`=[SELECT (a, b) INSERT UPDATE (c) GRANT] `shop`.*=[ALL]"; got != want {
		t.Errorf("privilegesGet = %s, want %s", got, want)
	}
	if _, err := privilegesGet([][]string{{"REVOKE nonsense"}}); err == nil || err.Error() != "unable to parse the MySQL grant string: REVOKE nonsense" {
		t.Errorf("bad grant: %v", err)
	}
	if h := mysqlNativeHash("12345"); h != "*00A51F3F48415C7D4E8908980D443C29C69B60C9" {
		t.Errorf("hash %s", h)
	}
}
