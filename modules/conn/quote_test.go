package conn

import (
	"os/exec"
	"testing"
)

func TestQuote(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "''"}, {"abc", "abc"}, {"/tmp/a-b_c.d", "/tmp/a-b_c.d"}, {"k=v,x:y@z%+", "k=v,x:y@z%+"},
		{"a b", "'a b'"}, {"it's", `'it'"'"'s'`}, {"$(id)", "'$(id)'"}, {"é", "'é'"}, {"a\nb", "'a\nb'"},
	} {
		if got := Quote(tc.in); got != tc.want {
			t.Errorf("Quote(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
	// The shell reads every quoted word back as it was.
	for _, s := range []string{"", "plain", "a b", "it's", "$(id) `id` $HOME", "x'\"y\\z", "\n\t*?[]{}~#!&;|<>"} {
		out, err := exec.Command("/bin/sh", "-c", "printf %s "+Quote(s)).Output()
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != s {
			t.Errorf("sh read %q back as %q", s, out)
		}
	}
}
