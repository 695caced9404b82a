package yaml11

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestDecoder(t *testing.T) {
	tests := []struct {
		name        string
		src         string
		lastKeyWins bool
		want        any
		errs        []string
	}{
		{name: "scalars", src: "a: yes\nb: 0644\nc: '1'\nd: ~\ne: 1.5\n", want: map[string]any{"a": true, "b": 420, "c": "1", "d": nil, "e": 1.5}},
		{name: "merge", src: "x: &x {a: 1, b: 2}\ny:\n  <<: *x\n  b: 3\n", want: map[string]any{"x": map[string]any{"a": 1, "b": 2}, "y": map[string]any{"a": 1, "b": 3}}},
		{name: "duplicate is an error", src: "a: 1\na: 2\n", want: map[string]any{"a": 1}, errs: []string{`2:1: duplicate key "a" (first defined at line 1)`}},
		{name: "duplicate, last wins", src: "a: 1\na: 2\n", lastKeyWins: true, want: map[string]any{"a": 2}},
		{name: "alias into itself", src: "a: &a\n  - *a\n", want: map[string]any{"a": []any{[]any{nil}}}, errs: []string{"2:5: YAML alias *a refers to a node that contains it"}},
		{name: "key not a string", src: "[1]: x\n", want: map[string]any{}, errs: []string{"1:1: mapping key must be a string, got a list"}},
		{name: "merge of a list of scalars", src: "a:\n  <<: [1]\n", want: map[string]any{"a": map[string]any{}}, errs: []string{"2:8: merge key << expects a mapping"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var doc yaml.Node
			if err := yaml.Unmarshal([]byte(tc.src), &doc); err != nil {
				t.Fatal(err)
			}
			var errs []string
			d := Decoder{LastKeyWins: tc.lastKeyWins, Errorf: func(n *yaml.Node, msg string) {
				errs = append(errs, fmt.Sprintf("%d:%d: %s", n.Line, n.Column, msg))
			}}
			if got := d.Value(&doc); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Value = %#v, want %#v", got, tc.want)
			}
			if strings.Join(errs, "\n") != strings.Join(tc.errs, "\n") {
				t.Errorf("errors:\n%s\nwant\n%s", strings.Join(errs, "\n"), strings.Join(tc.errs, "\n"))
			}
		})
	}
}
