package modules

import (
	"reflect"
	"strings"
	"testing"
)

// TestApk runs the apk module's real scripts, locally and over SSH, against
// the apk stand-in (apk itself cannot run here).
func TestApk(t *testing.T) {
	for tn, c := range sysTargets(t) {
		t.Run(tn, func(t *testing.T) {
			dir, prefix := standIn(t, "apk")
			pc := &prefixConn{Conn: c, prefix: prefix}
			world := dir + "/state/world"
			standInState(t, dir, map[string]string{
				"installed": "busybox 1.36-r0\nold 1.0-r0\n",
				"available": "busybox 1.36-r0\nnginx 1.24-r1\nold 1.1-r0\n",
				"world":     "busybox\nold\n",
			})
			steps := []struct {
				what      string
				check     bool
				raw       map[string]any
				changed   bool
				failed    bool
				msg       string
				packages  []any  // nil: not checked
				installed string // "": not checked
				logHas    string
			}{
				{what: "install check", check: true, raw: map[string]any{"name": "nginx"}, changed: true, msg: "installed nginx package(s)", packages: []any{"nginx"}, logHas: "add --simulate nginx"},
				{what: "install", raw: map[string]any{"name": []any{"nginx", "busybox"}, "repository": "http://dl/x", "no_cache": true}, changed: true, msg: "installed nginx package(s)", packages: []any{"nginx"},
					installed: "busybox 1.36-r0\nnginx 1.24-r1\nold 1.0-r0\n", logHas: "--no-cache --repository http://dl/x --repositories-file /dev/null add nginx"},
				{what: "install again", raw: map[string]any{"name": "nginx", "state": "installed"}, msg: "package(s) already installed"},
				{what: "present keeps an old version", raw: map[string]any{"name": "old"}, msg: "package(s) already installed"},
				{what: "latest check", check: true, raw: map[string]any{"name": "old", "state": "latest"}, changed: true, packages: []any{"old"}, logHas: "add --upgrade --simulate old"},
				{what: "latest", raw: map[string]any{"name": "old", "state": "latest"}, changed: true, installed: "busybox 1.36-r0\nnginx 1.24-r1\nold 1.1-r0\n"},
				{what: "latest again", raw: map[string]any{"name": "old", "state": "latest"}, msg: "package(s) already installed"},
				{what: "unknown", raw: map[string]any{"name": "nosuch"}, failed: true, msg: "failed to install nosuch"},
				{what: "hostile name", raw: map[string]any{"name": "it's $(echo X) `y`"}, failed: true, msg: "failed to install it's $(echo X) `y`"},
				{what: "remove check", check: true, raw: map[string]any{"name": "nginx", "state": "absent"}, changed: true, msg: "removed nginx package(s)", packages: []any{"nginx"}},
				{what: "remove", raw: map[string]any{"name": []any{"nginx", "nosuch"}, "state": "removed"}, changed: true, packages: []any{"nginx"}, installed: "busybox 1.36-r0\nold 1.1-r0\n", logHas: "del --purge nginx"},
				{what: "remove again", raw: map[string]any{"name": "nginx", "state": "absent"}, msg: "package(s) already removed"},
				{what: "update_cache", raw: map[string]any{"update_cache": true}, changed: true, msg: "updated repository indexes", logHas: "update"},
				{what: "upgrade nothing", raw: map[string]any{"upgrade": true}, msg: "packages already upgraded", packages: []any{}},
			}
			for _, s := range steps {
				if _, ok := s.raw["name"]; ok && s.raw["state"] != "absent" && s.raw["state"] != "removed" {
					s.raw["world"] = world
				}
				before := standInRead(t, dir, "installed")
				logBefore := len(standInRead(t, dir, "log"))
				res, calls := sysRun(t, pc, Apk{}, s.check, false, s.raw)
				sysExpect(t, s.what, res, s.changed, s.failed, s.msg)
				if calls != 1 {
					t.Errorf("%s: %d round trips, want 1", s.what, calls)
				}
				if s.packages != nil && !reflect.DeepEqual(res.Values["packages"], s.packages) {
					t.Errorf("%s: packages %v, want %v", s.what, res.Values["packages"], s.packages)
				}
				after := standInRead(t, dir, "installed")
				if s.installed != "" && after != s.installed {
					t.Errorf("%s: installed %q, want %q", s.what, after, s.installed)
				}
				if (s.check || !s.changed) && after != before {
					t.Errorf("%s: installed changed from %q to %q", s.what, before, after)
				}
				if log := standInRead(t, dir, "log")[logBefore:]; s.logHas != "" && !strings.Contains("\n"+log, "\n"+s.logHas+"\n") {
					t.Errorf("%s: the stand-in never ran %q; it ran:\n%s", s.what, s.logHas, log)
				}
			}
			// an upgrade once a newer busybox is available
			standInState(t, dir, map[string]string{"available": "busybox 1.37-r0\nold 1.1-r0\n"})
			res, _ := sysRun(t, pc, Apk{}, false, false, map[string]any{"upgrade": true, "available": true})
			sysExpect(t, "upgrade", res, true, false, "upgraded packages")
			if got := standInRead(t, dir, "installed"); got != "busybox 1.37-r0\nold 1.1-r0\n" {
				t.Errorf("after upgrade: %q", got)
			}
		})
	}
}
