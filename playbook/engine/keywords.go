package engine

import (
	"fmt"
	"strings"

	"github.com/mdo-play/mdo-play/modules"
	"github.com/mdo-play/mdo-play/playbook"
	"github.com/mdo-play/mdo-play/templates/yaml11"
)

// boolKeyword evaluates a boolean keyword (a YAML boolean, a YAML 1.1 word,
// or a template that renders to one).
func (st *state) boolKeyword(v playbook.Value, vs varSet, def bool) bool {
	b, err := st.evalBool(v, vs, def)
	if err != nil {
		return def
	}
	return b
}

func (st *state) evalBool(v playbook.Value, vs varSet, def bool) (bool, error) {
	x, err := st.renderKeyword(v, vs)
	if err != nil || x == nil {
		return def, err
	}
	b, err := yaml11.Bool(x)
	if err != nil {
		return def, &playbook.Error{Pos: v.Pos, Msg: err.Error()}
	}
	return b, nil
}

// renderKeyword renders a scalar keyword's template; nil when not given.
func (st *state) renderKeyword(v playbook.Value, vs varSet) (any, error) {
	if !v.Set() || v.V == nil {
		return nil, nil
	}
	x := v.V
	if s, ok := x.(string); ok && strings.Contains(s, "{{") {
		r, err := st.Templates.Render(s, vs.m)
		if err != nil {
			return nil, &playbook.Error{Pos: v.Pos, Msg: vs.explain(err).Error()}
		}
		x = r
	}
	return x, nil
}

// evalString evaluates a string keyword.
func (st *state) evalString(v playbook.Value, vs varSet) (string, error) {
	if !v.Set() || v.V == nil {
		return "", nil
	}
	s := fmt.Sprint(v.V)
	if !strings.Contains(s, "{{") {
		return s, nil
	}
	out, err := st.Templates.RenderString("", s, vs.m)
	if err != nil {
		return "", &playbook.Error{Pos: v.Pos, Msg: vs.explain(err).Error()}
	}
	return out, nil
}

func (st *state) intKeyword(v playbook.Value, vs varSet) (int, error) {
	x := v.V
	if s, ok := x.(string); ok && strings.Contains(s, "{{") {
		r, err := st.Templates.Render(s, vs.m)
		if err != nil {
			return 0, &playbook.Error{Pos: v.Pos, Msg: vs.explain(err).Error()}
		}
		x = r
	}
	n, err := modules.Convert(modules.TypeInt, x)
	if err != nil {
		return 0, &playbook.Error{Pos: v.Pos, Msg: err.Error()}
	}
	return n.(int), nil
}
