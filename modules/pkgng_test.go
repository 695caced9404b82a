package modules

import (
	"testing"
)

// TestPkgng runs the pkgng module's real scripts, locally and over SSH,
// against the pkg stand-in (FreeBSD's pkg cannot run here).
func TestPkgng(t *testing.T) {
	for tn, c := range sysTargets(t) {
		t.Run(tn, func(t *testing.T) {
			dir, prefix := standIn(t, "pkg")
			pc := &prefixConn{Conn: c, prefix: prefix}
			standInState(t, dir, map[string]string{
				"installed":     "bash 5.2\ndep 1.0\nold 1.0\n",
				"available":     "bash 5.2\nnginx 1.24\nold 1.1\n",
				"autoremovable": "dep\n",
			})
			steps := []standInStep{
				{what: "install check", check: true, raw: map[string]any{"name": "nginx"}, changed: true, msg: "installed 1 package"},
				{what: "install", raw: map[string]any{"name": "nginx,bash", "pkgsite": "FreeBSD"}, changed: true, msg: "installed 1 package", installed: "bash 5.2\ndep 1.0\nnginx 1.24\nold 1.0\n", logHas: "BATCH=yes install --repository=FreeBSD -g -U -y nginx"},
				{what: "install again", raw: map[string]any{"pkg": []any{"nginx"}, "cached": true}, msg: "package(s) already present"},
				{what: "latest check", check: true, raw: map[string]any{"name": []any{"old", "bash"}, "state": "latest"}, changed: true, msg: "upgraded 1 package"},
				{what: "latest", raw: map[string]any{"name": "old", "state": "latest", "jail": "web"}, changed: true, installed: "bash 5.2\ndep 1.0\nnginx 1.24\nold 1.1\n", logHas: "BATCH=yes --jail=web upgrade -g -U -y old"},
				{what: "latest again", raw: map[string]any{"name": "old", "state": "latest"}, msg: "package(s) already latest"},
				{what: "unknown", raw: map[string]any{"name": "nosuch"}, failed: true, msg: "failed to install nosuch"},
				{what: "remove check", check: true, raw: map[string]any{"name": "nginx", "state": "absent"}, changed: true, msg: "removed 1 package(s)"},
				{what: "remove", raw: map[string]any{"name": []any{"nginx", "nosuch"}, "state": "absent"}, changed: true, installed: "bash 5.2\ndep 1.0\nold 1.1\n", logHas: "BATCH=yes delete -y nginx"},
				{what: "remove again", raw: map[string]any{"name": "nginx", "state": "absent"}, msg: "package(s) already absent"},
				{what: "autoremove check", check: true, raw: map[string]any{"name": "*", "state": "absent", "autoremove": true}, changed: true, msg: "autoremoved 1 package(s)"},
				{what: "autoremove", raw: map[string]any{"name": "*", "state": "absent", "autoremove": true}, changed: true, installed: "bash 5.2\nold 1.1\n"},
				{what: "upgrade all, nothing to do", raw: map[string]any{"name": "*", "state": "latest"}, msg: "no packages need upgrades"},
				{what: "annotation refused", raw: map[string]any{"name": "bash", "annotation": "+a"}, failed: true, msg: "annotation is not supported"},
			}
			runStandInSteps(t, pc, dir, standInRun{module: Pkgng{}, calls: 1, exact: false, prepare: nil}, steps)
			// upgrade everything once a newer bash is available
			standInState(t, dir, map[string]string{"available": "bash 5.3\nold 1.1\n"})
			res, _ := sysRun(t, pc, Pkgng{}, false, false, map[string]any{"name": "*", "state": "latest"})
			sysExpect(t, "upgrade all", res, true, false, "updated 1 package(s)")
			if got := standInRead(t, dir, "installed"); got != "bash 5.3\nold 1.1\n" {
				t.Errorf("after upgrade: %q", got)
			}
		})
	}
}
