package modules

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
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
