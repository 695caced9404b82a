package conn

import (
	"context"
	"fmt"
	"io"
	"maps"
	"strings"
	"testing"
	"time"
)

func TestParseID(t *testing.T) {
	tests := []struct {
		out                   string
		uid, gid, user, group string
		bad                   bool
	}{
		{out: "uid=0(root) gid=0(root) groups=0(root)\n", uid: "0", gid: "0", user: "root", group: "root"},
		{out: "uid=1000(app) gid=100(users) groups=100(users),27(sudo)", uid: "1000", gid: "100", user: "app", group: "users"},
		{out: "uid=4321 gid=4322 groups=4322", uid: "4321", gid: "4322"},
		{out: "uid=1000(app)", bad: true},
		{out: "gid=0(root) uid=0(root)", bad: true},
		{out: "uid=x(root) gid=0(root)", bad: true},
		{out: "uid=0(root gid=0(root)", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.out, func(t *testing.T) {
			u, g, err := ParseID(tt.out)
			if tt.bad {
				if err == nil {
					t.Fatalf("ParseID accepted %q: %+v %+v", tt.out, u, g)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if u.Uid != tt.uid || u.Gid != tt.gid || u.Username != tt.user || g.Gid != tt.gid || g.Name != tt.group {
				t.Errorf("got %+v %+v", u, g)
			}
		})
	}
}

// fakeNames is a target for NameCache: its passwd and group files, and
// whether it has getent. It counts the commands run.
type fakeNames struct {
	passwd, group string
	mtime         int64
	getent        bool
	execs         int
}

func (f *fakeNames) funcs() NameFuncs {
	return NameFuncs{
		Exec: func(_ context.Context, cmd Command) (ExecResult, error) {
			f.execs++
			if !f.getent {
				return ExecResult{RC: 127}, nil
			}
			// Answer as getent would: the lines whose id was asked.
			var out strings.Builder
			out.WriteString("P\n")
			for _, part := range strings.Split(cmd.Script, "\n") {
				db, text := "", ""
				switch {
				case strings.HasPrefix(part, "LC_ALL=C getent passwd "):
					db, text = strings.TrimPrefix(part, "LC_ALL=C getent passwd "), f.passwd
				case strings.HasPrefix(part, "LC_ALL=C getent group "):
					db, text = strings.TrimPrefix(part, "LC_ALL=C getent group "), f.group
				case strings.Contains(part, "@mdo-groups@"):
					out.WriteString("\n@mdo-groups@\n")
				}
				for _, id := range strings.Fields(db) {
					for _, line := range strings.Split(text, "\n") {
						if fs := strings.Split(line, ":"); len(fs) > 2 && fs[2] == id {
							out.WriteString(line + "\n")
							break
						}
					}
				}
			}
			return ExecResult{Stdout: []byte(out.String())}, nil
		},
		Stat: func(_ context.Context, p string) (FileInfo, error) {
			text := f.passwd
			if p == "/etc/group" {
				text = f.group
			}
			return FileInfo{Path: p, Size: int64(len(text)), ModTime: time.Unix(f.mtime, 0)}, nil
		},
		Get: func(_ context.Context, p string, w io.Writer) error {
			text := f.passwd
			if p == "/etc/group" {
				text = f.group
			}
			_, err := io.WriteString(w, text)
			return err
		},
	}
}

func TestNameCache(t *testing.T) {
	for _, getent := range []bool{true, false} {
		t.Run(fmt.Sprintf("getent=%v", getent), func(t *testing.T) {
			f := &fakeNames{
				passwd: "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/G\n",
				group:  "root:x:0:\napp:x:1000:\n",
				mtime:  1, getent: getent,
			}
			var nc NameCache
			steps := []struct {
				what         string
				change       func()
				uids, gids   []int
				users, group map[int]string
				execs        int
			}{
				{"first lookup", nil, []int{0, 1000, 7}, []int{1000}, map[int]string{0: "root", 1000: "app"}, map[int]string{1000: "app"}, 1},
				{"cached", nil, []int{0, 1000}, []int{1000}, map[int]string{0: "root", 1000: "app"}, map[int]string{1000: "app"}, 1},
				{"an id without a name is asked again", nil, []int{7}, nil, map[int]string{}, map[int]string{}, 2},
				{"renamed in /etc/passwd", func() { f.passwd = strings.Replace(f.passwd, "app:", "web:", 1); f.mtime = 2 }, []int{1000}, nil, map[int]string{1000: "web"}, map[int]string{}, 3},
				{"added", func() { f.passwd += "db:x:7:7::/:/bin/sh\n"; f.mtime = 3 }, []int{7, 1000}, nil, map[int]string{7: "db", 1000: "web"}, map[int]string{}, 4},
			}
			for _, s := range steps {
				if s.change != nil {
					s.change()
				}
				u, g, err := nc.Lookup(context.Background(), f.funcs(), s.uids, s.gids)
				if err != nil {
					t.Fatalf("%s: %v", s.what, err)
				}
				if !maps.Equal(u, s.users) || !maps.Equal(g, s.group) {
					t.Errorf("%s: got %v %v, want %v %v", s.what, u, g, s.users, s.group)
				}
				if f.execs != s.execs {
					t.Errorf("%s: %d commands so far, want %d", s.what, f.execs, s.execs)
				}
			}
		})
	}
}
