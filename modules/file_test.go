package modules

import (
	"strings"
	"testing"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// TestFile ports the behaviour checks of Ansible's file integration target
// (test/integration/targets/file/tasks/main.yml): states, modes (octal and
// symbolic), links, hard links, touch, absent, recurse, force, and the
// error messages, compared with ansible-core 2.x run locally.
func TestFile(t *testing.T) {
	stat := func(rel, format, want string) func(t *testing.T, tg target, r Result) {
		return func(t *testing.T, tg target, r Result) {
			t.Helper()
			want := strings.ReplaceAll(want, "DIR", tg.dir)
			if got := strings.TrimSpace(sh(t, tg.c, "stat -c "+conn.Quote(format)+" -- "+conn.Quote(tg.dir+"/"+rel))); got != want {
				t.Errorf("stat %s of %s = %q, want %q", format, rel, got, want)
			}
		}
	}
	values := func(want map[string]any) func(t *testing.T, tg target, r Result) {
		return func(t *testing.T, tg target, r Result) {
			t.Helper()
			for k, v := range want {
				if s, ok := v.(string); ok {
					v = strings.ReplaceAll(s, "DIR", tg.dir)
				}
				if r.Values[k] != v {
					t.Errorf("%s = %#v, want %#v (values %v)", k, r.Values[k], v, r.Values)
				}
			}
		}
	}
	cases := []fileCase{
		{name: "directory", args: map[string]any{"path": "DIR/d", "state": "directory", "mode": "0750"}, calls: 1,
			check: func(t *testing.T, tg target, r Result) {
				stat("d", "%F %a", "directory 750")(t, tg, r)
				values(map[string]any{"path": "DIR/d", "state": "directory", "mode": "0750"})(t, tg, r)
			}},
		{name: "nested directories", args: map[string]any{"path": "DIR/a/b/c", "state": "directory"}, check: stat("a/b/c", "%F", "directory")},
		{name: "existing directory", files: map[string]string{"d/": ""}, args: map[string]any{"path": "DIR/d", "state": "directory"}, unchanged: true, calls: 1},
		{name: "directory over a file", files: map[string]string{"f": "x"}, args: map[string]any{"path": "DIR/f", "state": "directory"}, failed: true, msg: "DIR/f already exists as a file"},
		{name: "file absent", args: map[string]any{"path": "DIR/f", "state": "file"}, failed: true, msg: "file (DIR/f) is absent, cannot continue"},
		{name: "file is a directory", files: map[string]string{"d/": ""}, args: map[string]any{"path": "DIR/d", "state": "file"}, failed: true, msg: "file (DIR/d) is directory, cannot continue"},
		{name: "file mode", files: map[string]string{"f": "x"}, args: map[string]any{"path": "DIR/f", "mode": "0600"}, calls: 1, check: stat("f", "%a", "600")},
		{name: "file mode with state file", files: map[string]string{"f": "x"}, args: map[string]any{"path": "DIR/f", "state": "file", "mode": "04750"}, calls: 1, check: stat("f", "%a", "4750")},
		{name: "file mode unchanged", files: map[string]string{"f": "x"}, args: map[string]any{"path": "DIR/f", "mode": "0644"}, unchanged: true, calls: 1},
		{name: "directory mode change", files: map[string]string{"d/": ""}, args: map[string]any{"path": "DIR/d", "state": "directory", "mode": "0700"}, calls: 1, check: stat("d", "%F %a", "directory 700")},
		{name: "directory mode without state", files: map[string]string{"d/": ""}, args: map[string]any{"path": "DIR/d", "mode": "01777"}, calls: 1, check: stat("d", "%F %a", "directory 1777")},
		{name: "directory without mode", args: map[string]any{"path": "DIR/d", "state": "directory"}, calls: 1, check: stat("d", "%F", "directory")},
		{name: "file mode through a link", files: map[string]string{"f": "x", "l": "@f"}, args: map[string]any{"path": "DIR/l", "mode": "0640", "state": "file"}, calls: 3, check: stat("f", "%a", "640")},
		{name: "symbolic mode", files: map[string]string{"f": "x"}, args: map[string]any{"path": "DIR/f", "state": "file", "mode": "u=rwx,g=r,o="}, calls: 2, check: stat("f", "%a", "740")},
		{name: "symbolic mode X on directory", files: map[string]string{"d/": ""}, args: map[string]any{"path": "DIR/d", "state": "directory", "mode": "a=rX"}, check: stat("d", "%a", "555")},
		{name: "owner by id unchanged", files: map[string]string{"f": "x"}, args: map[string]any{"path": "DIR/f", "owner": "0", "group": "0"}, unchanged: true},
		{name: "owner change", files: map[string]string{"f": "x"}, args: map[string]any{"path": "DIR/f", "owner": "nobody"}, check: stat("f", "%U", "nobody")},
		{name: "bad mode", files: map[string]string{"f": "x"}, args: map[string]any{"path": "DIR/f", "mode": "u=rw,z"}, failed: true},
		{name: "touch new", args: map[string]any{"path": "DIR/t", "state": "touch"}, notIdempotent: true,
			check: func(t *testing.T, tg target, r Result) {
				stat("t", "%F %s", "regular empty file 0")(t, tg, r)
				values(map[string]any{"dest": "DIR/t", "state": "file"})(t, tg, r)
			}},
		{name: "touch preserve", args: map[string]any{"path": "DIR/t", "state": "touch", "modification_time": "preserve", "access_time": "preserve"}},
		{name: "touch timestamp", files: map[string]string{"t": "x"}, args: map[string]any{"path": "DIR/t", "state": "touch", "modification_time": "202401021504.05", "access_time": "preserve"}, notIdempotent: true,
			check: stat("t", "%y", "2024-01-02 15:04:05.000000000 +0000")},
		{name: "absent file", files: map[string]string{"f": "x"}, args: map[string]any{"path": "DIR/f", "state": "absent"}, want: map[string]string{"f": "<absent>"},
			check: values(map[string]any{"path": "DIR/f", "state": "absent"})},
		{name: "absent tree", files: map[string]string{"d/e/f": "x"}, args: map[string]any{"path": "DIR/d", "state": "absent"}, want: map[string]string{"d/e/f": "<absent>"}},
		{name: "absent missing", args: map[string]any{"path": "DIR/nope", "state": "absent"}, unchanged: true},
		{name: "symlink", files: map[string]string{"f": "x"}, args: map[string]any{"path": "DIR/l", "src": "f", "state": "link"}, want: map[string]string{"l": "x"},
			check: func(t *testing.T, tg target, r Result) {
				stat("l", "%N", "'DIR/l' -> 'f'")(t, tg, r)
				values(map[string]any{"dest": "DIR/l", "src": "f", "state": "link"})(t, tg, r)
			}},
		{name: "symlink retarget", files: map[string]string{"f": "x", "g": "y", "l": "@f"}, args: map[string]any{"path": "DIR/l", "src": "g", "state": "link"}, want: map[string]string{"l": "y"}},
		{name: "symlink unchanged", files: map[string]string{"f": "x", "l": "@f"}, args: map[string]any{"path": "DIR/l", "src": "f", "state": "link"}, unchanged: true},
		{name: "symlink to missing src", args: map[string]any{"path": "DIR/l", "src": "DIR/nope", "state": "link"}, failed: true, msg: `src file does not exist, use "force=yes" if you really want to create the link: DIR/nope`},
		{name: "dangling symlink with force", args: map[string]any{"path": "DIR/l", "src": "nope", "state": "link", "force": true}, check: stat("l", "%N", "'DIR/l' -> 'nope'")},
		{name: "symlink over a file refused", files: map[string]string{"f": "x", "g": "y"}, args: map[string]any{"path": "DIR/f", "src": "g", "state": "link"}, failed: true, msg: "refusing to convert from file to symlink for DIR/f"},
		{name: "symlink over a file with force", files: map[string]string{"f": "x", "g": "y"}, args: map[string]any{"path": "DIR/f", "src": "g", "state": "link", "force": true}, want: map[string]string{"f": "y"}},
		{name: "symlink without src", args: map[string]any{"path": "DIR/l", "state": "link"}, failed: true, msg: "src is required for creating new symlinks"},
		{name: "hard link", files: map[string]string{"f": "x"}, args: map[string]any{"path": "DIR/h", "src": "DIR/f", "state": "hard"}, want: map[string]string{"h": "x"},
			check: func(t *testing.T, tg target, r Result) {
				stat("h", "%h", "2")(t, tg, r)
				values(map[string]any{"dest": "DIR/h", "state": "hard"})(t, tg, r)
			}},
		{name: "hard link missing src", args: map[string]any{"path": "DIR/h", "src": "DIR/nope", "state": "hard"}, failed: true, msg: "src does not exist"},
		{name: "hard link over a file", files: map[string]string{"f": "x", "h": "y"}, args: map[string]any{"path": "DIR/h", "src": "DIR/f", "state": "hard"}, failed: true, msg: "Cannot link, file exists at destination"},
		{name: "recurse", files: map[string]string{"d/a": "a", "d/s/b": "b", "d/s/t/": ""}, args: map[string]any{"path": "DIR/d", "state": "directory", "recurse": true, "mode": "u=rwX,g=rX,o="},
			check: func(t *testing.T, tg target, r Result) {
				stat("d/a", "%a", "640")(t, tg, r)
				stat("d/s/t", "%a", "750")(t, tg, r)
				stat("d", "%a", "750")(t, tg, r)
			}},
		{name: "recurse needs directory", args: map[string]any{"path": "DIR/d", "state": "file", "recurse": true}, failed: true, msg: "recurse option requires state to be 'directory'"},
		{name: "odd name", args: map[string]any{"path": "DIR/we'ird $(touch pwned) `x`\nname", "state": "directory"}, want: map[string]string{"pwned": "<absent>"},
			check: stat("we'ird $(touch pwned) `x`\nname", "%F", "directory")},
	}
	runFileCases(t, File{}, "file.diff", cases)
}
