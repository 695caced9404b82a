package modules

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/mdo-play/mdo-play/templates/pyjson"
)

// ValidateArgumentSpec is the validate_argument_spec action: it checks
// provided_arguments (and the task's variables named in the spec) against
// an argument spec in Ansible's format (type, required, default, choices,
// elements, options), with Ansible's messages. The engine runs it at the
// start of a role that has meta/argument_specs.yml, as Ansible inserts it.
type ValidateArgumentSpec struct{}

var _ Module = ValidateArgumentSpec{}

// Spec describes validate_argument_spec's arguments.
func (ValidateArgumentSpec) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "argument_spec", Type: TypeRaw, Required: true},
			{Name: "provided_arguments", Type: TypeRaw},
			{Name: "validate_args_context", Type: TypeRaw},
		},
		CheckMode:  true,
		Controller: true,
	}
}

// Run validates.
func (ValidateArgumentSpec) Run(_ context.Context, env *Env, args Args) (Result, error) {
	ctxv := args["validate_args_context"]
	if ctxv == nil {
		ctxv = map[string]any{}
	}
	values := map[string]any{"validate_args_context": ctxv}
	spec, ok := args["argument_spec"].(map[string]any)
	if !ok {
		return Result{Failed: true, Msg: fmt.Sprintf("Incorrect type for argument_spec, expected dict and got %s", pyType(args["argument_spec"])), Values: values}, nil
	}
	provided := map[string]any{}
	if p := args["provided_arguments"]; p != nil {
		m, ok := p.(map[string]any)
		if !ok {
			return Result{Failed: true, Msg: fmt.Sprintf("Incorrect type for provided_arguments, expected dict and got %s", pyType(p)), Values: values}, nil
		}
		provided = m
	}
	params := map[string]any{}
	if env != nil && env.Vars != nil {
		all := env.Vars.All()
		for k := range spec {
			if v, ok := all[k]; ok {
				params[k] = v
			}
		}
	}
	for k, v := range provided {
		params[k] = v
	}
	errs := ValidateArgSpec(spec, params, nil)
	if len(errs) > 0 {
		l := make([]any, len(errs))
		for i, e := range errs {
			l[i] = e
		}
		values["argument_spec_data"] = spec
		values["argument_errors"] = l
		return Result{Failed: true, Msg: "Validation of arguments failed:\n" + strings.Join(errs, "\n"), Values: values}, nil
	}
	return Result{Msg: "The arg spec validation passed", Values: values}, nil
}

// ValidateArgSpec checks params against an Ansible argument spec and
// returns Ansible's error messages (ArgumentSpecValidator's), in its
// order: required arguments, types, choices, nested options, then the
// parameters no spec names (nested ones as parent.name). Aliases name
// their option; defaults are filled into params.
func ValidateArgSpec(spec map[string]any, params map[string]any, context []string) []string {
	var unsupported []unsupportedParam
	errs := validateSpec(spec, params, context, &unsupported)
	if len(unsupported) > 0 {
		names := make([]string, len(unsupported))
		for i, u := range unsupported {
			names[i] = u.name
		}
		sort.Strings(names)
		errs = append(errs, fmt.Sprintf("%s. Supported parameters include: %s.", strings.Join(names, ", "), unsupported[len(unsupported)-1].supported))
	}
	return errs
}

// unsupportedParam is a parameter no spec names, with what its spec
// supports (Ansible's message names those of the last one found).
type unsupportedParam struct {
	name      string
	supported string
}

func validateSpec(spec map[string]any, params map[string]any, context []string, unsupported *[]unsupportedParam) []string {
	var errs []string
	found := ""
	if len(context) > 0 {
		found = " found in " + strings.Join(context, " -> ")
	}
	names := make([]string, 0, len(spec))
	for k := range spec {
		names = append(names, k)
	}
	sort.Strings(names)
	attr := func(name string) map[string]any {
		m, _ := spec[name].(map[string]any)
		return m
	}
	legal := map[string]bool{}
	var aliases []string
	for _, k := range names {
		legal[k] = true
		al, _ := attr(k)["aliases"].([]any)
		for _, a := range al {
			s := fmt.Sprint(a)
			legal[s] = true
			aliases = append(aliases, s)
			if v, ok := params[s]; ok {
				if _, has := params[k]; !has {
					params[k] = v
				}
			}
		}
	}
	var bad []string
	for k := range params {
		if !legal[k] {
			bad = append(bad, k)
		}
	}
	sort.Strings(bad)
	for _, k := range bad {
		name := k
		if len(context) > 0 {
			name = strings.Join(context, ".") + "." + k
		}
		sup := strings.Join(names, ", ")
		if len(aliases) > 0 {
			sort.Strings(aliases)
			sup += " (" + strings.Join(aliases, ", ") + ")"
		}
		*unsupported = append(*unsupported, unsupportedParam{name: name, supported: sup})
	}
	var missing []string
	for _, k := range names {
		a := attr(k)
		if req, _ := a["required"].(bool); req {
			if _, ok := params[k]; !ok {
				missing = append(missing, k)
			}
		}
	}
	if len(missing) > 0 {
		errs = append(errs, "missing required arguments: "+strings.Join(missing, ", ")+found)
	}
	for _, k := range names {
		a := attr(k)
		if _, ok := params[k]; !ok {
			if d, ok := a["default"]; ok && d != nil {
				params[k] = d
			}
		}
	}
	for _, k := range names {
		a := attr(k)
		v, ok := params[k]
		if !ok || v == nil {
			continue
		}
		typ, _ := a["type"].(string)
		if typ == "" {
			typ = "str"
		}
		cv, err := convertArgType(typ, v)
		if err != nil {
			msg := fmt.Sprintf("argument '%s' is of type %s", k, pyType(v))
			if len(context) > 0 {
				msg += fmt.Sprintf(" found in '%s'.", strings.Join(context, " -> "))
			}
			errs = append(errs, msg+fmt.Sprintf(" and we were unable to convert to %s: %s", typ, err))
			continue
		}
		if el, _ := a["elements"].(string); el != "" && typ == "list" {
			l := cv.([]any)
			for i, e := range l {
				ce, err := convertArgType(el, e)
				if err != nil {
					msg := fmt.Sprintf("Elements value for option '%s'", k)
					if len(context) > 0 {
						msg += fmt.Sprintf(" found in '%s'", strings.Join(context, " -> "))
					}
					errs = append(errs, msg+fmt.Sprintf(" is of type %s and we were unable to convert to %s: %s", pyType(e), el, err))
					continue
				}
				l[i] = ce
			}
		}
		params[k] = cv
	}
	for _, k := range names {
		a := attr(k)
		choices, _ := a["choices"].([]any)
		v, ok := params[k]
		if len(choices) == 0 || !ok || v == nil {
			continue
		}
		strs := make([]string, len(choices))
		for i, c := range choices {
			strs[i] = fmt.Sprint(c)
		}
		in := func(x any) bool {
			for _, c := range choices {
				if fmt.Sprint(c) == fmt.Sprint(x) {
					return true
				}
			}
			return false
		}
		if l, isList := v.([]any); isList {
			var bad []string
			for _, x := range l {
				if !in(x) {
					bad = append(bad, fmt.Sprint(x))
				}
			}
			if len(bad) > 0 {
				errs = append(errs, fmt.Sprintf("value of %s must be one or more of: %s. Got no match for: %s%s", k, strings.Join(strs, ", "), strings.Join(bad, ", "), found))
			}
			continue
		}
		if !in(v) {
			errs = append(errs, fmt.Sprintf("value of %s must be one of: %s, got: %v%s", k, strings.Join(strs, ", "), v, found))
		}
	}
	for _, k := range names {
		a := attr(k)
		opts, _ := a["options"].(map[string]any)
		v, ok := params[k]
		if opts == nil || !ok || v == nil {
			continue
		}
		sub := append(append([]string{}, context...), k)
		switch x := v.(type) {
		case map[string]any:
			errs = append(errs, validateSpec(opts, x, sub, unsupported)...)
		case []any:
			for _, e := range x {
				if m, ok := e.(map[string]any); ok {
					errs = append(errs, validateSpec(opts, m, sub, unsupported)...)
				}
			}
		}
	}
	return errs
}

// convertArgType converts v to an argument spec type as Ansible's
// check_type_* functions do; the error is theirs.
func convertArgType(typ string, v any) (any, error) {
	switch typ {
	case "str", "path":
		switch x := v.(type) {
		case string:
			return x, nil
		case map[string]any, []any:
			return nil, fmt.Errorf("'%s' is not a string and conversion is not allowed", pyjson.Str(v))
		}
		return fmt.Sprint(v), nil
	case "int":
		switch x := v.(type) {
		case int:
			return x, nil
		case string:
			if n, err := strconv.Atoi(strings.TrimSpace(x)); err == nil {
				return n, nil
			}
		}
		return nil, fmt.Errorf("%s cannot be converted to an int", pyType(v))
	case "float":
		switch x := v.(type) {
		case int:
			return float64(x), nil
		case float64:
			return x, nil
		case string:
			if f, err := strconv.ParseFloat(x, 64); err == nil {
				return f, nil
			}
		}
		return nil, fmt.Errorf("%s cannot be converted to a float", pyType(v))
	case "bool":
		switch x := v.(type) {
		case bool:
			return x, nil
		case string, int, float64:
			switch strings.ToLower(strings.TrimSpace(fmt.Sprint(x))) {
			case "y", "yes", "on", "1", "true", "t", "1.0":
				return true, nil
			case "n", "no", "off", "0", "false", "f", "0.0", "":
				return false, nil
			}
			return nil, fmt.Errorf("The value '%v' is not a valid boolean.  Valid booleans include: 'y', 'yes', 'on', '1', 'true', 't', 'n', 'no', 'off', '0', 'false', 'f'", x)
		}
		return nil, fmt.Errorf("%s cannot be converted to a bool", pyType(v))
	case "list":
		switch x := v.(type) {
		case []any:
			return x, nil
		case string:
			parts := strings.Split(x, ",")
			l := make([]any, len(parts))
			for i, p := range parts {
				l[i] = p
			}
			return l, nil
		case int, float64:
			return []any{fmt.Sprint(x)}, nil
		}
		return nil, fmt.Errorf("%s cannot be converted to a list", pyType(v))
	case "dict":
		if m, ok := v.(map[string]any); ok {
			return m, nil
		}
		return nil, fmt.Errorf("%s cannot be converted to a dict", pyType(v))
	}
	return v, nil // raw and types mdo-play does not check
}

// pyType is Python's type(v) as printed in Ansible's messages.
func pyType(v any) string {
	switch v.(type) {
	case nil:
		return "<class 'NoneType'>"
	case string:
		return "<class 'str'>"
	case bool:
		return "<class 'bool'>"
	case int:
		return "<class 'int'>"
	case float64:
		return "<class 'float'>"
	case []any:
		return "<class 'list'>"
	case map[string]any:
		return "<class 'dict'>"
	}
	return fmt.Sprintf("<class '%T'>", v)
}
