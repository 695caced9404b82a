package lint

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mdo-play/mdo-play/modules"
	"github.com/mdo-play/mdo-play/playbook"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func newLinter(t *testing.T) *Linter {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return &Linter{Loader: &playbook.Loader{Registry: modules.Builtin(), NoNotifyCheck: true}, BaseDir: wd}
}

func render(t *testing.T, fs []Finding) string {
	t.Helper()
	var b strings.Builder
	for _, f := range fs {
		b.WriteString(f.String())
		b.WriteByte('\n')
	}
	return b.String()
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if got != string(want) {
		t.Errorf("findings differ from %s:\n--- got\n%s--- want\n%s", path, got, want)
	}
}

func TestGolden(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		extra   map[string]any
		defined []string
		skip    []string
		rules   []string // rules every finding must belong to
	}{
		{name: "clean", file: "clean.yml"},
		{name: "load_error", file: "load_error.yml", rules: []string{RuleLoadError}},
		{name: "include", file: "include.yml", rules: []string{RuleLoadError, RuleVarUndefined}},
		{name: "name_missing", file: "name_missing.yml", rules: []string{RuleNameMissing, RuleHandlerUnused}},
		{name: "handlers", file: "handlers.yml", rules: []string{RuleHandlerUnused, RuleNotifyUnknown, RuleVarUndefined}},
		{name: "handlers_dynamic_include", file: "handlers_dynamic_include.yml", rules: []string{}},
		{name: "vars", file: "vars.yml", extra: map[string]any{"from_cli": 1}, defined: []string{"app_port"}, rules: []string{RuleVarUndefined}},
		{name: "vars_without_inventory", file: "vars.yml", extra: map[string]any{"from_cli": 1}, rules: []string{RuleVarUndefined}},
		{name: "roles_vars", file: "roles_vars.yml", rules: []string{RuleHandlerUnused, RuleVarUndefined}},
		{name: "conditions", file: "conditions.yml", rules: []string{RuleWhenBraces, RuleJinjaSyntax, RuleTemplateSyntax, RuleVarUndefined}},
		{name: "command", file: "command.yml", rules: []string{RuleCommandModule}},
		{name: "octal", file: "octal.yml", rules: []string{RuleRiskyOctal}},
		{name: "noqa", file: "noqa.yml", rules: []string{RuleNameMissing, RuleCommandModule}},
		{name: "skip", file: "command.yml", skip: []string{RuleCommandModule}},
		{name: "convert_markers", file: "convert_markers.yml", rules: []string{RuleConvertMarker}},
		{name: "facts_modules", file: "facts_modules.yml", rules: []string{RuleVarUndefined}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := newLinter(t)
			l.ExtraVars, l.Defined, l.Skip = tc.extra, tc.defined, tc.skip
			fs, err := l.Lint(context.Background(), filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range fs {
				ok := false
				for _, r := range tc.rules {
					ok = ok || f.Rule == r
				}
				if !ok {
					t.Errorf("unexpected rule in %s", f)
				}
			}
			golden(t, tc.name, render(t, fs))
		})
	}
}

// TestEveryRuleFires makes sure each rule is exercised by some test file.
func TestEveryRuleFires(t *testing.T) {
	fired := map[string]bool{}
	files, err := filepath.Glob(filepath.Join("testdata", "*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		fs, err := newLinter(t).Lint(context.Background(), f)
		if err != nil {
			continue
		}
		for _, x := range fs {
			fired[x.Rule] = true
		}
	}
	for _, r := range Rules() {
		t.Run(r.ID, func(t *testing.T) {
			if !fired[r.ID] {
				t.Errorf("no test file triggers %s", r.ID)
			}
		})
	}
}

func TestNotYAML(t *testing.T) {
	tests := []struct {
		name, file string
		notExist   bool
	}{
		{name: "tabs", file: "notyaml.yml"},
		{name: "missing", file: "nosuch.yml", notExist: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs, err := newLinter(t).Lint(context.Background(), filepath.Join("testdata", tc.file))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("got %v, %v; want a *ParseError", fs, err)
			}
			if got := errors.Is(err, os.ErrNotExist); got != tc.notExist {
				t.Errorf("errors.Is(err, os.ErrNotExist) = %v, want %v (%v)", got, tc.notExist, err)
			}
		})
	}
}

// TestRepoPlaybooks runs the linter over the repository's own example and
// test playbooks: they load, and what is found is what they really hold.
func TestRepoPlaybooks(t *testing.T) {
	root := filepath.Join("..", "..")
	files, _ := filepath.Glob(filepath.Join(root, "examples", "*.yml"))
	more, _ := filepath.Glob(filepath.Join(root, "testdata", "playbooks", "*.yml"))
	files = append(files, more...)
	if len(files) == 0 {
		t.Fatal("no playbooks found")
	}
	// Variables the repository's tests give with -i testdata/inventories
	// and -e.
	defined := []string{"http_port", "role", "env", "scratch"}
	allowed := map[string]bool{RuleNameMissing: true, RuleCommandModule: true}
	for _, f := range files {
		t.Run(filepath.Base(filepath.Dir(f))+"/"+filepath.Base(f), func(t *testing.T) {
			l := newLinter(t)
			l.Defined = defined
			fs, err := l.Lint(context.Background(), f)
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range fs {
				if allowed[x.Rule] || filepath.Base(f) == "jinja.yml" && x.Rule == RuleJinjaSyntax || filepath.Base(f) == "undefined.yml" && x.Rule == RuleVarUndefined {
					continue
				}
				t.Errorf("false positive? %s", x)
			}
		})
	}
}

func TestFindingString(t *testing.T) {
	f := Finding{File: "site.yml", Line: 3, Col: 7, Rule: RuleNameMissing, Message: "m"}
	if got, want := f.String(), "site.yml:3:7: name-missing: m"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
