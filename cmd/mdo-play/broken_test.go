package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// brokenBugs lists corpus files whose expected behaviour (exit 6 before
// any host is touched, the error with file:line:col) the product does not
// have yet; each is skipped with the reason so that CI stays green and the
// gap stays visible. Remove an entry once the loader catches the case.
var brokenBugs = map[string]string{}

// TestBrokenInput runs every file of the broken-input corpus in
// playbook/testdata/broken through the CLI: playbooks against a local
// host, inventories (inv_*) with --list-hosts. Each must exit 6 quickly,
// print nothing on stdout and say exactly what the golden file next to it
// says (rewrite with -update, then review the diff).
func TestBrokenInput(t *testing.T) {
	root := repoRoot(t)
	dir := filepath.Join(root, "playbook/testdata/broken")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		name := e.Name()
		ext := filepath.Ext(name)
		if ext != ".yml" && ext != ".ini" {
			continue // goldens and included files
		}
		n++
		t.Run(name, func(t *testing.T) {
			if why, ok := brokenBugs[name]; ok {
				t.Skip(why)
			}
			path := filepath.Join(dir, name)
			args := []string{"-i", "localhost,", "-c", "local", path}
			if strings.HasPrefix(name, "inv_") {
				args = []string{"-i", path, "--list-hosts", filepath.Join(root, "testdata/playbooks/basic.yml")}
			}
			checkBroken(t, dir, strings.TrimSuffix(name, ext), root, args)
		})
	}
	if n < 20 {
		t.Fatalf("only %d corpus files in %s", n, dir)
	}
}

// TestBrokenGenerated covers inputs too big to commit: a huge playbook
// with its one error on the last line, and nesting far beyond any real
// playbook. Each must fail fast with the position of the error.
func TestBrokenGenerated(t *testing.T) {
	root := repoRoot(t)
	dir := filepath.Join(root, "playbook/testdata/broken")
	cases := []struct {
		name string
		gen  func(b *strings.Builder)
	}{
		{"gen_huge", func(b *strings.Builder) {
			b.WriteString("- hosts: all\n  gather_facts: false\n  tasks:\n")
			for i := range 20000 {
				fmt.Fprintf(b, "    - debug: msg=task%d\n", i)
			}
			b.WriteString("    - debugg: msg=last\n")
		}},
		{"gen_deep_list", func(b *strings.Builder) {
			b.WriteString("- hosts: all\n  vars:\n    x: " + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + "\n  tasks: []\n")
		}},
		{"gen_deep_map", func(b *strings.Builder) {
			b.WriteString("- hosts: all\n  vars:\n    x: " + strings.Repeat("{a: ", 50000) + "1" + strings.Repeat("}", 50000) + "\n  tasks: []\n")
		}},
		{"gen_deep_blocks", func(b *strings.Builder) {
			b.WriteString("- hosts: all\n  gather_facts: false\n  tasks:\n")
			ind := "    "
			for range 200 {
				b.WriteString(ind + "- block:\n")
				ind += "    "
			}
			b.WriteString(ind + "- debugg: msg=deep\n")
		}},
		{"gen_long_line", func(b *strings.Builder) {
			b.WriteString("- hosts: all\n  gather_facts: false\n  tasks:\n    - debug:\n        msg: \"" + strings.Repeat("x", 8<<20) + "\"\n      bogus: 1\n")
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			tc.gen(&b)
			tmp := t.TempDir()
			path := filepath.Join(tmp, tc.name+".yml")
			if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
				t.Fatal(err)
			}
			checkBroken(t, dir, tc.name, tmp, []string{"-i", "localhost,", "-c", "local", path})
		})
	}
}

// checkBroken runs args, expects exit 6 within a time limit and nothing on
// stdout, and compares stderr (with base shown as ROOT) with dir/NAME.golden.
func checkBroken(t *testing.T, dir, name, base string, args []string) {
	t.Helper()
	start := time.Now()
	stdout, stderr, code := runCLI(t, map[string]string{"HOME": t.TempDir()}, args...)
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("took %v to reject", took)
	}
	if code != exitParse {
		t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitParse, stdout, stderr)
	}
	if stdout != "" && !strings.Contains(strings.Join(args, " "), "--list-hosts") {
		t.Errorf("a broken playbook started a run:\n%s", stdout)
	}
	got := strings.ReplaceAll(stderr, base, "ROOT")
	if len(got) > 4000 {
		got = got[:4000] + "...(cut)\n"
	}
	golden := filepath.Join(dir, name+".golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if string(want) != got {
		t.Errorf("stderr differs from %s (run go test -update and review the diff):\n--- want\n%s\n--- got\n%s", golden, want, got)
	}
}
