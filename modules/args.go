package modules

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/mdo-play/mdo-play/templates/yaml11"
)

// ArgType is the type an argument is converted to before Run sees it.
type ArgType int

// Argument types.
const (
	TypeRaw  ArgType = iota // any value, unchanged
	TypeStr                 // string; numbers and booleans are formatted
	TypeBool                // YAML 1.1 words accepted: yes/no, on/off, true/false, 1/0
	TypeInt                 // integer; numeric strings accepted
	TypeList                // list; a comma-separated string is split
	TypeDict                // mapping
	TypePath                // string, ~ kept as is (expanded on the target)
	TypeMode                // file mode: octal string, symbolic string or YAML int (see ParseMode)
)

// RawParams is the argument name a free-form string is stored under
// (`command: ls -l` → _raw_params: "ls -l"), as in Ansible.
const RawParams = "_raw_params"

// Arg describes one module argument.
type Arg struct {
	Name     string
	Aliases  []string
	Type     ArgType
	Required bool
	Default  any
	Choices  []string
	NoLog    bool // value never shown in output
	// Raw arguments are not rendered by the engine before the call: the
	// module evaluates them itself (assert's that, debug's var).
	Raw bool
}

// Spec describes a module's arguments and abilities.
type Spec struct {
	Args []Arg
	// FreeForm: the module takes a free-form string (command, shell, raw,
	// script), stored under RawParams. FreeFormKV lists the k=v keys that
	// may lead a free-form string (`chdir=/tmp ls`).
	FreeForm bool
	// CheckMode: the module honours Env.Check. Modules without it are
	// skipped in check mode.
	CheckMode bool
	// Controller: the module runs on the controller only and never touches
	// the connection (debug, set_fact, assert, fail).
	Controller        bool
	MutuallyExclusive [][]string
	RequiredOneOf     [][]string
	// AnyArgs: names not in Args are accepted and passed through unchanged
	// (set_fact, whose arguments are the variables it sets).
	AnyArgs bool
}

// Arg returns the argument called name or having name as an alias.
func (s *Spec) Arg(name string) (*Arg, bool) {
	for i := range s.Args {
		a := &s.Args[i]
		if a.Name == name {
			return a, true
		}
		for _, al := range a.Aliases {
			if al == name {
				return a, true
			}
		}
	}
	return nil, false
}

// ValidNames returns every accepted argument name and alias, sorted.
func (s *Spec) ValidNames() []string {
	var out []string
	for _, a := range s.Args {
		out = append(out, a.Name)
		out = append(out, a.Aliases...)
	}
	sort.Strings(out)
	return out
}

// Args are a module call's arguments after Normalize: canonical names,
// defaults filled in, values converted to their ArgType.
type Args map[string]any

// Has reports whether the argument was given (or has a default).
func (a Args) Has(name string) bool { _, ok := a[name]; return ok && a[name] != nil }

// String returns a string argument, "" when absent.
func (a Args) String(name string) string {
	s, _ := a[name].(string)
	return s
}

// Bool returns a boolean argument, false when absent.
func (a Args) Bool(name string) bool {
	b, _ := a[name].(bool)
	return b
}

// Int returns an integer argument, 0 when absent.
func (a Args) Int(name string) int {
	i, _ := a[name].(int)
	return i
}

// List returns a list argument, nil when absent.
func (a Args) List(name string) []any {
	l, _ := a[name].([]any)
	return l
}

// Strings returns a list argument as strings.
func (a Args) Strings(name string) []string {
	l := a.List(name)
	out := make([]string, 0, len(l))
	for _, v := range l {
		out = append(out, fmt.Sprint(v))
	}
	return out
}

// Dict returns a mapping argument, nil when absent.
func (a Args) Dict(name string) map[string]any {
	m, _ := a[name].(map[string]any)
	return m
}

// Normalize resolves aliases, converts values to their types, fills in
// defaults and checks required, choices and exclusive arguments. The error
// names the argument and what was expected; unknown names are reported too
// (they are normally caught when the playbook is loaded).
func (s *Spec) Normalize(raw map[string]any) (Args, error) {
	out := make(Args, len(s.Args))
	var errs []string
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := raw[k]
		if k == RawParams && s.FreeForm {
			out[RawParams] = v
			continue
		}
		a, ok := s.Arg(k)
		if !ok && s.AnyArgs {
			out[k] = v
			continue
		}
		if !ok {
			errs = append(errs, fmt.Sprintf("unsupported parameter %q (valid: %s)", k, strings.Join(s.ValidNames(), ", ")))
			continue
		}
		if _, dup := out[a.Name]; dup && k != a.Name {
			continue // canonical name wins over an alias
		}
		cv, err := Convert(a.Type, v)
		if err != nil {
			errs = append(errs, fmt.Sprintf("argument %q: %v", a.Name, err))
			continue
		}
		if len(a.Choices) > 0 && cv != nil {
			if !contains(a.Choices, fmt.Sprint(cv)) {
				errs = append(errs, fmt.Sprintf("argument %q: value %q is not one of %s", a.Name, fmt.Sprint(cv), strings.Join(a.Choices, ", ")))
				continue
			}
		}
		out[a.Name] = cv
	}
	for _, a := range s.Args {
		if _, ok := out[a.Name]; ok {
			continue
		}
		if a.Required {
			errs = append(errs, fmt.Sprintf("missing required argument %q", a.Name))
			continue
		}
		if a.Default != nil {
			out[a.Name] = a.Default
		}
	}
	for _, group := range s.MutuallyExclusive {
		var given []string
		for _, n := range group {
			if _, ok := raw[n]; ok {
				given = append(given, n)
			} else if a, ok := s.Arg(n); ok {
				for _, al := range a.Aliases {
					if _, ok := raw[al]; ok {
						given = append(given, n)
						break
					}
				}
			}
		}
		if len(given) > 1 {
			errs = append(errs, fmt.Sprintf("arguments are mutually exclusive: %s", strings.Join(given, "|")))
		}
	}
	for _, group := range s.RequiredOneOf {
		found := false
		for _, n := range group {
			if out.Has(n) {
				found = true
				break
			}
		}
		if !found {
			errs = append(errs, fmt.Sprintf("one of the following is required: %s", strings.Join(group, ", ")))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return out, nil
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// Convert converts v to type t.
func Convert(t ArgType, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch t {
	case TypeRaw:
		return v, nil
	case TypeStr, TypePath:
		switch x := v.(type) {
		case string:
			return x, nil
		case int, int64, float64, bool:
			return fmt.Sprint(x), nil
		default:
			return nil, fmt.Errorf("expected a string, got %s", TypeName(v))
		}
	case TypeBool:
		b, err := yaml11.Bool(v)
		if err != nil {
			return nil, err
		}
		return b, nil
	case TypeInt:
		switch x := v.(type) {
		case int:
			return x, nil
		case int64:
			return int(x), nil
		case float64:
			if x == float64(int(x)) {
				return int(x), nil
			}
		case string:
			if i, err := strconv.Atoi(strings.TrimSpace(x)); err == nil {
				return i, nil
			}
		}
		return nil, fmt.Errorf("expected an integer, got %s %v", TypeName(v), v)
	case TypeList:
		switch x := v.(type) {
		case []any:
			return x, nil
		case []string:
			out := make([]any, len(x))
			for i, s := range x {
				out[i] = s
			}
			return out, nil
		case string:
			if x == "" {
				return []any{}, nil
			}
			parts := strings.Split(x, ",")
			out := make([]any, 0, len(parts))
			for _, p := range parts {
				out = append(out, strings.TrimSpace(p))
			}
			return out, nil
		default:
			return []any{x}, nil
		}
	case TypeDict:
		switch x := v.(type) {
		case map[string]any:
			return x, nil
		case string:
			if strings.TrimSpace(x) == "" {
				return map[string]any{}, nil
			}
			m, err := ParseKV(x)
			if err != nil {
				return nil, fmt.Errorf("expected a mapping: %v", err)
			}
			return m, nil
		default:
			return nil, fmt.Errorf("expected a mapping, got %s", TypeName(v))
		}
	case TypeMode:
		switch x := v.(type) {
		case string:
			return x, nil
		case int:
			// An unquoted 0644 is read as octal by the YAML decoder (as
			// Ansible reads it); format it back as an octal string. An
			// unquoted 644 arrives as decimal 644 and, as in Ansible, means
			// mode 01204: lint warns about it.
			return fmt.Sprintf("%04o", x), nil
		default:
			return nil, fmt.Errorf("expected a mode such as \"0644\" or \"u=rw,g=r\", got %s", TypeName(v))
		}
	}
	return v, nil
}

// TypeName names a value's type in the words of YAML users (yaml11.TypeName).
func TypeName(v any) string { return yaml11.TypeName(v) }
