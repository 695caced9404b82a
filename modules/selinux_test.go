package modules

import (
	"os"
	"path/filepath"
	"testing"
)

// TestSELinuxAbsent runs seboolean and selinux where SELinux is not
// enabled (this machine and its test hosts): they answer as Ansible's do.
func TestSELinuxAbsent(t *testing.T) {
	if _, err := os.Stat("/sys/fs/selinux/enforce"); err == nil {
		t.Skip("SELinux is enabled here")
	}
	for tn, c := range sysTargets(t) {
		t.Run(tn, func(t *testing.T) {
			res, _ := sysRun(t, c, SeBoolean{}, false, false, map[string]any{"name": "httpd_can_network_connect", "state": true})
			sysExpect(t, "seboolean", res, false, true, "SELinux is disabled on this host.")
			if _, err := os.Stat("/etc/selinux/config"); err != nil {
				res, _ = sysRun(t, c, SELinux{}, false, false, map[string]any{"state": "disabled"})
				sysExpect(t, "selinux without config", res, false, true, "Unable to find file /etc/selinux/config")
			}
			dir := t.TempDir()
			if tn == "ssh" {
				dir = "/srv/" + sysUniq("selinux")
				sysSh(t, c, "mkdir -p "+dir)
			}
			conf := filepath.Join(dir, "config")
			sysSh(t, c, "printf '# c\\nSELINUX=enforcing\\nSELINUXTYPE=targeted\\n' >"+conf)
			steps := []struct {
				what    string
				check   bool
				raw     map[string]any
				changed bool
				msg     string
				warn    string
				content string
			}{
				{"disable check", true, map[string]any{"state": "disabled", "conf": conf}, true, "Config SELinux state changed from 'enforcing' to 'disabled'", "", "# c\nSELINUX=enforcing\nSELINUXTYPE=targeted\n"},
				{"disable", false, map[string]any{"state": "disabled", "configfile": conf}, true, "Config SELinux state changed from 'enforcing' to 'disabled'", "", "# c\nSELINUX=disabled\nSELINUXTYPE=targeted\n"},
				{"disable again", false, map[string]any{"state": "disabled", "configfile": conf}, false, "", "", "# c\nSELINUX=disabled\nSELINUXTYPE=targeted\n"},
				{"permissive", false, map[string]any{"state": "permissive", "policy": "targeted", "configfile": conf}, true, "Config SELinux state changed from 'disabled' to 'permissive'",
					"Reboot is required to set SELinux state to 'permissive'", "# c\nSELINUX=permissive\nSELINUXTYPE=targeted\n"},
			}
			for _, s := range steps {
				res, _ := sysRun(t, c, SELinux{}, s.check, false, s.raw)
				sysExpect(t, s.what, res, s.changed, false, s.msg)
				if s.warn != "" && (len(res.Warnings) != 1 || res.Warnings[0] != s.warn || res.Values["reboot_required"] != true) {
					t.Errorf("%s: warnings %q reboot_required %v", s.what, res.Warnings, res.Values["reboot_required"])
				}
				if got := sysSh(t, c, "cat "+conf); got != s.content {
					t.Errorf("%s: config %q, want %q", s.what, got, s.content)
				}
			}
			res, _ = sysRun(t, c, SELinux{}, false, false, map[string]any{"state": "enforcing", "configfile": conf})
			sysExpect(t, "no policy", res, false, true, "Policy is required if state is not 'disabled'")
		})
	}
}
