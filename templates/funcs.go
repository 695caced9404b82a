package templates

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"

	"github.com/mdo-play/mdo-play/modules/conn"
	"github.com/mdo-play/mdo-play/templates/yaml11"
	"gopkg.in/yaml.v3"

	"github.com/mdo-play/mdo-play/templates/pyjson"
	"github.com/mdo-play/mdo-play/templates/pyre"
)

// Limits that keep a hostile or mistaken template from exhausting memory or
// time. They are generous for real playbooks.
const (
	maxBytes    = 16 << 20 // largest string one function may produce, and largest rendered output
	maxElems    = 1 << 20  // largest list one function may produce
	maxWork     = 256 << 20
	costElem    = 16       // work units per list or map element produced
	costLoop    = 256      // work units per range iteration (about a million iterations per render)
	costCrypto  = 16 << 20 // work units per password hash or certificate (sixteen per render)
	maxDataNest = 1000     // deepest nesting to_yaml and friends accept
)

// ErrLimit is wrapped by every error caused by the limits above.
// Callers may use it to tell a runaway template from a mistake.
var ErrLimit = errors.New("template resource limit exceeded")

// removed lists sprig functions that are not offered: env, expandenv and
// getHostByName read the controller's environment or resolve names, which a
// library package never does behind its caller's back; the key generators
// take seconds and give a new key on every render, so a templated file
// would change on every run.
var removed = []string{
	"env", "expandenv", "getHostByName",
	"genPrivateKey", "genCA", "genSelfSignedCert", "genSignedCert",
}

// fresh lists functions whose map result is new, so later mutations of it
// (set, unset, merge) are allowed.
var fresh = map[string]bool{
	"dict": true, "pick": true, "omit": true, "deepCopy": true, "mustDeepCopy": true,
	"combine": true, "items2dict": true, "from_json": true, "from_yaml": true,
	"fromJson": true, "mustFromJson": true,
}

// crypto lists slow functions charged heavily against the work budget.
var crypto = map[string]bool{
	"bcrypt": true, "htpasswd": true, "derivePassword": true, "buildCustomCert": true,
	"genCAWithKey": true, "genSelfSignedCertWithKey": true, "genSignedCertWithKey": true,
}

// guardFuncs are the functions whose arguments may be undefined variables:
// a missing variable reaches them as nil instead of failing the render.
var guardFuncs = map[string]bool{
	"default": true, "empty": true, "coalesce": true, "hasKey": true, "ternary": true,
	"kindIs": true, "typeOf": true, "mandatory": true,
}

// funcMap returns the functions offered to templates: sprig's text
// functions (minus env, expandenv and getHostByName) with size caps on the
// ones whose output can explode, text/template's print family and escapers
// (so they are size-checked too), and our Ansible-flavoured additions.
//
// Note that sprig's default keeps sprig's meaning: an empty value (0, "",
// false, empty list or map) counts as unset, unlike Ansible's default which
// only replaces undefined values.
func funcMap() map[string]any {
	sfm := sprig.TxtFuncMap()
	m := make(map[string]any, len(sfm)+40)
	for k, v := range sfm {
		m[k] = v
	}
	for _, k := range removed {
		delete(m, k)
	}
	orig := func(name string) any { return sfm[name] }

	// text/template builtins that can grow their input.
	m["print"] = fmt.Sprint
	m["printf"] = fmt.Sprintf
	m["println"] = fmt.Sprintln
	m["html"] = template.HTMLEscaper
	m["js"] = template.JSEscaper
	m["urlquery"] = template.URLQueryEscaper

	// sprig functions whose output size is a product of their inputs.
	origRepeat := orig("repeat").(func(int, string) string)
	m["repeat"] = func(count int, s string) (string, error) {
		if count < 0 {
			return "", fmt.Errorf("repeat: negative count %d", count)
		}
		if err := capBytes("repeat", int64(count)*int64(len(s))); err != nil {
			return "", err
		}
		return origRepeat(count, s), nil
	}
	origUntil := orig("until").(func(int) []int)
	m["until"] = func(n int) ([]int, error) {
		if err := capElems("until", abs64(int64(n))); err != nil {
			return nil, err
		}
		return origUntil(n), nil
	}
	origUntilStep := orig("untilStep").(func(int, int, int) []int)
	m["untilStep"] = func(start, stop, step int) ([]int, error) {
		if err := capElems("untilStep", steps(start, stop, step)); err != nil {
			return nil, err
		}
		return origUntilStep(start, stop, step), nil
	}
	origSeq := orig("seq").(func(...int) string)
	m["seq"] = func(p ...int) (string, error) {
		var n int64
		switch len(p) {
		case 1:
			n = abs64(int64(p[0]) - 1)
		case 2:
			n = abs64(int64(p[1]) - int64(p[0]))
		case 3:
			n = steps(p[0], p[2], p[1])
		}
		if err := capElems("seq", n); err != nil {
			return "", err
		}
		return origSeq(p...), nil
	}
	origIndent := orig("indent").(func(int, string) string)
	indentCheck := func(name string, spaces int, s string) error {
		if spaces < 0 {
			return fmt.Errorf("%s: negative width %d", name, spaces)
		}
		return capBytes(name, int64(len(s))+int64(spaces)*int64(strings.Count(s, "\n")+1))
	}
	m["indent"] = func(spaces int, s string) (string, error) {
		if err := indentCheck("indent", spaces, s); err != nil {
			return "", err
		}
		return origIndent(spaces, s), nil
	}
	m["nindent"] = func(spaces int, s string) (string, error) {
		if err := indentCheck("nindent", spaces, s); err != nil {
			return "", err
		}
		return "\n" + origIndent(spaces, s), nil
	}
	m["replace"] = func(old, new, src string) (string, error) {
		n := int64(strings.Count(src, old))
		if err := capBytes("replace", int64(len(src))+n*int64(len(new))); err != nil {
			return "", err
		}
		return strings.ReplaceAll(src, old, new), nil
	}
	origJoin := orig("join").(func(string, any) string)
	m["join"] = func(sep string, v any) (string, error) {
		if rv := reflect.ValueOf(v); rv.Kind() == reflect.Slice || rv.Kind() == reflect.Array {
			if err := capBytes("join", int64(rv.Len())*int64(len(sep))); err != nil {
				return "", err
			}
		}
		return origJoin(sep, v), nil
	}
	origWrapWith := orig("wrapWith").(func(int, string, string) string)
	m["wrapWith"] = func(l int, sep, s string) (string, error) {
		if l < 1 {
			l = 1
		}
		if err := capBytes("wrapWith", int64(len(s))+int64(len(s)/l+1)*int64(len(sep))); err != nil {
			return "", err
		}
		return origWrapWith(l, sep, s), nil
	}
	for _, name := range []string{"randAlphaNum", "randAlpha", "randAscii", "randNumeric", "randBytes"} {
		m[name] = capRand(name, orig(name))
	}
	for _, name := range []string{"regexReplaceAll", "mustRegexReplaceAll", "regexReplaceAllLiteral", "mustRegexReplaceAllLiteral"} {
		m[name] = capRegexReplace(name, orig(name))
	}
	origSort := orig("sortAlpha").(func(any) []string)
	m["sortAlpha"] = func(v any) []string {
		// sprig sorts a []string argument in place; sort a copy instead.
		if l, ok := v.([]string); ok {
			v = append([]string(nil), l...)
		}
		return origSort(v)
	}

	// Ours.
	m["to_json"] = func(v any) (string, error) { return pyJSON(v, 0) }
	m["to_nice_json"] = func(args ...any) (string, error) {
		n, err := indentArg("to_nice_json", args)
		if err != nil {
			return "", err
		}
		return pyJSON(args[len(args)-1], n)
	}
	m["from_json"] = fromJSON
	m["to_yaml"] = func(v any) (string, error) { return toYAML(v, -2) }
	m["to_nice_yaml"] = func(args ...any) (string, error) {
		n, err := indentArg("to_nice_yaml", args)
		if err != nil {
			return "", err
		}
		return toYAML(args[len(args)-1], n)
	}
	m["from_yaml"] = fromYAML
	m["b64encode"] = func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	m["b64decode"] = b64decode
	m["quote"] = shellQuote
	m["bool"] = toBool
	m["mandatory"] = func(v any) (any, error) { return mandatory("", v) }
	m["basename"] = basename
	m["dirname"] = dirname
	m["regex_replace"] = regexReplace
	m["regex_search"] = regexSearch
	m["combine"] = combine
	m["dict2items"] = dict2items
	m["items2dict"] = items2dict
	m["flatten"] = flatten
	m["unique"] = unique
	for k, v := range ansibleFuncs() {
		m[k] = v
	}
	// Bound per execution (state.bound), listed here so templates parse.
	for _, k := range []string{"map", "select", "reject", "selectattr", "rejectattr", "lookup", "query"} {
		m[k] = stateBound
	}
	return m
}

// indentArg reads the optional indent before the value (last) of
// to_nice_json and to_nice_yaml: `.x | to_nice_yaml 2`.
func indentArg(name string, args []any) (int, error) {
	switch len(args) {
	case 1:
		return 4, nil
	case 2:
		if n, _, isFloat, ok := number(args[0]); ok && !isFloat && n >= 1 && n <= 16 {
			return int(n), nil
		}
		return 0, fmt.Errorf("%s: indent must be a number from 1 to 16, got %v", name, args[0])
	}
	return 0, fmt.Errorf("%s: wrong number of arguments", name)
}

// internalFuncs are called only by rewritten parse trees; users cannot name
// them (they are not in the map used to parse). Those needing the
// execution's state are bound in instance.funcs.
func internalFuncs() map[string]any {
	return map[string]any{
		fnGet:         get,
		fnIndex:       strictIndex,
		fnIndexOpt:    optIndex,
		fnMandatory:   mandatory,
		fnCombinePipe: combinePiped,
		fnStr:         toText,
		fnLookup:      lookupUndef,
		fnIndexUndef:  indexUndef,
	}
}

// Names of internal functions inserted by the rewriter.
const (
	fnGet         = "__get"
	fnIndex       = "__index"
	fnIndexOpt    = "__index_opt"
	fnMandatory   = "__mandatory"
	fnCombinePipe = "__combine"
	fnStr         = "__str"
	fnCapture     = "__capture"
	fnRange       = "__range"
	fnLookup      = "__lookup"
	fnIndexUndef  = "__index_undef"
)

// publicName maps internal function names back to what the user wrote, for
// error messages.
var publicName = strings.NewReplacer(
	fnIndexOpt, "index", fnIndex, "index", fnMandatory, "mandatory",
	fnCombinePipe, "combine", fnStr+" ", "", " | "+fnStr, "", fnCapture+" ", "", fnRange, "range",
	fnGet, "get", fnLookup+" ", "", fnIndexUndef, "index",
)

// capBytes and capElems check a result size before it is produced; name is
// the function, which text/template's "error calling" already reports.
func capBytes(_ string, n int64) error {
	if n > maxBytes {
		return fmt.Errorf("result of %d bytes is over the limit of %d: %w", n, maxBytes, ErrLimit)
	}
	return nil
}

func capElems(_ string, n int64) error {
	if n > maxElems {
		return fmt.Errorf("result of %d elements is over the limit of %d: %w", n, maxElems, ErrLimit)
	}
	return nil
}

func abs64(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// steps counts the values untilStep(start, stop, step) produces.
func steps(start, stop, step int) int64 {
	if step == 0 {
		return 0
	}
	d := int64(stop) - int64(start)
	if (d > 0) != (step > 0) {
		return 0
	}
	return abs64(d) / abs64(int64(step))
}

func capRand(name string, f any) any {
	switch f := f.(type) {
	case func(int) string:
		return func(n int) (string, error) {
			if err := capBytes(name, int64(n)); err != nil {
				return "", err
			}
			return f(n), nil
		}
	case func(int) (string, error):
		return func(n int) (string, error) {
			if err := capBytes(name, int64(n)); err != nil {
				return "", err
			}
			return f(n)
		}
	}
	return f
}

// capRegexReplace bounds regexReplaceAll(regex, s, repl) and its variants:
// each match may expand to the replacement, whose group references may
// each repeat the whole input.
func capRegexReplace(name string, f any) any {
	check := func(regex, s, repl string) error {
		re, err := regexp.Compile(regex)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		n := int64(len(re.FindAllStringIndex(s, maxElems+1)))
		refs := int64(strings.Count(repl, "$"))
		return capBytes(name, int64(len(s))+n*(int64(len(repl))+refs*int64(len(s))))
	}
	switch f := f.(type) {
	case func(string, string, string) string:
		return func(regex, s, repl string) (string, error) {
			if err := check(regex, s, repl); err != nil {
				return "", err
			}
			return f(regex, s, repl), nil
		}
	case func(string, string, string) (string, error):
		return func(regex, s, repl string) (string, error) {
			if err := check(regex, s, repl); err != nil {
				return "", err
			}
			return f(regex, s, repl)
		}
	}
	return f
}

// get walks path from v through maps (and lists, for numeric path
// elements); it returns nil when anything along the way is missing. It
// implements guarded variable access: `{{ .a.b | default "x" }}`.
func get(v any, path ...string) any {
	for _, p := range path {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case map[any]any:
			v = x[p]
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			rv := reflect.ValueOf(v)
			if rv.Kind() != reflect.Map || rv.Type().Key().Kind() != reflect.String {
				return nil
			}
			e := rv.MapIndex(reflect.ValueOf(p).Convert(rv.Type().Key()))
			if !e.IsValid() {
				return nil
			}
			v = e.Interface()
		}
		if v == nil {
			return nil
		}
	}
	return v
}

// undefinedError is returned by functions that find a variable missing.
type undefinedError struct {
	path      string
	mandatory bool
}

func (e *undefinedError) Error() string {
	if e.mandatory {
		if e.path == "" {
			return "mandatory variable not defined"
		}
		return fmt.Sprintf("mandatory variable %q not defined", e.path)
	}
	return fmt.Sprintf("undefined variable %q", e.path)
}

// lookup indexes v by one key; ok is false when the key is missing.
func lookup(v any, k any) (any, bool, error) {
	switch x := v.(type) {
	case map[string]any:
		s, isStr := k.(string)
		if !isStr {
			return nil, false, fmt.Errorf("cannot index a mapping with %T %v", k, k)
		}
		e, ok := x[s]
		return e, ok, nil
	case []any:
		i, isInt := toIndex(k)
		if !isInt {
			return nil, false, fmt.Errorf("cannot index a list with %T %v", k, k)
		}
		if i < 0 || i >= len(x) {
			return nil, false, nil
		}
		return x[i], true, nil
	case nil:
		return nil, false, nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Map:
		kv := reflect.ValueOf(k)
		if !kv.Type().AssignableTo(rv.Type().Key()) {
			if !kv.Type().ConvertibleTo(rv.Type().Key()) {
				return nil, false, fmt.Errorf("cannot index %T with %T %v", v, k, k)
			}
			kv = kv.Convert(rv.Type().Key())
		}
		e := rv.MapIndex(kv)
		if !e.IsValid() {
			return nil, false, nil
		}
		return e.Interface(), true, nil
	case reflect.Slice, reflect.Array, reflect.String:
		i, isInt := toIndex(k)
		if !isInt {
			return nil, false, fmt.Errorf("cannot index %T with %T %v", v, k, k)
		}
		if i < 0 || i >= rv.Len() {
			return nil, false, nil
		}
		return rv.Index(i).Interface(), true, nil
	}
	return nil, false, fmt.Errorf("cannot index %T", v)
}

func toIndex(k any) (int, bool) {
	switch i := k.(type) {
	case int:
		return i, true
	case int64:
		return int(i), true
	case uint64:
		return int(i), true
	}
	return 0, false
}

// strictIndex is index for unguarded use: a missing key is an undefined
// variable named base.key.
func strictIndex(base string, v any, keys ...any) (any, error) {
	p := base
	for _, k := range keys {
		if s, ok := k.(string); ok {
			if p == "" {
				p = s
			} else {
				p += "." + s
			}
		} else {
			p += fmt.Sprintf("[%v]", k)
		}
		e, ok, err := lookup(v, k)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, &undefinedError{path: p}
		}
		v = e
	}
	return v, nil
}

// optIndex is index for guarded use: a missing key gives nil.
func optIndex(v any, keys ...any) (any, error) {
	for _, k := range keys {
		e, ok, err := lookup(v, k)
		if err != nil || !ok {
			return nil, nil
		}
		v = e
	}
	return v, nil
}

// mandatory fails when v is undefined (or null).
func mandatory(name string, v any) (any, error) {
	if v == nil {
		return nil, &undefinedError{path: name, mandatory: true}
	}
	return v, nil
}

// toText formats a value printed by a text template: strings as they are,
// nil as nothing, lists and maps as compact JSON, the rest as Go prints it.
func toText(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case nil:
		return "", nil
	case []byte:
		return string(x), nil
	case fmt.Stringer:
		return x.String(), nil
	}
	switch reflect.ValueOf(v).Kind() {
	case reflect.Map, reflect.Slice, reflect.Array:
		return toJSON(v)
	}
	return fmt.Sprint(v), nil
}

func marshalJSON(v any, indent string) (string, error) {
	if err := checkNest(v, 0); err != nil {
		return "", err
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", indent)
	if err := enc.Encode(jsonable(v)); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

func toJSON(v any) (string, error) { return marshalJSON(v, "") }

// toNiceJSON indents by 4 and sorts keys, as Ansible's to_nice_json does.
func toNiceJSON(v any) (string, error) { return marshalJSON(v, "    ") }

// jsonable converts map[any]any (as yaml.v3 may produce) to map[string]any.
func jsonable(v any) any {
	switch x := v.(type) {
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[fmt.Sprint(k)] = jsonable(e)
		}
		return m
	case map[string]any:
		for _, e := range x {
			if needsJSONable(e) {
				m := make(map[string]any, len(x))
				for k, e := range x {
					m[k] = jsonable(e)
				}
				return m
			}
		}
	case []any:
		for _, e := range x {
			if needsJSONable(e) {
				l := make([]any, len(x))
				for i, e := range x {
					l[i] = jsonable(e)
				}
				return l
			}
		}
	}
	return v
}

func needsJSONable(v any) bool {
	switch x := v.(type) {
	case map[any]any:
		return true
	case map[string]any:
		for _, e := range x {
			if needsJSONable(e) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if needsJSONable(e) {
				return true
			}
		}
	}
	return false
}

// checkNest rejects data nested deeper than maxDataNest (which includes
// cycles), before an encoder recurses into it.
func checkNest(v any, depth int) error {
	if depth > maxDataNest {
		return fmt.Errorf("data nested deeper than %d levels (or cyclic): %w", maxDataNest, ErrLimit)
	}
	switch x := v.(type) {
	case map[string]any:
		for _, e := range x {
			if err := checkNest(e, depth+1); err != nil {
				return err
			}
		}
	case map[any]any:
		for _, e := range x {
			if err := checkNest(e, depth+1); err != nil {
				return err
			}
		}
	case []any:
		for _, e := range x {
			if err := checkNest(e, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// fromJSON decodes JSON; whole numbers become int, as YAML decoding gives.
func fromJSON(s string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("from_json: %w", err)
	}
	if dec.More() {
		return nil, errors.New("from_json: trailing data after the JSON value")
	}
	return pyjson.Numbers(v), nil
}

// toYAML encodes v as YAML. A negative indent asks for PyYAML's
// default_flow_style=None, which Ansible's to_yaml uses: collections of
// scalars are written in flow style ({a: 1}, [1, 2]).
func toYAML(v any, indent int) (string, error) {
	if err := checkNest(v, 0); err != nil {
		return "", err
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	var doc any = v
	if indent < 0 {
		indent = -indent
		var n yaml.Node
		if err := n.Encode(v); err != nil {
			return "", fmt.Errorf("to_yaml: %w", err)
		}
		flowLeaves(&n)
		doc = &n
	}
	enc.SetIndent(indent)
	if err := enc.Encode(doc); err != nil {
		return "", fmt.Errorf("to_yaml: %w", err)
	}
	if err := enc.Close(); err != nil {
		return "", fmt.Errorf("to_yaml: %w", err)
	}
	return b.String(), nil
}

// flowLeaves sets flow style on collections that hold only scalars.
func flowLeaves(n *yaml.Node) bool {
	leaf := true
	for _, c := range n.Content {
		if c.Kind == yaml.MappingNode || c.Kind == yaml.SequenceNode {
			leaf = false
			flowLeaves(c)
		}
	}
	if (n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode) && leaf {
		n.Style = yaml.FlowStyle
	}
	return leaf
}

func fromYAML(s string) (any, error) {
	var v any
	if err := yaml.Unmarshal([]byte(s), &v); err != nil {
		return nil, fmt.Errorf("from_yaml: %w", err)
	}
	return v, nil
}

func b64decode(s string) (string, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return "", fmt.Errorf("b64decode: %w", err)
	}
	return string(b), nil
}

// shellQuote is the quote filter: conn.Quote (Python's shlex.quote, as
// Ansible's quote filter) of the value as text.
func shellQuote(v any) string {
	s, ok := v.(string)
	if !ok {
		s = fmt.Sprint(v)
	}
	return conn.Quote(s)
}

// toBool is the bool filter with ansible-core 2.14's meaning
// (plugins/filter/core.py to_bool): a boolean is itself; the strings
// yes, on, 1 and true (any case) and the number 1 are true; everything
// else (nil, "no", "clientspecified", 2) is false. Roles rely on that:
// `ssh_gateway_ports | bool` is false for "clientspecified".
func toBool(v any) (bool, error) {
	switch x := v.(type) {
	case nil:
		return false, nil
	case bool:
		return x, nil
	case string:
		switch strings.ToLower(x) {
		case "yes", "on", "1", "true":
			return true, nil
		}
		return false, nil
	}
	if i, f, isFloat, ok := number(v); ok {
		return isFloat && f == 1 || !isFloat && i == 1, nil
	}
	return false, nil
}

// basename is Python's os.path.basename: the part after the last slash.
func basename(s string) string { return s[strings.LastIndexByte(s, '/')+1:] }

// dirname is Python's os.path.dirname: the part before the last slash,
// without trailing slashes unless it is all slashes.
func dirname(s string) string {
	head := s[:strings.LastIndexByte(s, '/')+1]
	if t := strings.TrimRight(head, "/"); t != "" {
		return t
	}
	return head
}

// compileRE compiles a Go (RE2) regular expression, explaining what RE2
// cannot do when the pattern uses it.
func compileRE(name, pattern string) (*regexp.Regexp, error) {
	re, err := regexp.Compile(pattern)
	if err != nil {
		msg := err.Error()
		if strings.Contains(msg, "(?=") || strings.Contains(msg, "(?!") || strings.Contains(msg, "(?<") ||
			strings.Contains(msg, "invalid escape sequence: `\\") && len(msg) > 0 {
			return nil, fmt.Errorf("%s: %w (regular expressions use Go's RE2 syntax: look-around and back-references are not supported)", name, err)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return re, nil
}

// regexReplace is Ansible's regex_replace with the value last, for use in
// a pipeline: {{ .path | regex_replace "^/srv/(\\w+)" "/data/\\1" }}.
func regexReplace(pattern, repl string, v any) (string, error) {
	s, err := toText(v)
	if err != nil {
		return "", err
	}
	re, err := compileRE("regex_replace", pattern)
	if err != nil {
		return "", err
	}
	repl = pyre.Expand(repl, nil, false) // Go's own $1, ${1} and $name keep working
	n := int64(len(re.FindAllStringIndex(s, maxElems+1)))
	refs := int64(strings.Count(repl, "$"))
	if err := capBytes("regex_replace", int64(len(s))+n*(int64(len(repl))+refs*int64(len(s)))); err != nil {
		return "", err
	}
	return re.ReplaceAllString(s, repl), nil
}

func asMap(name string, v any) (map[string]any, error) {
	switch x := v.(type) {
	case map[string]any:
		return x, nil
	case nil:
		return nil, nil
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[fmt.Sprint(k)] = e
		}
		return m, nil
	}
	return nil, fmt.Errorf("%s: expected a mapping, got %s", name, typeName(v))
}

// combine merges mappings into a new one; a later mapping's keys win, as
// in Ansible's combine. In a pipeline the piped value comes first:
// {{ .defaults | combine .overrides }}.
func combine(maps ...any) (map[string]any, error) {
	n := 0
	for _, m := range maps {
		if x, ok := m.(map[string]any); ok {
			n += len(x)
		}
	}
	out := make(map[string]any, n)
	for _, v := range maps {
		m, err := asMap("combine", v)
		if err != nil {
			return nil, err
		}
		for k, e := range m {
			out[k] = e
		}
	}
	return out, nil
}

// combinePiped is combine called with its piped value (the last argument)
// moved first.
func combinePiped(maps ...any) (map[string]any, error) {
	if len(maps) < 2 {
		return combine(maps...)
	}
	l := make([]any, 0, len(maps))
	l = append(l, maps[len(maps)-1])
	l = append(l, maps[:len(maps)-1]...)
	return combine(l...)
}

// dict2items turns a mapping into a list of {key, value} sorted by key.
func dict2items(v any) ([]any, error) {
	m, err := asMap("dict2items", v)
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]any, len(keys))
	for i, k := range keys {
		out[i] = map[string]any{"key": k, "value": m[k]}
	}
	return out, nil
}

// items2dict turns a list of {key, value} mappings into a mapping.
func items2dict(args ...any) (map[string]any, error) {
	// items2dict(key_name='k', value_name='v') arrives as items2dict "k" "v" LIST.
	keyName, valName := "key", "value"
	switch len(args) {
	case 1:
	case 3:
		k, ok1 := args[0].(string)
		vn, ok2 := args[1].(string)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("items2dict: key_name and value_name must be strings")
		}
		keyName, valName = k, vn
	default:
		return nil, fmt.Errorf("items2dict: wrong number of arguments: %d", len(args))
	}
	v := args[len(args)-1]
	l, ok := v.([]any)
	if !ok && v != nil {
		return nil, fmt.Errorf("items2dict: expected a list, got %s", typeName(v))
	}
	out := make(map[string]any, len(l))
	for i, e := range l {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("items2dict: item %d is %s, not a mapping with %s and %s", i, typeName(e), keyName, valName)
		}
		k, hasKey := m[keyName]
		val, hasVal := m[valName]
		if !hasKey || !hasVal {
			return nil, fmt.Errorf("items2dict: item %d has no %s or no %s", i, keyName, valName)
		}
		out[fmt.Sprint(k)] = val
	}
	return out, nil
}

// flatten flattens nested lists completely.
func flatten(v any) ([]any, error) {
	out := []any{}
	var walk func(any, int) error
	walk = func(v any, depth int) error {
		if depth > maxDataNest {
			return fmt.Errorf("flatten: lists nested deeper than %d: %w", maxDataNest, ErrLimit)
		}
		rv := reflect.ValueOf(v)
		if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
			out = append(out, v)
			return nil
		}
		for i := 0; i < rv.Len(); i++ {
			if err := walk(rv.Index(i).Interface(), depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	rv := reflect.ValueOf(v)
	if v != nil && rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return nil, fmt.Errorf("flatten: expected a list, got %s", typeName(v))
	}
	if err := walk(v, 0); err != nil {
		return nil, err
	}
	return out, nil
}

// unique removes duplicates, keeping the first occurrence, in linear time
// (values that cannot be map keys are compared by their JSON form).
func unique(v any) ([]any, error) {
	rv := reflect.ValueOf(v)
	if v == nil {
		return []any{}, nil
	}
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return nil, fmt.Errorf("unique: expected a list, got %s", typeName(v))
	}
	seen := make(map[any]struct{}, rv.Len())
	out := make([]any, 0, rv.Len())
	for i := 0; i < rv.Len(); i++ {
		e := rv.Index(i).Interface()
		key := e
		if e != nil && !reflect.TypeOf(e).Comparable() {
			s, err := toJSON(e)
			if err != nil {
				return nil, fmt.Errorf("unique: %w", err)
			}
			key = struct{ json string }{s}
		}
		if _, dup := seen[key]; dup {
			continue
		}
		seen[key] = struct{}{}
		out = append(out, e)
	}
	return out, nil
}

// typeName names a value's type in the words of YAML users (yaml11.TypeName).
func typeName(v any) string { return yaml11.TypeName(v) }
