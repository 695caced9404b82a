package ssh

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os/user"
	"strings"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// PutFile writes r to dst atomically as Put does, without running a
// command on the target (sftpfs.FS.PutFile): the temporary file gets
// owner uid and group gid (-1 leaves one as the new file has it; both -1:
// no chown) and mode perm before it is renamed over dst.
//
// The file belongs to the login user unless uid says otherwise.
func (c *Client) PutFile(ctx context.Context, r io.Reader, dst string, perm fs.FileMode, uid, gid int) (conn.FileInfo, error) {
	return c.files().PutFile(ctx, r, dst, perm, uid, gid)
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
	u, g, err := conn.ParseID(string(res.Stdout))
	if err != nil {
		return nil, nil, fmt.Errorf("look up login user on %s: %w", c.alias, err)
	}
	c.idUser, c.idGroup = u, g
	return u, g, nil
}
