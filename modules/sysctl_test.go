package modules

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestSysctlFix(t *testing.T) {
	cases := []struct {
		name, content, key, value string
		present                   bool
		old                       string
		found                     bool
		out                       string
	}{
		{"append", "# c\na.b = 1\n", "x.y", "2", true, "", false, "# c\na.b=1\nx.y=2\n"},
		{"replace normalizes", "; c\n\na.b = 1\nx.y=3\n", "x.y", "2", true, "3", true, "; c\n\na.b=1\nx.y=2\n"},
		{"duplicates dropped", "x.y=1\nx.y=2\n", "x.y", "5", true, "2", true, "x.y=5\n"},
		{"absent", "a.b=1\nx.y=2\n", "x.y", "", false, "2", true, "a.b=1\n"},
		{"no final newline", "a.b=1", "x.y", "2", true, "", false, "a.b=1\nx.y=2\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			old, found, out := sysctlFix(tc.content, tc.key, tc.value, tc.present)
			if old != tc.old || found != tc.found || out != tc.out {
				t.Errorf("got (%q, %v, %q), want (%q, %v, %q)", old, found, out, tc.old, tc.found, tc.out)
			}
		})
	}
	if sysctlValue("yes") != "1" || sysctlValue(" 10 ") != "10" || !sysctlEqual("4096\t16384  4194304", "4096 16384 4194304") {
		t.Error("value normalization")
	}
}

// TestSysctl edits a sysctl file in a temp dir (local) or under /srv (on a
// test host); the kernel is only read (reload and sysctl_set stay off
// where they would change it).
func TestSysctl(t *testing.T) {
	for tn, c := range sysTargets(t) {
		t.Run(tn, func(t *testing.T) {
			dir := t.TempDir()
			if tn == "ssh" {
				dir = "/srv/" + sysUniq("sysctl")
				sysSh(t, c, "mkdir -p "+dir)
			}
			file := filepath.Join(dir, "sysctl.conf")
			sysSh(t, c, "printf '# tuning\\nvm.swappiness = 10\\nfoo.bar=1\\nfoo.bar=2\\n' >"+file+" && chmod 640 "+file)
			ostype := strings.TrimSpace(sysSh(t, c, "sysctl -n kernel.ostype"))
			set := func(kv ...any) map[string]any {
				m := map[string]any{"sysctl_file": file, "reload": false}
				for i := 0; i+1 < len(kv); i += 2 {
					m[kv[i].(string)] = kv[i+1]
				}
				return m
			}
			steps := []struct {
				what    string
				check   bool
				raw     map[string]any
				changed bool
				failed  bool
				msg     string
				content string
			}{
				{"set check", true, set("name", "vm.swappiness", "value", 20), true, false, "", "# tuning\nvm.swappiness = 10\nfoo.bar=1\nfoo.bar=2\n"},
				{"set", false, set("name", "vm.swappiness", "value", 20), true, false, "", "# tuning\nvm.swappiness=20\nfoo.bar=1\n"},
				{"set again", false, set("key", "vm.swappiness", "val", "20"), false, false, "", "# tuning\nvm.swappiness=20\nfoo.bar=1\n"},
				{"absent", false, set("name", "foo.bar", "state", "absent"), true, false, "", "# tuning\nvm.swappiness=20\n"},
				{"absent again", false, set("name", "foo.bar", "state", "absent"), false, false, "", "# tuning\nvm.swappiness=20\n"},
				{"kernel value matches", false, set("name", "kernel.ostype", "value", ostype), true, false, "", "# tuning\nvm.swappiness=20\nkernel.ostype=" + ostype + "\n"},
				{"reload check, kernel agrees", true, set("name", "kernel.ostype", "value", ostype, "reload", true), false, false, "", "# tuning\nvm.swappiness=20\nkernel.ostype=" + ostype + "\n"},
				{"reload check, kernel differs", true, set("name", "kernel.ostype", "value", "Plan9", "reload", true), true, false, "", "# tuning\nvm.swappiness=20\nkernel.ostype=" + ostype + "\n"},
				{"no value", false, set("name", "a.b"), false, true, "state is present but all of the following are missing: value", ""},
			}
			for _, s := range steps {
				res, trips := sysRun(t, c, Sysctl{}, s.check, true, s.raw)
				sysExpect(t, s.what, res, s.changed, s.failed, s.msg)
				if s.failed {
					continue
				}
				want := 1
				if s.changed && !s.check {
					want = 2
				}
				if trips != want {
					t.Errorf("%s: %d round trips, want %d", s.what, trips, want)
				}
				if got := sysSh(t, c, "cat "+file); got != s.content {
					t.Errorf("%s: file %q, want %q", s.what, got, s.content)
				}
				if s.what == "set" {
					if m := strings.TrimSpace(sysSh(t, c, "stat -c %a "+file)); m != "640" {
						t.Errorf("mode %s, want 640 kept", m)
					}
					if tn == "local" {
						golden(t, "sysctl/set.diff", sysDiffText(res.Diff, dir))
					}
				}
			}
		})
	}
}
