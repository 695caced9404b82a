package modules

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestGitRemoteHead(t *testing.T) {
	ls := "aaa\tHEAD\nbbb\trefs/heads/main\nccc\trefs/tags/v1\nddd\trefs/tags/v1^{}\neee\trefs/tags/light\n"
	cases := []struct{ version, sha, kind string }{
		{"HEAD", "aaa", "head"}, {"main", "bbb", "branch"}, {"v1", "ddd", "tag"}, {"light", "eee", "tag"}, {"abc123", "abc123", "commit"},
	}
	for _, tc := range cases {
		if sha, kind := gitRemoteHead(ls, tc.version); sha != tc.sha || kind != tc.kind {
			t.Errorf("%s: %s %s, want %s %s", tc.version, sha, kind, tc.sha, tc.kind)
		}
	}
}

// TestGit clones and updates a checkout of a repository made for the test
// (a file:// remote with a branch, an annotated tag and new commits),
// through a real Conn: local and a test host.
func TestGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		sysUnavailable(t, "needs git")
	}
	for tn, c := range sysTargets(t) {
		t.Run(tn, func(t *testing.T) {
			dir := t.TempDir()
			if tn == "ssh" {
				dir = "/srv/" + sysUniq("git")
			}
			src, dest := filepath.Join(dir, "src"), filepath.Join(dir, "work", "app")
			g := "git -c user.name=t -c user.email=t@x -C " + src + " "
			sysSh(t, c, "mkdir -p "+src+" && git init -q -b main "+src+" && echo a >"+src+"/f && "+g+"add f && "+g+"commit -qm a && "+
				g+"tag -a v1 -m v1 && echo b >"+src+"/f && "+g+"commit -qam b && "+g+"checkout -q -b dev && echo c >"+src+"/f && "+g+"commit -qam c && "+g+"checkout -q main")
			rev := func(r string) string { return strings.TrimSpace(sysSh(t, c, g+"rev-parse "+r)) }
			a, b, cc := rev("v1^{}"), rev("main"), rev("dev")
			args := func(kv ...any) map[string]any {
				m := map[string]any{"repo": src, "dest": dest}
				for i := 0; i+1 < len(kv); i += 2 {
					m[kv[i].(string)] = kv[i+1]
				}
				return m
			}
			type step struct {
				what    string
				check   bool
				raw     map[string]any
				changed bool
				failed  bool
				msg     string
				before  any
				after   string
				trips   int
				content string // f in the checkout afterwards ("" unchecked)
			}
			steps := []step{
				{"clone check", true, args(), true, false, "", nil, b, 1, ""},
				{"clone", false, args(), true, false, "", nil, b, 2, "b"},
				{"again", false, args(), false, false, "", b, b, 1, "b"},
				{"tag check", true, args("version", "v1"), true, false, "", b, a, 1, "b"},
				{"tag", false, args("version", "v1"), true, false, "", b, a, 2, "a"},
				{"tag again", false, args("version", "v1"), false, false, "", a, a, 1, "a"},
				{"branch", false, args("version", "dev"), true, false, "", a, cc, 2, "c"},
				{"branch again", false, args("version", "dev"), false, false, "", cc, cc, 1, "c"},
				{"commit", false, args("version", a[:10]), true, false, "", cc, a, 2, "a"},
				{"commit again", false, args("version", a[:10]), false, false, "", a, a, 1, "a"},
				{"no update", false, args("version", "dev", "update", false), false, false, "", a, a, 1, "a"},
			}
			for _, s := range steps {
				res, trips := sysRun(t, c, Git{}, s.check, false, s.raw)
				sysExpect(t, s.what, res, s.changed, s.failed, s.msg)
				if res.Values["before"] != s.before || res.Values["after"] != s.after {
					t.Errorf("%s: before %v after %v, want %v %v", s.what, res.Values["before"], res.Values["after"], s.before, s.after)
				}
				if trips != s.trips {
					t.Errorf("%s: %d round trips, want %d", s.what, trips, s.trips)
				}
				if s.content != "" {
					if got := strings.TrimSpace(sysSh(t, c, "cat "+dest+"/f")); got != s.content {
						t.Errorf("%s: f = %q, want %q", s.what, got, s.content)
					}
				}
			}
			// A new commit on the remote branch, and local modifications.
			sysSh(t, c, g+"checkout -q dev && echo d >"+src+"/f && "+g+"commit -qam d && "+g+"checkout -q main")
			d := rev("dev")
			res, _ := sysRun(t, c, Git{}, false, false, args("version", "dev"))
			sysExpect(t, "follow branch", res, true, false, "")
			if res.Values["after"] != d {
				t.Errorf("follow branch: after %v, want %s", res.Values["after"], d)
			}
			if br := strings.TrimSpace(sysSh(t, c, "git -C "+dest+" rev-parse --abbrev-ref HEAD")); br != "dev" {
				t.Errorf("checkout on %q, want branch dev", br)
			}
			sysSh(t, c, "echo local >"+dest+"/f")
			res, _ = sysRun(t, c, Git{}, false, false, args("version", "dev"))
			sysExpect(t, "local mods", res, false, true, "Local modifications exist in the destination: "+dest+" (force=no).")
			res, _ = sysRun(t, c, Git{}, false, false, args("version", "dev", "force", true))
			sysExpect(t, "force", res, true, false, "Local modifications exist in the destination")
			if got := strings.TrimSpace(sysSh(t, c, "cat "+dest+"/f")); got != "d" {
				t.Errorf("force: f = %q", got)
			}
			res, _ = sysRun(t, c, Git{}, false, false, args("version", "nosuchbranch"))
			sysExpect(t, "bad version", res, false, true, "Failed to checkout nosuchbranch")
			res, _ = sysRun(t, c, Git{}, false, false, map[string]any{"repo": dir + "/nothing", "dest": dir + "/x"})
			sysExpect(t, "bad repo", res, false, true, "Failed to ls-remote")
		})
	}
}
