package modules

import (
	"strings"
	"testing"
)

// demoInit is a sysvinit script whose daemon is a background sleep with a
// pidfile under /srv (private to each test host); reload appends to a log.
const demoInit = `#!/bin/sh
### BEGIN INIT INFO
# Provides:          NAME
# Required-Start:
# Required-Stop:
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: mdo-play test service
### END INIT INFO
P=/srv/NAME.pid
running() { [ -f $P ] && kill -0 "$(cat $P)" 2>/dev/null; }
case "$1" in
start) running && exit 0; sleep 1000 >/dev/null 2>&1 </dev/null & echo $! >$P; echo "start $2" >>/srv/NAME.log ;;
stop) running && kill "$(cat $P)"; rm -f $P; echo stop >>/srv/NAME.log ;;
restart) "$0" stop; "$0" start ;;
reload) running && echo reload >>/srv/NAME.log ;;
status) running ;;
*) echo "usage: $0 start|stop|restart|reload|status" >&2; exit 2 ;;
esac
`

// TestServiceSysv drives a real sysvinit-style script on a test host
// through service and systemd (which fall back to sysvinit without
// systemd as PID 1): start, stop, restart, reload, enable and disable,
// each twice, and in check mode.
func TestServiceSysv(t *testing.T) {
	sysNeedRoot(t, "update-rc.d")
	c := sysSSH(t)
	name := sysUniq("mdo-demo-")
	sysSh(t, c, "cat >/etc/init.d/"+name+" <<'EOF'\n"+strings.ReplaceAll(demoInit, "NAME", name)+"EOF\nchmod 755 /etc/init.d/"+name)
	t.Cleanup(func() {
		c := localConn()
		sysSh(t, c, "update-rc.d -f "+name+" remove >/dev/null 2>&1; rm -f /etc/init.d/"+name)
	})
	running := func() bool {
		return strings.TrimSpace(sysSh(t, c, "/etc/init.d/"+name+" status && echo yes || echo no")) == "yes"
	}
	enabled := func() bool {
		return strings.TrimSpace(sysSh(t, c, "ls /etc/rc2.d/S??"+name+" >/dev/null 2>&1 && echo yes || echo no")) == "yes"
	}
	steps := []struct {
		what     string
		m        Module
		check    bool
		raw      map[string]any
		changed  bool
		failed   bool
		msg      string
		running  bool
		enabled  bool
		logTail  string // last line of the service's log
		wantVals map[string]any
	}{
		{"start check", Service{}, true, map[string]any{"name": name, "state": "started"}, true, false, "", false, false, "", map[string]any{"state": "started", "name": name}},
		{"start", Service{}, false, map[string]any{"name": name, "state": "started", "args": "fast"}, true, false, "", true, false, "start fast", map[string]any{"state": "started"}},
		{"start again", Service{}, false, map[string]any{"name": name, "state": "started"}, false, false, "", true, false, "start fast", nil},
		{"reload", Service{}, false, map[string]any{"name": name, "state": "reloaded"}, true, false, "", true, false, "reload", map[string]any{"state": "started"}},
		{"restart", Service{}, false, map[string]any{"name": name, "state": "restarted"}, true, false, "", true, false, "start", nil},
		{"enable check", Service{}, true, map[string]any{"name": name, "enabled": true}, true, false, "", true, false, "start", map[string]any{"enabled": true}},
		{"enable", Service{}, false, map[string]any{"name": name, "enabled": "yes"}, true, false, "", true, true, "start", map[string]any{"enabled": true}},
		{"enable again", Service{}, false, map[string]any{"name": name, "enabled": true}, false, false, "", true, true, "start", nil},
		{"systemd stop check", Systemd{}, true, map[string]any{"name": name, "state": "stopped"}, true, false, "", true, true, "start", nil},
		{"systemd stop", Systemd{}, false, map[string]any{"unit": name, "state": "stopped", "enabled": false}, true, false, "", false, false, "stop", map[string]any{"state": "stopped", "enabled": false}},
		{"systemd stop again", Systemd{}, false, map[string]any{"name": name, "state": "stopped", "enabled": false}, false, false, "", false, false, "stop", nil},
		{"reload stopped starts", Service{}, false, map[string]any{"name": name, "state": "reloaded"}, true, false, "", true, false, "start", nil},
		{"restart with sleep", Service{}, false, map[string]any{"name": name, "state": "restarted", "sleep": 1}, true, false, "", true, false, "start", nil},
		{"stop", Service{}, false, map[string]any{"name": name, "state": "stopped"}, true, false, "", false, false, "stop", nil},
		{"unknown", Service{}, false, map[string]any{"name": name + "-nope", "state": "started"}, false, true, "cannot find 'service' binary or init script", false, false, "stop", nil},
	}
	for _, s := range steps {
		res, trips := sysRun(t, c, s.m, s.check, false, s.raw)
		sysExpect(t, s.what, res, s.changed, s.failed, s.msg)
		if trips != 1 {
			t.Errorf("%s: %d round trips, want 1", s.what, trips)
		}
		if got := running(); got != s.running {
			t.Errorf("%s: running=%v, want %v", s.what, got, s.running)
		}
		if got := enabled(); got != s.enabled {
			t.Errorf("%s: enabled=%v, want %v", s.what, got, s.enabled)
		}
		if s.logTail != "" {
			log := strings.Split(strings.TrimSpace(sysSh(t, c, "cat /srv/"+name+".log")), "\n")
			if got := strings.TrimSpace(log[len(log)-1]); got != s.logTail {
				t.Errorf("%s: last log line %q, want %q", s.what, got, s.logTail)
			}
		}
		for k, v := range s.wantVals {
			if res.Values[k] != v {
				t.Errorf("%s: %s = %v, want %v", s.what, k, res.Values[k], v)
			}
		}
	}
}

// TestServiceScripts checks the systemctl commands of the systemd branch
// (there is no systemd as PID 1 here to run them against).
func TestServiceScripts(t *testing.T) {
	yes, no := true, false
	cases := []struct {
		name string
		r    svcRequest
		want []string
	}{
		{"start", svcRequest{name: "nginx", state: "started"}, []string{`_mdo_run start _mdo_c start -- "$_mdo_n"`, `_mdo_n=nginx`}},
		{"no block stop", svcRequest{name: "nginx", state: "stopped", noBlock: true}, []string{`_mdo_run stop _mdo_c --no-block stop -- "$_mdo_n"`}},
		{"enable", svcRequest{name: "a b", enabled: &yes}, []string{`_mdo_run enable _mdo_c enable -- "$_mdo_n"`, `_mdo_n='a b'`}},
		{"disable user scope", svcRequest{name: "x", enabled: &no, scope: "user"}, []string{`systemctl --user "$@"`, `_mdo_run disable _mdo_c disable`}},
		{"mask", svcRequest{name: "x", masked: &yes}, []string{`_mdo_run mask _mdo_c mask -- "$_mdo_n"`}},
		{"daemon reload", svcRequest{daemonReload: true}, []string{`_mdo_run daemon-reload _mdo_c daemon-reload`}},
		{"check mode", svcRequest{name: "x", state: "restarted", check: true}, []string{`_mdo_run() { _mdo_f did "$1"; }`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := serviceScript(tc.r)
			for _, w := range tc.want {
				if !strings.Contains(s, w) {
					t.Errorf("script lacks %q:\n%s", w, s)
				}
			}
		})
	}
}
