package modules

import (
	"regexp"
	"strings"
	"testing"

	"github.com/mdo-play/mdo-play/modules/conn"
)

func TestTempfile(t *testing.T) {
	if (Tempfile{}).Spec().CheckMode {
		t.Error("tempfile supports check mode; Ansible's does not (it is skipped)")
	}
	for _, tm := range fileTargets(t) {
		t.Run(tm.name, func(t *testing.T) {
			tg := tm.mk(t)
			setup(t, tg, map[string]string{"afile": "x"})
			tests := []struct {
				name   string
				args   map[string]any
				path   string // pattern of the new path, DIR for the test directory, %R for the random part
				state  string
				mode   string
				failed string // pattern of the failure message
			}{
				{name: "file", args: map[string]any{"path": "DIR"}, path: `DIR/ansible\.%R`, state: "file", mode: "0600"},
				{name: "directory", args: map[string]any{"path": "DIR", "state": "directory", "prefix": "d-", "suffix": ".tmp"}, path: `DIR/d-%R\.tmp`, state: "directory", mode: "0700"},
				{name: "prefix and suffix", args: map[string]any{"path": "DIR", "prefix": "it's X", "suffix": " $(x)"}, path: `DIR/it's X%R \$\(x\)`, state: "file", mode: "0600"},
				{name: "empty prefix", args: map[string]any{"path": "DIR", "prefix": ""}, path: `DIR/%R`, state: "file", mode: "0600"},
				{name: "no directory", args: map[string]any{"path": "DIR/nope"}, failed: `^\[Errno 2\] No such file or directory: 'DIR/nope/ansible\.%R'$`},
				{name: "not a directory", args: map[string]any{"path": "DIR/afile", "state": "directory"}, failed: `^\[Errno 20\] Not a directory: 'DIR/afile/ansible\.%R'$`},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					seen := map[string]bool{}
					for i := 0; i < 2; i++ {
						r, trips := runOn(t, tg, Tempfile{}, Env{}, tt.args)
						if trips != 1 {
							t.Errorf("%d round trips, want 1", trips)
						}
						if tt.failed != "" {
							if !r.Failed || r.Changed || !pattern(tt.failed).MatchString(mask(r.Msg, tg.dir)) {
								t.Errorf("failed=%v changed=%v msg=%q, want %s", r.Failed, r.Changed, r.Msg, tt.failed)
							}
							continue
						}
						p, _ := r.Values["path"].(string)
						if r.Failed || !r.Changed || !pattern("^"+tt.path+"$").MatchString(mask(p, tg.dir)) || seen[p] {
							t.Fatalf("failed=%v changed=%v msg=%q path %q, want a new path like %s", r.Failed, r.Changed, r.Msg, p, tt.path)
						}
						seen[p] = true
						if r.Values["state"] != tt.state || r.Values["mode"] != tt.mode || r.Values["owner"] != "root" || r.Values["uid"] != 0 {
							t.Errorf("values %v, want state %s mode %s owner root", r.Values, tt.state, tt.mode)
						}
						test := "-f"
						if tt.state == "directory" {
							test = "-d"
						}
						sh(t, tg.c, "test "+test+" "+conn.Quote(p))
					}
				})
			}
			t.Run("default directory", func(t *testing.T) {
				// The target's TMPDIR (or /tmp): the SSH host has no TMPDIR.
				tmp := strings.TrimSpace(sh(t, tg.c, `d=${TMPDIR:-/tmp}; cd "$d" && pwd -P`))
				r, _ := runOn(t, tg, Tempfile{}, Env{}, map[string]any{})
				p, _ := r.Values["path"].(string)
				if p != "" {
					t.Cleanup(func() { sh(t, tg.c, "rm -f -- "+conn.Quote(p)) })
				}
				if r.Failed || !pattern(`^`+regexp.QuoteMeta(tmp)+`/ansible\.[a-z0-9_]{8}$`).MatchString(p) {
					t.Errorf("failed=%v msg=%q path %q, want one in %s", r.Failed, r.Msg, p, tmp)
				}
			})
		})
	}
}

// pattern compiles a test's path pattern, %R standing for Python's eight
// random characters.
func pattern(s string) *regexp.Regexp {
	return regexp.MustCompile(strings.ReplaceAll(s, "%R", "[a-z0-9_]{8}"))
}
