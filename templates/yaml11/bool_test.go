package yaml11

import "testing"

func TestBool(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want bool
		err  bool
	}{
		{true, true, false}, {false, false, false},
		{"yes", true, false}, {"Yes", true, false}, {"YES", true, false}, {"on", true, false}, {"True", true, false},
		{"y", true, false}, {"t", true, false}, {"1", true, false}, {" true ", true, false},
		{"no", false, false}, {"No", false, false}, {"OFF", false, false}, {"false", false, false},
		{"n", false, false}, {"f", false, false}, {"0", false, false},
		{1, true, false}, {0, false, false}, {1.0, true, false}, {0.0, false, false},
		{"", false, true}, {"maybe", false, true}, {2, false, true}, {nil, false, true}, {[]any{}, false, true},
	} {
		got, err := Bool(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("Bool(%#v) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}
