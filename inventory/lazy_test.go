package inventory

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestHostVarsLazy: loading types no host's variables; HostVars types
// only the host asked for; VarValues types only the matching values. A
// host whose values would be costly to type (a deeply nested literal) costs
// nothing unless it runs.
func TestHostVarsLazy(t *testing.T) {
	var b strings.Builder
	b.WriteString("[web]\n")
	for i := range 1000 {
		fmt.Fprintf(&b, "w%d ansible_host=10.0.%d.%d rack=%d ansible_password=pw%d\n", i, i/256, i%256, i%7, i)
	}
	// Typing this host's nested value would take a deep parse.
	fmt.Fprintf(&b, "heavy big=%s%s ansible_port=2222\n", strings.Repeat("[", 99), strings.Repeat("]", 99))
	b.WriteString("[web:vars]\nntp=ntp.example\n")
	path := filepath.Join(t.TempDir(), "inv.ini")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	inv, err := Load(context.Background(), []string{path}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	typedHosts := func() []string {
		var out []string
		for _, h := range inv.hostOrder {
			if h.typed() {
				out = append(out, h.Name)
			}
		}
		return out
	}
	if got := typedHosts(); len(got) != 0 {
		t.Fatalf("after Load, %d hosts have typed variables (%v...), want none", len(got), got[:min(3, len(got))])
	}
	if n := len(inv.Hosts()); n != 1001 {
		t.Fatalf("%d hosts, want 1001", n)
	}

	pw := inv.VarValues(func(k string) bool { return k == "ansible_password" })
	if len(pw) != 1000 || !slices.Contains(pw, any("pw999")) {
		t.Errorf("VarValues found %d passwords (pw999 among them: %v), want 1000", len(pw), slices.Contains(pw, any("pw999")))
	}
	if got := typedHosts(); len(got) != 0 {
		t.Errorf("VarValues typed the variables of %v", got[:min(3, len(got))])
	}

	w7 := inv.hosts["w7"]
	vars := inv.HostVars(w7)
	if vars["rack"] != 0 || vars["ansible_host"] != "10.0.0.7" || vars["ntp"] != "ntp.example" {
		t.Errorf("HostVars(w7) = %v", vars)
	}
	if got := typedHosts(); !slices.Equal(got, []string{"w7"}) {
		t.Errorf("after HostVars(w7), typed hosts %v, want only w7", got)
	}
	heavy := inv.HostVars(inv.hosts["heavy"])
	if heavy["ansible_port"] != 2222 {
		t.Errorf("heavy's ansible_port = %#v, want 2222", heavy["ansible_port"])
	}
	depth := 0
	for v := heavy["big"]; ; depth++ {
		l, ok := v.([]any)
		if !ok || len(l) == 0 {
			break
		}
		v = l[0]
	}
	if depth != 98 {
		t.Errorf("heavy's big nests %d lists, want 98 (typed as a literal)", depth)
	}
}

// BenchmarkLoadINI10k measures loading (and listing) a 10,000-host INI
// inventory with a few variables per host.
func BenchmarkLoadINI10k(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("[web]\n")
	for i := range 10000 {
		fmt.Fprintf(&sb, "web%05d ansible_host=10.%d.%d.%d ansible_port=22 rack=r%d tier=web\n", i, i/65536, i/256%256, i%256, i%40)
	}
	path := filepath.Join(b.TempDir(), "inv.ini")
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		inv, err := Load(context.Background(), []string{path}, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if len(inv.Hosts()) != 10000 {
			b.Fatal("wrong host count")
		}
	}
}
