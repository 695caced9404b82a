package conntest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/mdo-play/mdo-play/modules/conn"
)

func testCapabilities(t *testing.T, open Opener, caps []Capability) {
	c, dir := open(t)
	fw, isFW := c.(conn.FileWriter)
	unsupported := slices.Contains(caps, FileWriterUnsupported)
	if want := slices.Contains(caps, FileWriter) || unsupported; isFW != want {
		t.Errorf("%T: conn.FileWriter = %v, want %v", c, isFW, want)
	}
	var pool conn.Shells
	if ss, ok := c.(conn.ShellStarter); ok {
		pool = ss.NewShells(conn.ShellOptions{})
		if pool != nil {
			t.Cleanup(func() { pool.Close() })
		}
	}
	if want := slices.Contains(caps, Shells); (pool != nil) != want {
		t.Errorf("%T: long-lived shells from NewShells = %v, want %v", c, pool != nil, want)
	}
	switch {
	case isFW && unsupported:
		t.Run("FileWriterUnsupported", func(t *testing.T) { testFileWriterUnsupported(t, c, fw, dir) })
	case isFW:
		t.Run("FileWriter", func(t *testing.T) { testFileWriter(t, c, fw, dir) })
	}
	if pool != nil {
		t.Run("Shells", func(t *testing.T) { testShells(t, c, pool, dir) })
	}
}

// testFileWriterUnsupported: both methods wrap errors.ErrUnsupported, and
// PutFile leaves nothing behind.
func testFileWriterUnsupported(t *testing.T, c conn.Conn, fw conn.FileWriter, dir string) {
	ctx := ctxT(t)
	if _, _, err := fw.LoginUser(ctx); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("LoginUser: %v, want errors.ErrUnsupported", err)
	}
	if _, err := fw.PutFile(ctx, strings.NewReader("x"), path.Join(dir, "f"), 0o644, -1, -1); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("PutFile: %v, want errors.ErrUnsupported", err)
	}
	if names := listDir(t, c, dir); len(names) != 0 {
		t.Errorf("directory holds %q after an unsupported PutFile, want nothing", names)
	}
	ids := strings.Fields(exec(t, c, "id -u; id -g"))
	uid, _ := strconv.Atoi(ids[0])
	gid, _ := strconv.Atoi(ids[1])
	testIDNames(t, c, fw, uid, gid)
}

// testIDNames: IDNames gives the names a command's id gives, twice (the
// second from its cache), and no name for an id nobody has.
func testIDNames(t *testing.T, c conn.Conn, fw conn.FileWriter, uid, gid int) {
	want := strings.Fields(exec(t, c, "id -un; id -gn"))
	const nobody = 3999999
	for range 2 {
		users, groups, err := fw.IDNames(ctxT(t), []int{uid, nobody, uid}, []int{gid, nobody})
		if err != nil {
			t.Fatalf("IDNames: %v", err)
		}
		if users[uid] != want[0] || groups[gid] != want[1] {
			t.Errorf("IDNames(%d, %d) = %q, %q; want %q", uid, gid, users[uid], groups[gid], want)
		}
		if n, ok := users[nobody]; ok {
			t.Errorf("IDNames names uid %d %q, want no name", nobody, n)
		}
		if n, ok := groups[nobody]; ok {
			t.Errorf("IDNames names gid %d %q, want no name", nobody, n)
		}
	}
}

func testFileWriter(t *testing.T, c conn.Conn, fw conn.FileWriter, dir string) {
	ctx := ctxT(t)
	u, g, err := fw.LoginUser(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ids := strings.Fields(exec(t, c, "id -u; id -g; id -un; id -gn"))
	if got := []string{u.Uid, g.Gid, u.Username, g.Name}; !slices.Equal(got, ids) {
		t.Errorf("LoginUser = %v, want %v (what id says in a command)", got, ids)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(g.Gid)
	testIDNames(t, c, fw, uid, gid)
	sub := path.Join(dir, "fw")
	exec(t, c, "mkdir "+conn.Quote(sub))
	dst := path.Join(sub, "f")
	tests := []struct {
		name     string
		data     []byte
		perm     fs.FileMode
		uid, gid int
	}{
		{"new file, owner as created", []byte("first"), 0o640, -1, -1},
		{"replace, explicit owner, set-id bit kept after chown", bytes.Repeat([]byte("second "), 20000), fs.ModeSetgid | 0o750, uid, gid},
		{"replace with empty", nil, 0o600, -1, gid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fi, err := fw.PutFile(ctx, bytes.NewReader(tc.data), dst, tc.perm, tc.uid, tc.gid)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode != tc.perm || fi.Size != int64(len(tc.data)) || fi.UID != uid || fi.GID != gid {
				t.Errorf("PutFile returned mode %v size %d owner %d:%d, want %v %d %d:%d", fi.Mode, fi.Size, fi.UID, fi.GID, tc.perm, len(tc.data), uid, gid)
			}
			st, err := c.Stat(ctx, dst)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode != tc.perm || st.UID != uid || st.GID != gid {
				t.Errorf("Stat after PutFile: mode %v owner %d:%d, want %v %d:%d", st.Mode, st.UID, st.GID, tc.perm, uid, gid)
			}
			var got bytes.Buffer
			if err := c.Get(ctx, dst, &got); err != nil || !bytes.Equal(got.Bytes(), tc.data) {
				t.Errorf("Get after PutFile: %d bytes, %v; want the %d bytes written", got.Len(), err, len(tc.data))
			}
			if names := listDir(t, c, sub); len(names) != 1 || names[0] != "f" {
				t.Errorf("directory holds %q after PutFile, want only f", names)
			}
		})
	}
	t.Run("failed read leaves old file", func(t *testing.T) {
		exec(t, c, "printf old > "+conn.Quote(dst))
		if _, err := fw.PutFile(ctx, &failingReader{data: []byte("partial"), err: errors.New("source broke")}, dst, 0o644, -1, -1); err == nil {
			t.Fatal("PutFile from a failing reader succeeded")
		}
		if got := exec(t, c, "cat "+conn.Quote(dst)); got != "old" {
			t.Errorf("destination = %q after a failed PutFile, want %q", got, "old")
		}
		if names := listDir(t, c, sub); len(names) != 1 {
			t.Errorf("directory holds %q after a failed PutFile, want only f", names)
		}
	})
	t.Run("missing directory", func(t *testing.T) {
		_, err := fw.PutFile(ctx, strings.NewReader("x"), path.Join(dir, "no-such-dir", "f"), 0o644, -1, -1)
		if err == nil || errors.Is(err, conn.ErrUnreachable) {
			t.Errorf("PutFile into a missing directory: %v, want an error that is not ErrUnreachable", err)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := fw.PutFile(ctx, strings.NewReader("x"), dst, 0o644, -1, -1); !errors.Is(err, context.Canceled) {
			t.Errorf("PutFile: %v, want context.Canceled", err)
		}
	})
}

func testShells(t *testing.T, c conn.Conn, pool conn.Shells, dir string) {
	ctx := ctxT(t)
	res, err := pool.Exec(ctx, conn.Command{Script: `pwd -P; printf '%s\n' "$MDO_S"; cat; echo err >&2; exit 4`,
		Dir: dir, Env: map[string]string{"MDO_S": "env's"}, Stdin: []byte("in\n")})
	if err != nil {
		t.Fatal(err)
	}
	if want := dir + "\nenv's\nin\n"; string(res.Stdout) != want || string(res.Stderr) != "err\n" || res.RC != 4 {
		t.Errorf("Exec in a shell: rc %d stdout %q stderr %q; want rc 4, %q, %q", res.RC, res.Stdout, res.Stderr, want, "err\n")
	}
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for i := range cap(errs) {
		wg.Go(func() {
			want := fmt.Sprint(i)
			res, err := pool.Exec(ctx, conn.Command{Script: "sleep 0.1; echo " + want})
			if err != nil || strings.TrimSpace(string(res.Stdout)) != want {
				errs <- fmt.Errorf("concurrent command %d: %q, %v", i, res.Stdout, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	// The shells start with the caller's command line.
	ss := c.(conn.ShellStarter)
	own := ss.NewShells(conn.ShellOptions{Command: "env MDO_SHELL_CMD=yes /bin/sh", Max: 1})
	defer own.Close()
	if res, err := own.Exec(ctx, conn.Command{Script: `echo "$MDO_SHELL_CMD"`}); err != nil || string(res.Stdout) != "yes\n" {
		t.Errorf("shell started with ShellOptions.Command: %q, %v; want %q", res.Stdout, err, "yes\n")
	}
	if err := own.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := own.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := own.Exec(ctx, conn.Command{Script: "true"}); !errors.Is(err, conn.ErrNoShell) {
		t.Errorf("Exec after Close: %v, want conn.ErrNoShell", err)
	}
}
