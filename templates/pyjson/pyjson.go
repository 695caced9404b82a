// Package pyjson writes Go values as Python writes them: json.dumps with
// sort_keys (how Ansible prints results, renders dict diffs, lists an
// inventory and implements to_json), and repr() and str() (loop item
// labels and the Jinja functions that convert to text). It is the one
// Python-style encoder; it imports nothing of ours but the YAML 1.1 type
// names, so every package can use it.
package pyjson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/mdo-play/mdo-play/templates/yaml11"
)

// Options are the json.dumps arguments our callers use. Mapping keys are
// always sorted (sort_keys=True): Go maps have no order of their own.
type Options struct {
	// Indent is json.dumps' indent: 0 writes one line with the ", " and
	// ": " separators; n > 0 writes one item per line, n spaces a level,
	// with the "," and ": " separators.
	Indent int
	// EnsureASCII escapes every non-ASCII character as \uXXXX (a
	// surrogate pair above U+FFFF), as ensure_ascii=True does; without it
	// text is written as it is.
	EnsureASCII bool
}

// Marshal encodes v as Python's json.dumps(v, sort_keys=True, ...) does.
// Floats are written as Python writes them (1.0, 1e-05, NaN, Infinity),
// any Go integer, slice or map is accepted, and other values (structs, for
// one) are encoded as encoding/json sees them. A value that cannot be
// encoded (a channel, a function) is an error.
func Marshal(v any, o Options) (string, error) {
	var b strings.Builder
	if err := o.write(&b, v, 0); err != nil {
		return "", err
	}
	return b.String(), nil
}

// String is Marshal for values that are known to encode (module results,
// variables): a value that cannot be encoded is written as its Go text,
// quoted as a JSON string.
func String(v any, o Options) string {
	s, err := Marshal(v, o)
	if err != nil {
		var b strings.Builder
		o.writeString(&b, fmt.Sprint(v))
		return b.String()
	}
	return s
}

func (o Options) write(b *strings.Builder, v any, depth int) error {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
		return nil
	case bool:
		b.WriteString(strconv.FormatBool(x))
		return nil
	case string:
		o.writeString(b, x)
		return nil
	case float64:
		b.WriteString(jsonFloat(x))
		return nil
	case float32:
		b.WriteString(jsonFloat(float64(x)))
		return nil
	case []any:
		return o.writeList(b, len(x), func(i int) any { return x[i] }, depth)
	case map[string]any:
		return o.writeMap(b, slices.Collect(maps.Keys(x)), func(k string) any { return x[k] }, depth)
	case json.Marshaler:
		return o.writeViaJSON(b, v, depth)
	}
	if s, ok := integer(v); ok {
		b.WriteString(s)
		return nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			return o.writeViaJSON(b, v, depth) // []byte: base64 text, as encoding/json writes it
		}
		return o.writeList(b, rv.Len(), func(i int) any { return rv.Index(i).Interface() }, depth)
	case reflect.Map:
		vals := make(map[string]any, rv.Len())
		keys := make([]string, 0, rv.Len())
		for it := rv.MapRange(); it.Next(); {
			k := Key(it.Key().Interface())
			keys = append(keys, k)
			vals[k] = it.Value().Interface()
		}
		return o.writeMap(b, keys, func(k string) any { return vals[k] }, depth)
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			b.WriteString("null")
			return nil
		}
		return o.write(b, rv.Elem().Interface(), depth)
	case reflect.String:
		o.writeString(b, rv.String())
		return nil
	case reflect.Bool:
		b.WriteString(strconv.FormatBool(rv.Bool()))
		return nil
	case reflect.Float32, reflect.Float64:
		b.WriteString(jsonFloat(rv.Float()))
		return nil
	case reflect.Struct:
		return o.writeViaJSON(b, v, depth)
	}
	return fmt.Errorf("cannot encode %s as JSON", yaml11.TypeName(v))
}

// writeViaJSON encodes what encoding/json makes of v (a struct, a
// json.Marshaler, bytes), with our formatting.
func (o Options) writeViaJSON(b *strings.Builder, v any, depth int) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("cannot encode %s as JSON: %w", yaml11.TypeName(v), err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var generic any
	if err := dec.Decode(&generic); err != nil {
		return fmt.Errorf("cannot encode %s as JSON: %w", yaml11.TypeName(v), err)
	}
	return o.write(b, Numbers(generic), depth)
}

// Numbers types the json.Numbers of a value decoded with UseNumber as
// Python's json.loads does: a whole number is an int, any other a
// float64. It changes maps and lists in place and returns v.
func Numbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 0); err == nil {
			return int(i)
		}
		f, _ := x.Float64()
		return f
	case []any:
		for i, e := range x {
			x[i] = Numbers(e)
		}
	case map[string]any:
		for k, e := range x {
			x[k] = Numbers(e)
		}
	}
	return v
}

func (o Options) newline(b *strings.Builder, depth int) {
	if o.Indent > 0 {
		b.WriteByte('\n')
		b.WriteString(strings.Repeat(" ", o.Indent*depth))
	}
}

func (o Options) itemSep() string {
	if o.Indent > 0 {
		return ","
	}
	return ", "
}

func (o Options) writeList(b *strings.Builder, n int, at func(int) any, depth int) error {
	if n == 0 {
		b.WriteString("[]")
		return nil
	}
	b.WriteByte('[')
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(o.itemSep())
		}
		o.newline(b, depth+1)
		if err := o.write(b, at(i), depth+1); err != nil {
			return err
		}
	}
	o.newline(b, depth)
	b.WriteByte(']')
	return nil
}

func (o Options) writeMap(b *strings.Builder, keys []string, at func(string) any, depth int) error {
	if len(keys) == 0 {
		b.WriteString("{}")
		return nil
	}
	sort.Strings(keys)
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteString(o.itemSep())
		}
		o.newline(b, depth+1)
		o.writeString(b, k)
		b.WriteString(": ")
		if err := o.write(b, at(k), depth+1); err != nil {
			return err
		}
	}
	o.newline(b, depth)
	b.WriteByte('}')
	return nil
}

// writeString writes s as a JSON string the way Python's json module
// escapes it: the quote, the backslash and the C0 controls (\n, \r, \t,
// \b, \f by name); with EnsureASCII also everything from DEL up.
func (o Options) writeString(b *strings.Builder, s string) {
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
		case r < 0x20 || o.EnsureASCII && r >= 0x7f && r < 0x10000:
			fmt.Fprintf(b, `\u%04x`, r)
		case o.EnsureASCII && r >= 0x10000:
			r -= 0x10000
			fmt.Fprintf(b, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

// Key is the text json.dumps makes of a mapping key: strings as they
// are, numbers and booleans as JSON writes them, None as null.
func Key(k any) string {
	switch x := k.(type) {
	case string:
		return x
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return jsonFloat(x)
	}
	if s, ok := integer(k); ok {
		return s
	}
	return fmt.Sprint(k)
}

// integer writes any Go integer type in decimal.
func integer(v any) (string, bool) {
	switch x := v.(type) {
	case int:
		return strconv.Itoa(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(rv.Int(), 10), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.FormatUint(rv.Uint(), 10), true
	}
	return "", false
}

// jsonFloat is a float as json.dumps writes it: its repr, and NaN,
// Infinity and -Infinity for the values JSON has no number for.
func jsonFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return Float(f)
}

// Float formats f as Python's repr does: the shortest digits that read
// back as f, ".0" on integral values, the exponent form (two digits at
// least) outside [1e-4, 1e16), and inf, -inf and nan.
func Float(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±XX
	mant, expS, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expS)
	neg := strings.HasPrefix(mant, "-")
	mant = strings.TrimPrefix(mant, "-")
	digits := strings.Replace(mant, ".", "", 1)
	var s string
	switch {
	case exp >= 16 || exp < -4:
		m := digits[:1]
		if len(digits) > 1 {
			m += "." + digits[1:]
		}
		sign := "+"
		if exp < 0 {
			sign, exp = "-", -exp
		}
		s = fmt.Sprintf("%se%s%02d", m, sign, exp)
	case exp < 0:
		s = "0." + strings.Repeat("0", -exp-1) + digits
	case len(digits) <= exp+1:
		s = digits + strings.Repeat("0", exp+1-len(digits)) + ".0"
	default:
		s = digits[:exp+1] + "." + digits[exp+1:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// Repr is Python's repr(): None, True, 1.0, 'text' (in double quotes
// when the text holds a single quote and no double one), lists as
// [a, b], mappings as {k: v} with sorted keys.
func Repr(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case bool:
		if x {
			return "True"
		}
		return "False"
	case string:
		return quote(x)
	case float64:
		return Float(x)
	case float32:
		return Float(float64(x))
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = Repr(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		keys := slices.Sorted(maps.Keys(x))
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = quote(k) + ": " + Repr(x[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	if s, ok := integer(v); ok {
		return s
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		parts := make([]string, rv.Len())
		for i := range parts {
			parts[i] = Repr(rv.Index(i).Interface())
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case reflect.Map:
		type entry struct{ sort, text string }
		entries := make([]entry, 0, rv.Len())
		for it := rv.MapRange(); it.Next(); {
			k := it.Key().Interface()
			entries = append(entries, entry{fmt.Sprint(k), Repr(k) + ": " + Repr(it.Value().Interface())})
		}
		sort.Slice(entries, func(i, j int) bool { return entries[i].sort < entries[j].sort })
		parts := make([]string, len(entries))
		for i, e := range entries {
			parts[i] = e.text
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprint(v)
}

// Str is Python's str(): text as it is, anything else as Repr.
func Str(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return Repr(v)
}

// quote is repr() of a string: single quotes unless the text holds a
// single quote and no double one, backslash escapes for the quote, the
// backslash and what Python does not print (controls, separators other
// than the space, format characters).
func quote(s string) string {
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
		case r < 0x20 || r >= 0x7f && r < 0x100 && !strconv.IsPrint(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case r >= 0x100 && r < 0x10000 && !strconv.IsPrint(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		case r >= 0x10000 && !strconv.IsPrint(r):
			fmt.Fprintf(&b, `\U%08x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	return b.String()
}
