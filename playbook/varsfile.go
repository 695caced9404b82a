package playbook

import (
	"fmt"

	"github.com/mdo-play/mdo-play/templates/yaml11"
	"gopkg.in/yaml.v3"
)

// DecodeVarsFile parses a YAML (or JSON) file holding a mapping of
// variables; an empty file (or one of only comments or "---") holds none.
func DecodeVarsFile(path string, data []byte) (map[string]any, error) {
	doc, err := parseYAML(path, data)
	if err != nil {
		return nil, err
	}
	d := &decoder{file: path}
	root := resolve(doc)
	if root.Kind == 0 {
		// No document at all (an empty file, or only comments): no
		// variables, as Ansible loads it.
		return map[string]any{}, nil
	}
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return map[string]any{}, nil
		}
		root = resolve(root.Content[0])
	}
	if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
		return map[string]any{}, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, &Error{Pos: d.pos(root), Msg: fmt.Sprintf("a vars file must hold a mapping of variables, got a %s", yaml11.KindName(root))}
	}
	v, _ := d.value(root).(map[string]any)
	if len(d.errs) > 0 {
		return nil, d.errs[0]
	}
	return v, nil
}
