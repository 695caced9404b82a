package jinja_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/mdo-play/mdo-play/templates"
	"github.com/mdo-play/mdo-play/templates/jinja"
)

// realworld finds ../shared/realworld beside the repository.
func realworld(t *testing.T) string {
	t.Helper()
	for _, d := range []string{"../../../shared/realworld", "../../../../shared/realworld", "../../../../../shared/realworld"} {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return d
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("shared/realworld not found beside the repository")
	}
	t.Skip("shared/realworld not found beside the repository")
	return ""
}

// conditionKeys hold bare expressions.
var conditionKeys = map[string]bool{"when": true, "failed_when": true, "changed_when": true, "until": true, "that": true}

// TestRealWorldRoles converts every template, condition and templated
// value of the six real roles: each must convert completely, parse as a Go
// template for our engine, and stay the same when converted again.
func TestRealWorldRoles(t *testing.T) {
	root := realworld(t)
	eng := templates.New()
	var files, exprs, values int
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		switch {
		case strings.HasSuffix(path, ".j2"):
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			files++
			out, probs := jinja.ConvertFile(string(b))
			for _, p := range probs {
				t.Errorf("%s:%d:%d: %s: %s", rel, p.Line, p.Col, p.Text, p.Reason)
			}
			if err := eng.Check(out); err != nil {
				t.Errorf("%s: converted template does not parse: %v", rel, err)
			}
			if again, _ := jinja.ConvertFile(out); again != out {
				t.Errorf("%s: converting again changes it", rel)
			}
		case strings.HasSuffix(path, ".yml") || strings.HasSuffix(path, ".yaml"):
			dir := filepath.Base(filepath.Dir(path))
			if !map[string]bool{"tasks": true, "handlers": true, "defaults": true, "vars": true, "meta": true}[dir] {
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			var doc yaml.Node
			if err := yaml.Unmarshal(b, &doc); err != nil {
				t.Errorf("%s: %v", rel, err)
				return nil
			}
			walkScalars(&doc, false, func(n *yaml.Node, cond bool) {
				if cond {
					exprs++
					out, probs := jinja.ConvertExpr(n.Value)
					for _, p := range probs {
						t.Errorf("%s:%d: %q: %s", rel, n.Line, p.Text, p.Reason)
					}
					if len(probs) == 0 {
						if err := eng.CheckCond(out); err != nil {
							t.Errorf("%s:%d: %q converts to %q, which does not parse: %v", rel, n.Line, n.Value, out, err)
						}
					}
					if again, _ := jinja.ConvertExpr(out); again != out {
						t.Errorf("%s:%d: converting %q again changes it", rel, n.Line, out)
					}
					return
				}
				if !strings.Contains(n.Value, "{{") && !strings.Contains(n.Value, "{%") {
					return
				}
				values++
				out, probs := jinja.ConvertTemplate(n.Value)
				for _, p := range probs {
					t.Errorf("%s:%d: %q: %s", rel, n.Line, p.Text, p.Reason)
				}
				if err := eng.Check(out); err != nil {
					t.Errorf("%s:%d: %q converts to %q, which does not parse: %v", rel, n.Line, n.Value, out, err)
				}
				if again, _ := jinja.ConvertTemplate(out); again != out {
					t.Errorf("%s:%d: converting %q again changes it", rel, n.Line, out)
				}
			})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 20 || exprs < 50 || values < 50 {
		t.Errorf("found only %d templates, %d conditions and %d templated values", files, exprs, values)
	}
	t.Logf("%d templates, %d conditions, %d templated values", files, exprs, values)
}

// walkScalars calls f for every string scalar; cond says it is a bare
// condition (under when:, that:, ...).
func walkScalars(n *yaml.Node, cond bool, f func(*yaml.Node, bool)) {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			walkScalars(c, cond, f)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			walkScalars(n.Content[i+1], conditionKeys[n.Content[i].Value], f)
		}
	case yaml.ScalarNode:
		if n.Tag == "!!str" {
			f(n, cond)
		} else if cond && n.Tag != "!!bool" {
			f(n, cond)
		}
	}
}
