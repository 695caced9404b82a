package modules

import (
	"strings"
	"testing"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// TestArchive packs trees and files with the target's tar, compressors
// and zip; member names, roots, states and messages are those
// community.general.archive gave on the same tree.
func TestArchive(t *testing.T) {
	for _, tm := range fileTargets(t) {
		t.Run(tm.name, func(t *testing.T) {
			tree := map[string]string{"src/a.txt": "a", "src/sub/b.txt": "b", "src/.h": "h", "one.txt": "one\n"}
			tests := []struct {
				name    string
				args    map[string]any
				list    string // command listing the archive DEST, its output sorted
				want    string
				state   string
				arcroot string
				failed  string
			}{
				{name: "tree as tar.gz", args: map[string]any{"path": "DIR/src", "dest": "DIR/out.tar.gz"}, list: "tar -tzf", want: "src/.h src/a.txt src/sub/ src/sub/b.txt", state: "archive", arcroot: "DIR/"},
				{name: "tree as bz2", args: map[string]any{"path": "DIR/src", "dest": "DIR/out.tbz2", "format": "bz2"}, list: "tar -tjf", want: "src/.h src/a.txt src/sub/ src/sub/b.txt", state: "archive", arcroot: "DIR/"},
				{name: "tree as xz", args: map[string]any{"path": "DIR/src", "dest": "DIR/out.txz", "format": "xz"}, list: "tar -tJf", want: "src/.h src/a.txt src/sub/ src/sub/b.txt", state: "archive", arcroot: "DIR/"},
				{name: "glob as zip", args: map[string]any{"path": "DIR/src/*.txt", "dest": "DIR/o.zip", "format": "zip"}, list: "unzip -Z1", want: "a.txt", state: "archive", arcroot: "DIR/src/"},
				{name: "exclusion patterns", args: map[string]any{"path": "DIR/src", "dest": "DIR/x.tar", "format": "tar", "exclusion_patterns": []any{"*.txt"}}, list: "tar -tf", want: "src/.h src/sub/", state: "archive", arcroot: "DIR/"},
				{name: "exclude path", args: map[string]any{"path": "DIR/one.txt,DIR/src", "exclude_path": "DIR/src", "dest": "DIR/x.tar", "format": "tar"}, list: "tar -tf", want: "one.txt", state: "archive", arcroot: "DIR/"},
				{name: "one file compressed", args: map[string]any{"path": "DIR/one.txt"}, list: "gzip -dc", want: "one", state: "compress", arcroot: "DIR/"},
				{name: "missing source", args: map[string]any{"path": "DIR/one.txt,DIR/nope", "dest": "DIR/x.tgz"}, list: "tar -tzf", want: "one.txt", state: "incomplete", arcroot: "DIR/"},
				{name: "no dest", args: map[string]any{"path": "DIR/one.txt,DIR/src"}, failed: `Error, must specify "dest" when archiving multiple files or trees`},
				{name: "nothing found", args: map[string]any{"path": "DIR/*.none"}, failed: "Error, no source paths were found"},
				{name: "inside a removed source", args: map[string]any{"path": "DIR/src", "dest": "DIR/src/x.tgz", "remove": true}, failed: "Error, created archive can not be contained in source paths when remove=true"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					tg := tm.mk(t)
					setup(t, tg, tree)
					before := snapshot(t, tg)
					rc, _ := runOn(t, tg, Archive{}, Env{Check: true}, tt.args)
					if tt.failed != "" {
						if !rc.Failed || rc.Msg != tt.failed {
							t.Errorf("failed=%v msg=%q, want %q", rc.Failed, rc.Msg, tt.failed)
						}
						return
					}
					if !rc.Changed || rc.Failed || snapshot(t, tg) != before {
						t.Errorf("check mode: changed=%v failed=%v msg=%q, or it changed files", rc.Changed, rc.Failed, rc.Msg)
					}
					r, trips := runOn(t, tg, Archive{}, Env{}, tt.args)
					if r.Failed || !r.Changed || trips != 2 {
						t.Fatalf("failed=%v changed=%v msg=%q trips=%d", r.Failed, r.Changed, r.Msg, trips)
					}
					dest := r.Values["dest"].(string)
					got := sh(t, tg.c, tt.list+" "+conn.Quote(dest)+" | LC_ALL=C sort | tr '\\n' ' '")
					if strings.TrimSpace(got) != tt.want || r.Values["dest_state"] != tt.state || mask(r.Values["arcroot"].(string), tg.dir) != tt.arcroot || r.Values["state"] != "file" {
						t.Errorf("members %q state %v arcroot %v values %v; want %q %s %s", got, r.Values["dest_state"], r.Values["arcroot"], r.Values, tt.want, tt.state, tt.arcroot)
					}
					r2, _ := runOn(t, tg, Archive{}, Env{}, tt.args)
					if r2.Failed || r2.Changed {
						t.Errorf("second run: failed=%v changed=%v msg=%q", r2.Failed, r2.Changed, r2.Msg)
					}
				})
			}
			t.Run("change and remove", func(t *testing.T) {
				tg := tm.mk(t)
				setup(t, tg, tree)
				args := map[string]any{"path": "DIR/src", "dest": "DIR/out.tgz", "mode": "0600"}
				if r, _ := runOn(t, tg, Archive{}, Env{}, args); !r.Changed || r.Values["mode"] != "0600" {
					t.Fatalf("first: %v %q %v", r.Changed, r.Msg, r.Values)
				}
				setup(t, tg, map[string]string{"src/a.txt": "changed content"})
				if r, _ := runOn(t, tg, Archive{}, Env{}, args); !r.Changed || r.Failed {
					t.Errorf("after a source changed: changed=%v failed=%v %q", r.Changed, r.Failed, r.Msg)
				}
				args["remove"] = true
				r, _ := runOn(t, tg, Archive{}, Env{}, args)
				if r.Failed {
					t.Fatalf("remove: %q", r.Msg)
				}
				if got := sh(t, tg.c, "ls -A "+conn.Quote(tg.dir)+" | tr '\\n' ' '"); got != "one.txt out.tgz " {
					t.Errorf("after remove: %q", got)
				}
				if got := sh(t, tg.c, "tar -xzOf "+conn.Quote(tg.dir+"/out.tgz")+" src/a.txt"); got != "changed content" {
					t.Errorf("archived content %q", got)
				}
			})
		})
	}
}

func TestCommonPath(t *testing.T) {
	for _, tc := range []struct {
		paths []string
		want  string
	}{
		{[]string{"/srv/a"}, "/srv/"},
		{[]string{"/srv/ab/x", "/srv/ac/y"}, "/srv/"},
		{[]string{"/srv/a/x", "/srv/a/y"}, "/srv/a/"},
		{[]string{"/a"}, "/"},
		{[]string{"rel"}, ""},
	} {
		if got := commonPath(tc.paths); got != tc.want {
			t.Errorf("commonPath(%q) = %q, want %q", tc.paths, got, tc.want)
		}
	}
}
