package modules

import (
	"strings"
	"testing"
)

// TestLineInFile replays ansible-core's recorded lineinfile behaviour
// (testdata/ansible/lineinfile.json, cases after Ansible's lineinfile
// integration target) and adds the errors, attributes and RE2 limits.
func TestLineInFile(t *testing.T) {
	cases := recordedCases(t, "lineinfile")
	cases = append(cases,
		fileCase{name: "missing file", args: map[string]any{"path": "DIR/f", "line": "x"}, failed: true, msg: "Destination DIR/f does not exist !"},
		fileCase{name: "directory", files: map[string]string{"d/": ""}, args: map[string]any{"path": "DIR/d", "line": "x"}, failed: true, msg: "Path DIR/d is a directory !"},
		fileCase{name: "absent on a missing file", args: map[string]any{"path": "DIR/f", "line": "x", "state": "absent"}, unchanged: true, msg: "file not present"},
		fileCase{name: "line required", files: map[string]string{"f": ""}, args: map[string]any{"path": "DIR/f"}, failed: true, msg: "line is required with state=present"},
		fileCase{name: "backrefs need regexp", files: map[string]string{"f": ""}, args: map[string]any{"path": "DIR/f", "line": "x", "backrefs": true}, failed: true, msg: "regexp is required with backrefs=true"},
		fileCase{name: "absent needs something", files: map[string]string{"f": ""}, args: map[string]any{"path": "DIR/f", "state": "absent"}, failed: true, msg: "one of line, search_string, or regexp is required with state=absent"},
		fileCase{name: "look-ahead is refused", files: map[string]string{"f": "a\n"}, args: map[string]any{"path": "DIR/f", "line": "x", "regexp": "^a(?=b)"}, failed: true,
			check: func(t *testing.T, _ target, r Result) {
				if !strings.Contains(r.Msg, "RE2") {
					t.Errorf("msg = %q", r.Msg)
				}
			}},
		fileCase{name: "mode and line", files: map[string]string{"f": "a\n"}, args: map[string]any{"path": "DIR/f", "line": "b", "mode": "0600"}, msg: "line added and ownership, perms or SE linux context changed", want: map[string]string{"f": "a\nb\n"}},
		fileCase{name: "mode only", files: map[string]string{"f": "a\n"}, args: map[string]any{"path": "DIR/f", "line": "a", "mode": "0600"}, msg: "ownership, perms or SE linux context changed"},
		fileCase{name: "go style backref", files: map[string]string{"f": "key = old\n"}, args: map[string]any{"path": "DIR/f", "regexp": `^(key) = .*$`, "line": "${1} = new", "backrefs": true}, want: map[string]string{"f": "key = new\n"}},
		fileCase{name: "create with backup and validate", args: map[string]any{"path": "DIR/sub/f", "line": "x", "create": true, "validate": "grep -q x %s"}, want: map[string]string{"sub/f": "x\n"}},
		fileCase{name: "backup", files: map[string]string{"f": "a\n"}, args: map[string]any{"path": "DIR/f", "line": "b", "backup": true},
			check: func(t *testing.T, tg target, r Result) {
				b, _ := r.Values["backup"].(string)
				if !strings.HasPrefix(b, tg.dir+"/f.") || readRemote(t, tg, strings.TrimPrefix(b, tg.dir+"/")) != "a\n" {
					t.Errorf("backup = %q", b)
				}
			}},
		fileCase{name: "odd name", files: map[string]string{"we'ird $(touch pwned)": "a\n"}, args: map[string]any{"path": "DIR/we'ird $(touch pwned)", "line": "b"}, want: map[string]string{"we'ird $(touch pwned)": "a\nb\n", "pwned": "<absent>"}},
	)
	runFileCases(t, LineInFile{}, "lineinfile.diff", cases)
}
