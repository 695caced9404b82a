package templates

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// Controller gives lookups (lookup and query in templates) access to the
// machine that runs mdo-play, as Ansible's lookups run on the controller.
// The engine never touches files, the environment or commands itself.
//
// Relative paths given to the file, template, first_found, fileglob and
// password lookups are searched, as Ansible does, in each directory of the
// render's variable ansible_search_path (a list; when it is not set, in
// role_path and then playbook_dir): first DIR/files/NAME (DIR/templates/NAME
// for the template lookup), then DIR/NAME. Implementations must be safe for
// concurrent use; Pipe should bound the command's run time itself.
type Controller interface {
	// ReadFile returns a file's content; a missing file is an error that
	// matches fs.ErrNotExist.
	ReadFile(path string) ([]byte, error)
	// WriteFile creates or replaces a file (and its parent directories),
	// for the password lookup.
	WriteFile(path string, data []byte, perm os.FileMode) error
	// Glob returns the paths matching a filepath.Match pattern.
	Glob(pattern string) ([]string, error)
	// Getenv returns an environment variable of the controller.
	Getenv(name string) (string, bool)
	// Pipe runs a shell command and returns its standard output.
	Pipe(ctx context.Context, command string) (string, error)
}

// Option configures an Engine.
type Option func(*Engine)

// WithController lets templates use lookups on c. Without it, a lookup is
// an error.
func WithController(c Controller) Option { return func(e *Engine) { e.ctrl = c } }

// stateBound stands for the functions bound per execution (state.bound);
// it is never called.
func stateBound() error { return errors.New("internal: unbound function") }

// searchPath returns the directories relative lookups search.
func searchPath(vars map[string]any) []string {
	var dirs []string
	if l, ok := vars["ansible_search_path"].([]any); ok {
		for _, d := range l {
			if s, ok := d.(string); ok && s != "" {
				dirs = append(dirs, s)
			}
		}
	}
	if len(dirs) == 0 {
		for _, k := range []string{"role_path", "playbook_dir"} {
			if s, ok := vars[k].(string); ok && s != "" {
				dirs = append(dirs, s)
			}
		}
	}
	return dirs
}

// find returns the first existing file for name in subdir of the search
// path, or "" when there is none.
func (s *state) find(subdir, name string) string {
	if filepath.IsAbs(name) {
		if _, err := s.ctrl.ReadFile(name); err == nil {
			return name
		}
		return ""
	}
	for _, d := range searchPath(s.vars) {
		for _, p := range []string{filepath.Join(d, subdir, name), filepath.Join(d, name)} {
			if _, err := s.ctrl.ReadFile(p); err == nil {
				return p
			}
		}
	}
	return ""
}

// lookup runs a lookup plugin; wantlist is query's behaviour.
func (s *state) lookup(e *Engine, plugin string, terms []any, wantlist bool) (any, error) {
	if s.ctrl == nil {
		return nil, fmt.Errorf("lookup %q: lookups are not available here", plugin)
	}
	var out []any
	strTerms := func() []string {
		var l []string
		for _, t := range terms {
			if sub, ok := t.([]any); ok {
				for _, x := range sub {
					l = append(l, pyStr(x))
				}
				continue
			}
			l = append(l, pyStr(t))
		}
		return l
	}
	switch plugin {
	case "file":
		for _, t := range strTerms() {
			p := s.find("files", t)
			if p == "" {
				return nil, fmt.Errorf("lookup file: could not find %q in the search path", t)
			}
			b, err := s.ctrl.ReadFile(p)
			if err != nil {
				return nil, fmt.Errorf("lookup file: %w", err)
			}
			out = append(out, strings.TrimRight(string(b), " \t\r\n"))
		}
	case "template":
		for _, t := range strTerms() {
			p := s.find("templates", t)
			if p == "" {
				return nil, fmt.Errorf("lookup template: could not find %q in the search path", t)
			}
			b, err := s.ctrl.ReadFile(p)
			if err != nil {
				return nil, fmt.Errorf("lookup template: %w", err)
			}
			r, err := e.RenderString(p, string(b), s.vars)
			if err != nil {
				return nil, fmt.Errorf("lookup template: %w", err)
			}
			out = append(out, r)
		}
	case "env":
		for _, t := range strTerms() {
			v, _ := s.ctrl.Getenv(t)
			out = append(out, v)
		}
	case "pipe":
		for _, t := range strTerms() {
			r, err := s.ctrl.Pipe(context.Background(), t)
			if err != nil {
				return nil, fmt.Errorf("lookup pipe %q: %w", t, err)
			}
			out = append(out, strings.TrimRight(r, "\n"))
		}
	case "vars":
		for _, t := range strTerms() {
			v, ok := s.vars[t]
			if !ok {
				return nil, &undefinedError{path: t}
			}
			out = append(out, v)
		}
	case "varnames":
		// The names of the variables that match the regular expressions
		// (searched, as re.search does), in sorted order.
		names := make([]string, 0, len(s.vars))
		for k := range s.vars {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, t := range strTerms() {
			re, err := compileRE("lookup varnames", t)
			if err != nil {
				return nil, err
			}
			for _, n := range names {
				if re.MatchString(n) {
					out = append(out, n)
				}
			}
		}
	case "items":
		for _, t := range terms {
			if l, ok := t.([]any); ok {
				out = append(out, l...)
			} else {
				out = append(out, t)
			}
		}
	case "first_found":
		var files, paths []string
		for _, t := range terms {
			switch x := t.(type) {
			case map[string]any:
				fs, _ := items("first_found", x["files"])
				ps, _ := items("first_found", x["paths"])
				for _, f := range fs {
					files = append(files, splitTerms(pyStr(f))...)
				}
				for _, p := range ps {
					paths = append(paths, splitTerms(pyStr(p))...)
				}
			case []any:
				for _, f := range x {
					files = append(files, pyStr(f))
				}
			default:
				files = append(files, pyStr(x))
			}
		}
		for _, f := range files {
			cands := []string{f}
			if len(paths) > 0 && !filepath.IsAbs(f) {
				cands = nil
				for _, p := range paths {
					cands = append(cands, filepath.Join(p, f))
				}
			}
			for _, c := range cands {
				if p := s.find("files", c); p != "" {
					out = []any{p}
					break
				}
			}
			if out != nil {
				break
			}
		}
		if out == nil {
			return nil, errors.New("lookup first_found: no file was found")
		}
	case "fileglob":
		for _, t := range strTerms() {
			dir, pat := filepath.Split(t)
			bases := []string{dir}
			if !filepath.IsAbs(t) {
				bases = nil
				for _, d := range searchPath(s.vars) {
					bases = append(bases, filepath.Join(d, "files", dir), filepath.Join(d, dir))
				}
			}
			for _, b := range bases {
				m, err := s.ctrl.Glob(filepath.Join(b, pat))
				if err != nil {
					return nil, fmt.Errorf("lookup fileglob: %w", err)
				}
				if len(m) > 0 {
					for _, f := range m {
						out = append(out, f)
					}
					break
				}
			}
		}
		if out == nil {
			out = []any{}
		}
	case "password":
		for _, t := range strTerms() {
			p, err := s.password(t)
			if err != nil {
				return nil, fmt.Errorf("lookup password: %w", err)
			}
			out = append(out, p)
		}
	default:
		return nil, fmt.Errorf("lookup plugin %q is not supported (file, template, env, pipe, vars, varnames, items, first_found, fileglob, password)", plugin)
	}
	if wantlist {
		if out == nil {
			out = []any{}
		}
		return out, nil
	}
	allStr := true
	parts := make([]string, len(out))
	for i, o := range out {
		str, ok := o.(string)
		allStr = allStr && ok
		parts[i] = str
	}
	if allStr {
		return strings.Join(parts, ","), nil
	}
	if len(out) == 1 {
		return out[0], nil
	}
	return out, nil
}

func splitTerms(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' })
}

// password is Ansible's password lookup: "PATH [length=N] [chars=a,b]".
// An existing file gives its first word; otherwise a new random password
// is written to it (/dev/null: a new one every time).
func (s *state) password(term string) (string, error) {
	fields := strings.Fields(term)
	if len(fields) == 0 {
		return "", errors.New("missing path")
	}
	path, length := fields[0], 20
	charsets := []string{"ascii_letters", "digits", ".,:-_"}
	for _, f := range fields[1:] {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return "", fmt.Errorf("bad option %q", f)
		}
		switch k {
		case "length":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 4096 {
				return "", fmt.Errorf("bad length %q", v)
			}
			length = n
		case "chars":
			charsets = strings.Split(v, ",")
		default:
			return "", fmt.Errorf("option %q is not supported", k)
		}
	}
	if !filepath.IsAbs(path) {
		if dirs := searchPath(s.vars); len(dirs) > 0 {
			path = filepath.Join(dirs[len(dirs)-1], path)
		}
	}
	if path != os.DevNull {
		if b, err := s.ctrl.ReadFile(path); err == nil {
			if f := strings.Fields(string(b)); len(f) > 0 {
				return f[0], nil
			}
		}
	}
	var alphabet strings.Builder
	for _, c := range charsets {
		alphabet.WriteString(map[string]string{
			"ascii_letters":   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
			"ascii_lowercase": "abcdefghijklmnopqrstuvwxyz", "ascii_uppercase": "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
			"digits": "0123456789", "hexdigits": "0123456789abcdefABCDEF",
			"punctuation": "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
		}[c])
		if !strings.HasPrefix(c, "ascii_") && c != "digits" && c != "hexdigits" && c != "punctuation" {
			alphabet.WriteString(c)
		}
	}
	chars := []rune(alphabet.String())
	pw := make([]rune, length)
	for i := range pw {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(chars))))
		if err != nil {
			return "", err
		}
		pw[i] = chars[n.Int64()]
	}
	if path != os.DevNull {
		if err := s.ctrl.WriteFile(path, []byte(string(pw)+"\n"), 0o600); err != nil {
			return "", err
		}
	}
	return string(pw), nil
}

// callFunc calls a template function by reflection with args converted
// to its parameter types.
func callFunc(name string, f any, args []any) (any, error) {
	fv := reflect.ValueOf(f)
	ft := fv.Type()
	n := ft.NumIn()
	if ft.IsVariadic() && len(args) < n-1 || !ft.IsVariadic() && len(args) != n {
		return nil, fmt.Errorf("%s: wrong number of arguments: %d", name, len(args))
	}
	in := make([]reflect.Value, len(args))
	for i, a := range args {
		var pt reflect.Type
		if ft.IsVariadic() && i >= n-1 {
			pt = ft.In(n - 1).Elem()
		} else {
			pt = ft.In(i)
		}
		switch {
		case a == nil:
			in[i] = reflect.Zero(pt)
		case reflect.TypeOf(a).AssignableTo(pt):
			in[i] = reflect.ValueOf(a)
		case reflect.TypeOf(a).ConvertibleTo(pt) && reflect.TypeOf(a).Kind() != reflect.String && pt.Kind() != reflect.String:
			in[i] = reflect.ValueOf(a).Convert(pt)
		default:
			return nil, fmt.Errorf("%s: argument %d is %s, not %s", name, i+1, typeName(a), pt)
		}
	}
	out := fv.Call(in)
	if len(out) == 2 && !out[1].IsNil() {
		return nil, out[1].Interface().(error)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out[0].Interface(), nil
}

// mapFilter is map(filter, args...): the Go function fn applied to each
// element (given last).
func mapFilter(e *Engine, fn string, args []any) ([]any, error) {
	f, ok := e.funcs[fn]
	if !ok || reflect.ValueOf(f).Pointer() == reflect.ValueOf(stateBound).Pointer() {
		return nil, fmt.Errorf("map: unknown function %q", fn)
	}
	l, err := items("map", args[len(args)-1])
	if err != nil {
		return nil, err
	}
	extra := args[:len(args)-1]
	out := make([]any, len(l))
	for i, el := range l {
		if out[i], err = callFunc(fn, f, append(append([]any(nil), extra...), el)); err != nil {
			return nil, fmt.Errorf("map: %w", err)
		}
	}
	return out, nil
}

// selectFilter is select, reject, selectattr and rejectattr: the test
// function (value first) or, without one, the element's truth.
func selectFilter(e *Engine, name string, args []any) ([]any, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("%s: missing value", name)
	}
	l, err := items(name, args[len(args)-1])
	if err != nil {
		return nil, err
	}
	opts := args[:len(args)-1]
	attr := ""
	if strings.HasSuffix(name, "attr") {
		if len(opts) == 0 {
			return nil, fmt.Errorf("%s: missing attribute", name)
		}
		attr, opts = pyStr(opts[0]), opts[1:]
	}
	var test any
	var testName string
	if len(opts) > 0 {
		testName = pyStr(opts[0])
		f, ok := e.funcs[testName]
		if !ok {
			return nil, fmt.Errorf("%s: unknown test %q", name, testName)
		}
		test, opts = f, opts[1:]
	}
	keep := !strings.HasPrefix(name, "reject")
	out := []any{}
	for _, el := range l {
		v := el
		if attr != "" {
			var ok bool
			if v, ok = attrOf(el, attr); !ok {
				v = undefined{path: attr}
			}
		}
		var r bool
		if test == nil {
			r = pyTruth(v)
		} else {
			if isUndef(v) && !undefFuncs[testName] {
				return nil, &undefinedError{path: attr}
			}
			res, err := callFunc(testName, test, append([]any{v}, opts...))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			r = pyTruth(res)
		}
		if r == keep {
			out = append(out, el)
		}
	}
	return out, nil
}
