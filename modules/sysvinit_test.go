package modules

import (
	"strings"
	"testing"
)

func TestSysvinitStarted(t *testing.T) {
	ps := "root 1 0.0 init\nroot 77 0.0 /usr/sbin/mydaemon -f\n"
	for _, tc := range []struct {
		what, name, pattern string
		rc                  int
		out                 string
		started             bool
		warn                string
	}{
		{"running", "foo", "", 0, "foo is running\n", true, ""},
		{"not running", "foo", "", 3, "foo is not running\n", false, ""},
		{"stopped word", "foo", "", 0, "foo stopped\n", false, ""},
		{"inactive", "foo", "", 0, "inactive\n", false, ""},
		{"name holds a word", "runner", "", 3, "runner: no\n", false, ""},
		{"silent rc 0", "foo", "", 0, "", true, ""},
		{"silent rc 3", "foo", "", 3, "", false, ""},
		{"long output rc 0", "foo", "", 0, "a\nb\nc\n", true, ""},
		{"ps", "mydaemon", "", 5, "", true, "Used ps output"},
		{"unknown", "other", "", 5, "", false, "Unable to determine"},
		{"iptables", "iptables", "", 0, "Chain INPUT (policy ACCEPT)\n1\n2\n", true, ""},
		{"pattern", "x", "mydaemon -f", 3, "", true, ""},
		{"pattern missing", "x", "nothing", 0, "", false, "Unable to determine"},
	} {
		started, w := sysvinitStarted(tc.name, tc.pattern, tc.rc, tc.out, ps)
		if started != tc.started || (tc.warn == "") != (len(w) == 0) || tc.warn != "" && !strings.HasPrefix(w[0], tc.warn) {
			t.Errorf("%s: started %v, warnings %q; want %v, %q", tc.what, started, w, tc.started, tc.warn)
		}
	}
}

// TestSysvinit drives a test init script (installed as
// /etc/init.d/NAME, with its state under /srv) through the real service,
// update-rc.d and run-level links on an SSH test host with a private
// overlay root; the local machine's /etc/init.d must not change, so
// there is no local run.
func TestSysvinit(t *testing.T) {
	if testing.Short() {
		t.Skip("needs an SSH test host with a private root")
	}
	sysNeedRoot(t, "update-rc.d", "service")
	c := modsbTargets(t)["ssh"]
	name := sysUniq("mdo-sysv-")
	sysSh(t, c, `cat >/etc/init.d/`+name+` <<'EOF'
#!/bin/sh
### BEGIN INIT INFO
# Provides:          `+name+`
# Required-Start:
# Required-Stop:
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: mdo-play sysvinit test
### END INIT INFO
st=/srv/`+name+`.state
case "$1" in
start) echo "$*" >>/srv/`+name+`.log; [ -e /srv/failstart ] && { echo "cannot start" >&2; exit 1; }; touch $st; echo "Starting `+name+`." ;;
stop) echo "$*" >>/srv/`+name+`.log; rm -f $st; echo "Stopping `+name+`." ;;
reload) echo "$*" >>/srv/`+name+`.log ;;
status) if [ -e $st ]; then echo "`+name+` is running"; else echo "`+name+` is not running"; exit 3; fi ;;
*) exit 2 ;;
esac
EOF
chmod 755 /etc/init.d/`+name)
	// state: running or not, the run-level links, and the script's log
	state := func() string {
		return sysSh(t, c, `cd /etc && { [ -e /srv/`+name+`.state ] && echo running || echo stopped; ls -d rc?.d/[SK]??`+name+` 2>/dev/null | sed 's/[0-9][0-9]'`+name+`'$//' | tr '\n' ' '; echo; cat /srv/`+name+`.log 2>/dev/null | tr '\n' '|'; }`)
	}
	all := "rc0.d/K rc1.d/K rc2.d/S rc3.d/S rc4.d/S rc5.d/S rc6.d/K "
	off := "rc0.d/K rc1.d/K rc2.d/K rc3.d/K rc4.d/K rc5.d/K rc6.d/K "
	on23 := "rc0.d/K rc1.d/K rc2.d/S rc3.d/S rc4.d/K rc5.d/K rc6.d/K "
	a := func(kv ...any) map[string]any {
		m := map[string]any{"name": name, "sleep": 0}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	steps := []modsbStep{
		{"start check", true, a("state", "started"), true, false, "", "stopped\n\n", 1},
		{"start", false, a("state", "started"), true, false, "", "running\n\nstart|", 2},
		{"start again", false, a("state", "started"), false, false, "", "running\n\nstart|", 1},
		{"enable", false, a("enabled", true), true, false, "", "running\n" + all + "\nstart|", 2},
		{"enable again", false, a("enabled", "yes"), false, false, "", "running\n" + all + "\nstart|", 1},
		{"stop and disable", false, a("state", "stopped", "enabled", false), true, false, "", "stopped\n" + off + "\nstart|stop|", 2},
		{"stop again", false, a("state", "stopped", "enabled", false), false, false, "", "stopped\n" + off + "\nstart|stop|", 1},
		{"enable 2 3", false, a("enabled", true, "runlevels", []any{"2", "3"}), true, false, "", "stopped\n" + on23 + "\nstart|stop|", 2},
		{"enable 2 3 again", false, a("enabled", true, "runlevels", "2,3"), false, false, "", "stopped\n" + on23 + "\nstart|stop|", 1},
		{"start with arguments", false, a("state", "started", "arguments", "--foo 'a b'"), true, false, "", "running\n" + on23 + "\nstart|stop|start --foo a b|", 2},
		{"restart", false, a("state", "restarted", "daemonize", true), true, false, "", "running\n" + on23 + "\nstart|stop|start --foo a b|stop|start|", 2},
		{"reload", false, a("state", "reloaded"), true, false, "", "running\n" + on23 + "\nstart|stop|start --foo a b|stop|start|reload|", 2},
		{"pattern says stopped", false, a("state", "stopped", "pattern", "mdo-no-such-process-"+name), false, false, "", "running\n" + on23 + "\nstart|stop|start --foo a b|stop|start|reload|", 1},
		{"missing", false, map[string]any{"name": name + "-nope", "state": "started"}, false, true, "Could not find the requested service " + name + "-nope: ", "running\n" + on23 + "\nstart|stop|start --foo a b|stop|start|reload|", 1},
	}
	res := modsbRunSteps(t, c, Sysvinit{}, steps, state)
	st, _ := res["start"].Values["status"].(map[string]any)
	if s, _ := st["started"].(map[string]any); s["changed"] != true || s["rc"] != 0 || s["stdout"] != "Starting "+name+".\n" {
		t.Errorf("start: status %v", st)
	}
	if e, _ := st["enabled"].(map[string]any); e["changed"] != false || e["rc"] != nil {
		t.Errorf("start: enabled status %v", st)
	}
	st, _ = res["enable 2 3"].Values["status"].(map[string]any)
	if e, _ := st["enabled"].(map[string]any); e["changed"] != true || e["rc"] != 0 || len(e["runlevels"].([]any)) != 2 {
		t.Errorf("enable 2 3: status %v", st)
	}
	if _, ok := st["null"]; !ok {
		t.Errorf("enable 2 3: no state key null (Ansible's None): %v", st)
	}

	sysSh(t, c, "touch /srv/failstart")
	r, _ := sysRun(t, c, Sysvinit{}, false, false, a("state", "restarted"))
	sysExpect(t, "failing start", r, false, true, "Failed to restart service: "+name) // the action asked for, as in Ansible
	if r.Values["rc"] != 1 || r.Values["stderr"] != "cannot start\n" {
		t.Errorf("failing start: values %v", r.Values)
	}
}
