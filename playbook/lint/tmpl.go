package lint

import (
	"strings"
	"text/template/parse"

	"github.com/Masterminds/sprig/v3"
)

// funcNames returns the names of the functions templates may call: the
// templates package's set (sprig's text functions without env, expandenv
// and getHostByName, text/template's builtins, and our additions). Parsing
// with them finds bare identifiers, which is how Jinja variables look.
func funcNames() map[string]any {
	m := map[string]any{}
	for k := range sprig.TxtFuncMap() {
		m[k] = true
	}
	for _, k := range []string{"env", "expandenv", "getHostByName"} {
		delete(m, k)
	}
	for _, k := range []string{
		"and", "or", "not", "call", "index", "slice", "len", "eq", "ne", "lt", "le", "gt", "ge",
		"print", "printf", "println", "html", "js", "urlquery",
		"to_json", "to_nice_json", "from_json", "to_yaml", "to_nice_yaml", "from_yaml", "b64encode",
		"b64decode", "quote", "bool", "mandatory", "basename", "dirname", "regex_replace", "regex_search",
		"combine", "dict2items", "items2dict", "flatten", "unique",
	} {
		m[k] = true
	}
	return m
}

// guardFuncs are the functions whose arguments may be undefined variables
// (as in package templates).
var guardFuncs = map[string]bool{
	"default": true, "empty": true, "coalesce": true, "hasKey": true, "ternary": true,
	"kindIs": true, "typeOf": true, "mandatory": true,
}

// guard says whether a missing variable is an error where an expression
// appears, mirroring the templates package's rewriter.
type guard int

const (
	unguarded guard = iota
	shallow         // argument of a guard function
	deep            // pipeline of if/with
)

// varUse is one unguarded use of a top-level variable.
type varUse struct {
	name string
	off  int // byte offset in the parsed text
}

// parseTemplate parses text (a template, or a bare pipeline when cond is
// set) and returns its unguarded top-level variable uses. Offsets are
// relative to text.
func parseTemplate(funcs map[string]any, text string, cond bool, skipFuncs bool) ([]varUse, error) {
	src, shift := text, 0
	if cond {
		src, shift = "{{"+text+"}}", 2
	}
	t := parse.New("t")
	if skipFuncs {
		t.Mode = parse.SkipFuncCheck
	}
	trees := map[string]*parse.Tree{}
	if _, err := t.Parse(src, "{{", "}}", trees, funcs); err != nil {
		return nil, err
	}
	w := &useWalker{}
	for _, tr := range trees {
		if tr.Root != nil {
			w.list(tr.Root, tr.Name != "t")
		}
	}
	for i := range w.uses {
		w.uses[i].off -= shift
		if w.uses[i].off < 0 {
			w.uses[i].off = 0
		}
	}
	return w.uses, nil
}

type useWalker struct {
	uses    []varUse
	checked map[string]int // variables tested by an enclosing if
}

// tested returns the top-level variables an if pipeline tests (.x, and
// hasKey . "x"); a negated test (not ...) guards nothing.
func tested(p *parse.PipeNode) []string {
	if p == nil || len(p.Cmds) == 0 {
		return nil
	}
	if id, ok := p.Cmds[0].Args[0].(*parse.IdentifierNode); ok && id.Ident == "not" {
		return nil
	}
	var out []string
	var walk func(n parse.Node)
	walk = func(n parse.Node) {
		switch x := n.(type) {
		case *parse.FieldNode:
			out = append(out, x.Ident[0])
		case *parse.PipeNode:
			for _, c := range x.Cmds {
				walk(c)
			}
		case *parse.CommandNode:
			if id, ok := x.Args[0].(*parse.IdentifierNode); ok && id.Ident == "hasKey" && len(x.Args) == 3 {
				if _, dot := x.Args[1].(*parse.DotNode); dot {
					if s, ok := x.Args[2].(*parse.StringNode); ok {
						out = append(out, s.Text)
					}
				}
			}
			for _, a := range x.Args {
				walk(a)
			}
		}
	}
	walk(p)
	return out
}

// list walks a list of nodes; rel says the dot is not the root there
// (inside with and range, and in named templates).
func (w *useWalker) list(l *parse.ListNode, rel bool) {
	if l == nil {
		return
	}
	for _, n := range l.Nodes {
		switch x := n.(type) {
		case *parse.ActionNode:
			w.pipe(x.Pipe, unguarded, rel)
		case *parse.IfNode:
			w.pipe(x.Pipe, deep, rel)
			names := tested(x.Pipe)
			if w.checked == nil {
				w.checked = map[string]int{}
			}
			for _, n := range names {
				w.checked[n]++
			}
			w.list(x.List, rel)
			for _, n := range names {
				w.checked[n]--
			}
			w.list(x.ElseList, rel)
		case *parse.WithNode:
			w.pipe(x.Pipe, deep, rel)
			w.list(x.List, true)
			w.list(x.ElseList, rel)
		case *parse.RangeNode:
			w.pipe(x.Pipe, unguarded, rel)
			w.list(x.List, true)
			w.list(x.ElseList, rel)
		case *parse.TemplateNode:
			w.pipe(x.Pipe, unguarded, rel)
		case *parse.ListNode:
			w.list(x, rel)
		}
	}
}

func (w *useWalker) pipe(p *parse.PipeNode, g guard, rel bool) {
	if p == nil {
		return
	}
	for i, c := range p.Cmds {
		cg := g
		if cg == unguarded && i+1 < len(p.Cmds) {
			if id, ok := p.Cmds[i+1].Args[0].(*parse.IdentifierNode); ok && guardFuncs[id.Ident] {
				cg = shallow
			}
		}
		w.command(c, cg, rel)
	}
}

func (w *useWalker) command(c *parse.CommandNode, g guard, rel bool) {
	if len(c.Args) == 0 {
		return
	}
	if id, ok := c.Args[0].(*parse.IdentifierNode); ok {
		ag := unguarded
		if g == deep {
			ag = deep
		} else if guardFuncs[id.Ident] || id.Ident == "index" && g != unguarded {
			ag = shallow
		}
		for _, a := range c.Args[1:] {
			w.arg(a, ag, rel)
		}
		return
	}
	if len(c.Args) == 1 && g != unguarded {
		return // a guarded plain access
	}
	for _, a := range c.Args {
		w.arg(a, unguarded, rel)
	}
}

func (w *useWalker) arg(n parse.Node, g guard, rel bool) {
	switch x := n.(type) {
	case *parse.FieldNode:
		if g == unguarded && !rel && w.checked[x.Ident[0]] == 0 {
			w.uses = append(w.uses, varUse{name: x.Ident[0], off: int(x.Position())})
		}
	case *parse.VariableNode:
		if g == unguarded && len(x.Ident) > 1 && x.Ident[0] == "$" && w.checked[x.Ident[1]] == 0 {
			w.uses = append(w.uses, varUse{name: x.Ident[1], off: int(x.Position())})
		}
	case *parse.ChainNode:
		if g != unguarded {
			return
		}
		w.arg(x.Node, g, rel)
	case *parse.PipeNode:
		w.pipe(x, g, rel)
	}
}

// lineCol returns the 1-based line and column of byte offset off in text.
func lineCol(text string, off int) (int, int) {
	if off > len(text) {
		off = len(text)
	}
	before := text[:off]
	line := strings.Count(before, "\n") + 1
	col := off - strings.LastIndexByte(before, '\n')
	return line, col
}
