package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// runCLI runs the command line in-process and returns its output and exit code.
func runCLI(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	if _, ok := env["MDO_RETRY_FILES_SAVE_PATH"]; !ok {
		// Retry files go to a temporary directory, never into testdata.
		env["MDO_RETRY_FILES_SAVE_PATH"] = t.TempDir()
	}
	getenv := func(k string) string { return env[k] }
	code = run(context.Background(), append([]string{"mdo-play"}, args...), strings.NewReader(""), &out, &errb, getenv)
	return out.String(), errb.String(), code
}

// scrub removes what changes from run to run (times, durations, paths).
var scrubs = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`"(start|end)": "[^"]*"`), `"$1": "X"`},
	{regexp.MustCompile(`"delta": "[^"]*"`), `"delta": "X"`},
	{regexp.MustCompile(`"time":"[^"]*"`), `"time":"X"`},
	{regexp.MustCompile(`"duration_ms":[0-9.e+-]+`), `"duration_ms":0`},
	{regexp.MustCompile(`"(start|end|delta)":"[^"]*"`), `"$1":"X"`},
	// -v names the machine's open-files limit (issue 14), which differs
	// between machines.
	{regexp.MustCompile(`(?m)^open files limit \(RLIMIT_NOFILE\): .*\n`), ``},
	// A banner's stars depend on the length of the path it names.
	{regexp.MustCompile(`(?m)^(PLAYBOOK: .*?) \*+$`), `$1 ***`},
}

func scrub(s, root string) string {
	s = strings.ReplaceAll(s, root, "ROOT")
	for _, r := range scrubs {
		s = r.re.ReplaceAllString(s, r.with)
	}
	return s
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// checkGolden compares got with testdata/golden/NAME (rewritten with -update).
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join(repoRoot(t), "testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if string(want) != got {
		t.Errorf("output differs from %s (run go test -update and review the diff):\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}

type goldenCase struct {
	name string
	args []string
	code int
	ssh  bool // the case runs over SSH too, against the same golden file
}

// goldenCases are the end-to-end cases; inv is the inventory with web1,
// web2 and db1 (local, or the SSH test hosts).
func goldenCases(root, inv string) []goldenCase {
	pb := func(name string) string { return filepath.Join(root, "testdata/playbooks", name) }
	bad := func(name string) string { return filepath.Join(root, "testdata/bad", name) }
	return []goldenCase{
		{"basic", []string{"-i", inv, pb("basic.yml")}, 0, true},
		{"basic_verbose", []string{"-i", inv, pb("basic.yml"), "-v", "--limit", "web1"}, 0, true},
		{"basic_json", []string{"-i", inv, pb("basic.yml"), "--output", "json", "-l", "web1"}, 0, true},
		{"failures", []string{"-i", inv, pb("failures.yml")}, 2, true},
		{"blocks", []string{"-i", inv, pb("blocks.yml")}, 0, true},
		{"undefined", []string{"-i", inv, pb("undefined.yml")}, 2, true},
		{"jinja", []string{"-i", inv, pb("jinja.yml")}, 6, true},
		{"tags_a", []string{"-i", inv, pb("tags.yml"), "--tags", "a"}, 0, true},
		{"tags_skip", []string{"-i", inv, pb("tags.yml"), "--skip-tags", "a,always"}, 0, true},
		{"tags_never", []string{"-i", inv, pb("tags.yml"), "-t", "debug"}, 0, true},
		{"precedence", []string{"-i", filepath.Join(root, "testdata/precedence/inv/hosts.ini"), filepath.Join(root, "testdata/precedence/play/site.yml"), "-e", "lvl_extra=extra"}, 0, false},
		{"rollout_serial_gate", []string{"-i", inv, pb("rollout.yml")}, 2, true},
		{"serial_list", []string{"-i", inv, pb("serial_list.yml")}, 0, true},
		{"any_errors_fatal", []string{"-i", inv, pb("policy.yml")}, 2, true},
		{"once_delegate_retries", []string{"-i", inv, pb("once.yml"), "-e", "scratch=SCRATCH"}, 0, true},
		{"actions", []string{"-i", inv, pb("actions.yml"), "-e", "scratch=SCRATCH"}, 0, true},
		{"strategy_free", []string{"-i", inv, pb("free.yml")}, 0, true},
		{"roles_includes", []string{"-i", inv, filepath.Join(root, "testdata/roles/site.yml")}, 0, true},
		{"facts", []string{"-i", inv, pb("facts.yml")}, 0, true},
		{"sections_force_handlers", []string{"-i", inv, filepath.Join(root, "testdata/keywords/sections.yml")}, 2, true},
		{"unreachable", []string{"-i", filepath.Join(root, "testdata/keywords/unreachable.ini"), filepath.Join(root, "testdata/keywords/unreachable.yml"), "-T", "2"}, 4, false},
		{"start_at_task", []string{"-i", inv, filepath.Join(root, "testdata/keywords/startat.yml"), "--start-at-task", "second"}, 0, true},
		{"check", []string{"-i", inv, pb("check.yml"), "--check"}, 0, true},
		{"extravars", []string{"-i", inv, pb("extravars.yml"), "-e", "who=extra", "-e", `{"env": "prod"}`}, 0, true},
		{"flags_after_playbook", []string{pb("extravars.yml"), "-i", inv, "-e", "who=late"}, 0, true},
		{"list_tasks", []string{"-i", inv, pb("basic.yml"), "--list-tasks"}, 0, false},
		{"list_hosts", []string{"-i", inv, pb("failures.yml"), "--list-hosts", "-l", "web2"}, 0, false},
		{"list_tags", []string{"-i", inv, pb("tags.yml"), "--list-tags"}, 0, false},
		{"slice_1_of_2", []string{"-i", inv, pb("serial_list.yml"), "--list-hosts", "--slice", "1/2"}, 0, false},
		{"slice_2_of_2", []string{"-i", inv, pb("serial_list.yml"), "--slice", "2/2"}, 0, true},
		{"slice_bad", []string{"-i", inv, pb("serial_list.yml"), "--slice", "3/2"}, 5, false},
		{"syntax_check", []string{"-i", inv, pb("basic.yml"), "--syntax-check"}, 0, false},
		{"no_hosts_matched", []string{"-i", inv, pb("extravars.yml"), "-e", "x=1", "--limit", "web1:nosuch"}, 0, true},
		{"limit_leaves_nothing", []string{"-i", inv, pb("basic.yml"), "--limit", "nosuch"}, 1, false},
		{"bad_unknown_keys", []string{"-i", inv, bad("unknown_keys.yml")}, 6, false},
		{"bad_tabs", []string{"-i", inv, bad("tabs.yml")}, 6, false},
		{"bad_notalist", []string{"-i", inv, bad("notalist.yml")}, 6, false},
		{"bad_syntax", []string{"-i", inv, bad("syntax.yml")}, 6, false},
		{"bad_duplicate", []string{"-i", inv, bad("duplicate.yml")}, 6, false},
		{"bad_missing_playbook", []string{"-i", inv, bad("nosuch.yml")}, 6, false},
		{"bad_missing_inventory", []string{"-i", bad("nosuch.ini"), pb("basic.yml")}, 6, false},
		{"bad_flag", []string{"--no-such-flag", pb("basic.yml")}, 5, false},
		{"bad_no_playbook", []string{"-i", inv}, 5, false},
		{"adhoc_command", []string{"adhoc", "web", "-i", inv, "-a", "echo hi"}, 0, true},
		{"adhoc_failed", []string{"adhoc", "-i", inv, "web1", "-m", "shell", "-a", "echo out; echo err >&2; exit 3"}, 2, true},
		{"adhoc_ping", []string{"adhoc", "-i", inv, "db1", "-m", "ping"}, 0, true},
		{"adhoc_bad_arg", []string{"adhoc", "-i", inv, "db1", "-m", "stat", "-a", "pth=/x"}, 6, false},
		{"inventory_graph", []string{"inventory", "-i", inv, "--graph"}, 0, false},
		{"inventory_host", []string{"inventory", "-i", inv, "--host", "web1"}, 0, false},
		{"inventory_list", []string{"inventory", "--list", "-i", inv}, 0, false},
	}
}

// runGolden runs one case and compares its output with the golden file;
// rename maps strings of this run to what the golden file says.
func runGolden(t *testing.T, tc goldenCase, root string, rename map[string]string) {
	t.Helper()
	args := append([]string(nil), tc.args...)
	for i, a := range args {
		if strings.Contains(a, "SCRATCH") {
			args[i] = strings.ReplaceAll(a, "SCRATCH", t.TempDir())
		}
	}
	switch {
	case len(args) > 0 && args[0] == "adhoc":
		args = append([]string{"adhoc", "-f", "1"}, args[1:]...)
	case len(args) == 0 || args[0] != "inventory":
		args = append([]string{"-f", "1"}, args...) // one host at a time: a stable order
	}
	retries := t.TempDir()
	stdout, stderr, code := runCLI(t, map[string]string{"HOME": t.TempDir(), "MDO_RETRY_FILES_SAVE_PATH": retries}, args...)
	stderr = strings.ReplaceAll(stderr, retries, "RETRYDIR")
	if code != tc.code {
		t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout, stderr)
	}
	got := fmt.Sprintf("$ mdo-play %s\n--- stdout\n%s--- stderr\n%s--- exit %d\n", strings.Join(tc.args, " "), stdout, stderr, code)
	for from, to := range rename {
		got = strings.ReplaceAll(got, from, to)
	}
	checkGolden(t, tc.name+".golden", scrub(got, root))
}

func TestGolden(t *testing.T) {
	root := repoRoot(t)
	inv := filepath.Join(root, "testdata/inventories/local.ini")
	for _, tc := range goldenCases(root, inv) {
		t.Run(tc.name, func(t *testing.T) { runGolden(t, tc, root, nil) })
	}
}
