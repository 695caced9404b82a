package modules

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// SetFact is the set_fact module: every argument but cacheable becomes a
// host variable (Result.Facts). It runs on the controller and never reports
// a change.
type SetFact struct{}

var _ Module = SetFact{}

// Spec describes set_fact's arguments: cacheable, and any variable name.
func (SetFact) Spec() *Spec {
	return &Spec{
		Args:       []Arg{{Name: "cacheable", Type: TypeBool, Default: false}},
		AnyArgs:    true,
		CheckMode:  true,
		Controller: true,
	}
}

// Run returns the facts.
func (SetFact) Run(_ context.Context, _ *Env, args Args) (Result, error) {
	facts := map[string]any{}
	names := make([]string, 0, len(args))
	for k := range args {
		if k != "cacheable" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		if !shellName.MatchString(k) {
			return Result{Failed: true, Msg: fmt.Sprintf("The variable name '%s' is not valid. Variables must start with a letter or underscore character, and contain only letters, numbers and underscores.", k)}, nil
		}
		v := args[k]
		// Ansible turns these four words into booleans (jinja2_native off).
		if s, ok := v.(string); ok {
			switch strings.ToLower(s) {
			case "true", "yes":
				v = true
			case "false", "no":
				v = false
			}
		}
		facts[k] = v
	}
	if len(facts) == 0 {
		return Result{Failed: true, Msg: "No key/value pairs provided, at least one is required for this action to succeed"}, nil
	}
	return Result{Facts: facts, Values: map[string]any{"ansible_facts": facts}}, nil
}
