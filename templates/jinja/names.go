package jinja

import (
	"reflect"

	"github.com/Masterminds/sprig/v3"
)

// ourFuncs are the functions the engine adds to sprig's (templates/funcs.go
// and templates/ansible.go); a test in package templates keeps this list
// in step with the engine.
var ourFuncs = []string{
	// text/template's print family and escapers, overridden for size caps.
	"print", "printf", "println", "html", "js", "urlquery",
	// Ansible filters (funcs.go).
	"to_json", "to_nice_json", "from_json", "to_yaml", "to_nice_yaml", "from_yaml", "b64encode", "b64decode",
	"quote", "bool", "mandatory", "basename", "dirname", "regex_replace", "regex_search", "combine",
	"dict2items", "items2dict", "flatten", "unique",
	// Ansible and Jinja semantics (ansible.go).
	"d", "truthy", "in", "length", "string", "to_int", "to_float", "to_list", "jjoin", "jmin", "jmax",
	"jindent", "sort", "sort_by", "sum", "zip", "capitalize", "union", "intersect", "difference",
	"symmetric_difference", "regex_findall", "regex_escape", "hash", "checksum", "password_hash",
	"map", "map_attr", "select", "reject", "selectattr", "rejectattr", "comment", "combine_recursive",
	"fields", "lstrip", "rstrip", "dict_values", "dict_items", "extract", "plus", "minus", "times",
	"divide", "floordiv", "modulo", "power", "neg", "abs", "jround", "pyslice", "pyformat", "lookup", "query",
	"is_defined", "is_undefined", "is_none", "is_version", "is_match", "is_search", "is_regex",
	"is_succeeded", "is_failed", "is_changed", "is_skipped", "is_finished", "is_unreachable",
	"is_string", "is_number", "is_mapping", "is_iterable", "is_sequence", "is_boolean", "is_integer",
	"is_float", "is_truthy", "is_falsy", "is_divisibleby", "is_even", "is_odd", "is_subset",
	"is_superset", "is_lower", "is_upper", "is_eq", "pyfind", "pyrfind", "comment_kw", "pysplitext", "path_join", "pysplitlines", "pyisdigit", "is_true", "is_false", "is_abs", "is_contains", "pyrandom",
	// Collection filters (netfilters.go).
	"ipaddr", "ipv4", "ipv6", "subelements", "urlsplit", "json_query",
	// More filters (filters_more.go).
	"dict2items_kv", "product", "groupby", "to_uuid", "ternary_none", "ipwrap",
}

// goFuncs is the read-only set of function names a Go template for our
// engine may call; goBuiltins are text/template's own.
var goFuncs, goBuiltins = func() (map[string]any, map[string]any) {
	m := map[string]any{}
	for k := range sprig.TxtFuncMap() {
		m[k] = true
	}
	for _, k := range ourFuncs {
		m[k] = true
	}
	b := map[string]any{}
	for _, k := range []string{"and", "or", "not", "call", "index", "slice", "len", "eq", "ne", "lt", "le", "gt", "ge"} {
		b[k] = true
	}
	return m, b
}()

// sprigArity is the number of arguments each sprig function needs (min)
// and takes (max, -1 for any): a Jinja filter such as `x | round` also
// parses as Go, but calls round with too few arguments.
var sprigArity = func() map[string][2]int {
	m := map[string][2]int{}
	for k, f := range sprig.TxtFuncMap() {
		t := reflect.TypeOf(f)
		if t.Kind() != reflect.Func {
			continue
		}
		if t.IsVariadic() {
			m[k] = [2]int{t.NumIn() - 1, -1}
		} else {
			m[k] = [2]int{t.NumIn(), t.NumIn()}
		}
	}
	return m
}()

// OurFuncs returns the names of the functions, beyond sprig's and
// text/template's, that converted templates may call.
func OurFuncs() []string { return append([]string(nil), ourFuncs...) }
