package templates

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// TestRenderFiles renders each testdata/render/NAME.tmpl with the variables
// in NAME.vars.yaml and compares the result with NAME.golden.
func TestRenderFiles(t *testing.T) {
	e := New()
	files, err := filepath.Glob("testdata/render/*.tmpl")
	if err != nil || len(files) == 0 {
		t.Fatalf("no template files found: %v", err)
	}
	for _, f := range files {
		base := strings.TrimSuffix(f, ".tmpl")
		t.Run(filepath.Base(base), func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := os.ReadFile(base + ".vars.yaml")
			if err != nil {
				t.Fatal(err)
			}
			var vars map[string]any
			if err := yaml.Unmarshal(raw, &vars); err != nil {
				t.Fatal(err)
			}
			got, err := e.RenderString(f, string(src), vars)
			if err != nil {
				t.Fatal(err)
			}
			golden := base + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("%s differs from %s:\n--- got\n%s\n--- want\n%s", f, golden, got, want)
			}
		})
	}
}
