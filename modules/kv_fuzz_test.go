package modules

import (
	"strings"
	"testing"
)

// FuzzSplitFreeForm feeds arbitrary argument strings to the k=v parser:
// no input may panic it; keys are shell-style names; with a key list only
// those keys are taken, with the same values as without one; and a free-form
// text never grows (it is the input with k=v tokens cut out). Seeds live
// under testdata/fuzz/FuzzSplitFreeForm as well as below.
func FuzzSplitFreeForm(f *testing.F) {
	for _, s := range []string{
		`src=a dest="b c"`,
		`chdir=/tmp echo a=b`,
		"creates=/x\nfor i in 1 2; do echo $i; done",
		`msg='it''s' x="a\"b" y=`,
		`{{ .a | default "x y" }} k={{ .v }}`,
		`k="unterminated`,
		`{{ unterminated`,
		`=x ==y a==b _=1 9=2 é=3`,
		"a=\xff\xfe b='\x00'",
		`cmd="echo \\"$(id)\\" ` + "`id`" + `"`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		raw, kv, err := SplitFreeForm(s, nil)
		if err != nil {
			if !strings.Contains(err.Error(), "unterminated") {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if len(raw) > len(s) {
			t.Fatalf("free-form text %q longer than the input %q", raw, s)
		}
		for k := range kv {
			if k == "" || strings.Trim(k, "_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != "" {
				t.Fatalf("bad key %q from %q", k, s)
			}
		}
		keys := []string{"chdir", "creates", "removes", "cmd"}
		raw2, kv2, err := SplitFreeForm(s, keys)
		if err != nil {
			t.Fatalf("error only with a key list: %v", err)
		}
		if len(raw2) > len(s) {
			t.Fatalf("free-form text %q longer than the input %q", raw2, s)
		}
		for k, v := range kv2 {
			if !contains(keys, k) {
				t.Fatalf("key %q taken though not in %v", k, keys)
			}
			if kv[k] != v {
				t.Fatalf("%s=%q with a key list, %q without", k, v, kv[k])
			}
		}
		if m, err := ParseKV(s); err == nil && len(m) != len(kv) {
			t.Fatalf("ParseKV found %d pairs, SplitFreeForm %d", len(m), len(kv))
		}
	})
}
