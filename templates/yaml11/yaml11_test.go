package yaml11

import (
	"reflect"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestScalar(t *testing.T) {
	cases := []struct {
		src  string
		want any
	}{
		{"yes", true}, {"No", false}, {"ON", true}, {"off", false}, {"true", true}, {"False", false},
		{"y", "y"}, {"n", "n"}, // not booleans in YAML 1.1 as PyYAML reads it
		{"'yes'", "yes"}, {`"on"`, "on"},
		{"0644", 420}, {"644", 644}, {"0x1F", 31}, {"0b101", 5}, {"1_000", 1000}, {"-12", -12}, {"1:30", 90},
		{"0o644", "0o644"}, // YAML 1.2 only
		{"1.5", 1.5}, {"1e3", "1e3"}, {"1.0e+3", 1000.0}, {".inf", "inf"},
		{"~", nil}, {"null", nil}, {"", nil},
		{"!!str 123", "123"}, {"!!int 0644", 420}, {"!vault abc", "abc"},
		{"hello", "hello"}, {"|\n  block\n", "block\n"},
	}
	for _, tc := range cases {
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte("v: "+tc.src), &doc); err != nil {
			t.Fatalf("%q: %v", tc.src, err)
		}
		n := doc.Content[0].Content[1]
		got, err := Scalar(n)
		if err != nil {
			t.Errorf("Scalar(%q): %v", tc.src, err)
			continue
		}
		if f, ok := got.(float64); ok && tc.want == "inf" {
			if f < 1e308 {
				t.Errorf("Scalar(%q) = %v, want +Inf", tc.src, got)
			}
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Scalar(%q) = %#v, want %#v", tc.src, got, tc.want)
		}
	}
	var doc yaml.Node
	_ = yaml.Unmarshal([]byte("v: !!int abc"), &doc)
	if _, err := Scalar(doc.Content[0].Content[1]); err == nil {
		t.Error("!!int abc: no error")
	}
}
