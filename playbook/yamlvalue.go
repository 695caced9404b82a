package playbook

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/mdo-play/mdo-play/templates/yaml11"
)

// decoder turns yaml.Nodes into plain Go values with yaml11.Decoder
// (YAML 1.1 scalars, aliases, merge keys, duplicate keys as errors) and
// collects the problems as positioned errors.
type decoder struct {
	file string
	errs []error
	dec  yaml11.Decoder
}

func (d *decoder) pos(n *yaml.Node) Pos { return Pos{File: d.file, Line: n.Line, Col: n.Column} }

func (d *decoder) errorf(n *yaml.Node, format string, args ...any) {
	d.errs = append(d.errs, &Error{Pos: d.pos(n), Msg: fmt.Sprintf(format, args...)})
}

func (d *decoder) values() *yaml11.Decoder {
	if d.dec.Errorf == nil {
		d.dec.Errorf = func(n *yaml.Node, msg string) { d.errorf(n, "%s", msg) }
	}
	return &d.dec
}

// value converts n to a Go value.
func (d *decoder) value(n *yaml.Node) any { return d.values().Value(n) }

// mapping calls f for each key of a mapping node in order, resolving merge
// keys (<<) and reporting duplicate keys.
func (d *decoder) mapping(n *yaml.Node, f func(k string, kn, vn *yaml.Node)) {
	d.values().Mapping(n, f)
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
