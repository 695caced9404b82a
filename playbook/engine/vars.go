package engine

import (
	"errors"
	"fmt"
	"strings"

	"github.com/mdo-play/mdo-play/templates"
)

// varSet is the merged view of variables for one host and one task.
type varSet struct {
	m map[string]any
	// errs holds variables whose definition could not be rendered; a task
	// that uses one of them fails with this error instead of a vague
	// "undefined variable".
	errs map[string]error
}

// merge builds a variable map from layers (lowest precedence first) and
// resolves templated definitions lazily: a definition is rendered after the
// definitions it refers to, so `url: "http://{{ .host }}:{{ .port }}"` works
// whatever the order. Cycles are reported as errors of the variables
// involved.
func (st *state) merge(layers []varLayer) varSet {
	size := 0
	for _, l := range layers {
		size += len(l.vars)
	}
	m := make(map[string]any, size)
	var pending map[string]bool
	for _, l := range layers {
		for k, v := range l.vars {
			m[k] = v
			if l.templated && templates.ContainsTemplate(v) {
				if pending == nil {
					pending = map[string]bool{}
				}
				pending[k] = true
			} else if pending != nil {
				delete(pending, k)
			}
		}
	}
	vs := varSet{m: m}
	if len(pending) == 0 {
		return vs
	}
	r := &resolver{st: st, vs: &vs, pending: pending, state: map[string]int{}}
	for k := range pending {
		r.resolve(k)
	}
	return vs
}

type resolver struct {
	st      *state
	vs      *varSet
	pending map[string]bool
	state   map[string]int // 1 resolving, 2 done
}

func (r *resolver) resolve(k string) {
	switch r.state[k] {
	case 1:
		r.fail(k, fmt.Errorf("variable %q refers to itself (recursive definition)", k))
		return
	case 2:
		return
	}
	r.state[k] = 1
	v := r.vs.m[k]
	var refs []string
	for _, text := range templateStrings(v, nil) {
		refs = append(refs, r.st.refs.of(r.st.Templates, text)...)
	}
	for _, ref := range refs {
		if r.pending[ref] && ref != k {
			r.resolve(ref)
		} else if ref == k && r.pending[k] {
			// `x: "{{ .x }}-suffix"` would refer to itself.
			r.fail(k, fmt.Errorf("variable %q refers to itself (recursive definition)", k))
			r.state[k] = 2
			return
		}
	}
	if r.state[k] == 2 { // failed while resolving references
		return
	}
	out, err := r.st.Templates.RenderValue(v, r.vs.m)
	r.state[k] = 2
	if err != nil {
		r.fail(k, err)
		return
	}
	r.vs.m[k] = out
}

func (r *resolver) fail(k string, err error) {
	if r.vs.errs == nil {
		r.vs.errs = map[string]error{}
	}
	if _, ok := r.vs.errs[k]; !ok {
		r.vs.errs[k] = fmt.Errorf("variable %q: %w", k, err)
	}
	delete(r.vs.m, k)
	r.state[k] = 2
}

// explain turns a template error about an undefined variable whose
// definition itself failed into that definition's error.
func (vs varSet) explain(err error) error {
	var te *templates.Error
	if vs.errs == nil || !errors.As(err, &te) || te.Undefined == "" {
		return err
	}
	top := te.Undefined
	if i := strings.IndexByte(top, '.'); i >= 0 {
		top = top[:i]
	}
	if verr, ok := vs.errs[top]; ok {
		return verr
	}
	return err
}
