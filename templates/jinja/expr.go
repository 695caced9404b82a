package jinja

import (
	"fmt"
	"strings"
)

// Expr is a Jinja expression node.
type Expr interface{ pos() int }

type (
	// Name is a variable reference.
	Name struct {
		P    int
		Name string
	}
	// Const is a literal: string, int64, float64, bool or nil.
	Const struct {
		P   int
		Val any
		Raw string // int and float source text; a string's text between its quotes
	}
	// List, Tuple and Dict are literals.
	List struct {
		P     int
		Items []Expr
	}
	Tuple struct {
		P     int
		Items []Expr
	}
	Dict struct {
		P            int
		Keys, Values []Expr
	}
	// Getattr is x.name (or x.0).
	Getattr struct {
		P    int
		X    Expr
		Attr string
	}
	// Getitem is x[key].
	Getitem struct {
		P      int
		X, Key Expr
	}
	// Slice is x[a:b:c]; missing parts are nil.
	Slice struct {
		P                 int
		X                 Expr
		Start, Stop, Step Expr
	}
	// Call is f(args, k=v).
	Call struct {
		P      int
		Fn     Expr
		Args   []Expr
		Kwargs []Kwarg
	}
	// Filter is x | name(args).
	Filter struct {
		P      int
		X      Expr
		Name   string
		Args   []Expr
		Kwargs []Kwarg
	}
	// Test is x is [not] name(args).
	Test struct {
		P      int
		X      Expr
		Name   string
		Args   []Expr
		Kwargs []Kwarg
		Not    bool
	}
	// Binary is l OP r for + - * / // % ** ~ and or.
	Binary struct {
		P    int
		Op   string
		L, R Expr
	}
	// Compare is a (possibly chained) comparison: == != < <= > >= in, not in.
	Compare struct {
		P   int
		L   Expr
		Ops []CmpOp
	}
	// Unary is not x, -x, +x.
	Unary struct {
		P  int
		Op string
		X  Expr
	}
	// Cond is a if test else b (Else nil when missing).
	Cond struct {
		P                int
		Then, Test, Else Expr
	}
)

// Kwarg is a keyword argument.
type Kwarg struct {
	Name  string
	Value Expr
}

// CmpOp is one comparison in a chain.
type CmpOp struct {
	Op string // ==, !=, <, <=, >, >=, in, notin
	R  Expr
}

func (x *Name) pos() int    { return x.P }
func (x *Const) pos() int   { return x.P }
func (x *List) pos() int    { return x.P }
func (x *Tuple) pos() int   { return x.P }
func (x *Dict) pos() int    { return x.P }
func (x *Getattr) pos() int { return x.P }
func (x *Getitem) pos() int { return x.P }
func (x *Slice) pos() int   { return x.P }
func (x *Call) pos() int    { return x.P }
func (x *Filter) pos() int  { return x.P }
func (x *Test) pos() int    { return x.P }
func (x *Binary) pos() int  { return x.P }
func (x *Compare) pos() int { return x.P }
func (x *Unary) pos() int   { return x.P }
func (x *Cond) pos() int    { return x.P }

// exprParser is a recursive-descent parser of Jinja's expression grammar
// (jinja2/parser.py), with Jinja's precedence from lowest to highest:
// conditional expression, or, and, not, comparisons, + -, ~, * / // %,
// **, unary - +, then postfix (attribute, subscript, call), filters and
// tests.
type exprParser struct {
	toks []token
	i    int
}

func (p *exprParser) peek() token { return p.toks[p.i] }

func (p *exprParser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *exprParser) isOp(s string) bool {
	t := p.peek()
	return t.kind == tOp && t.s == s
}

func (p *exprParser) isName(s string) bool {
	t := p.peek()
	return t.kind == tName && t.s == s
}

func (p *exprParser) skipOp(s string) bool {
	if p.isOp(s) {
		p.i++
		return true
	}
	return false
}

func (p *exprParser) skipName(s string) bool {
	if p.isName(s) {
		p.i++
		return true
	}
	return false
}

func (p *exprParser) fail(t token, format string, args ...any) error {
	return &SyntaxError{Pos: t.pos, Msg: fmt.Sprintf(format, args...)}
}

func (p *exprParser) expectOp(s string) error {
	if !p.skipOp(s) {
		return p.fail(p.peek(), "expected %q, got %v", s, p.peek())
	}
	return nil
}

func (p *exprParser) expectName() (token, error) {
	t := p.peek()
	if t.kind != tName {
		return t, p.fail(t, "expected a name, got %v", t)
	}
	p.i++
	return t, nil
}

// expression parses a full expression (with the conditional form).
func (p *exprParser) expression() (Expr, error) { return p.condexpr(true) }

func (p *exprParser) condexpr(withCond bool) (Expr, error) {
	x, err := p.or()
	if err != nil || !withCond {
		return x, err
	}
	for p.isName("if") {
		t := p.next()
		test, err := p.or()
		if err != nil {
			return nil, err
		}
		var els Expr
		if p.skipName("else") {
			if els, err = p.condexpr(true); err != nil {
				return nil, err
			}
		}
		x = &Cond{P: t.pos, Then: x, Test: test, Else: els}
	}
	return x, nil
}

func (p *exprParser) or() (Expr, error) {
	l, err := p.and()
	for err == nil && p.isName("or") {
		t := p.next()
		var r Expr
		if r, err = p.and(); err == nil {
			l = &Binary{P: t.pos, Op: "or", L: l, R: r}
		}
	}
	return l, err
}

func (p *exprParser) and() (Expr, error) {
	l, err := p.not()
	for err == nil && p.isName("and") {
		t := p.next()
		var r Expr
		if r, err = p.not(); err == nil {
			l = &Binary{P: t.pos, Op: "and", L: l, R: r}
		}
	}
	return l, err
}

func (p *exprParser) not() (Expr, error) {
	if p.isName("not") {
		t := p.next()
		x, err := p.not()
		if err != nil {
			return nil, err
		}
		return &Unary{P: t.pos, Op: "not", X: x}, nil
	}
	return p.compare()
}

var cmpOps = map[string]bool{"==": true, "!=": true, "<": true, "<=": true, ">": true, ">=": true}

func (p *exprParser) compare() (Expr, error) {
	l, err := p.math1()
	if err != nil {
		return nil, err
	}
	var chain []CmpOp
	for {
		t := p.peek()
		op := ""
		switch {
		case t.kind == tOp && cmpOps[t.s]:
			op = t.s
			p.i++
		case p.isName("in"):
			op = "in"
			p.i++
		case p.isName("not") && p.toks[p.i+1].kind == tName && p.toks[p.i+1].s == "in":
			op = "notin"
			p.i += 2
		}
		if op == "" {
			break
		}
		r, err := p.math1()
		if err != nil {
			return nil, err
		}
		chain = append(chain, CmpOp{Op: op, R: r})
	}
	if len(chain) == 0 {
		return l, nil
	}
	return &Compare{P: l.pos(), L: l, Ops: chain}, nil
}

func (p *exprParser) binary(ops []string, next func() (Expr, error)) (Expr, error) {
	l, err := next()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		found := false
		for _, o := range ops {
			if t.kind == tOp && t.s == o {
				found = true
			}
		}
		if !found {
			return l, nil
		}
		p.i++
		r, err := next()
		if err != nil {
			return nil, err
		}
		l = &Binary{P: t.pos, Op: t.s, L: l, R: r}
	}
}

func (p *exprParser) math1() (Expr, error) { return p.binary([]string{"+", "-"}, p.concat) }
func (p *exprParser) concat() (Expr, error) {
	return p.binary([]string{"~"}, p.math2)
}
func (p *exprParser) math2() (Expr, error) {
	return p.binary([]string{"*", "/", "//", "%"}, p.pow)
}
func (p *exprParser) pow() (Expr, error) {
	return p.binary([]string{"**"}, func() (Expr, error) { return p.unary(true) })
}

func (p *exprParser) unary(withFilter bool) (Expr, error) {
	t := p.peek()
	var x Expr
	var err error
	if t.kind == tOp && (t.s == "-" || t.s == "+") {
		p.i++
		var inner Expr
		if inner, err = p.unary(false); err != nil {
			return nil, err
		}
		x = &Unary{P: t.pos, Op: t.s, X: inner}
	} else {
		if x, err = p.primary(); err != nil {
			return nil, err
		}
	}
	if x, err = p.postfix(x); err != nil {
		return nil, err
	}
	if withFilter {
		return p.filterExpr(x)
	}
	return x, nil
}

func (p *exprParser) primary() (Expr, error) {
	t := p.next()
	switch t.kind {
	case tName:
		switch t.s {
		case "true", "True":
			return &Const{P: t.pos, Val: true}, nil
		case "false", "False":
			return &Const{P: t.pos, Val: false}, nil
		case "none", "None":
			return &Const{P: t.pos, Val: nil}, nil
		}
		return &Name{P: t.pos, Name: t.s}, nil
	case tString:
		s, raw := t.s, t.raw
		for p.peek().kind == tString {
			n := p.next()
			s, raw = s+n.s, raw+n.raw
		}
		return &Const{P: t.pos, Val: s, Raw: raw}, nil
	case tInt:
		var n int64
		if _, err := fmt.Sscan(t.s, &n); err != nil {
			return nil, p.fail(t, "bad integer %s", t.s)
		}
		return &Const{P: t.pos, Val: n, Raw: t.s}, nil
	case tFloat:
		var f float64
		if _, err := fmt.Sscan(t.s, &f); err != nil {
			return nil, p.fail(t, "bad number %s", t.s)
		}
		return &Const{P: t.pos, Val: f, Raw: t.s}, nil
	case tOp:
		switch t.s {
		case ".":
			// .name: a Go-style variable written inside Jinja; read as name.
			if n := p.peek(); n.kind == tName && n.pos == t.pos+1 {
				p.i++
				return &Name{P: n.pos, Name: n.s}, nil
			}
		case "(":
			return p.tuple(t, true)
		case "[":
			items, err := p.list("]")
			if err != nil {
				return nil, err
			}
			return &List{P: t.pos, Items: items}, nil
		case "{":
			d := &Dict{P: t.pos}
			for !p.skipOp("}") {
				if len(d.Keys) > 0 {
					if err := p.expectOp(","); err != nil {
						return nil, err
					}
					if p.skipOp("}") {
						break
					}
				}
				k, err := p.expression()
				if err != nil {
					return nil, err
				}
				if err := p.expectOp(":"); err != nil {
					return nil, err
				}
				v, err := p.expression()
				if err != nil {
					return nil, err
				}
				d.Keys, d.Values = append(d.Keys, k), append(d.Values, v)
			}
			return d, nil
		}
	}
	return nil, p.fail(t, "unexpected %v", t)
}

// list parses comma-separated expressions up to the closing op.
func (p *exprParser) list(closing string) ([]Expr, error) {
	var items []Expr
	for !p.skipOp(closing) {
		if len(items) > 0 {
			if err := p.expectOp(","); err != nil {
				return nil, err
			}
			if p.skipOp(closing) {
				break
			}
		}
		x, err := p.expression()
		if err != nil {
			return nil, err
		}
		items = append(items, x)
	}
	return items, nil
}

// tuple parses after "(": a parenthesized expression or a tuple.
func (p *exprParser) tuple(open token, _ bool) (Expr, error) {
	if p.skipOp(")") {
		return &Tuple{P: open.pos}, nil
	}
	x, err := p.expression()
	if err != nil {
		return nil, err
	}
	if p.skipOp(")") {
		return x, nil
	}
	items := []Expr{x}
	for p.skipOp(",") {
		if p.isOp(")") {
			break
		}
		y, err := p.expression()
		if err != nil {
			return nil, err
		}
		items = append(items, y)
	}
	if err := p.expectOp(")"); err != nil {
		return nil, err
	}
	return &Tuple{P: open.pos, Items: items}, nil
}

func (p *exprParser) postfix(x Expr) (Expr, error) {
	for {
		t := p.peek()
		switch {
		case t.kind == tOp && t.s == ".":
			p.i++
			a := p.next()
			if a.kind != tName && a.kind != tInt {
				return nil, p.fail(a, "expected an attribute name after \".\", got %v", a)
			}
			x = &Getattr{P: t.pos, X: x, Attr: a.s}
		case t.kind == tOp && t.s == "[":
			p.i++
			var err error
			if x, err = p.subscript(t, x); err != nil {
				return nil, err
			}
		case t.kind == tOp && t.s == "(":
			p.i++
			var err error
			if x, err = p.call(t, x); err != nil {
				return nil, err
			}
		default:
			return x, nil
		}
	}
}

func (p *exprParser) subscript(open token, x Expr) (Expr, error) {
	var parts [3]Expr
	n := 0
	isSlice := false
	for {
		if p.isOp(":") || p.isOp("]") {
			// empty part
		} else {
			e, err := p.expression()
			if err != nil {
				return nil, err
			}
			parts[n] = e
		}
		if p.skipOp(":") {
			isSlice = true
			n++
			if n > 2 {
				return nil, p.fail(p.peek(), "too many \":\" in slice")
			}
			continue
		}
		if err := p.expectOp("]"); err != nil {
			return nil, err
		}
		break
	}
	if !isSlice {
		if parts[0] == nil {
			return nil, p.fail(open, "empty subscript")
		}
		return &Getitem{P: open.pos, X: x, Key: parts[0]}, nil
	}
	return &Slice{P: open.pos, X: x, Start: parts[0], Stop: parts[1], Step: parts[2]}, nil
}

// args parses call arguments after "(" up to ")".
func (p *exprParser) args() ([]Expr, []Kwarg, error) {
	var args []Expr
	var kw []Kwarg
	first := true
	for !p.skipOp(")") {
		if !first {
			if err := p.expectOp(","); err != nil {
				return nil, nil, err
			}
			if p.skipOp(")") {
				break
			}
		}
		first = false
		if p.peek().kind == tName && p.toks[p.i+1].kind == tOp && p.toks[p.i+1].s == "=" {
			name := p.next().s
			p.i++
			v, err := p.expression()
			if err != nil {
				return nil, nil, err
			}
			kw = append(kw, Kwarg{Name: name, Value: v})
			continue
		}
		if p.isOp("*") || p.isOp("**") {
			return nil, nil, p.fail(p.peek(), "*args and **kwargs are not supported")
		}
		v, err := p.expression()
		if err != nil {
			return nil, nil, err
		}
		args = append(args, v)
	}
	return args, kw, nil
}

func (p *exprParser) call(open token, fn Expr) (Expr, error) {
	args, kw, err := p.args()
	if err != nil {
		return nil, err
	}
	return &Call{P: open.pos, Fn: fn, Args: args, Kwargs: kw}, nil
}

// dottedName reads name(.name)* for filters and tests.
func (p *exprParser) dottedName() (string, error) {
	t, err := p.expectName()
	if err != nil {
		return "", err
	}
	name := t.s
	for p.isOp(".") && p.toks[p.i+1].kind == tName {
		p.i++
		name += "." + p.next().s
	}
	return name, nil
}

func (p *exprParser) filterExpr(x Expr) (Expr, error) {
	for {
		switch {
		case p.isOp("|"):
			t := p.next()
			name, err := p.dottedName()
			if err != nil {
				return nil, err
			}
			f := &Filter{P: t.pos, X: x, Name: name}
			if p.skipOp("(") {
				if f.Args, f.Kwargs, err = p.args(); err != nil {
					return nil, err
				}
			}
			x = f
		case p.isName("is"):
			t := p.next()
			neg := p.skipName("not")
			name, err := p.dottedName()
			if err != nil {
				return nil, err
			}
			tt := &Test{P: t.pos, X: x, Name: name, Not: neg}
			nt := p.peek()
			switch {
			case p.skipOp("("):
				if tt.Args, tt.Kwargs, err = p.args(); err != nil {
					return nil, err
				}
			case nt.kind == tString || nt.kind == tInt || nt.kind == tFloat || nt.kind == tOp && (nt.s == "[" || nt.s == "{") ||
				nt.kind == tName && !strings.Contains(" else or and if is in not ", " "+nt.s+" "):
				// x is divisibleby 3, x is sameas false: one argument without parentheses.
				a, err := p.primary()
				if err != nil {
					return nil, err
				}
				if a, err = p.postfix(a); err != nil {
					return nil, err
				}
				tt.Args = []Expr{a}
			}
			x = tt
		case p.isOp("("):
			t := p.next()
			var err error
			if x, err = p.call(t, x); err != nil {
				return nil, err
			}
		default:
			return x, nil
		}
	}
}

// ParseExpr parses a whole Jinja expression.
func ParseExpr(src string) (Expr, error) {
	toks, _, err := lexExpr(src, 0, "")
	if err != nil {
		return nil, err
	}
	p := &exprParser{toks: toks}
	x, err := p.expression()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.fail(t, "unexpected %v after the expression", t)
	}
	return x, nil
}
