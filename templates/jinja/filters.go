package jinja

import (
	"sort"
	"strconv"
	"strings"
)

// simpleFilters are Jinja and Ansible filters whose Go function takes the
// same positional arguments followed by the value, so `x | f(a, b)`
// becomes `X | g A B`; the value is the name of the Go function and the
// type of its result.
var simpleFilters = map[string]struct {
	fn       string
	min, max int
	typ      typ
}{
	"bool":                 {"bool", 0, 0, tyBool},
	"string":               {"string", 0, 0, tyStr},
	"int":                  {"to_int", 0, 2, tyNum},
	"float":                {"to_float", 0, 1, tyNum},
	"list":                 {"to_list", 0, 0, tyList},
	"length":               {"length", 0, 0, tyNum},
	"count":                {"length", 0, 0, tyNum},
	"first":                {"first", 0, 0, tyAny},
	"last":                 {"last", 0, 0, tyAny},
	"unique":               {"unique", 0, 0, tyList},
	"union":                {"union", 1, 1, tyList},
	"intersect":            {"intersect", 1, 1, tyList},
	"difference":           {"difference", 1, 1, tyList},
	"symmetric_difference": {"symmetric_difference", 1, 1, tyList},
	"zip":                  {"zip", 1, 8, tyList},
	"lower":                {"lower", 0, 0, tyStr},
	"upper":                {"upper", 0, 0, tyStr},
	"capitalize":           {"capitalize", 0, 0, tyStr},
	"title":                {"title", 0, 0, tyStr},
	"regex_findall":        {"regex_findall", 1, 1, tyList},
	"regex_escape":         {"regex_escape", 0, 0, tyStr},
	"quote":                {"quote", 0, 0, tyStr},
	"dirname":              {"dirname", 0, 0, tyStr},
	"basename":             {"basename", 0, 0, tyStr},
	"dict2items":           {"dict2items", 0, 0, tyList},
	"items2dict":           {"items2dict", 0, 0, tyDict},
	"to_json":              {"to_json", 0, 0, tyStr},
	"to_nice_json":         {"to_nice_json", 0, 1, tyStr},
	"to_yaml":              {"to_yaml", 0, 0, tyStr},
	"to_nice_yaml":         {"to_nice_yaml", 0, 1, tyStr},
	"from_json":            {"from_json", 0, 0, tyAny},
	"from_yaml":            {"from_yaml", 0, 0, tyAny},
	"b64encode":            {"b64encode", 0, 0, tyStr},
	"b64decode":            {"b64decode", 0, 0, tyStr},
	"checksum":             {"checksum", 0, 0, tyStr},
	"sha1":                 {"checksum", 0, 0, tyStr},
	"ternary":              {"ternary", 2, 2, tyAny},
	"mandatory":            {"mandatory", 0, 0, tyAny},
	"comment":              {"comment", 0, 1, tyStr},
	"e":                    {"html", 0, 0, tyStr},
	"escape":               {"html", 0, 0, tyStr},
	"urlencode":            {"urlquery", 0, 0, tyStr},
	"reverse":              {"reverse", 0, 0, tyList},
	"items":                {"dict_items", 0, 0, tyList},
	"dictsort":             {"dict_items", 0, 0, tyList},
	"extract":              {"extract", 1, 2, tyAny},
	"flatten":              {"flatten", 0, 1, tyList},
	"sum":                  {"sum", 0, 0, tyNum},
	"min":                  {"jmin", 0, 0, tyAny},
	"max":                  {"jmax", 0, 0, tyAny},
	"abs":                  {"abs", 0, 0, tyNum},
	"splitext":             {"pysplitext", 0, 0, tyList},
	"path_join":            {"path_join", 0, 0, tyStr},
}

// FilterFunc returns the Go function that implements the Jinja filter
// name in a `map` over a list, or "" when there is none.
func FilterFunc(name string) string {
	if f, ok := simpleFilters[name]; ok {
		return f.fn
	}
	switch name {
	case "trim":
		return "trim"
	case "join":
		return "jjoin"
	case "default", "d":
		return "d"
	case "replace", "regex_replace", "regex_search", "hash", "sort", "combine":
		return map[string]string{"replace": "replace", "regex_replace": "regex_replace", "regex_search": "regex_search", "hash": "hash", "sort": "sort", "combine": "combine"}[name]
	}
	return ""
}

// filter converts x | name(args). For a block set, x.X is nil and v is
// the value.
func (c *converter) filter(x *Filter, v gx) (gx, error) {
	if x.X != nil {
		var err error
		if v, err = c.expr(x.X); err != nil {
			return gx{}, err
		}
	}
	x.Name = shortName(x.Name, ansibleFilters)
	if s, ok := collectionFilters[x.Name]; ok {
		x.Name = s
	}
	name := x.Name
	if legacyTestFilters[name] && x.X != nil {
		// A test used as a filter (Ansible before 2.9): the test.
		return c.test(&Test{P: x.P, X: x.X, Name: name, Args: x.Args, Kwargs: x.Kwargs})
	}
	switch {
	case name == "ternary" && len(x.Args) == 3 && len(x.Kwargs) == 0:
		// ternary(true_val, false_val, none_val).
		args, err := c.exprs(x.P, x.Args)
		if err != nil {
			return gx{}, err
		}
		return pipe(v, "ternary_none", args...), nil
	case name == "mandatory" && len(x.Args)+len(x.Kwargs) == 1:
		// mandatory(msg): the same failure, with mdo-play's message.
		return pipe(v, "mandatory"), nil
	}
	if sf, ok := simpleFilters[name]; ok && len(x.Kwargs) == 0 {
		if len(x.Args) < sf.min || len(x.Args) > sf.max {
			return gx{}, fail(x.P, "filter %s with %d arguments is not supported", name, len(x.Args))
		}
		args, err := c.exprs(x.P, x.Args)
		if err != nil {
			return gx{}, err
		}
		if name == "list" && v.typ == tyList {
			return v, nil
		}
		return typed(pipe(v, sf.fn, args...), sf.typ), nil
	}
	argsOf := func(params ...string) ([]gx, error) {
		xs, err := positional(x.P, name, x.Args, x.Kwargs, params...)
		if err != nil {
			return nil, err
		}
		return c.exprs(x.P, xs)
	}
	switch name {
	case "to_nice_json", "to_nice_yaml", "to_json", "to_yaml":
		// indent= (the nice forms) and width= (formatting only) are kept;
		// other options change the output.
		kw, err := kwargs(x.P, name, x.Kwargs, "indent", "width", "sort_keys", "default_flow_style")
		if err != nil || len(x.Args) > 0 {
			return gx{}, firstErr(err, fail(x.P, "%s with positional arguments is not supported", name))
		}
		var args []gx
		if ind, ok := kw["indent"]; ok {
			if !strings.HasPrefix(name, "to_nice") {
				return gx{}, fail(x.P, "%s: indent= is not supported, use to_nice_%s", name, strings.TrimPrefix(name, "to_"))
			}
			g, err := c.expr(ind)
			if err != nil {
				return gx{}, err
			}
			args = append(args, g)
		}
		if sk, ok := kw["sort_keys"]; ok {
			if b, isConst := constBool(sk); !isConst || !b {
				return gx{}, fail(x.P, "%s: sort_keys=false is not supported (keys are always sorted)", name)
			}
		}
		if fs, ok := kw["default_flow_style"]; ok {
			b, isConst := constBool(fs)
			if !isConst || b || name != "to_nice_yaml" && name != "to_yaml" {
				return gx{}, fail(x.P, "%s: default_flow_style is not supported", name)
			}
			if name == "to_yaml" {
				// Block style everywhere is to_nice_yaml with indent 2.
				name = "to_nice_yaml"
				if len(args) == 0 {
					args = []gx{atom("2", tyNum)}
				}
			}
		}
		return typed(pipe(v, name, args...), tyStr), nil
	case "comment":
		// comment(style, decoration=..., prefix=..., ...): the keyword
		// arguments go as a mapping, in Ansible's names.
		xs, err := positional(x.P, name, x.Args, nil, "style")
		if err != nil {
			return gx{}, err
		}
		style := atom(`"plain"`, tyStr)
		if len(xs) == 1 {
			if style, err = c.expr(xs[0]); err != nil {
				return gx{}, err
			}
		}
		var kv []gx
		for _, k := range x.Kwargs {
			switch k.Name {
			case "style":
				if len(xs) == 1 {
					return gx{}, fail(x.P, "comment: style given twice")
				}
				if style, err = c.expr(k.Value); err != nil {
					return gx{}, err
				}
				continue
			case "decoration", "prefix", "prefix_count", "postfix", "postfix_count", "beginning", "end", "newline":
			default:
				return gx{}, fail(x.P, "comment: keyword argument %s is not supported", k.Name)
			}
			g, err := c.expr(k.Value)
			if err != nil {
				return gx{}, err
			}
			kv = append(kv, atom(goString(k.Name), tyStr), g)
		}
		return typed(pipe(v, "comment_kw", style, typed(call("dict", kv...), tyDict)), tyStr), nil
	case "items2dict":
		// key_name/value_name default to key/value: both are passed
		// whenever either is given.
		xs, err := positional(x.P, name, x.Args, x.Kwargs, "key_name", "value_name")
		if err != nil {
			return gx{}, err
		}
		args := []gx{atom(`"key"`, tyStr), atom(`"value"`, tyStr)}
		for i, e := range xs {
			if e == nil {
				continue
			}
			if args[i], err = c.expr(e); err != nil {
				return gx{}, err
			}
		}
		return typed(pipe(v, "items2dict", args...), tyDict), nil
	case "round":
		args, err := argsOf("precision", "method")
		if err != nil {
			return gx{}, err
		}
		return typed(pipe(v, "jround", args...), tyNum), nil
	case "default", "d":
		xs, err := positional(x.P, name, x.Args, x.Kwargs, "default_value", "boolean")
		if err != nil {
			return gx{}, err
		}
		def := atom(`""`, tyStr)
		if len(xs) > 0 {
			if def, err = c.expr(xs[0]); err != nil {
				return gx{}, err
			}
		}
		args := []gx{def}
		if len(xs) > 1 {
			b, err := c.expr(xs[1])
			if err != nil {
				return gx{}, err
			}
			if b.s != "false" {
				args = append(args, b)
			}
		}
		g := pipe(v, "d", args...)
		if v.typ == def.typ {
			g.typ = v.typ
		}
		return g, nil
	case "join":
		kw, err := kwargs(x.P, name, x.Kwargs, "d", "attribute")
		if err != nil {
			return gx{}, err
		}
		if len(x.Args) > 1 {
			return gx{}, fail(x.P, "join takes one argument")
		}
		sep := atom(`""`, tyStr)
		if len(x.Args) == 1 {
			if sep, err = c.expr(x.Args[0]); err != nil {
				return gx{}, err
			}
		} else if d, ok := kw["d"]; ok {
			if sep, err = c.expr(d); err != nil {
				return gx{}, err
			}
		}
		if a, ok := kw["attribute"]; ok {
			ag, err := c.expr(a)
			if err != nil {
				return gx{}, err
			}
			v = pipe(v, "map_attr", ag)
		}
		return typed(pipe(v, "jjoin", sep), tyStr), nil
	case "trim":
		args, err := argsOf("chars")
		if err != nil {
			return gx{}, err
		}
		if len(args) == 1 {
			return typed(pipe(v, "trimAll", args[0]), tyStr), nil
		}
		return typed(pipe(v, "trim"), tyStr), nil
	case "replace":
		if len(x.Args) != 2 || len(x.Kwargs) > 0 {
			return gx{}, fail(x.P, "replace with a count is not supported")
		}
		args, err := c.exprs(x.P, x.Args)
		if err != nil {
			return gx{}, err
		}
		return typed(pipe(v, "replace", args...), tyStr), nil
	case "split":
		args, err := argsOf("sep")
		if err != nil {
			return gx{}, err
		}
		if len(args) == 0 {
			return typed(pipe(v, "fields"), tyList), nil
		}
		return typed(pipe(v, "splitList", args[0]), tyList), nil
	case "regex_replace", "regex_search":
		params := []string{"regex", "replacement", "ignorecase", "multiline"}
		if name == "regex_search" {
			params = []string{"regex", "ignorecase", "multiline"}
			if len(x.Args) > 1 {
				// Group arguments: regex_search('(a)(b)', '\\1', '\\2').
				args, err := c.exprs(x.P, x.Args)
				if err != nil || len(x.Kwargs) > 0 {
					return gx{}, firstErr(err, fail(x.P, "regex_search with groups and keyword arguments is not supported"))
				}
				return pipe(v, "regex_search", args...), nil
			}
		}
		xs, err := positional(x.P, name, x.Args, x.Kwargs, params...)
		if err != nil {
			return gx{}, err
		}
		flags := ""
		n := 2
		if name == "regex_search" {
			n = 1
		}
		// The replacement defaults to "" (regex_replace('x') removes x).
		if len(xs) < 1 || xs[0] == nil {
			return gx{}, fail(x.P, "%s needs a pattern", name)
		}
		for i, f := range []string{"i", "m"} {
			if len(xs) > n+i && xs[n+i] != nil {
				b, ok := constBool(xs[n+i])
				if !ok {
					return gx{}, fail(x.P, "%s: flags must be literal booleans", name)
				}
				if b {
					flags += f
				}
			}
		}
		pat, err := c.expr(xs[0])
		if err != nil {
			return gx{}, err
		}
		if flags != "" {
			s, ok := constStr(xs[0])
			if !ok {
				return gx{}, fail(x.P, "%s: flags with a non-literal pattern are not supported", name)
			}
			pat = atom(goString("(?"+flags+")"+s), tyStr)
		}
		args := []gx{pat}
		if name == "regex_replace" {
			repl := atom(`""`, tyStr)
			if len(xs) > 1 && xs[1] != nil {
				if repl, err = c.expr(xs[1]); err != nil {
					return gx{}, err
				}
			}
			args = append(args, repl)
			return typed(pipe(v, name, args...), tyStr), nil
		}
		return pipe(v, name, args...), nil
	case "sort":
		xs, err := positional(x.P, name, x.Args, x.Kwargs, "reverse", "case_sensitive", "attribute")
		if err != nil {
			return gx{}, err
		}
		var args []gx
		for i, e := range xs {
			if e == nil {
				e = &Const{Val: false}
			}
			g, err := c.expr(e)
			if err != nil {
				return gx{}, err
			}
			if i == 2 {
				// attribute first: sort_by ATTR [reverse [case_sensitive]]
				return typed(pipe(v, "sort_by", append([]gx{g}, trimFalse(args)...)...), tyList), nil
			}
			args = append(args, g)
		}
		return typed(pipe(v, "sort", trimFalse(args)...), tyList), nil
	case "min", "max":
		kw, err := kwargs(x.P, name, x.Kwargs, "attribute", "case_sensitive")
		if err != nil || len(x.Args) > 0 {
			return gx{}, firstErr(err, fail(x.P, "%s takes no positional arguments", name))
		}
		if a, ok := kw["attribute"]; ok {
			ag, err := c.expr(a)
			if err != nil {
				return gx{}, err
			}
			return pipe(v, "j"+name, ag), nil
		}
		return pipe(v, "j"+name), nil
	case "sum":
		kw, err := kwargs(x.P, name, x.Kwargs, "attribute", "start")
		if err != nil || len(x.Args) > 0 {
			return gx{}, firstErr(err, fail(x.P, "sum with positional arguments is not supported"))
		}
		if a, ok := kw["attribute"]; ok {
			ag, err := c.expr(a)
			if err != nil {
				return gx{}, err
			}
			v = pipe(v, "map_attr", ag)
		}
		g := pipe(v, "sum")
		if s, ok := kw["start"]; ok {
			sg, err := c.expr(s)
			if err != nil {
				return gx{}, err
			}
			g = call("plus", sg, g)
		}
		return g, nil
	case "flatten":
		args, err := argsOf("levels")
		if err != nil {
			return gx{}, err
		}
		return typed(pipe(v, "flatten", args...), tyList), nil
	case "combine":
		kw, err := kwargs(x.P, name, x.Kwargs, "recursive", "list_merge")
		if err != nil {
			return gx{}, err
		}
		if lm, ok := kw["list_merge"]; ok {
			if s, _ := constStr(lm); s != "replace" {
				return gx{}, fail(x.P, "combine: list_merge=%s is not supported", s)
			}
		}
		args, err := c.exprs(x.P, x.Args)
		if err != nil {
			return gx{}, err
		}
		fn := "combine"
		if r, ok := kw["recursive"]; ok {
			b, isConst := constBool(r)
			if !isConst {
				return gx{}, fail(x.P, "combine: recursive must be a literal boolean")
			}
			if b {
				fn = "combine_recursive"
			}
		}
		return typed(pipe(v, fn, args...), tyDict), nil
	case "random":
		// random(start, step, seed=): nil stands for what is not given.
		xs, err := positional(x.P, name, x.Args, x.Kwargs, "start", "step", "seed")
		if err != nil {
			return gx{}, err
		}
		args := []gx{atom("nil", tyAny), atom("nil", tyAny), atom("nil", tyAny)}
		for i, e := range xs {
			if e == nil {
				continue
			}
			if args[i], err = c.expr(e); err != nil {
				return gx{}, err
			}
		}
		return pipe(v, "pyrandom", args...), nil
	case "md5":
		if len(x.Args) > 0 || len(x.Kwargs) > 0 {
			return gx{}, fail(x.P, "md5 takes no arguments")
		}
		return typed(pipe(v, "hash", atom(`"md5"`, tyStr)), tyStr), nil
	case "safe":
		// Ansible renders without autoescaping: safe changes nothing.
		if len(x.Args) > 0 || len(x.Kwargs) > 0 {
			return gx{}, fail(x.P, "safe takes no arguments")
		}
		return v, nil
	case "hash":
		args, err := argsOf("hashtype")
		if err != nil {
			return gx{}, err
		}
		if len(args) == 0 {
			args = []gx{atom(`"sha1"`, tyStr)}
		}
		return typed(pipe(v, "hash", args...), tyStr), nil
	case "ipaddr", "ipv4", "ipv6":
		args, err := argsOf("query")
		if err != nil {
			return gx{}, err
		}
		if len(args) == 0 {
			args = []gx{atom(`""`, tyStr)}
		}
		return pipe(v, name, args...), nil
	case "dict2items":
		xs, err := positional(x.P, name, x.Args, x.Kwargs, "key_name", "value_name")
		if err != nil {
			return gx{}, err
		}
		xs = fillArgs(xs, &Const{Val: "key"}, &Const{Val: "value"})
		args, err := c.exprs(x.P, xs)
		if err != nil {
			return gx{}, err
		}
		return typed(pipe(v, "dict2items_kv", args...), tyList), nil
	case "product":
		if len(x.Kwargs) > 0 {
			return gx{}, fail(x.P, "product with repeat= is not supported")
		}
		args, err := c.exprs(x.P, x.Args)
		if err != nil {
			return gx{}, err
		}
		return typed(pipe(v, "product", args...), tyList), nil
	case "groupby":
		xs, err := positional(x.P, name, x.Args, x.Kwargs, "attribute")
		if err != nil {
			return gx{}, err
		}
		if len(xs) != 1 {
			return gx{}, fail(x.P, "groupby needs an attribute")
		}
		if _, ok := constStr(xs[0]); !ok {
			return gx{}, fail(x.P, "groupby with an attribute that is not a string literal is not supported")
		}
		args, err := c.exprs(x.P, xs)
		if err != nil {
			return gx{}, err
		}
		return typed(pipe(v, "groupby", args...), tyList), nil
	case "to_uuid":
		args, err := argsOf("namespace")
		if err != nil {
			return gx{}, err
		}
		return typed(pipe(v, "to_uuid", args...), tyStr), nil
	case "ipwrap":
		if len(x.Args)+len(x.Kwargs) > 0 {
			return gx{}, fail(x.P, "ipwrap with arguments is not supported")
		}
		return pipe(v, "ipwrap"), nil
	case "int":
		xs, err := positional(x.P, name, x.Args, x.Kwargs, "default", "base")
		if err != nil {
			return gx{}, err
		}
		if len(xs) == 2 && xs[0] == nil {
			xs[0] = &Const{Val: int64(0), Raw: "0"}
		}
		args, err := c.exprs(x.P, xs)
		if err != nil {
			return gx{}, err
		}
		return typed(pipe(v, "to_int", args...), tyNum), nil
	case "regex_findall":
		xs, err := positional(x.P, name, x.Args, nil, "regex")
		if err != nil || len(xs) != 1 {
			return gx{}, firstErr(err, fail(x.P, "regex_findall needs a pattern"))
		}
		kw, err := kwargs(x.P, name, x.Kwargs, "multiline", "ignorecase")
		if err != nil {
			return gx{}, err
		}
		flags := ""
		for _, f := range []struct{ k, flag string }{{"ignorecase", "i"}, {"multiline", "m"}} {
			if e, ok := kw[f.k]; ok {
				k, isConst := e.(*Const)
				b, isBool := k.Val.(bool)
				if !isConst || !isBool {
					return gx{}, fail(x.P, "regex_findall: %s= must be true or false", f.k)
				}
				if b {
					flags += f.flag
				}
			}
		}
		pat, err := c.expr(xs[0])
		if err != nil {
			return gx{}, err
		}
		if flags != "" {
			pat = typed(call("print", atom(`"(?`+flags+`)"`, tyStr), pat), tyStr)
		}
		return typed(pipe(v, "regex_findall", pat), tyList), nil
	case "subelements":
		args, err := argsOf("subelements", "skip_missing")
		if err != nil {
			return gx{}, err
		}
		if len(args) == 1 {
			args = append(args, atom("false", tyBool))
		}
		return typed(pipe(v, "subelements", args...), tyList), nil
	case "urlsplit":
		args, err := argsOf("query")
		if err != nil {
			return gx{}, err
		}
		if len(args) == 0 {
			args = []gx{atom(`""`, tyStr)}
		}
		return pipe(v, "urlsplit", args...), nil
	case "json_query":
		args, err := argsOf("expr")
		if err != nil {
			return gx{}, err
		}
		if len(args) != 1 {
			return gx{}, fail(x.P, "json_query needs an expression")
		}
		return pipe(v, "json_query", args...), nil
	case "password_hash":
		xs, err := positional(x.P, name, x.Args, x.Kwargs, "hashtype", "salt")
		if err != nil {
			return gx{}, err
		}
		if len(xs) == 0 {
			xs = []Expr{&Const{Val: "sha512"}}
		}
		s, ok := constStr(xs[0])
		bcrypt := s == "bcrypt" || s == "blowfish"
		if !ok || s != "sha512" && s != "sha256" && !bcrypt {
			return gx{}, fail(x.P, "password_hash: only sha512, sha256 and bcrypt are supported")
		}
		if bcrypt && len(xs) > 1 {
			return gx{}, fail(x.P, "password_hash: bcrypt with a given salt is not supported")
		}
		args, err := c.exprs(x.P, xs)
		if err != nil {
			return gx{}, err
		}
		return typed(pipe(v, "password_hash", args...), tyStr), nil
	case "map":
		return c.higher(x, v, "map")
	case "select", "reject", "selectattr", "rejectattr":
		return c.higher(x, v, name)
	case "indent":
		xs, err := positional(x.P, name, x.Args, x.Kwargs, "width", "first", "blank")
		if err != nil {
			return gx{}, err
		}
		for _, k := range x.Kwargs {
			if k.Name == "indentfirst" {
				return gx{}, fail(x.P, "indent: indentfirst is not supported")
			}
		}
		var args []gx
		for _, e := range xs {
			if e == nil {
				e = &Const{Val: false}
			}
			g, err := c.expr(e)
			if err != nil {
				return gx{}, err
			}
			args = append(args, g)
		}
		if len(args) == 0 {
			args = []gx{atom("4", tyNum)}
		}
		return typed(pipe(v, "jindent", trimFalse(args)...), tyStr), nil
	case "format":
		s, ok := v.s, v.typ == tyStr && v.prec == pAtom
		if !ok || len(x.Kwargs) > 0 {
			return gx{}, fail(x.P, "format on a non-literal string is not supported")
		}
		args, err := c.exprs(x.P, x.Args)
		if err != nil {
			return gx{}, err
		}
		return typed(call("pyformat", append([]gx{atom(s, tyStr)}, args...)...), tyStr), nil
	}
	return gx{}, fail(x.P, "filter %s is not supported", name)
}

// trimFalse drops trailing false arguments (the defaults).
func trimFalse(args []gx) []gx {
	for len(args) > 0 && args[len(args)-1].s == "false" {
		args = args[:len(args)-1]
	}
	return args
}

// higher converts map, select, reject, selectattr and rejectattr.
func (c *converter) higher(x *Filter, v gx, name string) (gx, error) {
	if name == "map" {
		kw, err := kwargs(x.P, name, x.Kwargs, "attribute", "default")
		if err != nil {
			return gx{}, err
		}
		if a, ok := kw["attribute"]; ok {
			if len(x.Args) > 0 {
				return gx{}, fail(x.P, "map with both a filter and attribute= is not supported")
			}
			ag, err := c.expr(a)
			if err != nil {
				return gx{}, err
			}
			args := []gx{ag}
			if d, ok := kw["default"]; ok {
				dg, err := c.expr(d)
				if err != nil {
					return gx{}, err
				}
				args = append(args, dg)
			}
			return typed(pipe(v, "map_attr", args...), tyList), nil
		}
		if len(x.Args) == 0 {
			return gx{}, fail(x.P, "map needs a filter name or attribute=")
		}
		if _, hasDefault := kw["default"]; hasDefault {
			return gx{}, fail(x.P, "map: default= needs attribute=")
		}
		fname, ok := constStr(x.Args[0])
		if !ok {
			return gx{}, fail(x.P, "map: the filter name must be a literal")
		}
		fn := FilterFunc(fname)
		if fn == "" || fname == "sort" || fname == "regex_search" {
			return gx{}, fail(x.P, "map(%q): filter %s is not supported in map", fname, fname)
		}
		// The mapped filter's own arguments (int's base, default's value)
		// are passed as given.
		args, err := c.exprs(x.P, x.Args[1:])
		if err != nil {
			return gx{}, err
		}
		return typed(pipe(v, "map", append([]gx{atom(strconv.Quote(fn), tyStr)}, args...)...), tyList), nil
	}
	if len(x.Kwargs) > 0 {
		return gx{}, fail(x.P, "%s with keyword arguments is not supported", name)
	}
	rest := x.Args
	var args []gx
	if strings.HasSuffix(name, "attr") {
		if len(rest) == 0 {
			return gx{}, fail(x.P, "%s needs an attribute", name)
		}
		ag, err := c.expr(rest[0])
		if err != nil {
			return gx{}, err
		}
		args = append(args, ag)
		rest = rest[1:]
	}
	if len(rest) > 0 {
		tname, ok := constStr(rest[0])
		if !ok {
			return gx{}, fail(x.P, "%s: the test name must be a literal", name)
		}
		fn := TestFunc(tname)
		if fn == "" {
			return gx{}, fail(x.P, "%s: test %s is not supported", name, tname)
		}
		targs, err := c.exprs(x.P, rest[1:])
		if err != nil {
			return gx{}, err
		}
		args = append(args, atom(strconv.Quote(fn), tyStr))
		args = append(args, targs...)
	}
	return typed(pipe(v, name, args...), tyList), nil
}

// tests are Jinja and Ansible tests by name: the Go function, called as
// `fn VALUE ARGS...`, and how many arguments it takes.
var tests = map[string]struct {
	fn       string
	min, max int
}{
	"defined": {"is_defined", 0, 0}, "undefined": {"is_undefined", 0, 0}, "none": {"is_none", 0, 0},
	"match": {"is_match", 1, 3}, "search": {"is_search", 1, 3}, "regex": {"is_regex", 1, 4},
	"succeeded": {"is_succeeded", 0, 0}, "success": {"is_succeeded", 0, 0},
	"failed": {"is_failed", 0, 0}, "failure": {"is_failed", 0, 0},
	"changed": {"is_changed", 0, 0}, "change": {"is_changed", 0, 0},
	"skipped": {"is_skipped", 0, 0}, "skip": {"is_skipped", 0, 0},
	"finished": {"is_finished", 0, 0}, "unreachable": {"is_unreachable", 0, 0},
	"string": {"is_string", 0, 0}, "number": {"is_number", 0, 0}, "mapping": {"is_mapping", 0, 0},
	"iterable": {"is_iterable", 0, 0}, "sequence": {"is_sequence", 0, 0}, "boolean": {"is_boolean", 0, 0},
	"integer": {"is_integer", 0, 0}, "float": {"is_float", 0, 0},
	"truthy": {"is_truthy", 0, 0}, "falsy": {"is_falsy", 0, 0},
	"divisibleby": {"is_divisibleby", 1, 1}, "even": {"is_even", 0, 0}, "odd": {"is_odd", 0, 0},
	"subset": {"is_subset", 1, 1}, "superset": {"is_superset", 1, 1},
	"lower": {"is_lower", 0, 0}, "upper": {"is_upper", 0, 0},
	"in":      {"in", 1, 1},
	"equalto": {"is_eq", 1, 1}, "eq": {"is_eq", 1, 1}, "==": {"is_eq", 1, 1}, "sameas": {"is_eq", 1, 1},
	"ne": {"ne", 1, 1}, "!=": {"ne", 1, 1}, "lt": {"lt", 1, 1}, "<": {"lt", 1, 1}, "lessthan": {"lt", 1, 1},
	"le": {"le", 1, 1}, "<=": {"le", 1, 1}, "gt": {"gt", 1, 1}, ">": {"gt", 1, 1}, "greaterthan": {"gt", 1, 1},
	"ge": {"ge", 1, 1}, ">=": {"ge", 1, 1},
	"version": {"is_version", 1, 4}, "version_compare": {"is_version", 1, 4},
	"true": {"is_true", 0, 0}, "false": {"is_false", 0, 0}, "abs": {"is_abs", 0, 0},
	"contains": {"is_contains", 1, 1},
}

// TestFunc returns the Go function for a Jinja test, or "".
func TestFunc(name string) string { return tests[name].fn }

// TestNames returns the Jinja tests the converter handles.
func TestNames() []string {
	var out []string
	for k := range tests {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (c *converter) test(x *Test) (gx, error) {
	x.Name = shortName(x.Name, ansibleTests)
	t, ok := tests[x.Name]
	if !ok {
		return gx{}, fail(x.P, "test %s is not supported", x.Name)
	}
	v, err := c.expr(x.X)
	if err != nil {
		return gx{}, err
	}
	var xs []Expr
	switch x.Name {
	case "version", "version_compare":
		xs, err = positional(x.P, x.Name, x.Args, x.Kwargs, "version", "operator", "strict", "version_type")
		if err != nil {
			return gx{}, err
		}
		if len(xs) > 2 {
			// strict=True is version_type='strict'.
			vt := Expr(&Const{Val: "loose"})
			if len(xs) > 3 && xs[3] != nil {
				vt = xs[3]
			}
			if xs[2] != nil {
				if b, ok := constBool(xs[2]); ok && b {
					vt = &Const{Val: "strict"}
				}
			}
			if xs[1] == nil {
				xs[1] = &Const{Val: "eq"}
			}
			xs = []Expr{xs[0], xs[1], vt}
		}
	case "match", "search", "regex":
		params := []string{"pattern", "ignorecase", "multiline"}
		if x.Name == "regex" {
			params = append(params, "match_type")
		}
		xs, err = positional(x.P, x.Name, x.Args, x.Kwargs, params...)
		if err != nil {
			return gx{}, err
		}
		if len(xs) > 1 {
			flags := ""
			for i, f := range []string{"i", "m"} {
				if len(xs) > 1+i && xs[1+i] != nil {
					b, ok := constBool(xs[1+i])
					if !ok {
						return gx{}, fail(x.P, "%s: flags must be literal booleans", x.Name)
					}
					if b {
						flags += f
					}
				}
			}
			s, ok := constStr(xs[0])
			if !ok && flags != "" {
				return gx{}, fail(x.P, "%s: flags with a non-literal pattern are not supported", x.Name)
			}
			name := "is_" + x.Name
			if x.Name == "regex" {
				name = "is_search"
				if len(xs) > 3 && xs[3] != nil {
					mt, _ := constStr(xs[3])
					switch mt {
					case "match":
						name = "is_match"
					case "search":
					default:
						return gx{}, fail(x.P, "regex: match_type %q is not supported", mt)
					}
				}
			}
			pat, err := c.expr(xs[0])
			if err != nil {
				return gx{}, err
			}
			if flags != "" {
				pat = atom(goString("(?"+flags+")"+s), tyStr)
			}
			return c.negate(x, call(name, v, pat)), nil
		}
	default:
		if len(x.Kwargs) > 0 {
			return gx{}, fail(x.P, "test %s with keyword arguments is not supported", x.Name)
		}
		xs = x.Args
	}
	if len(xs) < t.min || len(xs) > t.max {
		return gx{}, fail(x.P, "test %s with %d arguments is not supported", x.Name, len(xs))
	}
	args, err := c.exprs(x.P, xs)
	if err != nil {
		return gx{}, err
	}
	switch {
	case x.Name == "undefined" && x.Not:
		return typed(call("is_defined", v), tyBool), nil
	case x.Name == "defined" && x.Not:
		return typed(call("is_undefined", v), tyBool), nil
	}
	return c.negate(x, call(t.fn, append([]gx{v}, args...)...)), nil
}

func (c *converter) negate(x *Test, g gx) gx {
	if x.Not {
		return typed(call("not", g), tyBool)
	}
	return typed(g, tyBool)
}

// shortName drops the collection of ansible-core's own filters and tests
// (ansible.builtin.to_json is to_json); Jinja's builtins have no such
// name (ansible.builtin.upper does not load in Ansible).
func shortName(n string, own map[string]bool) string {
	for _, p := range []string{"ansible.builtin.", "ansible.legacy."} {
		if s, ok := strings.CutPrefix(n, p); ok && own[s] {
			return s
		}
	}
	return n
}

// fillArgs gives each missing argument its default.
func fillArgs(xs []Expr, defaults ...Expr) []Expr {
	out := make([]Expr, len(defaults))
	copy(out, xs)
	for i := range out {
		if out[i] == nil {
			out[i] = defaults[i]
		}
	}
	return out
}

// legacyTestFilters are Ansible's tests that Ansible before 2.9 also took
// as filters (`v | version_compare('2.0', '>=')`), which older public
// roles still write; 2.9 removed the filter forms, and the converter
// writes the test they meant.
var legacyTestFilters = setOf("version_compare", "success", "succeeded", "failed", "failure", "changed", "change",
	"skipped", "skip", "match", "search")

// collectionFilters are the filters of collections that the converter
// knows, by their full names.
var collectionFilters = map[string]string{
	"ansible.utils.ipaddr": "ipaddr", "ansible.utils.ipv4": "ipv4", "ansible.utils.ipv6": "ipv6",
	"ansible.netcommon.ipaddr": "ipaddr", "ansible.netcommon.ipv4": "ipv4", "ansible.netcommon.ipv6": "ipv6",
	"community.general.json_query": "json_query",
}

// ansibleFilters and ansibleTests are ansible-core 2.14's own filter and
// test plugins (ansible/plugins/filter, ansible/plugins/test).
var ansibleFilters = setOf("to_json", "to_nice_json", "from_json", "to_yaml", "to_nice_yaml", "from_yaml",
	"from_yaml_all", "basename", "dirname", "expanduser", "expandvars", "path_join", "realpath", "relpath",
	"splitext", "b64encode", "b64decode", "to_uuid", "to_datetime", "strftime", "quote", "md5", "sha1",
	"checksum", "password_hash", "hash", "regex_replace", "regex_escape", "regex_search", "regex_findall",
	"ternary", "random", "shuffle", "mandatory", "comment", "type_debug", "combine", "extract", "flatten",
	"dict2items", "items2dict", "subelements", "split", "bool", "unique", "intersect", "difference",
	"symmetric_difference", "union", "min", "max", "log", "pow", "root", "human_readable", "human_to_bytes",
	"rekey_on_member", "zip", "zip_longest", "urldecode", "urlsplit", "vault", "unvault")

var ansibleTests = setOf("failed", "failure", "succeeded", "success", "changed", "change", "skipped", "skip",
	"finished", "started", "reachable", "unreachable", "match", "search", "regex", "version", "version_compare",
	"any", "all", "truthy", "falsy", "vault_encrypted", "directory", "file", "link", "exists", "abs", "same_file",
	"mount", "subset", "superset", "contains", "nan", "uri", "url", "urn")

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}
