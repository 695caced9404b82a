// Package jinja parses Jinja2 templates and expressions, as Ansible writes
// them, and converts them to the Go templates that mdo-play's template
// engine renders.
package jinja

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// tokKind is the kind of one expression token.
type tokKind uint8

const (
	tEOF    tokKind = iota
	tName           // identifiers and keywords (and, or, not, in, is, if, else, true, ...)
	tInt            // 42
	tFloat          // 4.2, 1e3
	tString         // 'a' or "a", decoded
	tOp             // operators and punctuation
)

type token struct {
	kind tokKind
	s    string // name, operator, decoded string, number text
	raw  string // a string's text between its quotes, as written
	pos  int    // byte offset in the source
}

func (t token) String() string {
	switch t.kind {
	case tEOF:
		return "end of expression"
	case tString:
		return strconv.Quote(t.s)
	}
	return fmt.Sprintf("%q", t.s)
}

// SyntaxError is a Jinja syntax error at a byte offset of the source.
type SyntaxError struct {
	Pos int
	Msg string
}

func (e *SyntaxError) Error() string { return e.Msg }

// ops are Jinja's operators, longest first.
var ops = []string{"//", "**", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "<", ">", "=", ".", ",", ":", "|", "(", ")", "[", "]", "{", "}"}

// lexExpr tokenizes an expression starting at src[pos:]. With end set
// ("}}" or "%}"), it stops before the closing delimiter (or its "-"/"+"
// trim marker) found outside brackets and returns the offset of that
// marker; without, it reads to the end of src.
func lexExpr(src string, pos int, end string) ([]token, int, error) {
	var toks []token
	depth := 0
	i := pos
	for {
		for i < len(src) && (src[i] == ' ' || src[i] == '\t' || src[i] == '\n' || src[i] == '\r') {
			i++
		}
		if end != "" && depth == 0 {
			if strings.HasPrefix(src[i:], end) {
				return append(toks, token{kind: tEOF, pos: i}), i, nil
			}
			if (strings.HasPrefix(src[i:], "-") || strings.HasPrefix(src[i:], "+") && end == "%}") && strings.HasPrefix(src[i+1:], end) {
				return append(toks, token{kind: tEOF, pos: i}), i, nil
			}
		}
		if i >= len(src) {
			if end != "" {
				return nil, i, &SyntaxError{Pos: pos, Msg: fmt.Sprintf("unclosed tag: no %q", end)}
			}
			return append(toks, token{kind: tEOF, pos: i}), i, nil
		}
		c := src[i]
		switch {
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= utf8.RuneSelf:
			// Names are letters, digits and _, as Go templates accept them.
			j := i
			for j < len(src) {
				r, n := utf8.DecodeRuneInString(src[j:])
				if !(r == '_' || unicode.IsLetter(r) || j > i && unicode.IsDigit(r)) {
					break
				}
				j += n
			}
			if j == i {
				return nil, i, &SyntaxError{Pos: i, Msg: fmt.Sprintf("unexpected character %q", src[i:i+1])}
			}
			toks = append(toks, token{kind: tName, s: src[i:j], pos: i})
			i = j
		case c >= '0' && c <= '9':
			j := i
			digits := func() {
				for j < len(src) && (src[j] >= '0' && src[j] <= '9' || src[j] == '_' && j+1 < len(src) && src[j+1] >= '0' && src[j+1] <= '9') {
					j++
				}
			}
			digits()
			kind := tInt
			afterDot := i > 0 && src[i-1] == '.'
			if !afterDot && j+1 < len(src) && src[j] == '.' && src[j+1] >= '0' && src[j+1] <= '9' {
				j++
				digits()
				kind = tFloat
			}
			if !afterDot && j < len(src) && (src[j] == 'e' || src[j] == 'E') {
				k := j + 1
				if k < len(src) && (src[k] == '+' || src[k] == '-') {
					k++
				}
				if k < len(src) && src[k] >= '0' && src[k] <= '9' {
					j = k
					digits()
					kind = tFloat
				}
			}
			toks = append(toks, token{kind: kind, s: strings.ReplaceAll(src[i:j], "_", ""), pos: i})
			i = j
		case c == '\'' || c == '"':
			s, n, err := lexString(src, i)
			if err != nil {
				return nil, i, err
			}
			toks = append(toks, token{kind: tString, s: s, raw: src[i+1 : i+n-1], pos: i})
			i += n
		default:
			op := ""
			for _, o := range ops {
				if strings.HasPrefix(src[i:], o) {
					op = o
					break
				}
			}
			if op == "" {
				return nil, i, &SyntaxError{Pos: i, Msg: fmt.Sprintf("unexpected character %q", src[i:i+1])}
			}
			switch op {
			case "(", "[", "{":
				depth++
			case ")", "]", "}":
				depth--
				if depth < 0 {
					return nil, i, &SyntaxError{Pos: i, Msg: fmt.Sprintf("unexpected %q", op)}
				}
			}
			toks = append(toks, token{kind: tOp, s: op, pos: i})
			i += len(op)
		}
	}
}

// lexString reads a quoted string at src[i] and decodes Python escapes;
// unknown escapes keep their backslash, as Python does.
func lexString(src string, i int) (string, int, error) {
	q := src[i]
	var b strings.Builder
	j := i + 1
	for j < len(src) {
		c := src[j]
		if c == q {
			return b.String(), j + 1 - i, nil
		}
		if c != '\\' || j+1 >= len(src) {
			b.WriteByte(c)
			j++
			continue
		}
		n := src[j+1]
		j += 2
		switch n {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case '0':
			b.WriteByte(0)
		case '\\', '\'', '"':
			b.WriteByte(n)
		case '\n':
		case 'x', 'u', 'U':
			w := map[byte]int{'x': 2, 'u': 4, 'U': 8}[n]
			if j+w <= len(src) {
				if v, err := strconv.ParseUint(src[j:j+w], 16, 32); err == nil {
					b.WriteRune(rune(v))
					j += w
					break
				}
			}
			b.WriteByte('\\')
			b.WriteByte(n)
		default:
			b.WriteByte('\\')
			b.WriteByte(n)
		}
	}
	return "", 0, &SyntaxError{Pos: i, Msg: "unterminated string"}
}
