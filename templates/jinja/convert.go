package jinja

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/template/parse"
	"unicode/utf8"
)

// Problem is one construct the converter left for a human.
type Problem struct {
	Line, Col int    // 1-based position in src
	Text      string // the Jinja source of the construct
	Reason    string // why it was not converted
}

// ConvertTemplate converts template text (a YAML string value or a whole
// *.j2 file) from Jinja2 to a Go template. Text with no Jinja is returned
// unchanged; text that is already a valid Go template for our engine is
// returned unchanged (converting twice changes nothing).
//
// A construct that cannot be converted stays in the output as it was
// written and is reported as a Problem; so does every statement inside
// it, which is never left silently.
//
// src is read as a YAML string value: Ansible keeps the backslashes of
// string literals inside {{ }} as written there ('\d' is a regular
// expression's \d). Use ConvertFile for a template file.
func ConvertTemplate(src string) (string, []Problem) { return convert(src, true) }

// ConvertFile converts a whole template file (*.j2) as ConvertTemplate
// does, with Jinja's own reading of backslashes in string literals, as
// Ansible's template module renders files.
func ConvertFile(src string) (string, []Problem) { return convert(src, false) }

func convert(src string, yamlValue bool) (string, []Problem) {
	orig := src
	if !yamlValue {
		var problems []Problem
		if src, problems = applyOverrides(src); len(problems) > 0 {
			return orig, problems
		}
		if src != orig {
			// Positions are reported in the file as it was read.
			out, problems := convert(src, yamlValue)
			for i := range problems {
				problems[i].Line++
			}
			return out, problems
		}
	}
	if indexTagStart(src, 0) < 0 {
		return src, nil
	}
	if !yamlValue {
		// What an earlier run left in a file is converted again.
		src = unfailLeft(src)
	}
	nodes, err := Parse(src)
	if err != nil {
		return src, []Problem{syntaxProblem(src, err)}
	}
	c := &converter{src: src, yamlValue: yamlValue}
	if len(nodes) == 1 {
		if o, ok := nodes[0].(*Output); ok {
			c.typed = o
		}
	}
	c.collectMacros(nodes)
	c.pushScope()
	c.nodes(nodes)
	c.pieces = append(c.hoisted(), c.pieces...)
	out := c.render()
	if out != src || len(c.problems) > 0 && !yamlValue {
		_, err := parse.Parse("t", out, "{{", "}}", goFuncs, goBuiltins)
		if err != nil && !yamlValue && c.failLeft() {
			// In a file, what is left as written becomes an action that
			// fails the render there, holding the Jinja text, so that the
			// rest of the file is converted and loads.
			out = c.render()
			_, err = parse.Parse("t", out, "{{", "}}", goFuncs, goBuiltins)
		}
		if err != nil {
			// Go actions kept as written that do not fit where they are.
			line := src
			if i := strings.IndexByte(line, '\n'); i >= 0 {
				line = line[:i]
			}
			return orig, append(c.problems, Problem{Line: 1, Col: 1, Text: line, Reason: "the converted template does not parse: " + err.Error()})
		}
	}
	return out, c.problems
}

// ConvertExpr converts a bare Jinja expression, as written in when:,
// failed_when:, changed_when:, until: and assert's that: (it may also be
// wrapped in {{ }}), into a bare Go template pipeline (no braces) whose
// value is a boolean when the expression is used as a condition.
// Idempotent: a Go pipeline is returned unchanged.
func ConvertExpr(src string) (string, []Problem) {
	s := strings.TrimSpace(src)
	if s == "" || IsGoExpr(s) {
		return src, nil
	}
	inner, off := s, strings.Index(src, s)
	if strings.HasPrefix(s, "{{") && strings.HasSuffix(s, "}}") && strings.Count(s, "{{") == 1 {
		inner = strings.TrimSuffix(strings.TrimPrefix(s, "{{"), "}}")
		off += 2
		if strings.HasPrefix(inner, "-") {
			inner, off = inner[1:], off+1
		}
		inner = strings.TrimSuffix(inner, "-")
		if IsGoExpr(inner) {
			return strings.TrimSpace(inner), nil
		}
	}
	if strings.Contains(inner, "{{") {
		// "not {{ x }}": Ansible renders the condition first, then
		// evaluates the text; each {{ e }} becomes (e).
		if e, ok := embeddedExpr(inner); ok {
			inner, off = e, strings.Index(src, s)
		}
	}
	// Positions are reported in src: pad the parsed text to its offset.
	padded := strings.Repeat(" ", off) + inner
	x, err := ParseExpr(padded)
	if err != nil {
		return src, []Problem{syntaxProblem(src, err)}
	}
	c := &converter{src: src, condition: true}
	g, err := c.expr(x)
	if err != nil {
		return src, []Problem{c.problemAt(err, strings.Index(src, s), s)}
	}
	if g.typ != tyBool {
		g = call("truthy", g)
	}
	if strings.Contains(g.s, "{{") {
		return src, []Problem{{Line: 1, Col: 1, Text: s, Reason: "a condition cannot contain {{ (in a string literal here)"}}
	}
	if _, err := parse.Parse("t", "{{"+g.s+"}}", "{{", "}}", goFuncs, goBuiltins); err != nil {
		return src, []Problem{{Line: 1, Col: 1, Text: s, Reason: "the converted expression does not parse: " + err.Error()}}
	}
	return g.s, nil
}

func syntaxProblem(src string, err error) Problem {
	pos := 0
	var se *SyntaxError
	if errors.As(err, &se) {
		pos = se.Pos
	}
	line, col := lineCol(src, pos)
	end := strings.IndexByte(src[min(pos, len(src)):], '\n')
	text := src[min(pos, len(src)):]
	if end >= 0 {
		text = text[:end]
	}
	return Problem{Line: line, Col: col, Text: text, Reason: "Jinja syntax error: " + err.Error()}
}

func lineCol(src string, pos int) (int, int) {
	if pos > len(src) {
		pos = len(src)
	}
	line := 1 + strings.Count(src[:pos], "\n")
	start := strings.LastIndexByte(src[:pos], '\n') + 1
	return line, 1 + utf8.RuneCountInString(src[start:pos])
}

// unsupported is a construct the converter cannot express.
type unsupported struct {
	pos    int
	reason string
}

func (u *unsupported) Error() string { return u.reason }

func fail(pos int, format string, args ...any) error {
	return &unsupported{pos: pos, reason: fmt.Sprintf(format, args...)}
}

// typ is what the converter knows of an expression's type.
type typ uint8

const (
	tyAny typ = iota
	tyBool
	tyStr
	tyNum
	tyList
	tyDict
)

// Precedence of emitted Go text.
const (
	pAtom = iota // literal, variable, field chain, parenthesized
	pCmd         // function call with arguments
	pPipe        // pipeline
)

// gx is emitted Go template text.
type gx struct {
	s     string
	prec  int
	typ   typ
	chain bool // a field chain: (x).a, to which .b may be added
}

// arg is g as an argument of a command.
func (g gx) arg() string {
	if g.prec == pAtom {
		return g.s
	}
	return "(" + g.s + ")"
}

func atom(s string, t typ) gx { return gx{s: s, prec: pAtom, typ: t} }

func call(name string, args ...gx) gx {
	var b strings.Builder
	b.WriteString(name)
	for _, a := range args {
		b.WriteByte(' ')
		b.WriteString(a.arg())
	}
	return gx{s: b.String(), prec: pCmd}
}

func typed(g gx, t typ) gx { g.typ = t; return g }

// pipe is `v | name args...`: name is called with args and then v.
func pipe(v gx, name string, args ...gx) gx {
	c := call(name, args...)
	s := v.s
	if v.prec == pAtom || v.prec == pCmd || v.prec == pPipe {
		s = v.s
	}
	return gx{s: s + " | " + c.s, prec: pPipe}
}

// piece is one part of the converted template.
type piece struct {
	text         string
	kind         uint8 // kText, kAction, kVerbatim, kComment
	ltrim, rtrim bool
	trimBlock    bool // Jinja's trim_blocks removes the newline after this tag
	group        int  // the statement the tag belongs to (0: none)
	left         bool // a construct left as written (leave)
}

const (
	kText = iota
	kAction
	kVerbatim
	kComment
	kTrim // no output: trims the text after it
)

// scope is a Jinja scope: the template, a loop body or a macro body.
type scope struct {
	vars    map[string]string // Jinja name -> Go variable
	hoist   []string          // Go variables set inside an if and used after it
	ifDepth int               // ifs entered in this scope
}

// loopCtx is an enclosing for loop.
type loopCtx struct {
	idx      string // the Go index variable
	seq      gx     // the sequence, as seen inside the loop
	used     bool
	noIndex  bool // a two-variable range over a mapping: no index
	filtered bool
}

type converter struct {
	src        string
	yamlValue  bool    // a YAML value: {{ }} string literals keep their backslashes
	rawStrings bool    // converting a {{ }} of a YAML value
	condition  bool    // a bare condition: Ansible templates it before evaluating it
	typed      *Output // the template is this one output: keep its type
	scopes     []*scope
	inRange    int // inside range or define, where the dot is not the variables
	loops      []*loopCtx
	macros     map[string]*Macro
	problems   []Problem
	pieces     []piece
	taken      map[string]bool // Go variable names in use
	groups     int             // statements numbered so far
}

// problemAt reports the construct text at pos, which err explains.
func (c *converter) problemAt(err error, pos int, text string) Problem {
	reason := err.Error()
	line, col := lineCol(c.src, pos)
	return Problem{Line: line, Col: col, Text: text, Reason: reason}
}

// leave keeps a construct as written and reports it.
func (c *converter) leave(n Node, at int, text string, err error) {
	s, e := n.span()
	c.pieces = append(c.pieces, piece{text: c.src[s:e], kind: kVerbatim, left: true})
	if text == "" {
		text = c.src[s:e]
	}
	p := c.problemAt(err, at, text)
	c.problems = append(c.problems, p)
}

func (c *converter) tagText(t *Tag) string { return c.src[t.Start:t.End] }

func (c *converter) action(inner string, t *Tag, block bool) {
	g := 0
	if block {
		g = c.newGroup()
	}
	c.actionIn(inner, t, g)
	c.pieces[len(c.pieces)-1].trimBlock = block && t.RTrim == 0
}

// newGroup numbers a statement whose tags are emitted together.
func (c *converter) newGroup() int { c.groups++; return c.groups }

// actionIn emits a block tag of statement group.
func (c *converter) actionIn(inner string, t *Tag, group int) {
	c.pieces = append(c.pieces, piece{
		text: inner, kind: kAction, ltrim: t.LTrim == '-', rtrim: t.RTrim == '-',
		trimBlock: t.RTrim == 0, group: group,
	})
}

// trimBefore removes the white space at the end of the text emitted so far.
func (c *converter) trimBefore() {
	if n := len(c.pieces); n > 0 && c.pieces[n-1].kind == kText {
		c.pieces[n-1].text = strings.TrimRight(c.pieces[n-1].text, " \t\r\n")
	}
}

// comment emits a Go comment in place of a tag.
func (c *converter) comment(s string, t *Tag) {
	c.pieces = append(c.pieces, piece{kind: kComment, text: s, ltrim: t.LTrim == '-', rtrim: t.RTrim == '-', trimBlock: t.RTrim == 0, group: c.newGroup()})
}

func (c *converter) text(s string) {
	if s != "" {
		c.pieces = append(c.pieces, piece{text: s, kind: kText})
	}
}

// sub runs f with a fresh piece list and returns what it emitted.
func (c *converter) sub(f func()) []piece {
	saved := c.pieces
	c.pieces = nil
	f()
	out := c.pieces
	c.pieces = saved
	return out
}

func (c *converter) collectMacros(nodes []Node) {
	for _, n := range nodes {
		if m, ok := n.(*Macro); ok && m.Err == nil {
			if c.macros == nil {
				c.macros = map[string]*Macro{}
			}
			c.macros[m.Name] = m
		}
	}
}

func (c *converter) nodes(nodes []Node) {
	for _, n := range nodes {
		c.node(n)
	}
}

func (c *converter) pushScope() { c.scopes = append(c.scopes, &scope{vars: map[string]string{}}) }

func (c *converter) top() *scope { return c.scopes[len(c.scopes)-1] }

// popScope ends a scope; its Go variable names may be used again.
func (c *converter) popScope() {
	for _, v := range c.top().vars {
		delete(c.taken, v)
	}
	c.scopes = c.scopes[:len(c.scopes)-1]
}

// hoisted returns the declarations of the current scope's variables that
// are first set inside an if: in Jinja they outlive the if, in Go a
// variable ends with its block.
func (c *converter) hoisted() []piece {
	var out []piece
	for _, v := range c.top().hoist {
		out = append(out, piece{kind: kAction, text: v + ` := ""`})
	}
	return out
}

func (c *converter) local(name string) (string, bool) {
	for i := len(c.scopes) - 1; i >= 0; i-- {
		if v, ok := c.scopes[i].vars[name]; ok {
			return v, true
		}
	}
	return "", false
}

// goVar returns a fresh Go variable name for a Jinja name.
func (c *converter) goVar(name string) string {
	if c.taken == nil {
		c.taken = map[string]bool{}
	}
	name = strings.ReplaceAll(name, ".", "_")
	v := "$" + name
	for i := 1; c.taken[v]; i++ {
		v = "$" + name + strconv.Itoa(i)
	}
	c.taken[v] = true
	return v
}

func (c *converter) declare(name, goExpr string) { c.top().vars[name] = goExpr }

func (c *converter) node(n Node) {
	switch x := n.(type) {
	case *Text:
		c.text(x.S)
	case *GoAction:
		c.pieces = append(c.pieces, piece{text: c.src[x.Start:x.End], kind: kVerbatim})
	case *Comment:
		if strings.Contains(x.S, "*/") {
			// A Go comment cannot hold "*/": drop the comment.
			if x.LTrim == '-' {
				c.trimBefore()
			}
			c.pieces = append(c.pieces, piece{kind: kTrim, rtrim: x.RTrim == '-', trimBlock: x.RTrim == 0})
			return
		}
		c.pieces = append(c.pieces, piece{kind: kComment, text: x.S, ltrim: x.LTrim == '-', rtrim: x.RTrim == '-', trimBlock: x.RTrim == 0, group: c.newGroup()})
	case *Raw:
		if x.LTrim == '-' {
			c.trimBefore()
		}
		switch s := x.S; {
		case !strings.Contains(s, "{{"):
			c.text(s)
		case !strings.Contains(s, "`"):
			c.pieces = append(c.pieces, piece{kind: kAction, text: "`" + s + "`"})
		default:
			c.pieces = append(c.pieces, piece{kind: kAction, text: strconv.Quote(s)})
		}
		c.pieces = append(c.pieces, piece{kind: kTrim, rtrim: x.EndTag.RTrim == '-', trimBlock: x.EndTag.RTrim == 0})
	case *Output:
		c.output(x)
	case *If:
		c.ifNode(x)
	case *For:
		c.forNode(x)
	case *Set:
		c.set(x)
	case *Include:
		c.include(x)
	case *Macro:
		c.macro(x)
	case *Block:
		c.comment(" block "+strings.TrimSpace(tokText(x.toks))+" ", &x.Tag)
		c.nodes(x.Body)
		c.comment(" endblock ", &x.EndTag)
	case *Unsupported:
		c.leave(x, x.Start, c.tagText(&x.Tag), errors.New(x.Reason))
	case *Tag:
		c.leave(x, x.Start, "", fmt.Errorf("unexpected {%% %s %%}", x.Name))
	}
}

func tokText(toks []token) string {
	var parts []string
	for _, t := range toks {
		if t.kind != tEOF {
			parts = append(parts, t.s)
		}
	}
	return strings.Join(parts, " ")
}

func (c *converter) output(o *Output) {
	c.rawStrings = c.yamlValue
	defer func() { c.rawStrings = false }()
	text := c.src[o.Start:o.End]
	if o.Err != nil {
		c.leave(o, o.Start, text, fmt.Errorf("Jinja syntax error: %w", o.Err))
		return
	}
	// A macro call: {{ name(args) }}.
	if cl, ok := o.X.(*Call); ok {
		if n, ok := cl.Fn.(*Name); ok && c.macros[n.Name] != nil {
			if _, isLocal := c.local(n.Name); !isLocal {
				s, err := c.macroCall(c.macros[n.Name], cl)
				if err != nil {
					c.leave(o, o.Start, text, err)
					return
				}
				c.action(s, &o.Tag, false)
				return
			}
		}
	}
	// An inline if in running text: a Go if, which evaluates only the
	// branch taken, as Jinja does.
	if cond, ok := o.X.(*Cond); ok && c.typed != o {
		t, err1 := c.cond(cond.Test)
		a, err2 := c.expr(cond.Then)
		var b gx
		var err3 error
		if cond.Else != nil {
			b, err3 = c.expr(cond.Else)
		}
		if err := errors.Join(err1, err2, err3); err != nil {
			c.leave(o, o.Start, text, firstErr(err1, err2, err3))
			return
		}
		c.pieces = append(c.pieces, piece{kind: kAction, text: "if " + t.s, ltrim: o.LTrim == '-'})
		c.branch(cond.Then, a)
		if cond.Else != nil && !isEmptyString(cond.Else) {
			c.pieces = append(c.pieces, piece{kind: kAction, text: "else"})
			c.branch(cond.Else, b)
		}
		c.pieces = append(c.pieces, piece{kind: kAction, text: "end", rtrim: o.RTrim == '-'})
		return
	}
	g, err := c.expr(o.X)
	if err != nil {
		c.leave(o, o.Start, text, err)
		return
	}
	c.action(g.s, &o.Tag, false)
}

// branch emits one branch of an inline if: a string literal as text.
func (c *converter) branch(x Expr, g gx) {
	if k, ok := x.(*Const); ok {
		if s, ok := k.Val.(string); ok && !strings.Contains(s, "{{") && g.s == constant(k).s {
			c.text(s)
			return
		}
	}
	c.pieces = append(c.pieces, piece{kind: kAction, text: g.s})
}

func isEmptyString(x Expr) bool {
	k, ok := x.(*Const)
	return ok && k.Val == ""
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// cond converts a condition of an if: Go's truth is Python's.
func (c *converter) cond(x Expr) (gx, error) { return c.expr(x) }

func (c *converter) ifNode(n *If) {
	var conds []gx
	for _, b := range n.Branches {
		if b.Err != nil {
			c.leave(n, b.Tag.Start, c.tagText(&b.Tag), fmt.Errorf("Jinja syntax error: %w", b.Err))
			return
		}
		g, err := c.cond(b.Cond)
		if err != nil {
			c.leave(n, b.Tag.Start, c.tagText(&b.Tag), err)
			return
		}
		conds = append(conds, g)
	}
	c.top().ifDepth++
	defer func() { c.top().ifDepth-- }()
	g := c.newGroup()
	for i, b := range n.Branches {
		word := "if "
		if i > 0 {
			word = "else if "
		}
		c.actionIn(word+conds[i].s, &b.Tag, g)
		c.nodes(b.Body)
	}
	if n.ElseTag != nil {
		c.actionIn("else", n.ElseTag, g)
		c.nodes(n.Else)
	}
	c.actionIn("end", &n.EndTag, g)
}

// loopAttr converts loop.NAME.
func (c *converter) loopAttr(pos int, name string) (gx, error) {
	l := c.loops[len(c.loops)-1]
	if l.noIndex {
		return gx{}, fail(pos, "loop.%s in a loop over key, value pairs is not supported", name)
	}
	if l.filtered {
		return gx{}, fail(pos, "loop.%s in a loop with an if filter is not supported", name)
	}
	l.used = true
	i := atom(l.idx, tyNum)
	n := call("len", l.seq)
	switch name {
	case "index0":
		return i, nil
	case "index":
		return call("add1", i), nil
	case "first":
		return typed(call("eq", i, atom("0", tyNum)), tyBool), nil
	case "last":
		return typed(call("eq", call("add1", i), n), tyBool), nil
	case "length":
		return n, nil
	case "revindex":
		return call("sub", n, i), nil
	case "revindex0":
		return call("sub", n, call("add1", i)), nil
	}
	return gx{}, fail(pos, "loop.%s is not supported", name)
}

func (c *converter) forNode(n *For) {
	text := c.tagText(&n.Tag)
	if n.Err != nil {
		c.leave(n, n.Start, text, fmt.Errorf("Jinja syntax error: %w", n.Err))
		return
	}
	if n.Recursive {
		c.leave(n, n.Start, text, fail(n.Start, "recursive loops are not supported"))
		return
	}
	iter := n.Iter
	pairs := false
	if len(n.Targets) == 2 {
		// d.items(), d.items() | sort, d | dictsort: key, value by sorted key,
		// as Go ranges over a mapping.
		x := iter
		if f, ok := x.(*Filter); ok && (f.Name == "sort" || f.Name == "list") && len(f.Args) == 0 && len(f.Kwargs) == 0 {
			x = f.X
		}
		if cl, ok := x.(*Call); ok && len(cl.Args) == 0 && len(cl.Kwargs) == 0 {
			if ga, ok := cl.Fn.(*Getattr); ok && ga.Attr == "items" {
				iter, pairs = ga.X, true
			}
		}
		if f, ok := x.(*Filter); ok && f.Name == "dictsort" && len(f.Args) == 0 && len(f.Kwargs) == 0 {
			iter, pairs = f.X, true
		}
	}
	// With loop.* or an if filter, a loop over pairs ranges over the keys
	// with an index, and the value is looked up.
	keyed := pairs && (usesLoop(n.Body) || n.Filter != nil)
	// {% for a, b in pairs %}: each item is unpacked by position.
	unpack := len(n.Targets) > 2 || len(n.Targets) == 2 && !pairs
	seq, err := c.expr(iter)
	if err != nil {
		c.leave(n, n.Start, text, err)
		return
	}
	// {% for k in d %}...{{ d[k] }}: a loop over a mapping's keys, which
	// Go's range would give the values of.
	keysOf := !pairs && len(n.Targets) == 1 && seq.typ != tyList && exprKey(iter) != "" &&
		subscriptsBy(append(append([]Node{}, n.Body...), n.Else...), exprKey(iter), n.Targets[0])
	if keysOf || keyed {
		seq = typed(pipe(seq, "to_list"), tyList)
	}
	var header string
	var body, els []piece
	var bodyErr error
	// {% for x in l if c %}...{% else %}: the else is for no item passing
	// the filter, which a flag set in the filtered body tells.
	matched := ""
	if n.Filter != nil && n.ElseTag != nil {
		matched = c.goVar("matched")
		c.declare(" matched "+matched, matched)
	}
	func() {
		c.inRange++
		defer func() { c.inRange-- }()
		inner, _ := c.expr(iter) // the same expression, seen from inside the range
		l := &loopCtx{seq: inner, noIndex: pairs && !keyed, filtered: n.Filter != nil}
		c.pushScope()
		defer c.popScope()
		var v1, v2 string
		switch {
		case keyed:
			l.idx = c.goVar("i")
			c.declare(" index", l.idx)
			v2 = c.goVar(n.Targets[0])
			c.declare(n.Targets[0], v2)
			c.declare(n.Targets[1], "("+index(inner, atom(v2, tyStr)).s+")")
		case pairs:
			v1 = c.goVar(n.Targets[0])
			c.declare(n.Targets[0], v1)
			if len(n.Targets) == 2 {
				v2 = c.goVar(n.Targets[1])
				c.declare(n.Targets[1], v2)
			} else {
				v2 = "$_"
			}
		case unpack:
			l.idx = c.goVar("i")
			c.declare(" index", l.idx)
			v2 = c.goVar("item")
			c.declare(" item", v2)
			for i, t := range n.Targets {
				c.declare(t, "(index "+v2+" "+strconv.Itoa(i)+")")
			}
			if f, ok := iter.(*Filter); ok && shortName(f.Name, ansibleFilters) == "groupby" && len(n.Targets) == 2 {
				// groupby's groups are read by name: grouper, list.
				c.declare(n.Targets[0], v2+".grouper")
				c.declare(n.Targets[1], v2+".list")
			}
		default:
			l.idx = c.goVar("i")
			c.declare(" index", l.idx)
			v2 = c.goVar(n.Targets[0])
			c.declare(n.Targets[0], v2)
		}
		c.loops = append(c.loops, l)
		defer func() { c.loops = c.loops[:len(c.loops)-1] }()
		var filter gx
		if n.Filter != nil {
			if filter, bodyErr = c.cond(n.Filter); bodyErr != nil {
				return
			}
		}
		body = c.sub(func() { c.nodes(n.Body) })
		body = append(c.hoisted(), body...)
		switch {
		case pairs && !keyed:
			header = "range " + v1 + ", " + v2 + " := " + seq.s
		case l.used:
			header = "range " + l.idx + ", " + v2 + " := " + seq.s
		default:
			header = "range " + v2 + " := " + seq.s
		}
		if n.Filter != nil {
			start := []piece{{kind: kAction, text: "if " + filter.s}}
			if matched != "" {
				start = append(start, piece{kind: kAction, text: matched + " = true"})
			}
			body = append(start, append(body, piece{kind: kAction, text: "end"})...)
		}
		if matched != "" {
			header = matched + " := false }}{{ " + header
		}
	}()
	if bodyErr != nil {
		c.leave(n, n.Start, text, bodyErr)
		return
	}
	if n.ElseTag != nil {
		els = c.sub(func() { c.nodes(n.Else) })
	}
	g := c.newGroup()
	c.actionIn(header, &n.Tag, g)
	c.pieces = append(c.pieces, body...)
	if n.ElseTag != nil {
		if matched != "" {
			c.actionIn("end }}{{ if not "+matched, n.ElseTag, g)
		} else {
			c.actionIn("else", n.ElseTag, g)
		}
		c.pieces = append(c.pieces, els...)
	}
	c.actionIn("end", &n.EndTag, g)
}

func (c *converter) set(n *Set) {
	text := c.tagText(&n.Tag)
	if n.Err != nil {
		c.leave(n, n.Start, text, fmt.Errorf("Jinja syntax error: %w", n.Err))
		return
	}
	if n.Attr != "" || len(n.Targets) != 1 || isNamespace(n.X) {
		c.setSpecial(n, text)
		return
	}
	name := n.Targets[0]
	var g gx
	if n.X != nil {
		var err error
		if g, err = c.expr(n.X); err != nil {
			c.leave(n, n.Start, text, err)
			return
		}
	} else {
		// Block set: the body's text, built with print.
		var parts []gx
		for _, b := range n.Body {
			switch x := b.(type) {
			case *Text:
				parts = append(parts, atom(goString(x.S), tyStr))
			case *Output:
				if x.Err != nil || x.LTrim == '-' || x.RTrim == '-' {
					c.leave(n, n.Start, text, fail(x.Start, "block set with whitespace control or a syntax error is not supported"))
					return
				}
				v, err := c.expr(x.X)
				if err != nil {
					c.leave(n, n.Start, text, err)
					return
				}
				parts = append(parts, strArg(v))
			default:
				c.leave(n, n.Start, text, fail(n.Start, "block set with statements inside is not supported"))
				return
			}
		}
		switch len(parts) {
		case 0:
			g = atom(`""`, tyStr)
		case 1:
			g = parts[0]
		default:
			g = typed(call("print", parts...), tyStr)
		}
		for _, f := range n.Filters {
			ff := *f.(*Filter)
			var err error
			if g, err = c.filter(&ff, g); err != nil {
				c.leave(n, n.Start, text, err)
				return
			}
		}
	}
	c.assign(name, g, n.LTrim == '-')
	end := &n.Tag
	if n.EndTag != nil {
		end = n.EndTag
	}
	c.endSet(end)
}

// endSet gives the last piece emitted the trimming of a set's end tag.
func (c *converter) endSet(end *Tag) {
	last := &c.pieces[len(c.pieces)-1]
	last.rtrim, last.trimBlock, last.group = end.RTrim == '-', end.RTrim == 0, c.newGroup()
}

// assign emits the Go assignment of g to the Jinja variable name of the
// current scope: a declaration the first time, an assignment after that,
// and a hoisted declaration when it is first set inside an if.
func (c *converter) assign(name string, g gx, ltrim bool) {
	switch v, ok := c.top().vars[name]; {
	case ok && strings.HasPrefix(v, "$"):
		c.pieces = append(c.pieces, piece{kind: kAction, text: v + " = " + g.s, ltrim: ltrim})
	case c.top().ifDepth > 0:
		v := c.goVar(name)
		c.declare(name, v)
		c.top().hoist = append(c.top().hoist, v)
		c.pieces = append(c.pieces, piece{kind: kAction, text: v + " = " + g.s, ltrim: ltrim})
	default:
		v := c.goVar(name)
		c.declare(name, v)
		c.pieces = append(c.pieces, piece{kind: kAction, text: v + " := " + g.s, ltrim: ltrim})
	}
}

// scopeOf returns the scope in which name is a namespace, or nil.
func (c *converter) scopeOf(name string) *scope {
	for i := len(c.scopes) - 1; i >= 0; i-- {
		if v, ok := c.scopes[i].vars[name]; ok {
			if v == nsMarker {
				return c.scopes[i]
			}
			return nil
		}
	}
	return nil
}

// nsMarker is what a namespace's own name stands for in a scope: each
// attribute is a Go variable of its own, declared as "ns.attr".
const nsMarker = "namespace()"

// isNamespace reports whether x is a call of namespace(...).
func isNamespace(x Expr) bool {
	cl, ok := x.(*Call)
	if !ok {
		return false
	}
	n, ok := cl.Fn.(*Name)
	return ok && n.Name == "namespace"
}

// setSpecial converts the assignments that are not one name = value:
//
//   - {% set ns = namespace(a=1) %}: each attribute becomes a Go variable
//     ($ns_a), which a Go assignment inside a range changes for the code
//     after the loop too, as a namespace's attributes do in Jinja;
//   - {% set ns.a = x %}: an assignment of that variable;
//   - {% set a, b = x %}: x into a temporary, then a and b from it by
//     position.
func (c *converter) setSpecial(n *Set, text string) {
	ltrim := n.LTrim == '-'
	if n.X == nil {
		c.leave(n, n.Start, text, fail(n.Start, "block set of several names or an attribute is not supported"))
		return
	}
	switch {
	case n.Attr != "":
		name := n.Targets[0] + "." + n.Attr
		g, err := c.expr(n.X)
		if err != nil {
			c.leave(n, n.Start, text, err)
			return
		}
		v, ok := c.local(name)
		if !ok {
			// An attribute the namespace gains here: a variable of the
			// namespace's scope, declared at its start.
			sc := c.scopeOf(n.Targets[0])
			if sc == nil {
				c.leave(n, n.Start, text, fail(n.Start, "%s is not a namespace", n.Targets[0]))
				return
			}
			v = c.goVar(name)
			sc.vars[name] = v
			sc.hoist = append(sc.hoist, v)
		}
		c.pieces = append(c.pieces, piece{kind: kAction, text: v + " = " + g.s, ltrim: ltrim})
	case isNamespace(n.X):
		cl := n.X.(*Call)
		if len(n.Targets) != 1 || len(cl.Args) > 0 {
			c.leave(n, n.Start, text, fail(n.Start, "only namespace(name=value, ...) assigned to one name is supported"))
			return
		}
		gs := make([]gx, len(cl.Kwargs))
		for i, kw := range cl.Kwargs {
			g, err := c.expr(kw.Value)
			if err != nil {
				c.leave(n, n.Start, text, err)
				return
			}
			gs[i] = g
		}
		c.top().vars[n.Targets[0]] = nsMarker
		for i, kw := range cl.Kwargs {
			c.assign(n.Targets[0]+"."+kw.Name, gs[i], ltrim && i == 0)
		}
		if len(cl.Kwargs) == 0 {
			// namespace(): its attributes come with their first set.
			c.pieces = append(c.pieces, piece{kind: kTrim, ltrim: ltrim})
			if ltrim {
				c.trimBefore()
			}
		}
	default:
		g, err := c.expr(n.X)
		if err != nil {
			c.leave(n, n.Start, text, err)
			return
		}
		tmp := c.goVar("t")
		c.declare(" tuple "+tmp, tmp)
		c.pieces = append(c.pieces, piece{kind: kAction, text: tmp + " := " + g.s, ltrim: ltrim})
		for i, name := range n.Targets {
			c.assign(name, atom("index "+tmp+" "+strconv.Itoa(i), tyAny), false)
		}
	}
	c.endSet(&n.Tag)
	if last := &c.pieces[len(c.pieces)-1]; last.kind == kTrim {
		last.group = 0 // no text of its own to move a newline across
	}
}

// strArg is v as text, as Jinja's ~ and {{ }} inside a block set make it.
func strArg(v gx) gx {
	if v.typ == tyStr {
		return v
	}
	return typed(call("string", v), tyStr)
}

func (c *converter) include(n *Include) {
	text := c.tagText(&n.Tag)
	if n.Err != nil {
		c.leave(n, n.Start, text, fmt.Errorf("Jinja syntax error: %w", n.Err))
		return
	}
	if len(c.loops) > 0 {
		c.leave(n, n.Start, text, fail(n.Start, "include inside a loop or macro: the included template would not see the loop's variables"))
		return
	}
	if n.IgnoreMissing {
		c.leave(n, n.Start, text, fail(n.Start, "include ignore missing is not supported"))
		return
	}
	g, err := c.expr(n.X)
	if err != nil {
		c.leave(n, n.Start, text, err)
		return
	}
	c.action(call("lookup", atom(`"template"`, tyStr), g).s, &n.Tag, true)
}

func (c *converter) macro(n *Macro) {
	text := c.tagText(&n.Tag)
	if n.Err != nil {
		c.leave(n, n.Start, text, fmt.Errorf("Jinja syntax error: %w", n.Err))
		return
	}
	if len(c.loops) > 0 || c.inRange > 0 || len(c.scopes) > 1 || c.top().ifDepth > 0 {
		c.leave(n, n.Start, text, fail(n.Start, "a macro inside another statement is not supported"))
		return
	}
	var body []piece
	var err error
	func() {
		saved := c.scopes
		c.scopes = nil
		c.pushScope()
		defer func() { c.scopes = saved }()
		body = c.sub(func() { c.nodes(n.Body) })
		body = append(c.hoisted(), body...)
	}()
	if err != nil {
		c.leave(n, n.Start, text, err)
		return
	}
	// No group: the body is written where the macro is called, so the
	// newline before the define cannot move into it.
	c.actionIn("define "+strconv.Quote(n.Name), &n.Tag, 0)
	c.pieces = append(c.pieces, body...)
	c.actionIn("end", &n.EndTag, 0)
}

// macroCall converts a call of a macro defined in this template into a
// template action with the arguments (and defaults) merged over the
// variables.
func (c *converter) macroCall(m *Macro, cl *Call) (string, error) {
	if len(cl.Args) > len(m.Params) {
		return "", fail(cl.P, "macro %s takes %d arguments, got %d", m.Name, len(m.Params), len(cl.Args))
	}
	vals := make([]Expr, len(m.Params))
	copy(vals, cl.Args)
	for _, kw := range cl.Kwargs {
		found := false
		for i, p := range m.Params {
			if p == kw.Name {
				vals[i], found = kw.Value, true
			}
		}
		if !found {
			return "", fail(cl.P, "macro %s has no argument %s", m.Name, kw.Name)
		}
	}
	var args []gx
	for i, p := range m.Params {
		v := vals[i]
		if v == nil {
			v = m.Defaults[i]
		}
		if v == nil {
			continue
		}
		g, err := c.expr(v)
		if err != nil {
			return "", err
		}
		args = append(args, atom(strconv.Quote(p), tyStr), g)
	}
	return "template " + strconv.Quote(m.Name) + " " + call("merge", call("dict", args...), atom("$", tyDict)).arg(), nil
}

// render joins the pieces, applying Jinja's trim_blocks (Ansible turns it
// on): the first newline after a block tag is removed.
func (c *converter) render() string {
	ps := c.pieces
	rule1 := lineTags(ps)
	for i := range ps {
		if rule1[ps[i].group] {
			// The newline before the tag goes: {{- when nothing else
			// would be trimmed, else by removing it from the text.
			t := ps[i-1].text
			if len(t) == 1 || !strings.ContainsRune(" \t\r\n", rune(t[len(t)-2])) {
				ps[i].ltrim = true
			} else {
				ps[i-1].text = t[:len(t)-1]
			}
			continue
		}
		if i+1 >= len(ps) || ps[i+1].kind != kText {
			continue
		}
		t := ps[i+1].text
		if ps[i].kind == kTrim {
			if ps[i].rtrim {
				ps[i+1].text = strings.TrimLeft(t, " \t\r\n")
			} else if ps[i].trimBlock {
				ps[i+1].text = strings.TrimPrefix(t, "\n")
			}
			continue
		}
		if !ps[i].trimBlock || ps[i].rtrim || !strings.HasPrefix(t, "\n") {
			continue
		}
		if len(t) == 1 || !strings.ContainsRune(" \t\r\n", rune(t[1])) {
			ps[i].rtrim = true
		} else {
			ps[i+1].text = t[1:]
		}
	}
	var b strings.Builder
	for _, p := range ps {
		switch p.kind {
		case kTrim:
		case kText, kVerbatim:
			b.WriteString(p.text)
		case kAction, kComment:
			inner := p.text
			if p.kind == kComment {
				inner = "/*" + inner + "*/"
				if !p.ltrim && !p.rtrim {
					b.WriteString("{{" + inner + "}}")
					continue
				}
			}
			b.WriteString("{{")
			if p.ltrim {
				b.WriteString("- ")
			} else if p.kind == kAction {
				b.WriteString(" ")
			}
			b.WriteString(inner)
			if p.rtrim {
				b.WriteString(" -")
			} else if p.kind == kAction {
				b.WriteString(" ")
			}
			b.WriteString("}}")
		}
	}
	return b.String()
}

// lineTags returns the statements (groups) whose tags can all be written
// as `{{- tag }}` at the start of their own line: instead of the newline
// after each tag (which Jinja's trim_blocks removes), the newline before it
// is removed. That moves one newline across each tag of the statement,
// which renders the same on every path through it, and reads as Go
// templates are usually written. A tag qualifies when it stands on a line
// of its own: the text before it ends with a newline and the text after it
// starts with one.
func lineTags(ps []piece) map[int]bool {
	ok := map[int]bool{}
	bad := map[int]bool{}
	for i, p := range ps {
		if p.group == 0 {
			continue
		}
		q := p.trimBlock && !p.rtrim && !p.ltrim &&
			i+1 < len(ps) && ps[i+1].kind == kText && strings.HasPrefix(ps[i+1].text, "\n") &&
			i > 0 && ps[i-1].kind == kText && strings.HasSuffix(ps[i-1].text, "\n")
		if !q {
			bad[p.group] = true
		}
	}
	for i, p := range ps {
		if p.group != 0 && !bad[p.group] && p.kind != kText {
			ok[p.group] = true
		}
		_ = i
	}
	// A lone newline between a tag that removes it and a line tag leaves
	// that tag nothing to trim.
	for changed := true; changed; {
		changed = false
		for j := 1; j+1 < len(ps); j++ {
			if ps[j].kind != kText || ps[j].text != "\n" {
				continue
			}
			prev, next := ps[j-1], ps[j+1]
			eats := prev.kind != kText && prev.kind != kVerbatim && (prev.rtrim || prev.trimBlock && !ok[prev.group])
			if ok[next.group] && eats {
				delete(ok, next.group)
				changed = true
			}
		}
	}
	return ok
}

// goString quotes s as a Go template string literal, raw when that reads
// better (backslashes, as in regular expressions).
func goString(s string) string {
	if strings.Contains(s, `\`) && !strings.ContainsAny(s, "`\n\r") {
		return "`" + s + "`"
	}
	return strconv.Quote(s)
}

// global is a variable of the play, as seen from the current scope.
func (c *converter) global(name string) string {
	if c.inRange > 0 {
		return "$." + name
	}
	return "." + name
}

func sortedKeys(m map[string]Expr) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// exprKey is a canonical text of a variable path (a, a.b, a['b'], a[0]),
// or "" for other expressions.
func exprKey(x Expr) string {
	switch x := x.(type) {
	case *Name:
		return x.Name
	case *Getattr:
		if k := exprKey(x.X); k != "" {
			return k + "." + x.Attr
		}
	case *Getitem:
		k := exprKey(x.X)
		if c, ok := x.Key.(*Const); ok && k != "" {
			return k + "." + fmt.Sprint(c.Val)
		}
	}
	return ""
}

// subscriptsBy reports whether nodes use seq[name] (seq given by its
// exprKey): a loop over a mapping's keys.
func subscriptsBy(nodes []Node, seq, name string) bool {
	return anyExpr(nodes, true, func(x Expr) bool {
		g, ok := x.(*Getitem)
		if !ok {
			return false
		}
		n, ok := g.Key.(*Name)
		return ok && n.Name == name && exprKey(g.X) == seq
	})
}

// usesLoop reports whether nodes use this loop's loop variable.
func usesLoop(nodes []Node) bool {
	return anyExpr(nodes, false, func(x Expr) bool {
		g, ok := x.(*Getattr)
		if !ok {
			return false
		}
		n, ok := g.X.(*Name)
		return ok && n.Name == "loop"
	})
}

// anyExpr reports whether an expression in nodes satisfies pred; with
// intoLoops unset it does not look into the bodies of inner loops.
func anyExpr(nodes []Node, intoLoops bool, pred func(Expr) bool) bool {
	found := false
	var expr func(x Expr)
	expr = func(x Expr) {
		if x == nil || found {
			return
		}
		if pred(x) {
			found = true
			return
		}
		switch x := x.(type) {
		case *Getitem:
			expr(x.X)
			expr(x.Key)
		case *Getattr:
			expr(x.X)
		case *Slice:
			expr(x.X)
		case *Call:
			expr(x.Fn)
			for _, a := range x.Args {
				expr(a)
			}
			for _, k := range x.Kwargs {
				expr(k.Value)
			}
		case *Filter:
			expr(x.X)
			for _, a := range x.Args {
				expr(a)
			}
			for _, k := range x.Kwargs {
				expr(k.Value)
			}
		case *Test:
			expr(x.X)
			for _, a := range x.Args {
				expr(a)
			}
		case *Binary:
			expr(x.L)
			expr(x.R)
		case *Compare:
			expr(x.L)
			for _, o := range x.Ops {
				expr(o.R)
			}
		case *Unary:
			expr(x.X)
		case *Cond:
			expr(x.Then)
			expr(x.Test)
			expr(x.Else)
		case *List:
			for _, e := range x.Items {
				expr(e)
			}
		case *Tuple:
			for _, e := range x.Items {
				expr(e)
			}
		case *Dict:
			for i := range x.Keys {
				expr(x.Keys[i])
				expr(x.Values[i])
			}
		}
	}
	var walk func(nodes []Node)
	walk = func(nodes []Node) {
		for _, n := range nodes {
			if found {
				return
			}
			switch n := n.(type) {
			case *Output:
				expr(n.X)
			case *If:
				for _, b := range n.Branches {
					expr(b.Cond)
					walk(b.Body)
				}
				walk(n.Else)
			case *For:
				expr(n.Iter)
				if intoLoops {
					expr(n.Filter)
					walk(n.Body)
				}
				walk(n.Else)
			case *Set:
				expr(n.X)
				walk(n.Body)
			case *Block:
				walk(n.Body)
			case *Include:
				expr(n.X)
			}
		}
	}
	walk(nodes)
	return found
}

// leftPrefix starts the message of the action that stands, in a converted
// file, for a construct left as written.
const leftPrefix = "mdo-convert: not converted: "

// leftRE matches that action; its string holds the Jinja text.
var leftRE = regexp.MustCompile(`\{\{ fail "` + regexp.QuoteMeta(leftPrefix) + `((?:[^"\\\n]|\\.)*)" \}\}`)

// failLeft turns the constructs left as written into actions that fail
// the render with their text; it reports whether there were any.
func (c *converter) failLeft() bool {
	found := false
	for i, p := range c.pieces {
		if p.left {
			c.pieces[i].text = "{{ fail " + strconv.Quote(leftPrefix+p.text) + " }}"
			found = true
		}
	}
	return found
}

// unfailLeft puts back the Jinja text of the actions failLeft made.
func unfailLeft(src string) string {
	if !strings.Contains(src, leftPrefix) {
		return src
	}
	return leftRE.ReplaceAllStringFunc(src, func(m string) string {
		q := leftRE.FindStringSubmatch(m)[1]
		s, err := strconv.Unquote(`"` + q + `"`)
		if err != nil {
			return m
		}
		return s
	})
}

// embeddedExpr turns a condition holding {{ }} outside string literals
// ("not {{ x }}", "{{ a }} and {{ b }}") into one expression, each {{ e }}
// in parentheses. Ansible renders such a condition as a template and then
// evaluates the text it gives: the same for a value that reads back as
// itself (a boolean, a number, none), which is what these conditions hold;
// a string value Ansible would read again as an expression. Only text
// without quotes around the {{ }} is taken, and no statements.
func embeddedExpr(s string) (string, bool) {
	nodes, err := Parse(s)
	if err != nil {
		return "", false
	}
	var b strings.Builder
	outputs := 0
	for _, n := range nodes {
		switch n := n.(type) {
		case *Text:
			if strings.ContainsAny(n.S, `'"{}`) {
				return "", false
			}
			b.WriteString(n.S)
		case *Output:
			if n.Err != nil || n.X == nil {
				return "", false
			}
			e := s[n.Start+2 : n.End-2]
			e = strings.TrimPrefix(strings.TrimPrefix(e, "-"), "+")
			e = strings.TrimSuffix(strings.TrimSuffix(e, "-"), "+")
			b.WriteString("(" + strings.TrimSpace(e) + ")")
			outputs++
		default:
			return "", false
		}
	}
	return b.String(), outputs > 0
}
