package yaml11

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// MaxNodes bounds the number of nodes a Decoder produces by expanding
// aliases, against "billion laughs" documents.
const MaxNodes = 1 << 20

// Decoder turns yaml.Nodes into plain Go values (map[string]any, []any,
// string, int, float64, bool, nil) the way Ansible's YAML 1.1 loader
// reads them, with Scalar's typing: aliases are expanded (at most
// MaxNodes nodes, and never into a node that contains them), merge keys
// (<<) fill in the keys a mapping does not give, and a repeated key is an
// error unless LastKeyWins. It reports every problem through Errorf and
// goes on; a bad node decodes to nil. The playbook loader and include_vars
// decode with it.
type Decoder struct {
	// Errorf receives each problem with the node it is about.
	Errorf func(n *yaml.Node, msg string)
	// LastKeyWins lets a repeated key replace the earlier value, as
	// PyYAML does, instead of being an error.
	LastKeyWins bool
	// Key, when set, names a scalar mapping key (the inventory types keys
	// the YAML 1.1 way, so `1:` and `yes:` read as Python would show
	// them); by default a key is its text.
	Key func(kn *yaml.Node) string

	expanded int
	active   map[*yaml.Node]bool // aliases being expanded, against cycles
}

func (d *Decoder) errorf(n *yaml.Node, format string, args ...any) {
	if d.Errorf != nil {
		d.Errorf(n, fmt.Sprintf(format, args...))
	}
}

// Exhausted reports whether the document expanded past MaxNodes.
func (d *Decoder) Exhausted() bool { return d.expanded > MaxNodes }

func (d *Decoder) key(kn *yaml.Node) string {
	if d.Key != nil {
		return d.Key(kn)
	}
	return kn.Value
}

// Value converts n to a Go value.
func (d *Decoder) Value(n *yaml.Node) any {
	d.expanded++
	if d.expanded > MaxNodes {
		if d.expanded == MaxNodes+1 {
			d.errorf(n, "document too large after expanding aliases (more than %d nodes)", MaxNodes)
		}
		return nil
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil
		}
		return d.Value(n.Content[0])
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
		return d.Value(n.Alias)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			out = append(out, d.Value(c))
		}
		return out
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		d.Mapping(n, func(k string, kn, vn *yaml.Node) {
			out[k] = d.Value(vn)
		})
		return out
	case yaml.ScalarNode:
		v, err := Scalar(n)
		if err != nil {
			d.errorf(n, "%s", strings.TrimPrefix(err.Error(), fmt.Sprintf("line %d: ", n.Line)))
		}
		return v
	}
	return nil
}

// Mapping calls f for each key of a mapping node in order, then for each
// key a merge key (<<) brings that the mapping does not give itself (an
// earlier merged mapping before a later one). A key that is not a scalar
// is reported and skipped, and so is a repeated key unless LastKeyWins.
func (d *Decoder) Mapping(n *yaml.Node, f func(k string, kn, vn *yaml.Node)) {
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
			k = d.key(kn)
		} else {
			hint := ""
			if kn.Kind == yaml.MappingNode && kn.Style&yaml.FlowStyle != 0 {
				hint = ` (a value that starts with "{{" must be quoted: write key: "{{ .x }}")`
			}
			d.errorf(kn, "mapping key must be a string, got a %s%s", KindName(kn), hint)
			continue
		}
		if prev, dup := seen[k]; dup && !d.LastKeyWins {
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
				k := d.key(s.Content[i])
				if _, ok := seen[k]; ok {
					continue
				}
				seen[k] = s.Content[i]
				f(k, s.Content[i], s.Content[i+1])
			}
		}
	}
}

// KindName names what a node holds, for messages: list, mapping, null,
// string or document.
func KindName(n *yaml.Node) string {
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
		return KindName(n.Alias)
	}
	return "document"
}
