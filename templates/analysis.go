package templates

import "strings"

// ContainsTemplate reports whether v (a string, or a list or mapping
// decoded from YAML) holds a template string anywhere, keys included.
func ContainsTemplate(v any) bool {
	switch x := v.(type) {
	case string:
		return strings.Contains(x, "{{")
	case []any:
		for _, e := range x {
			if ContainsTemplate(e) {
				return true
			}
		}
	case map[string]any:
		for k, e := range x {
			if strings.Contains(k, "{{") || ContainsTemplate(e) {
				return true
			}
		}
	}
	return false
}
