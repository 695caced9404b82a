package modules

import (
	"os"
	"strings"
	"testing"
)

// makeTestfile builds out from in, honours VAR and fails in target broken.
const makeTestfile = `out: in
	cp in out
	@echo built $(VAR)
second: out
	@echo second
broken:
	@echo about to fail
	@echo it broke >&2; exit 3
`

// TestMake runs the real make, locally and over SSH: check mode, a build,
// the up-to-date second run, params, jobs, file and targets, and the
// errors of the collection's module.
func TestMake(t *testing.T) {
	// Under `make test` the local target inherits the outer make's
	// MAKELEVEL and MAKEFLAGS, which turn on "Entering directory" lines.
	for _, v := range []string{"MAKELEVEL", "MAKEFLAGS", "MFLAGS"} {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
	for _, tm := range fileTargets(t) {
		t.Run(tm.name, func(t *testing.T) {
			tg := tm.mk(t)
			setup(t, tg, map[string]string{"in": "v1\n", "alt/GNUmakefile.custom": "all:\n\t@echo custom $(X)\n\ttouch made\n", "Makefile": makeTestfile})
			state := func() string { return readRemote(t, tg, "out") }
			d := tg.dir
			steps := []modsbStep{
				{"check", true, map[string]any{"chdir": d}, true, false, "", "<absent>", 1},
				{"build", false, map[string]any{"chdir": d, "params": map[string]any{"VAR": "x y"}}, true, false, "", "v1\n", 1},
				{"up to date", false, map[string]any{"chdir": d, "target": "out"}, false, false, "", "v1\n", 1},
				{"check up to date", true, map[string]any{"chdir": d, "jobs": 2}, false, false, "", "v1\n", 1},
				{"broken", false, map[string]any{"chdir": d, "target": "broken"}, false, true, "it broke", "v1\n", 1},
				{"no dir", false, map[string]any{"chdir": d + "/nope"}, false, true, "Provided cwd is not a valid directory: " + d + "/nope", "v1\n", 1},
				{"no make", false, map[string]any{"chdir": d, "make": d + "/nomake"}, false, true, "nomake: not found", "v1\n", 1},
			}
			res := modsbRunSteps(t, tg.c, Make{}, steps, state)
			b := res["build"].Values
			if b["stdout"] != "cp in out\nbuilt x y" || b["stderr"] != "" || !strings.HasSuffix(b["command"].(string), "make 'VAR=x y'") || b["chdir"] != d {
				t.Errorf("build values %v", b)
			}
			if v := res["up to date"].Values; v["target"] != "out" || v["targets"] != nil || v["params"] != nil || v["jobs"] != nil || v["file"] != nil {
				t.Errorf("up to date values %v", v)
			}
			if v := res["check up to date"].Values; v["jobs"] != 2 || !strings.HasSuffix(v["command"].(string), "make -j 2") {
				t.Errorf("jobs values %v", v)
			}
			if v := res["broken"].Values; v["rc"] != 2 || v["stdout"] != "about to fail" || !strings.HasPrefix(v["stderr"].(string), "it broke\n") || !strings.HasSuffix(v["cmd"].(string), "make broken") {
				t.Errorf("broken values %v", v)
			}

			// A newer input: the targets list rebuilds out and runs second.
			sh(t, tg.c, "cd "+d+" && printf 'v2\\n' >in && touch -d '+1 min' in")
			r, _ := sysRun(t, tg.c, Make{}, false, false, map[string]any{"chdir": d, "targets": []any{"out", "second"}})
			sysExpect(t, "targets", r, true, false, "")
			if got := readRemote(t, tg, "out"); got != "v2\n" || r.Values["stdout"] != "cp in out\nbuilt\nsecond" {
				t.Errorf("targets: out %q, stdout %q", got, r.Values["stdout"])
			}

			// A makefile named by file (a target that is never up to date).
			f := map[string]any{"chdir": d, "file": d + "/alt/GNUmakefile.custom", "params": map[string]any{"X": true}}
			r, _ = sysRun(t, tg.c, Make{}, false, false, f)
			sysExpect(t, "file", r, true, false, "")
			if r.Values["stdout"] != "custom True\ntouch made" || r.Values["file"] != d+"/alt/GNUmakefile.custom" || readRemote(t, tg, "made") != "" {
				t.Errorf("file: %v", r.Values)
			}
		})
	}
}

// TestMakeSpec checks the arguments refused before anything runs.
func TestMakeSpec(t *testing.T) {
	for _, tc := range []struct {
		raw  map[string]any
		want string
	}{
		{map[string]any{"target": "all"}, `missing required argument "chdir"`},
		{map[string]any{"chdir": "/", "target": "a", "targets": []any{"b"}}, "mutually exclusive: target|targets"},
		{map[string]any{"chdir": "/", "jobs": "many"}, `argument "jobs": expected an integer`},
	} {
		if _, err := (Make{}).Spec().Normalize(tc.raw); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Normalize(%v) = %v, want %q", tc.raw, err, tc.want)
		}
	}
}
