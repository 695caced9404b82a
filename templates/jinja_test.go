package templates

import (
	"errors"
	"strings"
	"testing"
)

func TestJinjaHints(t *testing.T) {
	e := New()
	tests := []struct {
		name string
		in   string
		hint string
	}{
		{"bare identifier", "{{ name }}", "{{ .name }}"},
		{"bare identifier in text", "Hello {{ name }}!", "{{ .name }}"},
		{"default with parens", "{{ x | default('y') }}", `{{ .x | d "y" }}`},
		{"default with dotted value", "{{ .x | default('y') }}", `{{ .x | d "y" }}`},
		{"d alias and number", "{{ port | d(80) }}", `{{ .port | d 80 }}`},
		{"filter without args", "{{ x | upper }}", "{{ .x | upper }}"},
		{"filter chain", "{{ x | lower | replace('a', 'b') }}", `{{ .x | lower | replace "a" "b" }}`},
		{"length", "{{ groups.web | length }}", "{{ .groups.web | length }}"},
		{"is defined", "{{ x is defined }}", `{{ is_defined .x }}`},
		{"is not defined", "{{ x is not defined }}", `{{ is_undefined .x }}`},
		{"nested is defined", "{{ result.stdout is defined }}", `{{ is_defined .result.stdout }}`},
		{"dotted path", "{{ x.y }}", "{{ .x.y }}"},
		{"subscript", "{{ x['y'] }}", `{{ .x.y }}`},
		{"subscript on field", "{{ .x['a-b'] }}", `{{ index .x "a-b" }}`},
		{"subscript chain", `{{ hostvars[host]['ip'] }}`, `{{ (index .hostvars .host).ip }}`},
		{"list subscript", "{{ groups['web'][0] }}", `{{ index .groups.web 0 }}`},
		{"comparison", `{{ env == "prod" }}`, `{{ eq .env "prod" }}`},
		{"if statement", "{% if x %}yes{% endif %}", "{{ if .x }}"},
		{"if statement compare", "{% if env == 'prod' and enabled %}p{% endif %}", `{{ if and (eq .env "prod") .enabled }}`},
		{"for statement", "{% for h in groups['web'] %}{{ h }}{% endfor %}", `{{ range $h := .groups.web }}`},
		{"set statement", "{% set x = 1 %}", "{{ $x := 1 }}"},
		{"in test", "{{ 'a' in packages }}", `{{ in "a" .packages }}`},
		{"after valid actions", "{{ .name }} {{ if .x }}a{{ end }} {{ other }}", "{{ .other }}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.Render(tt.in, testVars())
			var te *Error
			if !errors.As(err, &te) {
				t.Fatalf("Render(%q) error = %v, want *Error", tt.in, err)
			}
			if te.Hint != tt.hint {
				t.Errorf("Render(%q) hint = %q, want %q (error %v)", tt.in, te.Hint, tt.hint, err)
			}
		})
	}
}

func TestJinjaErrorText(t *testing.T) {
	e := New()
	tests := []struct{ in, want string }{
		{"{{ name | default('x') }}", `template: function "name" not defined; this looks like Jinja: write {{ .name | d "x" }}`},
		{"{{ .name | default('x') }}", `template: unexpected "(" in operand; this looks like Jinja: write {{ .name | d "x" }}`},
		{"{% if x %}a{% endif %}", `template: "{% if x %}" is a Jinja statement, not a Go template action; this looks like Jinja: write {{ if .x }}`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := e.Render(tt.in, testVars())
			if err == nil || err.Error() != tt.want {
				t.Fatalf("Render(%q) error = %v\nwant %s", tt.in, err, tt.want)
			}
		})
	}
}

func TestJinjaCondHints(t *testing.T) {
	e := New()
	tests := []struct{ expr, hint string }{
		{"x is defined", `is_defined .x`},
		{"x is undefined", `is_undefined .x`},
		{`env == "prod"`, `eq .env "prod"`},
		{"not enabled", "not .enabled"},
		{"enabled and replicas > 1", "truthy (and .enabled (gt .replicas 1))"},
		{"result.rc != 0 or failed", "truthy (or (ne .result.rc 0) .failed)"},
		{"'x' not in packages", `not (in "x" .packages)`},
		{"result.stdout is none", `is_none .result.stdout`},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			_, err := e.Cond(tt.expr, testVars())
			var te *Error
			if !errors.As(err, &te) || te.Hint != tt.hint {
				t.Fatalf("Cond(%q) error = %v, want hint %q", tt.expr, err, tt.hint)
			}
		})
	}
}

func TestNoHintForGoErrors(t *testing.T) {
	e := New()
	for _, in := range []string{"{{ .nope }}", "{{ frobnicate .x }}", `{{ fail "x" }}`, "{{ if .x }}{{ end }}{{ .y }}"} {
		t.Run(in, func(t *testing.T) {
			_, err := e.Render(in, nil)
			var te *Error
			if !errors.As(err, &te) || te.Hint != "" {
				t.Fatalf("Render(%q) error = %v, want an *Error without hint", in, err)
			}
		})
	}
}

// TestJinjaGuardSkipsLiterals: "{%" inside a string literal of a condition
// is text, not a Jinja statement; outside one it is still refused.
func TestJinjaGuardSkipsLiterals(t *testing.T) {
	e := New()
	tests := []struct {
		cond    string
		refused bool
	}{
		{`eq .x "{%if%}"`, false},
		{"eq .x `{% raw %}`", false},
		{`eq .x "a\"{% if %}"`, false},
		{`{% if x %}`, true},
		{`eq .x "ok" {% if %}`, true},
	}
	for _, tt := range tests {
		err := e.CheckCond(tt.cond)
		refused := err != nil && strings.Contains(err.Error(), "is a Jinja statement")
		if refused != tt.refused {
			t.Errorf("CheckCond(%q) = %v, want refused as a Jinja statement: %v", tt.cond, err, tt.refused)
		}
		if !tt.refused && err != nil {
			t.Errorf("CheckCond(%q) = %v, want nil", tt.cond, err)
		}
	}
	if got, want := blankLiterals(`a "b\"c" 'd' `+"`e`"+` "f`), `a "    " ' ' `+"` `"+` " `; got != want {
		t.Errorf("blankLiterals = %q, want %q", got, want)
	}
}
