package modules

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestAttrsNeedChange(t *testing.T) {
	cases := []struct {
		cur, spec string
		want      bool
	}{
		{"", "+i", true}, {"i", "+i", false}, {"Ai", "+i", false}, {"A", "-i", false}, {"Ai", "-i", true},
		{"A", "A", false}, {"A", "=A", false}, {"Ai", "A", true}, {attrFlags("-------A------e-------"), "=A", false},
	}
	for _, tc := range cases {
		if got := attrsNeedChange(tc.cur, tc.spec); got != tc.want {
			t.Errorf("attrsNeedChange(%q, %q) = %v, want %v", tc.cur, tc.spec, got, tc.want)
		}
	}
}

// TestFileAttributes sets file attributes through copy and lineinfile:
// locally on this machine's ext4, and on a test host under its /srv tmpfs
// (which takes d, A and i). A flag the filesystem refuses (C, no
// copy-on-write, on both) fails the task the way Ansible's does. The
// SELinux options are reported as not applying.
func TestFileAttributes(t *testing.T) {
	r := Builtin()
	cp, _ := r.Lookup("copy")
	lif, _ := r.Lookup("lineinfile")
	for tn, c := range sysTargets(t) {
		t.Run(tn, func(t *testing.T) {
			dir := t.TempDir()
			if tn == "ssh" {
				dir = "/srv/" + sysUniq("attrs")
				sysSh(t, c, "mkdir -p "+dir)
			}
			f := filepath.Join(dir, "f")
			flags := func() string {
				out := sysSh(t, c, "lsattr -d "+f+" 2>/dev/null || true")
				if fl := strings.Fields(out); len(fl) > 0 {
					return attrFlags(fl[0])
				}
				return "?"
			}
			steps := []struct {
				what    string
				m       Module
				check   bool
				raw     map[string]any
				changed bool
				flags   string
			}{
				{"copy check", cp, true, map[string]any{"content": "x\n", "dest": f, "attributes": "+d"}, true, "?"},
				{"copy", cp, false, map[string]any{"content": "x\n", "dest": f, "attributes": "+d"}, true, "d"},
				{"copy again", cp, false, map[string]any{"content": "x\n", "dest": f, "attr": "+d"}, false, "d"},
				{"lineinfile, attributes only", lif, false, map[string]any{"line": "x", "path": f, "attributes": "A"}, true, "A"},
				{"lineinfile again", lif, false, map[string]any{"line": "x", "path": f, "attributes": "=A"}, false, "A"},
				{"remove check", lif, true, map[string]any{"line": "x", "path": f, "attributes": "-A"}, true, "A"},
				{"remove", lif, false, map[string]any{"line": "x", "path": f, "attributes": "-A"}, true, ""},
				{"remove again", lif, false, map[string]any{"line": "x", "path": f, "attributes": "-A"}, false, ""},
			}
			for _, s := range steps {
				res, _ := sysRun(t, c, s.m, s.check, true, s.raw)
				sysExpect(t, s.what, res, s.changed, false, "")
				if got := flags(); got != s.flags {
					t.Errorf("%s: flags %q, want %q", s.what, got, s.flags)
				}
			}
			res, _ := sysRun(t, c, cp, false, false, map[string]any{"content": "x\n", "dest": f, "attributes": "+C"})
			sysExpect(t, "unsupported flag", res, false, true, "chattr failed")
			if d, _ := res.Values["details"].(string); !strings.HasPrefix(d, "Error while setting attributes: ") || !strings.Contains(d, "Operation not supported") {
				t.Errorf("details %q", d)
			}
			res, _ = sysRun(t, c, cp, false, false, map[string]any{"content": "x\n", "dest": f, "setype": "etc_t", "seuser": "system_u"})
			if len(res.Warnings) != 1 || res.Warnings[0] != "setype, seuser: SELinux is not enabled on the host, so the SELinux options do not apply" {
				t.Errorf("warnings %q", res.Warnings)
			}
		})
	}
}
