package become

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os/user"
	"strings"
	"time"

	"github.com/pkg/sftp"

	"github.com/mdo-play/mdo-play/modules/conn"
	"github.com/mdo-play/mdo-play/modules/conn/sftpfs"
)

// sftpServer starts the target's SFTP server, wherever the distribution
// keeps it (Debian, Fedora/RHEL/SUSE, Arch/Alpine, BSD).
const sftpServer = `for p in /usr/lib/openssh/sftp-server /usr/libexec/openssh/sftp-server /usr/lib/ssh/sftp-server /usr/libexec/sftp-server /usr/lib/sftp-server /usr/local/libexec/sftp-server; do
  if [ -x "$p" ]; then exec "$p"; fi
done
echo "no sftp-server found" >&2
exit 127`

// files is the file side over the become user's SFTP server.
func (c *Conn) files() sftpfs.FS {
	return sftpfs.FS{Alias: c.o.User + "'s SFTP server", Client: c.sftpClient, Classify: c.classifyFiles}
}

// sftpClient returns the client of the SFTP server run as the become
// user, starting it on first use. An error wrapping errors.ErrUnsupported
// means none can run (no ProcessStarter, PerCommand, no sftp-server, the
// server did not answer); it is remembered, except when only no session
// was free.
func (c *Conn) sftpClient() (*sftp.Client, error) {
	c.fmu.Lock()
	defer c.fmu.Unlock()
	if c.sc != nil {
		return c.sc, nil
	}
	if c.filesErr != nil {
		return nil, c.filesErr
	}
	ps, ok := c.inner.(conn.ProcessStarter)
	if !ok || c.o.PerCommand {
		c.filesErr = fmt.Errorf("%w: no SFTP server as %s on this connection", errors.ErrUnsupported, c.o.User)
		return nil, c.filesErr
	}
	c.mu.Lock()
	nopass := c.nopass
	c.mu.Unlock()
	line, preamble, err := c.shellCommand(nopass, c.sftpServerScript())
	if err != nil {
		c.filesErr = fmt.Errorf("%w: %w", errors.ErrUnsupported, err)
		return nil, c.filesErr
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.o.Timeout)
	defer cancel()
	p, err := ps.StartProcess(ctx, line, preamble)
	switch {
	case errors.Is(err, conn.ErrNoShell):
		return nil, fmt.Errorf("%w: %w", errors.ErrUnsupported, err)
	case err != nil:
		return nil, err
	}
	type answer struct {
		sc  *sftp.Client
		err error
	}
	done := make(chan answer, 1)
	go func() {
		sc, err := sftp.NewClientPipe(p.Stdout, p.Stdin, sftp.UseConcurrentWrites(true), sftp.UseConcurrentReads(true))
		done <- answer{sc, err}
	}()
	var a answer
	select {
	case a = <-done:
	case <-ctx.Done():
		p.Close()
		a = <-done
		if a.err == nil {
			a.sc.Close()
		}
		a.err = fmt.Errorf("no answer within %s", c.o.Timeout)
	}
	if a.err != nil {
		p.Close()
		msg := strings.TrimSpace(p.Stderr())
		if c.o.Password != "" {
			msg = strings.ReplaceAll(msg, c.o.Password, "********")
		}
		c.filesErr = fmt.Errorf("%w: SFTP server as %s: %v (stderr: %q)", errors.ErrUnsupported, c.o.User, a.err, msg)
		return nil, c.filesErr
	}
	c.proc, c.sc = p, a.sc
	return c.sc, nil
}

// sftpServerScript is the script that starts the SFTP server; a test
// replaces it to see the fallback.
func (c *Conn) sftpServerScript() string {
	if c.sftpScript != "" {
		return c.sftpScript
	}
	return sftpServer
}

// closeFiles stops the SFTP server if sc is still its client (nil: in
// any case), so that the next file operation starts a new one.
func (c *Conn) closeFiles(sc *sftp.Client) {
	c.fmu.Lock()
	defer c.fmu.Unlock()
	if c.sc == nil || (sc != nil && sc != c.sc) {
		return
	}
	c.sc.Close()
	c.proc.Close()
	c.sc, c.proc = nil, nil
}

// classifyFiles describes an error of a file operation. When the SFTP
// server went away it is stopped for good, and the inner connection says
// whether the host is still reachable.
func (c *Conn) classifyFiles(op string, err error) error {
	if errors.Is(err, errors.ErrUnsupported) {
		return fmt.Errorf("%s: %w", op, err)
	}
	if errors.Is(err, sftp.ErrSSHFxConnectionLost) || errors.Is(err, io.EOF) {
		c.closeFiles(nil)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, perr := c.inner.Stat(ctx, "/"); errors.Is(perr, conn.ErrUnreachable) {
			return fmt.Errorf("%s as %s: %w", op, c.o.User, perr)
		}
	}
	return fmt.Errorf("%s as %s: %w", op, c.o.User, err)
}

// Put writes r to dst as the become user, atomically: over the become
// user's SFTP server when one runs, else with shell commands.
func (c *Conn) Put(ctx context.Context, r io.Reader, dst string, perm fs.FileMode) error {
	shell, err := c.filesReady(ctx, "put", dst)
	switch {
	case err != nil:
		return err
	case shell:
		return c.putShell(ctx, r, dst, perm)
	}
	return c.files().Put(ctx, r, dst, perm)
}

// filesReady runs the readiness check and starts the SFTP server for a
// file operation op on p; shell is true when no server can run as the
// become user, and the operation goes through shell commands instead.
func (c *Conn) filesReady(ctx context.Context, op, p string) (shell bool, err error) {
	if _, err := c.check(ctx); err != nil {
		return false, fmt.Errorf("%s %s: %w", op, p, err)
	}
	if _, err := c.sftpClient(); err != nil {
		if errors.Is(err, errors.ErrUnsupported) {
			return true, nil
		}
		return false, fmt.Errorf("%s %s: %w", op, p, err)
	}
	return false, nil
}

// PutFile writes r to dst as the become user with owner uid, group gid
// and mode perm (conn.FileWriter), over the become user's SFTP server. It
// wraps errors.ErrUnsupported, having done nothing, when none can run.
func (c *Conn) PutFile(ctx context.Context, r io.Reader, dst string, perm fs.FileMode, uid, gid int) (conn.FileInfo, error) {
	if _, err := c.check(ctx); err != nil {
		return conn.FileInfo{}, fmt.Errorf("put %s: %w", dst, err)
	}
	return c.files().PutFile(ctx, r, dst, perm, uid, gid)
}

// Get copies src, read as the become user, into w.
func (c *Conn) Get(ctx context.Context, src string, w io.Writer) error {
	shell, err := c.filesReady(ctx, "get", src)
	switch {
	case err != nil:
		return err
	case shell:
		return c.getShell(ctx, src, w)
	}
	return c.files().Get(ctx, src, w)
}

// Stat describes p as the become user sees it, without following a final
// symlink.
func (c *Conn) Stat(ctx context.Context, p string) (conn.FileInfo, error) {
	shell, err := c.filesReady(ctx, "stat", p)
	switch {
	case err != nil:
		return conn.FileInfo{}, err
	case shell:
		return c.statShell(ctx, p)
	}
	return c.files().Stat(ctx, p)
}

// LoginUser returns the become user and its primary group, as id names
// them in the become shell (conn.FileWriter); it wraps
// errors.ErrUnsupported when no SFTP server can run as the become user, so
// that a caller does not prepare a PutFile that cannot happen.
func (c *Conn) LoginUser(ctx context.Context) (*user.User, *user.Group, error) {
	if _, err := c.check(ctx); err != nil {
		return nil, nil, fmt.Errorf("look up become user: %w", err)
	}
	if _, err := c.sftpClient(); err != nil {
		return nil, nil, fmt.Errorf("look up become user: %w", err)
	}
	u, g, err := c.ids.Lookup(ctx, c.Exec)
	if err != nil {
		return nil, nil, fmt.Errorf("look up become user %s: %w", c.o.User, err)
	}
	return u, g, nil
}

// IDNames names user and group ids as the target does (conn.FileWriter).
// Names belong to the host, so where no SFTP server runs as the become
// user, the wrapped connection answers (with its own cache when it has
// one); otherwise this connection's own shell and SFTP server do, which
// spares starting the wrapped connection's SFTP server for it.
func (c *Conn) IDNames(ctx context.Context, uids, gids []int) (map[int]string, map[int]string, error) {
	shell, err := c.filesReady(ctx, "name", "ids")
	if err != nil {
		return nil, nil, err
	}
	f := conn.NameFuncs{Exec: c.Exec, Stat: c.Stat, Get: c.Get}
	if shell {
		if fw, ok := c.inner.(conn.FileWriter); ok {
			return fw.IDNames(ctx, uids, gids)
		}
		f = conn.NameFuncs{Exec: c.inner.Exec, Stat: c.inner.Stat, Get: c.inner.Get}
	}
	u, g, err := c.names.Lookup(ctx, f, uids, gids)
	if err != nil {
		return nil, nil, fmt.Errorf("name ids: %w", err)
	}
	return u, g, nil
}
