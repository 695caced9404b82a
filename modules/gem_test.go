package modules

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// gemTestRepo builds the gems mdo-x 1.0.0 and 1.1.0 with the real `gem
// build`, indexes them with `gem generate_index` and serves the index over
// HTTP; it returns the gems' directory and the repository's URL.
func gemTestRepo(t *testing.T) (dir, url string) {
	t.Helper()
	dir = t.TempDir()
	for _, v := range []string{"1.0.0", "1.1.0"} {
		spec := "Gem::Specification.new do |s|\n  s.name = 'mdo-x'; s.version = '" + v + "'; s.summary = 't'; s.authors = ['t']; s.files = []\nend\n"
		if err := os.WriteFile(filepath.Join(dir, "mdo.gemspec"), []byte(spec), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("gem", "build", "mdo.gemspec")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("gem build: %v: %s", err, out)
		}
	}
	idx := filepath.Join(dir, "idx")
	if err := os.MkdirAll(filepath.Join(idx, "gems"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"1.0.0", "1.1.0"} {
		b, err := os.ReadFile(filepath.Join(dir, "mdo-x-"+v+".gem"))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(idx, "gems", "mdo-x-"+v+".gem"), b, 0o644)
	}
	if out, err := exec.Command("gem", "generate_index", "-d", idx).CombinedOutput(); err != nil {
		t.Fatalf("gem generate_index: %v: %s", err, out)
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(idx)))
	t.Cleanup(srv.Close)
	return dir, srv.URL + "/"
}

// TestGem drives the real gem, locally and over SSH, with HOME in the
// test's directory (the user installation directory is there) and a gem
// repository the test serves: a local .gem file, versions, latest,
// absent, install_dir, check mode and the collection's errors.
func TestGem(t *testing.T) {
	if _, err := exec.LookPath("gem"); err != nil {
		sysUnavailable(t, "needs gem (Debian's ruby)")
	}
	gems, repo := gemTestRepo(t)
	for _, tm := range fileTargets(t) {
		t.Run(tm.name, func(t *testing.T) {
			tg := tm.mk(t)
			d := tg.dir
			c := &prefixConn{Conn: tg.c, prefix: "export HOME=" + d + " GEM_SPEC_CACHE=" + d + "/specs"}
			state := func() string {
				return sh(t, c, "cd "+d+" && ls -d .local/share/gem/ruby/*/gems/* gemhome/gems/* 2>/dev/null | sed 's|.*/gems/||'; true")
			}
			a := func(kv ...any) map[string]any {
				m := map[string]any{"name": "mdo-x"}
				for i := 0; i+1 < len(kv); i += 2 {
					m[kv[i].(string)] = kv[i+1]
				}
				return m
			}
			v1 := gems + "/mdo-x-1.0.0.gem"
			steps := []modsbStep{
				{"check", true, a("gem_source", v1), true, false, "", "", 1},
				{"from file", false, a("gem_source", v1), true, false, "", "mdo-x-1.0.0\n", 2},
				{"from file again", false, a("gem_source", v1), false, false, "", "mdo-x-1.0.0\n", 1},
				{"version there", false, a("version", "1.0.0"), false, false, "", "mdo-x-1.0.0\n", 1},
				{"latest check", true, a("state", "latest", "repository", repo), true, false, "", "mdo-x-1.0.0\n", 1},
				{"latest", false, a("state", "latest", "source", repo), true, false, "", "mdo-x-1.0.0\nmdo-x-1.1.0\n", 2},
				{"latest again", false, a("state", "latest", "repository", repo), false, false, "", "mdo-x-1.0.0\nmdo-x-1.1.0\n", 1},
				{"absent one version", false, a("state", "absent", "version", "1.0.0"), true, false, "", "mdo-x-1.1.0\n", 2},
				{"absent", false, a("state", "absent"), true, false, "", "", 2},
				{"absent again", false, a("state", "absent"), false, false, "", "", 1},
				{"install_dir", false, a("repository", repo, "version", "1.0.0", "user_install", false, "install_dir", d+"/gemhome"), true, false, "", "mdo-x-1.0.0\n", 2},
				{"install_dir again", false, a("version", "1.0.0", "user_install", false, "install_dir", d+"/gemhome"), false, false, "", "mdo-x-1.0.0\n", 1},
				{"install_dir absent", false, a("state", "absent", "user_install", false, "install_dir", d+"/gemhome"), true, false, "", "", 2},
				{"unknown", false, a("name", "mdo-nosuch", "repository", repo), false, true, "Could not find a valid gem 'mdo-nosuch'", "", 2},
				{"version and latest", false, a("state", "latest", "version", "1"), false, true, "Cannot specify version when state=latest", "", 0},
				{"source and latest", false, a("state", "latest", "gem_source", v1), false, true, "Cannot maintain state=latest when installing from local source", "", 0},
				{"install_dir and user_install", false, a("install_dir", d+"/x"), false, true, "install_dir requires user_install=false", "", 0},
			}
			res := modsbRunSteps(t, c, Gem{}, steps, state)
			if v := res["latest"].Values; v["version"] != "1.1.0" || v["name"] != "mdo-x" || v["state"] != "latest" {
				t.Errorf("latest values %v", v)
			}
			if v := res["from file"].Values; v["version"] != nil {
				t.Errorf("from file values %v", v)
			}
			if v := res["unknown"].Values; v["rc"] == 0 || v["stderr"] == "" {
				t.Errorf("unknown values %v", v)
			}
		})
	}
}

// TestGemSpec checks the arguments refused before anything runs.
func TestGemSpec(t *testing.T) {
	for _, tc := range []struct {
		raw  map[string]any
		want string
	}{
		{map[string]any{"state": "present"}, `missing required argument "name"`},
		{map[string]any{"name": "x", "gem_source": "/x.gem", "version": "1"}, "mutually exclusive: gem_source|version"},
		{map[string]any{"name": "x", "gem_source": "/x.gem", "source": "http://x"}, "mutually exclusive: gem_source|repository"},
	} {
		if _, err := (Gem{}).Spec().Normalize(tc.raw); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Normalize(%v) = %v, want %q", tc.raw, err, tc.want)
		}
	}
}
