package conn

import (
	"fmt"
	"os/user"
	"strconv"
	"strings"
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
