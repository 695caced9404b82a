package modules

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// archives writes app.tar.gz, app.tar and app.zip holding the same files
// on the controller and returns their directory.
func archives(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	for _, name := range sortedNames(files) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(files[name])), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(files[name]))
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(files[name]))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	var gb bytes.Buffer
	gw := gzip.NewWriter(&gb)
	gw.Write(tb.Bytes())
	gw.Close()
	for name, data := range map[string][]byte{"app.tar": tb.Bytes(), "app.tar.gz": gb.Bytes(), "app.zip": zb.Bytes(), "junk": []byte("not an archive\n")} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestUnarchive(t *testing.T) {
	content := map[string]string{"app/bin/run": "#!/bin/sh\n", "app/etc/app.conf": "port=1\n", "app/odd $(x) name": "odd\n"}
	src := archives(t, content)
	want := map[string]string{}
	for k, v := range content {
		want["out/"+k] = v
	}
	want["out/pwned"] = "<absent>"
	var cases []fileCase
	for _, a := range []string{"app.tar.gz", "app.tar", "app.zip"} {
		cases = append(cases,
			fileCase{name: a, files: map[string]string{"out/": ""}, args: map[string]any{"src": filepath.Join(src, a), "dest": "DIR/out", "list_files": true}, want: want, calls: 1,
				check: func(t *testing.T, tg target, r Result) {
					if files, _ := r.Values["files"].([]string); len(files) != 6 {
						t.Errorf("files = %v", r.Values["files"])
					}
					if left := sh(t, tg.c, "ls -A "+conn.Quote(tg.dir+"/out")); left != "app\n" {
						t.Errorf("dest holds %q", left)
					}
				}},
		)
	}
	tarball := filepath.Join(src, "app.tar.gz")
	cases = append(cases,
		fileCase{name: "changed file is restored", files: map[string]string{"out/app/etc/app.conf": "port=2\n"}, args: map[string]any{"src": tarball, "dest": "DIR/out"}, want: map[string]string{"out/app/etc/app.conf": "port=1\n"}},
		fileCase{name: "mode applies to every extracted path", files: map[string]string{"out/": ""}, args: map[string]any{"src": tarball, "dest": "DIR/out", "mode": "u=rwX,g=rX,o="},
			check: func(t *testing.T, tg target, r Result) {
				got := sh(t, tg.c, "cd "+conn.Quote(tg.dir+"/out")+" && stat -c '%a %n' app app/etc/app.conf app/bin/run")
				if want := "750 app\n640 app/etc/app.conf\n640 app/bin/run\n"; got != want {
					t.Errorf("modes:\n%s\nwant:\n%s", got, want)
				}
			}},
		fileCase{name: "creates", files: map[string]string{"out/app/": ""}, args: map[string]any{"src": tarball, "dest": "DIR/out", "creates": "DIR/out/app"}, unchanged: true, msg: "skipped, since DIR/out/app exists"},
		fileCase{name: "dest missing", args: map[string]any{"src": tarball, "dest": "DIR/nope"}, failed: true, msg: "dest 'DIR/nope' must be an existing dir"},
		fileCase{name: "not an archive", files: map[string]string{"out/": ""}, args: map[string]any{"src": filepath.Join(src, "junk"), "dest": "DIR/out"}, failed: true},
	)
	runFileCases(t, Unarchive{}, "unarchive.diff", cases)
}

// TestUnarchiveRemoteSrc extracts an archive made on the target.
func TestUnarchiveRemoteSrc(t *testing.T) {
	for _, tm := range fileTargets(t) {
		t.Run(tm.name, func(t *testing.T) {
			tg := tm.mk(t)
			setup(t, tg, map[string]string{"src/app/conf": "x=1\n", "out/": ""})
			sh(t, tg.c, "cd "+conn.Quote(tg.dir+"/src")+" && tar czf ../a.tgz app")
			args := map[string]any{"src": "DIR/a.tgz", "dest": "DIR/out", "remote_src": true}
			if r, _ := runOn(t, tg, Unarchive{}, Env{Check: true}, args); !r.Changed || readRemote(t, tg, "out/app/conf") != "<absent>" {
				t.Fatalf("check run: %+v", r)
			}
			if r, calls := runOn(t, tg, Unarchive{}, Env{}, args); !r.Changed || r.Failed || calls != 1 || readRemote(t, tg, "out/app/conf") != "x=1\n" {
				t.Fatalf("first run: %+v in %d calls", r, calls)
			}
			if r, _ := runOn(t, tg, Unarchive{}, Env{}, args); r.Changed || r.Failed {
				t.Fatalf("second run: %+v", r)
			}
		})
	}
}
