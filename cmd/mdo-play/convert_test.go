package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mdo-play/mdo-play/playbook/convert"
	"github.com/mdo-play/mdo-play/templates"
)

// convertTree writes a small role tree and returns its root.
func convertTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, text := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func readTree(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(root, p)
		out[rel] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// A role with convertible Jinja only, one construct left for a human, and
// files that are not converted.
var (
	roleClean = map[string]string{
		"tasks/main.yml":        "---\n# install\n- name: Install {{ pkg }}\n  apt:\n    name: \"{{ pkg }}\"\n  when: pkg_state == 'present'\n",
		"defaults/main.yml":     "pkg: nginx   # the package\npkg_state: present\n",
		"templates/app.conf.j2": "name {{ pkg }}\n",
		"files/static.conf":     "literal {{ not_a_template }}\n",
		"README.md":             "Use {{ pkg }}.\n",
	}
	roleLeft = map[string]string{
		"tasks/main.yml": "- name: odd\n  debug:\n    msg: \"{{ pkg | nosuchfilter }}\"\n",
	}
)

func TestConvertDiff(t *testing.T) {
	root := convertTree(t, roleClean)
	before := readTree(t, root)
	stdout, stderr, code := runCLI(t, map[string]string{}, "convert", root)
	if code != 0 {
		t.Fatalf("exit %d, want 0; stderr:\n%s", code, stderr)
	}
	tasks := filepath.Join(root, "tasks/main.yml")
	for _, want := range []string{
		"diff " + tasks + ".orig " + tasks + "\n--- " + tasks + ".orig\n+++ " + tasks + "\n",
		"-  when: pkg_state == 'present'\n",
		"+  when: eq .pkg_state \"present\"\n",
		"+name {{ .pkg }}\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("diff lacks %q:\n%s", want, stdout)
		}
	}
	for _, not := range []string{"README.md", "static.conf", "defaults/main.yml"} {
		if strings.Contains(stdout, not) {
			t.Errorf("diff shows %s, which must not change:\n%s", not, stdout)
		}
	}
	if after := readTree(t, root); !equalTrees(before, after) {
		t.Error("-d changed files")
	}
	// -d is the default, and may be given.
	stdout2, _, _ := runCLI(t, map[string]string{}, "convert", "-d", root)
	if stdout2 != stdout {
		t.Errorf("-d differs from the default:\n%s", stdout2)
	}
}

func equalTrees(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestConvertWrite(t *testing.T) {
	root := convertTree(t, roleClean)
	if err := os.Chmod(filepath.Join(root, "tasks/main.yml"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := runCLI(t, map[string]string{}, "convert", root, "-w"); code != 0 {
		t.Fatalf("exit %d, want 0; stderr:\n%s", code, stderr)
	}
	got := readTree(t, root)
	wantTasks := "---\n# install\n- name: Install {{ .pkg }}\n  apt:\n    name: \"{{ .pkg }}\"\n  when: eq .pkg_state \"present\"\n"
	if got["tasks/main.yml"] != wantTasks {
		t.Errorf("tasks/main.yml:\n%s\nwant:\n%s", got["tasks/main.yml"], wantTasks)
	}
	if got["files/static.conf"] != roleClean["files/static.conf"] || got["README.md"] != roleClean["README.md"] {
		t.Error("-w changed a file that is not converted")
	}
	fi, err := os.Stat(filepath.Join(root, "tasks/main.yml"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode after -w: %v, %v; want 0600", fi.Mode(), err)
	}
	entries, _ := os.ReadDir(filepath.Join(root, "tasks"))
	if len(entries) != 1 {
		t.Errorf("-w left files behind in tasks/: %v", entries)
	}
	// Converting twice changes nothing.
	stdout, _, code := runCLI(t, map[string]string{}, "convert", root)
	if code != 0 || stdout != "" {
		t.Errorf("second conversion: exit %d, diff:\n%s", code, stdout)
	}
}

func TestConvertOut(t *testing.T) {
	root := convertTree(t, roleClean)
	out := filepath.Join(t.TempDir(), "copy")
	stdout, stderr, code := runCLI(t, map[string]string{}, "convert", "--out", out, root)
	if code != 0 || stdout != "" {
		t.Fatalf("exit %d, stdout %q; stderr:\n%s", code, stdout, stderr)
	}
	got := readTree(t, out)
	if len(got) != len(roleClean) {
		t.Errorf("copy has %d files, want %d: %v", len(got), len(roleClean), got)
	}
	if got["templates/app.conf.j2"] != "name {{ .pkg }}\n" {
		t.Errorf("template: %q", got["templates/app.conf.j2"])
	}
	for _, same := range []string{"files/static.conf", "README.md", "defaults/main.yml"} {
		if got[same] != roleClean[same] {
			t.Errorf("%s changed in the copy: %q", same, got[same])
		}
	}
	if !equalTrees(readTree(t, root), roleClean) {
		t.Error("--out changed the input tree")
	}
	// The copy converts to itself.
	if stdout, _, code := runCLI(t, map[string]string{}, "convert", out); code != 0 || stdout != "" {
		t.Errorf("converting the copy: exit %d, diff:\n%s", code, stdout)
	}
	// Several paths go to DIR/BASENAME each.
	other := convertTree(t, roleLeft)
	out2 := filepath.Join(t.TempDir(), "many")
	runCLI(t, map[string]string{}, "convert", "--out", out2, root, other)
	for _, p := range []string{filepath.Join(filepath.Base(root), "tasks/main.yml"), filepath.Join(filepath.Base(other), "tasks/main.yml")} {
		if _, err := os.Stat(filepath.Join(out2, p)); err != nil {
			t.Errorf("several paths: %v", err)
		}
	}
}

func TestConvertExitCodes(t *testing.T) {
	tests := []struct {
		name   string
		files  map[string]string
		args   []string
		code   int
		stderr []string
	}{
		{name: "all converted", files: roleClean, code: 0},
		{name: "nothing to convert", files: map[string]string{"tasks/main.yml": "- debug: msg=hi\n"}, code: 0},
		{name: "left for a human", files: roleLeft, code: 2,
			stderr: []string{"tasks/main.yml:3:", ": {{ pkg | nosuchfilter }}: "}},
		{name: "bad YAML", files: map[string]string{"tasks/main.yml": "- name: [x\n", "tasks/ok.yml": "- debug: msg={{ x }}\n"}, code: 6,
			stderr: []string{"tasks/main.yml:1: invalid YAML"}},
		{name: "missing path", files: roleClean, args: []string{"no/such/dir"}, code: 6, stderr: []string{"no/such/dir"}},
		{name: "-w and --out", files: roleClean, args: []string{"-w", "--out", "x"}, code: 5, stderr: []string{"mutually exclusive"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := convertTree(t, tc.files)
			args := append([]string{"convert", root}, tc.args...)
			_, stderr, code := runCLI(t, map[string]string{}, args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tc.code, stderr)
			}
			for _, want := range tc.stderr {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
		})
	}
}

// TestConvertLeftMarked: what is left stays, marked for lint, and a second
// run neither changes it nor adds a second marker.
func TestConvertLeftMarked(t *testing.T) {
	root := convertTree(t, roleLeft)
	if _, _, code := runCLI(t, map[string]string{}, "convert", "-w", root); code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
	got := readTree(t, root)["tasks/main.yml"]
	if !strings.Contains(got, "    # mdo-convert: ") || !strings.Contains(got, "msg: \"{{ pkg | nosuchfilter }}\"") {
		t.Errorf("no marker above the construct left:\n%s", got)
	}
	stdout, _, code := runCLI(t, map[string]string{}, "convert", root)
	if code != 2 || stdout != "" {
		t.Errorf("second run: exit %d, diff:\n%s", code, stdout)
	}
	lintOut, _, code := runCLI(t, map[string]string{}, "lint", "--skip", "var-undefined", filepath.Join(root, "tasks/main.yml"))
	if code != 2 || !strings.Contains(lintOut, ":3:5: convert-marker: ") {
		t.Errorf("lint: exit %d, output:\n%s", code, lintOut)
	}
}

// copyTree copies the regular files and directories under src to dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// realRoleLoadErrors is, per role in ../shared/realworld, how many load
// errors --syntax-check may still report after conversion. docker's are
// engine features not there yet: package's allow_downgrade and service's
// daemon_reload arguments, notify on a block, the getent module. Lower
// them as the engine grows; the test fails when a role gets worse.
var realRoleLoadErrors = map[string]int{
	"davidwittman-redis":   0,
	"geerlingguy-docker":   5,
	"geerlingguy-firewall": 0,
	"geerlingguy-java":     0,
	"geerlingguy-mysql":    0,
	"geerlingguy-nginx":    0,
}

// TestConvertRealRoles converts the six public roles the project keeps as
// real content: each converts with nothing left for a human, converting the
// result again changes nothing, -w gives the same files as --out, and the
// converted role loads under --syntax-check with at most its known number
// of load errors.
func TestConvertRealRoles(t *testing.T) {
	real := realRoles(t)
	for name, budget := range realRoleLoadErrors {
		t.Run(name, func(t *testing.T) {
			tmp := t.TempDir()
			src := filepath.Join(tmp, "src", name)
			copyTree(t, filepath.Join(real, name), src)
			roles := filepath.Join(tmp, "roles")
			out := filepath.Join(roles, name)
			_, stderr, code := runCLI(t, map[string]string{}, "convert", "--out", out, src)
			if code != 0 {
				t.Fatalf("convert: exit %d, want 0 (everything converted); stderr:\n%s", code, stderr)
			}
			left := strings.Count(stderr, "\n")
			if stdout, _, _ := runCLI(t, map[string]string{}, "convert", out); stdout != "" {
				t.Errorf("converting the converted role changes it:\n%s", stdout)
			}
			if _, _, code := runCLI(t, map[string]string{}, "convert", "-w", src); code != 0 && code != 2 {
				t.Errorf("convert -w: exit %d", code)
			}
			if got, want := readTree(t, src), readTree(t, out); !equalTrees(got, want) {
				t.Error("convert -w and --out give different files")
			}
			site := filepath.Join(tmp, "site.yml")
			if err := os.WriteFile(site, []byte("- hosts: all\n  gather_facts: false\n  roles: ["+name+"]\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			stdout, stderr, _ := runCLI(t, map[string]string{"MDO_ROLES_PATH": roles}, "-i", "h1,", "--syntax-check", site)
			var errs []string
			for _, l := range strings.Split(stdout+stderr, "\n") {
				if loadErrorRE.MatchString(l) {
					errs = append(errs, strings.ReplaceAll(l, tmp, "TMP"))
				}
			}
			// The converted template files parse as Go templates, with no
			// Jinja statement left in them.
			eng := templates.New()
			for rel, text := range readTree(t, out) {
				if convert.Classify(out, rel) != convert.Template {
					continue
				}
				if err := eng.Check(text); err != nil {
					errs = append(errs, fmt.Sprintf("%s: %v", rel, err))
				} else if strings.Contains(text, "{%") {
					errs = append(errs, rel+": a Jinja statement is left")
				}
			}
			t.Logf("%s: %d construct(s) left, %d load error(s)\n%s", name, left, len(errs), strings.Join(errs, "\n"))
			if len(errs) > budget {
				t.Errorf("%d load errors, at most %d expected", len(errs), budget)
			}
		})
	}
}

var loadErrorRE = regexp.MustCompile(`:[0-9]+:[0-9]+`)

// realRoles returns ../shared/realworld next to the checkout (or next to
// the directory of worktrees), or skips the test.
func realRoles(t *testing.T) string {
	t.Helper()
	real := filepath.Join(repoRoot(t), "..", "shared", "realworld")
	if _, err := os.Stat(real); err != nil {
		real = filepath.Join(repoRoot(t), "..", "..", "shared", "realworld")
	}
	if _, err := os.Stat(real); err != nil {
		t.Skipf("no real roles next to the checkout: %v", err)
	}
	return real
}

// TestConvertDocWalkthrough keeps docs/convert.md's walk-through true: every
// changed line its diff shows is in the diff of converting geerlingguy.java.
func TestConvertDocWalkthrough(t *testing.T) {
	real := realRoles(t)
	src := filepath.Join(t.TempDir(), "java")
	copyTree(t, filepath.Join(real, "geerlingguy-java"), src)
	stdout, stderr, code := runCLI(t, map[string]string{}, "convert", src)
	if code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	got := map[string]bool{}
	for _, l := range strings.Split(stdout, "\n") {
		got[l] = true
	}
	doc, err := os.ReadFile(filepath.Join(repoRoot(t), "docs", "convert.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, walk, _ := strings.Cut(string(doc), "$ mdo-play convert src/java\n")
	walk, _, _ = strings.Cut(walk, "$ echo $?")
	n := 0
	for _, l := range strings.Split(walk, "\n") {
		if (strings.HasPrefix(l, "+") || strings.HasPrefix(l, "-")) && !strings.HasPrefix(l, "---") && !strings.HasPrefix(l, "+++") {
			n++
			if !got[l] {
				t.Errorf("docs/convert.md shows %q, which converting geerlingguy.java does not print", l)
			}
		}
	}
	if n < 10 {
		t.Errorf("found %d changed lines in the walk-through: is it still there?", n)
	}
}

// TestConvertLinkedRoot: a root given as a symbolic link to a directory is
// converted; links inside the tree are copied as links under --out.
func TestConvertLinkedRoot(t *testing.T) {
	root := convertTree(t, roleClean)
	if err := os.Symlink("app.conf.j2", filepath.Join(root, "templates/alias.j2")); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "role")
	if err := os.Symlink(root, link); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "copy")
	if _, stderr, code := runCLI(t, map[string]string{}, "convert", "--out", out, link); code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	if data, err := os.ReadFile(filepath.Join(out, "templates/app.conf.j2")); err != nil || string(data) != "name {{ .pkg }}\n" {
		t.Errorf("template through a linked root: %q, %v", data, err)
	}
	if target, err := os.Readlink(filepath.Join(out, "templates/alias.j2")); err != nil || target != "app.conf.j2" {
		t.Errorf("link inside the tree: %q, %v", target, err)
	}
}

// TestConvertWriteFails: a copy that cannot be written is an error (exit
// 1), not unreadable input.
func TestConvertWriteFails(t *testing.T) {
	root := convertTree(t, roleClean)
	blocked := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocked, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runCLI(t, map[string]string{}, "convert", "--out", filepath.Join(blocked, "copy"), root)
	if code != 1 || !strings.Contains(stderr, "not a directory") {
		t.Errorf("exit %d, want 1; stderr:\n%s", code, stderr)
	}
}

// TestConvertOutKeepsUnreadable: under --out, a file that does not parse is
// reported (exit 6) and still copied, so that the copy is complete.
func TestConvertOutKeepsUnreadable(t *testing.T) {
	bad := "- name: [x\n"
	root := convertTree(t, map[string]string{"tasks/main.yml": bad, "tasks/ok.yml": "- debug: msg={{ x }}\n"})
	out := filepath.Join(t.TempDir(), "copy")
	_, stderr, code := runCLI(t, map[string]string{}, "convert", "--out", out, root)
	if code != 6 || !strings.Contains(stderr, "tasks/main.yml:1: invalid YAML") {
		t.Errorf("exit %d, want 6; stderr:\n%s", code, stderr)
	}
	got := readTree(t, out)
	if got["tasks/main.yml"] != bad || got["tasks/ok.yml"] != "- debug: msg={{ .x }}\n" {
		t.Errorf("copy: %q", got)
	}
}

// TestConvertProject converts a whole project: playbook, inventory
// variables (a group_vars file without extension, host_vars), a role with
// a template; the copy loads.
func TestConvertProject(t *testing.T) {
	root := convertTree(t, map[string]string{
		"site.yml":                          "- hosts: all\n  gather_facts: false\n  roles:\n    - role: web\n      when: web_enabled | bool\n",
		"group_vars/all":                    "web_enabled: true\nweb_root: \"{{ base_dir }}/www\"\nbase_dir: /srv\n",
		"host_vars/h1.yml":                  "greeting: \"hello {{ inventory_hostname }}\"\n",
		"roles/web/tasks/main.yml":          "- name: page\n  template:\n    src: index.html.j2\n    dest: \"{{ web_root }}/index.html\"\n  when: greeting is defined\n",
		"roles/web/templates/index.html.j2": "{% if greeting is defined %}{{ greeting }}{% endif %}\n",
		".github/workflows/ci.yml":          "run: echo ${{ matrix.os }}\n",
	})
	out := filepath.Join(t.TempDir(), "project")
	if _, stderr, code := runCLI(t, map[string]string{}, "convert", "--out", out, root); code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	got := readTree(t, out)
	for file, want := range map[string]string{
		"group_vars/all":                    "web_root: \"{{ .base_dir }}/www\"",
		"host_vars/h1.yml":                  "\"hello {{ .inventory_hostname }}\"",
		"site.yml":                          "when: ",
		"roles/web/tasks/main.yml":          "is_defined .greeting",
		"roles/web/templates/index.html.j2": "{{ if is_defined .greeting }}",
		".github/workflows/ci.yml":          "${{ matrix.os }}",
	} {
		if !strings.Contains(got[file], want) {
			t.Errorf("%s lacks %q:\n%s", file, want, got[file])
		}
	}
	if strings.Contains(got["site.yml"], "when: web_enabled") {
		t.Errorf("site.yml: condition not converted:\n%s", got["site.yml"])
	}
	_, stderr, code := runCLI(t, map[string]string{}, "-i", "h1,", "--syntax-check", filepath.Join(out, "site.yml"))
	if code != 0 {
		t.Errorf("the converted project does not load: exit %d\n%s", code, stderr)
	}
}
