package convert

import (
	"bytes"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/mdo-play/mdo-play/templates/jinja"
)

// flattenedKeys are the with_ keywords of the flattened lookup, which
// mdo-play has no loop for: `with_flattened: TERMS` loops over TERMS
// flattened completely, as `loop: "{{ TERMS | flatten }}"` does (the
// rewrite Ansible's documentation gives).
var flattenedKeys = map[string]bool{"with_flattened": true, "with_community.general.flattened": true}

// rewriteLoops rewrites the with_flattened loops of the tasks in src into
// loop: with the flatten filter, in Jinja, which the conversion then
// converts; src is returned as it is when there is none, or when one
// cannot be rewritten (it is then left for the loader to report).
func rewriteLoops(src []byte) []byte {
	if !bytes.Contains(src, []byte("flattened")) {
		return src
	}
	docs, err := decodeAll(src)
	if err != nil {
		return src
	}
	f := newFile(src)
	var edits []edit
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if flattenedKeys[k.Value] && k.Style == 0 && n.Style&yaml.FlowStyle == 0 && !hasKey(n, "loop") {
					if e, ok := loopEdit(f, k, v); ok {
						edits = append(edits, e)
						continue
					}
				}
				walk(v)
			}
			return
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	for _, d := range docs {
		walk(d)
	}
	if len(edits) == 0 {
		return src
	}
	sort.Slice(edits, func(i, j int) bool { return edits[i].start < edits[j].start })
	var b bytes.Buffer
	at := 0
	for _, e := range edits {
		b.Write(src[at:e.start])
		b.WriteString(e.text)
		at = e.end
	}
	b.Write(src[at:])
	out := b.Bytes()
	if _, err := decodeAll(out); err != nil {
		return src
	}
	return out
}

func hasKey(m *yaml.Node, key string) bool {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return true
		}
	}
	return false
}

// loopEdit replaces the key k and its value v, which end a line, with
// loop: "{{ JINJA | flatten }}".
func loopEdit(f *file, k, v *yaml.Node) (edit, bool) {
	j, ok := jinjaLiteral(v)
	if !ok {
		return edit{}, false
	}
	start := f.offset(k.Line, k.Column)
	last, ok := lastLine(v)
	if start < 0 || !ok || last > len(f.starts) {
		return edit{}, false
	}
	end := f.lineEnd(f.starts[last-1])
	q := strconv.Quote("{{ " + j + " | flatten }}")
	return edit{start: start, end: end, text: "loop: " + q}, true
}

// lastLine is the last line v's text is on; block scalars, whose text
// runs past the line they start on, are not taken.
func lastLine(v *yaml.Node) (int, bool) {
	last := v.Line
	ok := true
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Line > last {
			last = n.Line
		}
		if n.Kind == yaml.ScalarNode && (n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 || strings.Contains(n.Value, "\n")) {
			ok = false
		}
		if n.Kind == yaml.AliasNode {
			ok = false
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(v)
	return last, ok
}

// jinjaLiteral writes a YAML value as a Jinja expression: strings that
// are one {{ e }} as (e), other strings as literals (joined with ~ to the
// {{ }} they hold), lists and mappings as literals.
func jinjaLiteral(n *yaml.Node) (string, bool) {
	switch n.Kind {
	case yaml.SequenceNode:
		var parts []string
		for _, c := range n.Content {
			s, ok := jinjaLiteral(c)
			if !ok {
				return "", false
			}
			parts = append(parts, s)
		}
		return "[" + strings.Join(parts, ", ") + "]", true
	case yaml.MappingNode:
		var parts []string
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, ok1 := jinjaLiteral(n.Content[i])
			v, ok2 := jinjaLiteral(n.Content[i+1])
			if !ok1 || !ok2 {
				return "", false
			}
			parts = append(parts, k+": "+v)
		}
		return "{" + strings.Join(parts, ", ") + "}", true
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "none", true
		case "!!bool":
			var b bool
			if n.Decode(&b) != nil {
				return "", false
			}
			return strconv.FormatBool(b), true
		case "!!int", "!!float":
			var x any
			if n.Decode(&x) != nil {
				return "", false
			}
			switch x := x.(type) {
			case int:
				return strconv.Itoa(x), true
			case float64:
				return strconv.FormatFloat(x, 'g', -1, 64), true
			}
			return "", false
		case "!!str":
			if n.Tag == "!unsafe" || n.Tag == "!vault" {
				return "", false
			}
			return jinjaString(n.Value)
		}
	}
	return "", false
}

// jinjaString writes a YAML string (which may hold {{ }}) as a Jinja
// expression.
func jinjaString(s string) (string, bool) {
	if !strings.Contains(s, "{") {
		return pyLiteral(s)
	}
	if strings.Contains(s, "{%") || strings.Contains(s, "{#") {
		return "", false
	}
	nodes, err := jinja.Parse(s)
	if err != nil {
		return "", false
	}
	var parts []string
	for _, n := range nodes {
		switch n := n.(type) {
		case *jinja.Text:
			l, ok := pyLiteral(n.S)
			if !ok {
				return "", false
			}
			parts = append(parts, l)
		case *jinja.Output:
			if n.Err != nil || n.LTrim != 0 || n.RTrim != 0 {
				return "", false
			}
			parts = append(parts, "("+strings.TrimSpace(s[n.Start+2:n.End-2])+")")
		default:
			return "", false
		}
	}
	if len(parts) == 1 {
		return parts[0], true
	}
	return strings.Join(parts, " ~ "), true
}

// pyLiteral is a Jinja string literal for s; strings with backslashes or
// line breaks (whose reading differs between YAML values and templates)
// are not taken.
func pyLiteral(s string) (string, bool) {
	switch {
	case strings.ContainsAny(s, "\\\n\r"):
		return "", false
	case !strings.Contains(s, "'"):
		return "'" + s + "'", true
	case !strings.Contains(s, `"`):
		return `"` + s + `"`, true
	}
	return "", false
}
