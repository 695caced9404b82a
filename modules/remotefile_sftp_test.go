package modules

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mdo-play/mdo-play/modules/conn"
	"github.com/mdo-play/mdo-play/modules/conn/become"
	"github.com/mdo-play/mdo-play/modules/conn/ssh"
)

// Both the SSH client and a become connection write files over SFTP: the
// become connection through an SFTP server it runs as the become user, so
// the files it writes belong to that user.
var (
	_ conn.FileWriter = (*ssh.Client)(nil)
	_ conn.FileWriter = (*become.Conn)(nil)
)

// countingSFTP counts the commands and SFTP writes of an ssh.Client.
type countingSFTP struct {
	*ssh.Client
	execs, puts atomic.Int32
}

func (c *countingSFTP) Exec(ctx context.Context, cmd conn.Command) (conn.ExecResult, error) {
	c.execs.Add(1)
	return c.Client.Exec(ctx, cmd)
}

func (c *countingSFTP) PutFile(ctx context.Context, r io.Reader, dst string, perm fs.FileMode, uid, gid int) (conn.FileInfo, error) {
	c.puts.Add(1)
	return c.Client.PutFile(ctx, r, dst, perm, uid, gid)
}

// TestWriteFileSFTP: over SSH, WriteFile writes through SFTP without a
// command when it can, gives the same result as the script, and falls
// back to the script where SFTP cannot do what the script does.
func TestWriteFileSFTP(t *testing.T) {
	ctx := context.Background()
	cl := sshConn(t, hostsOrSkip(t).Hosts[0].Name).(*ssh.Client)
	if _, _, err := cl.LoginUser(ctx); err != nil { // once per connection
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		setup string // shell code run in $d before the read
		file  string
		opts  WriteOptions
		// want
		sftp        bool   // written without the write script
		execs       int32  // commands after the read
		stat        string // stat -c '%a %u %g %U %G' of the result
		owner       string // After.Owner:After.Group
		failOp, msg string
	}{
		{name: "new file", sftp: true, stat: "644 0 0 root root", owner: "root:root"},
		{name: "new file with mode", opts: WriteOptions{Attrs: Attrs{Mode: "0600"}}, sftp: true, stat: "600 0 0 root root", owner: "root:root"},
		{name: "setuid mode", opts: WriteOptions{Attrs: Attrs{Mode: "4750"}}, sftp: true, stat: "4750 0 0 root root", owner: "root:root"},
		{name: "existing keeps owner and mode", setup: "echo old >f; chown 4321:4322 f; chmod 640 f", sftp: true, stat: "640 4321 4322 UNKNOWN UNKNOWN", owner: ":"},
		{name: "existing named owner kept", setup: "echo old >f; chown nobody:nogroup f", sftp: true, stat: "644 65534 65534 nobody nogroup", owner: "nobody:nogroup"},
		{name: "owner by name is resolved by the script", opts: WriteOptions{Attrs: Attrs{Owner: "nobody"}}, execs: 1, stat: "644 65534 0 nobody root", owner: "nobody:root"},
		{name: "owner by number, named by one stat", opts: WriteOptions{Attrs: Attrs{Owner: "65534", Group: "root"}}, sftp: true, execs: 1, stat: "644 65534 0 nobody root", owner: "nobody:root"},
		{name: "setgid directory's group is named by one stat", setup: "mkdir g; chgrp nogroup g; chmod 2775 g", file: "g/f", sftp: true, execs: 1, stat: "644 0 65534 root nogroup", owner: "root:nogroup"},
		{name: "missing parent goes to the script", file: "a/b/f", opts: WriteOptions{MkdirParents: true}, execs: 1, stat: "644 0 0 root root", owner: "root:root"},
		{name: "backup goes to the script", setup: "echo old >f", opts: WriteOptions{Backup: true}, execs: 1, stat: "644 0 0 root root", owner: "root:root"},
		{name: "full disk: the script says why", setup: "mkdir full; mount -t tmpfs -o size=4k mdo-full full; head -c 4096 /dev/zero >full/filler",
			file: "full/f", sftp: true, execs: 1, failOp: "write", msg: "No space left on device"},
	}
	content := []byte(strings.Repeat("new content\n", 1000))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := make([]byte, 6)
			rand.Read(b)
			dir := "/srv/w-" + hex.EncodeToString(b)
			sh(t, cl, "mkdir "+dir+" && cd "+dir+" && umask 022 && { "+orTrue(tt.setup)+"; }")
			t.Cleanup(func() {
				cl.Exec(context.Background(), conn.Command{Script: "umount " + dir + "/full 2>/dev/null; rm -rf " + dir})
			})
			file := tt.file
			if file == "" {
				file = "f"
			}
			c := &countingSFTP{Client: cl}
			before, err := ReadFile(ctx, c, dir+"/"+file, ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			o := tt.opts
			o.Before = before
			c.execs.Store(0)
			wr, err := WriteFile(ctx, c, content, o)
			if got := c.puts.Load() == 1; got != tt.sftp {
				t.Errorf("written over SFTP: %v, want %v", got, tt.sftp)
			}
			if n := c.execs.Load(); n != tt.execs {
				t.Errorf("%d commands, want %d", n, tt.execs)
			}
			if tt.failOp != "" {
				var fe *FileError
				if !errors.As(err, &fe) || fe.Op != tt.failOp || !strings.Contains(fe.Msg, tt.msg) {
					t.Fatalf("err = %v, want a %s FileError saying %q", err, tt.failOp, tt.msg)
				}
				if left := sh(t, cl, "ls -A "+dir+"/"+strings.TrimSuffix(file, "/f")); left != "filler\n" {
					t.Errorf("left behind: %q", left)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			res, err := cl.Exec(ctx, conn.Command{Dir: dir, Stdin: content,
				Script: "cmp -s - " + file + " && stat -c '%a %u %g %U %G' " + file + " && find . -name '.mdo-*'"})
			if got := strings.TrimSpace(string(res.Stdout)); err != nil || res.RC != 0 || got != tt.stat {
				t.Errorf("on the target: %q (rc %d, %v), want %q, the content and no temporary file", got, res.RC, err, tt.stat)
			}
			a := wr.After
			if got := a.Owner + ":" + a.Group; got != tt.owner {
				t.Errorf("After owner:group = %q, want %q", got, tt.owner)
			}
			if f := strings.Fields(tt.stat); ModeString(a.Mode) != "0"+f[0] && ModeString(a.Mode) != f[0] ||
				a.Size != int64(len(content)) || !a.Exists || a.Type != TypeFile || a.Path != dir+"/"+file || a.Parent != TypeDirectory {
				t.Errorf("After = %+v, want mode %s", a, f[0])
			}
		})
	}
}

func orTrue(s string) string {
	if s == "" {
		return ":"
	}
	return s
}

// fetchingSFTP counts the commands and file transfers (Get) of an
// ssh.Client; failGet makes every Get fail as on a reachable host.
type fetchingSFTP struct {
	*ssh.Client
	execs, gets atomic.Int32
	failGet     bool
}

func (c *fetchingSFTP) Exec(ctx context.Context, cmd conn.Command) (conn.ExecResult, error) {
	c.execs.Add(1)
	return c.Client.Exec(ctx, cmd)
}

func (c *fetchingSFTP) Get(ctx context.Context, src string, w io.Writer) error {
	c.gets.Add(1)
	if c.failGet {
		return errors.New("get " + src + ": sftp: permission denied")
	}
	return c.Client.Get(ctx, src, w)
}

// TestReadFilesSFTP: over SSH, ReadFiles gets a small regular file's
// bytes (its content, or the bytes of its checksum) over SFTP instead of
// through base64 or sha1sum on the target, and describes every path
// exactly as the script alone does (the same connection without its
// FileWriter side). Large files, relative paths and failed transfers
// take the script's way.
func TestReadFilesSFTP(t *testing.T) {
	ctx := context.Background()
	cl := sshConn(t, hostsOrSkip(t).Hosts[0].Name).(*ssh.Client)
	d := t.TempDir() // shared with the test host
	small := strings.Repeat("line\n", 100)
	big := strings.Repeat("x", fetchChecksumMax+1)
	for name, body := range map[string]string{"small": small, "big": big, "diffsize": strings.Repeat("y", MaxDiffSize+1)} {
		if err := os.WriteFile(filepath.Join(d, name), []byte(body), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("small", filepath.Join(d, "link")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		path    string
		o       ReadOptions
		failGet bool
		gets    int32
		execs   int32
	}{
		{"content", d + "/small", ReadOptions{Content: true}, false, 1, 1},
		{"checksum", d + "/small", ReadOptions{}, false, 1, 1},
		{"no checksum", d + "/small", ReadOptions{NoChecksum: true}, false, 0, 1},
		{"checksum of a big file", d + "/big", ReadOptions{}, false, 0, 1},
		{"content larger than a diff", d + "/diffsize", ReadOptions{Content: true}, false, 0, 1},
		{"content without a limit", d + "/diffsize", ReadOptions{Content: true, MaxContent: -1}, false, 1, 1},
		{"a link followed", d + "/link", ReadOptions{Content: true, Follow: true}, false, 1, 1},
		{"a link", d + "/link", ReadOptions{Content: true}, false, 0, 1},
		{"missing", d + "/missing", ReadOptions{Content: true}, false, 0, 1},
		{"relative", strings.TrimPrefix(d+"/small", "/"), ReadOptions{Content: true}, false, 0, 1},
		{"transfer fails", d + "/small", ReadOptions{Content: true}, true, 1, 2},
		{"transfer of the checksum fails", d + "/small", ReadOptions{}, true, 1, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fc := &fetchingSFTP{Client: cl, failGet: tt.failGet}
			got, err := ReadFiles(ctx, fc, []string{tt.path}, tt.o)
			if err != nil {
				t.Fatal(err)
			}
			want, err := ReadFiles(ctx, &countingConn{Conn: cl}, []string{tt.path}, tt.o)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("over SFTP %+v\nscript alone %+v", got[0], want[0])
			}
			if g, e := fc.gets.Load(), fc.execs.Load(); g != tt.gets || e != tt.execs {
				t.Errorf("%d transfers and %d commands, want %d and %d", g, e, tt.gets, tt.execs)
			}
		})
	}
}
