package templates

import (
	"errors"
	"testing"
)

// FuzzRender feeds hostile template text to every entry point: nothing may
// panic, hang or exhaust memory, errors must be *Error, and the variables
// must come back unchanged. The seed corpus is in testdata/fuzz/FuzzRender.
func FuzzRender(f *testing.F) {
	for _, s := range []string{
		"{{ .app_port }}",
		"x {{ .name | default \"y\" }}",
		"{{ range until 10 }}{{ . }}{{ end }}",
		"{{ x | default('y') }}",
		"{% if x %}{% endif %}",
		"{{ $d := dict }}{{ $_ := set $d \"a\" $d }}",
	} {
		f.Add(s)
	}
	e := New()
	f.Fuzz(func(t *testing.T, src string) {
		vars := testVars()
		check := func(what string, err error) {
			var te *Error
			if err != nil && !errors.As(err, &te) {
				t.Fatalf("%s(%q) returned %T %v, want *Error", what, src, err, err)
			}
		}
		_, err := e.Render(src, vars)
		check("Render", err)
		_, err = e.RenderString("f", src, vars)
		check("RenderString", err)
		_, err = e.Cond(src, vars)
		check("Cond", err)
		_, err = e.Eval(src, vars)
		check("Eval", err)
		if !equalVars(vars, testVars()) {
			t.Fatalf("rendering %q changed the variables", src)
		}
	})
}

// equalVars compares without reflect.DeepEqual's recursion into cycles
// (there must be none, but a bug should fail, not hang).
func equalVars(a, b map[string]any) bool {
	x, err1 := toJSON(a)
	y, err2 := toJSON(b)
	return err1 == nil && err2 == nil && x == y
}
