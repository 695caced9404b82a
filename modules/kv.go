package modules

import (
	"fmt"
	"strings"
)

// ParseKV parses an Ansible `k=v` argument string (`src=a dest="b c"`).
// Values may be quoted with single or double quotes; a backslash escapes the
// next character inside double quotes. Every token must be k=v.
func ParseKV(s string) (map[string]any, error) {
	raw, kv, err := SplitFreeForm(s, nil)
	if err != nil {
		return nil, err
	}
	if raw != "" {
		return nil, fmt.Errorf("expected key=value, got %q", raw)
	}
	return kv, nil
}

// SplitFreeForm splits a free-form argument string into k=v pairs and the
// remaining free-form text. With keys nil, every k=v token is a pair; with
// keys given, only those keys are taken as pairs and all other tokens stay in
// the free-form text (as Ansible does for command: `chdir=/tmp echo a=b`).
// The free-form text keeps its original spelling, quotes included.
func SplitFreeForm(s string, keys []string) (raw string, kv map[string]any, err error) {
	kv = map[string]any{}
	toks, err := tokenize(s)
	if err != nil {
		return "", nil, err
	}
	// The free-form text is the input with the k=v tokens cut out, so that
	// newlines, quotes and spacing of a multi-line script stay as written.
	var b strings.Builder
	last := 0
	for _, t := range toks {
		if k, v, ok := splitPair(t); ok && (keys == nil || contains(keys, k)) {
			kv[k] = v
			b.WriteString(s[last:t.start])
			last = t.end
		}
	}
	b.WriteString(s[last:])
	return strings.TrimSpace(b.String()), kv, nil
}

type token struct {
	text       string // as written
	value      string // with quotes removed
	start, end int    // offsets in the input
}

func splitPair(t token) (string, string, bool) {
	i := strings.IndexByte(t.text, '=')
	if i <= 0 {
		return "", "", false
	}
	k := t.text[:i]
	for _, r := range k {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return "", "", false
		}
	}
	j := strings.IndexByte(t.value, '=')
	return k, t.value[j+1:], true
}

func tokenize(s string) ([]token, error) {
	var toks []token
	var text, val strings.Builder
	var quote byte
	in := false
	start := 0
	// Template actions ({{ ... }}) are kept whole, spaces and quotes
	// included, inside a quoted value too: Ansible's splitter
	// (parsing/splitter.py) counts {{ }} whatever the quotes, so that
	// a="{{ x == "y" }}" is one value.
	depth := 0
	begin := func(i int) {
		if !in {
			start = i
		}
		in = true
	}
	flush := func(end int) {
		if in {
			toks = append(toks, token{text.String(), val.String(), start, end})
		}
		text.Reset()
		val.Reset()
		in = false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if depth == 0 && strings.HasPrefix(s[i:], "{{") {
			depth++
			if quote != 0 {
				// The quote is still open; its text goes on.
				text.WriteString("{{")
				val.WriteString("{{")
				i++
				continue
			}
			begin(i)
			text.WriteString("{{")
			val.WriteString("{{")
			i++
			continue
		}
		if depth > 0 {
			if strings.HasPrefix(s[i:], "}}") {
				depth--
				text.WriteString("}}")
				val.WriteString("}}")
				i++
				continue
			}
			text.WriteByte(c)
			val.WriteByte(c)
			continue
		}
		switch {
		case quote != 0:
			text.WriteByte(c)
			if c == quote {
				quote = 0
				continue
			}
			if c == '\\' && quote == '"' && i+1 < len(s) {
				i++
				text.WriteByte(s[i])
				val.WriteByte(s[i])
				continue
			}
			val.WriteByte(c)
		case c == '\'' || c == '"':
			quote = c
			text.WriteByte(c)
			begin(i)
		case c == ' ' || c == '\t' || c == '\n':
			flush(i)
		default:
			text.WriteByte(c)
			val.WriteByte(c)
			begin(i)
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote in %q", quote, s)
	}
	if depth > 0 {
		return nil, fmt.Errorf("unterminated {{ in %q", s)
	}
	flush(len(s))
	return toks, nil
}
