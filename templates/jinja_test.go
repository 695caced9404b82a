package templates

import (
	"errors"
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
		{"default with parens", "{{ x | default('y') }}", `{{ .x | default "y" }}`},
		{"default with dotted value", "{{ .x | default('y') }}", `{{ .x | default "y" }}`},
		{"d alias and number", "{{ port | d(80) }}", `{{ .port | default 80 }}`},
		{"filter without args", "{{ x | upper }}", "{{ .x | upper }}"},
		{"filter chain", "{{ x | lower | replace('a', 'b') }}", `{{ .x | lower | replace "a" "b" }}`},
		{"length", "{{ groups.web | length }}", "{{ .groups.web | len }}"},
		{"is defined", "{{ x is defined }}", `{{ hasKey . "x" }}`},
		{"is not defined", "{{ x is not defined }}", `{{ not (hasKey . "x") }}`},
		{"nested is defined", "{{ result.stdout is defined }}", `{{ hasKey .result "stdout" }}`},
		{"dotted path", "{{ x.y }}", "{{ .x.y }}"},
		{"subscript", "{{ x['y'] }}", `{{ index .x "y" }}`},
		{"subscript on field", "{{ .x['y'] }}", `{{ index .x "y" }}`},
		{"subscript chain", `{{ hostvars[host]['ip'] }}`, `{{ index .hostvars .host "ip" }}`},
		{"list subscript", "{{ groups['web'][0] }}", `{{ index .groups "web" 0 }}`},
		{"comparison", `{{ env == "prod" }}`, `{{ eq .env "prod" }}`},
		{"if statement", "{% if x %}yes{% endif %}", "{{ if .x }}"},
		{"if statement compare", "{% if env == 'prod' and enabled %}p{% endif %}", `{{ if and (eq .env "prod") .enabled }}`},
		{"for statement", "{% for h in groups['web'] %}{{ h }}{% endfor %}", `{{ range $h := index .groups "web" }}`},
		{"set statement", "{% set x = 1 %}", "{{ $x := 1 }}"},
		{"endif alone", "a{% endif %}", "{{ end }}"},
		{"in test", "{{ 'a' in packages }}", `{{ has "a" .packages }}`},
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
		{"{{ name | default('x') }}", `template: function "name" not defined; this looks like Jinja: write {{ .name | default "x" }}`},
		{"{{ .name | default('x') }}", `template: unexpected "(" in operand; this looks like Jinja: write {{ .name | default "x" }}`},
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
		{"x is defined", `hasKey . "x"`},
		{"x is undefined", `not (hasKey . "x")`},
		{`env == "prod"`, `eq .env "prod"`},
		{"not enabled", "not .enabled"},
		{"enabled and replicas > 1", "and .enabled (gt .replicas 1)"},
		{"result.rc != 0 or failed", "or (ne .result.rc 0) .failed"},
		{"'x' not in packages", `not (has "x" .packages)`},
		{"result.stdout is none", `kindIs "invalid" .result.stdout`},
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
