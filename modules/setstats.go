package modules

import (
	"context"
	"fmt"
)

// SetStats is the set_stats action: custom statistics the engine adds up
// (aggregate) or replaces, per host or for the whole run, and reports
// with the recap (CUSTOM STATS) and in the JSON recap event.
type SetStats struct{}

var _ Module = SetStats{}

// Spec describes set_stats' arguments.
func (SetStats) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "data", Type: TypeRaw, Required: true},
			{Name: "per_host", Type: TypeBool, Default: false},
			{Name: "aggregate", Type: TypeBool, Default: true},
		},
		CheckMode:  true,
		Controller: true,
	}
}

// Run returns the ansible_stats result key the engine records.
func (SetStats) Run(_ context.Context, _ *Env, args Args) (Result, error) {
	data, ok := args["data"].(map[string]any)
	if !ok {
		return Result{Failed: true, Msg: "The 'data' option needs to be a dictionary/hash"}, nil
	}
	for k := range data {
		if !shellName.MatchString(k) {
			return Result{Failed: true, Msg: fmt.Sprintf("The variable name '%s' is not valid. Variables must start with a letter or underscore character, and contain only letters, numbers and underscores.", k)}, nil
		}
	}
	perHost := args.Bool("per_host")
	aggregate := !args.Has("aggregate") || args.Bool("aggregate")
	return Result{Values: map[string]any{"ansible_stats": map[string]any{"data": data, "per_host": perHost, "aggregate": aggregate}}}, nil
}
