package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	xssh "golang.org/x/crypto/ssh"

	"github.com/mdo-play/mdo-play/modules/conn"
	"github.com/mdo-play/mdo-play/modules/conn/ssh"
	"github.com/mdo-play/mdo-play/modules/conn/sshtest"
)

// Faults staged end to end through the CLI (issue 7): each test breaks
// something on the way to a host and checks the exit code, the recap and
// that nothing hangs.

// writeFile writes content to dir/name and returns the path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// findRecap returns host's PLAY RECAP line, or "".
func findRecap(stdout, host string) string {
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(host) + ` +: ok=.*$`)
	return re.FindString(stdout)
}

// wantRecap checks that host's recap line contains every field given.
func wantRecap(t *testing.T, stdout, host string, fields ...string) {
	t.Helper()
	line := findRecap(stdout, host)
	if line == "" {
		t.Errorf("no recap line for %s:\n%s", host, stdout)
		return
	}
	for _, f := range fields {
		if !regexp.MustCompile(`\b` + regexp.QuoteMeta(f) + `\b`).MatchString(line) {
			t.Errorf("recap for %s lacks %q: %s", host, f, line)
		}
	}
}

// runTimed runs the CLI and fails the test if it takes longer than limit.
func runTimed(t *testing.T, limit time.Duration, env map[string]string, args ...string) (string, string, int) {
	t.Helper()
	start := time.Now()
	stdout, stderr, code := runCLI(t, env, args...)
	if took := time.Since(start); took > limit {
		t.Errorf("run took %v, want under %v", took, limit)
	}
	return stdout, stderr, code
}

// waitFile polls for path until deadline; it reports whether it appeared.
func waitFile(path string, d time.Duration) bool {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if _, err := os.Stat(path); err == nil {
			return true
		}
		select {
		case <-deadline.C:
			return false
		case <-tick.C:
		}
	}
}

// TestFaultHostKilledMidRun crashes one of three hosts while a task runs on
// it: that host is UNREACHABLE, the other two finish every task, exit 4.
func TestFaultHostKilledMidRun(t *testing.T) {
	c := sshtest.StartT(t, 3)
	tmp := t.TempDir()
	marker := filepath.Join(tmp, "h2-started")
	pb := writeFile(t, tmp, "pb.yml", `- hosts: testhosts
  gather_facts: false
  tasks:
    - name: work
      shell: 'if [ {{ .inventory_hostname }} = h2 ]; then touch {{ .marker }}; sleep 60; fi'
    - name: after
      command: "true"
`)
	env := map[string]string{"HOME": t.TempDir(), "MDO_KNOWN_HOSTS_FILE": c.KnownHosts}
	killed := make(chan bool, 1)
	go func() {
		ok := waitFile(marker, 20*time.Second)
		if ok {
			c.StopHost(1)
		}
		killed <- ok
	}()
	stdout, stderr, code := runTimed(t, 40*time.Second, env, "-i", c.Inventory, "-f", "3", "-e", "marker="+marker, pb)
	if !<-killed {
		t.Fatalf("the task never started on h2\n%s\n%s", stdout, stderr)
	}
	if code != exitUnreachable {
		t.Errorf("exit %d, want %d\n%s\n%s", code, exitUnreachable, stdout, stderr)
	}
	if !strings.Contains(stdout, "fatal: [h2]: UNREACHABLE!") {
		t.Errorf("h2 not reported UNREACHABLE:\n%s", stdout)
	}
	wantRecap(t, stdout, "h1", "ok=2", "unreachable=0", "failed=0")
	wantRecap(t, stdout, "h3", "ok=2", "unreachable=0", "failed=0")
	wantRecap(t, stdout, "h2", "unreachable=1")
}

// TestFaultHandshakeNeverCompletes: a host that accepts TCP and never
// speaks SSH is UNREACHABLE after the connect timeout (-T 2) with the
// reason in the output; the other host runs; the run does not hang.
func TestFaultHandshakeNeverCompletes(t *testing.T) {
	s, err := sshtest.StartFault(sshtest.FaultOptions{NoHandshake: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	tmp := t.TempDir()
	inv := writeFile(t, tmp, "inv.ini", fmt.Sprintf("mute ansible_host=%s ansible_port=%d ansible_user=test\nfine ansible_connection=local\n", s.Host(), s.Port()))
	pb := writeFile(t, tmp, "pb.yml", "- hosts: all\n  gather_facts: false\n  tasks:\n    - command: \"true\"\n")
	stdout, stderr, code := runTimed(t, 20*time.Second, map[string]string{"HOME": t.TempDir()}, "-i", inv, "-T", "2", pb)
	if code != exitUnreachable {
		t.Errorf("exit %d, want %d\n%s\n%s", code, exitUnreachable, stdout, stderr)
	}
	if !strings.Contains(stdout, "fatal: [mute]: UNREACHABLE!") || !strings.Contains(stdout, "timed out") {
		t.Errorf("no UNREACHABLE with the timeout as reason:\n%s", stdout)
	}
	wantRecap(t, stdout, "fine", "ok=1", "failed=0")
	wantRecap(t, stdout, "mute", "unreachable=1")
}

// TestFaultCommandHangs: a command that never ends is stopped by the
// task's timeout, the host fails with a message naming the timeout, the
// remote process is gone, and the next play still reaches the host.
func TestFaultCommandHangs(t *testing.T) {
	c := sshtest.StartT(t, 1)
	tmp := t.TempDir()
	pb := writeFile(t, tmp, "pb.yml", `- hosts: testhosts
  gather_facts: false
  tasks:
    - name: hang
      command: sleep 3600
      timeout: 2
- hosts: testhosts
  gather_facts: false
  tasks:
    - name: still reachable
      shell: "! pgrep -f 'sleep 360[0]'"
`)
	env := map[string]string{"HOME": t.TempDir(), "MDO_KNOWN_HOSTS_FILE": c.KnownHosts}
	stdout, stderr, code := runTimed(t, 30*time.Second, env, "-i", c.Inventory, pb)
	if code != exitHostFailed {
		t.Errorf("exit %d, want %d\n%s\n%s", code, exitHostFailed, stdout, stderr)
	}
	if !strings.Contains(stdout, "fatal: [h1]: FAILED!") || !strings.Contains(stdout, "exceeded its timeout of 2 seconds") {
		t.Errorf("no failure naming the timeout:\n%s", stdout)
	}
	// A failed host leaves the play, as in Ansible; the process must be gone
	// all the same.
	cl := dialRoot(t, c, 0)
	res, err := cl.Exec(context.Background(), conn.Command{Script: "ps -eo pid,args | grep '[s]leep 3600'"})
	if err != nil || res.RC == 0 {
		t.Errorf("the timed-out command still runs on the host: %s %v", res.Stdout, err)
	}
}

// dialRoot connects to host i as root with the cluster's key.
func dialRoot(t *testing.T, c *sshtest.Cluster, i int) *ssh.Client {
	t.Helper()
	h := c.Hosts[i]
	cl, err := ssh.Dial(context.Background(), ssh.Options{Alias: h.Name, Host: h.Addr, Port: h.Port, User: "root",
		IdentityFiles: []string{c.ClientKey}, KnownHostsFiles: []string{c.KnownHosts}, SSHConfigFiles: []string{}, HomeDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}

// TestFaultCredentials: a changed host key, a wrong password, a wrong sudo
// password and a user without sudo are each a clear failure of that one
// host; nothing prompts (stdin is not a terminal) and nothing hangs.
func TestFaultCredentials(t *testing.T) {
	c := sshtest.StartT(t, 2)
	tmp := t.TempDir()
	h1, h2 := c.Hosts[0], c.Hosts[1]
	pb := writeFile(t, tmp, "pb.yml", "- hosts: all\n  gather_facts: false\n  tasks:\n    - command: id -u\n")
	becomePB := writeFile(t, tmp, "become.yml", "- hosts: all\n  gather_facts: false\n  become: true\n  tasks:\n    - command: id -u\n")
	// A known_hosts file where h1's entry holds h2's key: h1's key "changed".
	changedKH := writeFile(t, tmp, "kh_changed", fmt.Sprintf("[%s]:%d %s[%s]:%d %s",
		h1.Addr, h1.Port, xssh.MarshalAuthorizedKey(h2.HostKey), h2.Addr, h2.Port, xssh.MarshalAuthorizedKey(h2.HostKey)))
	host := func(name string, h *sshtest.Host, vars string) string {
		return fmt.Sprintf("%s ansible_host=%s ansible_port=%d %s\n", name, h.Addr, h.Port, vars)
	}
	key := "ansible_ssh_private_key_file=" + c.ClientKey
	cases := []struct {
		name     string
		inv      string
		pb       string
		bad      string // the failing host
		code     int
		status   string
		words    []string // in the bad host's message, lower case
		notShown string   // must not appear in the output
	}{
		{"host key changed", host("bad", h1, "ansible_user=root "+key) + host("good", h2, "ansible_user=root "+key) +
			"[all:vars]\nansible_ssh_known_hosts_file=" + changedKH + "\n",
			pb, "bad", exitUnreachable, "UNREACHABLE!", []string{"host key", "changed"}, ""},
		{"wrong password", host("bad", h1, "ansible_user="+sshtest.SudoUser+" ansible_password=wrong-Passw0rd") + host("good", h2, "ansible_user=root "+key) +
			"[all:vars]\nansible_ssh_known_hosts_file=" + c.KnownHosts + "\n",
			pb, "bad", exitUnreachable, "UNREACHABLE!", []string{"password"}, "wrong-Passw0rd"},
		{"wrong sudo password", host("bad", h1, "ansible_user="+sshtest.SudoUser+" ansible_become_password=wrong-Sudo0 "+key) + host("good", h2, "ansible_user="+sshtest.NoPassUser+" "+key) +
			"[all:vars]\nansible_ssh_known_hosts_file=" + c.KnownHosts + "\n",
			becomePB, "bad", exitHostFailed, "FAILED!", []string{"password"}, "wrong-Sudo0"},
		{"sudo password missing", host("bad", h1, "ansible_user="+sshtest.SudoUser+" "+key) + host("good", h2, "ansible_user="+sshtest.NoPassUser+" "+key) +
			"[all:vars]\nansible_ssh_known_hosts_file=" + c.KnownHosts + "\n",
			becomePB, "bad", exitHostFailed, "FAILED!", []string{"password"}, ""},
		{"user without sudo", host("bad", h1, "ansible_user="+noSudoUser+" ansible_become_password=whatever-1 "+key) + host("good", h2, "ansible_user="+sshtest.NoPassUser+" "+key) +
			"[all:vars]\nansible_ssh_known_hosts_file=" + c.KnownHosts + "\n",
			becomePB, "bad", exitHostFailed, "FAILED!", []string{"sudo"}, "whatever-1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			inv := writeFile(t, t.TempDir(), "inv.ini", tc.inv)
			stdout, stderr, code := runTimed(t, 30*time.Second, map[string]string{"HOME": t.TempDir()}, "-i", inv, "-T", "5", tc.pb)
			if code != tc.code {
				t.Errorf("exit %d, want %d\n%s\n%s", code, tc.code, stdout, stderr)
			}
			prefix := "fatal: [" + tc.bad + "]: " + tc.status
			i := strings.Index(stdout, prefix)
			if i < 0 {
				t.Fatalf("no %q in the output:\n%s\n%s", prefix, stdout, stderr)
			}
			msg := strings.ToLower(strings.SplitN(stdout[i:], "\n", 2)[0])
			for _, w := range tc.words {
				if !strings.Contains(msg, w) {
					t.Errorf("message lacks %q: %s", w, msg)
				}
			}
			if strings.Contains(stdout+stderr, "assword:") && !strings.Contains(msg, "assword:") {
				t.Errorf("something prompted for a password:\n%s", stderr)
			}
			if tc.notShown != "" && strings.Contains(stdout+stderr, tc.notShown) {
				t.Errorf("the secret %q appears in the output", tc.notShown)
			}
			wantRecap(t, stdout, "good", "ok=1", "failed=0", "unreachable=0")
		})
	}
}

// noSudoUser may log in with the cluster's key but is not in sudoers.
const noSudoUser = sshtest.NoSudoUser

// TestFaultUploadDropped: the connection drops in the middle of a file
// upload. The host is UNREACHABLE (exit 4), the destination keeps its old
// content, and after the next successful run it holds the new content and
// no temporary file is left in its directory.
func TestFaultUploadDropped(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, _ := xssh.NewSignerFromKey(priv)
	block, _ := xssh.MarshalPrivateKey(priv, "")
	tmp := t.TempDir()
	keyFile := writeFile(t, tmp, "id", string(pem.EncodeToMemory(block)))
	if err := os.Chmod(keyFile, 0o600); err != nil {
		t.Fatal(err)
	}
	// Above 8 MiB the file modules upload through SFTP (Conn.Put).
	big := bytes.Repeat([]byte("0123456789abcdef"), 9<<16) // 9 MiB
	src := writeFile(t, tmp, "big.bin", string(big))
	destDir := t.TempDir()
	dest := writeFile(t, destDir, "app.bin", "old content\n")
	pb := writeFile(t, tmp, "pb.yml", fmt.Sprintf("- hosts: all\n  gather_facts: false\n  tasks:\n    - copy: {src: %q, dest: %q}\n", src, dest))

	run := func(fo sshtest.FaultOptions) (string, string, int) {
		fo.AuthorizedKey = signer.PublicKey()
		s, err := sshtest.StartFault(fo)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		kh := writeFile(t, t.TempDir(), "kh", s.KnownHostsLine())
		inv := writeFile(t, t.TempDir(), "inv.ini", fmt.Sprintf("target ansible_host=%s ansible_port=%d ansible_user=test ansible_ssh_private_key_file=%s ansible_ssh_known_hosts_file=%s\n",
			s.Host(), s.Port(), keyFile, kh))
		return runTimed(t, 30*time.Second, map[string]string{"HOME": t.TempDir()}, "-i", inv, "-T", "5", pb)
	}
	stdout, stderr, code := run(sshtest.FaultOptions{DropUploadAfter: 2 << 20})
	if code != exitUnreachable || !strings.Contains(stdout, "fatal: [target]: UNREACHABLE!") {
		t.Errorf("dropped upload: exit %d, want %d and UNREACHABLE\n%s\n%s", code, exitUnreachable, stdout, stderr)
	}
	if got, _ := os.ReadFile(dest); string(got) != "old content\n" {
		t.Fatalf("destination after a dropped upload holds %d bytes, want the old content", len(got))
	}
	stdout, stderr, code = run(sshtest.FaultOptions{})
	if code != exitOK {
		t.Fatalf("next run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if got, _ := os.ReadFile(dest); !bytes.Equal(got, big) {
		t.Errorf("destination after the next run holds %d bytes, want the new %d", len(got), len(big))
	}
	entries, _ := os.ReadDir(destDir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 1 {
		t.Errorf("after the next successful run the directory holds %q, want only app.bin (no temporary file of the dropped upload)", names)
	}
}

// TestFaultDiskFull: the target's file system is full. The write fails with
// a message that says so, the original file is intact, no temporary file
// is left, and the host is failed (not unreachable).
func TestFaultDiskFull(t *testing.T) {
	c := sshtest.StartT(t, 1)
	cl := dialRoot(t, c, 0)
	// A 64 KiB tmpfs inside the host's private /srv, with the original file
	// and little room left.
	setup := `set -e
mkdir -p /srv/full
mount -t tmpfs -o size=64k mdo-full /srv/full
printf 'original\n' > /srv/full/app.conf
head -c 40000 /dev/zero > /srv/full/filler`
	if res, err := cl.Exec(context.Background(), conn.Command{Script: setup}); err != nil || res.RC != 0 {
		t.Fatalf("set up a small tmpfs: %v %s", err, res.Stderr)
	}
	tmp := t.TempDir()
	big := writeFile(t, tmp, "big", strings.Repeat("x", 200<<10))
	pb := writeFile(t, tmp, "pb.yml", fmt.Sprintf(`- hosts: testhosts
  gather_facts: false
  tasks:
    - name: small content, written through stdin
      copy: {content: "%s", dest: /srv/full/app.conf}
      ignore_errors: true
    - name: big file, uploaded
      copy: {src: %q, dest: /srv/full/app.conf}
`, strings.Repeat("y", 60<<10), big))
	env := map[string]string{"HOME": t.TempDir(), "MDO_KNOWN_HOSTS_FILE": c.KnownHosts}
	stdout, stderr, code := runTimed(t, 30*time.Second, env, "-i", c.Inventory, pb)
	if code != exitHostFailed {
		t.Errorf("exit %d, want %d\n%s\n%s", code, exitHostFailed, stdout, stderr)
	}
	if n := strings.Count(strings.ToLower(stdout), "no space left on device"); n < 2 {
		t.Errorf("%d failures say \"no space left on device\", want 2:\n%s", n, stdout)
	}
	res, err := cl.Exec(context.Background(), conn.Command{Script: "cat /srv/full/app.conf; ls -A /srv/full"})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(res.Stdout); got != "original\napp.conf\nfiller\n" {
		t.Errorf("after the failed writes: %q, want the original file and no leftovers", got)
	}
}

// TestBecomePasswordNotInProcessList watches the target's process list
// from a second connection while become tasks with a password run, and
// expects the password never to appear on any command line.
func TestBecomePasswordNotInProcessList(t *testing.T) {
	c := sshtest.StartT(t, 1)
	h := c.Hosts[0]
	tmp := t.TempDir()
	inv := writeFile(t, tmp, "inv.ini", fmt.Sprintf("h1 ansible_host=%s ansible_port=%d ansible_user=%s ansible_become_password=%s ansible_ssh_private_key_file=%s ansible_ssh_known_hosts_file=%s\n",
		h.Addr, h.Port, sshtest.SudoUser, c.SudoPassword(), c.ClientKey, c.KnownHosts))
	pb := writeFile(t, tmp, "pb.yml", `- hosts: all
  gather_facts: false
  become: true
  tasks:
    - command: sleep 1
    - shell: sleep 1; id -u
    - copy: {content: "x", dest: /srv/become-ps}
    - command: sleep 1
      become_user: `+sshtest.NoPassUser+`
`)
	watcher := dialRoot(t, c, 0)
	ctx, cancel := context.WithCancel(context.Background())
	type scan struct {
		n    int
		seen string
	}
	done := make(chan scan, 1)
	go func() {
		var s scan
		for ctx.Err() == nil {
			res, err := watcher.Exec(ctx, conn.Command{Script: "ps -eo args"})
			if err != nil {
				break
			}
			s.n++
			if bytes.Contains(res.Stdout, []byte(c.SudoPassword())) {
				s.seen = string(res.Stdout)
			}
			if bytes.Contains(res.Stdout, []byte("sudo")) && s.seen == "" {
				s.n += 1000 // saw a become process at least once
			}
		}
		done <- s
	}()
	stdout, stderr, code := runTimed(t, 60*time.Second, map[string]string{"HOME": t.TempDir()}, "-i", inv, pb)
	cancel()
	s := <-done
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if s.seen != "" {
		t.Fatalf("the become password is on a command line:\n%s", s.seen)
	}
	if s.n < 1000 {
		t.Errorf("the watcher never saw a sudo process in %d scans: the check proved nothing", s.n)
	}
}
