package pyre

import (
	"regexp"
	"testing"
)

func TestExpand(t *testing.T) {
	re := regexp.MustCompile(`(?P<key>\w+)=(\w+)`)
	tests := []struct {
		name          string
		repl          string
		literalDollar bool
		want          string // re.sub(r'(?P<key>\w+)=(\w+)', repl, "a=b") in Python, or Go's $ with !literalDollar
	}{
		{"numbered", `\2=\1`, true, "b=a"},
		{"named and numbered g", `\g<key>:\g<2>`, true, "a:b"},
		{"escapes", `\1\t\2\n\r\\`, true, "a\tb\n\r\\"},
		{"unknown escape stays", `\q\1`, true, `\qa`},
		{"dollar is literal", `$PATH:\1`, true, "$PATH:a"},
		{"braced group kept", `${2}`, true, "b"},
		{"braced non-group literal", `${9}`, true, "${9}"},
		{"go dollar kept", `$2-${key}`, false, "b-a"},
		{"go with python refs", `\2 $1`, false, "b a"},
		{"unfinished g", `\g<x`, true, `\g<x`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := re.ReplaceAllString("a=b", Expand(tc.repl, re, tc.literalDollar)); got != tc.want {
				t.Errorf("Expand(%q) gives %q, want %q", tc.repl, got, tc.want)
			}
		})
	}
}
