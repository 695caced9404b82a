package modules

import (
	"os"
	"path/filepath"
	"testing"
)

// TestDpkgSelections changes tzdata's selection with the real dpkg:
// locally in a private copy of dpkg's database (DPKG_ADMINDIR), over SSH
// on a test host with a private overlay root.
func TestDpkgSelections(t *testing.T) {
	sysNeedRoot(t, "dpkg")
	admin := t.TempDir()
	for _, n := range []string{"status", "available"} {
		b, err := os.ReadFile("/var/lib/dpkg/" + n)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(admin, n), b, 0o644)
	}
	os.MkdirAll(filepath.Join(admin, "updates"), 0o755)
	os.MkdirAll(filepath.Join(admin, "info"), 0o755)
	t.Setenv("DPKG_ADMINDIR", admin)
	hostile := "it's $(echo INJECTED)"
	for tn, c := range modsbTargets(t) {
		t.Run(tn, func(t *testing.T) {
			state := func() string { return sysSh(t, c, "dpkg --get-selections tzdata") }
			install, hold := "tzdata\t\t\t\t\t\tinstall\n", "tzdata\t\t\t\t\t\thold\n"
			sel := func(s string) map[string]any { return map[string]any{"name": "tzdata", "selection": s} }
			steps := []modsbStep{
				{"install", false, sel("install"), false, false, "", install, 1},
				{"hold check", true, sel("hold"), true, false, "", install, 1},
				{"hold", false, sel("hold"), true, false, "", hold, 1},
				{"hold again", false, sel("hold"), false, false, "", hold, 1},
				{"install again", false, sel("install"), true, false, "", install, 1},
				{"unknown", false, map[string]any{"name": "mdo-no-such-package", "selection": "hold"}, false, true, "Failed to find package 'mdo-no-such-package' to perform selection 'hold'.", install, 1},
				{"hostile", false, map[string]any{"name": hostile, "selection": "hold"}, false, true, "Failed to find package '" + hostile + "' to perform selection 'hold'.", install, 1},
			}
			res := modsbRunSteps(t, c, DpkgSelections{}, steps, state)
			if v := res["hold"].Values; v["before"] != "install" || v["after"] != "hold" {
				t.Errorf("hold: values %v", v)
			}
		})
	}
}
