package inventory

import (
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/mdo-play/mdo-play/templates/yaml11"
)

const maxGroupNesting = 1000

// parseYAML adds the groups and hosts of an Ansible YAML inventory to inv:
// top-level keys are groups, each a mapping with optional hosts (host name
// or range → vars or null), vars and children (group name → the same
// structure, recursively).
func (inv *Inventory) parseYAML(path string, data []byte) error {
	root, err := parseYAMLDoc(data)
	if err != nil {
		return fileError(path, err)
	}
	if root == nil || isNull(root) {
		return nil
	}
	if root.Kind != yaml.MappingNode {
		return fmt.Errorf("%s:%d: expected a mapping of groups, got %s", path, root.Line, kindName(root))
	}
	p := &yamlInvParser{inv: inv, path: path, conv: newYAMLConverter()}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if _, err := p.group(root.Content[i].Value, root.Content[i+1], 0); err != nil {
			return err
		}
	}
	return nil
}

type yamlInvParser struct {
	inv  *Inventory
	path string
	conv *yamlConverter
}

func (p *yamlInvParser) errorf(n *yaml.Node, format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s", p.path, n.Line, fmt.Sprintf(format, args...))
}

func (p *yamlInvParser) warnf(format string, args ...any) {
	p.inv.warnings = append(p.inv.warnings, fmt.Sprintf("%s: ", p.path)+fmt.Sprintf(format, args...))
}

func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	n = deref(n)
	if n == nil {
		return true
	}
	if n.Kind != yaml.ScalarNode {
		return false
	}
	v, err := yaml11.Scalar(n)
	return err == nil && v == nil
}

// group parses one group definition; it returns nil (after a warning) for
// a value that is not a group definition, as Ansible skips those.
func (p *yamlInvParser) group(name string, n *yaml.Node, depth int) (*Group, error) {
	n = deref(n)
	if depth > maxGroupNesting {
		return nil, p.errorf(n, "groups nested more than %d deep", maxGroupNesting)
	}
	if p.conv.budget--; p.conv.budget < 0 {
		return nil, p.errorf(n, "document expands to too many nodes (excessive aliasing)")
	}
	if name == "" {
		return nil, p.errorf(n, "empty group name")
	}
	if isNull(n) {
		return p.inv.addGroup(name), nil
	}
	if n.Kind != yaml.MappingNode {
		p.warnf("skipping %q: not a valid group definition (expected a mapping with hosts, vars or children)", name)
		return nil, nil
	}
	g := p.inv.addGroup(name)
	for i := 0; i+1 < len(n.Content); i += 2 {
		keyNode, val := n.Content[i], deref(n.Content[i+1])
		key := keyNode.Value
		if key != "hosts" && key != "vars" && key != "children" {
			p.warnf("skipping unexpected key %q in group %q: only hosts, vars and children are valid", key, name)
			continue
		}
		if isNull(val) {
			continue
		}
		entries, err := p.entries(key, name, val)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			switch key {
			case "vars":
				var v any
				if e.val != nil {
					if v, err = p.conv.value(e.val); err != nil {
						return nil, p.errorf(e.key, "group %q: var %q: %v", name, e.key.Value, err)
					}
				}
				if err := setGroupVar(g, e.key.Value, v); err != nil {
					return nil, p.errorf(e.key, "%v", err)
				}
			case "children":
				child, err := p.group(e.key.Value, e.val, depth+1)
				if err != nil {
					return nil, err
				}
				if child == nil {
					continue
				}
				if err := p.inv.linkChild(g, child); err != nil {
					return nil, p.errorf(e.key, "%v", err)
				}
			case "hosts":
				if err := p.hosts(g, e.key, e.val); err != nil {
					return nil, err
				}
			}
		}
	}
	return g, nil
}

type yamlEntry struct {
	key *yaml.Node
	val *yaml.Node // nil when the entry had no value
}

// entries returns the key/value pairs of a hosts/vars/children section; a
// plain string stands for a single key without a value, as in Ansible.
func (p *yamlInvParser) entries(section, group string, n *yaml.Node) ([]yamlEntry, error) {
	switch n.Kind {
	case yaml.MappingNode:
		out := make([]yamlEntry, 0, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			out = append(out, yamlEntry{n.Content[i], n.Content[i+1]})
		}
		return out, nil
	case yaml.ScalarNode:
		return []yamlEntry{{key: n}}, nil
	}
	return nil, p.errorf(n, "invalid %q entry for group %q: expected a mapping, got %s", section, group, kindName(n))
}

func (p *yamlInvParser) hosts(g *Group, keyNode, val *yaml.Node) error {
	names, port, err := expandHostPattern(keyNode.Value)
	if err != nil {
		return p.errorf(keyNode, "%v", err)
	}
	if keyNode.Value == "" {
		return p.errorf(keyNode, "empty host name in group %q", g.Name)
	}
	var vars map[string]any
	if val != nil && !isNull(val) {
		v, err := p.conv.value(val)
		if err != nil {
			return p.errorf(val, "host %q: %v", keyNode.Value, err)
		}
		m, ok := v.(map[string]any)
		if !ok {
			return p.errorf(val, "host %q: expected a mapping of host vars or nothing, got %s", keyNode.Value, kindName(deref(val)))
		}
		vars = m
	}
	for _, n := range names {
		h := p.inv.addHostPort(n, g, port)
		for k, v := range vars {
			h.setVar(k, v)
		}
	}
	return nil
}
