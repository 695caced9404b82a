//go:build realworld

// TestRealRoles is issue 12's "real content as tests": six public Ansible
// roles (testdata/realworld/roles, MIT licensed, sources in SOURCES.txt)
// are converted with `mdo-play convert`, loaded (--syntax-check, lint), run
// in --check under mdo-play and, as written, under ansible-playbook on
// identical fresh RootOverlay test hosts, compared task by task, and, where
// the role can converge on a test host, run for real twice. It is heavy
// (real sshd hosts, apt-get inside them, ansible-playbook) and sits behind
// the build tag realworld: `make realworld` runs it (docs/convert.md, "Real
// roles").
package convert_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mdo-play/mdo-play/modules/conn/sshtest"
)

// updating reports whether -update was given: the flag is the one that
// the package's own tests define (both are in one test binary).
func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// role is one of the six roles and what the test demands of it.
type role struct {
	name string
	// converge: the role installs from Debian's packages on a test host,
	// so a real run must converge and a rerun report changed=0.
	converge bool
	// vars are extra variables (-e) for every run of this role, in both
	// tools: what a user of the role on a test host would set.
	vars string
	// known lists the tasks whose --check status is known to differ
	// between ansible-playbook and mdo-play, with the cause. A listed task
	// that matches fails the test, so the list only shrinks.
	known map[string]string
	// knownRecap, when set, says why the recaps or exit codes differ (the
	// known task differences account for it).
	knownRecap string
	// knownConverge, when set, says why the role does not converge yet.
	knownConverge string
}

var roles = []role{
	{name: "geerlingguy-java", converge: true},
	{name: "geerlingguy-nginx", converge: true},
	// From Debian's redis-server package: building from source needs a
	// download from redis.io and a compiler.
	{name: "davidwittman-redis", converge: true, vars: `{"redis_install_from_source": false}`,
		knownConverge: "the rerun reports \"ensure redis is running\" changed (service state=started of the " +
			"role's redis_6379 init script on a host with no init system); ansible-playbook's rerun on an identical host " +
			"reports the same task changed"},
	// firewall rewrites iptables: the test hosts share the machine's
	// network namespace, so a real run would change the machine.
	{name: "geerlingguy-firewall"},
	// From Debian's mariadb-server (.ci/deps), with the community.mysql
	// modules built in. The server binds 3306 in the machine's network
	// namespace, as the role configures it.
	{name: "geerlingguy-mysql", converge: true},
	{name: "geerlingguy-docker",
		known: func() map[string]string {
			const lacks = "setup-Debian.yml uses deb822_repository (ansible-core 2.15+): Debian 12's ansible-core 2.14 " +
				"stops the run at the include with ERROR! (exit 4), while mdo-play has the module and runs the Debian path"
			m := map[string]string{"TASK geerlingguy-docker : include_tasks": lacks}
			for _, task := range []string{
				"Ensure apt key is not present in trusted.gpg.d",
				"Ensure old apt source list is not present in /etc/apt/sources.list.d",
				"Ensure old versions of Docker are not installed.",
				"Ensure legacy repo file is not present.",
				"Ensure dependencies are installed.",
			} {
				m["TASK geerlingguy-docker : "+task] = "runs only under mdo-play: " + lacks
			}
			m["TASK geerlingguy-docker : Add or remove Docker repository."] = "runs only under mdo-play, and fails there: " +
				"signed_by is a download.docker.com URL, fetched on the target as Ansible's module does, and test hosts have no network"
			return m
		}(),
		knownRecap: "deb822_repository, as the include_tasks entry says"},
}

func TestRealRoles(t *testing.T) {
	if os.Geteuid() != 0 {
		skipOrFail(t, "the real roles need root (RootOverlay test hosts)")
	}
	if _, err := exec.LookPath("ansible-playbook"); err != nil {
		skipOrFail(t, "ansible-playbook is not installed (apt-get install ansible-core)")
	}
	mdo := mdoPlay(t)
	for _, r := range roles {
		t.Run(r.name, func(t *testing.T) { testRole(t, mdo, r) })
	}
}

func skipOrFail(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatal(why)
	}
	t.Skip(why)
}

// mdoPlay returns the mdo-play binary: $MDO_PLAY (make realworld passes
// bin/mdo-play) or one built now.
func mdoPlay(t *testing.T) string {
	if p := os.Getenv("MDO_PLAY"); p != "" {
		abs, err := filepath.Abs(p)
		if err != nil {
			t.Fatal(err)
		}
		return abs
	}
	bin := filepath.Join(t.TempDir(), "mdo-play")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/mdo-play/mdo-play/cmd/mdo-play")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build mdo-play: %v\n%s", err, out)
	}
	return bin
}

func testRole(t *testing.T, mdo string, r role) {
	work, orig, conv := roleWork(t, r.name, filepath.Join("testdata", "realworld", "roles", r.name))

	// Converts and loads: the output is machine-independent, so it is a
	// golden file; the assertions below are what the issue demands.
	var load strings.Builder
	out, rc := run(t, work, nil, mdo, "convert", "--out", filepath.Join(conv, r.name), filepath.Join(orig, r.name))
	fmt.Fprintf(&load, "convert: exit %d\n%s", rc, relative(out, work))
	if rc != 0 && rc != 2 {
		t.Errorf("convert: exit %d\n%s", rc, out)
	}
	// Converting the converted role again must change nothing.
	out2, rc2 := run(t, work, nil, mdo, "convert", "-d", filepath.Join(conv, r.name))
	fmt.Fprintf(&load, "convert again (-d): exit %d, diff %d lines\n", rc2, strings.Count(out2, "\n"))
	out, rc = run(t, conv, nil, mdo, "-i", "localhost,", "--syntax-check", "site.yml")
	fmt.Fprintf(&load, "syntax-check: exit %d\n%s", rc, relative(errorLines(out), work))
	if rc != 0 {
		t.Errorf("converted role does not load (--syntax-check exit %d):\n%s", rc, out)
	}
	out, _ = run(t, conv, nil, mdo, "lint", "site.yml")
	fmt.Fprintf(&load, "lint:\n%s", relative(findings(out, "load-error", "convert-marker"), work))
	golden(t, filepath.Join("testdata", "realworld", r.name+".load.golden"), load.String())

	// --check: the original under ansible-playbook on h1, the converted
	// role under mdo-play on h2, both fresh private roots.
	extra := func(args ...string) []string {
		if r.vars != "" {
			args = append(args, "-e", r.vars)
		}
		return args
	}
	inv, a, m, ansOut, mdoOut := checkSideBySide(t, mdo, work, orig, conv, extra())
	report, mismatched := compare(a, m)
	t.Logf("--check, ansible-playbook (h1) vs mdo-play (h2):\n%s", report)
	for _, name := range mismatched {
		if _, ok := r.known[name]; !ok {
			t.Errorf("--check: task %q differs (see the log)", name)
		}
	}
	for name, cause := range r.known {
		if !contains(mismatched, name) {
			t.Errorf("--check: task %q is listed as known to differ (%s) but matches now: remove it", name, cause)
		}
	}
	if a.recap != m.recap || a.rc != m.rc {
		if r.knownRecap == "" {
			t.Errorf("--check: recap %s exit %d under ansible-playbook, %s exit %d under mdo-play", a.recap, a.rc, m.recap, m.rc)
		}
	} else if r.knownRecap != "" {
		t.Errorf("--check: recap and exit code match now; drop knownRecap (%s)", r.knownRecap)
	}
	if t.Failed() {
		t.Logf("ansible-playbook output:\n%s\nmdo-play output:\n%s", ansOut, mdoOut)
	}
	if !r.converge {
		return
	}

	// Converge for real on h2, then rerun: nothing may change.
	out, rc = run(t, conv, nil, mdo, extra("-i", inv, "-l", "h2", "site.yml")...)
	first := parseRun(out, rc)
	t.Logf("converge: exit %d, recap %s", rc, first.recap)
	if rc != 0 || first.recap.failed != 0 || first.recap.unreachable != 0 {
		if r.knownConverge == "" {
			t.Errorf("converge: exit %d, recap %s\n%s", rc, first.recap, out)
		}
		return
	}
	out, rc = run(t, conv, nil, mdo, extra("-i", inv, "-l", "h2", "site.yml")...)
	second := parseRun(out, rc)
	t.Logf("rerun: exit %d, recap %s", rc, second.recap)
	if rc != 0 || second.recap.changed != 0 || second.recap.failed != 0 {
		var changed []string
		for _, tr := range second.tasks {
			if tr.status == "changed" {
				changed = append(changed, tr.name)
			}
		}
		if r.knownConverge == "" {
			t.Errorf("rerun: exit %d, recap %s; changed: %q\n%s", rc, second.recap, changed, out)
		}
		return
	}
	if r.knownConverge != "" {
		t.Errorf("converges now: drop knownConverge (%s)", r.knownConverge)
	}
}

// roleWork copies the role at src into a new work directory as orig/NAME
// and writes the same one-role play, site.yml, beside it in orig and in
// conv (where convert --out puts the converted role).
func roleWork(t *testing.T, name, src string) (work, orig, conv string) {
	work = t.TempDir()
	orig, conv = filepath.Join(work, "orig"), filepath.Join(work, "conv")
	if err := copyTree(src, filepath.Join(orig, name)); err != nil {
		t.Fatal(err)
	}
	play := fmt.Sprintf("- hosts: all\n  gather_facts: true\n  become: true\n  roles:\n    - role: %s\n", name)
	for _, d := range []string{orig, conv} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "site.yml"), []byte(play), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return work, orig, conv
}

// checkSideBySide starts two fresh RootOverlay test hosts and runs, at
// the same time, the original role under ansible-playbook --check on h1
// and the converted one under mdo-play --check on h2, with extra
// arguments (-e). It returns the inventory and both runs.
func checkSideBySide(t *testing.T, mdo, work, orig, conv string, extra []string) (inv string, a, m runResult, ansOut, mdoOut string) {
	c := sshtest.StartTWith(t, sshtest.Options{N: 2, Root: sshtest.RootOverlay, Dir: filepath.Join(work, "hosts")})
	inv = filepath.Join(work, "inventory.ini")
	invData, err := os.ReadFile(c.Inventory)
	if err != nil {
		t.Fatal(err)
	}
	invData = append(invData, fmt.Sprintf("\n[testhosts:vars]\nansible_ssh_known_hosts_file=%s\n", c.KnownHosts)...)
	if err := os.WriteFile(inv, invData, 0o600); err != nil {
		t.Fatal(err)
	}
	ansEnv := ansibleEnv(t, work, orig, c.KnownHosts)
	var (
		ansRC int
		done  = make(chan struct{})
	)
	go func() {
		defer close(done)
		ansOut, ansRC = run(t, orig, ansEnv, "ansible-playbook", append([]string{"-i", inv, "-l", "h1", "--check", "site.yml"}, extra...)...)
	}()
	mdoOut, mdoRC := run(t, conv, nil, mdo, append([]string{"-i", inv, "-l", "h2", "--check", "site.yml"}, extra...)...)
	<-done
	return inv, parseRun(ansOut, ansRC), parseRun(mdoOut, mdoRC), ansOut, mdoOut
}

// ansibleEnv is a private ansible.cfg for the test hosts: their
// known_hosts, pipelining, the original roles beside the playbook.
func ansibleEnv(t *testing.T, work, roles, knownHosts string) []string {
	dir := filepath.Join(work, "ansible")
	for _, d := range []string{filepath.Join(dir, "tmp"), filepath.Join(dir, "cp")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	cfg := fmt.Sprintf(`[defaults]
host_key_checking = True
interpreter_python = /usr/bin/python3
retry_files_enabled = False
local_tmp = %s
roles_path = %s

[ssh_connection]
pipelining = True
ssh_args = -o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=%s -o StrictHostKeyChecking=yes
control_path_dir = %s
`, filepath.Join(dir, "tmp"), roles, knownHosts, filepath.Join(dir, "cp"))
	path := filepath.Join(dir, "ansible.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		socks, _ := filepath.Glob(filepath.Join(dir, "cp", "*"))
		for _, s := range socks {
			_ = exec.Command("ssh", "-o", "ControlPath="+s, "-O", "exit", "master").Run()
		}
	})
	return []string{"ANSIBLE_CONFIG=" + path, "ANSIBLE_NOCOLOR=1", "ANSIBLE_FORCE_COLOR=0"}
}

// run runs a command in dir and returns its combined output and exit code
// (-1 when it could not start or timed out). It may run on its own
// goroutine: it reports with t.Errorf only.
func run(t *testing.T, dir string, env []string, name string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var b bytes.Buffer
	cmd.Stdout, cmd.Stderr = &b, &b
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return b.String(), 0
	case ctx.Err() != nil:
		t.Errorf("%s %s: timed out", name, strings.Join(args, " "))
		return b.String(), -1
	case errors.As(err, &ee):
		return b.String(), ee.ExitCode()
	default:
		t.Errorf("%s: %v", name, err)
		return b.String(), -1
	}
}

// recap is one host's PLAY RECAP line.
type recap struct{ ok, changed, unreachable, failed, skipped, rescued, ignored int }

func (r recap) String() string {
	return fmt.Sprintf("ok=%d changed=%d unreachable=%d failed=%d skipped=%d rescued=%d ignored=%d",
		r.ok, r.changed, r.unreachable, r.failed, r.skipped, r.rescued, r.ignored)
}

// taskResult is one task's outcome on the one host of a run.
type taskResult struct {
	name   string // "TASK role : name" or "HANDLER role : name", as printed
	status string // the task's status: ok, changed, skipping, failed, ignored, included, unreachable
	items  int    // per-item result lines
}

type runResult struct {
	tasks []taskResult
	recap recap
	rc    int
}

var (
	headerRE = regexp.MustCompile(`^(TASK|RUNNING HANDLER) \[(.*)\] \*+$`)
	statusRE = regexp.MustCompile(`^(ok|changed|skipping|fatal|failed|included|unreachable|rescued): `)
	recapRE  = regexp.MustCompile(`^\S+\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)\s+rescued=(\d+)\s+ignored=(\d+)`)
)

// rank orders statuses: a task's status is the highest of its lines.
var rank = map[string]int{"skipping": 1, "included": 2, "ok": 3, "changed": 4, "ignored": 5, "rescued": 6, "failed": 7, "unreachable": 8}

// parseRun reads the text output that ansible-playbook and mdo-play share:
// task headers, one status line per host (or per loop item), the recap.
func parseRun(out string, rc int) runResult {
	res := runResult{rc: rc}
	var cur *taskResult
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimRight(line, " \r")
		if m := headerRE.FindStringSubmatch(line); m != nil {
			kind := "TASK"
			if m[1] == "RUNNING HANDLER" {
				kind = "HANDLER"
			}
			res.tasks = append(res.tasks, taskResult{name: kind + " " + m[2]})
			cur = &res.tasks[len(res.tasks)-1]
			continue
		}
		if m := recapRE.FindStringSubmatch(line); m != nil {
			n := make([]int, 7)
			for i := range n {
				n[i], _ = strconv.Atoi(m[i+1])
			}
			res.recap = recap{n[0], n[1], n[2], n[3], n[4], n[5], n[6]}
			cur = nil
			continue
		}
		if cur == nil {
			continue
		}
		if line == "...ignoring" {
			cur.status = "ignored"
			continue
		}
		m := statusRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		st := m[1]
		if st == "fatal" {
			st = "failed"
		}
		if strings.Contains(line, "(item=") {
			cur.items++
		}
		if rank[st] > rank[cur.status] {
			cur.status = st
		}
	}
	return res
}

// compare aligns the two task lists (longest common subsequence of task
// names) and reports every task; it returns the names that differ.
func compare(a, m runResult) (string, []string) {
	n, k := len(a.tasks), len(m.tasks)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, k+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := k - 1; j >= 0; j-- {
			if a.tasks[i].name == m.tasks[j].name {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var b strings.Builder
	var diff []string
	same := 0
	show := func(t taskResult) string {
		if t.items > 0 {
			return fmt.Sprintf("%s (%d items)", t.status, t.items)
		}
		return t.status
	}
	i, j := 0, 0
	for i < n || j < k {
		switch {
		case i < n && j < k && a.tasks[i].name == m.tasks[j].name:
			if show(a.tasks[i]) == show(m.tasks[j]) {
				same++
				fmt.Fprintf(&b, "  = %s: %s\n", a.tasks[i].name, show(a.tasks[i]))
			} else {
				diff = append(diff, a.tasks[i].name)
				fmt.Fprintf(&b, "  ≠ %s: ansible-playbook %s, mdo-play %s\n", a.tasks[i].name, show(a.tasks[i]), show(m.tasks[j]))
			}
			i, j = i+1, j+1
		case j < k && (i == n || lcs[i][j+1] >= lcs[i+1][j]):
			diff = append(diff, m.tasks[j].name)
			fmt.Fprintf(&b, "  + %s: only under mdo-play: %s\n", m.tasks[j].name, show(m.tasks[j]))
			j++
		default:
			diff = append(diff, a.tasks[i].name)
			fmt.Fprintf(&b, "  - %s: only under ansible-playbook: %s\n", a.tasks[i].name, show(a.tasks[i]))
			i++
		}
	}
	fmt.Fprintf(&b, "tasks matching: %d of %d (ansible-playbook) / %d (mdo-play)\n", same, n, k)
	fmt.Fprintf(&b, "recap: ansible-playbook %s exit %d; mdo-play %s exit %d\n", a.recap, a.rc, m.recap, m.rc)
	return b.String(), diff
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// errorLines keeps the lines of a --syntax-check output that say what is
// wrong (everything but the blank and "playbook:" lines).
func errorLines(out string) string {
	var b strings.Builder
	for _, l := range strings.Split(out, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "playbook:") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// findings keeps lint's lines of the given rules.
func findings(out string, rules ...string) string {
	var b strings.Builder
	for _, l := range strings.Split(out, "\n") {
		for _, r := range rules {
			if strings.Contains(l, ": "+r+": ") {
				b.WriteString(l + "\n")
				break
			}
		}
	}
	return b.String()
}

// relative drops the test's temporary directory from paths.
func relative(s, work string) string {
	s = strings.ReplaceAll(s, work+string(filepath.Separator), "")
	return strings.ReplaceAll(s, work, ".")
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if updating() {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("%v (run with -update to create it)", err)
		return
	}
	if string(want) != got {
		t.Errorf("%s differs (run with -update to accept):\n--- want\n%s--- got\n%s", path, want, got)
	}
}

// copyTree copies a directory tree, files and directories only (the roles
// hold no links), as writable copies.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
}
