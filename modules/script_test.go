package modules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mdo-play/mdo-play/modules/conn"
)

func TestScript(t *testing.T) {
	src := controllerTree(t, map[string]string{
		"hello.sh":    "#!/bin/sh\necho \"hello $1|$2\"\necho err >&2\npwd\n",
		"fail.sh":     "#!/bin/sh\necho bad\nexit 3\n",
		"odd $(x).sh": "#!/bin/sh\necho odd\n",
	})
	for _, n := range []string{"hello.sh", "fail.sh", "odd $(x).sh"} {
		if err := os.Chmod(filepath.Join(src, n), 0o644); err != nil { // not executable: the module makes it so
			t.Fatal(err)
		}
	}
	for _, tm := range fileTargets(t) {
		t.Run(tm.name, func(t *testing.T) {
			tg := tm.mk(t)
			setup(t, tg, map[string]string{"exists": "x"})
			tests := []struct {
				name    string
				args    map[string]any
				changed bool
				failed  bool
				stdout  string
				msg     string
			}{
				{name: "args", args: map[string]any{RawParams: filepath.Join(src, "hello.sh") + " 'a b' c", "chdir": "DIR"}, changed: true, stdout: "hello a b|c\nDIR\n"},
				{name: "odd name", args: map[string]any{RawParams: conn.Quote(filepath.Join(src, "odd $(x).sh"))}, changed: true, stdout: "odd\n"},
				{name: "non-zero", args: map[string]any{RawParams: filepath.Join(src, "fail.sh")}, changed: true, failed: true, stdout: "bad\n", msg: "non-zero return code"},
				{name: "creates", args: map[string]any{RawParams: filepath.Join(src, "hello.sh"), "creates": "DIR/exists"}, msg: "DIR/exists exists, matching creates option"},
				{name: "removes", args: map[string]any{RawParams: filepath.Join(src, "hello.sh"), "removes": "DIR/nope"}, msg: "DIR/nope does not exist, matching removes option"},
				{name: "missing script", args: map[string]any{RawParams: filepath.Join(src, "nope.sh")}, failed: true},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					r, calls := runOn(t, tg, Script{}, Env{}, tt.args)
					if r.Changed != tt.changed || r.Failed != tt.failed || (tt.msg != "" && mask(r.Msg, tg.dir) != tt.msg) {
						t.Fatalf("changed=%v failed=%v msg=%q (%v)", r.Changed, r.Failed, r.Msg, r.Values)
					}
					if tt.stdout != "" && mask(r.Values["stdout"].(string), tg.dir) != tt.stdout {
						t.Errorf("stdout = %q", r.Values["stdout"])
					}
					if calls > 1 {
						t.Errorf("%d round trips, want 1", calls)
					}
				})
			}
			if left := sh(t, tg.c, "ls -a ${TMPDIR:-/tmp} | grep -c mdo-script || true"); strings.TrimSpace(left) != "0" {
				t.Errorf("temporary directories left: %s", left)
			}
		})
	}
}
