package modules

import (
	"context"
	"fmt"
)

// Assert is the assert module: each expression in that is evaluated with
// Vars.Cond; the first false one fails the host with fail_msg. It runs on
// the controller.
type Assert struct{}

var _ Module = Assert{}

// Spec describes assert's arguments.
func (Assert) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "that", Type: TypeRaw, Required: true, Raw: true},
			{Name: "fail_msg", Aliases: []string{"msg"}, Type: TypeRaw},
			{Name: "success_msg", Type: TypeRaw},
			{Name: "quiet", Type: TypeBool, Default: false},
		},
		CheckMode:  true,
		Controller: true,
	}
}

// Run evaluates the assertions.
func (Assert) Run(_ context.Context, env *Env, args Args) (Result, error) {
	failMsg, bad := assertMsg(args, "fail_msg", "Assertion failed")
	if bad == "" {
		var successMsg any
		successMsg, bad = assertMsg(args, "success_msg", "All assertions passed")
		if bad == "" {
			return assertThat(env, args, failMsg, successMsg), nil
		}
	}
	return Result{Failed: true, Msg: bad}, nil
}

func assertThat(env *Env, args Args, failMsg, successMsg any) Result {
	var thats []any
	switch t := args["that"].(type) {
	case []any:
		thats = t
	case nil:
		return Result{Failed: true, Msg: `conditional required in "that" string`}
	default:
		thats = []any{t}
	}
	for _, that := range thats {
		expr := fmt.Sprint(that)
		if env.Vars == nil {
			return Result{Failed: true, Msg: fmt.Sprintf("assert %q: no variables to evaluate with", expr)}
		}
		ok, err := env.Vars.Cond(expr)
		if err != nil {
			return Result{Failed: true, Msg: fmt.Sprintf("assert %q: %v", expr, err)}
		}
		if !ok {
			r := messageResult(failMsg, true)
			r.Values["assertion"] = expr
			r.Values["evaluated_to"] = false
			return r
		}
	}
	return messageResult(successMsg, false)
}

// assertMsg returns a message argument (a string or a list of strings), or
// Ansible's message about a bad one.
func assertMsg(args Args, name, def string) (msg any, bad string) {
	switch m := args[name].(type) {
	case nil:
		return def, ""
	case string:
		return m, ""
	case []any:
		for _, x := range m {
			if _, ok := x.(string); !ok {
				return nil, fmt.Sprintf("Type of one of the elements in %s list is not string type", name)
			}
		}
		return m, ""
	default:
		return nil, fmt.Sprintf("Incorrect type for %s, expected a string or list and got %s", name, TypeName(m))
	}
}

// VerboseResult tells the output to always show assert's result, as
// Ansible's assert action does.
func (Assert) VerboseResult() bool { return true }
