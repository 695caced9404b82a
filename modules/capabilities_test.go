package modules

import (
	"strings"
	"testing"
)

// TestCapabilities drives the real getcap and setcap, locally and over
// SSH: add, the idempotent second run, a second capability (getcap
// condenses them into one clause), the `+` quirk, removal, check mode and
// the collection's errors.
func TestCapabilities(t *testing.T) {
	sysNeedRoot(t, "setcap", "getcap")
	for _, tm := range fileTargets(t) {
		t.Run(tm.name, func(t *testing.T) {
			tg := tm.mk(t)
			p := tg.dir + "/prog"
			sh(t, tg.c, "cp /bin/true "+p)
			state := func() string { return strings.TrimPrefix(sh(t, tg.c, "getcap -v "+p), p) }
			a := func(cp, st string) map[string]any { return map[string]any{"path": p, "capability": cp, "state": st} }
			steps := []modsbStep{
				{"check", true, a("cap_net_raw=ep", "present"), true, false, "capabilities changed", "\n", 1},
				{"add", false, a("CAP_NET_RAW=ep", "present"), true, false, "capabilities changed", " cap_net_raw=ep\n", 2},
				{"add again", false, a("cap_net_raw=ep", "present"), false, false, "", " cap_net_raw=ep\n", 1},
				{"second", false, map[string]any{"key": p, "cap": "cap_chown=ep"}, true, false, "", " cap_chown,cap_net_raw=ep\n", 2},
				{"second again", false, a("cap_chown=ep", "present"), false, false, "", " cap_chown,cap_net_raw=ep\n", 1},
				{"other flags", false, a("cap_chown=eip", "present"), true, false, "", " cap_chown=eip cap_net_raw+ep\n", 2},
				// getcap prints cap_chown=eip: the collection never sees its triple.
				{"plus", false, a("cap_chown+eip", "present"), true, false, "", " cap_chown=eip cap_net_raw+ep\n", 2},
				{"absent check", true, a("cap_chown", "absent"), true, false, "", " cap_chown=eip cap_net_raw+ep\n", 1},
				{"absent", false, a("cap_chown", "absent"), true, false, "", " cap_net_raw=ep\n", 2},
				{"absent last", false, a("cap_net_raw=ep", "absent"), true, false, "", " =\n", 2},
				{"absent again", false, a("cap_net_raw", "absent"), false, false, "", " =\n", 1},
				{"no operator", false, a("cap_net_raw", "present"), false, true, "Couldn't find operator (one of: ('=', '-', '+'))", " =\n", 0},
				{"bad flags", false, a("cap_net_raw=x", "present"), false, true, "Unable to set capabilities of " + p, " =\n", 2},
			}
			res := modsbRunSteps(t, tg.c, Capabilities{}, steps, state)
			if v := res["add"].Values; v["state"] != "present" || v["stdout"] != "" {
				t.Errorf("add values %v", v)
			}
			if v := res["bad flags"].Values; v["stderr"] == "" {
				t.Errorf("bad flags values %v", v)
			}
			r, _ := sysRun(t, tg.c, Capabilities{}, false, false, map[string]any{"path": tg.dir + "/none", "capability": "cap_net_raw=ep"})
			sysExpect(t, "missing file", r, false, true, "Unable to get capabilities of "+tg.dir+"/none")
		})
	}
}
