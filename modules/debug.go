package modules

import (
	"context"
	"errors"
	"fmt"
)

// Debug is the debug module: it prints msg, or the value of var under the
// var expression as key. It runs on the controller.
//
// verbosity is compared with the variable ansible_verbosity (the count of
// -v flags), which the engine sets as Ansible does.
type Debug struct{}

var _ Module = Debug{}

// Spec describes debug's arguments.
func (Debug) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "msg", Type: TypeRaw, Default: "Hello world!"},
			{Name: "var", Type: TypeStr, Raw: true},
			{Name: "verbosity", Type: TypeInt, Default: 0},
		},
		CheckMode:         true,
		Controller:        true,
		MutuallyExclusive: [][]string{{"msg", "var"}},
	}
}

// Run builds the message.
func (Debug) Run(_ context.Context, env *Env, args Args) (Result, error) {
	verbosity := currentVerbosity(env)
	if args.Int("verbosity") > verbosity {
		return Result{Skipped: true, Values: map[string]any{"skipped_reason": "Verbosity threshold not met."}}, nil
	}
	if expr := args.String("var"); expr != "" {
		v, err := lookup(env, expr)
		switch {
		case errors.Is(err, ErrUndefined):
			s := "VARIABLE IS NOT DEFINED!"
			if verbosity > 0 {
				s += ": " + err.Error()
			}
			v = s
		case err != nil:
			return Result{Failed: true, Msg: fmt.Sprintf("debug var %q: %v", expr, err)}, nil
		}
		return Result{Values: map[string]any{expr: v}}, nil
	}
	return messageResult(args["msg"], false), nil
}

// messageResult returns a result whose msg keeps its type (a list or mapping
// msg stays one); Result.Msg is set too when it is a string.
func messageResult(msg any, failed bool) Result {
	r := Result{Failed: failed, Values: map[string]any{"msg": msg}}
	if s, ok := msg.(string); ok {
		r.Msg = s
	}
	return r
}

func lookup(env *Env, expr string) (any, error) {
	if env.Vars == nil {
		return nil, fmt.Errorf("%w: %s (no variables)", ErrUndefined, expr)
	}
	return env.Vars.Lookup(expr)
}

// currentVerbosity reads ansible_verbosity from the task's variables.
func currentVerbosity(env *Env) int {
	if env.Vars == nil {
		return 0
	}
	v, err := Convert(TypeInt, env.Vars.All()["ansible_verbosity"])
	if err != nil || v == nil {
		return 0
	}
	return v.(int)
}

// VerboseResult tells the output to always show debug's result, as
// Ansible's debug action does (_ansible_verbose_always).
func (Debug) VerboseResult() bool { return true }
