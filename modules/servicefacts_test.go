package modules

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestServiceFacts reads real sysv init scripts (one running, one
// stopped, made for the test) through the real Conn, local and on a test
// host, with `service --status-all`.
func TestServiceFacts(t *testing.T) {
	sysNeedRoot(t, "service")
	up, down := sysUniq("mdo-svcfacts-up"), sysUniq("mdo-svcfacts-down")
	for name, rc := range map[string]string{up: "0", down: "3"} {
		p := filepath.Join("/etc/init.d", name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\ncase $1 in status) echo status; exit "+rc+";; esac\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Remove(p) })
	}
	for tn, c := range sysTargets(t) {
		t.Run(tn, func(t *testing.T) {
			for _, check := range []bool{false, true} {
				res, trips := sysRun(t, c, ServiceFacts{}, check, false, map[string]any{})
				sysExpect(t, "sysv", res, false, false, "")
				if trips != 1 {
					t.Errorf("%d round trips, want 1", trips)
				}
				svcs, _ := res.Facts["services"].(map[string]any)
				for name, state := range map[string]string{up: "running", down: "stopped"} {
					want := map[string]any{"name": name, "state": state, "source": "sysv"}
					if !reflect.DeepEqual(svcs[name], want) {
						t.Errorf("services[%s] = %v, want %v", name, svcs[name], want)
					}
				}
			}
		})
	}
}

// TestServiceFactsSystemd runs the systemd branch against a stand-in
// systemctl printing systemd's formats (there is no systemd as PID 1 here),
// and checks that a target with neither tool is skipped as Ansible skips it.
func TestServiceFactsSystemd(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	stand := `#!/bin/sh
case "$1" in
list-units) cat <<'E'
  UNIT                     LOAD      ACTIVE   SUB     DESCRIPTION
  cron.service             loaded    active   running Regular background program processing daemon
  gone.service             not-found inactive dead    gone.service
  broken.service           loaded    failed   failed  Broken thing
  oneshot.service          loaded    active   exited  Runs once
E
;;
list-unit-files) cat <<'E'
UNIT FILE                  STATE           VENDOR PRESET
cron.service               enabled         enabled
broken.service             enabled         enabled
oneshot.service            static          -
idle.service               disabled        enabled
getty@.service             enabled         enabled

5 unit files listed.
E
;;
show) echo "$*" >>"${0%/*}/show.log"
  case $2 in idle.service) echo ActiveState=inactive ;; *) exit 1 ;; esac ;;
esac
`
	if err := os.WriteFile(filepath.Join(bin, "systemctl"), []byte(stand), 0o755); err != nil {
		t.Fatal(err)
	}
	c := &prefixConn{Conn: localConn(), prefix: "PATH=" + bin + ":$PATH"}
	res, err := svcfactsRun(context.Background(), &Env{Conn: c}, "true")
	if err != nil {
		t.Fatal(err)
	}
	svcs, _ := res.Facts["services"].(map[string]any)
	if svcs == nil {
		t.Fatalf("no services: %+v", res)
	}
	want := map[string]any{
		"cron.service":    map[string]any{"name": "cron.service", "state": "running", "status": "enabled", "source": "systemd"},
		"gone.service":    map[string]any{"name": "gone.service", "state": "stopped", "status": "not-found", "source": "systemd"},
		"broken.service":  map[string]any{"name": "broken.service", "state": "stopped", "status": "failed", "source": "systemd"},
		"oneshot.service": map[string]any{"name": "oneshot.service", "state": "stopped", "status": "static", "source": "systemd"},
		"idle.service":    map[string]any{"name": "idle.service", "state": "inactive", "status": "disabled", "source": "systemd"},
		"getty@.service":  map[string]any{"name": "getty@.service", "state": "unknown", "status": "enabled", "source": "systemd"},
	}
	for k, w := range want {
		if !reflect.DeepEqual(svcs[k], w) {
			t.Errorf("services[%s] = %v, want %v", k, svcs[k], w)
		}
	}
	// show ran only for the unit files systemd had not loaded.
	if log, _ := os.ReadFile(filepath.Join(bin, "show.log")); string(log) != "show idle.service --property=ActiveState\nshow getty@.service --property=ActiveState\n" {
		t.Errorf("systemctl show calls:\n%s", log)
	}

	empty := &prefixConn{Conn: localConn(), prefix: "PATH=" + t.TempDir()}
	res, err = svcfactsRun(context.Background(), &Env{Conn: empty}, "false")
	if err != nil {
		t.Fatal(err)
	}
	if !res.Skipped || res.Failed || res.Msg != "Failed to find any services. This can be due to privileges or some other configuration issue." || res.Facts != nil {
		t.Errorf("no tools: %+v", res)
	}
}
