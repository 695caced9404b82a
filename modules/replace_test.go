package modules

import "testing"

// TestReplace replays ansible-core's recorded replace behaviour
// (testdata/ansible/replace.json) and adds errors and options.
func TestReplace(t *testing.T) {
	cases := append(recordedCases(t, "replace"),
		fileCase{name: "go template", files: map[string]string{"f": "a=1\n"}, args: map[string]any{"path": "DIR/f", "regexp": `^(a)=1$`, "replace": "${1}=2"}, want: map[string]string{"f": "a=2\n"}, msg: "1 replacements made"},
		fileCase{name: "dollar at line end", files: map[string]string{"f": "a 1\nb 1\n"}, args: map[string]any{"path": "DIR/f", "regexp": `1$`, "replace": "2"}, want: map[string]string{"f": "a 2\nb 2\n"}, msg: "2 replacements made"},
		fileCase{name: "back-reference in pattern refused", files: map[string]string{"f": "aa\n"}, args: map[string]any{"path": "DIR/f", "regexp": `(a)\1`, "replace": "b"}, failed: true},
		fileCase{name: "backup", files: map[string]string{"f": "a\n"}, args: map[string]any{"path": "DIR/f", "regexp": "a", "replace": "b", "backup": true},
			check: func(t *testing.T, tg target, r Result) {
				if b, _ := r.Values["backup_file"].(string); b == "" || readRemote(t, tg, b[len(tg.dir)+1:]) != "a\n" {
					t.Errorf("backup_file = %v", r.Values["backup_file"])
				}
			}},
	)
	runFileCases(t, Replace{}, "replace.diff", cases)
}
