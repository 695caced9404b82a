package templates

import (
	"reflect"
	"strings"
	"testing"

	"github.com/mdo-play/mdo-play/templates/pyre"
)

func TestFunctions(t *testing.T) {
	e := New()
	vars := map[string]any{
		"m":     map[string]any{"b": 2, "a": 1},
		"o":     map[string]any{"b": 3, "c": 4},
		"l":     []any{1, []any{2, []any{3, 4}}, 5},
		"dup":   []any{"a", "b", "a", map[string]any{"k": 1}, map[string]any{"k": 1}, 2, 2},
		"path":  "/etc/nginx/nginx.conf",
		"items": []any{map[string]any{"key": "x", "value": 1}, map[string]any{"key": "y", "value": "z"}},
		"s":     "it's",
	}
	tests := []struct {
		in   string
		want any
	}{
		{`{{ to_json .m }}`, `{"a": 1, "b": 2}`},
		{`{{ to_json "<&>" }}`, `"<&>"`},
		{`{{ to_nice_json .m }}`, "{\n    \"a\": 1,\n    \"b\": 2\n}"},
		{`{{ from_json "[1, \"a\", {\"x\": null}]" }}`, []any{1, "a", map[string]any{"x": nil}}},
		{`{{ to_yaml .m }}`, "{a: 1, b: 2}\n"},
		{`{{ to_yaml (dict "k" (list 1 2)) }}`, "k: [1, 2]\n"},
		{`{{ to_nice_yaml (dict "k" (list 1 2)) }}`, "k:\n    - 1\n    - 2\n"},
		{`{{ from_yaml "a: [1, yes]" }}`, map[string]any{"a": []any{1, "yes"}}},
		{`{{ b64encode "hello" }}`, "aGVsbG8="},
		{`{{ b64decode "aGVsbG8=" }}`, "hello"},
		{`{{ quote .s }}`, `'it'"'"'s'`},
		{`{{ .s | quote }}`, `'it'"'"'s'`},
		{`{{ quote "plain-word_1.2" }}`, "plain-word_1.2"},
		{`{{ quote "a b" }}`, "'a b'"},
		{`{{ quote "" }}`, "''"},
		{`{{ quote "$HOME" }}`, "'$HOME'"},
		{`{{ bool "Yes" }}`, true},
		{`{{ bool "off" }}`, false},
		{`{{ bool 1 }}`, true},
		{`{{ "TRUE" | bool }}`, true},
		// ansible-core 2.14's to_bool: any other value is false.
		{`{{ bool "clientspecified" }}`, false},
		{`{{ bool 2 }}`, false},
		{`{{ bool 1.0 }}`, true},
		{`{{ basename .path }}`, "nginx.conf"},
		{`{{ basename "/a/b/" }}`, ""},
		{`{{ dirname .path }}`, "/etc/nginx"},
		{`{{ dirname "/x" }}`, "/"},
		{`{{ dirname "x" }}`, ""},
		{`{{ .path | regex_replace "^/etc/(\\w+)/.*$" "\\1" }}`, "nginx"},
		{`{{ .path | regex_replace "^/etc/(?P<svc>\\w+)/" "/srv/\\g<svc>/" }}`, "/srv/nginx/nginx.conf"},
		{`{{ .path | regex_replace "^/etc/(\\w+)/" "/srv/${1}/" }}`, "/srv/nginx/nginx.conf"},
		{`{{ .path | regex_replace "nginx" "\\g<0>!" }}`, "/etc/nginx!/nginx!.conf"},
		{`{{ "a.b" | regex_replace "\\." "\\\\" }}`, `a\b`},
		{`{{ .path | regex_search "ng\\w+" }}`, "nginx"},
		{`{{ .path | regex_search "zzz" }}`, nil},
		{`{{ .path | regex_search "zzz" | default "none" }}`, "none"},
		{`{{ combine .m .o }}`, map[string]any{"a": 1, "b": 3, "c": 4}},
		{`{{ .m | combine .o }}`, map[string]any{"a": 1, "b": 3, "c": 4}},
		{`{{ .o | combine .m }}`, map[string]any{"a": 1, "b": 2, "c": 4}},
		{`{{ combine .m .o (dict "a" 9) }}`, map[string]any{"a": 9, "b": 3, "c": 4}},
		{`{{ dict2items .m }}`, []any{map[string]any{"key": "a", "value": 1}, map[string]any{"key": "b", "value": 2}}},
		{`{{ items2dict .items }}`, map[string]any{"x": 1, "y": "z"}},
		{`{{ .m | dict2items | items2dict }}`, map[string]any{"a": 1, "b": 2}},
		{`{{ items2dict "k" "v" (list (dict "k" "x" "v" 1)) }}`, map[string]any{"x": 1}},
		{`{{ "a\r\nb\rc\n\nd\n" | pysplitlines }}`, []any{"a", "b", "c", "", "d"}},
		{`{{ "héllo" | pyfind "l" }}`, 2},
		{`{{ "héllo" | pyrfind "l" }}`, 3},
		{`{{ "x" | pyfind "y" }}`, -1},
		{`{{ "١٢" | pyisdigit }}`, true},
		{`{{ "" | pyisdigit }}`, false},
		{`{{ "a/.b.c" | pysplitext }}`, []any{"a/.b", ".c"}},
		{`{{ "..." | pysplitext }}`, []any{"...", ""}},
		{`{{ comment_kw "plain" (dict "decoration" "; " "prefix_count" 2) "x" }}`, ";\n;\n; x\n;"},
		{`{{ flatten .l }}`, []any{1, 2, 3, 4, 5}},
		{`{{ unique .dup }}`, []any{"a", "b", map[string]any{"k": 1}, 2}},
		{`{{ .nope | mandatory | default 1 }}`, nil}, // error checked below
		{`{{ upper "x" }}`, "X"},
		{`{{ sortAlpha (list "b" "a") }}`, []string{"a", "b"}},
		{`{{ print 1 2 }}`, "1 2"},
		{`{{ html "<a>" }}`, "&lt;a&gt;"},
		{`{{ $d := dict "a" 1 }}{{ $_ := set $d "b" 2 }}{{ $_ := unset $d "a" }}{{ to_json $d }}`, `{"b": 2}`},
		{`{{ $d := dict "a" 1 }}{{ $_ := merge $d (dict "a" 5 "c" 3) }}{{ to_json $d }}`, `{"a": 1, "c": 3}`},
		{`{{ $d := omit .m "a" }}{{ $_ := set $d "z" 0 }}{{ to_json $d }}`, `{"b": 2, "z": 0}`},
		{`{{ seq 3 }}`, "1 2 3"},
		{`{{ repeat 3 "ab" }}`, "ababab"},
		{`{{ indent 2 "a\nb" }}`, "  a\n  b"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := e.Render(tt.in, vars)
			if strings.Contains(tt.in, "mandatory") {
				if err == nil || err.Error() != `mandatory variable "nope" not defined` {
					t.Fatalf("Render(%q) error = %v", tt.in, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Render(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Render(%q) = %#v, want %#v", tt.in, got, tt.want)
			}
		})
	}
}

func TestFunctionErrors(t *testing.T) {
	e := New()
	tests := []struct{ in, want string }{
		{`{{ "x" | regex_replace "(?=a)" "b" }}`, "look-around and back-references are not supported"},
		{`{{ "x" | regex_replace "(a)\\1" "b" }}`, "look-around and back-references are not supported"},
		{`{{ "x" | regex_search "[" }}`, "missing closing ]"},
		{`{{ b64decode "!!" }}`, "b64decode: illegal base64"},
		{`{{ from_json "{" }}`, "from_json: unexpected EOF"},
		{`{{ from_json "1 2" }}`, "trailing data"},
		{`{{ from_yaml "a: [" }}`, "from_yaml: yaml"},
		{`{{ combine (list 1) }}`, "combine: expected a mapping, got list"},
		{`{{ items2dict (list 1) }}`, "items2dict: item 0 is integer"},
		{`{{ items2dict "k" "v" (list (dict "k" 1)) }}`, "items2dict: item 0 has no k or no v"},
		{`{{ path_join (list "a" 1) }}`, "path_join: part 1 is integer"},
		{`{{ comment_kw "nope" (dict) "x" }}`, `comment: unknown style "nope"`},
		{`{{ flatten 3 }}`, "flatten: expected a list, got integer"},
		{`{{ repeat -1 "x" }}`, "negative count"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := e.Render(tt.in, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Render(%q) error = %v, want it to contain %q", tt.in, err, tt.want)
			}
		})
	}
}

func TestPythonRepl(t *testing.T) {
	tests := []struct{ in, want string }{
		{`\1`, "${1}"},
		{`a\12b`, "a${12}b"},
		{`\g<name>`, "${name}"},
		{`\g<2>x`, "${2}x"},
		{`${1}`, "${1}"},
		{`\n\t\\`, "\n\t\\"},
		{`\g<broken`, `\g<broken`},
		{`plain`, "plain"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := pyre.Expand(tt.in, nil, false); got != tt.want {
				t.Errorf("pythonRepl(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestPyRandom: with a seed, Ansible's random filter picks what CPython's
// random.Random(seed) picks (values from python3 -c "from random import
// Random; ..."); without one, a value in range.
func TestPyRandom(t *testing.T) {
	tests := []struct {
		start, step, seed, end any
		want                   any
	}{
		{nil, nil, "web01", 60, 22},
		{nil, nil, "host.example.com", 60, 15},
		{nil, nil, 123, 60, 3},
		{nil, nil, "x", []any{"a", "b", "c", "d"}, "c"},
		{10, 5, "web01", 100, 65},
	}
	for _, tt := range tests {
		got, err := pyRandom(tt.start, tt.step, tt.seed, tt.end)
		if err != nil || got != tt.want {
			t.Errorf("pyRandom(%v, %v, %v, %v) = %v, %v; want %v", tt.start, tt.step, tt.seed, tt.end, got, err, tt.want)
		}
	}
	for range 50 {
		got, err := pyRandom(5, nil, nil, 8)
		if n, ok := got.(int); err != nil || !ok || n < 5 || n >= 8 {
			t.Fatalf("unseeded: %v, %v", got, err)
		}
	}
	for _, bad := range [][4]any{{nil, nil, 1.5, 10}, {1, nil, nil, []any{1}}, {nil, nil, nil, []any{}}, {nil, nil, nil, 0}} {
		if _, err := pyRandom(bad[0], bad[1], bad[2], bad[3]); err == nil {
			t.Errorf("pyRandom%v: no error", bad)
		}
	}
}
