package modules

import (
	"reflect"
	"testing"
)

func TestSplitFreeForm(t *testing.T) {
	cases := []struct {
		in      string
		keys    []string
		raw     string
		kv      map[string]any
		wantErr bool
	}{
		{"ls -l", freeKeys, "ls -l", map[string]any{}, false},
		{"chdir=/tmp creates=/x echo a=b \"c d\"", freeKeys, "echo a=b \"c d\"", map[string]any{"chdir": "/tmp", "creates": "/x"}, false},
		{"if true; then\n  echo  two   spaces\nfi\n", freeKeys, "if true; then\n  echo  two   spaces\nfi", map[string]any{}, false},
		{"echo {{ .x | default \"a b\" }} chdir=/srv", freeKeys, "echo {{ .x | default \"a b\" }}", map[string]any{"chdir": "/srv"}, false},
		{`src=a dest="b c" mode='0644'`, nil, "", map[string]any{"src": "a", "dest": "b c", "mode": "0644"}, false},
		{`msg="{{ .a }} and {{ .b }}"`, nil, "", map[string]any{"msg": "{{ .a }} and {{ .b }}"}, false},
		{`a="{{ and (eq .net.cni "cilium") (.v | bool) }}" b=1`, nil, "", map[string]any{"a": `{{ and (eq .net.cni "cilium") (.v | bool) }}`, "b": "1"}, false},
		{`msg='x {{ .a | d 'q' }} y' b="{{ "}" }}"`, nil, "", map[string]any{"msg": "x {{ .a | d 'q' }} y", "b": `{{ "}" }}`}, false},
		{`a="{{ .x }}`, nil, "", nil, true},
		{`a="unterminated`, nil, "", nil, true},
	}
	for _, tc := range cases {
		raw, kv, err := SplitFreeForm(tc.in, tc.keys)
		if tc.wantErr {
			if err == nil {
				t.Errorf("SplitFreeForm(%q): no error", tc.in)
			}
			continue
		}
		if err != nil || raw != tc.raw || !reflect.DeepEqual(kv, tc.kv) {
			t.Errorf("SplitFreeForm(%q) = %q, %v, %v; want %q, %v", tc.in, raw, kv, err, tc.raw, tc.kv)
		}
	}
}

var freeKeys = []string{"chdir", "creates", "removes"}
