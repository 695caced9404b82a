package modules

import (
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
			steps := []standInStep{
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
			runStandInSteps(t, pc, dir, standInRun{module: Apk{}, calls: 1, exact: true, prepare: func(raw map[string]any) {
				if _, ok := raw["name"]; ok && raw["state"] != "absent" && raw["state"] != "removed" {
					raw["world"] = world
				}
			}}, steps)
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
