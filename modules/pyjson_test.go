package modules

import "testing"

func TestPyJSON(t *testing.T) {
	v := map[string]any{"b": []any{1, 2.0, "é<"}, "a": nil, "c": map[string]any{}, "d": true}
	if got, want := PyJSON(v, false), `{"a": null, "b": [1, 2.0, "é<"], "c": {}, "d": true}`; got != want {
		t.Errorf("one line:\n got %s\nwant %s", got, want)
	}
	want := "{\n    \"a\": null,\n    \"b\": [\n        1,\n        2.0,\n        \"é<\"\n    ],\n    \"c\": {},\n    \"d\": true\n}"
	if got := PyJSON(v, true); got != want {
		t.Errorf("indented:\n got %s\nwant %s", got, want)
	}
	if got, want := AttrDiff(map[string]any{"mode": "0644", "owner": "root"}, map[string]any{"mode": "0600"}).Before, "{\n    \"mode\": \"0644\",\n    \"owner\": \"root\"\n}\n"; got != want {
		t.Errorf("AttrDiff before = %q, want %q", got, want)
	}
}
