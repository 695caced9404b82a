package templates

import (
	"regexp"
	"strconv"
	"strings"
	"text/template/parse"
)

// Jinja detection: when a template fails, input written in Jinja (as in an
// Ansible playbook) gets a hint with its Go-template form.

var jinjaStmtRE = regexp.MustCompile(`\{%-?\s*(if|elif|else|endif|for|endfor|set|raw|endraw|macro|endmacro|block|endblock|include|import|filter|endfilter|call|endcall)\b(?:[^%]|%[^}])*%\}`)

// jinjaStatement returns the first Jinja statement tag ({% if x %}) in s.
func jinjaStatement(s string) string {
	if !strings.Contains(s, "{%") {
		return ""
	}
	return jinjaStmtRE.FindString(s)
}

// goKeywords start Go template actions that do not parse on their own.
var goKeywords = map[string]bool{
	"if": true, "else": true, "end": true, "range": true, "with": true, "define": true,
	"template": true, "block": true, "break": true, "continue": true,
}

// validGo reports whether expr parses as a Go template pipeline with our
// functions.
func (e *Engine) validGo(expr string) bool {
	_, err := parse.Parse(rootName, "{{"+expr+"}}", "{{", "}}", e.funcs, builtins)
	return err == nil
}

// jinjaHint returns the Go-template form of the first Jinja-looking part of
// text (a template, or a bare pipeline when expr is set), or "".
func (c *compiled) jinjaHint() string {
	if c.expr {
		src := strings.TrimSuffix(strings.TrimPrefix(c.text, "{{"), "}}")
		if c.e.validGo(src) {
			return ""
		}
		return convertJinja(src)
	}
	if stmt := jinjaStatement(c.text); stmt != "" {
		return convertStatement(stmt)
	}
	rest := c.text
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			return ""
		}
		j := strings.Index(rest[i:], "}}")
		if j < 0 {
			return ""
		}
		inner := rest[i+2 : i+j]
		rest = rest[i+j+2:]
		inner = strings.TrimSuffix(strings.TrimPrefix(inner, "-"), "-")
		if word, _, _ := strings.Cut(strings.TrimSpace(inner), " "); goKeywords[word] || strings.HasPrefix(word, "/*") || c.e.validGo(inner) {
			continue
		}
		if h := convertJinja(inner); h != "" {
			return "{{ " + h + " }}"
		}
	}
}

// convertStatement converts one Jinja statement tag.
func convertStatement(stmt string) string {
	body := strings.TrimSpace(strings.Trim(strings.TrimSuffix(strings.TrimPrefix(stmt, "{%"), "%}"), "-"))
	word, rest, _ := strings.Cut(body, " ")
	rest = strings.TrimSpace(rest)
	switch word {
	case "if", "elif":
		e := convertJinja(rest)
		if e == "" {
			return ""
		}
		if word == "elif" {
			return "{{ else if " + e + " }}"
		}
		return "{{ if " + e + " }}"
	case "else":
		return "{{ else }}"
	case "endif", "endfor", "endfilter", "endcall", "endblock", "endmacro", "endraw":
		return "{{ end }}"
	case "for":
		v, seq, ok := strings.Cut(rest, " in ")
		if !ok {
			return ""
		}
		e := convertJinja(seq)
		if e == "" {
			return ""
		}
		return "{{ range $" + strings.TrimSpace(v) + " := " + e + " }}"
	case "set":
		v, val, ok := strings.Cut(rest, "=")
		if !ok {
			return ""
		}
		e := convertJinja(val)
		if e == "" {
			return ""
		}
		return "{{ $" + strings.TrimSpace(v) + " := " + e + " }}"
	}
	return ""
}

// convertJinja converts a Jinja expression to a Go pipeline, or returns ""
// when it is not one this small converter understands.
func convertJinja(src string) string {
	toks, ok := lexJinja(src)
	if !ok || len(toks) == 0 {
		return ""
	}
	p := &jparser{toks: toks}
	out, ok := p.expr()
	if !ok || p.i != len(p.toks) {
		return ""
	}
	return out.s
}

type jtok struct {
	kind byte // 'i' identifier, 's' string, 'n' number, 'p' punctuation
	s    string
	sp   bool // preceded by white space
}

func lexJinja(s string) ([]jtok, bool) {
	var toks []jtok
	space := false
	add := func(kind byte, text string) {
		toks = append(toks, jtok{kind: kind, s: text, sp: space})
		space = false
	}
	isIdent := func(c byte) bool {
		return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			space = true
			i++
		case isIdent(c) && !(c >= '0' && c <= '9'):
			j := i
			for j < len(s) && isIdent(s[j]) {
				j++
			}
			add('i', s[i:j])
			i = j
		case c >= '0' && c <= '9':
			j := i
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.') {
				j++
			}
			add('n', s[i:j])
			i = j
		case c == '\'' || c == '"':
			j := i + 1
			for j < len(s) && s[j] != c {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(s) {
				return nil, false
			}
			add('s', s[i+1:j])
			i = j + 1
		case i+1 < len(s) && strings.Contains("== != >= <=", s[i:i+2]) && s[i+1] == '=':
			add('p', s[i:i+2])
			i += 2
		case strings.IndexByte(".|()[],<>", c) >= 0:
			add('p', s[i:i+1])
			i++
		default:
			return nil, false
		}
	}
	return toks, true
}

// jval is converted Go text; simple says it needs no parentheses as an
// argument.
type jval struct {
	s      string
	simple bool
	path   []string // the variable path, when the value is a plain variable
}

func (v jval) arg() string {
	if v.simple {
		return v.s
	}
	return "(" + v.s + ")"
}

type jparser struct {
	toks []jtok
	i    int
}

func (p *jparser) peek() jtok {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return jtok{}
}

func (p *jparser) accept(kind byte, s string) bool {
	if t := p.peek(); t.kind == kind && t.s == s {
		p.i++
		return true
	}
	return false
}

func (p *jparser) expr() (jval, bool) { return p.binary("or", p.and) }

func (p *jparser) and() (jval, bool) { return p.binary("and", p.not) }

func (p *jparser) binary(word string, next func() (jval, bool)) (jval, bool) {
	l, ok := next()
	if !ok {
		return l, false
	}
	for p.accept('i', word) {
		r, ok := next()
		if !ok {
			return r, false
		}
		l = jval{s: word + " " + l.arg() + " " + r.arg()}
	}
	return l, true
}

func (p *jparser) not() (jval, bool) {
	if p.accept('i', "not") {
		v, ok := p.not()
		return jval{s: "not " + v.arg()}, ok
	}
	return p.compare()
}

var jinjaOps = map[string]string{"==": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}

func (p *jparser) compare() (jval, bool) {
	l, ok := p.filtered()
	if !ok {
		return l, false
	}
	t := p.peek()
	if op, isOp := jinjaOps[t.s]; isOp && t.kind == 'p' {
		p.i++
		r, ok := p.filtered()
		return jval{s: op + " " + l.arg() + " " + r.arg()}, ok
	}
	if p.accept('i', "is") {
		neg := p.accept('i', "not")
		test := p.peek()
		if test.kind != 'i' {
			return l, false
		}
		p.i++
		var s string
		switch test.s {
		case "defined", "undefined":
			if len(l.path) == 0 {
				return l, false
			}
			recv := "."
			if len(l.path) > 1 {
				recv = "." + strings.Join(l.path[:len(l.path)-1], ".")
			}
			s = "hasKey " + recv + " " + strconv.Quote(l.path[len(l.path)-1])
			if test.s == "undefined" {
				neg = !neg
			}
		case "none":
			s = `kindIs "invalid" ` + l.arg()
		default:
			return l, false
		}
		if neg {
			s = "not (" + s + ")"
		}
		return jval{s: s}, true
	}
	neg := false
	if t.kind == 'i' && t.s == "not" && p.i+1 < len(p.toks) && p.toks[p.i+1].s == "in" {
		p.i++
		neg = true
	}
	if p.accept('i', "in") {
		r, ok := p.filtered()
		s := "has " + l.arg() + " " + r.arg()
		if neg {
			s = "not (" + s + ")"
		}
		return jval{s: s}, ok
	}
	return l, true
}

var jinjaFilters = map[string]string{
	"d": "default", "length": "len", "count": "len", "string": "toString", "float": "float64",
	"sort": "sortAlpha", "capitalize": "title", "e": "html", "escape": "html", "list": "toStrings",
}

func (p *jparser) filtered() (jval, bool) {
	v, ok := p.primary()
	if !ok {
		return v, false
	}
	for p.accept('p', "|") {
		t := p.peek()
		if t.kind != 'i' {
			return v, false
		}
		p.i++
		name := t.s
		if n, ok := jinjaFilters[name]; ok {
			name = n
		}
		var args []string
		if p.accept('p', "(") {
			for !p.accept('p', ")") {
				a, ok := p.expr()
				if !ok {
					return a, false
				}
				args = append(args, a.arg())
				if !p.accept('p', ",") && p.peek().s != ")" {
					return a, false
				}
			}
		}
		if name == "default" && len(args) > 1 {
			args = args[:1] // Ansible's default(x, true): sprig's default already treats empty as unset
		}
		s := v.s + " | " + name
		if len(args) > 0 {
			s += " " + strings.Join(args, " ")
		}
		v = jval{s: s}
	}
	return v, true
}

func (p *jparser) primary() (jval, bool) {
	t := p.peek()
	switch {
	case t.kind == 's':
		p.i++
		return jval{s: strconv.Quote(t.s), simple: true}, true
	case t.kind == 'n':
		p.i++
		return jval{s: t.s, simple: true}, true
	case t.kind == 'p' && t.s == "(":
		p.i++
		v, ok := p.expr()
		if !ok || !p.accept('p', ")") {
			return v, false
		}
		return v, true
	case t.kind == 'p' && t.s == "[":
		p.i++
		var items []string
		for !p.accept('p', "]") {
			a, ok := p.expr()
			if !ok {
				return a, false
			}
			items = append(items, a.arg())
			if !p.accept('p', ",") && p.peek().s != "]" {
				return a, false
			}
		}
		return jval{s: strings.TrimSpace("list " + strings.Join(items, " "))}, true
	case t.kind == 'i':
		switch t.s {
		case "true", "True":
			p.i++
			return jval{s: "true", simple: true}, true
		case "false", "False":
			p.i++
			return jval{s: "false", simple: true}, true
		case "none", "None":
			p.i++
			return jval{s: "nil", simple: true}, true
		case "and", "or", "not", "is", "in":
			return jval{}, false
		}
		return p.path()
	case t.kind == 'p' && t.s == ".":
		p.i++
		if p.peek().kind != 'i' {
			return jval{}, false
		}
		return p.path()
	}
	return jval{}, false
}

// path reads a variable path: a.b, a['b'], a[0], a.b['c'].d.
func (p *jparser) path() (jval, bool) {
	first := p.peek()
	p.i++
	v := jval{s: "." + first.s, simple: true, path: []string{first.s}}
	for {
		switch {
		case p.peek().s == "." && p.peek().kind == 'p' && !p.peek().sp:
			p.i++
			t := p.peek()
			if t.kind != 'i' && t.kind != 'n' {
				return v, false
			}
			p.i++
			if v.simple && v.path != nil {
				v = jval{s: v.s + "." + t.s, simple: true, path: append(v.path, t.s)}
			} else {
				v = jval{s: "(" + v.s + ")." + t.s, simple: true}
			}
		case p.peek().s == "[" && p.peek().kind == 'p' && !p.peek().sp:
			p.i++
			k, ok := p.expr()
			if !ok || !p.accept('p', "]") {
				return v, false
			}
			if strings.HasPrefix(v.s, "index ") {
				v = jval{s: v.s + " " + k.arg()}
			} else {
				v = jval{s: "index " + v.arg() + " " + k.arg()}
			}
		default:
			return v, true
		}
	}
}
