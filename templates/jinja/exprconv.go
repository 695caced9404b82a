package jinja

import (
	"strconv"
	"strings"
)

// expr converts one expression.
func (c *converter) expr(x Expr) (gx, error) {
	switch x := x.(type) {
	case *Const:
		if s, ok := x.Val.(string); ok && c.condition && strings.Contains(s, "{{") {
			return c.templatedLiteral(x.P, s)
		}
		if s, ok := x.Val.(string); ok && c.rawStrings && s != x.Raw && strings.Contains(x.Raw, `\`) {
			// Ansible doubles the backslashes of string literals in {{ }}
			// of YAML values: the string is what was written.
			return atom(goString(x.Raw), tyStr), nil
		}
		return constant(x), nil
	case *Name:
		if v, ok := c.local(x.Name); ok {
			if v == nsMarker {
				return gx{}, fail(x.P, "a namespace is only supported through its attributes (%s.name)", x.Name)
			}
			return atom(v, tyAny), nil
		}
		switch x.Name {
		case "loop":
			return gx{}, fail(x.P, "the loop variable is only supported as loop.index, loop.index0, loop.first, loop.last, loop.length, loop.revindex")
		case "range", "lookup", "query", "q", "dict", "namespace", "cycler", "joiner", "caller", "varargs", "kwargs", "super", "self":
			return gx{}, fail(x.P, "%s is not supported here", x.Name)
		}
		return atom(c.global(x.Name), tyAny), nil
	case *List:
		return c.list(x.Items)
	case *Tuple:
		return c.list(x.Items)
	case *Dict:
		var args []gx
		for i, k := range x.Keys {
			kg, err := c.expr(k)
			if err != nil {
				return gx{}, err
			}
			vg, err := c.expr(x.Values[i])
			if err != nil {
				return gx{}, err
			}
			args = append(args, kg, vg)
		}
		if len(args) == 0 {
			return atom("(dict)", tyDict), nil
		}
		return typed(call("dict", args...), tyDict), nil
	case *Getattr:
		if n, ok := x.X.(*Name); ok {
			// ns.attr of a namespace(): its Go variable.
			if v, isNS := c.local(n.Name + "." + x.Attr); isNS {
				return atom(v, tyAny), nil
			}
			if v, _ := c.local(n.Name); v == nsMarker {
				return gx{}, fail(x.P, "namespace attribute %s.%s is not set by namespace(...)", n.Name, x.Attr)
			}
		}
		if n, ok := x.X.(*Name); ok && n.Name == "loop" && len(c.loops) > 0 {
			if _, isLocal := c.local("loop"); !isLocal {
				return c.loopAttr(x.P, x.Attr)
			}
		}
		v, err := c.expr(x.X)
		if err != nil {
			return gx{}, err
		}
		if x.Attr[0] >= '0' && x.Attr[0] <= '9' {
			return index(v, atom(x.Attr, tyNum)), nil
		}
		return field(v, x.Attr), nil
	case *Getitem:
		v, err := c.expr(x.X)
		if err != nil {
			return gx{}, err
		}
		if k, ok := x.Key.(*Const); ok {
			switch kv := k.Val.(type) {
			case string:
				if isIdent(kv) {
					return field(v, kv), nil
				}
			case int64:
				if kv == -1 {
					return pipe(v, "last"), nil
				}
				if kv < 0 {
					return gx{}, fail(x.P, "negative index %d is not supported", kv)
				}
			}
		}
		if u, ok := x.Key.(*Unary); ok && u.Op == "-" {
			if k, ok := u.X.(*Const); ok && k.Val == int64(1) {
				return pipe(v, "last"), nil
			}
		}
		k, err := c.expr(x.Key)
		if err != nil {
			return gx{}, err
		}
		return index(v, k), nil
	case *Slice:
		v, err := c.expr(x.X)
		if err != nil {
			return gx{}, err
		}
		args := []gx{v}
		for _, p := range []Expr{x.Start, x.Stop, x.Step} {
			if p == nil {
				args = append(args, atom("nil", tyAny))
				continue
			}
			g, err := c.expr(p)
			if err != nil {
				return gx{}, err
			}
			args = append(args, g)
		}
		if x.Step == nil {
			args = args[:3]
		}
		return call("pyslice", args...), nil
	case *Call:
		return c.call(x)
	case *Filter:
		return c.filter(x, gx{})
	case *Test:
		return c.test(x)
	case *Unary:
		if k, ok := x.X.(*Const); ok && x.Op == "-" && isNumber(k.Val) {
			return atom("-"+constant(k).s, tyNum), nil
		}
		v, err := c.expr(x.X)
		if err != nil {
			return gx{}, err
		}
		switch x.Op {
		case "not":
			return typed(call("not", v), tyBool), nil
		case "-":
			return typed(call("neg", v), tyNum), nil
		}
		return v, nil
	case *Binary:
		return c.binary(x)
	case *Compare:
		return c.compare(x)
	case *Cond:
		t, err := c.expr(x.Test)
		if err != nil {
			return gx{}, err
		}
		a, err := c.expr(x.Then)
		if err != nil {
			return gx{}, err
		}
		b := atom(`""`, tyStr)
		if x.Else != nil {
			if b, err = c.expr(x.Else); err != nil {
				return gx{}, err
			}
		}
		g := call("ternary", a, b, t)
		if a.typ == b.typ {
			g.typ = a.typ
		}
		return g, nil
	}
	return gx{}, fail(x.pos(), "unsupported expression")
}

func isNumber(v any) bool {
	switch v.(type) {
	case int64, float64:
		return true
	}
	return false
}

func constant(x *Const) gx {
	switch v := x.Val.(type) {
	case string:
		return atom(goString(v), tyStr)
	case bool:
		return atom(strconv.FormatBool(v), tyBool)
	case nil:
		return atom("nil", tyAny)
	case int64:
		return atom(strconv.FormatInt(v, 10), tyNum)
	}
	return atom(x.Raw, tyNum)
}

func (c *converter) list(items []Expr) (gx, error) {
	var args []gx
	for _, it := range items {
		g, err := c.expr(it)
		if err != nil {
			return gx{}, err
		}
		args = append(args, g)
	}
	g := call("list", args...)
	if len(args) == 0 {
		g = atom("list", tyList)
		g.s = "(list)"
	}
	g.typ = tyList
	return g, nil
}

// field is v.name: a field chain where v allows one.
func field(v gx, name string) gx {
	if v.prec == pAtom && (strings.HasPrefix(v.s, ".") || strings.HasPrefix(v.s, "$") || v.chain ||
		strings.HasPrefix(v.s, "(") && strings.HasSuffix(v.s, ")")) {
		g := atom(v.s+"."+name, tyAny)
		g.chain = true
		return g
	}
	g := atom("("+v.s+")."+name, tyAny)
	g.chain = true
	return g
}

// index is v[k], merging nested index calls.
func index(v, k gx) gx {
	if v.prec == pCmd && strings.HasPrefix(v.s, "index ") {
		return gx{s: v.s + " " + k.arg(), prec: pCmd}
	}
	return call("index", v, k)
}

func (c *converter) binary(x *Binary) (gx, error) {
	switch x.Op {
	case "and", "or":
		var args []gx
		allBool := true
		var walk func(e Expr) error
		walk = func(e Expr) error {
			if b, ok := e.(*Binary); ok && b.Op == x.Op {
				if err := walk(b.L); err != nil {
					return err
				}
				return walk(b.R)
			}
			g, err := c.expr(e)
			if err != nil {
				return err
			}
			if g.typ != tyBool {
				allBool = false
			}
			args = append(args, g)
			return nil
		}
		if err := walk(x); err != nil {
			return gx{}, err
		}
		g := call(x.Op, args...)
		if allBool {
			g.typ = tyBool
		}
		return g, nil
	case "~":
		var args []gx
		var walk func(e Expr) error
		walk = func(e Expr) error {
			if b, ok := e.(*Binary); ok && b.Op == "~" {
				if err := walk(b.L); err != nil {
					return err
				}
				return walk(b.R)
			}
			g, err := c.expr(e)
			if err != nil {
				return err
			}
			args = append(args, strArg(g))
			return nil
		}
		if err := walk(x); err != nil {
			return gx{}, err
		}
		return typed(call("print", args...), tyStr), nil
	case "%":
		if k, ok := x.L.(*Const); ok {
			if s, ok := k.Val.(string); ok {
				var args []gx
				items := []Expr{x.R}
				if t, ok := x.R.(*Tuple); ok {
					items = t.Items
				}
				for _, it := range items {
					g, err := c.expr(it)
					if err != nil {
						return gx{}, err
					}
					args = append(args, g)
				}
				return typed(call("pyformat", append([]gx{atom(goString(s), tyStr)}, args...)...), tyStr), nil
			}
		}
	}
	l, err := c.expr(x.L)
	if err != nil {
		return gx{}, err
	}
	r, err := c.expr(x.R)
	if err != nil {
		return gx{}, err
	}
	name := map[string]string{"+": "plus", "-": "minus", "*": "times", "/": "divide", "//": "floordiv", "%": "modulo", "**": "power"}[x.Op]
	g := call(name, l, r)
	if l.typ == tyNum && r.typ == tyNum {
		g.typ = tyNum
	} else if x.Op == "+" && l.typ == tyStr && r.typ == tyStr {
		g.typ = tyStr
	}
	return g, nil
}

var cmpNames = map[string]string{"==": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}

func (c *converter) compare(x *Compare) (gx, error) {
	l, err := c.expr(x.L)
	if err != nil {
		return gx{}, err
	}
	var parts []gx
	for _, op := range x.Ops {
		r, err := c.expr(op.R)
		if err != nil {
			return gx{}, err
		}
		var g gx
		switch op.Op {
		case "in":
			g = call("in", l, r)
		case "notin":
			g = call("not", call("in", l, r))
		default:
			g = call(cmpNames[op.Op], l, r)
		}
		parts = append(parts, typed(g, tyBool))
		l = r
	}
	if len(parts) == 1 {
		return parts[0], nil
	}
	return typed(call("and", parts...), tyBool), nil
}

// kwargs returns the keyword arguments by name, failing on unknown ones.
func kwargs(pos int, what string, kw []Kwarg, allowed ...string) (map[string]Expr, error) {
	m := map[string]Expr{}
	for _, k := range kw {
		ok := false
		for _, a := range allowed {
			if a == k.Name {
				ok = true
			}
		}
		if !ok {
			return nil, fail(pos, "%s: keyword argument %s is not supported", what, k.Name)
		}
		m[k.Name] = k.Value
	}
	return m, nil
}

// positional merges keyword arguments into positions by parameter name.
func positional(pos int, what string, args []Expr, kw []Kwarg, params ...string) ([]Expr, error) {
	if len(args) > len(params) {
		return nil, fail(pos, "%s: too many arguments", what)
	}
	out := make([]Expr, len(params))
	copy(out, args)
	for _, k := range kw {
		found := false
		for i, p := range params {
			if p == k.Name {
				out[i], found = k.Value, true
			}
		}
		if !found {
			return nil, fail(pos, "%s: keyword argument %s is not supported", what, k.Name)
		}
	}
	n := len(out)
	for n > 0 && out[n-1] == nil {
		n--
	}
	return out[:n], nil
}

func (c *converter) exprs(pos int, xs []Expr) ([]gx, error) {
	out := make([]gx, len(xs))
	for i, x := range xs {
		if x == nil {
			return nil, fail(pos, "a missing argument before a given one is not supported")
		}
		g, err := c.expr(x)
		if err != nil {
			return nil, err
		}
		out[i] = g
	}
	return out, nil
}

// constStr returns the value of a string constant.
func constStr(x Expr) (string, bool) {
	k, ok := x.(*Const)
	if !ok {
		return "", false
	}
	s, ok := k.Val.(string)
	return s, ok
}

func constBool(x Expr) (bool, bool) {
	k, ok := x.(*Const)
	if !ok {
		return false, false
	}
	b, ok := k.Val.(bool)
	return b, ok
}

// call converts function and method calls.
func (c *converter) call(x *Call) (gx, error) {
	if ga, ok := x.Fn.(*Getattr); ok {
		return c.method(x, ga)
	}
	n, ok := x.Fn.(*Name)
	if !ok {
		return gx{}, fail(x.P, "calling an expression is not supported")
	}
	if _, isLocal := c.local(n.Name); isLocal {
		return gx{}, fail(x.P, "calling %s is not supported", n.Name)
	}
	switch n.Name {
	case "range":
		args, err := c.exprs(x.P, x.Args)
		if err != nil || len(x.Kwargs) > 0 {
			return gx{}, firstErr(err, fail(x.P, "range takes no keyword arguments"))
		}
		switch len(args) {
		case 1:
			return typed(call("until", args...), tyList), nil
		case 2:
			return typed(call("untilStep", args[0], args[1], atom("1", tyNum)), tyList), nil
		case 3:
			return typed(call("untilStep", args...), tyList), nil
		}
		return gx{}, fail(x.P, "range takes 1 to 3 arguments")
	case "lookup", "query", "q":
		name := n.Name
		if name == "q" {
			name = "query"
		}
		kw, err := kwargs(x.P, name, x.Kwargs, "wantlist", "errors")
		if err != nil {
			return gx{}, err
		}
		if w, ok := kw["wantlist"]; ok {
			if b, ok := constBool(w); !ok || !b {
				return gx{}, fail(x.P, "lookup: wantlist must be true")
			}
			name = "query"
		}
		if e, ok := kw["errors"]; ok {
			if s, _ := constStr(e); s != "strict" {
				return gx{}, fail(x.P, "lookup: errors=%v is not supported", s)
			}
		}
		if len(x.Args) == 0 {
			return gx{}, fail(x.P, "lookup needs the plugin name")
		}
		args, err := c.exprs(x.P, x.Args)
		if err != nil {
			return gx{}, err
		}
		return call(name, args...), nil
	case "dict":
		if len(x.Args) > 0 {
			return gx{}, fail(x.P, "dict() with positional arguments is not supported")
		}
		var args []gx
		for _, k := range x.Kwargs {
			v, err := c.expr(k.Value)
			if err != nil {
				return gx{}, err
			}
			args = append(args, atom(strconv.Quote(k.Name), tyStr), v)
		}
		return typed(call("dict", args...), tyDict), nil
	}
	if c.macros[n.Name] != nil {
		return gx{}, fail(x.P, "a macro call is only supported as a whole {{ }} output")
	}
	return gx{}, fail(x.P, "function %s is not supported", n.Name)
}

// method converts Python method calls on strings, lists and mappings.
func (c *converter) method(x *Call, ga *Getattr) (gx, error) {
	if len(x.Kwargs) > 0 {
		return gx{}, fail(x.P, "keyword arguments to .%s() are not supported", ga.Attr)
	}
	if ga.Attr == "format" {
		return c.format(x.P, ga.X, x.Args)
	}
	if ga.Attr == "join" {
		if len(x.Args) != 1 {
			return gx{}, fail(x.P, ".join() takes one argument")
		}
		sep, err := c.expr(ga.X)
		if err != nil {
			return gx{}, err
		}
		l, err := c.expr(x.Args[0])
		if err != nil {
			return gx{}, err
		}
		return typed(pipe(l, "jjoin", sep), tyStr), nil
	}
	v, err := c.expr(ga.X)
	if err != nil {
		return gx{}, err
	}
	args, err := c.exprs(x.P, x.Args)
	if err != nil {
		return gx{}, err
	}
	nargs := func(lo, hi int) error {
		if len(args) < lo || len(args) > hi {
			return fail(x.P, ".%s() with %d arguments is not supported", ga.Attr, len(args))
		}
		return nil
	}
	switch ga.Attr {
	case "split":
		if err := nargs(0, 1); err != nil {
			return gx{}, err
		}
		if len(args) == 0 || args[0].s == "nil" {
			return typed(pipe(v, "fields"), tyList), nil
		}
		return typed(pipe(v, "splitList", args[0]), tyList), nil
	case "strip":
		if err := nargs(0, 1); err != nil {
			return gx{}, err
		}
		if len(args) == 0 {
			return typed(pipe(v, "trim"), tyStr), nil
		}
		return typed(pipe(v, "trimAll", args[0]), tyStr), nil
	case "lstrip", "rstrip":
		if err := nargs(0, 1); err != nil {
			return gx{}, err
		}
		return typed(pipe(v, ga.Attr, args...), tyStr), nil
	case "startswith", "endswith":
		if err := nargs(1, 1); err != nil {
			return gx{}, err
		}
		if _, ok := x.Args[0].(*Tuple); ok {
			return gx{}, fail(x.P, ".%s() with a tuple is not supported", ga.Attr)
		}
		name := map[string]string{"startswith": "hasPrefix", "endswith": "hasSuffix"}[ga.Attr]
		return typed(pipe(v, name, args[0]), tyBool), nil
	case "keys":
		if err := nargs(0, 0); err != nil {
			return gx{}, err
		}
		return typed(pipe(pipe(v, "keys"), "sortAlpha"), tyList), nil
	case "values":
		if err := nargs(0, 0); err != nil {
			return gx{}, err
		}
		return typed(pipe(v, "dict_values"), tyList), nil
	case "items":
		if err := nargs(0, 0); err != nil {
			return gx{}, err
		}
		return typed(pipe(v, "dict_items"), tyList), nil
	case "get":
		if err := nargs(1, 2); err != nil {
			return gx{}, err
		}
		def := atom("nil", tyAny)
		if len(args) == 2 {
			def = args[1]
		}
		var got gx
		if s, ok := constStr(x.Args[0]); ok && isIdent(s) {
			got = field(v, s)
		} else {
			got = index(v, args[0])
		}
		return pipe(got, "d", def), nil
	case "splitlines":
		if err := nargs(0, 0); err != nil {
			return gx{}, err
		}
		return typed(pipe(v, "pysplitlines"), tyList), nil
	case "isdigit":
		if err := nargs(0, 0); err != nil {
			return gx{}, err
		}
		return typed(pipe(v, "pyisdigit"), tyBool), nil
	case "find", "rfind":
		// str.find(sub): the index (in characters) of the first (rfind:
		// last) occurrence of sub, -1 when there is none.
		if err := nargs(1, 1); err != nil {
			return gx{}, err
		}
		return typed(pipe(v, "py"+ga.Attr, args[0]), tyNum), nil
	case "lower", "upper", "capitalize", "title":
		if err := nargs(0, 0); err != nil {
			return gx{}, err
		}
		return typed(pipe(v, ga.Attr), tyStr), nil
	case "replace":
		if err := nargs(2, 2); err != nil {
			return gx{}, err
		}
		return typed(pipe(v, "replace", args...), tyStr), nil
	}
	return gx{}, fail(x.P, "the Python method .%s() is not supported", ga.Attr)
}

// format converts "fmt".format(args) into pyformat with %s verbs.
func (c *converter) format(pos int, recv Expr, argx []Expr) (gx, error) {
	s, ok := constStr(recv)
	if !ok {
		return gx{}, fail(pos, ".format() on a non-literal string is not supported")
	}
	var b strings.Builder
	var order []int
	auto := 0
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == '%':
			b.WriteString("%%")
		case ch == '{' && i+1 < len(s) && s[i+1] == '{':
			b.WriteByte('{')
			i++
		case ch == '}' && i+1 < len(s) && s[i+1] == '}':
			b.WriteByte('}')
			i++
		case ch == '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return gx{}, fail(pos, "bad format string")
			}
			f := s[i+1 : i+end]
			n := auto
			if f == "" {
				auto++
			} else if k, err := strconv.Atoi(f); err == nil {
				n = k
			} else {
				return gx{}, fail(pos, ".format() field {%s} is not supported", f)
			}
			if n >= len(argx) {
				return gx{}, fail(pos, ".format(): no argument %d", n)
			}
			order = append(order, n)
			b.WriteString("%s")
			i += end
		default:
			b.WriteByte(ch)
		}
	}
	args := []gx{atom(goString(b.String()), tyStr)}
	for _, n := range order {
		g, err := c.expr(argx[n])
		if err != nil {
			return gx{}, err
		}
		args = append(args, g)
	}
	return typed(call("pyformat", args...), tyStr), nil
}

// templatedLiteral converts a string literal holding {{ }} in a bare
// condition (when: x == "{{ y }}"). Ansible renders a condition as a
// template before it evaluates it, with a warning, so the literal's
// {{ y }} becomes y's text: the literal is its text parts and outputs
// joined, as ~ joins them.
func (c *converter) templatedLiteral(pos int, s string) (gx, error) {
	nodes, err := Parse(s)
	if err != nil {
		return gx{}, fail(pos, "a string literal in a condition holds a template that does not parse: %v", err)
	}
	var args []gx
	for _, n := range nodes {
		switch n := n.(type) {
		case *Text:
			args = append(args, atom(goString(n.S), tyStr))
		case *Output:
			if n.Err != nil {
				return gx{}, fail(pos, "Jinja syntax error in a string literal: %v", n.Err)
			}
			g, err := c.expr(n.X)
			if err != nil {
				return gx{}, err
			}
			args = append(args, strArg(g))
		default:
			return gx{}, fail(pos, "a string literal in a condition holds a Jinja statement or comment")
		}
	}
	switch len(args) {
	case 0:
		return atom(goString(""), tyStr), nil
	case 1:
		return args[0], nil
	}
	return typed(call("print", args...), tyStr), nil
}
