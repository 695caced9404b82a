package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mdo-play/mdo-play/modules/conn/sshtest"
)

// sshInventory writes an inventory with the hosts and variables of
// testdata/inventories/local.ini, reached over SSH on the test hosts.
func sshInventory(t *testing.T, c *sshtest.Cluster) string {
	t.Helper()
	host := func(i int) string {
		h := c.Hosts[i]
		return fmt.Sprintf("ansible_host=%s ansible_port=%d", h.Addr, h.Port)
	}
	inv := fmt.Sprintf(`[web]
web1 http_port=8080 %s
web2 http_port=8081 %s

[db]
db1 %s

[web:vars]
role=frontend

[all:vars]
ansible_user=root
ansible_ssh_private_key_file=%s
ansible_ssh_known_hosts_file=%s
env=test
`, host(0), host(1), host(2), c.ClientKey, c.KnownHosts)
	path := filepath.Join(t.TempDir(), "ssh.ini")
	if err := os.WriteFile(path, []byte(inv), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestGoldenOverSSH runs the end-to-end cases against real sshd test hosts
// and expects exactly the output of the local runs.
func TestGoldenOverSSH(t *testing.T) {
	c := sshtest.StartT(t, 3)
	root := repoRoot(t)
	inv := sshInventory(t, c)
	local := filepath.Join(root, "testdata/inventories/local.ini")
	n := 0
	for _, tc := range goldenCases(root, inv) {
		if !tc.ssh {
			continue
		}
		n++
		t.Run(tc.name, func(t *testing.T) {
			runGolden(t, tc, root, map[string]string{inv: local})
		})
	}
	if n < 10 {
		t.Fatalf("only %d cases ran over SSH", n)
	}
	if strings.Contains(inv, "local") {
		t.Fatal("the SSH inventory must not be the local one")
	}
}

// TestBecomeOverSSH logs in as non-root users and escalates with sudo:
// with a password fed on stdin, without one (NOPASSWD), and with a wrong
// password, which must fail the host with a clear message and not hang.
func TestBecomeOverSSH(t *testing.T) {
	c := sshtest.StartT(t, 2)
	root := repoRoot(t)
	write := func(pass string) string {
		inv := fmt.Sprintf(`withpass ansible_host=%s ansible_port=%d ansible_user=%s ansible_become_password=%s
nopass ansible_host=%s ansible_port=%d ansible_user=%s

[all:vars]
ansible_ssh_private_key_file=%s
ansible_ssh_known_hosts_file=%s
`, c.Hosts[0].Addr, c.Hosts[0].Port, sshtest.SudoUser, pass,
			c.Hosts[1].Addr, c.Hosts[1].Port, sshtest.NoPassUser, c.ClientKey, c.KnownHosts)
		path := filepath.Join(t.TempDir(), "become.ini")
		if err := os.WriteFile(path, []byte(inv), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	pb := filepath.Join(root, "testdata/playbooks/become.yml")

	stdout, stderr, code := runCLI(t, map[string]string{"HOME": t.TempDir()}, "-i", write(c.SudoPassword()), pb)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, h := range []string{"withpass", "nopass"} {
		want := h + strings.Repeat(" ", 27-len(h)) + ": ok=6    changed=0    unreachable=0    failed=0"
		if !strings.Contains(stdout, want) {
			t.Errorf("recap for %s missing %q:\n%s", h, want, stdout)
		}
	}
	if strings.Contains(stdout+stderr, c.SudoPassword()) {
		t.Error("the become password appears in the output")
	}

	stdout, stderr, code = runCLI(t, map[string]string{"HOME": t.TempDir()}, "-i", write("wrong-password"), pb, "-l", "withpass")
	if code != 2 {
		t.Fatalf("wrong sudo password: exit %d, want 2\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "fatal: [withpass]: FAILED!") || !strings.Contains(strings.ToLower(stdout), "password") {
		t.Errorf("wrong sudo password: no clear failure:\n%s", stdout)
	}
	if strings.Contains(stdout+stderr, "wrong-password") {
		t.Error("the wrong become password appears in the output")
	}
}

// TestExampleRollout runs the demo's rolling deploy on three test hosts:
// the first run changes every host, the second changes nothing.
func TestExampleRollout(t *testing.T) {
	testExampleTwice(t, 3, "examples/rollout.yml", "changed=5")
}

// TestExampleFiles runs the file-modules example twice on two test hosts;
// the second run changes nothing.
func TestExampleFiles(t *testing.T) {
	testExampleTwice(t, 2, "examples/files.yml", "changed=")
}

func testExampleTwice(t *testing.T, n int, example, firstWant string) {
	c := sshtest.StartT(t, n)
	root := repoRoot(t)
	env := map[string]string{"HOME": t.TempDir(), "MDO_KNOWN_HOSTS_FILE": c.KnownHosts}
	pb := filepath.Join(root, example)
	for run, want := range []string{firstWant, "changed=0 "} {
		stdout, stderr, code := runCLI(t, env, "-i", c.Inventory, pb)
		if code != 0 {
			t.Fatalf("run %d: exit %d\n%s\n%s", run+1, code, stdout, stderr)
		}
		for _, h := range c.Hosts {
			line := h.Name + strings.Repeat(" ", 27-len(h.Name)) + ": ok="
			i := strings.Index(stdout, line)
			if i < 0 || !strings.Contains(stdout[i:i+60], want) {
				t.Errorf("run %d: host %s: want %s in the recap:\n%s", run+1, h.Name, want, stdout)
			}
		}
	}
}
