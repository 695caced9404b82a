package yaml11

import (
	"fmt"
	"strings"
)

// Bool reads a boolean the way Ansible does (its convert_bool.boolean,
// strict): a YAML boolean; the words yes/no, true/false, on/off, y/n, t/f
// and 1/0 in any case and with surrounding spaces; the numbers 1 and 0.
// Anything else is an error that shows what was given. It is the one
// boolean parser: keywords, module arguments, variables such as
// ansible_become, and the templates' bool function all use it.
func Bool(v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case int:
		if x == 0 || x == 1 {
			return x == 1, nil
		}
	case int64:
		if x == 0 || x == 1 {
			return x == 1, nil
		}
	case float64:
		if x == 0 || x == 1 {
			return x == 1, nil
		}
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "yes", "on", "true", "1", "y", "t":
			return true, nil
		case "no", "off", "false", "0", "n", "f":
			return false, nil
		}
	}
	return false, fmt.Errorf("expected a boolean (yes/no, true/false, on/off, 1/0), got %s %v", TypeName(v), v)
}

// TypeName names a value's type in the words of YAML users ("mapping",
// "list", "integer", ...), for errors about values.
func TypeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case int, int64, uint64:
		return "integer"
	case float64:
		return "float"
	case []any:
		return "list"
	case map[string]any:
		return "mapping"
	}
	return fmt.Sprintf("%T", v)
}
