package modules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTimezone sets the zone the Debian way (no usable timedatectl here:
// systemd is not PID 1). Locally the files live under a temporary root
// and dpkg-reconfigure is a stand-in that logs its arguments (the real
// one would reconfigure the machine); over SSH the test host has a
// private overlay root, so the real /etc/timezone, /etc/localtime and
// dpkg-reconfigure tzdata are used.
func TestTimezone(t *testing.T) {
	log := filepath.Join(t.TempDir(), "log")
	modsbStandIns(t, map[string]string{"dpkg-reconfigure": `echo "dpkg-reconfigure $*" >>` + log})
	for tn, c := range modsbTargets(t) {
		t.Run(tn, func(t *testing.T) {
			m, root := Timezone{}, ""
			if tn == "local" {
				root = t.TempDir()
				m.root = root
				sysSh(t, c, "mkdir -p "+root+"/etc && echo Etc/UTC >"+root+"/etc/timezone && ln -s /usr/share/zoneinfo/Etc/UTC "+root+"/etc/localtime")
			} else {
				sysSh(t, c, "echo Etc/UTC >/etc/timezone && ln -sf /usr/share/zoneinfo/Etc/UTC /etc/localtime")
			}
			state := func() string {
				return sysSh(t, c, "cat "+root+"/etc/timezone; readlink "+root+"/etc/localtime")
			}
			utc := "Etc/UTC\n/usr/share/zoneinfo/Etc/UTC\n"
			paris := "Europe/Paris\n/usr/share/zoneinfo/Europe/Paris\n"
			steps := []modsbStep{
				{"check", true, map[string]any{"name": "Europe/Paris"}, true, false, "", utc, 1},
				{"set", false, map[string]any{"name": "Europe/Paris"}, true, false, "", paris, 2},
				{"again", false, map[string]any{"name": "Europe/Paris"}, false, false, "", paris, 1},
				{"check again", true, map[string]any{"name": "Europe/Paris"}, false, false, "", paris, 1},
				{"hwclock check", true, map[string]any{"rtc": "local"}, true, false, "", paris, 1},
				{"unknown zone", false, map[string]any{"name": "Mars/Olympus_Mons"}, false, true, `given timezone "Mars/Olympus_Mons" is not available`, paris, 1},
				{"escaping zone", false, map[string]any{"name": "../../etc/passwd"}, false, true, `given timezone "../../etc/passwd" is not available`, paris, 0},
			}
			res := modsbRunSteps(t, c, m, steps, state)
			golden(t, "timezone/check.diff", sysDiffText(res["check"].Diff, ""))
			d, _ := res["set"].Values["diff"].(map[string]any)
			if b, _ := d["before"].(map[string]any); b["name"] != "Etc/UTC" {
				t.Errorf("diff value %v", d)
			}
			if h := res["hwclock check"].Diff; len(h) != 1 || !strings.Contains(h[0].After, `"hwclock": "local"`) {
				t.Errorf("hwclock diff %+v", h)
			}
			if tn == "local" {
				if got, _ := os.ReadFile(log); string(got) != "dpkg-reconfigure --frontend noninteractive tzdata\n" {
					t.Errorf("stand-in calls %q", got)
				}
			}
		})
	}
}

// TestTimezoneSystemd takes the systemd path through a stand-in
// timedatectl (the machine has no systemd to answer the real one), which
// keeps its state in a file.
func TestTimezoneSystemd(t *testing.T) {
	dir := t.TempDir()
	st, log := filepath.Join(dir, "state"), filepath.Join(dir, "log")
	os.WriteFile(st, []byte("Etc/UTC no\n"), 0o644)
	modsbStandIns(t, map[string]string{"timedatectl": `read z r <` + st + `
case $1 in
status|"") printf '               Local time: Sat 2026-12-05 06:00:00 UTC\n                Time zone: %s (UTC, +0000)\n          RTC in local TZ: %s\n' "$z" "$r" ;;
set-timezone) echo "$2 $r" >` + st + `; echo "$*" >>` + log + ` ;;
set-local-rtc) echo "$z $2" >` + st + `; echo "$*" >>` + log + ` ;;
*) exit 1 ;;
esac`})
	c := localConn()
	steps := []struct {
		what    string
		check   bool
		raw     map[string]any
		changed bool
		state   string
	}{
		{"check", true, map[string]any{"name": "Asia/Tokyo", "hwclock": "local"}, true, "Etc/UTC no\n"},
		{"set", false, map[string]any{"name": "Asia/Tokyo", "hwclock": "local"}, true, "Asia/Tokyo yes\n"},
		{"again", false, map[string]any{"name": "Asia/Tokyo", "hwclock": "local"}, false, "Asia/Tokyo yes\n"},
		{"hwclock back", false, map[string]any{"hwclock": "UTC"}, true, "Asia/Tokyo no\n"},
	}
	for _, s := range steps {
		res, _ := sysRun(t, c, Timezone{}, s.check, true, s.raw)
		sysExpect(t, s.what, res, s.changed, false, "")
		if got, _ := os.ReadFile(st); string(got) != s.state {
			t.Errorf("%s: state %q, want %q", s.what, got, s.state)
		}
		if s.what == "set" {
			golden(t, "timezone/systemd.diff", sysDiffText(res.Diff, ""))
			if res.Msg != "executed `timedatectl set-local-rtc yes`\nexecuted `timedatectl set-timezone Asia/Tokyo`" {
				t.Errorf("msg %q", res.Msg)
			}
		}
	}
	if got, _ := os.ReadFile(log); string(got) != "set-local-rtc yes\nset-timezone Asia/Tokyo\nset-local-rtc no\n" {
		t.Errorf("calls %q", got)
	}
}
