package ssh

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os/user"

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
	u, g, err := c.ids.Lookup(ctx, c.Exec)
	if err != nil {
		return nil, nil, fmt.Errorf("look up login user on %s: %w", c.alias, err)
	}
	return u, g, nil
}

// IDNames names user and group ids as the target does (conn.FileWriter),
// remembered for the connection while /etc/passwd and /etc/group are
// unchanged.
func (c *Client) IDNames(ctx context.Context, uids, gids []int) (map[int]string, map[int]string, error) {
	u, g, err := c.names.Lookup(ctx, conn.NameFuncs{Exec: c.Exec, Stat: c.Stat, Get: c.Get}, uids, gids)
	if err != nil {
		return nil, nil, fmt.Errorf("name ids on %s: %w", c.alias, err)
	}
	return u, g, nil
}
