package convert

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

var update = flag.Bool("update", false, "rewrite golden files")

// The splicing tests use a small converter of their own, so that they
// test the YAML editing alone: {{ name }} becomes {{ .name }}, a bare
// name or "not name" or "a == 'b'" becomes a pipeline, and statements
// ({% %}) and filters are problems left as they are.
var (
	testVarRE     = regexp.MustCompile(`\{\{\s*([a-z_][a-z0-9_.]*)\s*\}\}`)
	testStmtRE    = regexp.MustCompile(`\{%.*?%\}|\{\{[^}]*\|[^}]*\}\}`)
	testEqRE      = regexp.MustCompile(`^([a-z_][a-z0-9_.]*) == '([^']*)'$`)
	testNameRE    = regexp.MustCompile(`^(not )?([a-z_][a-z0-9_.]*)$`)
	testCommentRE = regexp.MustCompile(`\{#[\s\S]*?#\}`)
)

func testTemplate(src string) (string, []Problem) {
	var probs []Problem
	for _, m := range testStmtRE.FindAllStringIndex(src, -1) {
		line := 1 + strings.Count(src[:m[0]], "\n")
		col := m[0] - strings.LastIndexByte(src[:m[0]], '\n')
		probs = append(probs, Problem{Line: line, Col: col, Text: src[m[0]:m[1]], Reason: "statement not supported"})
	}
	// Comments go, lines and all, so that output lines need not match
	// input lines.
	return testCommentRE.ReplaceAllString(testVarRE.ReplaceAllString(src, "{{ .$1 }}"), ""), probs
}

func testExpr(src string) (string, []Problem) {
	s := strings.TrimSpace(src)
	if strings.HasPrefix(s, "{{") && strings.HasSuffix(s, "}}") {
		s = strings.TrimSpace(s[2 : len(s)-2])
	}
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "eq .") || strings.HasPrefix(s, "not .") {
		return src, nil // already converted
	}
	if m := testNameRE.FindStringSubmatch(s); m != nil {
		return m[1] + "." + m[2], nil
	}
	if m := testEqRE.FindStringSubmatch(s); m != nil {
		return fmt.Sprintf("eq .%s %q", m[1], m[2]), nil
	}
	return src, []Problem{{Line: 1, Col: 1, Text: src, Reason: "expression not supported"}}
}

// testValid says a test expression is already a pipeline.
func testValid(s string) bool {
	return strings.HasPrefix(s, ".") || strings.HasPrefix(s, "eq .") || strings.HasPrefix(s, "not .")
}

func testConverter() *Converter {
	return &Converter{Template: testTemplate, Expr: testExpr}
}

func render(out []byte, probs []Problem) string {
	var b strings.Builder
	b.Write(out)
	b.WriteString("# ---- problems ----\n")
	for _, p := range probs {
		b.WriteString(p.String() + "\n")
	}
	return b.String()
}

// TestGolden converts testdata/*.yml and *.j2 and compares with the
// .golden files; converting the output again must change nothing.
func TestGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.yml")
	j2, _ := filepath.Glob("testdata/*.j2")
	files = append(files, j2...)
	if len(files) == 0 {
		t.Fatal("no test files")
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			kind := Tasks
			switch {
			case strings.HasPrefix(filepath.Base(path), "defaults"):
				kind = Vars
			case strings.HasSuffix(path, ".j2"):
				kind = Template
			}
			c := testConverter()
			out, probs, err := c.File(filepath.Base(path), kind, src)
			if err != nil {
				t.Fatal(err)
			}
			got := render(out, probs)
			golden := path + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("output differs from %s (run with -update):\n%s", golden, got)
			}
			again, probs2, err := c.File(filepath.Base(path), kind, out)
			if err != nil {
				t.Fatalf("converted output does not parse: %v", err)
			}
			if string(again) != string(out) {
				t.Errorf("converting twice changed the text:\n%s", again)
			}
			if len(probs2) != len(probs) {
				t.Errorf("second conversion: %d problems, first: %d", len(probs2), len(probs))
			}
		})
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		root, rel string
		want      Kind
	}{
		{"roles/web", "tasks/main.yml", Tasks},
		{"roles/web", "handlers/main.yaml", Tasks},
		{"roles/web", "meta/main.yml", Tasks},
		{"roles/web", "defaults/main.yml", Vars},
		{"roles/web", "vars/Debian.yml", Vars},
		{"inv", "group_vars/all", Vars},
		{"inv", "group_vars/web/main.yml", Vars},
		{"inv", "host_vars/h1.yml", Vars},
		{"roles/web", "templates/nginx.conf.j2", Template},
		{"roles/web", "templates/sub/plain.conf", Template},
		{"roles/web/templates", "x.conf", Template},
		{"site", "motd.j2", Template},
		{"roles/web", "files/app.yml", Other},
		{"roles/web", "files/x.j2", Other},
		{"roles/web", ".github/workflows/ci.yml", Other},
		{"roles/web", ".travis.yml", Other},
		{"roles/web", "README.md", Other},
		{"roles/web", "LICENSE", Other},
		{"roles/web", "tasks/notes", Other},
		{".", "site.yml", Tasks},
	}
	for _, tc := range tests {
		if got := Classify(tc.root, tc.rel); got != tc.want {
			t.Errorf("Classify(%q, %q) = %v, want %v", tc.root, tc.rel, got, tc.want)
		}
	}
}

// TestEncodeReadsBack writes awkward new values in place of values of
// every style, and checks that the file reads back with exactly the new
// value there and everything else as it was.
func TestEncodeReadsBack(t *testing.T) {
	docs := map[string]string{
		"plain":            "k: z{{ x }}\nother: 1\n",
		"plain-flow":       "- {role: r, when: x is defined, n: 1}\n",
		"plain-multi":      "k: a {{ x }}\n  b\nother: 1\n",
		"single":           "k: '{{ x }}'\n",
		"double":           "k: \"{{ x }}\" # c\n",
		"double-flow":      "k: {a: \"{{ x }}\", b: 2}\n",
		"literal":          "k: |\n  {{ x }}\n  y\nother: 1\n",
		"literal-keep":     "k: |+\n  {{ x }}\n\nother: 1\n",
		"literal-item":     "- |-\n  {{ x }}\n- 2\n",
		"folded":           "k: >-\n  {{ x }}\n  y\nother: 1\n",
		"folded-indicator": "k: >2-\n    {{ x }}\nother: 1\n",
		"literal-comment":  "k: |+ # c\n  {{ x }}\n\n\nother: 1\n",
		"when-folded":      "- when: >\n    x is defined\n  n: 1\n",
		"when-literal":     "- when: |\n    x is\n    defined\n",
	}
	values := []string{
		"plain", "{{ .x }}", ".x", "a: b", "a #b", "- x", "'q'", `"dq"`, `eq .x "a"`, "x'y\"z",
		"true", "1", "~", "", " lead", "trail ", "tab\there", "line\nbreak", "é ✓", "#c", "[x]", "{x}", "a, b", "*x", "&x", "!x", "%x", "@x", "`x",
		"ctl\x01\x7f\u2028\U0001F600", strings.Repeat("word ", 40) + "end", strings.Repeat("two  spaces ", 20), strings.Repeat("x", 100) + " y \tz" + strings.Repeat(" q", 60),
	}
	for name, doc := range docs {
		for _, v := range values {
			c := &Converter{
				Template: func(src string) (string, []Problem) {
					if strings.Contains(src, "{{ x }}") {
						return v, nil
					}
					return src, nil
				},
				Expr: func(src string) (string, []Problem) {
					if strings.HasPrefix(src, "x is") {
						return v, nil
					}
					return src, nil
				},
			}
			out, probs, err := c.File("t.yml", Tasks, []byte(doc))
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			for _, p := range probs {
				t.Errorf("%s with %q: %s\n%s", name, v, p, out)
			}
			var got, orig yaml.Node
			if err := yaml.Unmarshal(out, &got); err != nil {
				t.Fatalf("%s with %q: %v\n%s", name, v, err, out)
			}
			_ = yaml.Unmarshal([]byte(doc), &orig)
			var find func(n *yaml.Node) bool
			find = func(n *yaml.Node) bool {
				if n.Kind == yaml.ScalarNode && n.Value == v {
					return true
				}
				for _, c := range n.Content {
					if find(c) {
						return true
					}
				}
				return false
			}
			if !find(&got) {
				t.Errorf("%s with %q: value not found in\n%s", name, v, out)
			}
		}
	}
}

// TestVerify: an edit that does not read back as intended is caught.
func TestVerify(t *testing.T) {
	src := []byte("a: x\nb: [1]\n---\nc: 2\n")
	docs, err := decodeAll(src)
	if err != nil {
		t.Fatal(err)
	}
	y := &yamlConv{changed: map[*yaml.Node]string{docs[0].Content[0].Content[1]: "y"}}
	tests := map[string]bool{
		"a: y\nb: [1]\n---\nc: 2\n":     true,
		"a: \"y\"\nb: [1]\n---\nc: 2\n": true,
		"a: x\nb: [1]\n---\nc: 2\n":     false, // not changed
		"a: y\nb: 1\n---\nc: 2\n":       false, // structure
		"a: y\nb: [1]\n":                false, // a document lost
		"a: y\nb: [1]\n---\nc: '2'\n":   false, // a tag changed
	}
	for out, ok := range tests {
		if err := y.verify(docs, []byte(out)); (err == nil) != ok {
			t.Errorf("verify(%q) = %v, want ok=%v", out, err, ok)
		}
	}
}

// TestCRLF: a file with CRLF line endings keeps them.
func TestCRLF(t *testing.T) {
	src := "# c\r\n- name: \"{{ a }}\"\r\n  when: b\r\n  shell: |\r\n    echo {{ c }}\r\n"
	out, probs, err := testConverter().File("t.yml", Tasks, []byte(src))
	if err != nil || len(probs) > 0 {
		t.Fatal(err, probs)
	}
	want := "# c\r\n- name: \"{{ .a }}\"\r\n  when: .b\r\n  shell: |\r\n    echo {{ .c }}\r\n"
	if string(out) != want {
		t.Errorf("got %q, want %q", out, want)
	}
}
