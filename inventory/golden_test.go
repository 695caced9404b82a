package inventory

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/golden")

// goldenCases are inventories whose ansible-inventory output was recorded
// under testdata/golden; testdata/compare-ansible.sh re-checks them against
// the real ansible-inventory.
var goldenCases = []struct {
	name    string
	sources []string
	playDir string
	host    string // also record --host for this host
}{
	{name: "ini", sources: []string{"testdata/ini/hosts"}, host: "web01"},
	{name: "yaml", sources: []string{"testdata/yaml/hosts.yml"}, host: "y2"},
	{name: "dir", sources: []string{"testdata/dir"}, host: "w1"},
	{name: "script", sources: []string{"testdata/script/dyn.sh"}, host: "d1"},
	{name: "scripthost", sources: []string{"testdata/scripthost/inv.py"}, host: "a2"},
	{name: "hostlist", sources: []string{"h1,h2:2222,"}, host: "h2"},
	{name: "multi", sources: []string{"testdata/ini/hosts", "testdata/yaml/hosts.yml", "h9,"}, host: "db-a"},
	{name: "priority", sources: []string{"testdata/priority/hosts"}, playDir: "testdata/play", host: "h1"},
	{name: "localhost", sources: []string{"testdata/dir"}, host: "localhost"},
}

func TestGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			inv, err := Load(context.Background(), tc.sources, Options{})
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if tc.playDir != "" {
				if err := inv.AddVarsDir(tc.playDir); err != nil {
					t.Fatalf("AddVarsDir: %v", err)
				}
			}
			list, err := inv.ListJSON()
			if err != nil {
				t.Fatalf("ListJSON: %v", err)
			}
			checkGolden(t, tc.name+".list.json", list)
			graph, err := inv.Graph("")
			if err != nil {
				t.Fatalf("Graph: %v", err)
			}
			checkGolden(t, tc.name+".graph.txt", []byte(graph))
			host, err := inv.HostJSON(tc.host)
			if err != nil {
				t.Fatalf("HostJSON: %v", err)
			}
			checkGolden(t, tc.name+".host.json", host)
		})
	}
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden file\n--- got ---\n%s\n--- want ---\n%s", name, got, want)
	}
}
