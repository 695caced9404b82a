package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mdo-play/mdo-play/modules/conn/sshtest"
)

// TestManyHostsLowMaxStartups points 200 inventory hosts at one sshd whose
// MaxStartups (10) is far below the number of connections opened at once
// (-f 200). sshd drops the excess before the handshake; connect retries
// with backoff must get every host through.
func TestManyHostsLowMaxStartups(t *testing.T) {
	if testing.Short() {
		t.Skip("200 connections: not in -short mode")
	}
	// The harness's hosts have MaxStartups 200 and it has no option for it:
	// start one more sshd here, as the harness's no-sudo user so that no
	// root bashrc slows the commands down.
	c := sshtest.StartT(t, 1)
	dir, err := os.MkdirTemp("", "mdo-maxstartups-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	pub, err := os.ReadFile(c.ClientKey + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	authKeys := writeFile(t, dir, "authorized_keys", string(pub))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	hostKey := filepath.Join(c.Dir, c.Hosts[0].Name, "ssh_host_ed25519_key")
	cfg := writeFile(t, dir, "sshd_config", fmt.Sprintf(`ListenAddress 127.0.0.1
Port %d
HostKey %s
PidFile none
AuthorizedKeysFile %s
StrictModes no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
MaxStartups 10
LogLevel ERROR
`, port, hostKey, authKeys))
	sshd := exec.Command("/usr/sbin/sshd", "-D", "-e", "-f", cfg)
	sshd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	var logb strings.Builder
	sshd.Stderr = &logb
	if err := sshd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-sshd.Process.Pid, syscall.SIGKILL)
		_ = sshd.Wait()
	})
	if !waitListening(fmt.Sprintf("127.0.0.1:%d", port), 10*time.Second) {
		t.Fatalf("sshd did not start: %s", logb.String())
	}
	kh := writeFile(t, dir, "known_hosts", fmt.Sprintf("[127.0.0.1]:%d %s", port, mustRead(t, hostKey+".pub")))
	var inv strings.Builder
	inv.WriteString("[many]\n")
	for i := 1; i <= 200; i++ {
		fmt.Fprintf(&inv, "m%03d\n", i)
	}
	fmt.Fprintf(&inv, "[many:vars]\nansible_host=127.0.0.1\nansible_port=%d\nansible_user=%s\nansible_ssh_private_key_file=%s\nansible_ssh_known_hosts_file=%s\n",
		port, sshtest.NoPassUser, c.ClientKey, kh)
	invPath := writeFile(t, t.TempDir(), "inv.ini", inv.String())
	pb := writeFile(t, t.TempDir(), "pb.yml", "- hosts: many\n  gather_facts: false\n  tasks:\n    - command: \"true\"\n")
	stdout, stderr, code := runTimed(t, 120*time.Second, map[string]string{"HOME": t.TempDir()}, "-i", invPath, "-f", "200", pb)
	if code != exitOK {
		n := strings.Count(stdout, "UNREACHABLE!")
		i := strings.Index(stdout, "UNREACHABLE!")
		t.Fatalf("exit %d, %d of 200 hosts unreachable, first: %s\n%s", code, n, strings.SplitN(stdout[max(i, 0):], "\n", 2)[0], stderr)
	}
	if n := strings.Count(stdout, "changed: [m"); n != 200 {
		t.Errorf("%d hosts ran the task, want 200", n)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		// The harness keeps only the private host key: derive nothing,
		// fall back to ssh-keygen.
		out, kerr := exec.Command("ssh-keygen", "-y", "-f", strings.TrimSuffix(path, ".pub")).Output()
		if kerr != nil {
			t.Fatalf("read %s: %v; ssh-keygen: %v", path, err, kerr)
		}
		return string(out)
	}
	return string(b)
}

// waitListening polls a TCP connect to addr until it succeeds or d passes.
func waitListening(addr string, d time.Duration) bool {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if nc, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			nc.Close()
			return true
		}
		select {
		case <-deadline.C:
			return false
		case <-tick.C:
		}
	}
}
