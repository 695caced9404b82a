package modules

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestAlternatives runs the module through a real Conn with the real
// update-alternatives, pointed at directories of the test (--altdir,
// --admindir) so the machine's alternatives are untouched.
func TestAlternatives(t *testing.T) {
	sysNeedRoot(t, "update-alternatives")
	for tn, c := range sysTargets(t) {
		t.Run(tn, func(t *testing.T) {
			dir := t.TempDir()
			if tn == "ssh" {
				dir = "/srv/" + sysUniq("alt")
			}
			sysSh(t, c, "mkdir -p "+dir+"/alt "+dir+"/admin "+dir+"/bin && for b in one two; do printf '#!/bin/sh\\necho '$b'\\n' >"+dir+"/$b && chmod +x "+dir+"/$b; done")
			ua := strings.TrimSpace(sysSh(t, c, "command -v update-alternatives"))
			sysSh(t, c, "mkdir -p "+dir+"/wrap && printf '#!/bin/sh\\nexec "+ua+" --altdir "+dir+"/alt --admindir "+dir+"/admin \"$@\"\\n' >"+dir+"/wrap/update-alternatives && chmod +x "+dir+"/wrap/update-alternatives")
			ac := &prefixConn{Conn: c, prefix: "PATH=" + dir + "/wrap:$PATH"}
			one, two, link := filepath.Join(dir, "one"), filepath.Join(dir, "two"), filepath.Join(dir, "bin", "tool")
			steps := []struct {
				what    string
				check   bool
				raw     map[string]any
				changed bool
				failed  bool
				msg     string
				runs    string // what the link runs afterwards ("" unchecked)
			}{
				{"install check", true, map[string]any{"name": "mdotool", "path": one, "link": link}, true, false, "Install alternative '" + one + "' for 'mdotool'.", ""},
				{"install", false, map[string]any{"name": "mdotool", "path": one, "link": link}, true, false, "Install alternative", "one"},
				{"again", false, map[string]any{"name": "mdotool", "path": one, "link": link}, false, false, "", "one"},
				{"second, higher priority", false, map[string]any{"name": "mdotool", "path": two, "link": link, "priority": 100, "state": "present"}, true, false, "", "two"},
				{"select the first", false, map[string]any{"name": "mdotool", "path": one}, true, false, "Set alternative '" + one + "' for 'mdotool'.", "one"},
				{"select again", false, map[string]any{"name": "mdotool", "path": one}, false, false, "", "one"},
				{"auto", false, map[string]any{"name": "mdotool", "path": two, "state": "auto"}, true, false, "Set alternative to auto for 'mdotool'.", "two"},
				{"auto again", false, map[string]any{"name": "mdotool", "path": two, "state": "auto"}, false, false, "", "two"},
				{"remove", false, map[string]any{"name": "mdotool", "path": two, "state": "absent"}, true, false, "Remove alternative", "one"},
				{"remove again", false, map[string]any{"name": "mdotool", "path": two, "state": "absent"}, false, false, "", "one"},
				{"missing path", false, map[string]any{"name": "mdotool", "path": dir + "/three", "state": "present"}, false, true, "Specified path " + dir + "/three does not exist", ""},
			}
			for _, s := range steps {
				res, _ := sysRun(t, ac, Alternatives{}, s.check, false, s.raw)
				sysExpect(t, s.what, res, s.changed, s.failed, s.msg)
				if s.runs != "" {
					if got := strings.TrimSpace(sysSh(t, c, link)); got != s.runs {
						t.Errorf("%s: %s runs %q, want %q", s.what, link, got, s.runs)
					}
				}
			}
		})
	}
}
