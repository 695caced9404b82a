package templates

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// testVars is what a task might see. Tests must not change it; TestNoMutation
// checks that rendering does not either.
func testVars() map[string]any {
	return map[string]any{
		"app_port": 8080,
		"ratio":    0.5,
		"enabled":  true,
		"disabled": false,
		"env":      "prod",
		"name":     "web",
		"empty":    "",
		"nothing":  nil,
		"replicas": 3,
		"flag_str": "yes",
		"packages": []any{"nginx", "curl"},
		"groups":   map[string]any{"web": []any{"web1", "web2"}, "db": []any{"db1"}},
		"hostvars": map[string]any{"web1": map[string]any{"ip": "10.0.0.1"}},
		"result":   map[string]any{"stdout": "hello", "rc": 0, "lines": []any{"a", "b"}},
		"item":     map[string]any{"name": "x", "port": 80},
		"config":   map[string]any{"a": 1, "b": map[string]any{"c": "d"}},
	}
}

func TestRenderTyped(t *testing.T) {
	e := New()
	tests := []struct {
		name string
		in   string
		want any
	}{
		{"int stays int", "{{ .app_port }}", 8080},
		{"no spaces", "{{.app_port}}", 8080},
		{"trim markers", "{{- .app_port -}}", 8080},
		{"float", "{{ .ratio }}", 0.5},
		{"bool true", "{{ .enabled }}", true},
		{"bool false", "{{ .disabled }}", false},
		{"list stays list", "{{ .packages }}", []any{"nginx", "curl"}},
		{"map stays map", "{{ .item }}", map[string]any{"name": "x", "port": 80}},
		{"nested", "{{ .hostvars.web1.ip }}", "10.0.0.1"},
		{"index", `{{ index .groups "web" }}`, []any{"web1", "web2"}},
		{"index list element", `{{ index .packages 1 }}`, "curl"},
		{"pipeline result", "{{ .name | upper }}", "WEB"},
		{"function result int", "{{ add .replicas 1 }}", int64(4)},
		{"len", "{{ len .packages }}", 2},
		{"null var", "{{ .nothing }}", nil},
		{"default typed", "{{ .missing | default 5 }}", 5},
		{"list literal", `{{ list 1 "a" }}`, []any{1, "a"}},
		{"plain string", "no template here", "no template here"},
		{"empty", "", ""},
		{"printf", `{{ printf "%s:%d" .name .app_port }}`, "web:8080"},
		{"eq gives bool", `{{ eq .env "prod" }}`, true},
		{"parenthesised", `{{ (.app_port) }}`, 8080},
		{"from_json", `{{ from_json "{\"a\": [1, 2.5]}" }}`, map[string]any{"a": []any{1, 2.5}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := e.Render(tt.in, testVars())
			if err != nil {
				t.Fatalf("Render(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Render(%q) = %#v (%T), want %#v (%T)", tt.in, got, got, tt.want, tt.want)
			}
		})
	}
}

func TestRenderText(t *testing.T) {
	e := New()
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"prefix makes text", "port {{ .app_port }}", "port 8080"},
		{"text before action", "a{{ .name }}", "aweb"},
		{"surrounding spaces are text", " {{ .app_port }} ", " 8080 "},
		{"two actions", "{{ .name }}:{{ .app_port }}", "web:8080"},
		{"list as json", "pkgs={{ .packages }}", `pkgs=["nginx","curl"]`},
		{"map as json", "cfg={{ .config }}", `cfg={"a":1,"b":{"c":"d"}}`},
		{"null prints nothing", "[{{ .nothing }}]", "[]"},
		{"bool", "on={{ .enabled }}", "on=true"},
		{"range", "{{ range .packages }}{{ . }};{{ end }}", "nginx;curl;"},
		{"range with index", "{{ range $i, $p := .packages }}{{ $i }}={{ $p }} {{ end }}", "0=nginx 1=curl "},
		{"range over map", "{{ range $k, $v := .groups }}{{ $k }}:{{ len $v }} {{ end }}", "db:1 web:2 "},
		{"if else", `{{ if eq .env "prod" }}P{{ else }}D{{ end }}`, "P"},
		{"with", "{{ with .item }}{{ .name }}{{ end }}", "x"},
		{"variable", "{{ $p := .app_port }}{{ $p }}", "8080"},
		{"define and template", `{{ define "x" }}<{{ . }}>{{ end }}{{ template "x" .name }}`, "<web>"},
		{"multi-line file", "server {\n  listen {{ .app_port }};\n}\n", "server {\n  listen 8080;\n}\n"},
		{"jinja-like percent stays", "printf '{%s}' {{ .name }}", "printf '{%s}' web"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := e.Render(tt.in, testVars())
			if err != nil {
				t.Fatalf("Render(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("Render(%q) = %#v, want %#v", tt.in, got, tt.want)
			}
			s, err := e.RenderString("f", tt.in, testVars())
			if err != nil || s != tt.want {
				t.Errorf("RenderString(%q) = %q, %v; want %q", tt.in, s, err, tt.want)
			}
		})
	}
}

func TestRenderStringFormatsTypedValues(t *testing.T) {
	e := New()
	tests := []struct{ in, want string }{
		{"{{ .app_port }}", "8080"},
		{"{{ .packages }}", `["nginx","curl"]`},
		{"{{ .nothing }}", ""},
		{"{{ .enabled }}", "true"},
		{"plain", "plain"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := e.RenderString("", tt.in, testVars())
			if err != nil || got != tt.want {
				t.Errorf("RenderString(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestGuards(t *testing.T) {
	e := New()
	tests := []struct {
		name string
		in   string
		want any
	}{
		{"default piped", `{{ .missing | default "x" }}`, "x"},
		{"default argument", `{{ default "x" .missing }}`, "x"},
		{"default nested missing parent", `{{ .nope.deeper | default "x" }}`, "x"},
		{"default missing child", `{{ .result.stdot | default "x" }}`, "x"},
		{"default on defined", `{{ .name | default "x" }}`, "web"},
		{"default treats empty as unset (sprig)", `{{ .empty | default "x" }}`, "x"},
		{"default parenthesised", `{{ default "x" (.result.nope) }}`, "x"},
		{"default over index", `{{ index .groups "nope" | default "x" }}`, "x"},
		{"default over index arg", `{{ default "x" (index .nope "k") }}`, "x"},
		{"empty", `{{ empty .missing }}`, true},
		{"empty piped", `{{ .missing | empty }}`, true},
		{"coalesce", `{{ coalesce .missing .also_missing "z" }}`, "z"},
		{"hasKey missing parent", `{{ hasKey .nope "x" }}`, false},
		{"hasKey dot", `{{ hasKey . "name" }}`, true},
		{"ternary", `{{ ternary "a" "b" (empty .missing) }}`, "a"},
		{"kindIs", `{{ kindIs "invalid" .missing }}`, true},
		{"typeOf", `{{ typeOf .missing }}`, "<nil>"},
		{"if missing", `{{ if .missing }}y{{ else }}n{{ end }}`, "n"},
		{"if nested missing", `{{ if .a.b.c }}y{{ else }}n{{ end }}`, "n"},
		{"if and", `{{ if and .enabled .missing }}y{{ else }}n{{ end }}`, "n"},
		{"if not", `{{ if not .missing }}y{{ end }}`, "y"},
		{"if eq", `{{ if eq .missing "x" }}y{{ else }}n{{ end }}`, "n"},
		{"else if", `{{ if .missing }}a{{ else if .also.missing }}b{{ else }}c{{ end }}`, "c"},
		{"with missing", `{{ with .missing }}y{{ else }}n{{ end }}`, "n"},
		{"with present", `{{ with .result.stdout }}{{ . }}{{ end }}`, "hello"},
		{"variable path", `{{ $r := .result }}{{ $r.nope | default "x" }}`, "x"},
		{"if index", `{{ if index .groups "nope" }}y{{ else }}n{{ end }}`, "n"},
		{"mandatory defined", `{{ .name | mandatory }}`, "web"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := e.Render(tt.in, testVars())
			if err != nil {
				t.Fatalf("Render(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Render(%q) = %#v, want %#v", tt.in, got, tt.want)
			}
		})
	}
}

func TestUndefined(t *testing.T) {
	e := New()
	tests := []struct {
		name      string
		in        string
		undefined string
		msg       string
	}{
		{"top level", "{{ .app_prot }}", "app_prot", `undefined variable "app_prot"`},
		{"in text", "port {{ .app_prot }}", "app_prot", `undefined variable "app_prot"`},
		{"nested key", "{{ .result.stdot }}", "result.stdot", `undefined variable "result.stdot"`},
		{"missing parent", "{{ .nope.stdout }}", "nope.stdout", `undefined variable "nope.stdout"`},
		{"field of a string", "{{ .name.first }}", "name.first", `undefined variable "name.first"`},
		{"field of null", "{{ .nothing.x }}", "nothing.x", `undefined variable "nothing.x"`},
		{"function argument", "{{ upper .nope }}", "nope", `undefined variable "nope"`},
		{"piped into non-guard", "{{ .nope | upper }}", "nope", `undefined variable "nope"`},
		{"inside range", "{{ range .packages }}{{ .x }}{{ end }}", "x", `undefined variable "x"`},
		{"range over missing", "{{ range .nope }}{{ end }}", "nope", `undefined variable "nope"`},
		{"index missing key", `{{ index .groups "www" }}`, "groups.www", `undefined variable "groups.www"`},
		{"index out of range", `{{ index .packages 5 }}`, "packages[5]", `undefined variable "packages[5]"`},
		{"index nested", `{{ index .hostvars "web1" "ipv6" }}`, "hostvars.web1.ipv6", `undefined variable "hostvars.web1.ipv6"`},
		{"variable path", "{{ $r := .result }}{{ $r.nope }}", "$r.nope", `undefined variable "$r.nope"`},
		{"chain", "{{ (.result).nope }}", "result.nope", `undefined variable "result.nope"`},
		{"long path", "{{ .hostvars.web1.interfaces.eth0.ipv4.address }}", "hostvars.web1.interfaces.eth0.ipv4.address", `undefined variable "hostvars.web1.interfaces.eth0.ipv4.address"`},
		{"after define", `{{ define "x" }}{{ .nope }}{{ end }}{{ template "x" . }}`, "nope", `undefined variable "nope"`},
		{"nested call in default", `{{ default "x" (upper .nope) }}`, "nope", `undefined variable "nope"`},
		{"mandatory piped", "{{ .db_password | mandatory }}", "db_password", `mandatory variable "db_password" not defined`},
		{"mandatory argument", "{{ mandatory .result.token }}", "result.token", `mandatory variable "result.token" not defined`},
		{"mandatory null", "{{ .nothing | mandatory }}", "nothing", `mandatory variable "nothing" not defined`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.Render(tt.in, testVars())
			var te *Error
			if !errors.As(err, &te) {
				t.Fatalf("Render(%q) error = %v, want *Error", tt.in, err)
			}
			if te.Undefined != tt.undefined {
				t.Errorf("Undefined = %q, want %q", te.Undefined, tt.undefined)
			}
			if err.Error() != tt.msg {
				t.Errorf("Error() = %q, want %q", err.Error(), tt.msg)
			}
			if !errors.Is(err, ErrUndefined) {
				t.Errorf("errors.Is(err, ErrUndefined) = false")
			}
		})
	}
}

func TestErrorPositionForFiles(t *testing.T) {
	e := New()
	_, err := e.RenderString("templates/app.conf.tmpl", "a\nb {{ .name }}\n  c {{ .nope }}\n", testVars())
	want := `templates/app.conf.tmpl:3:8: undefined variable "nope"`
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %s", err, want)
	}
	_, err = e.RenderString("f.tmpl", "ok\n{{ (.x }}", testVars())
	var te *Error
	if !errors.As(err, &te) || te.Line != 2 || !strings.HasPrefix(err.Error(), "f.tmpl:2: ") {
		t.Fatalf("parse error = %v, want f.tmpl:2: ...", err)
	}
}

func TestOtherErrors(t *testing.T) {
	e := New()
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"parse error", "{{ (.x }}", `template: unclosed left paren`},
		{"unknown function", "{{ frobnicate .x }}", `template: function "frobnicate" not defined`},
		{"function error", `{{ fail "boom" }}`, `template: at <fail "boom">: error calling fail: boom`},
		{"self include", `{{ define "a" }}{{ template "a" }}{{ end }}{{ template "a" }}`, `template: template "a" includes itself`},
		{"set on variable", `{{ $_ := set .config "x" 1 }}`, `template: at <set .config "x" 1>: error calling set: set: only a mapping made in this template (by dict) can be changed, not a variable; build a new one with combine`},
		{"env removed", `{{ env "HOME" }}`, `template: function "env" not defined`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.Render(tt.in, testVars())
			if err == nil || err.Error() != tt.want {
				t.Fatalf("Render(%q) error = %v, want %s", tt.in, err, tt.want)
			}
		})
	}
}

func TestCond(t *testing.T) {
	e := New()
	tests := []struct {
		expr string
		want bool
	}{
		{`eq .env "prod"`, true},
		{`ne .env "prod"`, false},
		{`.enabled`, true},
		{`.disabled`, false},
		{`and .enabled (gt .replicas 1)`, true},
		{`or .disabled (lt .replicas 1)`, false},
		{`not (hasKey . "x")`, true},
		{`hasKey . "name"`, true},
		{`.flag_str`, true},
		{`"No"`, false},
		{`"TRUE"`, true},
		{`"off"`, false},
		{`.result.stdout | contains "ell"`, true},
		{`eq .result.rc 0`, true},
		{`and (hasKey . "nope") .nope.enabled`, false}, // and short-circuits
		{`eq (.missing | default "x") "x"`, true},
		{`has "curl" .packages`, true},
		{`bool "yes"`, true},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			got, err := e.Cond(tt.expr, testVars())
			if err != nil {
				t.Fatalf("Cond(%q): %v", tt.expr, err)
			}
			if got != tt.want {
				t.Errorf("Cond(%q) = %v, want %v", tt.expr, got, tt.want)
			}
		})
	}
}

func TestCondErrors(t *testing.T) {
	e := New()
	tests := []struct {
		expr string
		want string
	}{
		{`.app_port`, `template: condition ".app_port" must be a boolean, got integer 8080`},
		{`.name`, `template: condition ".name" must be a boolean, got string "web"`},
		{`.packages`, `template: condition ".packages" must be a boolean, got list ["nginx","curl"]`},
		{`.nothing`, `template: condition ".nothing" must be a boolean, got null null`},
		{`.nope`, `undefined variable "nope"`},
		{`eq .nope.x 1`, `undefined variable "nope.x"`},
		{`{{ .enabled }}`, `template: condition "{{ .enabled }}" contains {{ }}: write the bare pipeline without braces: .enabled`},
		{`{{ enabled }}`, `template: condition "{{ enabled }}" contains {{ }}: write the bare pipeline without braces: truthy .enabled`},
		{`.a }} text`, `template: a condition or expression must be a single pipeline`},
		{`$x := 1`, `template: a condition or expression must be a single pipeline`},
		{``, `template: empty expression`},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			_, err := e.Cond(tt.expr, testVars())
			if err == nil || err.Error() != tt.want {
				t.Fatalf("Cond(%q) error = %v, want %s", tt.expr, err, tt.want)
			}
		})
	}
}

func TestConds(t *testing.T) {
	e := New()
	tests := []struct {
		name    string
		exprs   []string
		want    bool
		wantErr bool
	}{
		{"empty list is true", nil, true, false},
		{"all true", []string{".enabled", `eq .env "prod"`}, true, false},
		{"one false", []string{".enabled", ".disabled"}, false, false},
		{"stops at first false", []string{".disabled", ".undefined_would_fail"}, false, false},
		{"error after true", []string{".enabled", ".undefined_fails"}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := e.Conds(tt.exprs, testVars())
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("Conds(%q) = %v, %v; want %v, error %v", tt.exprs, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestEval(t *testing.T) {
	e := New()
	tests := []struct {
		expr string
		want any
	}{
		{".result.stdout | upper", "HELLO"},
		{".groups.web", []any{"web1", "web2"}},
		{"len .groups.web", 2},
		{`.missing | default 3`, 3},
		{"until 3", []int{0, 1, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			got, err := e.Eval(tt.expr, testVars())
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Eval(%q) = %#v, %v; want %#v", tt.expr, got, err, tt.want)
			}
		})
	}
}

func TestRenderValue(t *testing.T) {
	e := New()
	in := map[string]any{
		"port":              "{{ .app_port }}",
		"name":              "srv-{{ .name }}",
		"static":            "x",
		"n":                 7,
		"list":              []any{"{{ .env }}", 1, map[string]any{"deep": "{{ .enabled }}"}},
		"{{ .name }}_count": "{{ len .packages }}",
		"strs":              []string{"{{ .env }}"},
	}
	got, err := e.RenderValue(in, testVars())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"port":      8080,
		"name":      "srv-web",
		"static":    "x",
		"n":         7,
		"list":      []any{"prod", 1, map[string]any{"deep": true}},
		"web_count": 2,
		"strs":      []any{"prod"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("RenderValue = %#v\nwant %#v", got, want)
	}
	if in["port"] != "{{ .app_port }}" || in["list"].([]any)[0] != "{{ .env }}" {
		t.Errorf("RenderValue changed its input: %#v", in)
	}
	// The result never shares maps or lists with the input.
	static := map[string]any{"a": []any{"x"}}
	out, err := e.RenderValue(static, nil)
	if err != nil {
		t.Fatal(err)
	}
	out.(map[string]any)["a"].([]any)[0] = "changed"
	if static["a"].([]any)[0] != "x" {
		t.Errorf("RenderValue result shares a list with its input")
	}
	if _, err := e.RenderValue([]any{"{{ .nope }}"}, testVars()); !errors.Is(err, ErrUndefined) {
		t.Errorf("RenderValue undefined error = %v", err)
	}
}

func TestNoMutation(t *testing.T) {
	e := New()
	vars := testVars()
	inputs := []string{
		`{{ $d := dict "a" 1 }}{{ $_ := set $d "b" .config }}{{ $d }}`,
		`{{ .config | combine (dict "a" 2) }}`,
		`{{ sortAlpha .packages }}`,
		`{{ $_ := unset .config "a" }}`,
		`{{ merge .config (dict "z" 1) }}`,
		`{{ .groups | dict2items }}`,
		`{{ .config | to_json }}`,
	}
	for _, in := range inputs {
		t.Run(in, func(t *testing.T) {
			_, _ = e.Render(in, vars)
			if !reflect.DeepEqual(vars, testVars()) {
				t.Fatalf("Render(%q) changed the variables: %#v", in, vars)
			}
		})
	}
}

func TestCycleRejected(t *testing.T) {
	e := New()
	for _, in := range []string{
		`{{ $d := dict }}{{ $_ := set $d "self" $d }}{{ $d }}`,
		`{{ $d := dict }}{{ $_ := set $d "l" (list $d) }}`,
		`{{ $a := dict }}{{ $b := dict "a" $a }}{{ $_ := merge $a (dict "b" $b) }}{{ $a }}`,
	} {
		t.Run(in, func(t *testing.T) {
			_, err := e.Render(in, nil)
			if err == nil || !strings.Contains(err.Error(), "cannot contain itself") {
				t.Fatalf("Render(%q) error = %v, want a cycle error", in, err)
			}
		})
	}
}

func TestLimits(t *testing.T) {
	e := New()
	tests := []string{
		`{{ repeat 100000000 "x" }}`,
		`{{ until 100000000 }}`,
		`{{ untilStep 0 1000000000 1 }}`,
		`{{ seq 1000000000 }}`,
		`{{ range 1000000000 }}{{ end }}`,
		`{{ range until 1000000 }}{{ range until 1000000 }}{{ end }}{{ end }}`,
		`{{ indent 100000000 "x" }}`,
		`{{ replace "" (repeat 10000 "y") (repeat 10000 "x") }}`,
		`{{ join (repeat 100000 "x") (until 100000) }}`,
		`{{ randAlpha 100000000 }}`,
		`{{ $x := repeat 1000000 "x" }}{{ range until 1000000 }}{{ $x }}{{ end }}`,
		`{{ $x := "ab" }}{{ range until 100 }}{{ $x = print $x $x }}{{ end }}`,
		`{{ $x := "\"" }}{{ range until 100 }}{{ $x = to_json $x }}{{ end }}`,
		`{{ $l := list }}{{ range until 1000000 }}{{ $l = append $l 1 }}{{ end }}`,
		`{{ regexReplaceAll "" (repeat 100000 "x") (repeat 1000 "y") }}`,
		`{{ regex_replace "" "\\1\\1" (repeat 100000 "x") }}`,
	}
	for _, in := range tests {
		t.Run(in, func(t *testing.T) {
			_, err := e.Render(in, nil)
			if !errors.Is(err, ErrLimit) {
				t.Fatalf("Render(%q) error = %v, want a limit error", in, err)
			}
		})
	}
}

func TestConcurrentRenders(t *testing.T) {
	e := New()
	const workers = 16
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			vars := map[string]any{"n": w, "list": []any{w, w + 1}, "name": fmt.Sprintf("h%d", w)}
			for i := 0; i < 200; i++ {
				v, err := e.Render("{{ .n }}", vars)
				if err != nil || v != w {
					errs <- fmt.Errorf("typed render %d: %v, %v", w, v, err)
					return
				}
				s, err := e.Render("{{ .name }}-{{ index .list 1 }}", vars)
				if want := fmt.Sprintf("h%d-%d", w, w+1); err != nil || s != want {
					errs <- fmt.Errorf("text render: %v, %v; want %s", s, err, want)
					return
				}
				ok, err := e.Cond(`eq .n `+fmt.Sprint(w), vars)
				if err != nil || !ok {
					errs <- fmt.Errorf("cond: %v, %v", ok, err)
					return
				}
				d, err := e.Render(`{{ $d := dict "k" .n }}{{ $_ := set $d "j" 1 }}{{ $d }}`, vars)
				if want := fmt.Sprintf(`{"j":1,"k":%d}`, w); err != nil || d != want {
					errs <- fmt.Errorf("dict: %v, %v", d, err)
					return
				}
				if _, err := e.Render(fmt.Sprintf("{{ .n }} {{ .x%d }}", i%7), vars); !errors.Is(err, ErrUndefined) {
					errs <- fmt.Errorf("undefined: %v", err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestCacheParsesOnce(t *testing.T) {
	e := New()
	for i := 0; i < 3; i++ {
		if _, err := e.Render("{{ .name }}!", testVars()); err != nil {
			t.Fatal(err)
		}
	}
	e.mu.RLock()
	n := len(e.cache)
	e.mu.RUnlock()
	if n != 1 {
		t.Fatalf("cache has %d entries after rendering one string 3 times, want 1", n)
	}
	for i := 0; i < maxCache+10; i++ {
		if _, err := e.Render(fmt.Sprintf("{{ .name }}%d", i), testVars()); err != nil {
			t.Fatal(err)
		}
	}
	e.mu.RLock()
	n = len(e.cache)
	e.mu.RUnlock()
	if n > maxCache {
		t.Fatalf("cache grew to %d entries, bound is %d", n, maxCache)
	}
}

func TestPlainRenderDoesNotAllocateBeyondBoxing(t *testing.T) {
	e := New()
	s := strings.Repeat("plain text ", 10)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := e.Render(s, nil); err != nil {
			t.Fatal(err)
		}
	})
	// Returning a string as `any` boxes it once; nothing else may allocate.
	if allocs > 1 {
		t.Fatalf("Render of a plain string allocates %v times, want at most 1", allocs)
	}
	v := any(s)
	allocs = testing.AllocsPerRun(100, func() {
		if _, err := e.RenderValue(v, nil); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("RenderValue of a plain string allocates %v times, want 0", allocs)
	}
}

func TestPipedCombineResultIsMutable(t *testing.T) {
	e := New()
	got, err := e.Render(`{{ $c := .config | combine (dict "z" 1) }}{{ $_ := set $c "y" 2 }}{{ to_json $c }}`, testVars())
	if want := `{"a": 1, "b": {"c": "d"}, "y": 2, "z": 1}`; err != nil || got != want {
		t.Fatalf("Render = %v, %v; want %s", got, err, want)
	}
}
