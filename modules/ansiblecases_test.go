package modules

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// recordedCase is one case of testdata/ansible/MODULE.json: what
// ansible-core did (see testdata/ansible/record.py).
type recordedCase struct {
	Name     string         `json:"name"`
	Init     *string        `json:"init"`
	Args     map[string]any `json:"args"`
	Content  *string        `json:"content"`
	Msg      string         `json:"msg"`
	Failed   bool           `json:"failed"`
	Changed  bool           `json:"changed"`
	Changed2 bool           `json:"changed2"`
}

// recordedCases turns ansible-core's recorded behaviour into file cases:
// same resulting content, same changed/ok sequence, same messages.
func recordedCases(t *testing.T, module string) []fileCase {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "ansible", module+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var rcs []recordedCase
	if err := json.Unmarshal(data, &rcs); err != nil {
		t.Fatal(err)
	}
	out := make([]fileCase, 0, len(rcs))
	for _, rc := range rcs {
		fc := fileCase{name: "ansible " + rc.Name, args: map[string]any{"path": "DIR/f"}, msg: rc.Msg, failed: rc.Failed, unchanged: !rc.Changed, notIdempotent: rc.Changed2}
		for k, v := range rc.Args {
			fc.args[k] = v
		}
		if rc.Init != nil {
			fc.files = map[string]string{"f": *rc.Init}
		}
		want := "<absent>"
		if rc.Content != nil {
			want = *rc.Content
		}
		fc.want = map[string]string{"f": want}
		if rc.Msg == "" {
			fc.msg = ""
			fc.check = func(t *testing.T, _ target, r Result) {
				if r.Msg != "" {
					t.Errorf("msg = %q, want none", r.Msg)
				}
			}
		}
		out = append(out, fc)
	}
	return out
}
