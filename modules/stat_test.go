package modules

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/user"
	"path/filepath"
	"reflect"
	"strconv"
	"syscall"
	"testing"
)

func TestStatRun(t *testing.T) {
	dir := t.TempDir()
	content := []byte("hello\n")
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, content, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(file, 0o640); err != nil {
		t.Fatal(err)
	}
	odd := filepath.Join(dir, "we'ird $(touch pwned) `x`\nname")
	if err := os.WriteFile(odd, content, 0o600); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(sub, 0o750); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink("file", link); err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(dir, "broken")
	if err := os.Symlink("nowhere", broken); err != nil {
		t.Fatal(err)
	}
	sum := func(h []byte) string { return hex.EncodeToString(h) }
	s1 := sha1.Sum(content)
	s256 := sha256.Sum256(content)
	m5 := md5.Sum(content)
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(me.Uid)
	var fst syscall.Stat_t
	if err := syscall.Stat(file, &fst); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		args   map[string]any
		want   map[string]any // keys of the stat dict
		absent []string       // keys that must not be there
		failed bool
		msg    string
	}{
		{
			name: "regular file",
			args: map[string]any{"path": file},
			want: map[string]any{
				"exists": true, "path": file, "mode": "0640", "isreg": true, "isdir": false, "islnk": false,
				"isblk": false, "ischr": false, "isfifo": false, "issock": false, "size": 6, "uid": uid, "pw_name": me.Username,
				"inode": int(fst.Ino), "dev": int(fst.Dev), "nlink": 1, "readable": true, "writeable": true, "executable": false,
				"checksum": sum(s1[:]), "mtime": float64(fst.Mtim.Sec) + float64(fst.Mtim.Nsec)/1e9,
				"rusr": true, "wusr": true, "xusr": false, "rgrp": true, "wgrp": false, "roth": false,
			},
			absent: []string{"lnk_target", "lnk_source"},
		},
		{name: "sha256", args: map[string]any{"path": file, "checksum_algorithm": "sha256"}, want: map[string]any{"checksum": sum(s256[:])}},
		{name: "md5 by alias", args: map[string]any{"dest": file, "checksum": "md5"}, want: map[string]any{"checksum": sum(m5[:])}},
		{name: "no checksum", args: map[string]any{"path": file, "get_checksum": false}, absent: []string{"checksum"}},
		{name: "odd name", args: map[string]any{"path": odd}, want: map[string]any{"path": odd, "mode": "0600", "checksum": sum(s1[:])}},
		{
			name:   "directory",
			args:   map[string]any{"path": sub},
			want:   map[string]any{"isdir": true, "isreg": false, "mode": "0750", "executable": true, "nlink": 2},
			absent: []string{"checksum"},
		},
		{
			name:   "link",
			args:   map[string]any{"path": link},
			want:   map[string]any{"islnk": true, "isreg": false, "lnk_target": "file", "lnk_source": file, "mode": "0777"},
			absent: []string{"checksum"},
		},
		{
			name:   "link followed",
			args:   map[string]any{"path": link, "follow": true},
			want:   map[string]any{"islnk": false, "isreg": true, "checksum": sum(s1[:]), "mode": "0640", "path": link},
			absent: []string{"lnk_target"},
		},
		{name: "broken link", args: map[string]any{"path": broken}, want: map[string]any{"exists": true, "islnk": true, "lnk_target": "nowhere", "lnk_source": filepath.Join(dir, "nowhere")}},
		{name: "broken link followed", args: map[string]any{"path": broken, "follow": true}, want: map[string]any{"exists": false}},
		{name: "missing", args: map[string]any{"path": filepath.Join(dir, "missing")}, want: map[string]any{"exists": false}, absent: []string{"path", "isreg"}},
		{name: "not a directory", args: map[string]any{"path": filepath.Join(file, "x")}, failed: true, msg: "Not a directory"},
		{name: "mime", args: map[string]any{"path": file, "get_mime": true}, want: map[string]any{"mimetype": "text/plain", "charset": "us-ascii"}},
		{name: "no mime", args: map[string]any{"path": file, "mime": false}, absent: []string{"mimetype", "charset"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, cc := call(t, Stat{}, Env{}, tt.args)
			if res.Failed != tt.failed || res.Msg != tt.msg || res.Changed {
				t.Fatalf("got %+v, want failed %v msg %q", res, tt.failed, tt.msg)
			}
			if n := cc.calls.Load(); n != 1 {
				t.Errorf("round trips = %d, want 1", n)
			}
			if tt.failed {
				return
			}
			st, ok := res.Values["stat"].(map[string]any)
			if !ok {
				t.Fatalf("no stat dict: %v", res.Values)
			}
			for k, want := range tt.want {
				if got := st[k]; !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %#v, want %#v", k, got, want)
				}
			}
			for _, k := range tt.absent {
				if v, ok := st[k]; ok {
					t.Errorf("%s present (%v), want absent", k, v)
				}
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "pwned")); err == nil {
		t.Error("a path reached a shell unquoted")
	}
}

func TestStatHome(t *testing.T) {
	home, err := os.UserHomeDir()
	if err != nil {
		t.Skip("no home directory")
	}
	res, _ := call(t, Stat{}, Env{}, map[string]any{"path": "~"})
	st, _ := res.Values["stat"].(map[string]any)
	if st["path"] != home || st["isdir"] != true {
		t.Errorf("~ gave %v, want the home directory %s", st, home)
	}
}
