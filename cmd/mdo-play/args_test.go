package main

import (
	"github.com/mdo-play/mdo-play/playbook"
	"reflect"
	"testing"
)

func TestReorderArgs(t *testing.T) {
	flags := runFlags()
	cases := []struct {
		in, want []string
	}{
		{[]string{"site.yml", "--check", "-l", "web"}, []string{"--check", "-l", "web", "--", "site.yml"}},
		{[]string{"-i", "hosts", "site.yml"}, []string{"-i", "hosts", "--", "site.yml"}},
		{[]string{"site.yml", "-vvv"}, []string{"-v", "-v", "-v", "--", "site.yml"}},
		{[]string{"a.yml", "-CD", "b.yml"}, []string{"-C", "-D", "--", "a.yml", "b.yml"}},
		{[]string{"--limit=web", "a.yml", "--", "-weird.yml"}, []string{"--limit=web", "--", "a.yml", "-weird.yml"}},
		{[]string{"-e", "x=1", "a.yml", "-e", "@vars.yml"}, []string{"-e", "x=1", "-e", "@vars.yml", "--", "a.yml"}},
		{[]string{"--list-hosts"}, []string{"--list-hosts"}},
	}
	for _, tc := range cases {
		if got := reorderArgs(tc.in, flags); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("reorderArgs(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRecapLine(t *testing.T) {
	// The exact line of DESIGN §6.
	want := "h1                         : ok=3    changed=1    unreachable=0    failed=0    skipped=0    rescued=0    ignored=0"
	got := recapLine("h1", &playbook.HostStats{OK: 3, Changed: 1})
	if got != want {
		t.Errorf("recap line\n got %q\nwant %q", got, want)
	}
}
