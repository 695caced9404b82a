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
// []any, string, int, float64, bool, nil) with yaml11.Decoder, stopping
// at the first problem as inventory parsing does. budget bounds the
// group walk of a YAML inventory (yamlinv.go) the way the Decoder bounds
// alias expansion.
type yamlConverter struct {
	budget int
}

func newYAMLConverter() *yamlConverter { return &yamlConverter{budget: maxYAMLNodes} }

// errTooLarge is the inventory's message for an alias bomb.
var errTooLarge = errors.New("document expands to too many nodes (excessive aliasing)")

func (c *yamlConverter) value(n *yaml.Node) (any, error) {
	var first error
	d := yaml11.Decoder{
		Errorf: func(n *yaml.Node, msg string) {
			if first == nil {
				first = fmt.Errorf("line %d: %s", n.Line, msg)
			}
		},
		Key: typedKey,
	}
	v := d.Value(n)
	if d.Exhausted() {
		return nil, errTooLarge
	}
	return v, first
}

// typedKey renders a scalar mapping key as JSON (and ansible-inventory)
// would show it: `1:` is "1", `yes:` is "true".
func typedKey(kn *yaml.Node) string {
	v, err := yaml11.Scalar(kn)
	if err != nil {
		return kn.Value
	}
	if s, ok := literalKey(v); ok {
		return s
	}
	return kn.Value
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
