package templates

import (
	"context"
	"errors"
	"github.com/mdo-play/mdo-play/inventory"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// dirController is a controller over real files, a fixed environment and
// the real shell.
type dirController struct{ env map[string]string }

func (dirController) ReadFile(p string) ([]byte, error) { return os.ReadFile(p) }
func (dirController) WriteFile(p string, b []byte, m os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	return os.WriteFile(p, b, m)
}
func (dirController) Glob(p string) ([]string, error)  { return filepath.Glob(p) }
func (c dirController) Getenv(k string) (string, bool) { v, ok := c.env[k]; return v, ok }
func (dirController) Pipe(ctx context.Context, cmd string) (string, error) {
	out, err := exec.CommandContext(ctx, "sh", "-c", cmd).Output()
	return string(out), err
}

func TestLookups(t *testing.T) {
	role := t.TempDir()
	pb := t.TempDir()
	write := func(p, s string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(role, "files", "motd"), "hello\n")
	write(filepath.Join(pb, "files", "other"), "from playbook\n")
	write(filepath.Join(role, "templates", "t.j2"), "name={{ .name }}")
	write(filepath.Join(role, "files", "a.conf"), "a")
	write(filepath.Join(role, "files", "b.conf"), "b")
	write(filepath.Join(role, "files", "Debian.yml"), "x")
	write(filepath.Join(pb, "pw"), "stored rest\n")
	e := New(WithController(dirController{env: map[string]string{"HOME": "/home/u"}}))
	vars := map[string]any{"name": "web", "role_path": role, "playbook_dir": pb, "fam": "Debian", "list": []any{"x", "y"}}
	tests := []struct {
		tmpl string
		want any
	}{
		{`{{ lookup "file" "motd" }}`, "hello"},
		{`{{ lookup "file" "other" }}`, "from playbook"},
		{`{{ lookup "file" "motd" "other" }}`, "hello,from playbook"},
		{`{{ query "file" "motd" }}`, []any{"hello"}},
		{`{{ lookup "template" "t.j2" }}`, "name=web"},
		{`{{ lookup "env" "HOME" }}`, "/home/u"},
		{`{{ lookup "env" "NOPE" }}`, ""},
		{`{{ lookup "pipe" "echo hi" }}`, "hi"},
		{`{{ lookup "vars" "name" }}`, "web"},
		{`{{ lookup "varnames" "^name$" }}`, "name"},
		{`{{ query "varnames" "^(l|n)" "_path$" }}`, []any{"list", "name", "role_path"}},
		{`{{ lookup "varnames" "^nope$" }}`, ""},
		{`{{ lookup "first_found" (list (print .fam ".yml") "default.yml") }}`, filepath.Join(role, "files", "Debian.yml")},
		{`{{ lookup "first_found" (dict "files" (list "nope.yml" "Debian.yml") "paths" (list ".")) }}`, filepath.Join(role, "files", "Debian.yml")},
		{`{{ query "fileglob" "*.conf" }}`, []any{filepath.Join(role, "files", "a.conf"), filepath.Join(role, "files", "b.conf")}},
		{`{{ query "items" .list (list "z") }}`, []any{"x", "y", "z"}},
		{`{{ lookup "password" "pw" }}`, "stored"},
		{`{{ lookup "password" "/dev/null length=12 chars=digits" | len }}`, 12},
	}
	for _, tt := range tests {
		t.Run(tt.tmpl, func(t *testing.T) {
			got, err := e.Render(tt.tmpl, vars)
			if err != nil {
				t.Fatal(err)
			}
			if !pyEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
	// A new password is written and then read back.
	got, err := e.Render(`{{ lookup "password" "creds/new length=8" }}`, vars)
	if err != nil {
		t.Fatal(err)
	}
	again, err := e.Render(`{{ lookup "password" "creds/new length=8" }}`, vars)
	if err != nil || again != got || len(got.(string)) != 8 {
		t.Errorf("password %v then %v (%v)", got, again, err)
	}
	if b, err := os.ReadFile(filepath.Join(pb, "creds", "new")); err != nil || strings.TrimSpace(string(b)) != got {
		t.Errorf("stored %q, %v", b, err)
	}
	// Errors.
	for _, tmpl := range []string{`{{ lookup "file" "nope" }}`, `{{ lookup "first_found" "nope" }}`, `{{ lookup "nope" "x" }}`, `{{ lookup "vars" "missing" }}`} {
		if _, err := e.Render(tmpl, vars); err == nil {
			t.Errorf("%s: no error", tmpl)
		}
	}
	// ansible_search_path wins over role_path and playbook_dir.
	v2 := map[string]any{"ansible_search_path": []any{pb}, "role_path": role}
	if _, err := e.Render(`{{ lookup "file" "motd" }}`, v2); err == nil {
		t.Error("file found outside ansible_search_path")
	}
	// Without a controller, a lookup is an error.
	_, err = New().Render(`{{ lookup "env" "HOME" }}`, vars)
	if err == nil || !strings.Contains(err.Error(), "not available") {
		t.Errorf("no controller: %v", err)
	}
	var ue *Error
	if !errors.As(err, &ue) {
		t.Errorf("error %T, want *Error", err)
	}
}

// TestListLookups: the lookups that work on their terms alone need no
// controller, answer to their fully qualified names, and give what the
// ansible-core (community.general for cartesian, flattened) plugins give.
func TestListLookups(t *testing.T) {
	e := New(WithHostPatterns(inventory.MatchHostnames))
	vars := map[string]any{
		"groups": map[string]any{"all": []any{"w1", "w2", "d1"}, "web": []any{"w1", "w2"}, "db": []any{"d1"}, "ungrouped": []any{}},
		"names":  []any{"a", "b"},
		// a registered result's stdout_lines: a []string, not an []any
		"lines": []string{"l1", "l2"},
	}
	tests := []struct {
		tmpl string
		want any
	}{
		{`{{ query "list" 1 (list 2 3) }}`, []any{1, []any{2, 3}}},
		{`{{ query "ansible.builtin.dict" (dict "b" 2 "a" 1) }}`, []any{map[string]any{"key": "a", "value": 1}, map[string]any{"key": "b", "value": 2}}},
		{`{{ query "items" .lines }}`, []any{"l1", "l2"}},
		{`{{ query "flattened" (list .lines) }}`, []any{"l1", "l2"}},
		{`{{ query "indexed_items" "x" (list "y") }}`, []any{[]any{0, "x"}, []any{1, "y"}}},
		{`{{ query "inventory_hostnames" "web:db" }}`, []any{"w1", "w2", "d1"}},
		{`{{ query "inventory_hostnames" "all:!web" }}`, []any{"d1"}},
		{`{{ query "inventory_hostnames" "~w[12]:&web[1]" }}`, []any{"w2"}},
		{`{{ query "inventory_hostnames" "nosuch" }}`, []any{}},
		{`{{ lookup "inventory_hostnames" "web" }}`, "w1,w2"},
		{`{{ query "community.general.cartesian" (list 1 2) (list "a") }}`, []any{[]any{1, "a"}, []any{2, "a"}}},
		{`{{ query "flattened" (list 1 (list 2 (list 3))) "names" }}`, []any{1, 2, 3, "a", "b"}},
		{`{{ query "together" (list 1 2) (list "a") }}`, []any{[]any{1, "a"}, []any{2, nil}}},
		{`{{ query "nested" (list 1 2) (list "a" "b") }}`, []any{[]any{1, "a"}, []any{1, "b"}, []any{2, "a"}, []any{2, "b"}}},
		{`{{ query "sequence" "count=3 start=5 format='n %d'" }}`, []any{"n 5", "n 6", "n 7"}},
		{`{{ query "subelements" (list (dict "n" 1 "k" (list "x" "y"))) "k" }}`, []any{[]any{map[string]any{"n": 1}, "x"}, []any{map[string]any{"n": 1}, "y"}}},
		{`{{ query "random_choice" }}`, []any{}},
		{`{{ query "random_choice" "only" }}`, []any{"only"}},
	}
	for _, tt := range tests {
		t.Run(tt.tmpl, func(t *testing.T) {
			got, err := e.Render(tt.tmpl, vars)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
	if _, err := e.Render(`{{ lookup "file" "x" }}`, vars); err == nil || !strings.Contains(err.Error(), "not available") {
		t.Errorf("file lookup without a controller: %v", err)
	}
	if !IsLookup("community.general.flattened") || IsLookup("nosuch") {
		t.Error("IsLookup")
	}
}
