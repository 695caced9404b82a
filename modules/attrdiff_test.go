package modules

import "testing"

func TestAttrDiff(t *testing.T) {
	if got, want := AttrDiff(map[string]any{"mode": "0644", "owner": "root"}, map[string]any{"mode": "0600"}).Before, "{\n    \"mode\": \"0644\",\n    \"owner\": \"root\"\n}\n"; got != want {
		t.Errorf("AttrDiff before = %q, want %q", got, want)
	}
}
