package ssh

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os/user"
	"strconv"
	"strings"

	"github.com/pkg/sftp"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// PutFile writes r to dst atomically as Put does, without running a
// command on the target: over SFTP into a temporary file in dst's
// directory, which then gets owner uid and group gid (-1 leaves one as
// the new file has it; both -1: no chown), mode perm (after the chown,
// which clears set-id bits), and is renamed over dst. It returns the new
// file's state (UID, GID, Mode, Size; no ModTime guarantees). On any
// failure the temporary file (TempPath) is removed and dst is untouched;
// one that a dropped connection left behind is replaced by the next write.
//
// The file belongs to the login user unless uid says otherwise: a caller
// running commands as another user (become) must not use it.
func (c *Client) PutFile(ctx context.Context, r io.Reader, dst string, perm fs.FileMode, uid, gid int) (conn.FileInfo, error) {
	op := "put " + dst
	if err := ctx.Err(); err != nil {
		return conn.FileInfo{}, fmt.Errorf("%s on %s: %w", op, c.alias, err)
	}
	sc, err := c.sftpClient()
	if err != nil {
		return conn.FileInfo{}, c.classify(op+": start sftp", err)
	}
	f, tmp, err := createTemp(sc, dst)
	if err != nil {
		return conn.FileInfo{}, c.classify(op+": create temporary file", err)
	}
	done := false
	defer func() {
		if !done {
			f.Close()
			sc.Remove(tmp)
		}
	}()
	step := func(what string, err error) error {
		if ctx.Err() != nil {
			return fmt.Errorf("%s on %s: %w", op, c.alias, ctx.Err())
		}
		return c.classify(op+": "+what, err)
	}
	if err := f.Chmod(0o600); err != nil {
		return conn.FileInfo{}, step("chmod", err)
	}
	if _, err := f.ReadFromWithConcurrency(ctxReader{ctx, r}, 0); err != nil {
		return conn.FileInfo{}, step("write", err)
	}
	if uid >= 0 || gid >= 0 {
		if uid < 0 || gid < 0 {
			fi, err := f.Stat()
			if err != nil {
				return conn.FileInfo{}, step("stat", err)
			}
			st, ok := fi.Sys().(*sftp.FileStat)
			if !ok {
				return conn.FileInfo{}, step("stat", fmt.Errorf("no owner in the server's answer"))
			}
			if uid < 0 {
				uid = int(st.UID)
			}
			if gid < 0 {
				gid = int(st.GID)
			}
		}
		if err := f.Chown(uid, gid); err != nil {
			return conn.FileInfo{}, step("chown", err)
		}
	}
	if err := f.Chmod(perm & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)); err != nil {
		return conn.FileInfo{}, step("chmod", err)
	}
	fi, err := f.Stat()
	if err != nil {
		return conn.FileInfo{}, step("stat", err)
	}
	if err := f.Close(); err != nil {
		return conn.FileInfo{}, step("close", err)
	}
	if err := sc.PosixRename(tmp, dst); err != nil {
		return conn.FileInfo{}, step("rename", err)
	}
	done = true
	out := conn.FileInfo{Path: dst, Mode: fi.Mode(), Size: fi.Size(), ModTime: fi.ModTime()}
	if st, ok := fi.Sys().(*sftp.FileStat); ok {
		out.UID, out.GID = int(st.UID), int(st.GID)
	}
	return out, nil
}

// LoginUser returns the login user and its primary group as the target
// names them (Username or Name empty when the id has no name), looked up
// with one command on first use and remembered for the connection.
func (c *Client) LoginUser(ctx context.Context) (*user.User, *user.Group, error) {
	c.idMu.Lock()
	defer c.idMu.Unlock()
	if c.idUser != nil {
		return c.idUser, c.idGroup, nil
	}
	res, err := c.Exec(ctx, conn.Command{Script: "LC_ALL=C id"})
	if err != nil {
		return nil, nil, fmt.Errorf("look up login user: %w", err)
	}
	if res.RC != 0 {
		return nil, nil, fmt.Errorf("look up login user on %s: id: exit %d: %s", c.alias, res.RC, strings.TrimSpace(string(res.Stderr)))
	}
	u, g, err := parseID(string(res.Stdout))
	if err != nil {
		return nil, nil, fmt.Errorf("look up login user on %s: %w", c.alias, err)
	}
	c.idUser, c.idGroup = u, g
	return u, g, nil
}

// parseID reads id's "uid=0(root) gid=0(root) groups=..." (the names in
// parentheses are missing for ids without one).
func parseID(out string) (*user.User, *user.Group, error) {
	f := strings.Fields(strings.TrimSpace(out))
	if len(f) < 2 {
		return nil, nil, fmt.Errorf("unexpected id output %q", out)
	}
	field := func(s, key string) (id, name string, err error) {
		v, ok := strings.CutPrefix(s, key+"=")
		if !ok {
			return "", "", fmt.Errorf("unexpected id output %q", out)
		}
		id, name, _ = strings.Cut(v, "(")
		if _, err := strconv.ParseUint(id, 10, 32); err != nil {
			return "", "", fmt.Errorf("unexpected id output %q", out)
		}
		if name != "" {
			n, ok := strings.CutSuffix(name, ")")
			if !ok {
				return "", "", fmt.Errorf("unexpected id output %q", out)
			}
			name = n
		}
		return id, name, nil
	}
	uid, uname, err := field(f[0], "uid")
	if err != nil {
		return nil, nil, err
	}
	gid, gname, err := field(f[1], "gid")
	if err != nil {
		return nil, nil, err
	}
	return &user.User{Uid: uid, Gid: gid, Username: uname}, &user.Group{Gid: gid, Name: gname}, nil
}
