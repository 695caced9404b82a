package modules

import (
	"fmt"
	"strings"
	"testing"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// TestACL runs the real getfacl and setfacl through the module's states;
// messages and the acl lists are those ansible.posix.acl gives.
func TestACL(t *testing.T) {
	sysNeedRoot(t, "getfacl", "setfacl")
	for _, tm := range fileTargets(t) {
		t.Run(tm.name, func(t *testing.T) {
			tg := tm.mk(t)
			setup(t, tg, map[string]string{"f": "x", "d/": ""})
			sh(t, tg.c, "chmod 0644 "+conn.Quote(tg.dir+"/f")+" && chmod 0755 "+conn.Quote(tg.dir+"/d"))
			f, d := "DIR/f", "DIR/d"
			base := "user::rw-|group::r--|other::r--"
			withNobody := "user::rw-|user:nobody:rwx|group::r--|mask::rwx|other::r--"
			steps := []struct {
				what            string
				check           bool
				args            map[string]any
				changed, failed bool
				msg             string
				acl             string // "|"-joined; "" when not checked
				trips           int
			}{
				{what: "query", args: map[string]any{"path": f}, msg: "current acl", acl: base, trips: 1},
				{what: "add, check mode", check: true, args: map[string]any{"path": f, "etype": "user", "entity": "nobody", "permissions": "rwx", "state": "present"}, changed: true, msg: "user:nobody:rwx is present", acl: base, trips: 1},
				{what: "add", args: map[string]any{"path": f, "etype": "user", "entity": "nobody", "permissions": "rwx", "state": "present"}, changed: true, msg: "user:nobody:rwx is present", acl: withNobody, trips: 2},
				{what: "add again", args: map[string]any{"path": f, "etype": "user", "entity": "nobody", "permissions": "rwx", "state": "present"}, msg: "user:nobody:rwx is present", acl: withNobody, trips: 1},
				{what: "entry", args: map[string]any{"name": f, "entry": "u:nobody:r", "state": "present"}, changed: true, msg: "user:nobody:r is present", acl: "user::rw-|user:nobody:r--|group::r--|mask::r--|other::r--", trips: 2},
				{what: "remove", args: map[string]any{"path": f, "etype": "user", "entity": "nobody", "state": "absent"}, changed: true, msg: "user:nobody is absent", acl: "user::rw-|group::r--|mask::r--|other::r--", trips: 2},
				{what: "remove again", args: map[string]any{"path": f, "entry": "user:nobody", "state": "absent"}, msg: "user:nobody is absent", acl: "user::rw-|group::r--|mask::r--|other::r--", trips: 1},
				{what: "default entry", args: map[string]any{"path": d, "entry": "default:group:root:rx", "state": "present"}, changed: true, msg: "group:root:rx is present", trips: 2},
				{what: "default entry again", args: map[string]any{"path": d, "entry": "d:g:root:r-x", "state": "present"}, msg: "group:root:r-x is present", trips: 1},
				{what: "query default", args: map[string]any{"path": d, "default": true}, msg: "current acl", acl: "user::rwx|group::r-x|group:root:r-x|mask::r-x|other::r-x", trips: 1},
				{what: "missing path", args: map[string]any{"path": "DIR/nope"}, failed: true, msg: "Path not found or not accessible.", trips: 1},
				{what: "unknown user", args: map[string]any{"path": f, "entry": "u:mdo-no-such-user:r", "state": "present"}, failed: true, msg: "setfacl: Option -m: Invalid argument near character 6", trips: 1},
				{what: "entry in a query", args: map[string]any{"path": f, "entry": "u:nobody:r"}, failed: true, msg: "'entry' MUST NOT be set when 'state=query'.", trips: 0},
				{what: "entry and etype", args: map[string]any{"path": f, "entry": "u:nobody:r", "etype": "user", "state": "present"}, failed: true, msg: "'entry' MUST NOT be set when 'entity', 'etype' or 'permissions' are set.", trips: 0},
				{what: "absent without entity", args: map[string]any{"path": f, "etype": "user", "state": "absent"}, failed: true, msg: "'entity' MUST be set when 'state=absent'.", trips: 0},
				{what: "present without etype", args: map[string]any{"path": f, "entity": "nobody", "permissions": "r", "state": "present"}, failed: true, msg: "'etype' MUST be set when 'state=present'.", trips: 0},
				{what: "recursive query", args: map[string]any{"path": d, "recurse": true}, failed: true, msg: "'recursive' MUST NOT be set when 'state=query'.", trips: 0},
				{what: "short entry", args: map[string]any{"path": f, "entry": "u:nobody", "state": "present"}, failed: true, msg: "'entry' MUST have 3 or 4 sections divided by ':' when 'state=present'.", trips: 0},
			}
			for _, s := range steps {
				r, trips := runOn(t, tg, ACL{}, Env{Check: s.check}, s.args)
				if r.Changed != s.changed || r.Failed != s.failed || r.Msg != s.msg || trips != s.trips {
					t.Errorf("%s: changed=%v failed=%v msg=%q trips=%d, want %v %v %q %d", s.what, r.Changed, r.Failed, r.Msg, trips, s.changed, s.failed, s.msg, s.trips)
				}
				if s.acl != "" {
					got, _ := r.Values["acl"].([]any)
					var l []string
					for _, x := range got {
						l = append(l, fmt.Sprint(x))
					}
					if g := strings.Join(l, "|"); g != s.acl {
						t.Errorf("%s: acl %q, want %q", s.what, got, s.acl)
					}
				}
			}
		})
	}
}
