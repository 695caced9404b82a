package modules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// controllerTree writes files on the controller (the test process) and
// returns their directory.
func controllerTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestCopy ports the behaviour checks of Ansible's copy integration target
// (test/integration/targets/copy/tasks/tests.yml): content and src files,
// directory trees with and without a trailing slash, dest directories,
// force, backup, validate, modes, remote_src and the error messages.
func TestCopy(t *testing.T) {
	src := controllerTree(t, map[string]string{
		"foo.txt":             "foo.txt\n",
		"tree/a.txt":          "a\n",
		"tree/sub/b.txt":      "b\n",
		"tree/sub/deep/c.txt": "c\n",
		"exec.sh":             "#!/bin/sh\necho hi\n",
	})
	if err := os.Chmod(filepath.Join(src, "exec.sh"), 0o750); err != nil {
		t.Fatal(err)
	}
	foo := filepath.Join(src, "foo.txt")
	mode := func(rel, want string) func(t *testing.T, tg target, r Result) {
		return func(t *testing.T, tg target, r Result) {
			t.Helper()
			if got := strings.TrimSpace(sh(t, tg.c, "stat -c %a "+conn.Quote(tg.dir+"/"+rel))); got != want {
				t.Errorf("mode of %s = %s, want %s", rel, got, want)
			}
		}
	}
	cases := []fileCase{
		{
			name: "content to a new file", args: map[string]any{"content": "hello\n", "dest": "DIR/hello.txt"},
			want: map[string]string{"hello.txt": "hello\n"}, calls: 2,
			check: func(t *testing.T, tg target, r Result) {
				if r.Values["checksum"] != "f572d396fae9206628714fb2ce00f72e94f2258f" || r.Values["md5sum"] != "b1946ac92492d2347c6235b4d2611184" ||
					r.Values["dest"] != tg.dir+"/hello.txt" || r.Values["state"] != "file" || r.Values["size"] != int64(6) || r.Values["mode"] != "0644" {
					t.Errorf("values = %v", r.Values)
				}
			},
		},
		{
			name: "content replaces a file and keeps its mode", files: map[string]string{"f": "old\n"},
			args: map[string]any{"content": "new\n", "dest": "DIR/f"}, want: map[string]string{"f": "new\n"},
		},
		{name: "content unchanged costs one exec", files: map[string]string{"f": "same\n"}, args: map[string]any{"content": "same\n", "dest": "DIR/f"}, unchanged: true, calls: 1},
		{name: "mode only", files: map[string]string{"f": "same\n"}, args: map[string]any{"content": "same\n", "dest": "DIR/f", "mode": "0600"}, check: mode("f", "600")},
		{name: "symbolic mode", args: map[string]any{"content": "x", "dest": "DIR/f", "mode": "u=rw,g=,o="}, check: mode("f", "600")},
		{name: "src file", args: map[string]any{"src": foo, "dest": "DIR/foo.txt"}, want: map[string]string{"foo.txt": "foo.txt\n"}},
		{name: "src file into an existing directory", files: map[string]string{"d/": ""}, args: map[string]any{"src": foo, "dest": "DIR/d"}, want: map[string]string{"d/foo.txt": "foo.txt\n"}},
		{name: "dest with a trailing slash is created", args: map[string]any{"src": foo, "dest": "DIR/new/sub/"}, want: map[string]string{"new/sub/foo.txt": "foo.txt\n"}},
		{name: "mode preserve", args: map[string]any{"src": filepath.Join(src, "exec.sh"), "dest": "DIR/exec.sh", "mode": "preserve"}, check: mode("exec.sh", "750")},
		{name: "force no keeps an existing file", files: map[string]string{"f": "mine\n"}, args: map[string]any{"content": "theirs\n", "dest": "DIR/f", "force": "no"}, unchanged: true, want: map[string]string{"f": "mine\n"}},
		{name: "force no creates a missing file", args: map[string]any{"content": "theirs\n", "dest": "DIR/f", "force": false}, want: map[string]string{"f": "theirs\n"}},
		{
			name: "backup", files: map[string]string{"f": "old\n"}, args: map[string]any{"content": "new\n", "dest": "DIR/f", "backup": true},
			want: map[string]string{"f": "new\n"},
			check: func(t *testing.T, tg target, r Result) {
				b, _ := r.Values["backup_file"].(string)
				if !strings.HasPrefix(b, tg.dir+"/f.") || !strings.HasSuffix(b, "~") {
					t.Fatalf("backup_file = %q", b)
				}
				if got := readRemote(t, tg, strings.TrimPrefix(b, tg.dir+"/")); got != "old\n" {
					t.Errorf("backup holds %q", got)
				}
			},
		},
		{name: "validate passes", args: map[string]any{"content": "ok\n", "dest": "DIR/f", "validate": "grep -q ok %s"}, want: map[string]string{"f": "ok\n"}},
		{
			name: "validate fails", files: map[string]string{"f": "old\n"}, args: map[string]any{"content": "bad\n", "dest": "DIR/f", "validate": "grep -q ok %s"},
			failed: true, msg: "failed to validate", want: map[string]string{"f": "old\n"},
			check: func(t *testing.T, tg target, r Result) {
				if r.Values["exit_status"] != 1 {
					t.Errorf("values = %v", r.Values)
				}
				if got := sh(t, tg.c, "ls -A "+conn.Quote(tg.dir)); got != "f\n" {
					t.Errorf("left behind: %q", got)
				}
			},
		},
		{name: "validate without %s", args: map[string]any{"content": "x", "dest": "DIR/f", "validate": "true"}, failed: true, msg: "validate must contain %s: true"},
		{name: "odd file name", args: map[string]any{"content": "odd\n", "dest": "DIR/we'ird $(touch pwned) `x`\nname"}, want: map[string]string{"we'ird $(touch pwned) `x`\nname": "odd\n", "pwned": "<absent>"}},
		{name: "missing parent directory", args: map[string]any{"content": "x", "dest": "DIR/nodir/f"}, failed: true, msg: "Destination directory DIR/nodir does not exist"},
		{name: "content into a directory", files: map[string]string{"d/": ""}, args: map[string]any{"content": "x", "dest": "DIR/d"}, failed: true, msg: "can not use content with a dir as dest"},
		{name: "neither src nor content", args: map[string]any{"dest": "DIR/f"}, failed: true, msg: "src (or content) is required"},
		{name: "missing src", args: map[string]any{"src": filepath.Join(src, "nope"), "dest": "DIR/f"}, failed: true, msg: "Could not find or access 'SRC/nope' on the Ansible Controller."},
		{
			name: "directory without trailing slash", args: map[string]any{"src": filepath.Join(src, "tree"), "dest": "DIR/out"},
			want: map[string]string{"out/tree/a.txt": "a\n", "out/tree/sub/b.txt": "b\n", "out/tree/sub/deep/c.txt": "c\n"},
		},
		{
			name: "directory contents with trailing slash", files: map[string]string{"out/sub/b.txt": "old b\n"},
			args:  map[string]any{"src": filepath.Join(src, "tree") + "/", "dest": "DIR/out", "directory_mode": "0750"},
			want:  map[string]string{"out/a.txt": "a\n", "out/sub/b.txt": "b\n", "out/sub/deep/c.txt": "c\n"},
			check: mode("out/sub/deep", "750"),
		},
		{name: "remote_src file", files: map[string]string{"orig": "remote\n"}, args: map[string]any{"src": "DIR/orig", "dest": "DIR/copy", "remote_src": true}, want: map[string]string{"copy": "remote\n"}},
		{name: "remote_src missing", args: map[string]any{"src": "DIR/orig", "dest": "DIR/copy", "remote_src": true}, failed: true, msg: "Source DIR/orig not found"},
		{
			name: "remote_src directory", files: map[string]string{"rt/x": "x\n", "rt/y/z": "z\n"},
			args: map[string]any{"src": "DIR/rt/", "dest": "DIR/copy", "remote_src": true}, want: map[string]string{"copy/x": "x\n", "copy/y/z": "z\n"},
		},
	}
	runFileCases(t, Copy{}, "copy.diff", cases)
}
