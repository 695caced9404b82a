// Package templates renders Go text/template templates (with the sprig
// functions and our Ansible-flavoured ones) and evaluates conditions; it is
// the one place where playbook strings, template files and when: clauses are
// evaluated, and it reports undefined variables by name.
package templates

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"text/template"
	"text/template/parse"
	"unsafe"

	"github.com/mdo-play/mdo-play/templates/yaml11"
)

// maxCache bounds the number of parsed templates kept; when full, the cache
// starts over (cheap, and a run rarely has that many distinct strings).
const maxCache = 8192

// builtins are text/template's own functions, named so the parser accepts
// them (the ones that can grow their input are overridden in funcMap).
var builtins = map[string]any{
	"and": true, "or": true, "not": true, "call": true, "index": true, "slice": true,
	"len": true, "eq": true, "ne": true, "lt": true, "le": true, "gt": true, "ge": true,
}

// Engine renders templates. It is safe for concurrent use; parsed templates
// are cached by their source text, so each distinct string is parsed once.
type Engine struct {
	funcs        map[string]any // what templates may call, by name
	internal     map[string]any // what rewritten trees call
	ctrl         Controller     // for lookups; nil: none
	hostPatterns HostPatterns   // for inventory_hostnames; nil: none

	mu    sync.RWMutex
	cache map[cacheKey]*compiled
}

type kind uint8

const (
	kindText kind = iota // a string or file that may contain actions
	kindExpr             // a bare pipeline (conditions, Eval)
)

type cacheKey struct {
	kind kind
	src  string
}

// New returns an Engine with the standard function set.
func New(opts ...Option) *Engine {
	e := &Engine{funcs: funcMap(), internal: internalFuncs(), cache: map[cacheKey]*compiled{}}
	for _, o := range opts {
		o(e)
	}
	return e
}

// IsTemplate reports whether s contains a template action ("{{").
func IsTemplate(s string) bool { return strings.Contains(s, "{{") }

// needsRender reports whether Render must look at s: it has an action, or
// something that may be a Jinja statement to complain about.
func needsRender(s string) bool {
	return strings.Contains(s, "{{") || strings.Contains(s, "{%")
}

// Render renders one string value. A string without "{{" is returned as it
// is (a string with a Jinja statement such as "{% if x %}" is an error with
// a hint instead). A string that is exactly one action (`{{ .app_port }}`)
// returns the pipeline's value with its type (int, bool, []any,
// map[string]any, ...); any other template returns the rendered text.
//
// A typed result may be a map or list taken from vars as it is (not
// copied): treat it as read-only.
func (e *Engine) Render(s string, vars map[string]any) (any, error) {
	if !needsRender(s) {
		return s, nil
	}
	return e.render("", s, vars, false)
}

// RenderString renders s and formats the result as text (for template
// files and names): strings as they are, lists and maps as JSON. name is
// used in errors (a file path, or "" for an inline value).
func (e *Engine) RenderString(name, s string, vars map[string]any) (string, error) {
	if !needsRender(s) {
		return s, nil
	}
	v, err := e.render(name, s, vars, true)
	if err != nil {
		return "", err
	}
	return v.(string), nil
}

func (e *Engine) render(name, s string, vars map[string]any, text bool) (any, error) {
	c := e.compile(kindText, s)
	if c.err != nil {
		return nil, c.fail(name, c.err)
	}
	v, err := c.exec(vars)
	if err != nil {
		return nil, c.fail(name, err)
	}
	if text && c.typed {
		str, err := toText(v)
		if err != nil {
			return nil, c.fail(name, err)
		}
		return str, nil
	}
	return v, nil
}

// RenderValue renders every string inside v, recursing into maps and
// lists, and returns a new value: the maps and lists of v are always
// copied, v is never changed. Map keys are rendered too when they contain
// "{{". As with Render, a typed value taken from vars is not copied.
func (e *Engine) RenderValue(v any, vars map[string]any) (any, error) {
	switch x := v.(type) {
	case string:
		if !needsRender(x) {
			return v, nil
		}
		return e.render("", x, vars, false)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, el := range x {
			if needsRender(k) {
				rk, err := e.RenderString("", k, vars)
				if err != nil {
					return nil, err
				}
				k = rk
			}
			r, err := e.RenderValue(el, vars)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case map[any]any:
		out := make(map[any]any, len(x))
		for k, el := range x {
			if ks, ok := k.(string); ok && needsRender(ks) {
				rk, err := e.RenderString("", ks, vars)
				if err != nil {
					return nil, err
				}
				k = rk
			}
			r, err := e.RenderValue(el, vars)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case []any:
		return renderSlice(e, x, vars)
	case []string:
		return renderSlice(e, x, vars)
	}
	return v, nil
}

// renderSlice renders each element of a list into a new []any.
func renderSlice[T any](e *Engine, x []T, vars map[string]any) (any, error) {
	out := make([]any, len(x))
	for i, el := range x {
		r, err := e.RenderValue(el, vars)
		if err != nil {
			return nil, err
		}
		out[i] = r
	}
	return out, nil
}

// Eval evaluates a bare pipeline (no braces: `.result.stdout | upper`,
// `len .groups.web`) and returns its typed value.
func (e *Engine) Eval(expr string, vars map[string]any) (any, error) {
	if strings.Contains(expr, "{{") {
		return nil, e.bracesError("expression", expr)
	}
	if strings.TrimSpace(expr) == "" {
		return nil, &Error{Err: errors.New("empty expression")}
	}
	c := e.compile(kindExpr, expr)
	if c.err != nil {
		return nil, c.fail("", c.err)
	}
	v, err := c.exec(vars)
	if err != nil {
		return nil, c.fail("", err)
	}
	return v, nil
}

// Cond evaluates a condition written as a bare pipeline (`eq .env "prod"`,
// `and .enabled (gt .replicas 1)`, `not (hasKey . "x")`). The value must be
// a boolean; a string holding a YAML 1.1 boolean word (true/false, yes/no,
// on/off, y/n, 1/0, any case) is accepted, as Ansible accepts it. Anything
// else is an error, as is a condition containing "{{".
func (e *Engine) Cond(expr string, vars map[string]any) (bool, error) {
	if strings.Contains(expr, "{{") {
		return false, e.bracesError("condition", expr)
	}
	v, err := e.Eval(expr, vars)
	if err != nil {
		return false, err
	}
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		if b, err := yaml11.Bool(x); err == nil {
			return b, nil
		}
	}
	return false, &Error{Err: fmt.Errorf("condition %q must be a boolean, got %s %s", expr, typeName(v), short(v))}
}

// Check parses s as a template without rendering it, so that syntax errors
// (and Jinja written by mistake) are found when a playbook is loaded. A
// string without "{{" is always fine. The parse is cached for later renders.
func (e *Engine) Check(s string) error {
	if !strings.Contains(s, "{{") && !strings.Contains(s, "{%") {
		return nil
	}
	if c := e.compile(kindText, s); c.err != nil {
		return c.fail("", c.err)
	}
	return nil
}

// CheckCond parses a condition (a bare pipeline) without evaluating it.
func (e *Engine) CheckCond(expr string) error {
	if strings.Contains(expr, "{{") {
		return e.bracesError("condition", expr)
	}
	if strings.TrimSpace(expr) == "" {
		return &Error{Err: errors.New("empty condition")}
	}
	if c := e.compile(kindExpr, expr); c.err != nil {
		return c.fail("", c.err)
	}
	return nil
}

// Conds evaluates a list of conditions joined by AND; it stops at the first
// false one.
func (e *Engine) Conds(exprs []string, vars map[string]any) (bool, error) {
	for _, x := range exprs {
		ok, err := e.Cond(x, vars)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

func short(v any) string {
	s, err := toJSON(v)
	if err != nil {
		s = fmt.Sprint(v)
	}
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}

// compiled is one parsed and rewritten template, shared by all renders of
// the same source text. Its trees are never changed after compile.
type compiled struct {
	e     *Engine
	text  string // the text parsed (a condition wrapped in {{ }})
	typed bool   // one action whose value is captured
	expr  bool   // compiled from a bare pipeline
	trees map[string]*parse.Tree
	paths map[int]string // position of an unguarded variable access -> dotted path
	used  []string       // functions the trees call
	err   error          // parse or rewrite error, cached as well
	pool  sync.Pool      // *instance
}

func (e *Engine) compile(k kind, src string) *compiled {
	key := cacheKey{k, src}
	e.mu.RLock()
	c := e.cache[key]
	e.mu.RUnlock()
	if c != nil {
		return c
	}
	c = e.build(k, src)
	e.mu.Lock()
	if old := e.cache[key]; old != nil {
		c = old
	} else {
		if len(e.cache) >= maxCache {
			clear(e.cache)
		}
		e.cache[key] = c
	}
	e.mu.Unlock()
	return c
}

func (e *Engine) build(k kind, src string) *compiled {
	c := &compiled{e: e, text: src, expr: k == kindExpr}
	c.pool.New = func() any { return c.newInstance() }
	if k == kindExpr {
		c.text = "{{" + src + "}}"
	}
	guarded := src
	if k == kindExpr {
		// An expression is all action: "{%" there can only stand inside a
		// string literal, which is text, not a Jinja statement.
		guarded = blankLiterals(src)
	}
	if stmt := jinjaStatement(guarded); stmt != "" {
		c.err = fmt.Errorf("%q is a Jinja statement, not a Go template action", stmt)
		return c
	}
	trees, err := parse.Parse(rootName, c.text, "{{", "}}", e.funcs, builtins)
	if err != nil {
		c.err = err
		return c
	}
	root := trees[rootName]
	if root == nil {
		root = &parse.Tree{Name: rootName, ParseName: rootName, Root: &parse.ListNode{NodeType: parse.NodeList}}
		trees[rootName] = root
	}
	var capture *parse.ActionNode
	if len(trees) == 1 {
		capture = singleAction(root)
	}
	if k == kindExpr && capture == nil {
		c.err = errors.New("a condition or expression must be a single pipeline")
		return c
	}
	c.typed = capture != nil
	r := newRewriter()
	names := make([]string, 0, len(trees))
	for n := range trees {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if n == rootName {
			r.rewrite(n, trees[n], capture)
		} else {
			r.rewrite(n, trees[n], nil)
		}
	}
	if err := r.checkRecursion(); err != nil {
		c.err = err
		return c
	}
	c.trees, c.paths = trees, r.paths
	for n := range r.used {
		c.used = append(c.used, n)
	}
	sort.Strings(c.used)
	return c
}

// state is what one execution of a template owns.
type state struct {
	ctrl         Controller
	hostPatterns HostPatterns
	vars         map[string]any // the variables of this execution, for lookups
	work         int64
	captured     any
	owned        map[unsafe.Pointer]struct{} // maps made by this execution, which set/merge may change
	out          limitWriter
}

func (s *state) reset() {
	s.work, s.captured, s.vars = 0, nil, nil
	clear(s.owned)
	s.out.reset()
}

func (s *state) charge(n int64) error {
	s.work += n
	if s.work > maxWork {
		return fmt.Errorf("template did too much work (over %d units): %w", maxWork, ErrLimit)
	}
	return nil
}

// account charges a function's result and enforces the size caps.
func (s *state) account(name string, v reflect.Value) error {
	if v.Kind() == reflect.Interface {
		v = v.Elem()
	}
	var n int64 = 8
	switch v.Kind() {
	case reflect.String:
		n = int64(v.Len())
		if err := capBytes(name, n); err != nil {
			return err
		}
	case reflect.Slice, reflect.Array, reflect.Map:
		if err := capElems(name, int64(v.Len())); err != nil {
			return err
		}
		n = costElem * int64(v.Len())
	}
	return s.charge(n)
}

// own records a map made by this execution.
func (s *state) own(v reflect.Value) {
	if v.Kind() == reflect.Interface {
		v = v.Elem()
	}
	if v.Kind() == reflect.Map && !v.IsNil() {
		if s.owned == nil {
			s.owned = map[unsafe.Pointer]struct{}{}
		}
		s.owned[v.UnsafePointer()] = struct{}{}
	}
}

// mutable fails unless d was made by this execution: the caller's variables
// are never changed by a template.
func (s *state) mutable(name string, d map[string]any) error {
	if d != nil {
		if _, ok := s.owned[reflect.ValueOf(d).UnsafePointer()]; ok {
			return nil
		}
	}
	return fmt.Errorf("%s: only a mapping made in this template (by dict) can be changed, not a variable; build a new one with combine", name)
}

// reaches reports whether v contains the map m (which would make a cycle).
func reaches(v any, m unsafe.Pointer, depth int) bool {
	if depth > maxDataNest {
		return true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Map:
		if rv.UnsafePointer() == m {
			return true
		}
		it := rv.MapRange()
		for it.Next() {
			if reaches(it.Value().Interface(), m, depth+1) {
				return true
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < rv.Len(); i++ {
			if reaches(rv.Index(i).Interface(), m, depth+1) {
				return true
			}
		}
	}
	return false
}

// limitWriter collects output up to maxBytes.
type limitWriter struct{ b strings.Builder }

func (w *limitWriter) Write(p []byte) (int, error) {
	if w.b.Len()+len(p) > maxBytes {
		return 0, fmt.Errorf("rendered text is over %d bytes: %w", maxBytes, ErrLimit)
	}
	return w.b.Write(p)
}

func (w *limitWriter) reset() { w.b = strings.Builder{} }

// instance is a template ready to execute with its own state; instances
// are pooled per compiled template so that the per-execution functions
// (capture, budgets, owned maps) need no locking.
type instance struct {
	t  *template.Template
	st *state
}

func (c *compiled) newInstance() *instance {
	st := &state{ctrl: c.e.ctrl, hostPatterns: c.e.hostPatterns}
	fm := make(template.FuncMap, len(c.used))
	for _, name := range c.used {
		if f := st.bound(name, c.e); f != nil {
			fm[name] = f
		}
	}
	t := template.New(rootName).Option("missingkey=error").Funcs(fm)
	for name, tree := range c.trees {
		// AddParseTree never fails; it only associates the tree.
		_, _ = t.AddParseTree(name, tree)
	}
	return &instance{t: t, st: st}
}

// bound returns the function to install under name for this state, or nil
// for text/template's builtins.
func (s *state) bound(name string, e *Engine) any {
	switch name {
	case fnCapture:
		return func(v any) string { s.captured = v; return "" }
	case fnRange:
		return func(v any) (any, error) {
			n := int64(0)
			rv := reflect.ValueOf(v)
			switch rv.Kind() {
			case reflect.Slice, reflect.Array, reflect.Map, reflect.String:
				n = int64(rv.Len())
			case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
				n = max(rv.Int(), 0)
			case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
				n = int64(min(rv.Uint(), 1<<40))
			}
			if n > maxWork/costLoop {
				return nil, fmt.Errorf("range over %d items: %w", n, ErrLimit)
			}
			return v, s.charge(n * costLoop)
		}
	case "set":
		return func(d map[string]any, key string, v any) (map[string]any, error) {
			if err := s.mutable(name, d); err != nil {
				return nil, err
			}
			if reaches(v, reflect.ValueOf(d).UnsafePointer(), 0) {
				return nil, errors.New("set: a mapping cannot contain itself")
			}
			d[key] = v
			return d, s.charge(costElem)
		}
	case "unset":
		return func(d map[string]any, key string) (map[string]any, error) {
			if err := s.mutable(name, d); err != nil {
				return nil, err
			}
			delete(d, key)
			return d, nil
		}
	case "merge", "mustMerge", "mergeOverwrite", "mustMergeOverwrite":
		orig := e.funcs["mustMerge"].(func(map[string]any, ...map[string]any) (any, error))
		if strings.Contains(name, "Overwrite") {
			orig = e.funcs["mustMergeOverwrite"].(func(map[string]any, ...map[string]any) (any, error))
		}
		return func(dst map[string]any, srcs ...map[string]any) (any, error) {
			if err := s.mutable(name, dst); err != nil {
				return nil, err
			}
			p := reflect.ValueOf(dst).UnsafePointer()
			for _, src := range srcs {
				if reaches(src, p, 0) {
					return nil, fmt.Errorf("%s: a mapping cannot contain itself", name)
				}
				if err := s.charge(costElem * int64(len(src))); err != nil {
					return nil, err
				}
			}
			return orig(dst, srcs...)
		}
	}
	switch name {
	case "map":
		return s.wrap(name, func(fn string, args ...any) ([]any, error) { return mapFilter(e, fn, args) })
	case "select", "reject", "selectattr", "rejectattr":
		return s.wrap(name, func(args ...any) ([]any, error) { return selectFilter(e, name, args) })
	case "lookup", "query":
		return s.wrap(name, func(plugin string, terms ...any) (any, error) {
			return s.lookup(e, plugin, terms, name == "query")
		})
	}
	if name == fnCombinePipe {
		return s.wrap("combine", e.internal[name])
	}
	if f, ok := e.internal[name]; ok {
		return f
	}
	f, ok := e.funcs[name]
	if !ok {
		return nil
	}
	return s.wrap(name, f)
}

// wrap returns f with its results charged against the work budget and
// checked against the size caps; functions returning only scalars cannot
// grow memory and are returned as they are.
func (s *state) wrap(name string, f any) any {
	fv := reflect.ValueOf(f)
	ft := fv.Type()
	if scalarResults(ft) && !crypto[name] {
		return f
	}
	isFresh, isCrypto := fresh[name], crypto[name]
	return reflect.MakeFunc(ft, func(args []reflect.Value) []reflect.Value {
		if isCrypto {
			if err := s.charge(costCrypto); err != nil {
				panic(fmt.Errorf("%s: %w", name, err))
			}
		}
		var out []reflect.Value
		if ft.IsVariadic() {
			out = fv.CallSlice(args)
		} else {
			out = fv.Call(args)
		}
		if len(out) == 2 && !out[1].IsNil() {
			return out
		}
		if err := s.account(name, out[0]); err != nil {
			// text/template turns a panicking function into an error.
			panic(err)
		}
		if isFresh {
			s.own(out[0])
		}
		return out
	}).Interface()
}

func scalarResults(ft reflect.Type) bool {
	for i := 0; i < ft.NumOut(); i++ {
		switch ft.Out(i).Kind() {
		case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		case reflect.Interface:
			if ft.Out(i) != reflect.TypeFor[error]() {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// exec runs the template with vars as the dot.
func (c *compiled) exec(vars map[string]any) (any, error) {
	if vars == nil {
		vars = map[string]any{}
	}
	in := c.pool.Get().(*instance)
	in.st.reset()
	in.st.vars = vars
	err := in.t.Execute(&in.st.out, vars)
	var v any
	if c.typed {
		v = in.st.captured
	} else {
		v = in.st.out.b.String()
	}
	in.st.reset()
	c.pool.Put(in)
	if err != nil {
		return nil, err
	}
	return v, nil
}
