package templates

import (
	"strings"
	"text/template/parse"
)

// Template analysis: what a template refers to, read from its parse tree
// with the same guard rules the engine applies when it renders. The loader
// and lint use it to report undefined variables before a run; the engine
// uses it to order variable definitions that refer to each other.

// ContainsTemplate reports whether v (a string, or a list or mapping
// decoded from YAML) holds a template string anywhere, keys included.
func ContainsTemplate(v any) bool {
	switch x := v.(type) {
	case string:
		return strings.Contains(x, "{{")
	case []any:
		for _, e := range x {
			if ContainsTemplate(e) {
				return true
			}
		}
	case map[string]any:
		for k, e := range x {
			if strings.Contains(k, "{{") || ContainsTemplate(e) {
				return true
			}
		}
	}
	return false
}

// Use is one use of a top-level variable (.name or $.name) in a template.
type Use struct {
	Name   string
	Offset int // byte offset of the use in the analysed text
	// Guarded: a missing variable is not an error here (an argument of
	// default, hasKey, ternary..., a pipeline of if or with, or the body
	// of an if that tests the variable).
	Guarded bool
}

// Analyze parses text, a template, or a bare pipeline (a condition) when
// cond is set, and returns its uses of top-level variables in order. A
// call of a function templates do not offer is a parse error.
func (e *Engine) Analyze(text string, cond bool) ([]Use, error) {
	return analyze(e.funcs, text, cond)
}

// AnalyzeSyntax is Analyze without checking function names, for text that
// may call functions we do not have (lint reads Jinja-flavoured text).
func AnalyzeSyntax(text string, cond bool) ([]Use, error) {
	return analyze(nil, text, cond)
}

// Refs returns the names of the top-level variables a template refers to,
// guarded or not; nil when text does not parse.
func (e *Engine) Refs(text string) []string {
	uses, err := analyze(e.funcs, text, false)
	if err != nil {
		return nil
	}
	out := make([]string, 0, len(uses))
	for _, u := range uses {
		out = append(out, u.Name)
	}
	return out
}

func analyze(funcs map[string]any, text string, cond bool) ([]Use, error) {
	src, shift := text, 0
	if cond {
		src, shift = "{{"+text+"}}", 2
	}
	t := parse.New(rootName)
	if funcs == nil {
		t.Mode = parse.SkipFuncCheck
	}
	trees := map[string]*parse.Tree{}
	if _, err := t.Parse(src, "{{", "}}", trees, funcs, builtins); err != nil {
		return nil, err
	}
	w := &useWalker{}
	for _, tr := range trees {
		if tr.Root != nil {
			w.list(tr.Root, tr.Name != rootName)
		}
	}
	for i := range w.uses {
		w.uses[i].Offset = max(w.uses[i].Offset-shift, 0)
	}
	return w.uses, nil
}

type useWalker struct {
	uses    []Use
	checked map[string]int // variables tested by an enclosing if
	// inGuard > 0 while walking a guarded plain access or chain: every
	// use inside is guarded.
	inGuard int
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

// pipe walks a pipeline: a command piped into a guard function is guarded
// as that function's argument would be, as the rewriter does.
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
		w.guarded(c.Args[0], g, rel) // a guarded plain access
		return
	}
	for _, a := range c.Args {
		w.arg(a, unguarded, rel)
	}
}

func (w *useWalker) arg(n parse.Node, g guard, rel bool) {
	switch x := n.(type) {
	case *parse.FieldNode:
		if !rel {
			w.use(x.Ident[0], int(x.Position()), g)
		}
	case *parse.VariableNode:
		if len(x.Ident) > 1 && x.Ident[0] == "$" {
			w.use(x.Ident[1], int(x.Position()), g)
		}
	case *parse.ChainNode:
		if g != unguarded {
			w.guarded(x.Node, g, rel)
			return
		}
		w.arg(x.Node, g, rel)
	case *parse.PipeNode:
		w.pipe(x, g, rel)
	}
}

// guarded walks n, where a missing variable gives nil whatever is inside.
func (w *useWalker) guarded(n parse.Node, g guard, rel bool) {
	w.inGuard++
	w.arg(n, g, rel)
	w.inGuard--
}

func (w *useWalker) use(name string, off int, g guard) {
	w.uses = append(w.uses, Use{Name: name, Offset: off, Guarded: g != unguarded || w.inGuard > 0 || w.checked[name] > 0})
}
