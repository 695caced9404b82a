package inventory

import (
	"errors"
	"fmt"
	"regexp"

	"gopkg.in/yaml.v3"

	"github.com/mdo-play/mdo-play/templates/yaml11"
)

// maxYAMLNodes bounds how many nodes one document may expand to through
// aliases (a "billion laughs" document is an error, not an OOM).
const maxYAMLNodes = 1_000_000

var reLineErr = regexp.MustCompile(`^(?:yaml: )?line (\d+): (?s:(.*))$`)

// fileError prefixes err with path, turning yaml.v3's "yaml: line N: msg"
// and our "line N: msg" into "path:N: msg".
func fileError(path string, err error) error {
	if m := reLineErr.FindStringSubmatch(err.Error()); m != nil {
		return fmt.Errorf("%s:%s: %s", path, m[1], m[2])
	}
	return fmt.Errorf("%s: %w", path, err)
}

// parseYAMLDoc parses data into the root node of its first document; the
// result is nil for an empty document.
func parseYAMLDoc(data []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}

// yamlConverter turns YAML nodes into plain Go values (map[string]any,
// []any, string, int, float64, bool, nil) with YAML 1.1 scalar typing.
type yamlConverter struct {
	budget int
}

func newYAMLConverter() *yamlConverter { return &yamlConverter{budget: maxYAMLNodes} }

func (c *yamlConverter) value(n *yaml.Node) (any, error) {
	c.budget--
	if c.budget < 0 {
		return nil, errors.New("document expands to too many nodes (excessive aliasing)")
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return c.value(n.Content[0])
	case yaml.AliasNode:
		if n.Alias == nil {
			return nil, fmt.Errorf("line %d: unknown alias", n.Line)
		}
		return c.value(n.Alias)
	case yaml.ScalarNode:
		return yaml11.Scalar(n)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, item := range n.Content {
			v, err := c.value(item)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		return c.mapping(n)
	}
	return nil, fmt.Errorf("line %d: unsupported YAML node", n.Line)
}

// mapping converts a mapping, honouring "<<" merge keys (explicit keys win
// over merged ones, earlier merged mappings over later ones).
func (c *yamlConverter) mapping(n *yaml.Node) (map[string]any, error) {
	out := make(map[string]any, len(n.Content)/2)
	lines := make(map[string]int, len(n.Content)/2)
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Value == "<<" && k.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle) == 0 {
			merges = append(merges, v)
			continue
		}
		key, err := c.key(k)
		if err != nil {
			return nil, err
		}
		// A duplicate key is an error, as in playbooks: YAML loaders
		// disagree on which value wins.
		if first, dup := lines[key]; dup {
			return nil, fmt.Errorf("line %d: duplicate key %q (first defined at line %d)", k.Line, key, first)
		}
		lines[key] = k.Line
		val, err := c.value(v)
		if err != nil {
			return nil, err
		}
		out[key] = val
	}
	for _, m := range merges {
		if m.Kind == yaml.AliasNode {
			m = m.Alias
		}
		srcs := []*yaml.Node{m}
		if m != nil && m.Kind == yaml.SequenceNode {
			srcs = m.Content
		}
		for _, src := range srcs {
			if src != nil && src.Kind == yaml.AliasNode {
				src = src.Alias
			}
			if src == nil || src.Kind != yaml.MappingNode {
				return nil, fmt.Errorf("line %d: merge key << expects a mapping or a list of mappings", n.Line)
			}
			merged, err := c.mapping(src)
			if err != nil {
				return nil, err
			}
			for k, v := range merged {
				if _, ok := out[k]; !ok {
					out[k] = v
				}
			}
		}
	}
	return out, nil
}

// key renders a mapping key as a string, as JSON (and ansible-inventory)
// would show it.
func (c *yamlConverter) key(k *yaml.Node) (string, error) {
	v, err := c.value(k)
	if err != nil {
		return "", err
	}
	s, ok := literalKey(v)
	if !ok {
		return "", fmt.Errorf("line %d: a mapping key must be a scalar", k.Line)
	}
	return s, nil
}

// decodeVarsFile parses a vars file (group_vars/host_vars): YAML or JSON
// holding a mapping, or nothing.
func decodeVarsFile(data []byte) (map[string]any, error) {
	root, err := parseYAMLDoc(data)
	if err != nil {
		return nil, err
	}
	if root == nil {
		return nil, nil
	}
	v, err := newYAMLConverter().value(root)
	if err != nil {
		return nil, err
	}
	switch v := v.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return v, nil
	}
	return nil, fmt.Errorf("line %d: expected a mapping of variables, got %s", root.Line, kindName(root))
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "nothing"
}
