package templates

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/mdo-play/mdo-play/templates/pyjson"
	"github.com/mdo-play/mdo-play/templates/yaml11"
	"hash"
	"math"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Functions with Jinja's and Ansible's semantics, which `mdo-play convert`
// emits (see docs/variables.md). Filters take the piped value last
// (`.x | d "y"` calls d("y", x)); tests (is_*) and operators take their
// operands in the order written (`is_version .v "2.0" ">="`).

// undefined is what a missing variable is to the functions in
// undefFuncs: Jinja's Undefined, which default and the defined test see
// and every other function never receives.
type undefined struct{ path string }

// undefFuncs receive a missing variable (or key) as an undefined value
// instead of an error or nil.
var undefFuncs = map[string]bool{
	"d": true, "is_defined": true, "is_undefined": true, "is_none": true,
}

func isUndef(v any) bool { _, ok := v.(undefined); return ok }

// lookupUndef walks path from v; a missing key gives undefined.
func lookupUndef(v any, path ...string) any {
	for i, p := range path {
		e, ok, err := lookup(v, p)
		if err != nil || !ok {
			if l, isList := v.([]any); isList {
				if n, err := strconv.Atoi(p); err == nil && n >= 0 && n < len(l) {
					v = l[n]
					continue
				}
			}
			return undefined{path: strings.Join(path[:i+1], ".")}
		}
		v = e
	}
	return v
}

// indexUndef is index for undefined-aware use: a missing key gives
// undefined.
func indexUndef(v any, keys ...any) any {
	for _, k := range keys {
		e, ok, err := lookup(v, k)
		if err != nil || !ok {
			return undefined{path: fmt.Sprint(k)}
		}
		v = e
	}
	return v
}

// ansibleFuncs returns the functions of this file, added to funcMap.
func ansibleFuncs() map[string]any {
	return map[string]any{
		"d":                    jinjaDefault,
		"truthy":               truthy,
		"in":                   pyIn,
		"length":               length,
		"string":               pyStr,
		"to_int":               toInt,
		"to_float":             toFloat,
		"to_list":              func(v any) ([]any, error) { l, err := items("list", v); return append([]any(nil), l...), err },
		"first":                func(v any) (any, error) { return firstLast("first", v, true) },
		"last":                 func(v any) (any, error) { return firstLast("last", v, false) },
		"lower":                func(v any) string { return strings.ToLower(pyStr(v)) },
		"upper":                func(v any) string { return strings.ToUpper(pyStr(v)) },
		"capitalize":           capitalize,
		"jjoin":                jjoin,
		"jmin":                 func(args ...any) (any, error) { return minMax("min", -1, args) },
		"jmax":                 func(args ...any) (any, error) { return minMax("max", 1, args) },
		"jindent":              jindent,
		"sort":                 func(args ...any) ([]any, error) { return sortBy("sort", "", args) },
		"sort_by":              func(attr string, args ...any) ([]any, error) { return sortBy("sort_by", attr, args) },
		"sum":                  sum,
		"zip":                  zip,
		"union":                func(b, a any) ([]any, error) { return setOp("union", a, b) },
		"intersect":            func(b, a any) ([]any, error) { return setOp("intersect", a, b) },
		"difference":           func(b, a any) ([]any, error) { return setOp("difference", a, b) },
		"symmetric_difference": func(b, a any) ([]any, error) { return setOp("symmetric_difference", a, b) },
		"regex_search":         regexSearch,
		"regex_findall":        regexFindall,
		"regex_escape":         regexEscape,
		"hash":                 hashHex,
		"checksum":             func(v any) (string, error) { return hashHex("sha1", v) },
		"password_hash":        passwordHash,
		"ipaddr":               ipaddrFunc(0),
		"ipv4":                 ipaddrFunc(4),
		"ipv6":                 ipaddrFunc(6),
		"subelements":          subelements,
		"urlsplit":             urlsplit,
		"json_query":           jsonQuery,
		"dict2items_kv":        dict2itemsKV,
		"product":              product,
		"groupby":              groupby,
		"to_uuid":              toUUID,
		"ternary_none":         func(t, f, n, cond any) any { return ternaryNone(t, f, n, cond) },
		"ipwrap":               ipwrap,
		"map_attr":             mapAttr,
		"comment":              comment,
		"comment_kw":           commentKw,
		"combine_recursive":    combineRecursive,
		"pyfind":               func(sub, s any) int { return pyFind(pyStr(s), pyStr(sub), false) },
		"pyrandom":             pyRandom,
		"pysplitext":           func(v any) []any { r, e := pySplitext(pyStr(v)); return []any{r, e} },
		"path_join":            pathJoin,
		"pysplitlines":         func(v any) []any { return strList(pySplitlines(pyStr(v))) },
		"pyisdigit":            func(v any) bool { return pyIsDigit(pyStr(v)) },
		"pyrfind":              func(sub, s any) int { return pyFind(pyStr(s), pyStr(sub), true) },
		"fields":               func(v any) []any { return strList(strings.Fields(pyStr(v))) },
		"lstrip":               func(args ...any) string { return strip(args, true, false) },
		"rstrip":               func(args ...any) string { return strip(args, false, true) },
		"dict_values":          dictValues,
		"dict_items":           dictItems,
		"extract":              extract,
		"flatten":              flattenLevels,
		"replace":              replaceAny,
		"ternary":              func(t, f, cond any) any { return ternary(t, f, cond) },
		"plus":                 plus,
		"minus":                func(a, b any) (any, error) { return arith("-", a, b) },
		"times":                times,
		"divide":               func(a, b any) (any, error) { return arith("/", a, b) },
		"floordiv":             func(a, b any) (any, error) { return arith("//", a, b) },
		"modulo":               func(a, b any) (any, error) { return arith("%", a, b) },
		"power":                func(a, b any) (any, error) { return arith("**", a, b) },
		"neg":                  func(a any) (any, error) { return arith("-", 0, a) },
		"abs":                  func(a any) (any, error) { return absolute(a) },
		"jround":               jround,
		"pyslice":              pySlice,
		"pyformat":             pyFormat,
		"eq":                   func(a any, bs ...any) bool { return anyEqual(a, bs) },
		"ne":                   func(a, b any) bool { return !pyEqual(a, b) },
		"lt":                   func(a, b any) (bool, error) { c, err := pyCompare(a, b); return c < 0, err },
		"le":                   func(a, b any) (bool, error) { c, err := pyCompare(a, b); return c <= 0, err },
		"gt":                   func(a, b any) (bool, error) { c, err := pyCompare(a, b); return c > 0, err },
		"ge":                   func(a, b any) (bool, error) { c, err := pyCompare(a, b); return c >= 0, err },

		"is_defined":     func(v any) bool { return !isUndef(v) },
		"is_undefined":   isUndef,
		"is_none":        func(v any) bool { return v == nil },
		"is_version":     isVersion,
		"is_match":       func(v any, pattern string) (bool, error) { return reTest("match", v, pattern) },
		"is_search":      func(v any, pattern string) (bool, error) { return reTest("search", v, pattern) },
		"is_regex":       func(v any, pattern string) (bool, error) { return reTest("search", v, pattern) },
		"is_succeeded":   func(v any) (bool, error) { f, err := resultFlag("succeeded", v, "failed"); return !f, err },
		"is_failed":      func(v any) (bool, error) { return resultFlag("failed", v, "failed") },
		"is_changed":     isChanged,
		"is_skipped":     func(v any) (bool, error) { return resultFlag("skipped", v, "skipped") },
		"is_unreachable": func(v any) (bool, error) { return resultFlag("unreachable", v, "unreachable") },
		"is_finished": func(v any) (bool, error) {
			m, err := asMap("finished", v)
			if err != nil || m == nil {
				return false, errors.New("the finished test expects a mapping")
			}
			f, ok := m["finished"]
			return !ok || pyEqual(f, 1), nil
		},
		"is_string": func(v any) bool { _, ok := v.(string); return ok },
		"is_number": func(v any) bool { _, _, _, ok := number(v); return ok },
		"is_integer": func(v any) bool {
			_, _, isFloat, ok := number(v)
			_, isBool := v.(bool)
			return ok && !isFloat && !isBool
		},
		"is_float":   func(v any) bool { _, _, isFloat, ok := number(v); return ok && isFloat },
		"is_boolean": func(v any) bool { _, ok := v.(bool); return ok },
		// Jinja's true and false tests: the boolean itself (1 is not true).
		"is_true":  func(v any) bool { b, ok := v.(bool); return ok && b },
		"is_false": func(v any) bool { b, ok := v.(bool); return ok && !b },
		// Ansible's abs test (os.path.isabs) and contains test (seq
		// contains value: value in seq).
		"is_abs":         func(v any) bool { return strings.HasPrefix(pyStr(v), "/") },
		"is_contains":    func(seq, v any) (bool, error) { return pyIn(v, seq) },
		"is_mapping":     func(v any) bool { return reflect.ValueOf(v).Kind() == reflect.Map },
		"is_iterable":    isIterable,
		"is_sequence":    isIterable,
		"is_truthy":      pyTruth,
		"is_falsy":       func(v any) bool { return !pyTruth(v) },
		"is_divisibleby": func(v, n any) (bool, error) { r, err := arith("%", v, n); return pyEqual(r, 0), err },
		"is_even":        func(v any) (bool, error) { r, err := arith("%", v, 2); return pyEqual(r, 0), err },
		"is_odd":         func(v any) (bool, error) { r, err := arith("%", v, 2); return pyEqual(r, 1), err },
		"is_subset":      func(a, b any) (bool, error) { return subset(a, b) },
		"is_superset":    func(a, b any) (bool, error) { return subset(b, a) },
		"is_lower":       func(v any) bool { s := pyStr(v); return s == strings.ToLower(s) && s != strings.ToUpper(s) },
		"is_upper":       func(v any) bool { s := pyStr(v); return s == strings.ToUpper(s) && s != strings.ToLower(s) },
		"is_eq":          func(a, b any) bool { return pyEqual(a, b) },
	}
}

func anyEqual(a any, bs []any) bool {
	for _, b := range bs {
		if pyEqual(a, b) {
			return true
		}
	}
	return false
}

// jinjaDefault is Jinja's default(value, default_value, boolean): the
// default replaces an undefined value (and, with boolean true, any false
// one); null stays null.
func jinjaDefault(args ...any) (any, error) {
	if len(args) == 0 {
		return nil, errors.New("d: missing value")
	}
	v := args[len(args)-1]
	def := any("")
	if len(args) > 1 {
		def = args[0]
	}
	boolean := len(args) > 2 && pyTruth(args[1])
	if isUndef(v) || boolean && !pyTruth(v) {
		if u, ok := def.(undefined); ok {
			return nil, &undefinedError{path: u.path}
		}
		return def, nil
	}
	return v, nil
}

// truthy is a condition's truth: Python's, except that a string holding a
// YAML boolean word (yes/no, true/false, on/off) is that boolean, as
// Ansible reads a bare variable in when:.
func truthy(v any) bool {
	if s, ok := v.(string); ok {
		if b, err := yaml11.Bool(s); err == nil {
			return b
		}
	}
	return pyTruth(v)
}

// pyIn is Python's `needle in haystack`: substring, list membership or
// mapping key.
func pyIn(needle, haystack any) (bool, error) {
	switch h := haystack.(type) {
	case string:
		n, ok := needle.(string)
		if !ok {
			return false, fmt.Errorf("in: 'in <string>' requires a string, not %s", typeName(needle))
		}
		return strings.Contains(h, n), nil
	case nil:
		return false, errors.New("in: cannot look into null")
	}
	rv := reflect.ValueOf(haystack)
	switch rv.Kind() {
	case reflect.Map:
		m, err := asMap("in", haystack)
		if err != nil {
			return false, err
		}
		k, ok := needle.(string)
		if !ok {
			k = pyStr(needle)
		}
		_, found := m[k]
		return found, nil
	case reflect.Slice, reflect.Array:
		for i := 0; i < rv.Len(); i++ {
			if pyEqual(needle, rv.Index(i).Interface()) {
				return true, nil
			}
		}
		return false, nil
	}
	return false, fmt.Errorf("in: cannot look into %s", typeName(haystack))
}

// length is Jinja's length: characters of a string, elements of a list
// or mapping.
func length(v any) (int, error) {
	if s, ok := v.(string); ok {
		return utf8.RuneCountInString(s), nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array, reflect.Map:
		return rv.Len(), nil
	}
	return 0, fmt.Errorf("length: %s has no length", typeName(v))
}

// toInt is Jinja's int(value, default=0, base=10).
func toInt(args ...any) (any, error) {
	v := args[len(args)-1]
	def := any(0)
	base := 10
	if len(args) > 1 {
		def = args[0]
	}
	if len(args) > 2 {
		b, _, _, ok := number(args[1])
		if !ok {
			return nil, errors.New("int: base must be a number")
		}
		base = int(b)
	}
	if s, ok := v.(string); ok {
		t := strings.ReplaceAll(strings.TrimSpace(s), "_", "")
		if base != 10 {
			t = strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(strings.ToLower(t), "0x"), "0o"), "0b")
		}
		if n, err := strconv.ParseInt(t, base, 64); err == nil {
			return int(n), nil
		}
		if f, err := strconv.ParseFloat(t, 64); err == nil && base == 10 && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return int(f), nil
		}
		return def, nil
	}
	if i, f, isFloat, ok := number(v); ok {
		if isFloat {
			if math.IsInf(f, 0) || math.IsNaN(f) {
				return def, nil
			}
			return int(f), nil
		}
		return int(i), nil
	}
	return def, nil
}

// toFloat is Jinja's float(value, default=0.0).
func toFloat(args ...any) (any, error) {
	v := args[len(args)-1]
	def := any(0.0)
	if len(args) > 1 {
		def = args[0]
	}
	if s, ok := v.(string); ok {
		if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
			return f, nil
		}
		return def, nil
	}
	if _, f, _, ok := number(v); ok {
		return f, nil
	}
	return def, nil
}

func firstLast(name string, v any, first bool) (any, error) {
	l, err := items(name, v)
	if err != nil {
		return nil, err
	}
	if len(l) == 0 {
		return nil, fmt.Errorf("%s: the list is empty", name)
	}
	if first {
		return l[0], nil
	}
	return l[len(l)-1], nil
}

func capitalize(v any) string {
	s := pyStr(v)
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + strings.ToLower(s[n:])
}

// jjoin is Jinja's join: str() of each element, with sep between.
func jjoin(sep, v any) (string, error) {
	l, err := items("join", v)
	if err != nil {
		return "", err
	}
	parts := make([]string, len(l))
	n := 0
	for i, e := range l {
		parts[i] = pyStr(e)
		n += len(parts[i]) + len(pyStr(sep))
	}
	if err := capBytes("join", int64(n)); err != nil {
		return "", err
	}
	return strings.Join(parts, pyStr(sep)), nil
}

// sortKey is what Jinja sorts and compares by: strings case-insensitively
// unless case_sensitive.
func sortKey(v any, caseSensitive bool) any {
	if s, ok := v.(string); ok && !caseSensitive {
		return strings.ToLower(s)
	}
	return v
}

func attrOf(v any, attr string) (any, bool) {
	if attr == "" {
		return v, true
	}
	for _, p := range strings.Split(attr, ".") {
		e, ok, err := lookup(v, p)
		if err != nil || !ok {
			if n, err := strconv.Atoi(p); err == nil {
				if e, ok, err = lookup(v, n); err == nil && ok {
					v = e
					continue
				}
			}
			return nil, false
		}
		v = e
	}
	return v, true
}

// sortBy is Jinja's sort(reverse, case_sensitive, attribute), stable.
func sortBy(name, attr string, args []any) ([]any, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("%s: missing value", name)
	}
	l, err := items(name, args[len(args)-1])
	if err != nil {
		return nil, err
	}
	opts := args[:len(args)-1]
	reverse := len(opts) > 0 && pyTruth(opts[0])
	cs := len(opts) > 1 && pyTruth(opts[1])
	out := append([]any(nil), l...)
	keys := make([]any, len(out))
	for i, e := range out {
		k, ok := attrOf(e, attr)
		if !ok {
			return nil, fmt.Errorf("%s: item %d has no attribute %q", name, i, attr)
		}
		keys[i] = sortKey(k, cs)
	}
	idx := make([]int, len(out))
	for i := range idx {
		idx[i] = i
	}
	var cmpErr error
	sort.SliceStable(idx, func(a, b int) bool {
		c, err := pyCompare(keys[idx[a]], keys[idx[b]])
		if err != nil && cmpErr == nil {
			cmpErr = err
		}
		if reverse {
			return c > 0
		}
		return c < 0
	})
	if cmpErr != nil {
		return nil, fmt.Errorf("%s: %w", name, cmpErr)
	}
	sorted := make([]any, len(out))
	for i, j := range idx {
		sorted[i] = out[j]
	}
	return sorted, nil
}

func minMax(name string, sign int, args []any) (any, error) {
	l, err := items(name, args[len(args)-1])
	if err != nil {
		return nil, err
	}
	attr := ""
	if len(args) > 1 {
		attr = pyStr(args[0])
	}
	if len(l) == 0 {
		return nil, fmt.Errorf("%s: the list is empty", name)
	}
	best := l[0]
	bk, _ := attrOf(best, attr)
	bk = sortKey(bk, false)
	for _, e := range l[1:] {
		k, ok := attrOf(e, attr)
		if !ok {
			return nil, fmt.Errorf("%s: an item has no attribute %q", name, attr)
		}
		k = sortKey(k, false)
		c, err := pyCompare(k, bk)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if c*sign > 0 {
			best, bk = e, k
		}
	}
	return best, nil
}

// jindent is Jinja's indent(width=4, first=False, blank=False).
func jindent(args ...any) (string, error) {
	s := pyStr(args[len(args)-1])
	ind := "    "
	if len(args) > 1 {
		if w, ok := args[0].(string); ok {
			ind = w
		} else if n, _, _, ok := number(args[0]); ok {
			if n < 0 || n > 1<<10 {
				return "", fmt.Errorf("indent: bad width %d", n)
			}
			ind = strings.Repeat(" ", int(n))
		}
	}
	first := len(args) > 2 && pyTruth(args[1])
	blank := len(args) > 3 && pyTruth(args[2])
	if err := capBytes("indent", int64(len(s))+int64(len(ind))*int64(strings.Count(s, "\n")+1)); err != nil {
		return "", err
	}
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	var b strings.Builder
	for i, line := range lines {
		if i > 0 {
			b.WriteByte('\n')
			if line != "" || blank {
				if !(i == len(lines)-1 && line == "") {
					b.WriteString(ind)
				}
			}
		}
		b.WriteString(line)
	}
	rv := b.String()
	if first {
		rv = ind + rv
	}
	return rv, nil
}

func sum(v any) (any, error) {
	l, err := items("sum", v)
	if err != nil {
		return nil, err
	}
	var total any = 0
	for _, e := range l {
		if total, err = arith("+", total, e); err != nil {
			return nil, fmt.Errorf("sum: %w", err)
		}
	}
	return total, nil
}

// zip pairs the value (last) with the lists before it.
func zip(args ...any) ([]any, error) {
	lists := make([][]any, len(args))
	n := -1
	for i, a := range args {
		l, err := items("zip", a)
		if err != nil {
			return nil, err
		}
		j := (i + 1) % len(args) // the value first
		lists[j] = l
		if n < 0 || len(l) < n {
			n = len(l)
		}
	}
	out := make([]any, max(n, 0))
	for i := range out {
		t := make([]any, len(lists))
		for j, l := range lists {
			t[j] = l[i]
		}
		out[i] = t
	}
	return out, nil
}

func uniqueList(l []any) []any {
	out := []any{}
	for _, e := range l {
		dup := false
		for _, o := range out {
			if pyEqual(e, o) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, e)
		}
	}
	return out
}

func contains(l []any, e any) bool {
	for _, o := range l {
		if pyEqual(e, o) {
			return true
		}
	}
	return false
}

// setOp is Ansible's union, intersect, difference and symmetric_difference
// on lists: the order of the first list, without duplicates.
func setOp(name string, a, b any) ([]any, error) {
	la, err := items(name, a)
	if err != nil {
		return nil, err
	}
	lb, err := items(name, b)
	if err != nil {
		return nil, err
	}
	if int64(len(la))*int64(len(lb)) > maxWork/costElem {
		return nil, fmt.Errorf("%s: lists too long: %w", name, ErrLimit)
	}
	var out []any
	switch name {
	case "union":
		out = uniqueList(append(append([]any(nil), la...), lb...))
	case "intersect":
		for _, e := range la {
			if contains(lb, e) {
				out = append(out, e)
			}
		}
		out = uniqueList(out)
	case "difference":
		for _, e := range la {
			if !contains(lb, e) {
				out = append(out, e)
			}
		}
		out = uniqueList(out)
	case "symmetric_difference":
		isect, _ := setOp("intersect", a, b)
		for _, e := range uniqueList(append(append([]any(nil), la...), lb...)) {
			if !contains(isect, e) {
				out = append(out, e)
			}
		}
	}
	if out == nil {
		out = []any{}
	}
	return out, nil
}

// regexSearch is Ansible's regex_search(pattern, *groups): the first
// match, or the listed groups ('\\1', '\\g<name>') of it; null when there
// is none.
func regexSearch(pattern string, args ...any) (any, error) {
	if len(args) == 0 {
		return nil, errors.New("regex_search: missing value")
	}
	s, err := toText(args[len(args)-1])
	if err != nil {
		return nil, err
	}
	re, err := compileRE("regex_search", pattern)
	if err != nil {
		return nil, err
	}
	m := re.FindStringSubmatchIndex(s)
	if m == nil {
		return nil, nil
	}
	groups := args[:len(args)-1]
	if len(groups) == 0 {
		return s[m[0]:m[1]], nil
	}
	out := make([]any, 0, len(groups))
	for _, g := range groups {
		ref := pyStr(g)
		var n int
		switch {
		case strings.HasPrefix(ref, `\g<`) && strings.HasSuffix(ref, ">"):
			name := ref[3 : len(ref)-1]
			if n, err = strconv.Atoi(name); err != nil {
				n = re.SubexpIndex(name)
			}
		case strings.HasPrefix(ref, `\`):
			n, err = strconv.Atoi(ref[1:])
			if err != nil {
				return nil, fmt.Errorf("regex_search: bad group %q", ref)
			}
		default:
			return nil, fmt.Errorf("regex_search: bad group %q", ref)
		}
		if n < 0 || 2*n+1 >= len(m) {
			return nil, fmt.Errorf("regex_search: no group %q", ref)
		}
		if m[2*n] < 0 {
			out = append(out, nil)
		} else {
			out = append(out, s[m[2*n]:m[2*n+1]])
		}
	}
	return out, nil
}

// regexFindall is Python's re.findall.
func regexFindall(pattern string, v any) ([]any, error) {
	s, err := toText(v)
	if err != nil {
		return nil, err
	}
	re, err := compileRE("regex_findall", pattern)
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, m := range re.FindAllStringSubmatch(s, maxElems) {
		switch len(m) {
		case 1:
			out = append(out, m[0])
		case 2:
			out = append(out, m[1])
		default:
			out = append(out, strList(m[1:]))
		}
	}
	return out, nil
}

func strList(l []string) []any {
	out := make([]any, len(l))
	for i, s := range l {
		out[i] = s
	}
	return out
}

// regexEscape is Python's re.escape.
func regexEscape(v any) string {
	var b strings.Builder
	for _, r := range pyStr(v) {
		if strings.ContainsRune("()[]{}?*+-|^$\\.&~# \t\n\r\v\f", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func hashHex(alg string, v any) (string, error) {
	var h hash.Hash
	switch strings.ToLower(alg) {
	case "sha1":
		h = sha1.New()
	case "md5":
		h = md5.New()
	case "sha224":
		h = sha256.New224()
	case "sha256":
		h = sha256.New()
	case "sha384":
		h = sha512.New384()
	case "sha512":
		h = sha512.New()
	default:
		return "", fmt.Errorf("hash: unsupported hash type %q", alg)
	}
	h.Write([]byte(pyStr(v)))
	return hex.EncodeToString(h.Sum(nil)), nil
}

// mapAttr is map(attribute=name[, default=x]).
func mapAttr(attr string, args ...any) ([]any, error) {
	l, err := items("map", args[len(args)-1])
	if err != nil {
		return nil, err
	}
	out := make([]any, len(l))
	for i, e := range l {
		v, ok := attrOf(e, attr)
		if !ok {
			if len(args) < 2 {
				return nil, &undefinedError{path: fmt.Sprintf("[%d].%s", i, attr)}
			}
			v = args[0]
		}
		out[i] = v
	}
	return out, nil
}

// comment is Ansible's comment filter with its predefined styles.
func comment(args ...any) (string, error) {
	text := pyStr(args[len(args)-1])
	style := "plain"
	if len(args) > 1 {
		style = pyStr(args[0])
	}
	var begin, deco, end string
	switch style {
	case "plain":
		deco = "# "
	case "erlang":
		deco = "% "
	case "c":
		deco = "// "
	case "cblock":
		begin, deco, end = "/*", " * ", " */"
	case "xml":
		begin, deco, end = "<!--", " - ", "-->"
	default:
		return "", fmt.Errorf("comment: unknown style %q", style)
	}
	var b strings.Builder
	if begin != "" {
		b.WriteString(begin + "\n")
	}
	if p := strings.TrimRight(deco, " "); p != "" {
		b.WriteString(p + "\n")
	}
	body := deco + strings.ReplaceAll(text, "\n", "\n"+deco)
	body = strings.ReplaceAll(body, deco+"\n", strings.TrimRight(deco, " ")+"\n")
	b.WriteString(body)
	b.WriteString("\n" + strings.TrimRight(deco, " "))
	if end != "" {
		b.WriteString("\n" + end)
	}
	return b.String(), nil
}

// combineRecursive is combine(recursive=True): nested mappings merge,
// anything else is replaced. The piped value is the last argument.
func combineRecursive(maps ...any) (map[string]any, error) {
	if len(maps) > 1 {
		maps = append([]any{maps[len(maps)-1]}, maps[:len(maps)-1]...)
	}
	out := map[string]any{}
	for _, v := range maps {
		m, err := asMap("combine", v)
		if err != nil {
			return nil, err
		}
		out = mergeDeep(out, m, 0)
	}
	return out, nil
}

func mergeDeep(dst, src map[string]any, depth int) map[string]any {
	out := make(map[string]any, len(dst)+len(src))
	for k, v := range dst {
		out[k] = v
	}
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok && depth < maxDataNest {
			if dm, ok := out[k].(map[string]any); ok {
				out[k] = mergeDeep(dm, sm, depth+1)
				continue
			}
		}
		out[k] = v
	}
	return out
}

func strip(args []any, left, right bool) string {
	s := pyStr(args[len(args)-1])
	cut := " \t\n\r\v\f"
	if len(args) > 1 && args[0] != nil {
		cut = pyStr(args[0])
	}
	if left {
		s = strings.TrimLeft(s, cut)
	}
	if right {
		s = strings.TrimRight(s, cut)
	}
	return s
}

func sortedMap(name string, v any) ([]string, map[string]any, error) {
	m, err := asMap(name, v)
	if err != nil {
		return nil, nil, err
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys, m, nil
}

func dictValues(v any) ([]any, error) {
	keys, m, err := sortedMap("values", v)
	out := make([]any, len(keys))
	for i, k := range keys {
		out[i] = m[k]
	}
	return out, err
}

func dictItems(v any) ([]any, error) {
	keys, m, err := sortedMap("items", v)
	out := make([]any, len(keys))
	for i, k := range keys {
		out[i] = []any{k, m[k]}
	}
	return out, err
}

// extract is Ansible's extract(item, container, morekeys): the value is
// last, after the container and the further keys.
func extract(container any, args ...any) (any, error) {
	item := args[len(args)-1]
	v, ok, err := lookup(container, item)
	if err != nil {
		return nil, fmt.Errorf("extract: %w", err)
	}
	if !ok {
		return nil, &undefinedError{path: pyStr(item)}
	}
	for _, k := range args[:len(args)-1] {
		keys := []any{k}
		if l, isList := k.([]any); isList {
			keys = l
		}
		for _, kk := range keys {
			if v, ok, err = lookup(v, kk); err != nil || !ok {
				return nil, &undefinedError{path: pyStr(item) + "." + pyStr(kk)}
			}
		}
	}
	return v, nil
}

// flattenLevels is Ansible's flatten(levels=None): nested lists are
// flattened (up to levels deep) and nulls dropped.
func flattenLevels(args ...any) ([]any, error) {
	v := args[len(args)-1]
	levels := -1
	if len(args) > 1 && args[0] != nil {
		n, _, _, ok := number(args[0])
		if !ok {
			return nil, errors.New("flatten: levels must be a number")
		}
		levels = int(n)
	}
	rv := reflect.ValueOf(v)
	if v != nil && rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return nil, fmt.Errorf("flatten: expected a list, got %s", typeName(v))
	}
	out := []any{}
	var walk func(any, int) error
	walk = func(v any, depth int) error {
		if depth > maxDataNest {
			return fmt.Errorf("flatten: lists nested deeper than %d: %w", maxDataNest, ErrLimit)
		}
		rv := reflect.ValueOf(v)
		for i := 0; i < rv.Len(); i++ {
			e := rv.Index(i).Interface()
			if e == nil || e == "None" {
				continue
			}
			er := reflect.ValueOf(e)
			if (er.Kind() == reflect.Slice || er.Kind() == reflect.Array) && (levels < 0 || depth < levels) {
				if err := walk(e, depth+1); err != nil {
					return err
				}
				continue
			}
			out = append(out, e)
		}
		return nil
	}
	if v == nil {
		return out, nil
	}
	return out, walk(v, 0)
}

func replaceAny(old, new string, src any) (string, error) {
	s := pyStr(src)
	n := int64(strings.Count(s, old))
	if err := capBytes("replace", int64(len(s))+n*int64(len(new))); err != nil {
		return "", err
	}
	return strings.ReplaceAll(s, old, new), nil
}

// ternary picks t or f by the condition's truth.
func ternary(t, f, cond any) any {
	if pyTruth(cond) {
		return t
	}
	return f
}

func plus(a, b any) (any, error) {
	if x, ok := a.(string); ok {
		if y, ok := b.(string); ok {
			if err := capBytes("plus", int64(len(x)+len(y))); err != nil {
				return nil, err
			}
			return x + y, nil
		}
	}
	ra, rb := reflect.ValueOf(a), reflect.ValueOf(b)
	if ra.Kind() == reflect.Slice && rb.Kind() == reflect.Slice {
		la, _ := items("plus", a)
		lb, _ := items("plus", b)
		if err := capElems("plus", int64(len(la)+len(lb))); err != nil {
			return nil, err
		}
		return append(append([]any{}, la...), lb...), nil
	}
	return arith("+", a, b)
}

func times(a, b any) (any, error) {
	for _, p := range [][2]any{{a, b}, {b, a}} {
		n, _, isFloat, ok := number(p[1])
		if !ok || isFloat {
			continue
		}
		if s, isStr := p[0].(string); isStr {
			if err := capBytes("times", int64(len(s))*max(n, 0)); err != nil {
				return nil, err
			}
			return strings.Repeat(s, int(max(n, 0))), nil
		}
		if l, isList := p[0].([]any); isList {
			if err := capElems("times", int64(len(l))*max(n, 0)); err != nil {
				return nil, err
			}
			out := []any{}
			for i := int64(0); i < n; i++ {
				out = append(out, l...)
			}
			return out, nil
		}
	}
	return arith("*", a, b)
}

// arith is Python arithmetic on ints and floats.
func arith(op string, a, b any) (any, error) {
	ai, af, aFloat, ok1 := number(a)
	bi, bf, bFloat, ok2 := number(b)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("unsupported operand types for %s: %s and %s", op, typeName(a), typeName(b))
	}
	if op == "/" {
		if bf == 0 {
			return nil, errors.New("division by zero")
		}
		return af / bf, nil
	}
	if aFloat || bFloat || op == "**" && bi < 0 {
		switch op {
		case "+":
			return af + bf, nil
		case "-":
			return af - bf, nil
		case "*":
			return af * bf, nil
		case "//":
			if bf == 0 {
				return nil, errors.New("division by zero")
			}
			return math.Floor(af / bf), nil
		case "%":
			if bf == 0 {
				return nil, errors.New("division by zero")
			}
			m := math.Mod(af, bf)
			if m != 0 && (m < 0) != (bf < 0) {
				m += bf
			}
			return m, nil
		case "**":
			return math.Pow(af, bf), nil
		}
	}
	switch op {
	case "+":
		return int(ai + bi), nil
	case "-":
		return int(ai - bi), nil
	case "*":
		return int(ai * bi), nil
	case "//", "%":
		if bi == 0 {
			return nil, errors.New("division by zero")
		}
		q, m := ai/bi, ai%bi
		if m != 0 && (m < 0) != (bi < 0) {
			q--
			m += bi
		}
		if op == "//" {
			return int(q), nil
		}
		return int(m), nil
	case "**":
		if bi > 64 && ai != 0 && ai != 1 && ai != -1 {
			return nil, fmt.Errorf("power: exponent %d too large: %w", bi, ErrLimit)
		}
		r := int64(1)
		for i := int64(0); i < bi; i++ {
			r *= ai
		}
		return int(r), nil
	}
	return nil, fmt.Errorf("unknown operator %s", op)
}

func absolute(a any) (any, error) {
	i, f, isFloat, ok := number(a)
	if !ok {
		return nil, fmt.Errorf("abs: %s is not a number", typeName(a))
	}
	if isFloat {
		return math.Abs(f), nil
	}
	if i < 0 {
		i = -i
	}
	return int(i), nil
}

// pySlice is Python's v[start:stop:step] on lists and strings; nil parts
// are omitted ones.
func pySlice(v any, parts ...any) (any, error) {
	var l []any
	s, isStr := v.(string)
	var runes []rune
	n := 0
	if isStr {
		runes = []rune(s)
		n = len(runes)
	} else {
		var err error
		if l, err = items("slice", v); err != nil {
			return nil, err
		}
		n = len(l)
	}
	get := func(i int, def int) (int, error) {
		if i >= len(parts) || parts[i] == nil {
			return def, nil
		}
		x, _, isFloat, ok := number(parts[i])
		if !ok || isFloat {
			return 0, errors.New("slice indices must be integers")
		}
		return int(x), nil
	}
	step, err := get(2, 1)
	if err != nil || step == 0 {
		return nil, firstError(err, errors.New("slice step cannot be zero"))
	}
	lo, hi := 0, n
	if step < 0 {
		lo, hi = n-1, -n-1
	}
	start, err1 := get(0, lo)
	stop, err2 := get(1, hi)
	if err := firstError(err1, err2); err != nil {
		return nil, err
	}
	clamp := func(i int) int {
		if i < 0 {
			i += n
			if i < 0 {
				if step < 0 {
					return -1
				}
				return 0
			}
		}
		if i >= n {
			if step < 0 {
				return n - 1
			}
			return n
		}
		return i
	}
	start, stop = clamp(start), clamp(stop)
	var idx []int
	for i := start; step > 0 && i < stop || step < 0 && i > stop; i += step {
		idx = append(idx, i)
	}
	if isStr {
		out := make([]rune, len(idx))
		for j, i := range idx {
			out[j] = runes[i]
		}
		return string(out), nil
	}
	out := make([]any, len(idx))
	for j, i := range idx {
		out[j] = l[i]
	}
	return out, nil
}

func firstError(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

var pyVerbRE = regexp.MustCompile(`%([-+ #0]*)(\d+|\*)?(?:\.(\d+))?([diouxXeEfFgGcrsa%])`)

// pyFormat is Python's "format" % args.
func pyFormat(format string, args ...any) (string, error) {
	if len(args) == 1 {
		if l, ok := args[0].([]any); ok && strings.Count(format, "%")-2*strings.Count(format, "%%") > 1 {
			args = l
		}
	}
	i := 0
	var ferr error
	out := pyVerbRE.ReplaceAllStringFunc(format, func(m string) string {
		sm := pyVerbRE.FindStringSubmatch(m)
		verb := sm[4]
		if verb == "%" {
			return "%"
		}
		if i >= len(args) {
			ferr = errors.New("not enough arguments for format string")
			return m
		}
		a := args[i]
		i++
		spec := "%" + sm[1] + sm[2]
		if sm[3] != "" {
			spec += "." + sm[3]
		}
		switch verb {
		case "s", "a":
			return fmt.Sprintf(spec+"s", pyStr(a))
		case "r":
			return fmt.Sprintf(spec+"s", pyjson.Repr(a))
		case "d", "i", "u":
			n, err := toInt(a)
			if err != nil {
				ferr = err
			}
			return fmt.Sprintf(spec+"d", n)
		case "o", "x", "X":
			n, _, _, _ := number(a)
			return fmt.Sprintf(spec+verb, n)
		case "c":
			if s, ok := a.(string); ok {
				return s
			}
			n, _, _, _ := number(a)
			return string(rune(n))
		default:
			_, f, _, ok := number(a)
			if !ok {
				ferr = fmt.Errorf("%%%s format: a number is required, not %s", verb, typeName(a))
			}
			if sm[3] == "" && strings.ContainsAny(verb, "eEfF") {
				spec += ".6"
			}
			return fmt.Sprintf(spec+verb, f)
		}
	})
	if ferr == nil && i < len(args) {
		ferr = errors.New("not all arguments converted during string formatting")
	}
	return out, ferr
}

func isIterable(v any) bool {
	switch v.(type) {
	case string:
		return true
	case nil, undefined:
		return false
	}
	switch reflect.ValueOf(v).Kind() {
	case reflect.Slice, reflect.Array, reflect.Map:
		return true
	}
	return false
}

func subset(a, b any) (bool, error) {
	la, err := items("subset", a)
	if err != nil {
		return false, err
	}
	lb, err := items("subset", b)
	if err != nil {
		return false, err
	}
	for _, e := range la {
		if !contains(lb, e) {
			return false, nil
		}
	}
	return true, nil
}

func reTest(kind string, v any, pattern string) (bool, error) {
	s, err := toText(v)
	if err != nil {
		return false, err
	}
	if kind == "match" {
		pattern = `\A(?:` + pattern + `)`
	}
	re, err := compileRE(kind, pattern)
	if err != nil {
		return false, err
	}
	return re.MatchString(s), nil
}

// resultFlag reads a boolean of a registered result, as Ansible's result
// tests do.
func resultFlag(test string, v any, key string) (bool, error) {
	m, err := asMap(test, v)
	if err != nil || m == nil {
		return false, fmt.Errorf("the %s test expects a registered result (a mapping), got %s", test, typeName(v))
	}
	return truthy(m[key]), nil
}

func isChanged(v any) (bool, error) {
	m, err := asMap("changed", v)
	if err != nil || m == nil {
		return false, fmt.Errorf("the changed test expects a registered result (a mapping), got %s", typeName(v))
	}
	if c, ok := m["changed"]; ok {
		return truthy(c), nil
	}
	if rs, ok := m["results"].([]any); ok {
		for _, r := range rs {
			if rm, ok := r.(map[string]any); ok && truthy(rm["changed"]) {
				return true, nil
			}
		}
	}
	return false, nil
}

// jround is Jinja's round(value, precision=0, method='common'): a float,
// halves away from zero ('ceil' and 'floor' round up or down).
func jround(args ...any) (float64, error) {
	_, f, _, ok := number(args[len(args)-1])
	if !ok {
		return 0, fmt.Errorf("round: %s is not a number", typeName(args[len(args)-1]))
	}
	prec := 0
	if len(args) > 1 {
		p, _, _, ok := number(args[0])
		if !ok || p < 0 || p > 15 {
			return 0, errors.New("round: bad precision")
		}
		prec = int(p)
	}
	method := "common"
	if len(args) > 2 {
		method = pyStr(args[1])
	}
	m := math.Pow(10, float64(prec))
	switch method {
	case "common":
		return math.Round(f*m) / m, nil
	case "ceil":
		return math.Ceil(f*m) / m, nil
	case "floor":
		return math.Floor(f*m) / m, nil
	}
	return 0, fmt.Errorf("round: method must be common, ceil or floor, got %q", method)
}

// pyFind is Python's str.find (last: str.rfind): the index in characters,
// not bytes, of sub in s, or -1.
func pyFind(s, sub string, last bool) int {
	i := strings.Index(s, sub)
	if last {
		i = strings.LastIndex(s, sub)
	}
	if i < 0 {
		return -1
	}
	return utf8.RuneCountInString(s[:i])
}

// commentKw is Ansible's comment filter with keyword arguments
// (comment(style, decoration=..., prefix=..., prefix_count=..., postfix=...,
// postfix_count=..., beginning=..., end=..., newline=...)), as
// ansible/plugins/filter/core.py composes it.
func commentKw(style string, kw map[string]any, text any) (string, error) {
	styles := map[string]map[string]any{
		"plain":  {"decoration": "# "},
		"erlang": {"decoration": "% "},
		"c":      {"decoration": "// "},
		"cblock": {"beginning": "/*", "decoration": " * ", "end": " */"},
		"xml":    {"beginning": "<!--", "decoration": " - ", "end": "-->"},
	}
	sp, ok := styles[style]
	if !ok {
		return "", fmt.Errorf("comment: unknown style %q", style)
	}
	prepost := pyStr(sp["decoration"])
	if d, ok := kw["decoration"]; ok {
		prepost = pyStr(d)
	}
	p := map[string]any{
		"newline": "\n", "beginning": "", "prefix": strings.TrimRight(prepost, " \t\n\r"), "prefix_count": 1,
		"decoration": "", "postfix": strings.TrimRight(prepost, " \t\n\r"), "postfix_count": 1, "end": "",
	}
	for k, v := range sp {
		p[k] = v
	}
	for k, v := range kw {
		p[k] = v
	}
	count := func(k string) (int, error) {
		n, err := toInt(p[k])
		if err != nil {
			return 0, fmt.Errorf("comment: %s: %w", k, err)
		}
		i, _ := n.(int)
		if i < 0 {
			i = 0
		}
		if err := capElems("comment", int64(i)); err != nil {
			return 0, err
		}
		return i, nil
	}
	nl, deco := pyStr(p["newline"]), pyStr(p["decoration"])
	var b strings.Builder
	if s := pyStr(p["beginning"]); p["beginning"] != nil && s != "" {
		b.WriteString(s + nl)
	}
	if s := pyStr(p["prefix"]); p["prefix"] != nil && s != "" {
		n, err := count("prefix_count")
		if err != nil {
			return "", err
		}
		if s != nl {
			s += nl
		}
		b.WriteString(strings.Repeat(s, n))
	}
	body := deco + strings.ReplaceAll(pyStr(text), nl, nl+deco)
	b.WriteString(strings.ReplaceAll(body, deco+nl, strings.TrimRight(deco, " \t\n\r")+nl))
	n, err := count("postfix_count")
	if err != nil {
		return "", err
	}
	post := pyStr(p["postfix"])
	for range n {
		b.WriteString(nl + post)
	}
	if s := pyStr(p["end"]); p["end"] != nil && s != "" {
		b.WriteString(nl + s)
	}
	return b.String(), nil
}

// pySplitext is Python's os.path.splitext: the extension is from the last
// dot of the last path element on, unless the element only starts with
// dots (".bashrc" has none).
func pySplitext(p string) (string, string) {
	sep := strings.LastIndexByte(p, '/')
	dot := strings.LastIndexByte(p, '.')
	if dot > sep {
		for i := sep + 1; i < dot; i++ {
			if p[i] != '.' {
				return p[:dot], p[dot:]
			}
		}
	}
	return p, ""
}

// pathJoin is Ansible's path_join filter: a string as it is, a list joined
// as Python's os.path.join does (an absolute part starts over).
func pathJoin(v any) (string, error) {
	if s, ok := v.(string); ok {
		return s, nil
	}
	l, err := items("path_join", v)
	if err != nil {
		return "", err
	}
	out := ""
	for i, e := range l {
		s, ok := e.(string)
		if !ok {
			return "", fmt.Errorf("path_join: part %d is %s, not a string", i, typeName(e))
		}
		switch {
		case strings.HasPrefix(s, "/"):
			out = s
		case out == "" || strings.HasSuffix(out, "/"):
			out += s
		default:
			out += "/" + s
		}
	}
	return out, nil
}

// pySplitlines is Python's str.splitlines(): lines split at any of
// Python's line boundaries, with no empty line after a final break.
func pySplitlines(s string) []string {
	out := []string{}
	start := 0
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		switch rs[i] {
		case '\n', '\v', '\f', 0x1c, 0x1d, 0x1e, 0x85, 0x2028, 0x2029:
		case '\r':
			out = append(out, string(rs[start:i]))
			if i+1 < len(rs) && rs[i+1] == '\n' {
				i++
			}
			start = i + 1
			continue
		default:
			continue
		}
		out = append(out, string(rs[start:i]))
		start = i + 1
	}
	if start < len(rs) {
		out = append(out, string(rs[start:]))
	}
	return out
}

// pyIsDigit is Python's str.isdigit() for decimal digits: true when the
// string is not empty and every character is a digit.
func pyIsDigit(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !unicode.IsDigit(r) {
			return false
		}
	}
	return true
}
