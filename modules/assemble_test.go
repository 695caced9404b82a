package modules

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// assembleTree is the source directory of the assemble tests; the
// expected outputs below were made by ansible-core 2.14's assemble from
// the same tree.
var assembleTree = map[string]string{
	"asm/1": "a\n", "asm/2": "b", "asm/3": "c\n", "asm/.hidden": "h\n", "asm/4e": "",
	"asm/5link": "@1", "asm/6dirlink": "@sub", "asm/sub/": "",
}

func TestAssemble(t *testing.T) {
	if (Assemble{}).Spec().CheckMode {
		t.Error("assemble supports check mode; Ansible's does not (it is skipped)")
	}
	for _, tm := range fileTargets(t) {
		t.Run(tm.name, func(t *testing.T) {
			tests := []struct {
				name string
				args map[string]any
				want string
			}{
				{name: "plain", args: map[string]any{}, want: "h\na\nb\nc\n\na\n"},
				{name: "delimiter", args: map[string]any{"delimiter": "###"}, want: "h\n###\na\n###\nb\n###\nc\n###\n\n###\na\n"},
				{name: "escaped delimiter", args: map[string]any{"delimiter": `\n--\x41\101`}, want: "h\n\n--AA\na\n\n--AA\nb\n\n--AA\nc\n\n--AA\n\n\n--AA\na\n"},
				{name: "regexp", args: map[string]any{"regexp": "^[12]"}, want: "a\nb"},
				{name: "ignore hidden", args: map[string]any{"ignore_hidden": true, "delimiter": "#"}, want: "a\n#\nb\n#\nc\n#\n\n#\na\n"},
				{name: "mode", args: map[string]any{"mode": "0600"}, want: "h\na\nb\nc\n\na\n"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					tg := tm.mk(t)
					setup(t, tg, assembleTree)
					raw := map[string]any{"src": "DIR/asm", "dest": "DIR/out"}
					for k, v := range tt.args {
						raw[k] = v
					}
					r, trips := runOn(t, tg, Assemble{}, Env{Diff: true}, raw)
					if r.Failed || !r.Changed || trips != 2 || r.Msg != "OK" {
						t.Fatalf("failed=%v changed=%v msg=%q trips=%d, want changed in 2", r.Failed, r.Changed, r.Msg, trips)
					}
					got := sh(t, tg.c, "cat "+conn.Quote(tg.dir+"/out"))
					if got != tt.want {
						t.Errorf("assembled %q, want %q", got, tt.want)
					}
					sum, md5sum := sums([]byte(tt.want))
					mode := "0644"
					if m, ok := tt.args["mode"]; ok {
						mode = m.(string)
					}
					if r.Values["checksum"] != sum || r.Values["md5sum"] != md5sum || r.Values["mode"] != mode || r.Values["state"] != "file" || mask(r.Values["src"].(string), tg.dir) != "DIR/asm" {
						t.Errorf("values %v", r.Values)
					}
					if len(r.Diff) != 1 || r.Diff[0].Before != "" || r.Diff[0].After != tt.want {
						t.Errorf("diff %+v", r.Diff)
					}
					r2, trips2 := runOn(t, tg, Assemble{}, Env{}, raw)
					if r2.Failed || r2.Changed || trips2 != 1 || r2.Values["checksum"] != sum {
						t.Errorf("second run: failed=%v changed=%v trips=%d values %v, want ok in one exec", r2.Failed, r2.Changed, trips2, r2.Values)
					}
					// A changed mode alone is a change, as set_fs_attributes_if_different makes it.
					raw["mode"] = "0640"
					r3, _ := runOn(t, tg, Assemble{}, Env{}, raw)
					if !r3.Changed || r3.Values["mode"] != "0640" {
						t.Errorf("mode change: changed=%v values %v", r3.Changed, r3.Values)
					}
				})
			}
			t.Run("errors", func(t *testing.T) {
				tg := tm.mk(t)
				setup(t, tg, assembleTree)
				setup(t, tg, map[string]string{"out": "old\n"})
				for _, c := range []struct {
					args map[string]any
					msg  string
				}{
					{map[string]any{"src": "DIR/nope"}, "Source (DIR/nope) does not exist"},
					{map[string]any{"src": "DIR/asm/1"}, "Source (DIR/asm/1) is not a directory"},
					{map[string]any{"src": "DIR/asm", "validate": "false %s"}, "failed to validate: rc:1 error:"},
					{map[string]any{"src": "DIR/asm", "validate": "true"}, "validate must contain %s: true"},
					{map[string]any{"src": "DIR/asm", "regexp": "(?<=x)"}, "Invalid Regexp ("},
				} {
					raw := map[string]any{"dest": "DIR/out"}
					for k, v := range c.args {
						raw[k] = v
					}
					r, _ := runOn(t, tg, Assemble{}, Env{}, raw)
					if !r.Failed || r.Changed || !strings.HasPrefix(mask(r.Msg, tg.dir), c.msg) {
						t.Errorf("%v: failed=%v changed=%v msg=%q, want %q", c.args, r.Failed, r.Changed, r.Msg, c.msg)
					}
				}
				if got := sh(t, tg.c, "cat "+conn.Quote(tg.dir+"/out")); got != "old\n" {
					t.Errorf("dest after failures: %q", got)
				}
				r, _ := runOn(t, tg, Assemble{}, Env{}, map[string]any{"src": "DIR/asm", "dest": "DIR/out", "backup": true, "validate": "test -s %s"})
				b, _ := r.Values["backup_file"].(string)
				if r.Failed || !r.Changed || !regexp.MustCompile(`/out\.\d+\.\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d~$`).MatchString(b) {
					t.Fatalf("backup: failed=%v msg=%q values %v", r.Failed, r.Msg, r.Values)
				}
				if got := sh(t, tg.c, "cat "+conn.Quote(b)); got != "old\n" {
					t.Errorf("backup holds %q", got)
				}
			})
		})
	}
}

// TestAssembleFromController assembles fragments from a controller
// directory (remote_src: false) onto each target.
func TestAssembleFromController(t *testing.T) {
	local := t.TempDir()
	for n, c := range map[string]string{"b.conf": "two", "a.conf": "one\n", ".x": "hidden\n"} {
		if err := os.WriteFile(filepath.Join(local, n), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tm := range fileTargets(t) {
		t.Run(tm.name, func(t *testing.T) {
			tg := tm.mk(t)
			raw := map[string]any{"src": local, "dest": "DIR/out", "remote_src": false, "ignore_hidden": true, "delimiter": "# --"}
			r, _ := runOn(t, tg, Assemble{}, Env{}, raw)
			if r.Failed || !r.Changed {
				t.Fatalf("failed=%v msg=%q", r.Failed, r.Msg)
			}
			if got := sh(t, tg.c, "cat "+conn.Quote(tg.dir+"/out")); got != "one\n# --\ntwo" {
				t.Errorf("assembled %q", got)
			}
			if r2, trips := runOn(t, tg, Assemble{}, Env{}, raw); r2.Changed || trips != 1 {
				t.Errorf("second run: changed=%v trips=%d", r2.Changed, trips)
			}
		})
	}
}

func TestPyEscapeDecode(t *testing.T) {
	for in, want := range map[string]string{
		`a\nb`: "a\nb", `\t\\\'\"`: "\t\\'\"", `\x41\x4`: "A\\x4", `\101\0\7z`: "A\x00\x07z", `\q`: `\q`, "\\\nx": "x", `end\`: `end\`,
	} {
		if got := string(pyEscapeDecode([]byte(in))); got != want {
			t.Errorf("pyEscapeDecode(%q) = %q, want %q", in, got, want)
		}
	}
}
