package modules

import (
	"fmt"
	"testing"
)

// TestValidateArgSpec: Ansible's messages for each kind of violation.
func TestValidateArgSpec(t *testing.T) {
	spec := map[string]any{
		"name":  map[string]any{"type": "str", "required": true, "aliases": []any{"nom"}},
		"count": map[string]any{"type": "int", "default": 1},
		"on":    map[string]any{"type": "bool"},
		"tags":  map[string]any{"type": "list", "elements": "int"},
		"state": map[string]any{"choices": []any{"present", "absent"}},
		"modes": map[string]any{"type": "list", "choices": []any{"a", "b"}},
		"conf": map[string]any{"type": "dict", "options": map[string]any{
			"path": map[string]any{"type": "path", "required": true},
			"size": map[string]any{"type": "int"},
		}},
		"items": map[string]any{"type": "list", "elements": "dict", "options": map[string]any{
			"id": map[string]any{"type": "int", "required": true},
		}},
	}
	for _, tc := range []struct {
		name   string
		params map[string]any
		want   []string
	}{
		{"ok", map[string]any{"name": "x", "count": "3", "on": "yes", "tags": "1,2", "state": "present", "conf": map[string]any{"path": "/x"}, "items": []any{map[string]any{"id": 1}}}, nil},
		{"missing", map[string]any{}, []string{"missing required arguments: name"}},
		{"types", map[string]any{"name": []any{1}, "count": "many", "on": "maybe"}, []string{
			"argument 'count' is of type <class 'str'> and we were unable to convert to int: <class 'str'> cannot be converted to an int",
			"argument 'name' is of type <class 'list'> and we were unable to convert to str: '[1]' is not a string and conversion is not allowed",
			"argument 'on' is of type <class 'str'> and we were unable to convert to bool: The value 'maybe' is not a valid boolean.  Valid booleans include: 'y', 'yes', 'on', '1', 'true', 't', 'n', 'no', 'off', '0', 'false', 'f'",
		}},
		{"elements", map[string]any{"name": "x", "tags": []any{1, "two"}}, []string{
			"Elements value for option 'tags' is of type <class 'str'> and we were unable to convert to int: <class 'str'> cannot be converted to an int",
		}},
		{"choices", map[string]any{"name": "x", "state": "gone", "modes": []any{"a", "c"}}, []string{
			"value of modes must be one or more of: a, b. Got no match for: c",
			"value of state must be one of: present, absent, got: gone",
		}},
		{"nested", map[string]any{"name": "x", "conf": map[string]any{"size": "big"}, "items": []any{map[string]any{}}}, []string{
			"missing required arguments: path found in conf",
			"argument 'size' is of type <class 'str'> found in 'conf'. and we were unable to convert to int: <class 'str'> cannot be converted to an int",
			"missing required arguments: id found in items",
		}},
		{"unsupported", map[string]any{"name": "x", "colour": "red"}, []string{
			"colour. Supported parameters include: conf, count, items, modes, name, on, state, tags (nom).",
		}},
		{"unsupported_nested", map[string]any{"name": "x", "conf": map[string]any{"path": "/", "mode": 1}}, []string{
			"conf.mode. Supported parameters include: path, size.",
		}},
		{"alias", map[string]any{"nom": "x"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ValidateArgSpec(spec, tc.params, nil)
			if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tc.want) {
				t.Errorf("got\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}
