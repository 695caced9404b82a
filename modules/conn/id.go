package conn

import (
	"context"
	"fmt"
	"os/user"
	"strconv"
	"strings"
	"sync"
)

// ParseID reads id's "uid=0(root) gid=0(root) groups=..." (the names in
// parentheses are missing for ids without one).
func ParseID(out string) (*user.User, *user.Group, error) {
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

// UserCache remembers the user a connection runs commands as (and its
// primary group), looked up with one id command on first use. The zero
// value is ready; it is safe for concurrent use.
type UserCache struct {
	mu sync.Mutex // held while the user is looked up
	u  *user.User
	g  *user.Group
}

// Lookup returns the remembered user, running id through exec the first
// time. Its errors do not name the connection: callers wrap them.
func (uc *UserCache) Lookup(ctx context.Context, exec func(context.Context, Command) (ExecResult, error)) (*user.User, *user.Group, error) {
	uc.mu.Lock()
	defer uc.mu.Unlock()
	if uc.u != nil {
		return uc.u, uc.g, nil
	}
	res, err := exec(ctx, Command{Script: "LC_ALL=C id"})
	if err != nil {
		return nil, nil, err
	}
	if res.RC != 0 {
		return nil, nil, fmt.Errorf("id: exit %d: %s", res.RC, strings.TrimSpace(string(res.Stderr)))
	}
	u, g, err := ParseID(string(res.Stdout))
	if err != nil {
		return nil, nil, err
	}
	uc.u, uc.g = u, g
	return u, g, nil
}
