package inventory

import (
	"testing"
)

// The fuzz targets require that no input panics or hangs the parsers and
// that successful results are usable. Seeds are added below and committed
// under testdata/fuzz/<Target>/.

func FuzzParseINI(f *testing.F) {
	for _, s := range []string{
		"[web]\nweb[01:03]:2222 a=1 b='x y'\n[web:vars]\nk=v\n[all:children]\nweb\n",
		"h a=\"[1, {'k': (2,)}]\" b=0x1F c=-1.5e3 d=None\n",
		"[a:children]\nb\n[b:children]\na\n",
		"w[a:Z]\nw[0:0:0]\nw[]\n[x:vars]\n",
		"h1 'a=\\\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		inv := newInventory(nil)
		if err := inv.parseINI("fuzz.ini", []byte(data)); err != nil {
			return
		}
		inv.finish()
		if _, err := inv.ListJSON(); err != nil {
			t.Fatalf("ListJSON after a successful parse: %v", err)
		}
	})
}

func FuzzParseYAML(f *testing.F) {
	for _, s := range []string{
		"all:\n  hosts:\n    y[1:3]:\n      a: &x {b: [1, yes, 0644]}\n  children:\n    web:\n      vars: {<<: *x}\n",
		"a: &a [*a]\n",
		"web: 1\nother:\n  hosts: lone\n",
		"x: {children: {x: {}}}\n",
		"- 1\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		inv := newInventory(nil)
		if err := inv.parseYAML("fuzz.yml", []byte(data)); err != nil {
			return
		}
		inv.finish()
		if _, err := inv.ListJSON(); err != nil {
			t.Fatalf("ListJSON after a successful parse: %v", err)
		}
		_, _ = decodeVarsFile([]byte(data))
	})
}

func FuzzPattern(f *testing.F) {
	for _, s := range []string{
		"all", "web:&db:!x", "~(db|app)\\d", "web[-1]", "w?b*[1:]", "[!a]*", "a,b,,c", "web[1-2]", "&", "!",
	} {
		f.Add(s)
	}
	inv := newInventory(nil)
	if err := inv.parseINI("p.ini", []byte("solo\n[web]\nweb[1:4]\n[db]\ndb1\nweb1\n[prod:children]\nweb\ndb\n")); err != nil {
		f.Fatal(err)
	}
	inv.finish()
	f.Fuzz(func(t *testing.T, pattern string) {
		hosts, _, err := inv.Select(pattern)
		if err != nil {
			return
		}
		seen := map[*Host]bool{}
		for _, h := range hosts {
			if seen[h] {
				t.Fatalf("Select(%q) returned %s twice", pattern, h.Name)
			}
			seen[h] = true
		}
	})
}

// BenchmarkSelect measures pattern evaluation on a 10,000-host inventory;
// it should grow linearly with the number of hosts.
func BenchmarkSelect(b *testing.B) {
	inv := newInventory(nil)
	if err := inv.parseINI("big.ini", []byte("[web]\nweb[0000:4999]\n[db]\ndb[0000:4999]\n[odd]\nweb[0001:4999:2]\n[prod:children]\nweb\ndb\n")); err != nil {
		b.Fatal(err)
	}
	inv.finish()
	b.ResetTimer()
	for b.Loop() {
		hosts, _, err := inv.Select("prod:web*:&all:!odd:!db[0:99]")
		if err != nil || len(hosts) != 7400 {
			b.Fatalf("Select = %d hosts, %v", len(hosts), err)
		}
		for _, h := range hosts[:10] {
			_ = inv.HostVars(h)
		}
	}
}
