package modules

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/mdo-play/mdo-play/modules/conn"
	"github.com/mdo-play/mdo-play/modules/conn/sshtest"
)

// ufwSandboxConn runs every script of the wrapped connection inside
// other namespaces (nsenter with args), so the real ufw works on a
// private network namespace's netfilter tables instead of the machine's.
type ufwSandboxConn struct {
	conn.Conn
	nsenter string
}

func (c ufwSandboxConn) Exec(ctx context.Context, cmd conn.Command) (conn.ExecResult, error) {
	cmd.Script = "exec nsenter " + c.nsenter + " -- /bin/sh -c " + conn.Quote(cmd.Script)
	return c.Conn.Exec(ctx, cmd)
}

// ufwHolder starts `unshare ARGS... sh -c SETUP; exec cat` on the
// machine: a process that keeps new namespaces alive until the test ends
// (its standard input is closed then). It returns the process id once
// SETUP has run.
func ufwHolder(t *testing.T, setup string, args ...string) int {
	t.Helper()
	cmd := exec.Command("unshare", append(args, "sh", "-c", setup+" && echo ready && exec cat")...)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close(); cmd.Wait() })
	if l, err := bufio.NewReader(out).ReadString('\n'); err != nil || l != "ready\n" {
		t.Fatalf("namespace holder: %q %v", l, err)
	}
	return cmd.Process.Pid
}

// ufwTargets returns the connections the ufw test uses, each running in a
// private network namespace. Locally the holder also has a private mount
// namespace with copies of /etc/ufw and /etc/default/ufw bound over the
// machine's. The SSH test host has a private overlay root and its own
// mount namespace, so a network namespace made there with `ip netns add`
// lives in the host only and goes when it stops.
func ufwTargets(t *testing.T) map[string]conn.Conn {
	t.Helper()
	sysNeedRoot(t, "ufw", "iptables", "unshare", "nsenter")
	dir := t.TempDir()
	sysSh(t, localConn(), "cp -a /etc/ufw "+dir+"/etc-ufw && cp -a /etc/default/ufw "+dir+"/default-ufw")
	pid := ufwHolder(t, fmt.Sprintf("mount --bind %s/etc-ufw /etc/ufw && mount --bind %s/default-ufw /etc/default/ufw", dir, dir), "-m", "-n", "--propagation", "private")
	m := map[string]conn.Conn{"local": ufwSandboxConn{localConn(), fmt.Sprintf("-t %d -m -n", pid)}}
	if !testing.Short() {
		c := sysSSH(t, sshtest.RootOverlay)
		sysSh(t, c, "ip netns add mdo-ufw")
		m["ssh"] = ufwSandboxConn{c, "--net=/run/netns/mdo-ufw"}
	}
	return m
}

// TestUfw drives the real ufw (and iptables) through its states, defaults,
// logging and rules, each step run for real, again, and in check mode.
func TestUfw(t *testing.T) {
	machine := sysSh(t, localConn(), "cat /etc/ufw/user.rules /etc/ufw/ufw.conf /etc/default/ufw; iptables -S")
	targets := ufwTargets(t)
	t.Run("targets", func(t *testing.T) {
		for tn, c := range targets {
			t.Run(tn, func(t *testing.T) {
				t.Parallel() // separate namespaces and files: nothing shared
				if s := sysSh(t, c, "LANG=C ufw status"); s != "Status: inactive\n" {
					t.Fatalf("sandbox starts with %q", s)
				}
				ssh22 := map[string]any{"rule": "allow", "port": "22", "proto": "tcp", "comment": "ssh in"}
				web := map[string]any{"rule": "deny", "from_ip": "10.0.0.0/8", "to_port": "80", "proto": "tcp", "insert": 1}
				del22 := map[string]any{"rule": "allow", "port": "22", "proto": "tcp", "delete": true}
				steps := []struct {
					what     string
					raw      map[string]any
					changed  bool
					failed   bool
					msg      string
					contains string // in `ufw status verbose` afterwards
				}{
					{"enable", map[string]any{"state": "enabled"}, true, false, "Status: active", "Status: active"},
					{"allow 22", ssh22, true, false, "", "22/tcp                     ALLOW IN    Anywhere                   # ssh in"},
					{"deny 80 from 10/8, first", web, true, false, "", "80/tcp                     DENY IN     10.0.0.0/8"},
					{"default outgoing deny", map[string]any{"default": "deny", "direction": "outgoing"}, true, false, "", "deny (outgoing)"},
					{"logging medium", map[string]any{"logging": "medium"}, true, false, "", "Logging: on (medium)"},
					{"delete 22", del22, true, false, "", "Status: active"},
					{"disable", map[string]any{"state": "disabled"}, true, false, "Status: inactive", "Status: inactive"},
				}
				for _, s := range steps {
					before := sysSh(t, c, "LANG=C ufw status verbose; cat /etc/ufw/user.rules /etc/ufw/user6.rules")
					res, trips := sysRun(t, c, Ufw{}, true, false, s.raw)
					sysExpect(t, s.what+" check", res, s.changed, false, "")
					if after := sysSh(t, c, "LANG=C ufw status verbose; cat /etc/ufw/user.rules /etc/ufw/user6.rules"); after != before {
						t.Errorf("%s: check mode changed ufw:\n%s\nto\n%s", s.what, before, after)
					}
					if _, isRule := s.raw["rule"]; (isRule && trips != 2) || (!isRule && trips != 1) {
						t.Errorf("%s check: %d round trips", s.what, trips)
					}
					res, trips = sysRun(t, c, Ufw{}, false, false, s.raw)
					sysExpect(t, s.what, res, s.changed, s.failed, s.msg)
					if trips != 2 {
						t.Errorf("%s: %d round trips, want 2", s.what, trips)
					}
					if st := sysSh(t, c, "LANG=C ufw status verbose"); !strings.Contains(st, s.contains) {
						t.Errorf("%s: status lacks %q:\n%s", s.what, s.contains, st)
					}
					if s.what == "deny 80 from 10/8, first" {
						if st := sysSh(t, c, "LANG=C ufw status numbered"); !strings.Contains(st, "[ 1] 80/tcp") {
							t.Errorf("inserted rule not first:\n%s", st)
						}
					}
					res, _ = sysRun(t, c, Ufw{}, false, false, s.raw)
					sysExpect(t, s.what+" again", res, false, false, "")
					res, _ = sysRun(t, c, Ufw{}, true, false, s.raw)
					sysExpect(t, s.what+" again, check", res, false, false, "")
				}
				res, _ := sysRun(t, c, Ufw{}, false, false, map[string]any{"state": "reloaded"})
				sysExpect(t, "reload always changes", res, true, false, "")
				for _, e := range []struct {
					raw map[string]any
					msg string
				}{
					{map[string]any{"default": "deny", "direction": "in"}, `For default, direction must be one of "outgoing", "incoming" and "routed"`},
					{map[string]any{"rule": "allow", "direction": "routed", "port": "1"}, `For rules, direction must be one of "in" and "out"`},
					{map[string]any{"rule": "allow", "interface": "lo"}, "missing parameter(s) required by 'interface': direction"},
					{map[string]any{"rule": "allow", "interface_in": "lo", "interface_out": "lo"}, "Only route rules can combine interface_in and interface_out"},
					{map[string]any{"rule": "allow", "port": "99999"}, "Bad port"},
				} {
					res, _ := sysRun(t, c, Ufw{}, false, false, e.raw)
					sysExpect(t, fmt.Sprint(e.raw), res, false, true, e.msg)
				}
			})
		}
	})
	if now := sysSh(t, localConn(), "cat /etc/ufw/user.rules /etc/ufw/ufw.conf /etc/default/ufw; iptables -S"); now != machine {
		t.Errorf("the machine's firewall changed")
	}
}
