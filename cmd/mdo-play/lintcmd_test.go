package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// runLint runs `mdo-play lint ARGS...` in-process the way app.main does
// (argument reordering, error printing, exit codes).
func runLint(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	a := &app{ctx: context.Background(), stdin: strings.NewReader(""), stdout: &out, stderr: &errb,
		getenv: func(string) string { return "" }}
	cliApp := &cli.App{
		Name:           "mdo-play",
		Writer:         &out,
		ErrWriter:      &errb,
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError:   func(c *cli.Context, err error, isSub bool) error { return withCode(exitUsage, err) },
		Commands:       []*cli.Command{a.lintCommand()},
	}
	err := cliApp.RunContext(context.Background(), lintArgs(append([]string{"mdo-play", "lint"}, args...)))
	if err != nil {
		code = exitCodeOf(err)
		if !errors.Is(err, errSilent) {
			fmt.Fprintf(&errb, "ERROR! %v\n", err)
		}
	}
	return out.String(), errb.String(), code
}

func lintWriteFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLintCommand(t *testing.T) {
	dir := t.TempDir()
	clean := lintWriteFile(t, dir, "clean.yml", `- name: clean
  hosts: all
  tasks:
    - name: say hi
      debug:
        msg: "{{ .inventory_hostname }}"
`)
	findings := lintWriteFile(t, dir, "findings.yml", `- name: findings
  hosts: all
  tasks:
    - debug:
        msg: "{{ .app_port }}"
    - name: octal
      file:
        path: /tmp/x
        state: touch
        mode: 644
`)
	bad := lintWriteFile(t, dir, "bad.yml", "- name: x\n  hosts: all\n  tasks:\n\t- debug:\n")
	inv := lintWriteFile(t, dir, "hosts.ini", "web1 app_port=80\n")
	tests := []struct {
		name     string
		args     []string
		code     int
		stdout   []string // lines expected in this order
		noStdout []string
		stderr   string
	}{
		{name: "clean", args: []string{clean}, code: 0},
		{name: "findings", args: []string{findings}, code: exitFindings, stdout: []string{
			findings + ":4:7: name-missing: ",
			findings + `:5:14: var-undefined: variable "app_port"`,
			findings + ":10:15: risky-octal: mode: 644",
		}},
		{name: "skip after the playbook", args: []string{findings, "--skip", "name-missing,risky-octal"}, code: exitFindings,
			stdout: []string{"var-undefined"}, noStdout: []string{"name-missing", "risky-octal"}},
		{name: "inventory defines", args: []string{"-i", inv, findings}, code: exitFindings, noStdout: []string{"var-undefined"}},
		{name: "extra vars define", args: []string{"-e", "app_port=1", findings}, code: exitFindings, noStdout: []string{"var-undefined"}},
		{name: "all skipped", args: []string{"--skip", "name-missing", "--skip", "risky-octal", "--skip", "var-undefined", findings}, code: 0},
		{name: "not YAML", args: []string{bad, findings}, code: exitParse, stdout: []string{"name-missing"}, stderr: "invalid YAML"},
		{name: "missing playbook", args: []string{filepath.Join(dir, "nosuch.yml")}, code: exitParse, stderr: "could not be found"},
		{name: "unknown rule", args: []string{"--skip", "nosuch", clean}, code: exitUsage, stderr: "unknown rule"},
		{name: "bad output", args: []string{"--output", "xml", clean}, code: exitUsage, stderr: "--output"},
		{name: "no playbook", code: exitUsage, stderr: "no playbook"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runLint(t, tc.args...)
			if code != tc.code {
				t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, out, errOut)
			}
			rest := out
			for _, want := range tc.stdout {
				i := strings.Index(rest, want)
				if i < 0 {
					t.Fatalf("stdout lacks %q (in order):\n%s", want, out)
				}
				rest = rest[i+len(want):]
			}
			for _, not := range tc.noStdout {
				if strings.Contains(out, not) {
					t.Errorf("stdout has %q:\n%s", not, out)
				}
			}
			if !strings.Contains(errOut, tc.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderr, errOut)
			}
			if tc.code == 0 && out != "" {
				t.Errorf("a clean run printed:\n%s", out)
			}
		})
	}
}

func TestLintCommandJSON(t *testing.T) {
	dir := t.TempDir()
	p := lintWriteFile(t, dir, "site.yml", `- name: json
  hosts: all
  tasks:
    - command: apt-get install -y nginx
`)
	tests := []struct {
		name  string
		args  []string
		code  int
		rules []string
	}{
		{name: "findings", args: []string{"--output", "json", p}, code: exitFindings, rules: []string{"command-instead-of-module", "name-missing"}},
		{name: "none", args: []string{"--output", "json", "--skip", "command-instead-of-module", "--skip", "name-missing", p}, code: 0, rules: []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runLint(t, tc.args...)
			if code != tc.code {
				t.Fatalf("exit code %d, want %d: %s", code, tc.code, errOut)
			}
			var got []map[string]any
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("not a JSON array: %v\n%s", err, out)
			}
			if len(got) != len(tc.rules) {
				t.Fatalf("%d findings, want %d:\n%s", len(got), len(tc.rules), out)
			}
			for i, f := range got {
				for _, k := range []string{"file", "line", "col", "rule", "message"} {
					if _, ok := f[k]; !ok {
						t.Errorf("finding %d lacks %q: %v", i, k, f)
					}
				}
				if f["rule"] != tc.rules[i] || f["file"] != p || f["line"] != float64(4) {
					t.Errorf("finding %d = %v, want rule %s at %s:4", i, f, tc.rules[i], p)
				}
			}
		})
	}
}
