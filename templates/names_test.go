package templates

import (
	"testing"

	"github.com/Masterminds/sprig/v3"

	"github.com/mdo-play/mdo-play/templates/jinja"
)

// TestConverterKnowsFuncs keeps package jinja's list of our functions (it
// decides what is already a Go template) in step with the engine.
func TestConverterKnowsFuncs(t *testing.T) {
	m := funcMap()
	sp := sprig.TxtFuncMap()
	ours := map[string]bool{}
	for _, n := range jinja.OurFuncs() {
		ours[n] = true
		if _, ok := m[n]; !ok && builtins[n] == nil {
			t.Errorf("jinja lists %q, which the engine does not have", n)
		}
	}
	for n := range m {
		if _, inSprig := sp[n]; !inSprig && !ours[n] && builtins[n] == nil {
			t.Errorf("the engine has %q, which jinja.OurFuncs does not list", n)
		}
	}
	// Every function the converter emits for a filter or test exists.
	for _, n := range jinja.TestNames() {
		if f := jinja.TestFunc(n); m[f] == nil && builtins[f] == nil {
			t.Errorf("test %s converts to %q, which the engine does not have", n, f)
		}
	}
}
