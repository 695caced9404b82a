package modules

import (
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
			steps := []standInStep{
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
			runStandInSteps(t, pc, dir, standInRun{module: Zypper{}, calls: 1, exact: false, prepare: nil}, steps)
		})
	}
}
