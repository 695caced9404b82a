package pyjson

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/pyjson.golden")

type testCase struct {
	name string
	v    any
	// goOnly marks values Python has no JSON for (Go integer and slice
	// types, structs, bytes): they are pinned by the golden file only.
	goOnly bool
}

func cases() []testCase {
	return []testCase{
		{name: "none", v: nil},
		{name: "true", v: true},
		{name: "false", v: false},
		{name: "zero", v: 0},
		{name: "negative int", v: -7},
		{name: "int64 over 2^53", v: int64(9007199254740993)},
		{name: "float integral", v: 1.0},
		{name: "float half", v: 1.5},
		{name: "float million", v: 1e6},
		{name: "float 1e16", v: 1e16},
		{name: "float 1e22", v: 1e22},
		{name: "float 1.5e-7", v: 1.5e-7},
		{name: "float 0.0001", v: 0.0001},
		{name: "float 1e-5", v: 1e-5},
		{name: "float -2.5", v: -2.5},
		{name: "float zero", v: 0.0},
		{name: "float negative zero", v: math.Copysign(0, -1)},
		{name: "float 123456789.125", v: 123456789.125},
		{name: "float 1234567.5", v: 1234567.5},
		{name: "float 0.1", v: 0.1},
		{name: "float nan", v: math.NaN()},
		{name: "float inf", v: math.Inf(1)},
		{name: "float -inf", v: math.Inf(-1)},
		{name: "empty string", v: ""},
		{name: "plain string", v: "plain"},
		{name: "single quote", v: "it's"},
		{name: "double quote", v: `say "hi"`},
		{name: "both quotes", v: `both ' and "`},
		{name: "controls", v: "tab\there\nnew\rline \b\f \x01\x1f\x7f"},
		{name: "backslash", v: `back\slash`},
		{name: "non-ascii", v: "é ü 中文 <&>"},
		{name: "astral", v: "emoji 😀"},
		{name: "line separator", v: "a\u2028b"},
		{name: "unprintable", v: "nbsp\u00a0 soft\u00ad zwsp\u200b tag\U000e0001"},
		{name: "empty list", v: []any{}},
		{name: "empty map", v: map[string]any{}},
		{name: "list", v: []any{1, 2.0, "é<", nil, true}},
		{name: "result", v: map[string]any{"b": []any{1, 2.0, "é<"}, "a": nil, "c": map[string]any{}, "d": true}},
		{name: "nested", v: map[string]any{"z": []any{map[string]any{"k": []any{}, "j": "v"}, []any{1, []any{2}}}, "a\"b": map[string]any{"x": 1.5}}},
		{name: "int32", v: int32(5), goOnly: true},
		{name: "uint64 max", v: uint64(math.MaxUint64), goOnly: true},
		{name: "float32", v: float32(0.5), goOnly: true},
		{name: "string slice", v: []string{"a", "it's"}, goOnly: true},
		{name: "string map", v: map[string]string{"b": "2", "a": "1"}, goOnly: true},
		{name: "any-keyed map", v: map[any]any{1: "one", "b": 2, true: nil, 2.5: "x"}, goOnly: true},
		{name: "struct", v: struct {
			A int    `json:"a"`
			B string `json:"b,omitempty"`
		}{A: 3}, goOnly: true},
		{name: "bytes", v: []byte("hi"), goOnly: true},
	}
}

// variants are the encodings callers use: to_json, the callbacks' one
// line, to_nice_json and the verbose result, the inventory listing, and
// repr/str. Each is named by the Python expression that gives the same text.
var variants = []struct {
	python string
	encode func(v any) string
}{
	{"repr(v)", Repr},
	{"str(v)", Str},
	{"json.dumps(v, sort_keys=True, ensure_ascii=False)", func(v any) string { return encode(v, Options{}) }},
	{"json.dumps(v, sort_keys=True)", func(v any) string { return encode(v, Options{EnsureASCII: true}) }},
	{"json.dumps(v, sort_keys=True, indent=4, ensure_ascii=False)", func(v any) string { return encode(v, Options{Indent: 4}) }},
	{"json.dumps(v, sort_keys=True, indent=2)", func(v any) string { return encode(v, Options{Indent: 2, EnsureASCII: true}) }},
}

func encode(v any, o Options) string {
	s, err := Marshal(v, o)
	if err != nil {
		return "error: " + err.Error()
	}
	return s
}

// TestGolden pins every variant of every case in testdata/pyjson.golden.
func TestGolden(t *testing.T) {
	var b strings.Builder
	for _, tc := range cases() {
		fmt.Fprintf(&b, "=== %s\n", tc.name)
		for _, vr := range variants {
			fmt.Fprintf(&b, "--- %s\n%s\n", vr.python, vr.encode(tc.v))
		}
	}
	const path = "testdata/pyjson.golden"
	if *update {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got := b.String(); got != string(want) {
		t.Errorf("output differs from %s (run with -update and review the diff):\n%s", path, got)
	}
}

// TestPython runs every variant of the cases Python can read in python3
// and compares: the values travel as our own one-line JSON, which Python
// reads back, so a float or an escape we write wrongly shows too.
func TestPython(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed")
	}
	var in []any
	var names []string
	for _, tc := range cases() {
		if !tc.goOnly {
			in = append(in, tc.v)
			names = append(names, tc.name)
		}
	}
	var exprs []string
	for _, vr := range variants {
		exprs = append(exprs, vr.python)
	}
	script := "import json, sys\n" +
		"for v in json.loads(sys.stdin.read()):\n" +
		"    print(json.dumps([" + strings.Join(exprs, ", ") + "]))\n"
	cmd := exec.Command(py, "-c", script)
	cmd.Stdin = strings.NewReader(encode(in, Options{}))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3: %v\n%s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != len(in) {
		t.Fatalf("python3 printed %d lines for %d values", len(lines), len(in))
	}
	for i, line := range lines {
		var want []string
		if err := json.Unmarshal([]byte(line), &want); err != nil {
			t.Fatalf("%s: %v", names[i], err)
		}
		for j, vr := range variants {
			if got := vr.encode(in[i]); got != want[j] {
				t.Errorf("%s: %s:\n got %s\nwant %s", names[i], vr.python, got, want[j])
			}
		}
	}
}

func TestMarshalError(t *testing.T) {
	_, err := Marshal(map[string]any{"f": func() {}}, Options{})
	if err == nil || !strings.Contains(err.Error(), "cannot encode") {
		t.Errorf("Marshal(func) error = %v, want cannot encode", err)
	}
	if got, want := String(make(chan int), Options{}), `"`; !strings.HasPrefix(got, want) {
		t.Errorf("String(chan) = %s, want a quoted text", got)
	}
}

func TestNumbers(t *testing.T) {
	dec := json.NewDecoder(strings.NewReader(`{"i": 1, "f": 1.0, "e": 1e3, "n": -0, "big": 100000000000000000000, "l": [2, 2.5]}`))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"i": 1, "f": 1.0, "e": 1000.0, "n": 0, "big": 1e20, "l": []any{2, 2.5}}
	if got := Numbers(v); fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", want) {
		t.Errorf("Numbers = %#v, want %#v", got, want)
	}
}
