package modules

import (
	"context"
	"reflect"
	"testing"
)

func testVars() fakeVars {
	return fakeVars{
		vars: map[string]any{
			"app_port": 8080,
			"result":   map[string]any{"stdout": "ok", "rc": 0},
			"list":     []any{1, "two"},
		},
		conds: map[string]bool{
			"eq .app_port 8080": true,
			"gt .app_port 9000": false,
			"true":              true,
		},
	}
}

// TestControllerModules runs debug, set_fact, assert and fail through a
// counting connection that must see no call at all.
func TestControllerModules(t *testing.T) {
	verbose := testVars()
	verbose.vars = map[string]any{"ansible_verbosity": 2}
	tests := []struct {
		name    string
		m       Module
		vars    Vars
		args    map[string]any
		values  map[string]any
		facts   map[string]any
		failed  bool
		skipped bool
		msg     string
	}{
		{name: "debug default", m: Debug{}, args: map[string]any{}, values: map[string]any{"msg": "Hello world!"}, msg: "Hello world!"},
		{name: "debug msg", m: Debug{}, args: map[string]any{"msg": "port 8080"}, values: map[string]any{"msg": "port 8080"}, msg: "port 8080"},
		{name: "debug typed msg", m: Debug{}, args: map[string]any{"msg": []any{"a", 1}}, values: map[string]any{"msg": []any{"a", 1}}},
		{name: "debug var", m: Debug{}, args: map[string]any{"var": "app_port"}, values: map[string]any{"app_port": 8080}},
		{name: "debug var path", m: Debug{}, args: map[string]any{"var": "result.stdout"}, values: map[string]any{"result.stdout": "ok"}},
		{name: "debug var undefined", m: Debug{}, args: map[string]any{"var": "nope"}, values: map[string]any{"nope": "VARIABLE IS NOT DEFINED!"}},
		{name: "debug var other error fails", m: Debug{}, args: map[string]any{"var": ".x | bad("}, failed: true, msg: `debug var ".x | bad(": template: unexpected ".x | bad("`},
		{name: "debug verbosity not met", m: Debug{}, args: map[string]any{"msg": "x", "verbosity": 1}, skipped: true, values: map[string]any{"skipped_reason": "Verbosity threshold not met."}},
		{name: "debug verbosity met", m: Debug{}, vars: verbose, args: map[string]any{"msg": "x", "verbosity": "2"}, values: map[string]any{"msg": "x"}, msg: "x"},
		{name: "debug undefined verbose", m: Debug{}, vars: verbose, args: map[string]any{"var": "nope"}, values: map[string]any{"nope": "VARIABLE IS NOT DEFINED!: undefined variable: nope"}},

		{name: "set_fact", m: SetFact{}, args: map[string]any{"a": 1, "b": []any{"x"}, "c": "Yes", "d": "plain", "cacheable": "yes"}, facts: map[string]any{"a": 1, "b": []any{"x"}, "c": true, "d": "plain"}},
		{name: "set_fact bad name", m: SetFact{}, args: map[string]any{"1x": 1}, failed: true, msg: "The variable name '1x' is not valid. Variables must start with a letter or underscore character, and contain only letters, numbers and underscores."},
		{name: "set_fact nothing", m: SetFact{}, args: map[string]any{"cacheable": true}, failed: true, msg: "No key/value pairs provided, at least one is required for this action to succeed"},

		{name: "assert passes", m: Assert{}, args: map[string]any{"that": []any{"eq .app_port 8080", "true"}}, values: map[string]any{"msg": "All assertions passed"}, msg: "All assertions passed"},
		{name: "assert string", m: Assert{}, args: map[string]any{"that": "eq .app_port 8080", "success_msg": "fine"}, msg: "fine"},
		{
			name: "assert fails", m: Assert{}, args: map[string]any{"that": []any{"eq .app_port 8080", "gt .app_port 9000"}},
			failed: true, msg: "Assertion failed",
			values: map[string]any{"assertion": "gt .app_port 9000", "evaluated_to": false},
		},
		{name: "assert msg alias", m: Assert{}, args: map[string]any{"that": "gt .app_port 9000", "msg": "too small"}, failed: true, msg: "too small"},
		{name: "assert fail_msg wins", m: Assert{}, args: map[string]any{"that": "gt .app_port 9000", "msg": "m", "fail_msg": "f"}, failed: true, msg: "f"},
		{name: "assert list msg", m: Assert{}, args: map[string]any{"that": "gt .app_port 9000", "fail_msg": []any{"a", "b"}}, failed: true, values: map[string]any{"msg": []any{"a", "b"}}},
		{name: "assert bad msg type", m: Assert{}, args: map[string]any{"that": "true", "success_msg": 3}, failed: true, msg: "Incorrect type for success_msg, expected a string or list and got integer"},
		{name: "assert error", m: Assert{}, args: map[string]any{"that": "eq .nope 1"}, failed: true, msg: `assert "eq .nope 1": undefined variable: "eq .nope 1"`},

		{name: "fail default", m: Fail{}, args: map[string]any{}, failed: true, msg: "Failed as requested from task"},
		{name: "fail msg", m: Fail{}, args: map[string]any{"msg": "stop"}, failed: true, msg: "stop"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !tt.m.Spec().Controller {
				t.Fatal("Spec().Controller is false")
			}
			vars := tt.vars
			if vars == nil {
				vars = testVars()
			}
			res, cc := call(t, tt.m, Env{Vars: vars}, tt.args)
			if res.Failed != tt.failed || res.Skipped != tt.skipped || res.Changed || res.Msg != tt.msg {
				t.Errorf("got %+v, want failed %v skipped %v msg %q", res, tt.failed, tt.skipped, tt.msg)
			}
			for k, want := range tt.values {
				if got := res.Values[k]; !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %#v, want %#v", k, got, want)
				}
			}
			if !reflect.DeepEqual(res.Facts, tt.facts) && (len(res.Facts) > 0 || len(tt.facts) > 0) {
				t.Errorf("facts = %#v, want %#v", res.Facts, tt.facts)
			}
			if n := cc.calls.Load(); n != 0 {
				t.Errorf("controller module used the connection %d times", n)
			}
		})
	}
}

func TestDebugMsgAndVarExclusive(t *testing.T) {
	if _, err := (Debug{}).Spec().Normalize(map[string]any{"msg": "a", "var": "b"}); err == nil {
		t.Error("msg with var accepted")
	}
}

func TestPing(t *testing.T) {
	tests := []struct {
		name   string
		args   map[string]any
		ping   any
		failed bool
		rounds int32
	}{
		{name: "default", args: map[string]any{}, ping: "pong", rounds: 1},
		{name: "data", args: map[string]any{"data": "hi"}, ping: "hi", rounds: 1},
		{name: "crash", args: map[string]any{"data": "crash"}, failed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, cc := call(t, Ping{}, Env{}, tt.args)
			if res.Failed != tt.failed || res.Changed || res.Values["ping"] != tt.ping {
				t.Errorf("got %+v", res)
			}
			if n := cc.calls.Load(); n != tt.rounds {
				t.Errorf("round trips = %d, want %d", n, tt.rounds)
			}
		})
	}
}

func TestPingCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	args, _ := (Ping{}).Spec().Normalize(map[string]any{})
	_, err := (Ping{}).Run(ctx, &Env{Conn: &countingConn{Conn: localConn()}}, args)
	if err == nil {
		t.Error("cancelled ping returned no error")
	}
}
