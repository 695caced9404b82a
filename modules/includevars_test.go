package modules

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// dirFiles is a Files that looks names up under one directory's kind
// subdirectory, then the directory itself.
type dirFiles string

func (d dirFiles) Find(kind, name string) (string, error) {
	if filepath.IsAbs(name) {
		return name, nil
	}
	for _, p := range []string{filepath.Join(string(d), kind, name), filepath.Join(string(d), name)} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found in %s", name, d)
}

func TestIncludeVars(t *testing.T) {
	base, err := filepath.Abs("testdata/include_vars")
	if err != nil {
		t.Fatal(err)
	}
	vars := filepath.Join(base, "vars")
	mainVars := map[string]any{
		"app_port": 8080, "enabled": true, "debug": false, "quoted": "yes", "name": "web",
		"list": []any{1, "two"}, "base": map[string]any{"a": 1, "b": 2},
		"merged": map[string]any{"a": 1, "b": 3},
	}
	tests := []struct {
		name     string
		raw      map[string]any
		facts    map[string]any // nil: not checked
		keys     []string       // facts that must be present (and no others) when facts is nil
		files    []string       // included files relative to base
		failMsg  string
		failLine string
	}{
		{name: "free form relative", raw: map[string]any{RawParams: "main.yml"}, facts: mainVars, files: []string{"vars/main.yml"}},
		{name: "file absolute", raw: map[string]any{"file": filepath.Join(vars, "main.yml")}, facts: mainVars, files: []string{"vars/main.yml"}},
		{name: "name", raw: map[string]any{"file": "c.yaml", "name": "cfg"},
			facts: map[string]any{"cfg": map[string]any{"z_last": 1, "name": "c"}}, files: []string{"vars/c.yaml"}},
		{name: "json", raw: map[string]any{"file": "b.json"}, facts: map[string]any{"from_json": true, "name": "json"}, files: []string{"vars/b.json"}},
		{name: "dir sorted, later wins, unknown extension fails", raw: map[string]any{"dir": "vars"},
			failMsg: "d.yml.bak does not have a valid extension: yaml, yml, json"},
		{name: "dir all", raw: map[string]any{"dir": "vars", "ignore_unknown_extensions": true},
			keys:  []string{"app_port", "base", "debug", "deep", "enabled", "from_json", "list", "merged", "name", "quoted", "sub_var", "z_last"},
			files: []string{"vars/b.json", "vars/c.yaml", "vars/main.yml", "vars/sub/s.yml", "vars/sub/deeper/x.yml"}},
		{name: "dir depth 1", raw: map[string]any{"dir": "vars", "depth": 1, "ignore_files": []any{`\.bak`}},
			keys:  []string{"app_port", "base", "debug", "enabled", "from_json", "list", "merged", "name", "quoted", "z_last"},
			files: []string{"vars/b.json", "vars/c.yaml", "vars/main.yml"}},
		{name: "dir files_matching", raw: map[string]any{"dir": vars, "files_matching": `^[cs]\.`},
			facts: map[string]any{"z_last": 1, "name": "sub", "sub_var": 1}, files: []string{"vars/c.yaml", "vars/sub/s.yml"}},
		{name: "dir extensions", raw: map[string]any{"dir": "vars", "extensions": []any{"json", "bak"}, "depth": 1},
			failMsg: "c.yaml does not have a valid extension: json, bak"},
		{name: "missing file", raw: map[string]any{"file": "nope.yml"}, failMsg: "Could not find or access 'nope.yml'"},
		{name: "missing dir", raw: map[string]any{"dir": filepath.Join(base, "nope")}, failMsg: "directory does not exist"},
		{name: "not a dir", raw: map[string]any{"dir": filepath.Join(vars, "main.yml")}, failMsg: "is not a directory"},
		{name: "syntax error names file and line", raw: map[string]any{"file": "bad/syntax.yml"}, failMsg: "bad/syntax.yml:", failLine: ":3:"},
		{name: "not a mapping", raw: map[string]any{"file": "bad/list.yml"}, failMsg: "list.yml must be stored as a dictionary/hash"},
		{name: "empty file", raw: map[string]any{"file": "bad/empty.yml"}, facts: map[string]any{}, files: []string{"bad/empty.yml"}},
		{name: "file wins over free form", raw: map[string]any{"file": "main.yml", RawParams: "x"}, facts: mainVars, files: []string{"vars/main.yml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args, err := IncludeVars{}.Spec().Normalize(tt.raw)
			if err != nil {
				t.Fatal(err)
			}
			res, err := IncludeVars{}.Run(context.Background(), &Env{Files: dirFiles(base)}, args)
			if err != nil {
				t.Fatal(err)
			}
			if tt.failMsg != "" {
				if !res.Failed || !strings.Contains(res.Msg, tt.failMsg) || !strings.Contains(res.Msg, tt.failLine) {
					t.Fatalf("got failed=%v msg %q, want failure containing %q and %q", res.Failed, res.Msg, tt.failMsg, tt.failLine)
				}
				if res.Values["message"] != res.Msg {
					t.Errorf("message = %v, want the msg (Ansible reports include_vars errors as message)", res.Values["message"])
				}
				return
			}
			if res.Failed || res.Changed {
				t.Fatalf("failed=%v changed=%v msg %q", res.Failed, res.Changed, res.Msg)
			}
			if tt.facts != nil && !reflect.DeepEqual(res.Facts, tt.facts) {
				t.Errorf("facts\n got %#v\nwant %#v", res.Facts, tt.facts)
			}
			if tt.keys != nil {
				var got []string
				for k := range res.Facts {
					got = append(got, k)
				}
				if !reflect.DeepEqual(sortedCopy(got), tt.keys) {
					t.Errorf("keys %v, want %v", sortedCopy(got), tt.keys)
				}
			}
			if !reflect.DeepEqual(res.Values["ansible_facts"], res.Facts) {
				t.Errorf("ansible_facts %v differs from Facts", res.Values["ansible_facts"])
			}
			var files []string
			for _, f := range res.Values["ansible_included_var_files"].([]any) {
				rel, _ := filepath.Rel(base, f.(string))
				files = append(files, rel)
			}
			if !reflect.DeepEqual(files, tt.files) {
				t.Errorf("included files %v, want %v", files, tt.files)
			}
		})
	}
}

func TestIncludeVarsLaterFileWins(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{"a.yml": "x: a\nonly_a: 1\n", "b.yml": "x: b\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	res, _ := call(t, IncludeVars{}, Env{}, map[string]any{"dir": dir})
	want := map[string]any{"x": "b", "only_a": 1}
	if !reflect.DeepEqual(res.Facts, want) {
		t.Errorf("facts %v, want %v", res.Facts, want)
	}
}

func TestIncludeVarsSpec(t *testing.T) {
	if _, err := (IncludeVars{}).Spec().Normalize(map[string]any{"file": "a", "dir": "b"}); err == nil {
		t.Error("file and dir together: want an error")
	}
	if !(IncludeVars{}).Spec().Controller {
		t.Error("include_vars must run on the controller")
	}
	if _, ok := Builtin().Lookup("ansible.builtin.include_vars"); !ok {
		t.Error("include_vars is not registered")
	}
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

// TestIncludeVarsHashBehaviour: merge combines a loaded mapping with the
// variable of the same name recursively (lists replaced); replace and the
// default replace it.
func TestIncludeVarsHashBehaviour(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "v.yml")
	if err := os.WriteFile(f, []byte("app:\n  port: 81\n  db: {host: b}\n  tags: [y]\nplain: 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	existing := map[string]any{"app": map[string]any{"name": "x", "port": 80, "db": map[string]any{"host": "a", "user": "u"}, "tags": []any{"x"}}, "plain": 1}
	env := Env{Vars: fakeVars{vars: existing}}
	for _, hb := range []string{"merge", "replace", ""} {
		raw := map[string]any{"file": f}
		if hb != "" {
			raw["hash_behaviour"] = hb
		}
		res, _ := call(t, IncludeVars{}, env, raw)
		want := map[string]any{"port": 81, "db": map[string]any{"host": "b"}, "tags": []any{"y"}}
		if hb == "merge" {
			want = map[string]any{"name": "x", "port": 81, "db": map[string]any{"host": "b", "user": "u"}, "tags": []any{"y"}}
		}
		if got := res.Facts["app"]; !reflect.DeepEqual(got, want) || res.Facts["plain"] != 2 {
			t.Errorf("%q: app = %v plain = %v, want %v and 2", hb, got, res.Facts["plain"], want)
		}
	}
}
