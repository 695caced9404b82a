package lint

import (
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/mdo-play/mdo-play/playbook"
)

// lc is a line and column in a file.
type lc struct{ line, col int }

// source is the raw text and YAML nodes of one file, indexed by position,
// for what the AST does not keep: the literal text of a value and the
// positions of some keys' values.
type source struct {
	lines []string
	maps  map[lc]*yaml.Node // mapping nodes by position
	vals  map[lc]*yaml.Node // value node of each mapping key, by the key's position
	nodes map[lc]*yaml.Node // value nodes (mapping values, list items) by their position
}

// source returns the indexed file, or nil when it cannot be read or parsed.
func (c *checker) source(path string) *source {
	if s, ok := c.sources[path]; ok {
		return s
	}
	c.sources[path] = nil
	data, err := c.l.readFile(path)
	if err != nil {
		return nil
	}
	s := &source{lines: strings.Split(string(data), "\n"), maps: map[lc]*yaml.Node{}, vals: map[lc]*yaml.Node{}, nodes: map[lc]*yaml.Node{}}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err == nil {
		s.index(&doc)
	}
	c.sources[path] = s
	return s
}

func (s *source) index(n *yaml.Node) {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			s.nodes[lc{c.Line, c.Column}] = c
			s.index(c)
		}
	case yaml.MappingNode:
		s.maps[lc{n.Line, n.Column}] = n
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			s.vals[lc{k.Line, k.Column}] = v
			s.nodes[lc{v.Line, v.Column}] = v
			s.index(v)
		}
	}
}

// valueNode returns the value node of the mapping key at pos.
func (c *checker) valueNode(pos playbook.Pos) *yaml.Node {
	s := c.source(pos.File)
	if s == nil {
		return nil
	}
	return s.vals[lc{pos.Line, pos.Col}]
}

// keyValue returns the value node of key in the mapping at pos.
func (c *checker) keyValue(pos playbook.Pos, key string) *yaml.Node {
	s := c.source(pos.File)
	if s == nil {
		return nil
	}
	m := s.maps[lc{pos.Line, pos.Col}]
	if m == nil {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// keyPos returns the position of key's value in the mapping at pos, or pos.
func (c *checker) keyPos(pos playbook.Pos, key string) playbook.Pos {
	if n := c.keyValue(pos, key); n != nil {
		return playbook.Pos{File: pos.File, Line: n.Line, Col: n.Column}
	}
	return pos
}

// nodeAt returns the value node at pos.
func (c *checker) nodeAt(pos playbook.Pos) *yaml.Node {
	s := c.source(pos.File)
	if s == nil {
		return nil
	}
	return s.nodes[lc{pos.Line, pos.Col}]
}
