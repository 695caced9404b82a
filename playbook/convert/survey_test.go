//go:build realworld

package convert_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestSurveyRoles measures issue 12's targets on roles that are not in the
// repository: every directory under $MDO_SURVEY_ROLES is a role, converted,
// loaded and run in --check under mdo-play and, as written, under
// ansible-playbook on identical fresh RootOverlay hosts, as TestRealRoles
// does for the six roles it pins. Nothing is pinned here: a role that does
// not load, or a task whose --check status differs, fails the subtest, and
// the summary table (one row per role) is logged and, with
// $MDO_SURVEY_OUT, written there. `make survey SURVEY_ROLES=DIR` runs it.
func TestSurveyRoles(t *testing.T) {
	dir := os.Getenv("MDO_SURVEY_ROLES")
	if dir == "" {
		t.Skip("MDO_SURVEY_ROLES names no directory of roles")
	}
	if os.Geteuid() != 0 {
		skipOrFail(t, "the survey needs root (RootOverlay test hosts)")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	mdo := mdoPlay(t)
	var rows []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		name, src := e.Name(), filepath.Join(dir, e.Name())
		t.Run(name, func(t *testing.T) { rows = append(rows, surveyRole(t, mdo, name, src)) })
	}
	sort.Strings(rows)
	table := "| role | tasks | load errors | unconverted | --check tasks matching | recap and exit code |\n|---|---|---|---|---|---|\n" + strings.Join(rows, "\n") + "\n"
	t.Logf("survey:\n%s", table)
	if out := os.Getenv("MDO_SURVEY_OUT"); out != "" {
		if err := os.WriteFile(out, []byte(table), 0o644); err != nil {
			t.Error(err)
		}
	}
}

// surveyRole converts, loads and compares one role; it returns its row of
// the summary table.
func surveyRole(t *testing.T, mdo, name, src string) string {
	work, orig, conv := roleWork(t, name, src)
	out, rc := run(t, work, nil, mdo, "convert", "--out", filepath.Join(conv, name), filepath.Join(orig, name))
	if rc != 0 && rc != 2 {
		t.Errorf("convert: exit %d\n%s", rc, out)
	}
	lintOut, _ := run(t, conv, nil, mdo, "lint", "site.yml")
	unconverted := strings.Count(findings(lintOut, "convert-marker"), "\n")
	loadErrs := strings.Count(findings(lintOut, "load-error"), "\n")
	tasks := countTasks(filepath.Join(conv, name))
	out, rc = run(t, conv, nil, mdo, "-i", "localhost,", "--syntax-check", "site.yml")
	if rc != 0 {
		t.Errorf("converted role does not load (--syntax-check exit %d):\n%s", rc, out)
		return fmt.Sprintf("| %s | %d | %d (syntax-check exit %d) | %d | – | – |", name, tasks, loadErrs, rc, unconverted)
	}

	_, a, m, ansOut, mdoOut := checkSideBySide(t, mdo, work, orig, conv, nil)
	report, mismatched := compare(a, m)
	t.Logf("--check, ansible-playbook (h1) vs mdo-play (h2):\n%s", report)
	for _, task := range mismatched {
		t.Errorf("--check: task %q differs", task)
	}
	recapSame := a.recap == m.recap && a.rc == m.rc
	if !recapSame {
		t.Errorf("--check: recap %s exit %d under ansible-playbook, %s exit %d under mdo-play", a.recap, a.rc, m.recap, m.rc)
	}
	if t.Failed() {
		t.Logf("ansible-playbook output:\n%s\nmdo-play output:\n%s", ansOut, mdoOut)
	}
	same := "same"
	if !recapSame {
		same = fmt.Sprintf("ansible %s exit %d; mdo-play %s exit %d", a.recap, a.rc, m.recap, m.rc)
	}
	return fmt.Sprintf("| %s | %d | %d | %d | %d of %d | %s |", name, tasks, loadErrs, unconverted, len(a.tasks)-len(mismatched), len(a.tasks), same)
}

// countTasks counts the tasks in a role's tasks/ and handlers/ files: list
// items at the top level of each YAML file (a rough count, for the table).
func countTasks(role string) int {
	n := 0
	for _, sub := range []string{"tasks", "handlers"} {
		_ = filepath.WalkDir(filepath.Join(role, sub), func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !(strings.HasSuffix(p, ".yml") || strings.HasSuffix(p, ".yaml")) {
				return nil
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return nil
			}
			for _, line := range strings.Split(string(data), "\n") {
				if strings.HasPrefix(line, "- ") {
					n++
				}
			}
			return nil
		})
	}
	return n
}
