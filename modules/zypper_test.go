package modules

import (
	"strings"
	"testing"
)

// TestZypper runs the zypper module's real scripts, locally and over SSH,
// against the zypper stand-in (zypper itself cannot run here).
func TestZypper(t *testing.T) {
	for tn, c := range sysTargets(t) {
		t.Run(tn, func(t *testing.T) {
			dir, prefix := standIn(t, "zypper")
			pc := &prefixConn{Conn: c, prefix: prefix}
			standInState(t, dir, map[string]string{
				"installed": "bash 5.2-1\nold 1.0-1\n",
				"available": "bash 5.2-1\nnginx 1.24-1\nold 1.1-1\n",
			})
			const base = "--quiet --non-interactive --xmlout "
			steps := []struct {
				what      string
				check     bool
				raw       map[string]any
				changed   bool
				failed    bool
				msg       string
				installed string // "": not checked
				logHas    string // a command the stand-in ran during this step
			}{
				{what: "install check", check: true, raw: map[string]any{"name": "nginx"}, changed: true, installed: "bash 5.2-1\nold 1.0-1\n",
					logHas: base + "install --type package --dry-run --auto-agree-with-licenses --no-recommends -- +nginx"},
				{what: "install", raw: map[string]any{"name": []any{"nginx", "bash"}, "update_cache": true}, changed: true, installed: "bash 5.2-1\nnginx 1.24-1\nold 1.0-1\n",
					logHas: base + "install --type package --auto-agree-with-licenses --no-recommends -- +nginx"},
				{what: "install again", raw: map[string]any{"pkg": "nginx", "state": "installed"}, logHas: base + "--disable-repositories search --type package --match-exact --details --installed-only nginx"},
				{what: "present keeps an old version", raw: map[string]any{"name": "old"}},
				{what: "latest upgrades it", raw: map[string]any{"name": "old", "state": "latest"}, changed: true, installed: "bash 5.2-1\nnginx 1.24-1\nold 1.1-1\n"},
				{what: "latest again", raw: map[string]any{"name": "old", "state": "latest"}},
				{what: "unknown", raw: map[string]any{"name": "nosuch"}, failed: true, msg: "No provider of 'nosuch' found."},
				{what: "dist-upgrade of a package", raw: map[string]any{"name": "old", "state": "dist-upgrade"}, failed: true, msg: "Can not dist-upgrade specific packages."},
				{what: "remove check", check: true, raw: map[string]any{"name": "nginx", "state": "absent"}, changed: true},
				{what: "remove", raw: map[string]any{"name": []any{"nginx", "nosuch"}, "state": "removed", "clean_deps": true}, changed: true, installed: "bash 5.2-1\nold 1.1-1\n",
					logHas: base + "remove --type package --clean-deps nginx"},
				{what: "remove again", raw: map[string]any{"name": "nginx", "state": "absent"}},
				{what: "remove with +", raw: map[string]any{"name": "+nginx", "state": "absent"}, failed: true, msg: "Can not combine '+' prefix with state=remove/absent."},
				{what: "update all", raw: map[string]any{"name": "*", "state": "latest"}, logHas: base + "update --type package --auto-agree-with-licenses --no-recommends"},
			}
			for _, s := range steps {
				before := standInRead(t, dir, "installed")
				logBefore := len(standInRead(t, dir, "log"))
				res, calls := sysRun(t, pc, Zypper{}, s.check, false, s.raw)
				sysExpect(t, s.what, res, s.changed, s.failed, s.msg)
				if calls > 1 {
					t.Errorf("%s: %d round trips, want at most 1", s.what, calls)
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
		})
	}
}
