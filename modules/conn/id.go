package conn

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os/user"
	"slices"
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

// NameCache names user and group ids as the target's name service does
// (getent, or /etc/passwd and /etc/group where there is no getent),
// remembering the names it found for as long as /etc/passwd and
// /etc/group keep their size and modification time: a run that adds or
// renames a user there is seen on the next lookup. Ids without a name
// are asked again each time. The zero value is ready; it is safe for
// concurrent use.
type NameCache struct {
	mu     sync.Mutex
	stamp  string
	users  map[int]string
	groups map[int]string
}

// NameFuncs are the connection operations a NameCache uses.
type NameFuncs struct {
	Exec func(context.Context, Command) (ExecResult, error)
	Stat func(context.Context, string) (FileInfo, error)
	Get  func(context.Context, string, io.Writer) error
}

// Lookup returns the names of uids and gids; an id without a name is
// missing from the maps. Its errors do not name the connection: callers
// wrap them.
func (nc *NameCache) Lookup(ctx context.Context, f NameFuncs, uids, gids []int) (users, groups map[int]string, err error) {
	nc.mu.Lock()
	defer nc.mu.Unlock()
	stamp := ""
	for _, p := range []string{"/etc/passwd", "/etc/group"} {
		fi, err := f.Stat(ctx, p)
		switch {
		case err == nil:
			stamp += fmt.Sprintf("%d.%d;", fi.Size, fi.ModTime.UnixNano())
		case errors.Is(err, ErrNotExist):
			stamp += "-;"
		case ctx.Err() != nil || errors.Is(err, ErrUnreachable):
			return nil, nil, err
		default:
			stamp += "?;" // cannot tell: remember nothing
		}
	}
	if stamp != nc.stamp || strings.Contains(stamp, "?") {
		nc.stamp, nc.users, nc.groups = stamp, map[int]string{}, map[int]string{}
	}
	missU, missG := missing(nc.users, uids), missing(nc.groups, gids)
	if len(missU)+len(missG) > 0 {
		u, g, err := lookupNames(ctx, f, missU, missG)
		if err != nil {
			return nil, nil, err
		}
		maps.Copy(nc.users, u)
		maps.Copy(nc.groups, g)
	}
	return pick(nc.users, uids), pick(nc.groups, gids), nil
}

func missing(m map[int]string, ids []int) []int {
	var out []int
	for _, id := range ids {
		if _, ok := m[id]; !ok && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

func pick(m map[int]string, ids []int) map[int]string {
	out := make(map[int]string, len(ids))
	for _, id := range ids {
		if n, ok := m[id]; ok {
			out[id] = n
		}
	}
	return out
}

// lookupNames asks getent for the names of uids and gids in one command;
// where the target has no getent it reads /etc/passwd and /etc/group.
func lookupNames(ctx context.Context, f NameFuncs, uids, gids []int) (map[int]string, map[int]string, error) {
	words := func(ids []int) string {
		var b strings.Builder
		for _, id := range ids {
			b.WriteString(" " + strconv.Itoa(id))
		}
		return b.String()
	}
	script := "command -v getent >/dev/null 2>&1 || exit 127\nprintf 'P\\n'\n"
	if len(uids) > 0 {
		script += "LC_ALL=C getent passwd" + words(uids) + "\n"
	}
	script += "printf '\\n@mdo-groups@\\n'\n"
	if len(gids) > 0 {
		script += "LC_ALL=C getent group" + words(gids) + "\n"
	}
	script += ":\n"
	res, err := f.Exec(ctx, Command{Script: script})
	if err != nil {
		return nil, nil, err
	}
	if res.RC == 127 {
		var pw, gr bytes.Buffer
		if err := f.Get(ctx, "/etc/passwd", &pw); err != nil && !errors.Is(err, ErrNotExist) {
			return nil, nil, fmt.Errorf("read /etc/passwd: %w", err)
		}
		if err := f.Get(ctx, "/etc/group", &gr); err != nil && !errors.Is(err, ErrNotExist) {
			return nil, nil, fmt.Errorf("read /etc/group: %w", err)
		}
		return pick(parseDB(pw.String()), uids), pick(parseDB(gr.String()), gids), nil
	}
	if res.RC != 0 {
		return nil, nil, fmt.Errorf("getent: exit %d: %s", res.RC, strings.TrimSpace(string(res.Stderr)))
	}
	pw, gr, _ := strings.Cut(strings.TrimPrefix(string(res.Stdout), "P\n"), "\n@mdo-groups@\n")
	return pick(parseDB(pw), uids), pick(parseDB(gr), gids), nil
}

// parseDB reads passwd or group lines (name:password:id:...) into id →
// name; the first line for an id wins, as in a lookup.
func parseDB(s string) map[int]string {
	out := map[int]string{}
	for _, line := range strings.Split(s, "\n") {
		f := strings.SplitN(line, ":", 4)
		if len(f) < 3 || f[0] == "" {
			continue
		}
		id, err := strconv.Atoi(f[2])
		if err != nil {
			continue
		}
		if _, ok := out[id]; !ok {
			out[id] = f[0]
		}
	}
	return out
}
