package modules

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// TestPamLimits replays community.general.pam_limits' recorded behaviour
// (testdata/ansible/pam_limits.json, recorded by running the collection's
// module on the same files) through a real Conn, and checks that a second
// run changes nothing.
func TestPamLimits(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "ansible", "pam_limits.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Name, Init, Content, Msg string
		Args                     map[string]any
		Changed, Failed          bool
	}
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	for tn, c := range sysTargets(t) {
		t.Run(tn, func(t *testing.T) {
			dir := t.TempDir()
			if tn == "ssh" {
				dir = "/srv/" + sysUniq("pam")
				sysSh(t, c, "mkdir -p "+dir)
			}
			dest := filepath.Join(dir, "limits.conf")
			for _, tc := range cases {
				sysSh(t, c, "printf '%s' "+conn.Quote(tc.Init)+" >"+dest)
				raw := map[string]any{"dest": dest}
				for k, v := range tc.Args {
					raw[k] = v
				}
				res, _ := sysRun(t, c, PamLimits{}, false, true, raw)
				sysExpect(t, tc.Name, res, tc.Changed, tc.Failed, tc.Msg)
				if got := sysSh(t, c, "cat "+dest); got != tc.Content {
					t.Errorf("%s: %q, want %q", tc.Name, got, tc.Content)
				}
				if tc.Failed {
					continue
				}
				if again, _ := sysRun(t, c, PamLimits{}, false, false, raw); again.Changed {
					t.Errorf("%s: second run changed", tc.Name)
				}
			}
		})
	}
}
