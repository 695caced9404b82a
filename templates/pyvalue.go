package templates

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/mdo-play/mdo-play/templates/pyjson"
)

// Python's view of values, for the functions that convert Jinja: str(),
// repr(), truth, equality and ordering.

// pyStr is Python's str(): None, True, 1.0, ['a', 1], {'k': 'v'}; an
// undefined value is empty.
func pyStr(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case undefined:
		return ""
	}
	return pyjson.Repr(v)
}

// pyTruth is Python's truth: None, False, 0, 0.0, "", empty lists and
// mappings are false; undefined is false.
func pyTruth(v any) bool {
	switch x := v.(type) {
	case nil, undefined:
		return false
	case bool:
		return x
	case string:
		return x != ""
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array, reflect.Map, reflect.String:
		return rv.Len() > 0
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int() != 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return rv.Uint() != 0
	case reflect.Float32, reflect.Float64:
		return rv.Float() != 0
	case reflect.Pointer, reflect.Interface:
		return !rv.IsNil()
	}
	return true
}

// number returns v as an int64 or float64 (bools are 0 and 1, as in
// Python); ok is false for anything else.
func number(v any) (i int64, f float64, isFloat, ok bool) {
	switch x := v.(type) {
	case bool:
		if x {
			return 1, 1, false, true
		}
		return 0, 0, false, true
	case int:
		return int64(x), float64(x), false, true
	case int64:
		return x, float64(x), false, true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), float64(rv.Int()), false, true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return int64(rv.Uint()), float64(rv.Uint()), false, true
	case reflect.Float32, reflect.Float64:
		return int64(rv.Float()), rv.Float(), true, true
	}
	return 0, 0, false, false
}

// pyEqual is Python's ==: numbers compare by value across int and float,
// lists and mappings element by element, other different types are unequal.
func pyEqual(a, b any) bool {
	if ai, af, aFloat, ok := number(a); ok {
		if bi, bf, bFloat, ok := number(b); ok {
			if aFloat || bFloat {
				return af == bf
			}
			return ai == bi
		}
		return false
	}
	switch x := a.(type) {
	case nil:
		return b == nil
	case string:
		y, ok := b.(string)
		return ok && x == y
	case undefined:
		return false
	}
	ra, rb := reflect.ValueOf(a), reflect.ValueOf(b)
	switch ra.Kind() {
	case reflect.Slice, reflect.Array:
		if rb.Kind() != reflect.Slice && rb.Kind() != reflect.Array || ra.Len() != rb.Len() {
			return false
		}
		for i := 0; i < ra.Len(); i++ {
			if !pyEqual(ra.Index(i).Interface(), rb.Index(i).Interface()) {
				return false
			}
		}
		return true
	case reflect.Map:
		ma, err1 := asMap("==", a)
		mb, err2 := asMap("==", b)
		if err1 != nil || err2 != nil || len(ma) != len(mb) {
			return false
		}
		for k, v := range ma {
			w, ok := mb[k]
			if !ok || !pyEqual(v, w) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

// pyCompare orders two values as Python does: numbers by value, strings
// by code point, lists element-wise; other pairs are an error.
func pyCompare(a, b any) (int, error) {
	if ai, af, aFloat, ok := number(a); ok {
		if bi, bf, bFloat, ok := number(b); ok {
			if aFloat || bFloat {
				return cmpFloat(af, bf), nil
			}
			switch {
			case ai < bi:
				return -1, nil
			case ai > bi:
				return 1, nil
			}
			return 0, nil
		}
	}
	if x, ok := a.(string); ok {
		if y, ok := b.(string); ok {
			return strings.Compare(x, y), nil
		}
	}
	ra, rb := reflect.ValueOf(a), reflect.ValueOf(b)
	if (ra.Kind() == reflect.Slice || ra.Kind() == reflect.Array) && (rb.Kind() == reflect.Slice || rb.Kind() == reflect.Array) {
		for i := 0; i < ra.Len() && i < rb.Len(); i++ {
			c, err := pyCompare(ra.Index(i).Interface(), rb.Index(i).Interface())
			if err != nil || c != 0 {
				return c, err
			}
		}
		return cmpFloat(float64(ra.Len()), float64(rb.Len())), nil
	}
	return 0, fmt.Errorf("cannot compare %s with %s", typeName(a), typeName(b))
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// items returns the elements of a list (or the characters of a string,
// or the sorted keys of a mapping), as Python iterates them.
func items(name string, v any) ([]any, error) {
	switch x := v.(type) {
	case []any:
		return x, nil
	case string:
		out := make([]any, 0, utf8.RuneCountInString(x))
		for _, r := range x {
			out = append(out, string(r))
		}
		return out, nil
	case nil, undefined:
		return nil, fmt.Errorf("%s: expected a list, got %s", name, typeName(v))
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = rv.Index(i).Interface()
		}
		return out, nil
	case reflect.Map:
		m, err := asMap(name, v)
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
			out[i] = k
		}
		return out, nil
	}
	return nil, fmt.Errorf("%s: expected a list, got %s", name, typeName(v))
}

// pyJSON encodes v as Python's json.dumps does (which Ansible's to_json
// and to_nice_json use): ensure_ascii, floats as Python writes them, and
// with indent > 0 one item per line. Mapping keys are sorted.
func pyJSON(v any, indent int) (string, error) {
	if err := checkNest(v, 0); err != nil {
		return "", err
	}
	s, err := pyjson.Marshal(jsonable(v), pyjson.Options{Indent: indent, EnsureASCII: true})
	if err != nil {
		return "", fmt.Errorf("to_json: %w", err)
	}
	if err := capBytes("to_json", int64(len(s))); err != nil {
		return "", err
	}
	return s, nil
}
