package modules

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/mdo-play/mdo-play/modules/conn"
	"github.com/mdo-play/mdo-play/modules/conn/local"
	"github.com/mdo-play/mdo-play/modules/conn/ssh"
	"github.com/mdo-play/mdo-play/modules/conn/sshtest"
)

// Helpers for the system modules' tests (package managers, services, users,
// cron, ...): they run modules through a real Conn, local or SSH to a
// one-host sshd test cluster started for the test.

// sysSSH starts a one-host test cluster for t and returns a root
// connection to it. /srv is private to the host; everything else is this
// machine, unless root (at most one) asks for sshtest.RootOverlay, which
// gives the host a private writable copy of the machine's file system.
func sysSSH(t *testing.T, root ...sshtest.Root) conn.Conn {
	t.Helper()
	o := sshtest.Options{N: 1}
	if len(root) > 0 {
		o.Root = root[0]
	}
	c := sshtest.StartTWith(t, o)
	h := c.Hosts[0]
	cl, err := ssh.Dial(context.Background(), ssh.Options{
		Alias: h.Name, Host: h.Addr, Port: h.Port, User: "root",
		IdentityFiles:   []string{c.ClientKey},
		HomeDir:         t.TempDir(),
		SSHConfigFiles:  []string{},
		KnownHostsFiles: []string{c.KnownHosts},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}

// sysTargets returns the connections a system test runs against: local, and
// SSH unless short mode is set.
func sysTargets(t *testing.T) map[string]conn.Conn {
	t.Helper()
	m := map[string]conn.Conn{"local": local.New()}
	if !testing.Short() {
		m["ssh"] = sysSSH(t)
	}
	return m
}

// sysRun normalizes raw against m's Spec and runs m through c (counting round
// trips) with check and diff as given.
func sysRun(t *testing.T, c conn.Conn, m Module, check, diff bool, raw map[string]any) (Result, int) {
	t.Helper()
	args, err := m.Spec().Normalize(raw)
	if err != nil {
		t.Fatalf("normalize %v: %v", raw, err)
	}
	cc := &countingConn{Conn: c}
	res, err := m.Run(context.Background(), &Env{Conn: cc, Check: check, Diff: diff, Host: "h1"}, args)
	if err != nil {
		t.Fatalf("run %v: %v", raw, err)
	}
	return res, int(cc.calls.Load())
}

// sysSh runs script on c and returns its stdout; a non-zero exit fails t.
func sysSh(t *testing.T, c conn.Conn, script string) string {
	t.Helper()
	res, err := c.Exec(context.Background(), conn.Command{Script: script})
	if err != nil {
		t.Fatal(err)
	}
	if res.RC != 0 {
		t.Fatalf("%s: rc %d: %s%s", script, res.RC, res.Stdout, res.Stderr)
	}
	return string(res.Stdout)
}

// sysUniq returns prefix followed by random hex, for names on the shared
// machine (users, init scripts, packages) that no other test uses.
func sysUniq(prefix string) string {
	b := make([]byte, 4)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// sysNeedRoot skips t (fails under CI) when it cannot change the machine.
func sysNeedRoot(t *testing.T, tools ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		sysUnavailable(t, "needs root")
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			sysUnavailable(t, "needs "+tool)
		}
	}
}

func sysUnavailable(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatal(why)
	}
	t.Skip(why)
}

// sysExpect checks a result's changed and failed flags and, when msg is not
// empty, that its message contains msg.
func sysExpect(t *testing.T, what string, r Result, changed, failed bool, msg string) {
	t.Helper()
	if r.Changed != changed || r.Failed != failed || !strings.Contains(r.Msg, msg) {
		t.Errorf("%s: changed=%v failed=%v msg=%q, want changed=%v failed=%v msg containing %q (values %v)",
			what, r.Changed, r.Failed, r.Msg, changed, failed, msg, r.Values)
	}
}

// TestSystemSpecs checks that bad arguments of the system modules are
// refused by Normalize, before anything runs: unknown names, wrong types,
// missing required arguments, bad choices and exclusive pairs.
func TestSystemSpecs(t *testing.T) {
	cases := []struct {
		name string
		m    Module
		raw  map[string]any
		want string
	}{
		{"apt unknown", Apt{}, map[string]any{"name": "x", "nmae": "y"}, `unsupported parameter "nmae"`},
		{"apt state", Apt{}, map[string]any{"name": "x", "state": "installed"}, `argument "state": value "installed" is not one of`},
		{"apt exclusive", Apt{}, map[string]any{"name": "x", "deb": "/x.deb"}, "mutually exclusive: deb|name"},
		{"apt nothing", Apt{}, map[string]any{}, "one of the following is required: name, deb, update_cache, autoremove"},
		{"apt cache time", Apt{}, map[string]any{"update_cache": true, "cache_valid_time": "soon"}, `argument "cache_valid_time": expected an integer`},
		{"package required", Package{}, map[string]any{"state": "present"}, `missing required argument "name"`},
		{"dnf nothing", Dnf{}, map[string]any{}, "one of the following is required"},
		{"service one of", Service{}, map[string]any{"name": "x"}, "one of the following is required: state, enabled"},
		{"service enabled type", Service{}, map[string]any{"name": "x", "enabled": "maybe"}, `argument "enabled": expected a boolean`},
		{"systemd state", Systemd{}, map[string]any{"name": "x", "state": "running"}, `value "running" is not one of`},
		{"user name", User{}, map[string]any{"uid": 5}, `missing required argument "name"`},
		{"user uid type", User{}, map[string]any{"name": "x", "uid": "abc"}, `argument "uid": expected an integer`},
		{"group gid", Group{}, map[string]any{"name": "x", "gid": []any{1}}, `argument "gid": expected an integer`},
		{"cron special", Cron{}, map[string]any{"name": "x", "special_time": "sometimes"}, `value "sometimes" is not one of`},
		{"cron exclusive", Cron{}, map[string]any{"name": "x", "insertafter": "A", "insertbefore": "B"}, "mutually exclusive: insertafter|insertbefore"},
		{"authorized_key key", AuthorizedKey{}, map[string]any{"user": "x"}, `missing required argument "key"`},
		{"sysctl name", Sysctl{}, map[string]any{"value": "1"}, `missing required argument "name"`},
		{"hostname use", Hostname{}, map[string]any{"name": "x", "use": "windows"}, `value "windows" is not one of`},
		{"wait_for port", WaitFor{}, map[string]any{"port": "eighty"}, `argument "port": expected an integer`},
		{"uri url", URI{}, map[string]any{"method": "GET"}, `missing required argument "url"`},
		{"uri body_format", URI{}, map[string]any{"url": "http://x", "body_format": "xml"}, `value "xml" is not one of`},
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

// prefixConn runs prefix (shell code such as `export APT_CONFIG=...`)
// before every command, for a test that points a real program at a test
// configuration or puts a program the machine lacks first in PATH.
type prefixConn struct {
	conn.Conn
	prefix string
}

func (c *prefixConn) Exec(ctx context.Context, cmd conn.Command) (conn.ExecResult, error) {
	cmd.Script = c.prefix + "\n" + cmd.Script
	return c.Conn.Exec(ctx, cmd)
}
