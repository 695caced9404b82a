package inventory

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/mdo-play/mdo-play/templates/pyjson"
)

// shlexSplit splits an INI host line the way Python's shlex.split(line,
// comments=True) does: POSIX quoting, backslash escapes, and '#' starting a
// comment wherever it is outside quotes.
func shlexSplit(line string) ([]string, error) {
	var (
		tokens []string
		tok    strings.Builder
		inTok  bool // a token has started (possibly empty, e.g. "")
	)
	emit := func() {
		if inTok {
			tokens = append(tokens, tok.String())
		}
		tok.Reset()
		inTok = false
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			emit()
		case c == '#':
			emit()
			return tokens, nil
		case c == '\\':
			if i+1 >= len(line) {
				return nil, errors.New("no escaped character")
			}
			i++
			tok.WriteByte(line[i])
			inTok = true
		case c == '\'':
			end := strings.IndexByte(line[i+1:], '\'')
			if end < 0 {
				return nil, errors.New("no closing quotation")
			}
			tok.WriteString(line[i+1 : i+1+end])
			i += end + 1
			inTok = true
		case c == '"':
			i++
			closed := false
			for ; i < len(line); i++ {
				d := line[i]
				if d == '"' {
					closed = true
					break
				}
				if d == '\\' && i+1 < len(line) && (line[i+1] == '"' || line[i+1] == '\\') {
					i++
					d = line[i]
				}
				tok.WriteByte(d)
			}
			if !closed {
				return nil, errors.New("no closing quotation")
			}
			inTok = true
		default:
			tok.WriteByte(c)
			inTok = true
		}
	}
	emit()
	return tokens, nil
}

// parseINIValue types an INI value as Ansible does with ast.literal_eval:
// Python literals (numbers, quoted strings, True/False/None, lists, tuples,
// dicts) become values; anything else stays the string it was.
func parseINIValue(s string) any {
	p := &pyParser{s: s}
	v, err := p.value(0)
	if err != nil {
		return s
	}
	p.skipSpace()
	if p.i != len(p.s) {
		return s
	}
	return v
}

// pyParser is a small recursive-descent parser for Python literals.
type pyParser struct {
	s string
	i int
}

var errNotLiteral = errors.New("not a python literal")

const maxLiteralDepth = 100

func (p *pyParser) skipSpace() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *pyParser) value(depth int) (any, error) {
	if depth > maxLiteralDepth {
		return nil, errNotLiteral
	}
	p.skipSpace()
	if p.i >= len(p.s) {
		return nil, errNotLiteral
	}
	switch c := p.s[p.i]; {
	case c == '[':
		p.i++
		return p.sequence(']', depth)
	case c == '(':
		p.i++
		return p.sequence(')', depth)
	case c == '{':
		p.i++
		return p.dict(depth)
	case c == '\'' || c == '"':
		return p.str()
	case c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9'):
		return p.number()
	default:
		for _, w := range []struct {
			word string
			val  any
		}{{"True", true}, {"False", false}, {"None", nil}} {
			if strings.HasPrefix(p.s[p.i:], w.word) && !isIdentByte(p.s, p.i+len(w.word)) {
				p.i += len(w.word)
				return w.val, nil
			}
		}
		return nil, errNotLiteral
	}
}

func isIdentByte(s string, i int) bool {
	if i >= len(s) {
		return false
	}
	c := s[i]
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func (p *pyParser) sequence(closer byte, depth int) (any, error) {
	out := []any{}
	for {
		p.skipSpace()
		if p.i < len(p.s) && p.s[p.i] == closer {
			p.i++
			return out, nil
		}
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		p.skipSpace()
		if p.i >= len(p.s) {
			return nil, errNotLiteral
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case closer:
			p.i++
			if closer == ')' && len(out) == 1 {
				return out[0], nil // (x) is x, not a tuple
			}
			return out, nil
		default:
			return nil, errNotLiteral
		}
	}
}

func (p *pyParser) dict(depth int) (any, error) {
	out := map[string]any{}
	for {
		p.skipSpace()
		if p.i < len(p.s) && p.s[p.i] == '}' {
			p.i++
			return out, nil
		}
		k, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return nil, errNotLiteral
		}
		p.i++
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		key, ok := literalKey(k)
		if !ok {
			return nil, errNotLiteral
		}
		out[key] = v
		p.skipSpace()
		if p.i >= len(p.s) {
			return nil, errNotLiteral
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			return out, nil
		default:
			return nil, errNotLiteral
		}
	}
}

// literalKey renders a dict key the way json.dumps renders Python keys.
func literalKey(k any) (string, bool) {
	switch k.(type) {
	case string, int, float64, bool, nil:
		return pyjson.Key(k), true
	}
	return "", false // lists and dicts are unhashable in Python
}

func (p *pyParser) str() (any, error) {
	q := p.s[p.i]
	p.i++
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == q:
			p.i++
			return b.String(), nil
		case c == '\n':
			return nil, errNotLiteral
		case c == '\\' && p.i+1 < len(p.s):
			p.i++
			if err := p.escape(&b); err != nil {
				return nil, err
			}
		default:
			b.WriteByte(c)
			p.i++
		}
	}
	return nil, errNotLiteral
}

// escape decodes the Python escape after a backslash at p.i.
func (p *pyParser) escape(b *strings.Builder) error {
	c := p.s[p.i]
	p.i++
	simple := map[byte]string{'n': "\n", 't': "\t", 'r': "\r", '\\': "\\", '\'': "'", '"': "\"",
		'a': "\a", 'b': "\b", 'f': "\f", 'v': "\v", '0': "\x00", '\n': ""}
	if s, ok := simple[c]; ok {
		b.WriteString(s)
		return nil
	}
	width := map[byte]int{'x': 2, 'u': 4, 'U': 8}[c]
	if width == 0 {
		b.WriteByte('\\') // unknown escapes keep the backslash in Python
		b.WriteByte(c)
		return nil
	}
	if p.i+width > len(p.s) {
		return errNotLiteral
	}
	n, err := strconv.ParseUint(p.s[p.i:p.i+width], 16, 32)
	if err != nil || !utf8.ValidRune(rune(n)) {
		return errNotLiteral
	}
	p.i += width
	b.WriteRune(rune(n))
	return nil
}

func (p *pyParser) number() (any, error) {
	start := p.i
	sign := 1
	for p.i < len(p.s) && (p.s[p.i] == '-' || p.s[p.i] == '+') {
		if p.s[p.i] == '-' {
			sign = -sign
		}
		p.i++
	}
	numStart := p.i
	for p.i < len(p.s) && (isIdentByte(p.s, p.i) || p.s[p.i] == '.' ||
		((p.s[p.i] == '-' || p.s[p.i] == '+') && (p.s[p.i-1] == 'e' || p.s[p.i-1] == 'E'))) {
		p.i++
	}
	lit := p.s[numStart:p.i]
	if lit == "" || strings.HasPrefix(lit, "_") || strings.HasSuffix(lit, "_") || strings.Contains(lit, "__") {
		p.i = start
		return nil, errNotLiteral
	}
	clean := strings.ReplaceAll(lit, "_", "")
	lower := strings.ToLower(clean)
	for _, base := range []struct {
		prefix string
		base   int
	}{{"0x", 16}, {"0o", 8}, {"0b", 2}} {
		if strings.HasPrefix(lower, base.prefix) {
			n, err := strconv.ParseInt(clean[2:], base.base, 64)
			if err != nil {
				return nil, errNotLiteral
			}
			return sign * int(n), nil
		}
	}
	if strings.ContainsAny(lower, ".e") {
		if strings.ContainsAny(lower, "abcdfghijklmnopqrstuvwxyz") || lower == "." {
			return nil, errNotLiteral
		}
		f, err := strconv.ParseFloat(clean, 64)
		if err != nil {
			return nil, errNotLiteral
		}
		return float64(sign) * f, nil
	}
	// Python 3 rejects decimal literals with leading zeros ("080").
	if len(clean) > 1 && clean[0] == '0' && strings.Trim(clean, "0") != "" {
		return nil, errNotLiteral
	}
	n, err := strconv.ParseInt(clean, 10, 64)
	if err != nil {
		return nil, errNotLiteral
	}
	return sign * int(n), nil
}
