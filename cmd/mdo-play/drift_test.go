package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mdo-play/mdo-play/modules/conn/sshtest"
	"github.com/mdo-play/mdo-play/playbook"
)

func TestDriftLine(t *testing.T) {
	many := make([]string, 13)
	for i := range many {
		many[i] = fmt.Sprintf("h%02d", i+1)
	}
	for _, tc := range []struct {
		hosts []string
		check bool
		want  string
	}{
		{[]string{"web1"}, false, "DRIFT: 1 host changed: web1"},
		{[]string{"web1", "web2"}, true, "DRIFT: 2 hosts would change: web1, web2"},
		{many[:10], false, "DRIFT: 10 hosts changed: h01, h02, h03, h04, h05, h06, h07, h08, h09, h10"},
		{many, true, "DRIFT: 13 hosts would change: h01, h02, h03, h04, h05, h06, h07, h08, h09, h10 and 3 more"},
	} {
		if got := driftLine(tc.hosts, tc.check); got != tc.want {
			t.Errorf("driftLine(%v, %v) = %q, want %q", tc.hosts, tc.check, got, tc.want)
		}
	}
}

func TestChangedTasks(t *testing.T) {
	c := changedTasks{}
	for _, e := range []playbook.Event{
		{Kind: playbook.EventHost, Host: "a", Task: "one", Status: playbook.StatusChanged},
		{Kind: playbook.EventHost, Host: "b", Task: "one", Status: playbook.StatusOK},
		{Kind: playbook.EventItem, Host: "b", Task: "loop", Status: playbook.StatusChanged},
		{Kind: playbook.EventHost, Host: "a", Task: "two", Status: playbook.StatusChanged},
		{Kind: playbook.EventHost, Host: "a", Task: "one", Status: playbook.StatusChanged},
		{Kind: playbook.EventHost, Host: "b", Task: "loop", Status: playbook.StatusChanged, Loop: true},
		{Kind: playbook.EventHost, Host: "b", Task: "ignored", Status: playbook.StatusFailed, Ignored: true, Result: map[string]any{"changed": true}},
		{Kind: playbook.EventHost, Host: "b", Task: "ignored, unchanged", Status: playbook.StatusFailed, Ignored: true, Result: map[string]any{"changed": false}},
		{Kind: playbook.EventHost, Host: "b", Task: "failed", Status: playbook.StatusFailed, Result: map[string]any{"changed": true}},
	} {
		c.observe(e)
	}
	want := changedTasks{"a": {"one", "two"}, "b": {"loop", "ignored"}}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got %v, want %v", c, want)
	}
}

// TestDetailedExitcodeOverSSH is the cron drift check of issue 16 against
// real sshd test hosts: pending drift exits 8 and --check writes nothing, a
// converged fleet exits 0, a failed host 2 and an unreachable host 4 even
// when other hosts changed.
func TestDetailedExitcodeOverSSH(t *testing.T) {
	c := sshtest.StartT(t, 3)
	dir := t.TempDir()
	env := map[string]string{"HOME": t.TempDir(), "MDO_KNOWN_HOSTS_FILE": c.KnownHosts}
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	site := write("site.yml", `- hosts: testhosts
  gather_facts: false
  tasks:
    - name: write the motd
      copy:
        dest: /srv/motd
        content: "release {{ .release }}\n"
    - name: read it back
      command: cat /srv/motd
      changed_when: false
    - name: fail where asked
      fail:
        msg: asked to fail
      when: eq .inventory_hostname (.fail_on | default "")
`)
	absent := write("absent.yml", `- hosts: testhosts
  gather_facts: false
  tasks:
    - stat:
        path: /srv/motd
      register: st
    - assert:
        that: not .st.stat.exists
`)
	run := func(args ...string) (string, int) {
		t.Helper()
		stdout, stderr, code := runCLI(t, env, append([]string{"-i", c.Inventory}, args...)...)
		return stdout + stderr, code
	}
	expect := func(what string, wantCode int, out string, code int, contains ...string) {
		t.Helper()
		if code != wantCode {
			t.Fatalf("%s: exit %d, want %d\n%s", what, code, wantCode, out)
		}
		for _, s := range contains {
			if !strings.Contains(out, s) {
				t.Errorf("%s: output lacks %q:\n%s", what, s, out)
			}
		}
	}

	out, code := run("--check", "--detailed-exitcode", "-e", "release=1", site)
	expect("drift pending in check mode", exitChanged, out, code, "DRIFT: 3 hosts would change: h1, h2, h3")
	out, code = run(absent)
	expect("--check wrote nothing", 0, out, code)
	out, code = run("--check", "-e", "release=1", site)
	expect("without the flag", 0, out, code)
	if strings.Contains(out, "DRIFT") {
		t.Errorf("the drift line without --detailed-exitcode:\n%s", out)
	}

	// Applying reports the changes made, in JSON with the task names.
	out, code = run("--detailed-exitcode", "--output", "json", "-e", "release=1", site)
	expect("changes made", exitChanged, out, code)
	recap := lastJSON(t, out)
	if got, want := recap.ChangedHosts, []string{"h1", "h2", "h3"}; !reflect.DeepEqual(got, want) {
		t.Errorf("changed_hosts = %v, want %v", got, want)
	}
	for _, h := range []string{"h1", "h2", "h3"} {
		if got := recap.ChangedTasks[h]; !reflect.DeepEqual(got, []string{"write the motd"}) {
			t.Errorf("changed_tasks[%s] = %v", h, got)
		}
	}
	if strings.Contains(out, "DRIFT") {
		t.Errorf("the text drift line in JSON output:\n%s", out)
	}

	// A converged fleet exits 0, in check mode and for real.
	out, code = run("--check", "--detailed-exitcode", "-e", "release=1", site)
	expect("converged, check", 0, out, code)
	out, code = run("--detailed-exitcode", "--output", "json", "-e", "release=1", site)
	expect("converged", 0, out, code)
	if recap := lastJSON(t, out); len(recap.ChangedHosts) != 0 || len(recap.ChangedTasks) != 0 {
		t.Errorf("converged recap names changes: %+v", recap)
	}

	// Drift on one host only.
	out, code = run("--check", "--detailed-exitcode", "-l", "h2", "-e", "release=2", site)
	expect("drift on one host", exitChanged, out, code, "DRIFT: 1 host would change: h2")

	// A failed host wins over changes elsewhere.
	out, code = run("--detailed-exitcode", "-e", "release=3", "-e", "fail_on=h1", site)
	expect("failed host", exitHostFailed, out, code, "asked to fail")
	if strings.Contains(out, "DRIFT") {
		t.Errorf("the drift line on a failed run:\n%s", out)
	}

	// An unreachable host wins over changes elsewhere: h4 has no sshd.
	inv := write("withdead.ini", fmt.Sprintf("%s\n[testhosts]\nh4 ansible_host=127.0.0.1 ansible_port=1 ansible_user=root ansible_ssh_private_key_file=%s\n",
		readFile(t, c.Inventory), c.ClientKey))
	stdout, stderr, code := runCLI(t, env, "-i", inv, "-T", "2", "--detailed-exitcode", "-e", "release=4", site)
	expect("unreachable host", exitUnreachable, stdout+stderr, code, "UNREACHABLE!")
}

type jsonRecap struct {
	Event        string              `json:"event"`
	ChangedHosts []string            `json:"changed_hosts"`
	ChangedTasks map[string][]string `json:"changed_tasks"`
}

// lastJSON decodes the last line of a JSON-lines output: the recap.
func lastJSON(t *testing.T, out string) jsonRecap {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var r jsonRecap
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil || r.Event != "recap" {
		t.Fatalf("last line is not a recap (%v):\n%s", err, out)
	}
	if r.ChangedHosts == nil {
		t.Fatalf("the recap has no changed_hosts:\n%s", lines[len(lines)-1])
	}
	return r
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
