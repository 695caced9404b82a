package inventory

import (
	"fmt"
	"strings"
	"testing"
)

// TestAddHostAndGroup: hosts and groups added while a playbook runs
// (add_host, group_by) are found by patterns, groups and group_names as
// loaded ones are, and changed says whether anything was new.
func TestAddHostAndGroup(t *testing.T) {
	inv := newInventory(nil)
	if err := inv.parseINI("hosts", []byte("web1\n[db]\ndb1\n[db:vars]\ndbvar=1\n")); err != nil {
		t.Fatal(err)
	}
	inv.finish()
	steps := []struct {
		name    string
		do      func() (bool, error)
		changed bool
	}{
		{"new host", func() (bool, error) {
			return inv.AddHost("new1", []string{"fresh", "db"}, map[string]any{"color": "blue"}), nil
		}, true},
		{"same again", func() (bool, error) { return inv.AddHost("new1", []string{"fresh"}, nil), nil }, false},
		{"new vars only", func() (bool, error) { return inv.AddHost("new1", nil, map[string]any{"size": 2}), nil }, false},
		{"group_by new group", func() (bool, error) { return inv.AddToGroup("web1", "kind_a", []string{"kinds"}) }, true},
		{"group_by again", func() (bool, error) { return inv.AddToGroup("web1", "kind_a", []string{"kinds"}) }, false},
		{"group_by existing group", func() (bool, error) { return inv.AddToGroup("web1", "db", nil) }, true},
		{"group_by localhost", func() (bool, error) { return inv.AddToGroup("localhost", "kind_a", nil) }, true},
	}
	for _, s := range steps {
		changed, err := s.do()
		if err != nil || changed != s.changed {
			t.Errorf("%s: changed %v err %v, want %v", s.name, changed, err, s.changed)
		}
	}
	if _, err := inv.AddToGroup("nosuch", "g", nil); err == nil {
		t.Error("group_by of an unknown host succeeded")
	}
	for pattern, want := range map[string]string{
		"fresh":     "[new1]",
		"db":        "[db1 new1 web1]",
		"kinds":     "[web1 localhost]",
		"all":       "[db1 new1 web1 localhost]", // web1 left ungrouped when it joined a group
		"ungrouped": "[]",
	} {
		hs, _, err := inv.Select(pattern)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, h := range hs {
			names = append(names, h.Name)
		}
		if got := fmt.Sprint(names); got != want && !(want == "[]" && len(names) == 0) {
			t.Errorf("%s: %s, want %s", pattern, got, want)
		}
	}
	h, _ := inv.Host("new1")
	v := inv.HostVars(h)
	if v["color"] != "blue" || v["size"] != 2 || v["dbvar"] != 1 {
		t.Errorf("new1 vars %v", v)
	}
	w, _ := inv.Host("web1")
	if got := strings.Join(inv.GroupNames(w), ","); got != "db,kind_a,kinds" {
		t.Errorf("web1 group_names %s", got)
	}
}
