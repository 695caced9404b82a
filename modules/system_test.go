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
// machine.
func sysSSH(t *testing.T) conn.Conn {
	t.Helper()
	c := sshtest.StartT(t, 1)
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
