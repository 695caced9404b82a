package sshtest

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// buildProbeDeb builds a Debian package that installs a conffile, an sshd
// config for a second daemon listening on addr:port, and a start script.
func buildProbeDeb(t *testing.T, dir, name, addr string, port int, hostKey string) string {
	t.Helper()
	root := filepath.Join(dir, "pkg")
	files := map[string]string{
		"DEBIAN/control":               fmt.Sprintf("Package: %s\nVersion: 1.0-1\nArchitecture: all\nMaintainer: mdo-play tests <tests@example.invalid>\nDescription: overlay probe\n test package for the sshtest harness\n", name),
		"DEBIAN/conffiles":             "/etc/" + name + "/sshd_config\n",
		"etc/" + name + "/sshd_config": fmt.Sprintf("ListenAddress %s\nPort %d\nHostKey %s\nPidFile /run/%s.pid\nUsePAM no\n", addr, port, hostKey, name),
		"usr/sbin/" + name:             "#!/bin/sh\nmkdir -p /run/sshd\nexec /usr/sbin/sshd -f /etc/" + name + "/sshd_config\n",
	}
	for p, content := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	deb := filepath.Join(dir, name+".deb")
	if out, err := exec.Command("dpkg-deb", "--root-owner-group", "--build", root, deb).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb: %v: %s", err, out)
	}
	return deb
}

// banner connects to addr and returns the first line it sends.
func banner(addr string) (string, error) {
	nc, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return "", err
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	return bufio.NewReader(nc).ReadString('\n')
}

// TestOverlayRoot: on a RootOverlay host, apt-get installs a package,
// /etc is written and a daemon started from the package listens on the
// host's address; another host sees none of it, the machine's files and
// package database are untouched, and stopping the cluster kills the
// daemon. Unless -short, a second host installs Debian's hello from the
// archive, again without the machine getting it.
func TestOverlayRoot(t *testing.T) {
	for _, p := range []string{"dpkg-deb", "apt-get", "dpkg-query"} {
		if _, err := exec.LookPath(p); err != nil {
			t.Skipf("needs %s", p)
		}
	}
	c := StartTWith(t, Options{N: 2, Root: RootOverlay})
	h1, h2 := c.Hosts[0], c.Hosts[1]
	const pkg = "mdo-sshtest-overlay-probe"
	machineStatus := func() string {
		out, _ := exec.Command("dpkg-query", "-W", "-f=${Status}", pkg).Output()
		return string(out)
	}
	if s := machineStatus(); strings.Contains(s, "installed") {
		t.Fatalf("%s is installed on the machine before the test: %q", pkg, s)
	}
	port, err := freePort(h1.Addr)
	if err != nil {
		t.Fatal(err)
	}
	// c.Dir is bound into every host at the same path.
	deb := buildProbeDeb(t, c.Dir, pkg, h1.Addr, port, filepath.Join(c.Dir, h1.Name, "ssh_host_ed25519_key"))

	if got := strings.TrimSpace(run(t, c, h1, "root", "findmnt -n -o FSTYPE /")); got != "overlay" {
		t.Fatalf("the host's / is %q, want overlay (not going on: apt-get would change the machine)", got)
	}
	run(t, c, h1, "root", "DEBIAN_FRONTEND=noninteractive apt-get install -y -q "+deb+" >/tmp/apt.out 2>&1 || { cat /tmp/apt.out >&2; exit 1; }")
	if got := run(t, c, h1, "root", "dpkg-query -W -f='${Status}' "+pkg); got != "install ok installed" {
		t.Errorf("on h1: dpkg status %q", got)
	}
	run(t, c, h1, "root", "echo written-on-h1 > /etc/mdo-sshtest-overlay-written && hostname mdo-overlay-h1 && /usr/sbin/"+pkg)
	if got, _ := os.Hostname(); got == "mdo-overlay-h1" {
		t.Errorf("setting the hostname on h1 renamed the machine")
	}
	hp := net.JoinHostPort(h1.Addr, fmt.Sprint(port))
	deadline := time.Now().Add(10 * time.Second)
	var line string
	for {
		line, err = banner(hp)
		if err == nil || time.Now().After(deadline) {
			break
		}
		// The daemon forks into the background: poll, bounded by deadline.
		run(t, c, h1, "root", "true")
	}
	if !strings.HasPrefix(line, "SSH-2.0-") {
		t.Fatalf("the daemon started on h1 does not answer on %s: %q %v", hp, line, err)
	}

	if got := run(t, c, h2, "root", "cat /etc/mdo-sshtest-overlay-written 2>&1; dpkg-query -W -f='${Status}' "+pkg+" 2>&1; true"); strings.Contains(got, "written-on-h1") || strings.Contains(got, "ok installed") {
		t.Errorf("h2 sees h1's changes: %q", got)
	}
	for _, p := range []string{"/etc/mdo-sshtest-overlay-written", "/etc/" + pkg, "/usr/sbin/" + pkg, "/var/lib/dpkg/info/" + pkg + ".list"} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("the machine has %s (%v)", p, err)
		}
	}
	if s := machineStatus(); strings.Contains(s, "installed") {
		t.Errorf("the machine's dpkg database has %s: %q", pkg, s)
	}

	// From Debian's archive too (the network is shared): the package lands
	// in h2's root only.
	if !testing.Short() {
		if out, _ := exec.Command("dpkg-query", "-W", "-f=${Status}", "hello").Output(); strings.Contains(string(out), "ok installed") {
			t.Log("hello is installed on the machine: not installing it from the archive")
		} else {
			got := run(t, c, h2, "root", "DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends hello >/tmp/apt.out 2>&1 || { cat /tmp/apt.out >&2; exit 1; }; hello")
			if strings.TrimSpace(got) != "Hello, world!" {
				t.Errorf("hello installed on h2 says %q", got)
			}
			if out, _ := exec.Command("dpkg-query", "-W", "-f=${Status}", "hello").Output(); strings.Contains(string(out), "installed") {
				t.Errorf("installing hello on h2 installed it on the machine: %q", out)
			}
			if _, err := os.Stat("/usr/bin/hello"); !os.IsNotExist(err) {
				t.Errorf("the machine has /usr/bin/hello (%v)", err)
			}
		}
	}

	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := banner(hp); err == nil {
		t.Errorf("the daemon started on h1 still answers on %s after Stop", hp)
	}
}
