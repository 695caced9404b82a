package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// TestCompatWithAnsible runs the same scenarios (handlers, blocks, variable
// precedence; ported in spirit from ansible/ansible's integration targets)
// with ansible-playbook and with mdo-play, and requires the same tasks, the
// same per-host outcomes, the same debug output and the same recap. The
// playbooks differ only in template syntax. It needs ansible-core
// (`apt-get install ansible-core`) and is skipped without it.
func TestCompatWithAnsible(t *testing.T) {
	ansible, err := exec.LookPath("ansible-playbook")
	if err != nil {
		t.Skip("ansible-playbook not installed (apt-get install ansible-core); compatibility not compared")
	}
	root := repoRoot(t)
	base := filepath.Join(root, "testdata/compat")
	cases := []struct {
		name  string
		inv   string
		extra []string
		code  int
	}{
		{"handlers", "inventory.ini", nil, 2},
		{"blocks", "inventory.ini", nil, 2},
		{"precedence", "precedence/inventory.ini", []string{"-e", "p11=extra"}, 0},
		{"loops", "inventory.ini", nil, 0},
		{"includes", "inventory.ini", nil, 0},
		{"rollout", "inventory.ini", nil, 2},
		{"template", "inventory.ini", []string{"-e", "base=BASE", "--diff"}, 0},
		{"files", "inventory.ini", []string{"-e", "base=BASE", "--diff"}, 0},
		{"files", "inventory.ini", []string{"-e", "base=BASE", "--check"}, 2},
		{"policy", "inventory.ini", nil, 2},
		{"loops", "inventory.ini", []string{"--tags", "deploy"}, 0},
		{"loops", "inventory.ini", []string{"--skip-tags", "deploy", "--check"}, 0},
		{"handlers", "inventory.ini", []string{"--check"}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			inv := filepath.Join(base, tc.inv)
			// BASE in the arguments is a scratch directory of each tool's
			// own, so that both start from the same (empty) state.
			extra := func() []string {
				dir := t.TempDir()
				out := make([]string, len(tc.extra))
				for i, a := range tc.extra {
					out[i] = strings.ReplaceAll(a, "BASE", dir)
				}
				return out
			}
			args := append([]string{"-f", "1", "-i", inv, filepath.Join(base, tc.name, "ansible.yml")}, extra()...)
			cmd := exec.Command(ansible, args...)
			cmd.Env = append(os.Environ(), "ANSIBLE_NOCOLOR=1", "ANSIBLE_HOST_KEY_CHECKING=0", "ANSIBLE_RETRY_FILES_ENABLED=0",
				"ANSIBLE_LOCALHOST_WARNING=0", "ANSIBLE_DEPRECATION_WARNINGS=0")
			var aout bytes.Buffer
			cmd.Stdout = &aout
			err := cmd.Run()
			acode := 0
			if ee, ok := err.(*exec.ExitError); ok {
				acode = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			margs := append([]string{"-f", "1", "-i", inv, filepath.Join(base, tc.name, "mdo.yml")}, extra()...)
			mout, merr, mcode := runCLI(t, map[string]string{"HOME": t.TempDir()}, margs...)
			if acode != tc.code || mcode != tc.code {
				t.Errorf("exit codes: ansible-playbook %d, mdo-play %d, want %d\n%s", acode, mcode, tc.code, merr)
			}
			want, got := outline(aout.String()), outline(mout)
			if want != got {
				t.Errorf("outcomes differ\n--- ansible-playbook\n%s\n--- mdo-play\n%s", want, got)
			}
		})
	}
}

var outlineKeep = regexp.MustCompile(`^(PLAY \[|TASK \[|RUNNING HANDLER \[|NO MORE HOSTS|ok: |changed: |skipping: |fatal: |failed: |\.\.\.ignoring|\s+"(msg|p\d+)": |\S+\s+: ok=|--- before|\+\+\+ after|@@ |[-+][^-+ ])`)

// outline keeps what must match between the two tools: banners, per-host
// statuses (without result details), debug values and the recap, with the
// lines of each task sorted (hosts may finish in any order).
func outline(out string) string {
	var sections [][]string
	cur := []string{}
	flush := func() {
		sort.Strings(cur[min(1, len(cur)):])
		sections = append(sections, cur)
		cur = []string{}
	}
	for _, line := range strings.Split(out, "\n") {
		if !outlineKeep.MatchString(line) {
			continue
		}
		line = strings.TrimRight(line, " *")
		if i := strings.Index(line, " => {"); i > 0 && !strings.HasSuffix(line, "{") {
			line = line[:i]
		}
		line = strings.TrimSuffix(line, " => {")
		// Diff headers name paths that differ between the two runs.
		for _, h := range []string{"--- before", "+++ after"} {
			if strings.HasPrefix(line, h) {
				line = h
			}
		}
		if strings.HasPrefix(line, "PLAY") || strings.HasPrefix(line, "TASK") || strings.HasPrefix(line, "RUNNING") || strings.HasPrefix(line, "NO MORE") {
			flush()
		}
		cur = append(cur, strings.TrimSpace(line))
	}
	flush()
	var b strings.Builder
	for _, s := range sections {
		for _, l := range s {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}
