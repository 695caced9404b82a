package inventory

import (
	"reflect"
	"strings"
	"testing"
)

func TestYAMLScalars(t *testing.T) {
	tests := []struct {
		in   string
		want any
	}{
		{"yes", true}, {"No", false}, {"on", true}, {"OFF", false}, {"true", true},
		{"y", "y"}, {"0644", 420}, {"0o644", "0o644"}, {"0x1F", 31}, {"1_000", 1000},
		{"08", "08"}, {"1:30", 90}, {"-12", -12}, {"1.5", 1.5}, {"1e3", "1e3"},
		{"1.0e+3", 1000.0}, {"~", nil}, {"null", nil}, {"", nil}, {"'yes'", "yes"},
		{"!!str 10", "10"}, {"!!float 1", 1.0}, {"!vault abc", "abc"}, {"2001-12-14", "2001-12-14"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := decodeVarsFile([]byte("v: " + tc.in + "\n"))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got["v"], tc.want) {
				t.Errorf("v: %s → %#v, want %#v", tc.in, got["v"], tc.want)
			}
		})
	}
}

func TestYAMLMergeKeysAndAliases(t *testing.T) {
	got, err := decodeVarsFile([]byte("base: &b {a: 1, b: 2}\nuse:\n  <<: *b\n  b: 3\nlist: &l [1, 2]\nagain: *l\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"base":  map[string]any{"a": 1, "b": 2},
		"use":   map[string]any{"a": 1, "b": 3},
		"list":  []any{1, 2},
		"again": []any{1, 2},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v\nwant %#v", got, want)
	}
	bomb := "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h"} {
		bomb += n + ": &" + n + " [" + strings.Repeat("*"+prev+", ", 9) + "*" + prev + "]\n"
		prev = n
	}
	if _, err := decodeVarsFile([]byte(bomb)); err == nil || !strings.Contains(err.Error(), "aliasing") {
		t.Errorf("alias bomb error = %v, want excessive aliasing", err)
	}
}

func TestParseINIValue(t *testing.T) {
	tests := []struct {
		in   string
		want any
	}{
		{"42", 42}, {"-0", 0}, {"0o17", 15}, {"0b11", 3}, {"1_000", 1000}, {"1.", 1.0}, {".5", 0.5},
		{"'a\\tb'", "a\tb"}, {`"\x41\u00e9"`, "Aé"}, {`'\d'`, `\d`}, {"[]", []any{}}, {"()", []any{}},
		{"(1)", 1}, {"(1,)", []any{1}}, {"{1: 'a', 'b': None}", map[string]any{"1": "a", "b": nil}},
		{"[1, 2", "[1, 2"}, {"Truex", "Truex"}, {"1j", "1j"}, {"abc", "abc"}, {"1__0", "1__0"},
		{"99999999999999999999", "99999999999999999999"}, {"{[1]: 2}", "{[1]: 2}"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := parseINIValue(tc.in); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("parseINIValue(%q) = %#v, want %#v", tc.in, got, tc.want)
			}
		})
	}
}

func TestShlexSplit(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		err  bool
	}{
		{in: `h a=1 b="x y" c='p q'`, want: []string{"h", "a=1", "b=x y", "c=p q"}},
		{in: `h a="say \"hi\"" b=\ x`, want: []string{"h", `a=say "hi"`, "b= x"}},
		{in: `h a="back\slash"`, want: []string{"h", `a=back\slash`}},
		{in: `h a=b#c d=e`, want: []string{"h", "a=b"}},
		{in: `h a="#notcomment"`, want: []string{"h", "a=#notcomment"}},
		{in: `h ""`, want: []string{"h", ""}},
		{in: `h "open`, err: true},
		{in: `h \`, err: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := shlexSplit(tc.in)
			if (err != nil) != tc.err {
				t.Fatalf("shlexSplit(%q) error = %v, want error %v", tc.in, err, tc.err)
			}
			if !tc.err && !reflect.DeepEqual(got, tc.want) {
				t.Errorf("shlexSplit(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestOutputErrorsAndSubgraph(t *testing.T) {
	inv := loadT(t, "testdata/patterns/hosts")
	got, err := inv.Graph("prod")
	if err != nil {
		t.Fatal(err)
	}
	want := "@prod:\n  |--@web:\n  |  |--web1.example.com\n  |  |--web2.example.com\n  |  |--web3.example.com\n  |  |--web4.example.com\n" +
		"  |--@db:\n  |  |--db1.example.com\n  |  |--db2.example.com\n  |  |--web1.example.com\n"
	if got != want {
		t.Errorf("Graph(prod) =\n%s\nwant\n%s", got, want)
	}
	if _, err := inv.Graph("nosuch"); err == nil || !strings.Contains(err.Error(), `"nosuch" is not a group name`) {
		t.Errorf("Graph(nosuch) error = %v", err)
	}
	if _, err := inv.HostJSON("nosuch"); err == nil || !strings.Contains(err.Error(), `host "nosuch" is not in the inventory`) {
		t.Errorf("HostJSON(nosuch) error = %v", err)
	}
	js, err := marshalPyJSON(map[string]any{"s": "tab\there \"q\" \x01 é <&>", "e": []any{}, "m": map[string]any{}})
	if err != nil {
		t.Fatal(err)
	}
	wantJS := "{\n    \"e\": [],\n    \"m\": {},\n    \"s\": \"tab\\there \\\"q\\\" \\u0001 é <&>\"\n}\n"
	if string(js) != wantJS {
		t.Errorf("marshalPyJSON = %s, want %s", js, wantJS)
	}
}
