package jinja

import (
	"fmt"
	"strings"
	"text/template/parse"
)

// Node is a template node.
type Node interface{ span() (int, int) }

// Tag is one {% ... %} (or {# #}, {{ }}) delimiter pair as written.
type Tag struct {
	Start, End   int  // offsets of "{%" and just after "%}"
	LTrim, RTrim byte // '-', '+' or 0
	Name         string
	toks         []token // the expression tokens after the name
	err          error   // lexing error inside the tag
}

func (t *Tag) span() (int, int) { return t.Start, t.End }

type (
	// Text is literal text.
	Text struct {
		Start, End int
		S          string
	}
	// GoAction is a {{ }} action that is already a Go template action.
	GoAction struct {
		Start, End int
	}
	// Output is {{ expr }}.
	Output struct {
		Tag
		X   Expr
		Err error
	}
	// Comment is {# text #}.
	Comment struct {
		Tag
		S string
	}
	// Raw is {% raw %}text{% endraw %}.
	Raw struct {
		Tag
		S      string
		EndTag Tag
	}
	// If is if/elif/else/endif.
	If struct {
		Branches []Branch
		ElseTag  *Tag
		Else     []Node
		EndTag   Tag
	}
	// For is for ... in ... [if ...] [recursive] / else / endfor.
	For struct {
		Tag
		Targets   []string
		Iter      Expr
		Filter    Expr
		Recursive bool
		Body      []Node
		ElseTag   *Tag
		Else      []Node
		EndTag    Tag
		Err       error
	}
	// Set is {% set a = x %} or {% set a %}body{% endset %}.
	Set struct {
		Tag
		Targets []string
		Attr    string // {% set ns.attr = x %}: the attribute of namespace Targets[0]
		X       Expr   // nil for the block form
		Filters []Expr // block form filters ({% set x | upper %}), as Filter nodes over a nil X
		Body    []Node // block form
		EndTag  *Tag   // block form
		Err     error
	}
	// Include is {% include x [ignore missing] [with|without context] %}.
	Include struct {
		Tag
		X             Expr
		IgnoreMissing bool
		Err           error
	}
	// Macro is {% macro name(params) %}body{% endmacro %}.
	Macro struct {
		Tag
		Name     string
		Params   []string
		Defaults []Expr // one per param, nil when none
		Body     []Node
		EndTag   Tag
		Err      error
	}
	// Block is {% block name %}body{% endblock %}.
	Block struct {
		Tag
		Body   []Node
		EndTag Tag
	}
	// Unsupported is a statement the converter does not handle, with its
	// body when it has one.
	Unsupported struct {
		Tag
		EndTag *Tag
		Reason string
	}
)

// Branch is one if/elif branch.
type Branch struct {
	Tag  Tag
	Cond Expr
	Err  error
	Body []Node
}

func (x *Text) span() (int, int)     { return x.Start, x.End }
func (x *GoAction) span() (int, int) { return x.Start, x.End }
func (x *Raw) span() (int, int)      { return x.Start, x.EndTag.End }
func (x *If) span() (int, int)       { return x.Branches[0].Tag.Start, x.EndTag.End }
func (x *For) span() (int, int)      { return x.Start, x.EndTag.End }
func (x *Macro) span() (int, int)    { return x.Start, x.EndTag.End }
func (x *Block) span() (int, int)    { return x.Start, x.EndTag.End }
func (x *Set) span() (int, int) {
	if x.EndTag != nil {
		return x.Start, x.EndTag.End
	}
	return x.Start, x.End
}
func (x *Unsupported) span() (int, int) {
	if x.EndTag != nil {
		return x.Start, x.EndTag.End
	}
	return x.Start, x.End
}

// item is one piece of the flat token stream of a template.
type item struct {
	node Node // Text, GoAction, Output, Comment, Raw or *Tag (a statement)
}

// goKeywords start Go template actions that do not parse on their own.
var goKeywords = map[string]bool{
	"if": true, "else": true, "end": true, "range": true, "with": true, "define": true,
	"template": true, "block": true, "break": true, "continue": true,
}

// isGoAction reports whether the action text between "{{" and "}}" is
// already a Go template action for our engine.
func isGoAction(inner string) bool {
	s := inner
	if strings.HasPrefix(s, "- ") || strings.HasPrefix(s, "-\t") || strings.HasPrefix(s, "-\n") {
		s = s[2:]
	}
	if strings.HasSuffix(s, " -") || strings.HasSuffix(s, "\t-") || strings.HasSuffix(s, "\n-") {
		s = s[:len(s)-2]
	}
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "/*") {
		return true
	}
	word := s
	if i := strings.IndexAny(s, " \t\n\r("); i >= 0 {
		word = s[:i]
	}
	if goKeywords[word] && (len(word) == len(s) || strings.ContainsRune(" \t\n\r", rune(s[len(word)]))) {
		return true
	}
	if s == "" || isIdent(s) && s != "true" && s != "false" && s != "nil" {
		// {{ name }} is a Jinja variable, even when a function has that name.
		return false
	}
	// Jinja has no $: Go variables, declared in other actions, are
	// declared here so that the action parses alone.
	return goTemplate(declareVars(s) + "{{" + inner + "}}")
}

// declareVars returns declarations of the $variables s uses outside
// string literals.
func declareVars(s string) string {
	var b strings.Builder
	seen := map[string]bool{}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"', '\'', '`':
			q := s[i]
			for i++; i < len(s) && s[i] != q; i++ {
				if s[i] == '\\' && q != '`' {
					i++
				}
			}
		case '$':
			j := i + 1
			for j < len(s) && (s[j] == '_' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9') {
				j++
			}
			if name := s[i:j]; len(name) > 1 && !seen[name] {
				seen[name] = true
				b.WriteString("{{" + name + " := 0}}")
			}
			i = j - 1
		}
	}
	return b.String()
}

// niladic are functions a Go template calls without arguments as the
// start of a pipeline.
var niladic = map[string]bool{"now": true, "uuidv4": true, "list": false, "dict": false}

// goTemplate reports whether text parses as a Go template with our
// functions and reads as one: Jinja such as {{ list | length }} or
// {{ d.k }} or {{ 'a' in x }} also parses, as a call of the function list
// or d, or a character constant, which Go templates do not write.
func goTemplate(text string) bool {
	trees, err := parse.Parse("t", text, "{{", "}}", goFuncs, goBuiltins)
	if err != nil {
		return false
	}
	for _, t := range trees {
		if !goNodeOK(t.Root) {
			return false
		}
	}
	return true
}

func goNodeOK(n parse.Node) bool {
	switch x := n.(type) {
	case *parse.ListNode:
		if x == nil {
			return true
		}
		for _, c := range x.Nodes {
			if !goNodeOK(c) {
				return false
			}
		}
	case *parse.ActionNode:
		return goPipeOK(x.Pipe)
	case *parse.IfNode:
		return goPipeOK(x.Pipe) && goNodeOK(x.List) && goNodeOK(x.ElseList)
	case *parse.RangeNode:
		return goPipeOK(x.Pipe) && goNodeOK(x.List) && goNodeOK(x.ElseList)
	case *parse.WithNode:
		return goPipeOK(x.Pipe) && goNodeOK(x.List) && goNodeOK(x.ElseList)
	case *parse.PipeNode:
		// A pipeline in parentheses: (list) is Go's empty list, but
		// (d | to_json) reads as Jinja.
		if x == nil {
			return true
		}
		if len(x.Cmds) > 1 && !pipeStartOK(x) {
			return false
		}
		for i, c := range x.Cmds {
			if id, ok := c.Args[0].(*parse.IdentifierNode); ok {
				if a, known := sprigArity[id.Ident]; known {
					n := len(c.Args) - 1
					if i > 0 {
						n++
					}
					if n < a[0] || a[1] >= 0 && n > a[1] {
						return false
					}
				}
			}
			for _, a := range c.Args {
				if !goNodeOK(a) {
					return false
				}
			}
		}
	case *parse.ChainNode:
		if _, ok := x.Node.(*parse.IdentifierNode); ok {
			return false
		}
		return goNodeOK(x.Node)
	case *parse.NumberNode:
		return !strings.HasPrefix(x.Text, "'")
	}
	return true
}

// goPipeOK checks an action's pipeline: one that starts with a function
// called without arguments reads as a Jinja variable ({{ list | length }}).
func goPipeOK(p *parse.PipeNode) bool {
	return p == nil || pipeStartOK(p) && goNodeOK(p)
}

func pipeStartOK(p *parse.PipeNode) bool {
	if c := p.Cmds[0]; len(c.Args) == 1 {
		if id, ok := c.Args[0].(*parse.IdentifierNode); ok && !niladic[id.Ident] {
			return false
		}
	}
	return true
}

// IsGoExpr reports whether src is a Go template pipeline for our engine
// (and not a Jinja expression).
func IsGoExpr(src string) bool {
	s := strings.TrimSpace(src)
	if s == "" || strings.Contains(s, "{{") || strings.Contains(s, "}}") {
		return false
	}
	if isIdent(s) && s != "true" && s != "false" {
		return false
	}
	word := s
	if i := strings.IndexAny(s, " \t\n\r("); i >= 0 {
		word = s[:i]
	}
	if goKeywords[word] {
		return false
	}
	trees, err := parse.Parse("t", "{{"+s+"}}", "{{", "}}", goFuncs, goBuiltins)
	if err != nil || len(trees) != 1 || trees["t"] == nil || len(trees["t"].Root.Nodes) != 1 {
		return false
	}
	return goTemplate("{{" + s + "}}")
}

func isIdent(s string) bool {
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return s != ""
}

// goActionEnd returns the offset just after the "}}" closing a Go action
// that starts at src[i] ("{{"), skipping Go string literals, or -1.
func goActionEnd(src string, i int) int {
	j := i + 2
	k := j
	if strings.HasPrefix(src[j:], "- ") {
		k += 2
	}
	if strings.HasPrefix(src[k:], "/*") {
		// A comment: {{/* ... */}} or {{- /* ... */ -}}.
		end := strings.Index(src[k:], "*/")
		if end < 0 {
			return -1
		}
		rest := src[k+end+2:]
		switch {
		case strings.HasPrefix(rest, "}}"):
			return k + end + 4
		case strings.HasPrefix(rest, " -}}"):
			return k + end + 6
		}
		return -1
	}
	for j < len(src) {
		switch src[j] {
		case '"':
			j++
			for j < len(src) && src[j] != '"' && src[j] != '\n' {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			j++
		case '`':
			k := strings.IndexByte(src[j+1:], '`')
			if k < 0 {
				return -1
			}
			j += k + 2
		case '}':
			if strings.HasPrefix(src[j:], "}}") {
				return j + 2
			}
			j++
		default:
			j++
		}
	}
	return -1
}

// scan splits a template into a flat list of items.
func scan(src string) ([]item, error) {
	var items []item
	i := 0
	text := func(end int) {
		if end > i {
			items = append(items, item{&Text{Start: i, End: end, S: src[i:end]}})
		}
	}
	for {
		j := indexTagStart(src, i)
		if j < 0 {
			text(len(src))
			return items, nil
		}
		text(j)
		switch src[j+1] {
		case '{':
			if end := goActionEnd(src, j); end > 0 && isGoAction(src[j+2:end-2]) {
				items = append(items, item{&GoAction{Start: j, End: end}})
				i = end
				continue
			}
			o := &Output{Tag: Tag{Start: j}}
			p := j + 2
			if p < len(src) && (src[p] == '-' || src[p] == '+') {
				o.LTrim = src[p]
				p++
			}
			toks, endAt, err := lexExpr(src, p, "}}")
			if err != nil {
				return nil, err
			}
			if src[endAt] == '-' || src[endAt] == '+' {
				o.RTrim = src[endAt]
				endAt++
			}
			o.End = endAt + 2
			ep := &exprParser{toks: toks}
			o.X, o.Err = ep.expression()
			if o.Err == nil && ep.peek().kind != tEOF {
				o.Err = ep.fail(ep.peek(), "unexpected %v", ep.peek())
			}
			items = append(items, item{o})
			i = o.End
		case '#':
			c := &Comment{Tag: Tag{Start: j}}
			p := j + 2
			if p < len(src) && (src[p] == '-' || src[p] == '+') {
				c.LTrim = src[p]
				p++
			}
			k := strings.Index(src[p:], "#}")
			if k < 0 {
				return nil, &SyntaxError{Pos: j, Msg: "unclosed comment: no \"#}\""}
			}
			body := src[p : p+k]
			if strings.HasSuffix(body, "-") || strings.HasSuffix(body, "+") {
				c.RTrim = body[len(body)-1]
				body = body[:len(body)-1]
			}
			c.S = body
			c.End = p + k + 2
			items = append(items, item{c})
			i = c.End
		case '%':
			t, err := lexTag(src, j)
			if err != nil {
				return nil, err
			}
			i = t.End
			if t.Name != "raw" {
				items = append(items, item{t})
				continue
			}
			r := &Raw{Tag: *t}
			end := findEndraw(src, t.End)
			if end == nil {
				return nil, &SyntaxError{Pos: j, Msg: "raw block without endraw"}
			}
			r.EndTag = *end
			r.S = src[t.End:end.Start]
			if t.RTrim == '-' {
				r.S = strings.TrimLeft(r.S, " \t\r\n")
			}
			if end.LTrim == '-' {
				r.S = strings.TrimRight(r.S, " \t\r\n")
			}
			items = append(items, item{r})
			i = end.End
		}
	}
}

// indexTagStart finds the next "{{", "{%" or "{#" at or after i.
func indexTagStart(src string, i int) int {
	for {
		k := strings.IndexByte(src[i:], '{')
		if k < 0 || i+k+1 >= len(src) {
			return -1
		}
		j := i + k
		switch src[j+1] {
		case '{', '%', '#':
			return j
		}
		i = j + 1
	}
}

// lexTag reads the statement tag at src[j] ("{%").
func lexTag(src string, j int) (*Tag, error) {
	t := &Tag{Start: j}
	p := j + 2
	if p < len(src) && (src[p] == '-' || src[p] == '+') {
		t.LTrim = src[p]
		p++
	}
	toks, endAt, err := lexExpr(src, p, "%}")
	if err != nil {
		return nil, err
	}
	if src[endAt] == '-' || src[endAt] == '+' {
		t.RTrim = src[endAt]
		endAt++
	}
	t.End = endAt + 2
	if len(toks) == 0 || toks[0].kind != tName {
		return nil, &SyntaxError{Pos: j, Msg: "statement tag without a name"}
	}
	t.Name = toks[0].s
	t.toks = toks[1:]
	return t, nil
}

// findEndraw finds the {% endraw %} tag after i.
func findEndraw(src string, i int) *Tag {
	for {
		k := strings.Index(src[i:], "{%")
		if k < 0 {
			return nil
		}
		j := i + k
		p := j + 2
		if p < len(src) && (src[p] == '-' || src[p] == '+') {
			p++
		}
		rest := strings.TrimLeft(src[p:], " \t\r\n")
		if strings.HasPrefix(rest, "endraw") {
			if t, err := lexTag(src, j); err == nil && t.Name == "endraw" {
				return t
			}
		}
		i = j + 2
	}
}

// tmplParser builds the statement tree from the flat items.
type tmplParser struct {
	items []item
	i     int
}

// blockEnds are the statements with a body, by their end tag.
var blockEnds = map[string]string{
	"if": "endif", "for": "endfor", "macro": "endmacro", "block": "endblock", "call": "endcall",
	"filter": "endfilter", "with": "endwith", "autoescape": "endautoescape", "trans": "endtrans",
}

// body parses nodes until one of the stop tags; it returns the stop tag
// (nil at the end of the input).
func (p *tmplParser) body(stop ...string) ([]Node, *Tag, error) {
	var nodes []Node
	for p.i < len(p.items) {
		it := p.items[p.i]
		p.i++
		t, ok := it.node.(*Tag)
		if !ok {
			nodes = append(nodes, it.node)
			continue
		}
		for _, s := range stop {
			if t.Name == s {
				return nodes, t, nil
			}
		}
		n, err := p.statement(t)
		if err != nil {
			return nil, nil, err
		}
		nodes = append(nodes, n)
	}
	if len(stop) > 0 {
		return nil, nil, fmt.Errorf("missing {%% %s %%}", stop[len(stop)-1])
	}
	return nodes, nil, nil
}

func tagParser(t *Tag) *exprParser { return &exprParser{toks: t.toks} }

// expectEnd checks that the tag's parser consumed all tokens.
func expectEnd(p *exprParser, err error) error {
	if err != nil {
		return err
	}
	if t := p.peek(); t.kind != tEOF {
		return p.fail(t, "unexpected %v", t)
	}
	return nil
}

func (p *tmplParser) statement(t *Tag) (Node, error) {
	switch t.Name {
	case "if":
		n := &If{}
		tag := *t
		for {
			ep := tagParser(&tag)
			cond, err := ep.expression()
			err = expectEnd(ep, err)
			body, end, perr := p.body("elif", "else", "endif")
			if perr != nil {
				return nil, wrapAt(t, perr)
			}
			n.Branches = append(n.Branches, Branch{Tag: tag, Cond: cond, Err: err, Body: body})
			switch end.Name {
			case "elif":
				tag = *end
				continue
			case "else":
				n.ElseTag = end
				if n.Else, end, perr = p.body("endif"); perr != nil {
					return nil, wrapAt(t, perr)
				}
			}
			n.EndTag = *end
			return n, nil
		}
	case "for":
		n := &For{Tag: *t}
		ep := tagParser(t)
		n.Targets, n.Err = targets(ep)
		if n.Err == nil && !ep.skipName("in") {
			n.Err = ep.fail(ep.peek(), "expected \"in\"")
		}
		if n.Err == nil {
			n.Iter, n.Err = ep.condexpr(false)
		}
		if n.Err == nil && ep.skipName("if") {
			n.Filter, n.Err = ep.expression()
		}
		if n.Err == nil && ep.skipName("recursive") {
			n.Recursive = true
		}
		if n.Err == nil {
			n.Err = expectEnd(ep, nil)
		}
		body, end, err := p.body("else", "endfor")
		if err != nil {
			return nil, wrapAt(t, err)
		}
		n.Body = body
		if end.Name == "else" {
			n.ElseTag = end
			if n.Else, end, err = p.body("endfor"); err != nil {
				return nil, wrapAt(t, err)
			}
		}
		n.EndTag = *end
		return n, nil
	case "set":
		n := &Set{Tag: *t}
		ep := tagParser(t)
		n.Targets, n.Err = targets(ep)
		if n.Err != nil {
			return n, nil
		}
		if len(n.Targets) == 1 && ep.skipOp(".") {
			var attr token
			if attr, n.Err = ep.expectName(); n.Err != nil {
				return n, nil
			}
			n.Attr = attr.s
			if !ep.skipOp("=") {
				n.Err = ep.fail(ep.peek(), "expected \"=\"")
				return n, nil
			}
			n.X, n.Err = ep.expression()
			n.Err = expectEnd(ep, n.Err)
			return n, nil
		}
		if ep.skipOp("=") {
			n.X, n.Err = ep.expression()
			n.Err = expectEnd(ep, n.Err)
			return n, nil
		}
		// Block set, with optional filters.
		if len(n.Targets) != 1 {
			n.Err = ep.fail(ep.peek(), "block set takes one name")
		}
		if n.Err == nil {
			var x Expr
			x, n.Err = ep.filterExpr(nil)
			for f, ok := x.(*Filter); ok; f, ok = f.X.(*Filter) {
				n.Filters = append([]Expr{f}, n.Filters...)
			}
			n.Err = expectEnd(ep, n.Err)
		}
		body, end, err := p.body("endset")
		if err != nil {
			return nil, wrapAt(t, err)
		}
		n.Body, n.EndTag = body, end
		return n, nil
	case "include":
		n := &Include{Tag: *t}
		ep := tagParser(t)
		n.X, n.Err = ep.expression()
		if n.Err == nil && ep.isName("ignore") {
			ep.next()
			if !ep.skipName("missing") {
				n.Err = ep.fail(ep.peek(), "expected \"missing\"")
			}
			n.IgnoreMissing = true
		}
		if n.Err == nil && (ep.isName("with") || ep.isName("without")) {
			w := ep.next().s
			if !ep.skipName("context") {
				n.Err = ep.fail(ep.peek(), "expected \"context\"")
			} else if w == "without" {
				n.Err = ep.fail(ep.peek(), "include without context is not supported")
			}
		}
		if n.Err == nil {
			n.Err = expectEnd(ep, nil)
		}
		return n, nil
	case "macro":
		n := &Macro{Tag: *t}
		ep := tagParser(t)
		var name token
		if name, n.Err = ep.expectName(); n.Err == nil {
			n.Name = name.s
			n.Err = ep.expectOp("(")
		}
		for n.Err == nil && !ep.skipOp(")") {
			if len(n.Params) > 0 {
				if n.Err = ep.expectOp(","); n.Err != nil {
					break
				}
			}
			var pn token
			if pn, n.Err = ep.expectName(); n.Err != nil {
				break
			}
			var def Expr
			if ep.skipOp("=") {
				def, n.Err = ep.expression()
			}
			n.Params, n.Defaults = append(n.Params, pn.s), append(n.Defaults, def)
		}
		if n.Err == nil {
			n.Err = expectEnd(ep, nil)
		}
		body, end, err := p.body("endmacro")
		if err != nil {
			return nil, wrapAt(t, err)
		}
		n.Body, n.EndTag = body, *end
		return n, nil
	case "block":
		n := &Block{Tag: *t}
		body, end, err := p.body("endblock")
		if err != nil {
			return nil, wrapAt(t, err)
		}
		n.Body, n.EndTag = body, *end
		return n, nil
	}
	u := &Unsupported{Tag: *t, Reason: fmt.Sprintf("the %q statement has no Go template equivalent", t.Name)}
	if end, ok := blockEnds[t.Name]; ok {
		_, e, err := p.body(end)
		if err != nil {
			return nil, wrapAt(t, err)
		}
		u.EndTag = e
	}
	if strings.HasPrefix(t.Name, "end") || t.Name == "else" || t.Name == "elif" {
		u.Reason = fmt.Sprintf("{%% %s %%} without its opening statement", t.Name)
	}
	return u, nil
}

func wrapAt(t *Tag, err error) error {
	var se *SyntaxError
	if errorsAs(err, &se) {
		return err
	}
	return &SyntaxError{Pos: t.Start, Msg: fmt.Sprintf("{%% %s %%}: %v", t.Name, err)}
}

func errorsAs(err error, se **SyntaxError) bool {
	s, ok := err.(*SyntaxError)
	if ok {
		*se = s
	}
	return ok
}

// targets parses assignment targets: a, or a, b, or (a, b).
func targets(p *exprParser) ([]string, error) {
	paren := p.skipOp("(")
	var names []string
	for {
		t, err := p.expectName()
		if err != nil {
			return nil, err
		}
		names = append(names, t.s)
		if !p.skipOp(",") {
			break
		}
	}
	if paren {
		if err := p.expectOp(")"); err != nil {
			return nil, err
		}
	}
	return names, nil
}

// Parse parses a Jinja template into its nodes.
func Parse(src string) ([]Node, error) {
	items, err := scan(src)
	if err != nil {
		return nil, err
	}
	p := &tmplParser{items: items}
	nodes, _, err := p.body()
	return nodes, err
}
