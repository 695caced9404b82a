package inventory

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func loadT(t *testing.T, sources ...string) *Inventory {
	t.Helper()
	inv, err := Load(context.Background(), sources, Options{})
	if err != nil {
		t.Fatalf("Load(%v): %v", sources, err)
	}
	return inv
}

func names(hs []*Host) []string {
	out := []string{}
	for _, h := range hs {
		out = append(out, h.Name)
	}
	return out
}

// TestSelect's expectations were produced by ansible-core 2.14's
// InventoryManager.get_hosts on testdata/patterns/hosts.
func TestSelect(t *testing.T) {
	inv := loadT(t, "testdata/patterns/hosts")
	tests := []struct {
		pattern string
		want    []string
	}{
		{"all", []string{"solo", "app1", "app2", "web4.example.com", "web1.example.com", "web2.example.com", "web3.example.com", "db1.example.com", "db2.example.com"}},
		{"*", []string{"solo", "app1", "app2", "web4.example.com", "web1.example.com", "web2.example.com", "web3.example.com", "db1.example.com", "db2.example.com"}},
		{"web", []string{"web1.example.com", "web2.example.com", "web3.example.com", "web4.example.com"}},
		{"db", []string{"db1.example.com", "db2.example.com", "web1.example.com"}},
		{"web:db", []string{"web1.example.com", "web2.example.com", "web3.example.com", "web4.example.com", "db1.example.com", "db2.example.com"}},
		{"db:web", []string{"db1.example.com", "db2.example.com", "web1.example.com", "web2.example.com", "web3.example.com", "web4.example.com"}},
		{"web,db", []string{"web1.example.com", "web2.example.com", "web3.example.com", "web4.example.com", "db1.example.com", "db2.example.com"}},
		{" web , db ", []string{"web1.example.com", "web2.example.com", "web3.example.com", "web4.example.com", "db1.example.com", "db2.example.com"}},
		{"prod:&stage", []string{"web4.example.com"}},
		{"prod:!db", []string{"web2.example.com", "web3.example.com", "web4.example.com"}},
		{"!db", []string{"solo", "app1", "app2", "web4.example.com", "web2.example.com", "web3.example.com"}},
		{"&stage", []string{"app2", "web4.example.com"}},
		{"web*", []string{"web1.example.com", "web2.example.com", "web3.example.com", "web4.example.com"}},
		{"*.example.com", []string{"web1.example.com", "web2.example.com", "web3.example.com", "web4.example.com", "db1.example.com", "db2.example.com"}},
		{"~web[23]", []string{"web2.example.com", "web3.example.com"}},
		{"~(db|app)\\d", []string{"db1.example.com", "db2.example.com", "app1", "app2"}},
		{"web[0]", []string{"web1.example.com"}},
		{"web[-1]", []string{"web4.example.com"}},
		{"web[1:2]", []string{"web2.example.com", "web3.example.com"}},
		{"web[2:]", []string{"web3.example.com", "web4.example.com"}},
		{"prod[1:3]", []string{"web2.example.com", "web3.example.com", "web4.example.com"}},
		{"solo", []string{"solo"}},
		{"ungrouped", []string{"solo"}},
		{"localhost", []string{"localhost"}},
		{"127.0.0.1", []string{"127.0.0.1"}},
		{"web:nosuch", []string{"web1.example.com", "web2.example.com", "web3.example.com", "web4.example.com"}},
		{"app*:!app1", []string{"app2"}},
		{"db1.example.com:app", []string{"db1.example.com", "app1", "app2"}},
		{"all:!prod:&stage", []string{"app2"}},
		{"web[1-2]", []string{"web2.example.com", "web3.example.com"}},
		{"w?b*", []string{"web1.example.com", "web2.example.com", "web3.example.com", "web4.example.com"}},
		{"[ad]*", []string{"solo", "app1", "app2", "web4.example.com", "web1.example.com", "web2.example.com", "web3.example.com", "db1.example.com", "db2.example.com"}},
		{"web[1:0]", []string{"web2.example.com"}},
		{"web[5:9]", []string{}},
		{"app:&nosuch", []string{}},
		{"db:web1.example.com", []string{"db1.example.com", "db2.example.com", "web1.example.com"}},
		{"!app", []string{"solo", "web4.example.com", "web1.example.com", "web2.example.com", "web3.example.com", "db1.example.com", "db2.example.com"}},
		{"web1.example.com:web1.example.com", []string{"web1.example.com"}},
	}
	for _, tc := range tests {
		t.Run(tc.pattern, func(t *testing.T) {
			got, _, err := inv.Select(tc.pattern)
			if err != nil {
				t.Fatalf("Select(%q): %v", tc.pattern, err)
			}
			if !reflect.DeepEqual(names(got), tc.want) {
				t.Errorf("Select(%q) = %v, want %v", tc.pattern, names(got), tc.want)
			}
		})
	}
}

func TestSelectWarningsAndErrors(t *testing.T) {
	inv := loadT(t, "testdata/patterns/hosts")
	tests := []struct {
		pattern  string
		warnings []string
		err      string
	}{
		{pattern: "nosuch", warnings: []string{"Could not match supplied host pattern, ignoring: nosuch"}},
		{pattern: "web:!nosuch", warnings: []string{"Could not match supplied host pattern, ignoring: nosuch"}},
		{pattern: "web[1-2]", warnings: []string{"Use [x:y] inclusive subscripts instead of [x-y] which has been removed"}},
		{pattern: "web", warnings: nil},
		{pattern: "web[9]", err: `no hosts matched the subscripted pattern "web[9]"`},
		{pattern: "web[-9]", err: `no hosts matched the subscripted pattern "web[-9]"`},
		{pattern: "~(", err: `invalid host pattern "~("`},
		{pattern: "web:!", err: `invalid host pattern "!"`},
	}
	for _, tc := range tests {
		t.Run(tc.pattern, func(t *testing.T) {
			hosts, warnings, err := inv.Select(tc.pattern)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Select(%q) error = %v, want it to contain %q", tc.pattern, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Select(%q): %v", tc.pattern, err)
			}
			if !reflect.DeepEqual(warnings, tc.warnings) {
				t.Errorf("warnings = %q, want %q", warnings, tc.warnings)
			}
			if tc.pattern == "nosuch" && len(hosts) != 0 {
				t.Errorf("nosuch matched %v", names(hosts))
			}
		})
	}
}

func TestSelectLimit(t *testing.T) {
	inv := loadT(t, "testdata/patterns/hosts")
	files := map[string]string{
		"limit.txt": "db1.example.com\n\napp*\n",
	}
	readFile := func(p string) ([]byte, error) {
		if s, ok := files[p]; ok {
			return []byte(s), nil
		}
		return nil, errors.New("no such file " + p)
	}
	tests := []struct {
		limit string
		want  []string
	}{
		// The play pattern's order is kept: all lists web4 (in stage) first.
		{"web", []string{"web4.example.com", "web1.example.com", "web2.example.com", "web3.example.com"}},
		{"@limit.txt", []string{"app1", "app2", "db1.example.com"}},
		{"!prod", []string{"solo", "app1", "app2"}},
		{"stage:&app", []string{"app2"}},
		{"@limit.txt,solo", []string{"solo", "app1", "app2", "db1.example.com"}},
	}
	for _, tc := range tests {
		t.Run(tc.limit, func(t *testing.T) {
			limit, err := ParseLimit(tc.limit, readFile)
			if err != nil {
				t.Fatalf("ParseLimit: %v", err)
			}
			got, _, err := inv.SelectLimit("all", limit)
			if err != nil {
				t.Fatalf("SelectLimit: %v", err)
			}
			if !reflect.DeepEqual(names(got), tc.want) {
				t.Errorf("SelectLimit(all, %q) = %v, want %v", tc.limit, names(got), tc.want)
			}
		})
	}
	if _, err := ParseLimit("@missing", readFile); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("ParseLimit(@missing) error = %v, want one naming the file", err)
	}
}

func TestSplitPattern(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"a,b[1], c[2:3] , d", []string{"a", "b[1]", "c[2:3]", "d"}},
		{"web:&db:!x", []string{"web", "&db", "!x"}},
		{"web[1:3]", []string{"web[1:3]"}},
		{"10.0.0.1:22", []string{"10.0.0.1:22"}},
		{"fe80::1", []string{"fe80::1"}},
		{"~web\\d+", []string{"~web\\d+"}},
		{"", []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := SplitPattern(tc.in); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("SplitPattern(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestImplicitLocalhost(t *testing.T) {
	inv := loadT(t, "testdata/patterns/hosts")
	h, ok := inv.Host("localhost")
	if !ok || !h.Implicit() {
		t.Fatalf("Host(localhost) = %v, %v; want the implicit localhost", h, ok)
	}
	if got := inv.HostVars(h)["ansible_connection"]; got != "local" {
		t.Errorf("implicit localhost ansible_connection = %v, want local", got)
	}
	for _, x := range inv.Hosts() {
		if x.Implicit() {
			t.Errorf("implicit localhost listed in Hosts()")
		}
	}
	all, _, _ := inv.Select("all")
	for _, x := range all {
		if x.Name == "localhost" {
			t.Errorf("all matched the implicit localhost")
		}
	}
	if _, ok := inv.Host("nosuch"); ok {
		t.Errorf("Host(nosuch) found")
	}

	// A localhost in the inventory is used as is.
	inv2 := loadT(t, "localhost,")
	h2, _ := inv2.Host("localhost")
	if h2.Implicit() {
		t.Errorf("inventory localhost reported as implicit")
	}
}

// TestConcurrentReads runs the engine's read paths from many goroutines;
// with -race it checks that a loaded inventory is safe to share.
func TestConcurrentReads(t *testing.T) {
	inv := loadT(t, "testdata/dir")
	done := make(chan []string)
	for i := 0; i < 8; i++ {
		go func() {
			var got []string
			hosts, _, err := inv.Select("all:localhost")
			if err != nil {
				t.Error(err)
			}
			for _, h := range hosts {
				vars := inv.HostVars(h)
				vars["scratch"] = h.Name
				got = append(got, h.Name)
				_ = inv.GroupNames(h)
			}
			_ = inv.Groups()
			done <- got
		}()
	}
	first := <-done
	for i := 1; i < 8; i++ {
		if got := <-done; !reflect.DeepEqual(got, first) {
			t.Errorf("goroutine saw %v, another %v", got, first)
		}
	}
	if len(first) != 6 || first[len(first)-1] != "localhost" {
		t.Errorf("all:localhost = %v, want the 5 hosts then localhost", first)
	}
}
