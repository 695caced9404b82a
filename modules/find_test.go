package modules

import (
	"crypto/sha1"
	"encoding/hex"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// TestFind runs find through the real Conn (local and a test host) over a
// tree with hidden entries, a hidden directory, a symlink, a name with a
// space, old and big files: each filter, the examined count, a missing
// path, bad arguments, and exactly one round trip per call.
func TestFind(t *testing.T) {
	for tn, c := range sysTargets(t) {
		t.Run(tn, func(t *testing.T) {
			dir := t.TempDir()
			if tn == "ssh" {
				dir = "/srv/" + sysUniq("find")
			}
			q := conn.Quote(dir)
			sysSh(t, c, "mkdir -p "+q+"/sub/deep "+q+"/.hdir && cd "+q+` &&
printf 'hello\nworld\n' >a.txt && touch -d '10 days ago' a.txt &&
head -c 2000 /dev/zero >b.log && printf 'x\n' >.hidden.txt && printf 'a needle here\n' >sub/c.txt &&
printf 'd\n' >sub/deep/d.txt && printf 'e\n' >.hdir/e.txt && ln -s a.txt link.txt && printf 's\n' >'sp ace.txt' &&
chmod 600 b.log`)
			rel := func(files any) []string {
				var out []string
				for _, f := range files.([]any) {
					out = append(out, strings.TrimPrefix(f.(map[string]any)["path"].(string), dir+"/"))
				}
				sort.Strings(out)
				return out
			}
			args := func(kv ...any) map[string]any {
				m := map[string]any{"paths": dir}
				for i := 0; i+1 < len(kv); i += 2 {
					m[kv[i].(string)] = kv[i+1]
				}
				return m
			}
			cases := []struct {
				what     string
				raw      map[string]any
				want     []string
				examined int
			}{
				{"defaults", args(), []string{"a.txt", "b.log", "sp ace.txt"}, 7},
				{"recurse txt", args("patterns", "*.txt", "recurse", true), []string{".hdir/e.txt", "a.txt", "sp ace.txt", "sub/c.txt", "sub/deep/d.txt"}, 11},
				{"hidden", args("patterns", []any{"*.txt"}, "hidden", "yes"), []string{".hidden.txt", "a.txt", "sp ace.txt"}, 7},
				{"comma patterns", args("patterns", "a*,b*"), []string{"a.txt", "b.log"}, 7},
				{"directories", args("file_type", "directory", "recurse", true), []string{"sub", "sub/deep"}, 11},
				{"links", args("file_type", "link"), []string{"link.txt"}, 7},
				{"any", args("file_type", "any", "patterns", "[ls]*"), []string{"link.txt", "sp ace.txt", "sub"}, 7},
				{"excludes", args("patterns", "*.txt", "excludes", "a*"), []string{"sp ace.txt"}, 7},
				{"regex", args("patterns", `[ab]\.`, "use_regex", true), []string{"a.txt", "b.log"}, 7},
				{"regex matches at the start", args("patterns", `txt`, "use_regex", true), nil, 7},
				{"contains at line start", args("contains", "wor", "recurse", true), []string{"a.txt"}, 11},
				{"contains not at line start", args("contains", "needle", "recurse", true), nil, 11},
				{"contains whole file", args("contains", "needle", "read_whole_file", true, "recurse", true), []string{"sub/c.txt"}, 11},
				{"contains perl class", args("contains", `\sne+dle\b`, "read_whole_file", true, "recurse", true, "patterns", "c*"), []string{"sub/c.txt"}, 11},
				{"older", args("age", "5d"), []string{"a.txt"}, 7},
				{"younger", args("age", "-1H"), []string{"b.log", "sp ace.txt"}, 7},
				{"bigger", args("size", "1k"), []string{"b.log"}, 7},
				{"smaller", args("size", "-100"), []string{"a.txt", "sp ace.txt"}, 7},
				{"depth", args("patterns", "*.txt", "recurse", true, "depth", 2, "hidden", true), []string{".hdir/e.txt", ".hidden.txt", "a.txt", "sp ace.txt", "sub/c.txt"}, 11},
				{"depth 1", args("recurse", true, "depth", 1), []string{"a.txt", "b.log", "sp ace.txt"}, 10},
				{"mode exact", args("mode", "0600"), []string{"b.log"}, 7},
				{"mode any bit", args("mode", "g=r", "exact_mode", false), []string{"a.txt", "sp ace.txt"}, 7},
				{"follow", args("follow", true, "file_type", "link"), []string{"link.txt"}, 7},
			}
			for _, tc := range cases {
				for _, check := range []bool{false, true} {
					res, trips := sysRun(t, c, Find{}, check, false, tc.raw)
					sysExpect(t, tc.what, res, false, false, "All paths examined")
					if trips != 1 {
						t.Errorf("%s: %d round trips, want 1", tc.what, trips)
					}
					if got := rel(res.Values["files"]); !reflect.DeepEqual(got, tc.want) {
						t.Errorf("%s: files %q, want %q", tc.what, got, tc.want)
					}
					if res.Values["matched"] != len(tc.want) || res.Values["examined"] != tc.examined {
						t.Errorf("%s: matched %v examined %v, want %d %d", tc.what, res.Values["matched"], res.Values["examined"], len(tc.want), tc.examined)
					}
				}
			}

			res, _ := sysRun(t, c, Find{}, false, false, args("patterns", "a.txt", "get_checksum", true))
			f := res.Values["files"].([]any)[0].(map[string]any)
			sum := sha1.Sum([]byte("hello\nworld\n"))
			if f["checksum"] != hex.EncodeToString(sum[:]) || f["path"] != filepath.Join(dir, "a.txt") || f["size"] != 12 ||
				f["pw_name"] != "root" || f["gr_name"] != "root" || f["isreg"] != true || f["islnk"] != false || f["mode"] != "0644" {
				t.Errorf("stat entry %v", f)
			}
			for _, k := range []string{"uid", "gid", "inode", "dev", "nlink", "atime", "mtime", "ctime", "rusr", "xoth", "isuid", "isgid"} {
				if _, ok := f[k]; !ok {
					t.Errorf("stat entry lacks %s: %v", k, f)
				}
			}
			res, _ = sysRun(t, c, Find{}, false, false, args("paths", []any{dir + "/sub", dir + "/nope", dir + "/a.txt"}, "get_checksum", true, "checksum_algorithm", "sha256"))
			sysExpect(t, "missing path", res, false, false, "Not all paths examined, check warnings for details")
			want := map[string]any{dir + "/nope": "'" + dir + "/nope' is not a directory", dir + "/a.txt": "'" + dir + "/a.txt' is not a directory"}
			if !reflect.DeepEqual(res.Values["skipped_paths"], want) || len(res.Warnings) != 2 {
				t.Errorf("skipped_paths %v warnings %q", res.Values["skipped_paths"], res.Warnings)
			}
			if got := rel(res.Values["files"]); !reflect.DeepEqual(got, []string{"sub/c.txt"}) {
				t.Errorf("files %q", got)
			} else if sum := res.Values["files"].([]any)[0].(map[string]any)["checksum"].(string); len(sum) != 64 {
				t.Errorf("sha256 checksum %q", sum)
			}

			for _, bad := range []struct {
				what string
				raw  map[string]any
				msg  string
			}{
				{"bad age", args("age", "5y"), "failed to process age"},
				{"bad size", args("size", "big"), "failed to process size"},
				{"bad contains", args("contains", "(x"), "contains: grep:"},
				{"bad regex", args("patterns", "(x", "use_regex", true), `invalid pattern "(x"`},
			} {
				res, _ := sysRun(t, c, Find{}, false, false, bad.raw)
				sysExpect(t, bad.what, res, false, true, bad.msg)
			}
		})
	}
}

// TestFindGlob checks the translation of globs against Python's fnmatch.
func TestFindGlob(t *testing.T) {
	cases := []struct {
		pat, name string
		want      bool
	}{
		{"*.txt", "a.txt", true},
		{"*.txt", "a.txt.bak", false},
		{"?.txt", "ab.txt", false},
		{"[ab]*", "b", true},
		{"[!ab]*", "b", false},
		{"[!ab]*", "c", true},
		{"[", "[", true},
		{"a[", "a[", true},
		{`a\b`, `a\b`, true},
		{"[]]", "]", true},
		{"[^a]", "^", true},
		{"a.b", "axb", false},
		{"*", ".x", true},
	}
	for _, tc := range cases {
		re, err := findPattern(tc.pat, false)
		if err != nil {
			t.Errorf("%q: %v", tc.pat, err)
			continue
		}
		if got := re.MatchString(tc.name); got != tc.want {
			t.Errorf("fnmatch(%q, %q) = %v, want %v (%s)", tc.name, tc.pat, got, tc.want, re)
		}
	}
}
