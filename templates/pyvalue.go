package templates

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Python's view of values, for the functions that convert Jinja: str(),
// repr(), truth, equality and ordering.

// pyStr is Python's str(): None, True, 1.0, ['a', 1], {'k': 'v'}.
func pyStr(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case undefined:
		return ""
	}
	return pyRepr(v)
}

// pyRepr is Python's repr(); mappings are shown with sorted keys.
func pyRepr(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case bool:
		if x {
			return "True"
		}
		return "False"
	case string:
		return pyQuote(x)
	case float64:
		return pyFloat(x)
	case float32:
		return pyFloat(float64(x))
	case int, int64, int32, uint64, uint, int8, int16, uint8, uint16, uint32:
		return fmt.Sprint(x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = pyRepr(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = pyQuote(k) + ": " + pyRepr(x[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		parts := make([]string, rv.Len())
		for i := range parts {
			parts[i] = pyRepr(rv.Index(i).Interface())
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case reflect.Map:
		m, err := asMap("repr", v)
		if err == nil {
			return pyRepr(m)
		}
	}
	return fmt.Sprint(v)
}

func pyQuote(s string) string {
	q := byte('\'')
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == rune(q):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	return b.String()
}

// pyFloat formats a float as Python's repr does.
func pyFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	a := math.Abs(f)
	if a != 0 && (a < 1e-4 || a >= 1e16) {
		s := strconv.FormatFloat(f, 'e', -1, 64)
		mant, exp, _ := strings.Cut(s, "e")
		if len(exp) == 3 && (exp[1] == '0') {
			exp = exp[:1] + exp[2:]
		}
		return mant + "e" + exp
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
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
	var b strings.Builder
	if err := writePyJSON(&b, jsonable(v), indent, 0); err != nil {
		return "", err
	}
	if err := capBytes("to_json", int64(b.Len())); err != nil {
		return "", err
	}
	return b.String(), nil
}

func writePyJSON(b *strings.Builder, v any, indent, depth int) error {
	item, kv := ", ", ": "
	nl := func(d int) {}
	if indent > 0 {
		item = ","
		nl = func(d int) {
			b.WriteByte('\n')
			b.WriteString(strings.Repeat(" ", indent*d))
		}
	}
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case string:
		writeJSONString(b, x)
	case float64:
		switch {
		case math.IsNaN(x):
			b.WriteString("NaN")
		case math.IsInf(x, 1):
			b.WriteString("Infinity")
		case math.IsInf(x, -1):
			b.WriteString("-Infinity")
		default:
			b.WriteString(pyFloat(x))
		}
	case map[string]any:
		if len(x) == 0 {
			b.WriteString("{}")
			return nil
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(item)
			}
			nl(depth + 1)
			writeJSONString(b, k)
			b.WriteString(kv)
			if err := writePyJSON(b, x[k], indent, depth+1); err != nil {
				return err
			}
		}
		nl(depth)
		b.WriteByte('}')
	default:
		if _, _, _, ok := number(v); ok {
			b.WriteString(pyRepr(v))
			return nil
		}
		rv := reflect.ValueOf(v)
		if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
			if rv.Kind() == reflect.Map {
				m, err := asMap("to_json", v)
				if err != nil {
					return err
				}
				return writePyJSON(b, m, indent, depth)
			}
			return fmt.Errorf("to_json: cannot encode %s", typeName(v))
		}
		if rv.Len() == 0 {
			b.WriteString("[]")
			return nil
		}
		b.WriteByte('[')
		for i := 0; i < rv.Len(); i++ {
			if i > 0 {
				b.WriteString(item)
			}
			nl(depth + 1)
			if err := writePyJSON(b, rv.Index(i).Interface(), indent, depth+1); err != nil {
				return err
			}
		}
		nl(depth)
		b.WriteByte(']')
	}
	return nil
}

// writeJSONString writes s as a JSON string with every non-ASCII
// character escaped, as Python's ensure_ascii does.
func writeJSONString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20 || r >= 0x7f && r < 0x10000:
			fmt.Fprintf(b, `\u%04x`, r)
		case r >= 0x10000:
			r -= 0x10000
			fmt.Fprintf(b, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}
