package modules

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestUserGroup creates, changes and removes a real group and user (unique
// names) on a test host, checking each step twice and in check mode.
func TestUserGroup(t *testing.T) {
	sysNeedRoot(t, "useradd", "groupadd", "chpasswd")
	c := sysSSH(t)
	grp, usr := sysUniq("mdog"), sysUniq("mdou")
	gid := 42000 + rand.IntN(5000)
	uid := gid + 1
	t.Cleanup(func() {
		sysSh(t, localConn(), fmt.Sprintf("userdel -r %s >/dev/null 2>&1; groupdel %s >/dev/null 2>&1; groupdel %s >/dev/null 2>&1; true", usr, grp, usr))
	})
	const hash = "$6$mdosalt$Vb4q1eQm0AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ01"
	home := "/srv/home-" + usr
	steps := []struct {
		what    string
		m       Module
		check   bool
		raw     map[string]any
		changed bool
		failed  bool
		msg     string
		trips   int
		vals    map[string]any
	}{
		{"group check", Group{}, true, map[string]any{"name": grp, "gid": gid}, true, false, "", 1, nil},
		{"group", Group{}, false, map[string]any{"name": grp, "gid": gid}, true, false, "", 1, map[string]any{"gid": gid, "state": "present"}},
		{"group again", Group{}, false, map[string]any{"name": grp, "gid": gid}, false, false, "", 1, map[string]any{"gid": gid}},
		{"group new gid", Group{}, false, map[string]any{"name": grp, "gid": gid + 2}, true, false, "", 1, map[string]any{"gid": gid + 2}},
		{"group back", Group{}, false, map[string]any{"name": grp, "gid": gid}, true, false, "", 1, map[string]any{"gid": gid}},
		{"user missing group", User{}, false, map[string]any{"name": usr, "groups": []any{"mdo-no-such-group"}}, false, true, "Group mdo-no-such-group does not exist", 1, nil},
		{"user check", User{}, true, map[string]any{"name": usr, "uid": uid}, true, false, "", 1, nil},
		{"user", User{}, false, map[string]any{"name": usr, "uid": uid, "groups": grp, "shell": "/bin/sh", "comment": "Test User", "home": home, "password": hash},
			true, false, "", 2, map[string]any{"uid": uid, "shell": "/bin/sh", "home": home, "comment": "Test User", "password": notLogged}},
		{"user again", User{}, false, map[string]any{"name": usr, "uid": uid, "groups": []any{grp}, "shell": "/bin/sh", "comment": "Test User", "home": home, "password": hash},
			false, false, "", 1, map[string]any{"uid": uid, "groups": grp, "append": false}},
		{"user shell check", User{}, true, map[string]any{"name": usr, "shell": "/bin/bash"}, true, false, "", 1, map[string]any{"shell": "/bin/sh"}},
		{"user shell", User{}, false, map[string]any{"name": usr, "shell": "/bin/bash"}, true, false, "", 2, map[string]any{"shell": "/bin/bash"}},
		{"user append known group", User{}, false, map[string]any{"name": usr, "groups": grp, "append": true}, false, false, "", 1, nil},
		{"user primary group", User{}, false, map[string]any{"name": usr, "group": grp}, true, false, "", 2, map[string]any{"group": gid}},
		{"user drop groups", User{}, false, map[string]any{"name": usr, "groups": ""}, false, false, "", 1, nil},
		{"user lock", User{}, false, map[string]any{"name": usr, "password_lock": true}, true, false, "", 2, nil},
		{"user lock again", User{}, false, map[string]any{"name": usr, "password_lock": true}, false, false, "", 1, nil},
		{"user expire check", User{}, true, map[string]any{"name": usr, "password_expire_max": 90, "password_expire_min": 1, "password_expire_warn": 7}, true, false, "", 1, nil},
		{"user expire", User{}, false, map[string]any{"name": usr, "password_expire_max": 90, "password_expire_min": 1, "password_expire_warn": 7}, true, false, "", 2, nil},
		{"user expire again", User{}, false, map[string]any{"name": usr, "password_expire_max": 90, "password_expire_min": "1", "password_expire_warn": 7}, false, false, "", 1, nil},
		{"user expire max", User{}, false, map[string]any{"name": usr, "password_expire_max": 60}, true, false, "", 2, nil},
		{"user absent check", User{}, true, map[string]any{"name": usr, "state": "absent", "remove": true}, true, false, "", 1, nil},
		{"user absent", User{}, false, map[string]any{"name": usr, "state": "absent", "remove": true}, true, false, "", 2, map[string]any{"remove": true, "state": "absent"}},
		{"user absent again", User{}, false, map[string]any{"name": usr, "state": "absent"}, false, false, "", 1, nil},
		{"group absent", Group{}, false, map[string]any{"name": grp, "state": "absent"}, true, false, "", 1, nil},
		{"group absent again", Group{}, false, map[string]any{"name": grp, "state": "absent"}, false, false, "", 1, nil},
		{"bad name", User{}, false, map[string]any{"name": "-x"}, false, true, "invalid user name", 0, nil},
	}
	for _, s := range steps {
		res, trips := sysRun(t, c, s.m, s.check, false, s.raw)
		sysExpect(t, s.what, res, s.changed, s.failed, s.msg)
		if trips != s.trips {
			t.Errorf("%s: %d round trips, want %d", s.what, trips, s.trips)
		}
		for k, v := range s.vals {
			if res.Values[k] != v {
				t.Errorf("%s: %s = %#v, want %#v", s.what, k, res.Values[k], v)
			}
		}
		if strings.Contains(fmt.Sprint(res.Map()), hash) {
			t.Errorf("%s: the password hash reached the result: %v", s.what, res.Map())
		}
		switch s.what {
		case "group check", "user check":
			if out := sysSh(t, c, "getent group "+grp+" || true; getent passwd "+usr+" || true"); s.what == "group check" && out != "" {
				t.Errorf("check mode created %q", out)
			}
		case "user":
			if got := sysSh(t, c, "getent shadow "+usr+" | cut -d: -f2"); strings.TrimSpace(got) != hash {
				t.Errorf("shadow hash %q", got)
			}
			if got := sysSh(t, c, "id -Gn "+usr); !strings.Contains(got, grp) {
				t.Errorf("groups %q lack %s", got, grp)
			}
			sysSh(t, c, "test -d "+home)
		case "user drop groups":
			// grp is now the primary group, so no supplementary group is left to drop.
		case "user absent":
			sysSh(t, c, "! getent passwd "+usr+" && ! test -e "+home)
		}
	}
}
