package templates

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"text/template/parse"
)

// rootName is the name every template is parsed under; error locations
// ("t:LINE:COL") are read back relative to it.
const rootName = "t"

// guard says how a missing variable is treated where an expression appears.
type guard int

const (
	unguarded guard = iota // a missing variable is an error
	shallow                // argument of a guard function: plain variable accesses and index give nil
	deep                   // pipeline of if/with: every variable access inside gives nil
	undef                  // argument of an undefFuncs function: a missing variable is undefined
)

// rewriter turns freshly parsed trees into the trees we execute, once, at
// compile time (cached trees are never changed afterwards):
//   - guarded variable accesses become __get calls that give nil when missing,
//   - index becomes a strict (undefined-aware) or a lenient variant,
//   - mandatory learns the name of the variable it checks,
//   - `X | combine Y` keeps the piped value first,
//   - range pipelines are charged against the work budget,
//   - printed values go through __str (no "<no value>", JSON for lists),
//   - a template that is one action captures the typed value instead.
type rewriter struct {
	tree  *parse.Tree
	paths map[int]string  // position of an unguarded variable access -> its dotted path
	used  map[string]bool // functions the tree calls
	calls map[string][]string
	cur   string // name of the tree being rewritten
}

func newRewriter() *rewriter {
	return &rewriter{paths: map[int]string{}, used: map[string]bool{}, calls: map[string][]string{}}
}

// singleAction returns the template's only action when the tree is exactly
// one action without variable declarations (empty text is allowed).
func singleAction(t *parse.Tree) *parse.ActionNode {
	var act *parse.ActionNode
	for _, n := range t.Root.Nodes {
		switch x := n.(type) {
		case *parse.TextNode:
			if len(x.Text) != 0 {
				return nil
			}
		case *parse.ActionNode:
			if act != nil || len(x.Pipe.Decl) > 0 {
				return nil
			}
			act = x
		default:
			return nil
		}
	}
	return act
}

// rewrite rewrites one tree; capture is the single action to capture, or nil.
func (r *rewriter) rewrite(name string, t *parse.Tree, capture *parse.ActionNode) {
	r.tree, r.cur = t, name
	if capture != nil {
		r.pipe(capture.Pipe, unguarded)
		capture.Pipe = r.newPipe(capture.Pipe.Position(), r.call(capture.Pipe.Position(), fnCapture, capture.Pipe))
		return
	}
	r.list(t.Root)
}

func (r *rewriter) list(l *parse.ListNode) {
	if l == nil {
		return
	}
	for _, n := range l.Nodes {
		r.node(n)
	}
}

func (r *rewriter) node(n parse.Node) {
	switch x := n.(type) {
	case *parse.ActionNode:
		r.pipe(x.Pipe, unguarded)
		if len(x.Pipe.Decl) == 0 {
			x.Pipe.Cmds = append(x.Pipe.Cmds, r.call(x.Position(), fnStr))
		}
	case *parse.IfNode:
		r.branch(&x.BranchNode)
	case *parse.WithNode:
		r.branch(&x.BranchNode)
	case *parse.RangeNode:
		r.pipe(x.Pipe, unguarded)
		x.Pipe.Cmds = append(x.Pipe.Cmds, r.call(x.Position(), fnRange))
		r.list(x.List)
		r.list(x.ElseList)
	case *parse.TemplateNode:
		if x.Pipe != nil {
			r.pipe(x.Pipe, unguarded)
		}
		r.calls[r.cur] = append(r.calls[r.cur], x.Name)
	case *parse.ListNode:
		r.list(x)
	}
}

func (r *rewriter) branch(b *parse.BranchNode) {
	r.pipe(b.Pipe, deep)
	r.list(b.List)
	r.list(b.ElseList)
}

// fieldPath returns the dotted path of a variable access node as written
// (without the leading dot), or "" when n is not one.
func fieldPath(n parse.Node) string {
	switch x := n.(type) {
	case *parse.FieldNode:
		return strings.Join(x.Ident, ".")
	case *parse.VariableNode:
		if len(x.Ident) > 1 {
			return strings.Join(x.Ident, ".")
		}
	case *parse.ChainNode:
		if p, ok := x.Node.(*parse.PipeNode); ok && len(p.Cmds) == 1 {
			if a := soleAccess(p.Cmds[0]); a != nil {
				return fieldPath(a) + "." + strings.Join(x.Field, ".")
			}
		}
		return strings.TrimPrefix(x.String(), ".")
	}
	return ""
}

// soleAccess returns the variable access that is a command's only word.
func soleAccess(c *parse.CommandNode) parse.Node {
	if len(c.Args) != 1 || fieldPath(c.Args[0]) == "" {
		return nil
	}
	return c.Args[0]
}

func (r *rewriter) pipe(p *parse.PipeNode, g guard) {
	if p == nil {
		return
	}
	prevPath := ""
	for i, c := range p.Cmds {
		cg := g
		if cg == undef && i+1 < len(p.Cmds) {
			// Only the last command's value reaches the undefined-aware function.
			cg = shallow
		}
		if i+1 < len(p.Cmds) {
			if id, ok := p.Cmds[i+1].Args[0].(*parse.IdentifierNode); ok {
				switch {
				case undefFuncs[id.Ident]:
					cg = undef
				case cg == unguarded && guardFuncs[id.Ident]:
					cg = shallow
				}
			}
		}
		path := ""
		if a := soleAccess(c); a != nil {
			path = fieldPath(a)
		}
		r.command(c, cg, i > 0, prevPath)
		prevPath = path
	}
}

// command rewrites one command; piped says whether it receives the value of
// the previous command (whose variable path, if any, is prevPath).
func (r *rewriter) command(c *parse.CommandNode, g guard, piped bool, prevPath string) {
	switch first := c.Args[0].(type) {
	case *parse.IdentifierNode:
		name := first.Ident
		argGuard := unguarded
		switch {
		case undefFuncs[name]:
			argGuard = undef
		case g == deep:
			argGuard = deep
		case guardFuncs[name] || name == "index" && g != unguarded:
			argGuard = shallow
		}
		argPath := ""
		if len(c.Args) > 1 {
			argPath = fieldPath(c.Args[1])
		}
		for j := 1; j < len(c.Args); j++ {
			c.Args[j] = r.arg(c.Args[j], argGuard)
		}
		switch {
		case name == "index" && g == undef:
			name = fnIndexUndef
		case name == "index" && g != unguarded:
			name = fnIndexOpt
		case name == "index":
			name = fnIndex
			c.Args = insert(c.Args, 1, r.str(first.Position(), argPath))
		case name == "mandatory":
			vname := prevPath
			if len(c.Args) > 1 {
				vname = argPath
			}
			name = fnMandatory
			c.Args = insert(c.Args, 1, r.str(first.Position(), vname))
		case name == "combine" && piped:
			name = fnCombinePipe
		}
		if name != first.Ident {
			c.Args[0] = r.ident(first.Position(), name)
		}
		r.used[name] = true
	case *parse.PipeNode:
		r.pipe(first, g)
	default:
		if a := soleAccess(c); a != nil && g != unguarded {
			c.Args = r.getCall(a, g).Args
			return
		}
		for j := range c.Args {
			c.Args[j] = r.arg(c.Args[j], unguarded)
		}
	}
}

func insert(l []parse.Node, i int, n parse.Node) []parse.Node {
	l = append(l, nil)
	copy(l[i+1:], l[i:])
	l[i] = n
	return l
}

// arg rewrites one argument.
func (r *rewriter) arg(n parse.Node, g guard) parse.Node {
	switch x := n.(type) {
	case *parse.FieldNode, *parse.VariableNode:
		if fieldPath(x) == "" {
			return n
		}
		if g != unguarded {
			return r.newPipe(x.Position(), r.getCall(x, g))
		}
		r.paths[int(x.Position())] = fieldPath(x)
	case *parse.ChainNode:
		inner := g
		if g == undef {
			inner = shallow
		}
		x.Node = r.arg(x.Node, inner)
		if g != unguarded {
			return r.newPipe(x.Position(), r.getCall(x, g))
		}
		r.recordChain(x)
	case *parse.PipeNode:
		r.pipe(x, g)
	}
	return n
}

// recordChain records a chain's path where text/template reports its
// errors: at the innermost access when the chain starts with one in
// parentheses, as in (.a).b.
func (r *rewriter) recordChain(x *parse.ChainNode) {
	pos := int(x.Position())
	if p, ok := x.Node.(*parse.PipeNode); ok && len(p.Cmds) == 1 {
		if a := soleAccess(p.Cmds[0]); a != nil {
			pos = int(a.Position())
		}
	}
	r.paths[pos] = fieldPath(x)
}

// getCall builds `__get RECEIVER "f1" "f2"...` for a variable access
// (`__lookup`, which gives undefined instead of nil, under undef).
func (r *rewriter) getCall(n parse.Node, g guard) *parse.CommandNode {
	pos := n.Position()
	var recv parse.Node
	var fields []string
	switch x := n.(type) {
	case *parse.FieldNode:
		recv, fields = &parse.DotNode{NodeType: parse.NodeDot, Pos: pos}, x.Ident
	case *parse.VariableNode:
		recv = &parse.VariableNode{NodeType: parse.NodeVariable, Pos: pos, Ident: x.Ident[:1]}
		fields = x.Ident[1:]
	case *parse.ChainNode:
		recv, fields = x.Node, x.Field
	}
	fn := fnGet
	if g == undef {
		fn = fnLookup
	}
	c := r.call(pos, fn, recv)
	for _, f := range fields {
		c.Args = append(c.Args, r.str(pos, f))
	}
	return c
}

func (r *rewriter) ident(pos parse.Pos, name string) *parse.IdentifierNode {
	return parse.NewIdentifier(name).SetTree(r.tree).SetPos(pos)
}

func (r *rewriter) str(pos parse.Pos, s string) *parse.StringNode {
	return &parse.StringNode{NodeType: parse.NodeString, Pos: pos, Quoted: strconv.Quote(s), Text: s}
}

func (r *rewriter) call(pos parse.Pos, name string, args ...parse.Node) *parse.CommandNode {
	r.used[name] = true
	return &parse.CommandNode{NodeType: parse.NodeCommand, Pos: pos, Args: append([]parse.Node{r.ident(pos, name)}, args...)}
}

func (r *rewriter) newPipe(pos parse.Pos, cmds ...*parse.CommandNode) *parse.PipeNode {
	return &parse.PipeNode{NodeType: parse.NodePipe, Pos: pos, Cmds: cmds}
}

// checkRecursion rejects templates that include themselves ({{ template }}
// cycles), which would otherwise recurse to text/template's depth limit.
func (r *rewriter) checkRecursion() error {
	const (
		visiting = 1
		done     = 2
	)
	state := map[string]int{}
	var visit func(string) error
	visit = func(n string) error {
		switch state[n] {
		case visiting:
			return fmt.Errorf("template %q includes itself", n)
		case done:
			return nil
		}
		state[n] = visiting
		for _, c := range r.calls[n] {
			if err := visit(c); err != nil {
				return err
			}
		}
		state[n] = done
		return nil
	}
	names := make([]string, 0, len(r.calls))
	for n := range r.calls {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := visit(n); err != nil {
			return err
		}
	}
	return nil
}
