package modules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	patchOne = "--- f\n+++ f\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"
	patchP1  = "--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n a\n B\n-c\n+C\n"
	patchBad = "--- f\n+++ f\n@@ -1,3 +1,3 @@\n x\n-y\n+Y\n z\n"
)

// TestPatch drives the real GNU patch, locally and over SSH: a patch from
// the controller (sent on stdin) applied, found applied, reverted; a
// remote patch with basedir, strip and backup; check mode; and the
// collection's errors.
func TestPatch(t *testing.T) {
	ctl := t.TempDir()
	for n, body := range map[string]string{"one.patch": patchOne, "bad.patch": patchBad} {
		if err := os.WriteFile(filepath.Join(ctl, n), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	one, bad := filepath.Join(ctl, "one.patch"), filepath.Join(ctl, "bad.patch")
	for _, tm := range fileTargets(t) {
		t.Run(tm.name, func(t *testing.T) {
			tg := tm.mk(t)
			d := tg.dir
			setup(t, tg, map[string]string{"f": "a\nb\nc\n", "p1.patch": patchP1})
			state := func() string {
				return sh(t, tg.c, "cd "+d+" && for f in f f.~1~; do [ -f $f ] && { echo \"== $f\"; cat $f; }; done; true")
			}
			orig, patched := "== f\na\nb\nc\n", "== f\na\nB\nc\n"
			steps := []modsbStep{
				{"check", true, map[string]any{"src": one, "dest": d + "/f"}, true, false, "", orig, 1},
				{"apply", false, map[string]any{"src": one, "dest": d + "/f"}, true, false, "", patched, 1},
				{"apply again", false, map[string]any{"patchfile": one, "originalfile": d + "/f"}, false, false, "", patched, 1},
				{"absent check", true, map[string]any{"src": one, "dest": d + "/f", "state": "absent"}, true, false, "", patched, 1},
				{"absent", false, map[string]any{"src": one, "dest": d + "/f", "state": "absent"}, true, false, "", orig, 1},
				{"absent again", false, map[string]any{"src": one, "dest": d + "/f", "state": "absent"}, false, false, "", orig, 1},
				{"apply for p1", false, map[string]any{"src": one, "basedir": d}, true, false, "", patched, 1},
				{"basedir strip backup", false, map[string]any{"src": d + "/p1.patch", "remote_src": true, "basedir": d, "strip": 1, "backup": true}, true, false, "",
					"== f\na\nB\nC\n== f.~1~\na\nB\nc\n", 1},
				{"basedir again", false, map[string]any{"src": d + "/p1.patch", "remote_src": true, "basedir": d, "strip": 1, "backup": true}, false, false, "",
					"== f\na\nB\nC\n== f.~1~\na\nB\nc\n", 1},
				{"does not apply", false, map[string]any{"src": bad, "dest": d + "/f"}, false, true, "1 out of 1 hunk FAILED", "== f\na\nB\nC\n== f.~1~\na\nB\nc\n", 1},
				{"no src", false, map[string]any{"src": d + "/none.patch", "remote_src": true, "dest": d + "/f"}, false, true, "src " + d + "/none.patch doesn't exist or not readable", "== f\na\nB\nC\n== f.~1~\na\nB\nc\n", 1},
				{"no dest", false, map[string]any{"src": one, "dest": d + "/g"}, false, true, "dest " + d + "/g doesn't exist or not writable", "== f\na\nB\nC\n== f.~1~\na\nB\nc\n", 1},
				{"no basedir", false, map[string]any{"src": one, "basedir": d + "/nodir"}, false, true, "basedir " + d + "/nodir doesn't exist", "== f\na\nB\nC\n== f.~1~\na\nB\nc\n", 1},
				{"no controller file", false, map[string]any{"src": ctl + "/none.patch", "dest": d + "/f"}, false, true, "Could not find or access '" + ctl + "/none.patch' on the Ansible Controller.", "== f\na\nB\nC\n== f.~1~\na\nB\nc\n", 0},
			}
			modsbRunSteps(t, tg.c, Patch{}, steps, state)
			if got := sh(t, tg.c, "ls -A "+d); strings.Contains(got, "rej") || strings.Contains(got, "orig") {
				t.Errorf("patch left files behind: %q", got)
			}
		})
	}
	if _, err := (Patch{}).Spec().Normalize(map[string]any{"src": "x"}); err == nil || !strings.Contains(err.Error(), "one of the following is required: dest, basedir") {
		t.Errorf("no dest or basedir: %v", err)
	}
}
