package modules

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// PyJSON encodes v as Python's json.dumps with sort_keys does, which is
// how Ansible prints results and renders dict diffs: ", " and ": "
// separators on one line, or an indent of 4 when indent is set. Floats
// keep a fractional part (1.0), non-ASCII text is kept as it is. It is the
// one Python-style JSON encoder: the text output and the modules' diffs
// use it.
func PyJSON(v any, indent bool) string {
	var b strings.Builder
	writePyJSON(&b, v, indent, 0)
	return b.String()
}

func writePyJSON(b *strings.Builder, v any, indent bool, depth int) {
	nl := func(d int) {
		if indent {
			b.WriteByte('\n')
			b.WriteString(strings.Repeat("    ", d))
		}
	}
	sep := ", "
	if indent {
		sep = ","
	}
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case string:
		writeJSONString(b, x)
	case int:
		b.WriteString(strconv.Itoa(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		switch {
		case math.IsInf(x, 0) || math.IsNaN(x):
			b.WriteString("null")
		case x == math.Trunc(x) && math.Abs(x) < 1e16:
			b.WriteString(strconv.FormatFloat(x, 'f', 1, 64))
		default:
			b.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
		}
	case []any:
		if len(x) == 0 {
			b.WriteString("[]")
			return
		}
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(sep)
			}
			nl(depth + 1)
			writePyJSON(b, e, indent, depth+1)
		}
		nl(depth)
		b.WriteByte(']')
	case []string:
		l := make([]any, len(x))
		for i, s := range x {
			l[i] = s
		}
		writePyJSON(b, l, indent, depth)
	case map[string]any:
		if len(x) == 0 {
			b.WriteString("{}")
			return
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(sep)
			}
			nl(depth + 1)
			writeJSONString(b, k)
			b.WriteString(": ")
			writePyJSON(b, x[k], indent, depth+1)
		}
		nl(depth)
		b.WriteByte('}')
	default:
		data, err := json.Marshal(x)
		if err != nil {
			writeJSONString(b, fmt.Sprint(x))
			return
		}
		var generic any
		if json.Unmarshal(data, &generic) == nil {
			writePyJSON(b, generic, indent, depth)
			return
		}
		b.Write(data)
	}
}

func writeJSONString(b *strings.Builder, s string) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	b.Write(bytes.TrimRight(buf.Bytes(), "\n"))
}
