// Package sftpfs does a connection's file operations (atomic writes with
// mode and owner, reads, lstat) over one SFTP client, without a process
// on the target beyond the SFTP server. The ssh connection uses it with
// the login user's SFTP subsystem; become uses it with an SFTP server
// started as the become user.
package sftpfs

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"

	"github.com/pkg/sftp"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// FS is the file side of one connection.
type FS struct {
	// Alias names the host in errors.
	Alias string
	// Client returns the SFTP client, opening it on first use.
	Client func() (*sftp.Client, error)
	// Classify turns an error of op into the connection's own: one that
	// wraps conn.ErrUnreachable when the transport is gone.
	Classify func(op string, err error) error
}

// Put writes r to dst atomically: into a temporary file in dst's directory
// (mode 0600 while written, named by TempPath), then chmod perm and rename
// over dst. The temporary file is removed on any failure; one that a
// dropped connection left behind is replaced by the next write to dst.
func (f FS) Put(ctx context.Context, r io.Reader, dst string, perm fs.FileMode) error {
	_, err := f.put(ctx, r, dst, perm, -1, -1, false)
	return err
}

// PutFile writes r to dst as Put does; the temporary file then gets owner
// uid and group gid (-1 leaves one as the new file has it; both -1: no
// chown) and mode perm (after the chown, which clears set-id bits) before
// the rename. It returns the new file's state (UID, GID, Mode, Size; no
// ModTime guarantees).
func (f FS) PutFile(ctx context.Context, r io.Reader, dst string, perm fs.FileMode, uid, gid int) (conn.FileInfo, error) {
	return f.put(ctx, r, dst, perm, uid, gid, true)
}

func (f FS) put(ctx context.Context, r io.Reader, dst string, perm fs.FileMode, uid, gid int, info bool) (conn.FileInfo, error) {
	op := "put " + dst
	if err := ctx.Err(); err != nil {
		return conn.FileInfo{}, fmt.Errorf("%s on %s: %w", op, f.Alias, err)
	}
	sc, err := f.Client()
	if err != nil {
		return conn.FileInfo{}, f.Classify(op+": start sftp", err)
	}
	fh, tmp, err := createTemp(sc, dst)
	if err != nil {
		return conn.FileInfo{}, f.Classify(op+": create temporary file", err)
	}
	done := false
	defer func() {
		if !done {
			fh.Close()
			sc.Remove(tmp)
		}
	}()
	step := func(what string, err error) error {
		if ctx.Err() != nil {
			return fmt.Errorf("%s on %s: %w", op, f.Alias, ctx.Err())
		}
		return f.Classify(op+": "+what, err)
	}
	if err := fh.Chmod(0o600); err != nil {
		return conn.FileInfo{}, step("chmod", err)
	}
	if _, err := fh.ReadFromWithConcurrency(conn.ContextReader(ctx, r), 0); err != nil {
		return conn.FileInfo{}, step("write", err)
	}
	if uid >= 0 || gid >= 0 {
		if uid < 0 || gid < 0 {
			fi, err := fh.Stat()
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
		if err := fh.Chown(uid, gid); err != nil {
			return conn.FileInfo{}, step("chown", err)
		}
	}
	if err := fh.Chmod(perm & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)); err != nil {
		return conn.FileInfo{}, step("chmod", err)
	}
	var out conn.FileInfo
	if info {
		fi, err := fh.Stat()
		if err != nil {
			return conn.FileInfo{}, step("stat", err)
		}
		out = fileInfo(dst, fi)
	}
	if err := fh.Close(); err != nil {
		return conn.FileInfo{}, step("close", err)
	}
	if err := sc.PosixRename(tmp, dst); err != nil {
		return conn.FileInfo{}, step("rename", err)
	}
	done = true
	return out, nil
}

// Get copies the file src into w.
func (f FS) Get(ctx context.Context, src string, w io.Writer) error {
	op := "get " + src
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s on %s: %w", op, f.Alias, err)
	}
	sc, err := f.Client()
	if err != nil {
		return f.Classify(op+": start sftp", err)
	}
	fh, err := sc.Open(src)
	if err != nil {
		return f.Classify(op, err)
	}
	defer fh.Close()
	if _, err := fh.WriteTo(conn.ContextWriter(ctx, w)); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%s on %s: %w", op, f.Alias, ctx.Err())
		}
		return f.Classify(op, err)
	}
	return nil
}

// Stat describes p without following a final symlink.
func (f FS) Stat(ctx context.Context, p string) (conn.FileInfo, error) {
	op := "stat " + p
	if err := ctx.Err(); err != nil {
		return conn.FileInfo{}, fmt.Errorf("%s on %s: %w", op, f.Alias, err)
	}
	sc, err := f.Client()
	if err != nil {
		return conn.FileInfo{}, f.Classify(op+": start sftp", err)
	}
	fi, err := sc.Lstat(p)
	if err != nil {
		return conn.FileInfo{}, f.Classify(op, err)
	}
	return fileInfo(p, fi), nil
}

func fileInfo(p string, fi os.FileInfo) conn.FileInfo {
	out := conn.FileInfo{Path: p, Mode: fi.Mode(), Size: fi.Size(), ModTime: fi.ModTime()}
	if st, ok := fi.Sys().(*sftp.FileStat); ok {
		out.UID, out.GID = int(st.UID), int(st.GID)
	}
	return out
}

// TempPath is the temporary file a write to dst goes through: the same
// name for every write to dst (".<name>.mdo-tmp", or a hash of the name
// when that would be longer than a file name may be), so the file a
// dropped connection leaves behind is replaced and renamed away by the
// next write to dst. Two writes to the same dst at the same time (two runs
// against one host) share the name: one of them can rename the other's
// unfinished file into place and the other then fails, so such writes are
// not atomic with respect to each other (random names would be, at the
// price of leftovers).
func TempPath(dst string) string {
	dir, base := path.Split(dst)
	name := "." + base + ".mdo-tmp"
	if len(name) > 255 {
		sum := sha256.Sum256([]byte(base))
		name = ".mdo-tmp-" + hex.EncodeToString(sum[:8])
	}
	return path.Join(dir, name)
}

// createTemp creates dst's temporary file (TempPath), new and empty. A
// leftover of an earlier write is removed first, never opened: whatever
// is there (a link, a file of another user) is not followed or reused.
// When it cannot be removed (a sticky directory, another user's file) a
// random name is used, so the write still succeeds.
func createTemp(sc *sftp.Client, dst string) (*sftp.File, string, error) {
	tmp := TempPath(dst)
	f, err := sc.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err == nil {
		return f, tmp, nil
	}
	// SFTP v3 has no "exists" status: look.
	if _, lerr := sc.Lstat(tmp); lerr != nil {
		return nil, "", err
	}
	if sc.Remove(tmp) == nil {
		if f, err = sc.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL); err == nil {
			return f, tmp, nil
		}
	}
	tmp = path.Join(path.Dir(dst), ".mdo-tmp-"+randHex(8))
	f, err = sc.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return nil, "", err
	}
	return f, tmp, nil
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
