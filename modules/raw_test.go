package modules

import (
	"reflect"
	"testing"
)

func TestRawRun(t *testing.T) {
	tests := []struct {
		name   string
		args   map[string]any
		want   map[string]any
		failed bool
		msg    string
		rounds int32
	}{
		{
			name:   "output kept as it is",
			args:   map[string]any{RawParams: "echo hi; echo err >&2; echo"},
			want:   map[string]any{"rc": 0, "stdout": "hi\n\n", "stdout_lines": []string{"hi", ""}, "stderr": "err\n", "stderr_lines": []string{"err"}},
			rounds: 1,
		},
		{
			name:   "shell syntax reaches the shell",
			args:   map[string]any{RawParams: `x='a b'; printf '%s|' $x "$x"`},
			want:   map[string]any{"stdout": "a|b|a b|"},
			rounds: 1,
		},
		{
			name:   "executable",
			args:   map[string]any{RawParams: `[[ x == x ]] && echo "it's bash"`, "executable": "/bin/bash"},
			want:   map[string]any{"stdout": "it's bash\n"},
			rounds: 1,
		},
		{
			name:   "non-zero rc",
			args:   map[string]any{RawParams: "exit 4"},
			want:   map[string]any{"rc": 4},
			failed: true, msg: "non-zero return code", rounds: 1,
		},
		{
			name:   "empty",
			args:   map[string]any{RawParams: ""},
			failed: true, msg: "no command given", rounds: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, cc := call(t, Raw{}, Env{}, tt.args)
			if res.Failed != tt.failed || res.Msg != tt.msg || res.Changed == (tt.rounds == 0) {
				t.Errorf("got %+v, want failed %v msg %q", res, tt.failed, tt.msg)
			}
			for k, want := range tt.want {
				if got := res.Values[k]; !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %#v, want %#v", k, got, want)
				}
			}
			if _, ok := res.Values["cmd"]; ok {
				t.Errorf("raw has no cmd key in Ansible: %v", res.Values)
			}
			if n := cc.calls.Load(); n != tt.rounds {
				t.Errorf("round trips = %d, want %d", n, tt.rounds)
			}
		})
	}
}
