package modules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFetch(t *testing.T) {
	for _, tm := range fileTargets(t) {
		t.Run(tm.name, func(t *testing.T) {
			tg := tm.mk(t)
			setup(t, tg, map[string]string{"etc/app.conf": "port=1\n", "odd $(x) name": "odd\n", "d/": ""})
			local := t.TempDir()
			tests := []struct {
				name    string
				args    map[string]any
				file    string // expected local file, relative to local
				content string
				failed  bool
				msg     string
			}{
				{name: "per host tree", args: map[string]any{"src": "DIR/etc/app.conf", "dest": local}, file: filepath.Join("h1", tg.dir, "etc/app.conf"), content: "port=1\n"},
				{name: "flat", args: map[string]any{"src": "DIR/etc/app.conf", "dest": local + "/flat.conf", "flat": true}, file: "flat.conf", content: "port=1\n"},
				{name: "flat into dir", args: map[string]any{"src": "DIR/odd $(x) name", "dest": local + "/in/", "flat": true}, file: "in/odd $(x) name", content: "odd\n"},
				{name: "missing", args: map[string]any{"src": "DIR/nope", "dest": local}, failed: true, msg: "file not found: DIR/nope"},
				{name: "missing ignored", args: map[string]any{"src": "DIR/nope", "dest": local, "fail_on_missing": false}, msg: "the remote file does not exist, not transferring, ignored"},
				{name: "directory", args: map[string]any{"src": "DIR/d", "dest": local}, failed: true, msg: "remote file is a directory, fetch cannot work on directories"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					rc, _ := runOn(t, tg, Fetch{}, Env{Check: true}, tt.args)
					if tt.file != "" {
						if _, err := os.Stat(filepath.Join(local, tt.file)); err == nil || !rc.Changed {
							t.Errorf("check mode: changed=%v, file written: %v", rc.Changed, err == nil)
						}
					}
					r, calls := runOn(t, tg, Fetch{}, Env{}, tt.args)
					if r.Failed != tt.failed || (tt.msg != "" && mask(r.Msg, tg.dir) != tt.msg) {
						t.Fatalf("failed=%v msg=%q", r.Failed, r.Msg)
					}
					if tt.file == "" {
						return
					}
					got, err := os.ReadFile(filepath.Join(local, tt.file))
					if err != nil || string(got) != tt.content || !r.Changed || calls != 2 {
						t.Errorf("content %q, %v, changed %v, calls %d", got, err, r.Changed, calls)
					}
					r2, calls2 := runOn(t, tg, Fetch{}, Env{}, tt.args)
					if r2.Changed || r2.Failed || calls2 != 1 {
						t.Errorf("second run: changed=%v failed=%v calls=%d, want ok in one exec", r2.Changed, r2.Failed, calls2)
					}
					if !strings.HasSuffix(r.Values["dest"].(string), tt.file) {
						t.Errorf("dest = %v", r.Values["dest"])
					}
				})
			}
		})
	}
}
