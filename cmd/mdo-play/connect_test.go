package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mdo-play/mdo-play/modules/conn"
	"github.com/mdo-play/mdo-play/modules/conn/ssh"
	"github.com/mdo-play/mdo-play/modules/conn/sshtest"
)

// countSudo prints how many sudo processes run under the sshd of the host
// it runs on (the test hosts share the machine's pid namespace, so the
// count is limited to the descendants of the topmost sshd above it).
const countSudo = `cat /proc/[0-9]*/stat 2>/dev/null | awk -v me=$$ '
{ pid = $1; c = $0; sub(/^[^(]*\(/, "", c); sub(/\).*$/, "", c)
  s = $0; sub(/^.*\) /, "", s); split(s, f, " "); pp[pid] = f[2]; comm[pid] = c }
END {
  top = ""; p = me
  while (p in pp) { if (comm[p] == "sshd") top = p; p = pp[p] }
  n = 0
  for (q in pp) {
    if (comm[q] != "sudo") continue
    r = pp[q]; while ((r in pp) && r != top) r = pp[r]
    if (r == top) n++
  }
  print n
}'`

// TestBecomePoolPerRun runs many become tasks on a host reached as a user
// with a sudo password and one without: every task must find the same
// become shells on the target (one pool per host and become user for the
// whole run, issue 13), and none may be left after the run.
func TestBecomePoolPerRun(t *testing.T) {
	c := sshtest.StartT(t, 2)
	dir := t.TempDir()
	inv := writeFile(t, dir, "hosts.ini", fmt.Sprintf(`withpass ansible_host=%s ansible_port=%d ansible_user=%s ansible_become_password=%s
nopass ansible_host=%s ansible_port=%d ansible_user=%s

[all:vars]
ansible_ssh_private_key_file=%s
ansible_ssh_known_hosts_file=%s
`, c.Hosts[0].Addr, c.Hosts[0].Port, sshtest.SudoUser, c.SudoPassword(),
		c.Hosts[1].Addr, c.Hosts[1].Port, sshtest.NoPassUser, c.ClientKey, c.KnownHosts))
	const n = 8
	var tasks strings.Builder
	for i := range n {
		fmt.Fprintf(&tasks, "    - name: count %d\n      shell: |\n", i)
		for _, l := range strings.Split(countSudo+" >> /srv/mdo-sudo-count", "\n") {
			tasks.WriteString("        " + l + "\n")
		}
	}
	pb := writeFile(t, dir, "site.yml", `- hosts: all
  gather_facts: false
  become: true
  tasks:
    - shell: rm -f /srv/mdo-sudo-count
`+tasks.String()+`    - name: the same shells for every task
      shell: |
        cat /srv/mdo-sudo-count | tr '\n' ' '
        [ "$(sort -u /srv/mdo-sudo-count | wc -l)" -eq 1 ] && [ "$(wc -l < /srv/mdo-sudo-count)" -eq `+fmt.Sprint(n)+` ]
`)
	stdout, stderr, code := runCLI(t, map[string]string{"HOME": t.TempDir()}, "-i", inv, pb)
	if code != 0 {
		t.Fatalf("exit %d (the sudo counts per task are in the failed task's stdout)\n%s\n%s", code, stdout, stderr)
	}
	for _, h := range []string{"withpass", "nopass"} {
		wantRecap(t, stdout, h, "failed=0", "unreachable=0")
	}

	// After the run, no become shell is left on either host.
	for i, h := range c.Hosts {
		cl, err := ssh.Dial(context.Background(), ssh.Options{Alias: h.Name, Host: h.Addr, Port: h.Port, User: "root",
			IdentityFiles: []string{c.ClientKey}, KnownHostsFiles: []string{c.KnownHosts}, SSHConfigFiles: []string{},
			HomeDir: t.TempDir(), ExecMode: ssh.SessionPerCommand})
		if err != nil {
			t.Fatal(err)
		}
		left := ""
		deadline := time.Now().Add(5 * time.Second)
		tick := time.NewTicker(50 * time.Millisecond)
		for {
			res, err := cl.Exec(context.Background(), conn.Command{Script: countSudo})
			if err != nil {
				t.Fatal(err)
			}
			left = strings.TrimSpace(string(res.Stdout))
			if left == "0" || time.Now().After(deadline) {
				break
			}
			<-tick.C
		}
		tick.Stop()
		cl.Close()
		if left != "0" {
			t.Errorf("host %d: %s sudo processes left after the run, want 0", i, left)
		}
	}
}

// TestSSHConfigAlias: an inventory host whose ansible_host is an
// ssh_config alias is reached through that alias's block in ~/.ssh/config
// (issue 11), as ansible-playbook reaches it through OpenSSH.
func TestSSHConfigAlias(t *testing.T) {
	c := sshtest.StartT(t, 1)
	h := c.Hosts[0]
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, ".ssh"), 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, home, ".ssh/config", fmt.Sprintf(`Host web-alias
  HostName %s
  Port %d
  User root
  IdentityFile %s
  UserKnownHostsFile %s
`, h.Addr, h.Port, c.ClientKey, c.KnownHosts))
	dir := t.TempDir()
	inv := writeFile(t, dir, "hosts.ini", "web ansible_host=web-alias\n")
	pb := writeFile(t, dir, "site.yml", `- hosts: all
  gather_facts: false
  tasks:
    - command: sh -c 'echo "$(id -un) ${SSH_CONNECTION##* }"'
      register: r
    - assert:
        that: eq .r.stdout "root `+fmt.Sprint(h.Port)+`"
`)
	stdout, stderr, code := runCLI(t, map[string]string{"HOME": home}, "-i", inv, pb)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	wantRecap(t, stdout, "web", "ok=2", "failed=0")
}
