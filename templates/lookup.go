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
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/mdo-play/mdo-play/templates/yaml11"
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

// HostPatterns evaluates host patterns over an inventory of groups (group
// name to host names, "all" in inventory order) and returns the matching
// host names: inventory.MatchHostnames.
type HostPatterns func(groups map[string][]string, patterns []string) ([]string, error)

// WithHostPatterns lets templates use the inventory_hostnames lookup;
// without it, that lookup is an error.
func WithHostPatterns(f HostPatterns) Option { return func(e *Engine) { e.hostPatterns = f } }

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
	plugin = LookupName(plugin)
	terms = plainLists(terms).([]any)
	if controllerLookups[plugin] && s.ctrl == nil {
		return nil, fmt.Errorf("lookup %q: lookups are not available here", plugin)
	}
	if f, ok := listLookups[plugin]; ok {
		out, err := f(s, terms)
		if err != nil {
			return nil, fmt.Errorf("lookup %s: %w", plugin, err)
		}
		return lookupResult(out, wantlist), nil
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
		return nil, fmt.Errorf("lookup plugin %q is not supported (%s)", plugin, strings.Join(LookupNames(), ", "))
	}
	return lookupResult(out, wantlist), nil
}

// lookupResult is query's list, or lookup's value: strings joined with
// commas, a single value as it is.
func lookupResult(out []any, wantlist bool) any {
	if wantlist {
		if out == nil {
			out = []any{}
		}
		return out
	}
	allStr := true
	parts := make([]string, len(out))
	for i, o := range out {
		str, ok := o.(string)
		allStr = allStr && ok
		parts[i] = str
	}
	if allStr {
		return strings.Join(parts, ",")
	}
	if len(out) == 1 {
		return out[0]
	}
	return out
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

// controllerLookups are the lookups that read the controller (files, the
// environment, commands); the others work on their terms alone.
var controllerLookups = map[string]bool{
	"file": true, "template": true, "env": true, "pipe": true, "first_found": true,
	"fileglob": true, "password": true, "lines": true,
}

// listLookups are the lookups that turn their terms into a list, as the
// ansible-core (and community.general) plugins of the same name do; they
// are what the with_* loops of those names iterate over.
var listLookups = map[string]func(s *state, terms []any) ([]any, error){
	"list":                lookupList,
	"dict":                lookupDict,
	"indexed_items":       lookupIndexedItems,
	"random_choice":       lookupRandomChoice,
	"inventory_hostnames": lookupInventoryHostnames,
	"cartesian":           lookupCartesian,
	"flattened":           lookupFlattened,
	"together":            lookupTogether,
	"nested":              lookupNested,
	"subelements":         lookupSubelements,
	"sequence":            lookupSequence,
	"lines":               lookupLines,
}

// otherLookups are the lookups of the switch in lookup.
var otherLookups = []string{"file", "template", "env", "pipe", "vars", "varnames", "items", "first_found", "fileglob", "password"}

// LookupName is the short name of a lookup: ansible.builtin.NAME (or
// ansible.legacy.NAME) and community.general.NAME name the same plugin as
// NAME.
func LookupName(name string) string {
	for _, p := range []string{"ansible.builtin.", "ansible.legacy.", "community.general."} {
		if rest, ok := strings.CutPrefix(name, p); ok {
			return rest
		}
	}
	return name
}

// LookupNames lists the lookups templates (and with_* loops) can use, sorted.
func LookupNames() []string {
	names := append([]string{}, otherLookups...)
	for n := range listLookups {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// IsLookup reports whether name (short or fully qualified) is a lookup
// mdo-play has: the loader accepts with_NAME for exactly these.
func IsLookup(name string) bool {
	n := LookupName(name)
	if _, ok := listLookups[n]; ok {
		return true
	}
	for _, o := range otherLookups {
		if o == n {
			return true
		}
	}
	return false
}

// Lookup runs lookup plugin on terms with vars as the task's variables and
// returns its list, as query does: what a with_PLUGIN loop iterates over
// (terms being the loop's value as a list).
func (e *Engine) Lookup(plugin string, terms []any, vars map[string]any) ([]any, error) {
	s := &state{ctrl: e.ctrl, hostPatterns: e.hostPatterns, vars: vars}
	v, err := s.lookup(e, plugin, terms, true)
	if err != nil {
		return nil, err
	}
	return v.([]any), nil
}

// listify is listify_lookup_plugin_terms on a rendered value: a list as it
// is, anything else a list of one.
func listify(v any) []any {
	switch x := v.(type) {
	case []any:
		return x
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out
	}
	return []any{v}
}

// plainLists returns a copy of v in which every list (a registered
// result's stdout_lines is a []string) is an []any, the one list type the
// lookups take apart, as Python has one list type.
func plainLists(v any) any {
	switch v.(type) {
	case string, []byte, nil:
		return v
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return v
	}
	out := make([]any, rv.Len())
	for i := range out {
		out[i] = plainLists(rv.Index(i).Interface())
	}
	return out
}

// flattenOne is LookupBase._flatten: one level of lists spliced in.
func flattenOne(terms []any) []any {
	out := make([]any, 0, len(terms))
	for _, t := range terms {
		if l, ok := t.([]any); ok {
			out = append(out, l...)
		} else {
			out = append(out, t)
		}
	}
	return out
}

func lookupList(_ *state, terms []any) ([]any, error) { return terms, nil }

// lookupDict: one {key, value} per entry of each mapping, in sorted key
// order (our mappings keep no order).
func lookupDict(_ *state, terms []any) ([]any, error) {
	var out []any
	for _, t := range terms {
		m, ok := t.(map[string]any)
		if !ok {
			return nil, errors.New("with_dict expects a dict")
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out = append(out, map[string]any{"key": k, "value": m[k]})
		}
	}
	return out, nil
}

// lookupIndexedItems: [index, item] for each item of the terms flattened
// one level.
func lookupIndexedItems(_ *state, terms []any) ([]any, error) {
	l := flattenOne(terms)
	out := make([]any, len(l))
	for i, x := range l {
		out[i] = []any{i, x}
	}
	return out, nil
}

// lookupRandomChoice: one of the terms, at random (none of none).
func lookupRandomChoice(_ *state, terms []any) ([]any, error) {
	if len(terms) == 0 {
		return terms, nil
	}
	n, err := rand.Int(rand.Reader, big.NewInt(int64(len(terms))))
	if err != nil {
		return nil, err
	}
	return []any{terms[n.Int64()]}, nil
}

// lookupCartesian (community.general): the cartesian product of the
// lists, each combination flattened one level.
func lookupCartesian(_ *state, terms []any) ([]any, error) {
	if len(terms) == 0 {
		return nil, errors.New("with_cartesian requires at least one element in each list")
	}
	combos := [][]any{{}}
	for _, t := range terms {
		l := listify(t)
		next := make([][]any, 0, len(combos)*len(l))
		for _, c := range combos {
			for _, x := range l {
				next = append(next, append(append([]any{}, c...), x))
			}
		}
		combos = next
	}
	out := make([]any, len(combos))
	for i, c := range combos {
		out[i] = flattenOne(c)
	}
	return out, nil
}

// lookupFlattened (community.general): the terms flattened at every
// level; a string naming a variable holding a list stands for that list,
// and "None" or "null" ends the list, as in the plugin.
func lookupFlattened(s *state, terms []any) ([]any, error) {
	var flat func(terms []any, depth int) ([]any, error)
	flat = func(terms []any, depth int) ([]any, error) {
		if depth > 100 {
			return nil, errors.New("lists nested too deep")
		}
		var out []any
		for _, t := range terms {
			for {
				l, ok := t.([]any)
				if !ok || len(l) != 1 {
					break
				}
				t = l[0]
			}
			if t == "None" || t == "null" {
				break
			}
			if str, ok := t.(string); ok {
				if v, ok := s.vars[str]; ok {
					if l, ok := v.([]any); ok {
						t = l
					}
				}
			}
			if l, ok := t.([]any); ok {
				sub, err := flat(l, depth+1)
				if err != nil {
					return nil, err
				}
				out = append(out, sub...)
				continue
			}
			out = append(out, t)
		}
		return out, nil
	}
	return flat(terms, 0)
}

// lookupTogether zips the lists, the shorter ones padded with null.
func lookupTogether(_ *state, terms []any) ([]any, error) {
	if len(terms) == 0 {
		return nil, errors.New("with_together requires at least one element in each list")
	}
	n := 0
	for _, t := range terms {
		n = max(n, len(listify(t)))
	}
	out := make([]any, n)
	for i := range n {
		row := make([]any, len(terms))
		for j, t := range terms {
			if l := listify(t); i < len(l) {
				row[j] = l[i]
			}
		}
		out[i] = flattenOne(row)
	}
	return out, nil
}

// lookupNested is the product of the lists in order, each combination
// flattened one level (as nested.py combines and flattens).
func lookupNested(_ *state, terms []any) ([]any, error) {
	if len(terms) == 0 {
		return nil, errors.New("with_nested requires at least one element in the nested list")
	}
	result := listify(terms[0])
	for _, t := range terms[1:] {
		var next []any
		for _, x := range result {
			for _, y := range listify(t) {
				next = append(next, flattenOne([]any{x, y}))
			}
		}
		result = next
	}
	out := make([]any, len(result))
	for i, x := range result {
		out[i] = flattenOne(listify(x))
	}
	return out, nil
}

// lookupSubelements: [list, "key.path"(, {skip_missing: bool})] gives one
// [element, subelement] per entry of each element's list; the element is
// given without that key, as Ansible pops it.
func lookupSubelements(_ *state, terms []any) ([]any, error) {
	if len(terms) < 2 || len(terms) > 3 {
		return nil, errors.New("subelements lookup expects a list of two or three items, the list or mapping, the subkey, and optionally {skip_missing: true}")
	}
	key, ok := terms[1].(string)
	if !ok {
		return nil, fmt.Errorf("the second item must be a string naming the subkey, got %s", typeName(terms[1]))
	}
	var elements []any
	switch x := terms[0].(type) {
	case []any:
		elements = x
	case map[string]any:
		if sk, ok := x["skipped"]; ok && sk != false {
			return nil, nil
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			elements = append(elements, x[k])
		}
	default:
		return nil, fmt.Errorf("the first item must be a list or a mapping, got %s", typeName(terms[0]))
	}
	skipMissing := false
	if len(terms) == 3 {
		flags, ok := terms[2].(map[string]any)
		if !ok {
			return nil, errors.New("the optional third item must be a dict with flags skip_missing")
		}
		for k, fv := range flags {
			if k != "skip_missing" {
				return nil, fmt.Errorf("the optional third item must be a dict with flags skip_missing, got unknown flag %q", k)
			}
			b, err := yaml11.Bool(fv)
			skipMissing = err == nil && b
		}
	}
	path := strings.Split(key, ".")
	var out []any
	for _, el := range elements {
		elem, ok := el.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("expects a list of dicts, got %s", typeName(el))
		}
		if sk, ok := elem["skipped"]; ok && sk != false {
			continue
		}
		item0 := copyMapDeep(elem)
		cur := item0
		var sub []any
		for i, k := range path {
			val, ok := cur[k]
			if !ok {
				if skipMissing {
					break
				}
				return nil, fmt.Errorf("could not find '%s' key in iterated item '%s'", k, pyStr(cur))
			}
			if i < len(path)-1 {
				next, ok := val.(map[string]any)
				if !ok {
					if skipMissing {
						break
					}
					return nil, fmt.Errorf("the key %s should point to a dictionary, got '%s'", k, pyStr(val))
				}
				cur = next
				continue
			}
			l, ok := val.([]any)
			if !ok {
				return nil, fmt.Errorf("the key %s should point to a list, got '%s'", k, pyStr(val))
			}
			sub = l
			delete(cur, k)
		}
		for _, x := range sub {
			out = append(out, []any{item0, x})
		}
	}
	return out, nil
}

func copyMapDeep(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok {
			v = copyMapDeep(sub)
		}
		out[k] = v
	}
	return out
}

// seqInt is Python's int(x, 0) for sequence's numbers.
func seqInt(name, s string) (int, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 0, 64)
	if err != nil {
		return 0, fmt.Errorf("can't parse %s=%s as integer", name, s)
	}
	return int(n), nil
}

var seqShortcut = regexp.MustCompile(`(?i)^(?:(0?x?[0-9a-f]+)-)?(0?x?[0-9a-f]+)(?:/(0?x?[0-9a-f]+))?(?::(.+))?$`)

// splitKV splits "k=v k2='v 2'" into its pairs (quotes removed).
func splitKV(s string) (map[string]string, error) {
	out := map[string]string{}
	var cur strings.Builder
	var quote rune
	var fields []string
	inField := false
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '"' || r == '\'':
			quote, inField = r, true
		case r == ' ' || r == '\t' || r == '\n':
			if inField {
				fields = append(fields, cur.String())
				cur.Reset()
				inField = false
			}
		default:
			cur.WriteRune(r)
			inField = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unbalanced quotes in %q", s)
	}
	if inField {
		fields = append(fields, cur.String())
	}
	for _, f := range fields {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return nil, fmt.Errorf("unrecognized argument %q: expected key=value", f)
		}
		out[k] = v
	}
	return out, nil
}

// lookupSequence: "start=1 end=10 stride=2 format=web%02d", "count=3", or
// the shortcut "[start-]end[/stride][:format]"; the items are strings.
func lookupSequence(_ *state, terms []any) ([]any, error) {
	var out []any
	for _, t := range terms {
		term := strings.TrimSpace(pyStr(t))
		start, stride, format := 1, 1, "%d"
		var end, count *int
		if m := seqShortcut.FindStringSubmatch(term); m != nil {
			var err error
			if m[1] != "" {
				if start, err = seqInt("start", m[1]); err != nil {
					return nil, err
				}
			}
			n, err := seqInt("end", m[2])
			if err != nil {
				return nil, err
			}
			end = &n
			if m[3] != "" {
				if stride, err = seqInt("stride", m[3]); err != nil {
					return nil, err
				}
			}
			if m[4] != "" {
				format = m[4]
			}
		} else {
			kv, err := splitKV(term)
			if err != nil {
				return nil, err
			}
			for k, v := range kv {
				switch k {
				case "start":
					if start, err = seqInt(k, v); err != nil {
						return nil, err
					}
				case "end", "count":
					n, err := seqInt(k, v)
					if err != nil {
						return nil, err
					}
					if k == "end" {
						end = &n
					} else {
						count = &n
					}
				case "stride":
					if stride, err = seqInt(k, v); err != nil {
						return nil, err
					}
				case "format":
					format = v
				default:
					return nil, fmt.Errorf("unrecognized arguments to with_sequence: %s", k)
				}
			}
		}
		switch {
		case end == nil && count == nil:
			return nil, errors.New("must specify count or end in with_sequence")
		case end != nil && count != nil:
			return nil, errors.New("can't specify both count and end in with_sequence")
		case count != nil:
			if *count == 0 {
				continue
			}
			e := start + *count*stride - 1
			end = &e
		}
		if stride > 0 && *end < start {
			return nil, errors.New("to count backwards make stride negative")
		}
		if stride < 0 && *end > start {
			return nil, errors.New("to count forward don't make stride negative")
		}
		if strings.Count(strings.ReplaceAll(format, "%%", ""), "%") != 1 {
			return nil, fmt.Errorf("bad formatting string: %s", format)
		}
		switch {
		case stride > 0:
			for i := start; i <= *end; i += stride {
				out = append(out, fmt.Sprintf(format, i))
			}
		case stride < 0:
			for i := start; i >= *end; i += stride {
				out = append(out, fmt.Sprintf(format, i))
			}
		}
	}
	return out, nil
}

// lookupLines: each line each command prints on the controller.
func lookupLines(s *state, terms []any) ([]any, error) {
	var out []any
	for _, t := range terms {
		r, err := s.ctrl.Pipe(context.Background(), pyStr(t))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", pyStr(t), err)
		}
		if r == "" {
			continue
		}
		for _, l := range strings.Split(strings.TrimRight(r, "\n"), "\n") {
			out = append(out, l)
		}
	}
	return out, nil
}

// lookupInventoryHostnames: the hosts host patterns match over an
// inventory made of the groups variable alone, as ansible-core 2.14's
// plugin does. The matching is the inventory's own (WithHostPatterns).
func lookupInventoryHostnames(s *state, terms []any) ([]any, error) {
	if s.hostPatterns == nil {
		return nil, errors.New("no inventory to match host patterns against")
	}
	groups, ok := s.vars["groups"].(map[string]any)
	if !ok {
		return nil, errors.New("the groups variable is not set")
	}
	byGroup := make(map[string][]string, len(groups))
	for g, hs := range groups {
		for _, h := range listify(hs) {
			if name, ok := h.(string); ok {
				byGroup[g] = append(byGroup[g], name)
			}
		}
	}
	patterns := make([]string, len(terms))
	for i, t := range terms {
		patterns[i] = pyStr(t)
	}
	hosts, err := s.hostPatterns(byGroup, patterns)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(hosts))
	for i, h := range hosts {
		out[i] = h
	}
	return out, nil
}
