package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/mdo-play/mdo-play/modules"
)

// pyJSON encodes v the way Ansible's callbacks print results: it is
// modules.PyJSON.
func pyJSON(v any, indent bool) string { return modules.PyJSON(v, indent) }

// pyRepr formats a loop item the way Ansible shows it in `(item=...)`:
// Python's repr for lists and mappings, plain text for strings.
func pyRepr(v any, top bool) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case bool:
		if x {
			return "True"
		}
		return "False"
	case string:
		if top {
			return x
		}
		return "'" + strings.ReplaceAll(strings.ReplaceAll(x, `\`, `\\`), "'", `\'`) + "'"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = pyRepr(e, false)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = pyRepr(k, false) + ": " + pyRepr(x[k], false)
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case float64:
		return pyJSON(x, false)
	}
	return fmt.Sprint(v)
}
