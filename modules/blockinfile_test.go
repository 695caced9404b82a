package modules

import "testing"

// TestBlockInFile replays ansible-core's recorded blockinfile behaviour
// (testdata/ansible/blockinfile.json) and adds errors and attributes.
func TestBlockInFile(t *testing.T) {
	cases := append(recordedCases(t, "blockinfile"),
		fileCase{name: "directory", files: map[string]string{"d/": ""}, args: map[string]any{"path": "DIR/d", "block": "x"}, failed: true, msg: "Path DIR/d is a directory !"},
		fileCase{name: "mode", files: map[string]string{"f": "a\n"}, args: map[string]any{"path": "DIR/f", "block": "b", "mode": "0600"}, msg: "Block inserted and ownership, perms or SE linux context changed"},
		fileCase{name: "bad insertafter", files: map[string]string{"f": "a\n"}, args: map[string]any{"path": "DIR/f", "block": "b", "insertafter": "(?<=a)"}, failed: true},
		fileCase{name: "validate fails", files: map[string]string{"f": "a\n"}, args: map[string]any{"path": "DIR/f", "block": "b", "validate": "false %s"}, failed: true, msg: "failed to validate", want: map[string]string{"f": "a\n"}},
	)
	runFileCases(t, BlockInFile{}, "blockinfile.diff", cases)
}
