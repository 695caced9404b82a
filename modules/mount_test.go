package modules

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// TestFstabEdit checks the fstab text, ported from ansible.posix.mount's
// set_mount and unset_mount.
func TestFstabEdit(t *testing.T) {
	e := mountEntry{src: "/dev/sdb1", name: "/data", fstype: "ext4", opts: "defaults", dump: "0", passno: "0"}
	cases := []struct {
		name, before string
		set          bool
		want         mountEntry
		srcGiven     bool
		after        string
		changed      bool
	}{
		{"append", "# fs\n/dev/sda1 / ext4 defaults 0 1\n", true, e, true, "# fs\n/dev/sda1 / ext4 defaults 0 1\n/dev/sdb1 /data ext4 defaults 0 0\n", true},
		{"same", "/dev/sdb1  /data\text4 defaults 0 0\n", true, e, true, "/dev/sdb1  /data\text4 defaults 0 0\n", false},
		{"opts differ", "/dev/sdb1 /data ext4 noatime 0 0\n", true, e, true, "/dev/sdb1 /data ext4 defaults 0 0\n", true},
		{"four fields always differ", "/dev/sdb1 /data ext4 defaults\n", true, e, true, "/dev/sdb1 /data ext4 defaults 0 0\n", true},
		{"no final newline", "/dev/sda1 / ext4 defaults 0 1", true, e, true, "/dev/sda1 / ext4 defaults 0 1\n/dev/sdb1 /data ext4 defaults 0 0\n", true},
		{"escaped name", "", true, mountEntry{src: "/dev/sdc", name: fstabEscape("/my data"), fstype: "xfs", opts: "defaults", dump: "0", passno: "0"}, true, "/dev/sdc /my\\040data xfs defaults 0 0\n", true},
		{"unset", "/dev/sda1 / ext4 defaults 0 1\n/dev/sdb1 /data ext4 defaults 0 0\n", false, e, true, "/dev/sda1 / ext4 defaults 0 1\n", true},
		{"unset keeps short lines", "/dev/sdb1 /data ext4 defaults\n", false, e, true, "/dev/sdb1 /data ext4 defaults\n", false},
		{"unset swap by src", "/dev/sda2 none swap sw 0 0\n/dev/sda3 none swap sw 0 0\n", false, mountEntry{src: "/dev/sda3", name: "none"}, true, "/dev/sda2 none swap sw 0 0\n", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var after string
			var changed bool
			if tc.set {
				after, changed = fstabSet(normalizeNL(tc.before), tc.want, tc.srcGiven)
			} else {
				after, changed = fstabUnset(tc.before, tc.want, tc.srcGiven)
			}
			if after != tc.after || changed != tc.changed {
				t.Errorf("got changed=%v %q, want changed=%v %q", changed, after, tc.changed, tc.after)
			}
		})
	}
	mi := parseMountInfo("36 35 98:0 /mnt1 /my\\040mnt rw,noatime master:1 - tmpfs tmp\\040fs rw\n")
	if len(mi) != 1 || mi[0].point != "/my mnt" || mi[0].fstype != "tmpfs" || mi[0].source != "tmp fs" {
		t.Errorf("parseMountInfo = %+v", mi)
	}
}

// TestMount runs the module through a real Conn: fstab-only states
// locally (fstab in a temp dir), and on a test host, inside its own mount
// namespace, real tmpfs mounts under its private /srv.
func TestMount(t *testing.T) {
	for tn, c := range sysTargets(t) {
		t.Run(tn, func(t *testing.T) {
			dir := t.TempDir()
			if tn == "ssh" {
				dir = "/srv/" + sysUniq("mount")
				sysSh(t, c, "mkdir -p "+dir)
			}
			fstab := filepath.Join(dir, "fstab")
			mnt := filepath.Join(dir, "mnt point")
			sysSh(t, c, "printf '# static\\n/dev/sda1 / ext4 defaults 0 1\\n' >"+conn.Quote(fstab))
			args := func(kv ...any) map[string]any {
				m := map[string]any{"fstab": fstab, "path": mnt, "src": "mdotmp", "fstype": "tmpfs"}
				for i := 0; i+1 < len(kv); i += 2 {
					m[kv[i].(string)] = kv[i+1]
				}
				return m
			}
			line := "mdotmp /" + strings.TrimPrefix(strings.ReplaceAll(mnt, " ", "\\040"), "/") + " tmpfs size=1m 0 0\n"
			base := "# static\n/dev/sda1 / ext4 defaults 0 1\n"
			type step struct {
				what    string
				check   bool
				raw     map[string]any
				changed bool
				fstab   string
				mounted string // "yes", "no" or "" (not checked)
			}
			steps := []step{
				{"present check", true, args("state", "present", "opts", "size=1m"), true, base, ""},
				{"present", false, args("state", "present", "opts", "size=1m"), true, base + line, ""},
				{"present again", false, args("state", "present", "opts", "size=1m"), false, base + line, ""},
				{"absent_from_fstab", false, args("state", "absent_from_fstab"), true, base, ""},
				{"absent_from_fstab again", false, args("state", "absent_from_fstab"), false, base, ""},
			}
			if tn == "ssh" {
				steps = append(steps,
					step{"mounted check", true, args("state", "mounted", "opts", "size=1m"), true, base, "no"},
					step{"mounted", false, args("state", "mounted", "opts", "size=1m"), true, base + line, "yes"},
					step{"mounted again", false, args("name", mnt, "state", "mounted", "opts", "size=1m"), false, base + line, "yes"},
					step{"unmounted", false, args("state", "unmounted"), true, base + line, "no"},
					step{"unmounted again", false, args("state", "unmounted"), false, base + line, "no"},
					step{"mounted by fstab", false, args("state", "mounted", "opts", "size=1m"), true, base + line, "yes"},
					step{"remounted", false, args("state", "remounted"), true, base + line, "yes"},
					step{"opts changed remounts", false, args("state", "mounted", "opts", "size=2m"), true, base + strings.Replace(line, "size=1m", "size=2m", 1), "yes"},
					step{"absent check", true, args("state", "absent"), true, base + strings.Replace(line, "size=1m", "size=2m", 1), "yes"},
					step{"absent", false, args("state", "absent"), true, base, "no"},
					step{"absent again", false, args("state", "absent"), false, base, "no"},
					step{"ephemeral", false, args("state", "ephemeral"), true, base, "yes"},
					step{"unmounted ephemeral", false, args("state", "unmounted"), true, base, "no"},
				)
			}
			for _, s := range steps {
				res, _ := sysRun(t, c, Mount{}, s.check, true, s.raw)
				sysExpect(t, s.what, res, s.changed, false, "")
				if got := sysSh(t, c, "cat "+conn.Quote(fstab)); got != s.fstab {
					t.Errorf("%s: fstab %q, want %q", s.what, got, s.fstab)
				}
				if s.mounted != "" {
					got := strings.TrimSpace(sysSh(t, c, "grep -q ' "+strings.ReplaceAll(mnt, " ", "\\\\040")+" ' /proc/self/mountinfo && echo yes || echo no"))
					if got != s.mounted {
						t.Errorf("%s: mounted %s, want %s", s.what, got, s.mounted)
					}
				}
				if s.what == "present" && tn == "local" {
					golden(t, "mount/present.diff", sysDiffText(res.Diff, dir))
					if res.Values["boot"] != "yes" || res.Values["opts"] != "size=1m" || res.Values["fstab"] != fstab {
						t.Errorf("values %v", res.Values)
					}
				}
				if s.what == "absent" {
					if out := sysSh(t, c, "[ -e "+conn.Quote(mnt)+" ] && echo exists || true"); out != "" {
						t.Errorf("absent left the mount point")
					}
				}
			}
			res, _ := sysRun(t, c, Mount{}, false, false, map[string]any{"path": mnt, "state": "mounted", "fstab": fstab})
			sysExpect(t, "mounted without src", res, false, true, "state is mounted but all of the following are missing: src, fstype")
			if tn == "ssh" {
				res, _ = sysRun(t, c, Mount{}, false, false, args("state", "mounted", "fstype", "nosuchfs"))
				sysExpect(t, "bad fstype", res, false, true, "Error mounting "+mnt+":")
				if got := sysSh(t, c, "cat "+conn.Quote(fstab)); got != base {
					t.Errorf("failed mount left fstab %q, want it put back", got)
				}
			}
		})
	}
}
