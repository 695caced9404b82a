package modules

import (
	"path/filepath"
	"strings"
	"testing"
)

// modprobeStandIn is a stand-in modprobe (no test host can load kernel
// modules): it logs its arguments and keeps the fake /proc/modules under
// $K, refusing a module called nosuchmod
// the way kmod does.
const modprobeStandIn = `echo "modprobe $*" >>"$K/log"
dry= rm= n=
for a; do case $a in -n) dry=1 ;; -r) rm=1 ;; --first-time) ;; *) [ -z "$n" ] && n=$a ;; esac; done
[ "$n" = nosuchmod ] && { echo "modprobe: FATAL: Module nosuchmod not found in directory /lib/modules/$(uname -r)" >&2; exit 1; }
[ -n "$dry" ] && exit 0
m=$(printf %s "$n" | tr - _)
grep -v "^$m " "$K/proc/modules" >"$K/proc/modules.new"; mv "$K/proc/modules.new" "$K/proc/modules"
[ -n "$rm" ] || echo "$m 16384 0 - Live 0x0000000000000000" >>"$K/proc/modules"
`

// TestModprobe loads, persists and removes a module through a stand-in
// modprobe and a stand-in kernel directory (fake proc/modules and
// lib/modules/$(uname -r)/modules.builtin). The files the module keeps
// are real: under a temporary root locally, and the real
// /etc/modules-load.d and /etc/modprobe.d over SSH, on a test host with a
// private overlay root (where the stand-in sits in /usr/local/sbin).
func TestModprobe(t *testing.T) {
	for tn, c := range modsbTargets(t) {
		t.Run(tn, func(t *testing.T) {
			var m Modprobe
			k := "/srv/kernel"
			if tn == "local" {
				k, m.root = t.TempDir(), t.TempDir()
				modsbStandIns(t, map[string]string{"modprobe": "K=" + k + "\n" + modprobeStandIn})
			} else {
				sysSh(t, c, "cat >/usr/local/sbin/modprobe <<'EOF'\n#!/bin/sh\nK="+k+"\n"+modprobeStandIn+"EOF\nchmod 755 /usr/local/sbin/modprobe")
			}
			m.kernel = k
			sysSh(t, c, "mkdir -p "+k+"/proc "+k+"/lib/modules/$(uname -r) && echo 'loop 16384 0 - Live 0x0' >"+k+"/proc/modules && echo kernel/drivers/misc/builtinmod.ko >"+k+"/lib/modules/$(uname -r)/modules.builtin")
			ml, mp := m.root+"/etc/modules-load.d", m.root+"/etc/modprobe.d"
			sysSh(t, c, "mkdir -p "+mp+" && printf 'options dummy numdummies=7\\noptions other x=1\\n' >"+mp+"/zz-old.conf")
			state := func() string {
				return sysSh(t, c, "cd "+k+" && awk '{print $1}' proc/modules; for f in "+ml+"/dummy.conf "+mp+"/*.conf; do [ -f $f ] && { echo \"== ${f##*/}\"; cat $f; }; done; true")
			}
			dummy := func(kv ...string) map[string]any {
				r := map[string]any{"name": "dummy"}
				for i := 0; i+1 < len(kv); i += 2 {
					r[kv[i]] = kv[i+1]
				}
				return r
			}
			start := "loop\n== zz-old.conf\noptions dummy numdummies=7\noptions other x=1\n"
			loaded2 := "loop\ndummy\n== dummy.conf\ndummy\n== dummy.conf\noptions dummy numdummies=2\n== zz-old.conf\n#options dummy numdummies=7\noptions other x=1\n"
			loaded3 := "loop\ndummy\n== dummy.conf\ndummy\n== dummy.conf\noptions dummy numdummies=3\n== zz-old.conf\n#options dummy numdummies=7\noptions other x=1\n"
			gone := "loop\n== dummy.conf\n#dummy\n== dummy.conf\n#options dummy numdummies=3\n== zz-old.conf\n#options dummy numdummies=7\noptions other x=1\n"
			steps := []modsbStep{
				{"check", true, dummy("params", "numdummies=2", "persistent", "present"), true, false, "", start, 2},
				{"present", false, dummy("params", "numdummies=2", "persistent", "present"), true, false, "", loaded2, 2},
				{"present again", false, dummy("params", "numdummies=2", "persistent", "present"), false, false, "", loaded2, 1},
				{"new params", false, dummy("params", "numdummies=3", "persistent", "present"), true, false, "", loaded3, 2},
				{"absent check", true, dummy("state", "absent", "persistent", "absent"), true, false, "", loaded3, 2},
				{"absent", false, dummy("state", "absent", "persistent", "absent"), true, false, "", gone, 2},
				{"absent again", false, dummy("state", "absent", "persistent", "absent"), false, false, "", gone, 1},
				{"built in", false, map[string]any{"name": "builtinmod"}, false, false, "", gone, 1},
				{"unknown", false, map[string]any{"name": "nosuchmod"}, false, true, "modprobe: FATAL: Module nosuchmod not found", gone, 2},
			}
			modsbRunSteps(t, c, m, steps, state)
			log := sysSh(t, c, "cat "+k+"/log")
			if want := "modprobe -n dummy numdummies=2\nmodprobe dummy numdummies=2\nmodprobe -r dummy -n\nmodprobe -r dummy\nmodprobe nosuchmod\n"; log != want {
				t.Errorf("modprobe calls %q, want %q", log, want)
			}
			sysSh(t, c, "rm "+k+"/lib/modules/$(uname -r)/modules.builtin")
			res, _ := sysRun(t, c, m, false, false, map[string]any{"name": "notloaded", "state": "absent"})
			sysExpect(t, "no modules.builtin", res, false, true, "No such file or directory: '"+filepath.Join(k, "lib/modules")+"/")
			if !strings.HasSuffix(res.Msg, "/modules.builtin'") {
				t.Errorf("msg %q", res.Msg)
			}
		})
	}
}
