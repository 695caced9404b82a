package playbook

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/mdo-play/mdo-play/templates/yaml11"
)

// maxAliasExpansion bounds the number of nodes produced by expanding YAML
// aliases, against "billion laughs" documents.
const maxAliasExpansion = 1 << 20

// decoder turns yaml.Nodes into plain Go values (map[string]any, []any,
// string, int, float64, bool, nil) the way Ansible's YAML 1.1 loader reads
// them: unquoted yes/no/on/off are booleans, 0644 is octal.
type decoder struct {
	file     string
	expanded int
	errs     []error
	active   map[*yaml.Node]bool // aliases being expanded, against cycles
}

func (d *decoder) pos(n *yaml.Node) Pos { return Pos{File: d.file, Line: n.Line, Col: n.Column} }

func (d *decoder) errorf(n *yaml.Node, format string, args ...any) {
	d.errs = append(d.errs, &Error{Pos: d.pos(n), Msg: fmt.Sprintf(format, args...)})
}

// value converts n to a Go value.
func (d *decoder) value(n *yaml.Node) any {
	d.expanded++
	if d.expanded > maxAliasExpansion {
		if d.expanded == maxAliasExpansion+1 {
			d.errorf(n, "document too large after expanding aliases (more than %d nodes)", maxAliasExpansion)
		}
		return nil
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil
		}
		return d.value(n.Content[0])
	case yaml.AliasNode:
		// An alias to a node that contains it would expand forever.
		if d.active[n.Alias] {
			d.errorf(n, "YAML alias *%s refers to a node that contains it", n.Value)
			return nil
		}
		if d.active == nil {
			d.active = map[*yaml.Node]bool{}
		}
		d.active[n.Alias] = true
		defer delete(d.active, n.Alias)
		return d.value(n.Alias)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			out = append(out, d.value(c))
		}
		return out
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		d.mapping(n, func(k string, kn, vn *yaml.Node) {
			out[k] = d.value(vn)
		})
		return out
	case yaml.ScalarNode:
		v, err := yaml11.Scalar(n)
		if err != nil {
			d.errorf(n, "%s", strings.TrimPrefix(err.Error(), fmt.Sprintf("line %d: ", n.Line)))
		}
		return v
	}
	return nil
}

// mapping calls f for each key of a mapping node in order, resolving merge
// keys (<<) and reporting duplicate keys.
func (d *decoder) mapping(n *yaml.Node, f func(k string, kn, vn *yaml.Node)) {
	seen := make(map[string]*yaml.Node, len(n.Content)/2)
	var merged []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		if kn.Kind == yaml.ScalarNode && kn.Tag == "!!merge" {
			merged = append(merged, vn)
			continue
		}
		var k string
		if kn.Kind == yaml.ScalarNode {
			k = kn.Value
		} else {
			hint := ""
			if kn.Kind == yaml.MappingNode && kn.Style&yaml.FlowStyle != 0 {
				hint = ` (a value that starts with "{{" must be quoted: write key: "{{ .x }}")`
			}
			d.errorf(kn, "mapping key must be a string, got a %s%s", kindName(kn), hint)
			continue
		}
		if prev, dup := seen[k]; dup {
			d.errorf(kn, "duplicate key %q (first defined at line %d)", k, prev.Line)
			continue
		}
		seen[k] = kn
		f(k, kn, vn)
	}
	// Merged mappings fill in keys not given explicitly.
	for _, m := range merged {
		if m.Kind == yaml.AliasNode {
			m = m.Alias
		}
		srcs := []*yaml.Node{m}
		if m.Kind == yaml.SequenceNode {
			srcs = m.Content
		}
		for _, s := range srcs {
			if s.Kind == yaml.AliasNode {
				s = s.Alias
			}
			if s.Kind != yaml.MappingNode {
				d.errorf(s, "merge key << expects a mapping")
				continue
			}
			for i := 0; i+1 < len(s.Content); i += 2 {
				k := s.Content[i].Value
				if _, ok := seen[k]; ok {
					continue
				}
				seen[k] = s.Content[i]
				f(k, s.Content[i], s.Content[i+1])
			}
		}
	}
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "list"
	case yaml.MappingNode:
		return "mapping"
	case yaml.ScalarNode:
		if n.ShortTag() == "!!null" {
			return "null"
		}
		return "string"
	case yaml.AliasNode:
		return kindName(n.Alias)
	}
	return "document"
}

// resolve follows an alias node.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// parseYAML parses data into a document node, turning yaml.v3's errors into
// positioned errors.
func parseYAML(file string, data []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, yamlError(file, err)
	}
	return &doc, nil
}

// yamlError converts a yaml.v3 error ("yaml: line 3: did not find expected key")
// into an *Error with the file and line.
func yamlError(file string, err error) error {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "yaml: ")
	line := 0
	if strings.HasPrefix(msg, "line ") {
		rest := msg[len("line "):]
		if i := strings.Index(rest, ":"); i > 0 {
			if l, err := strconv.Atoi(rest[:i]); err == nil {
				line = l
				msg = strings.TrimSpace(rest[i+1:])
			}
		}
	}
	if strings.Contains(msg, "found character that cannot start any token") {
		msg += " (tabs are not allowed for indentation in YAML)"
	}
	return &Error{Pos: Pos{File: file, Line: line, Col: 1}, Msg: "invalid YAML: " + msg}
}
