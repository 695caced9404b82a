package modules

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// waitJob blocks on the target (not in the test) until the job file of
// jid holds a final result, for at most 20 seconds.
func waitJob(t *testing.T, c conn.Conn, jid string) {
	t.Helper()
	script := "f=\"$HOME/.ansible_async\"/" + ShellQuote(jid) + "\ni=0; until grep -q '\"rc\"\\|Timeout exceeded' \"$f\" 2>/dev/null; do i=$((i+1)); [ $i -gt 400 ] && exit 1; sleep 0.05; done"
	res, err := c.Exec(context.Background(), conn.Command{Script: script})
	if err != nil || res.RC != 0 {
		t.Fatalf("job %s did not finish: %v %s", jid, err, res.Stderr)
	}
}

// TestAsyncJobs: a command or shell started in the background writes
// Ansible's job file (its output JSON-escaped by the target's awk), which
// async_status reads and cleans up; job ids and arguments reach the
// target exactly as given; a job that outlives its limit is killed with
// async_wrapper's message.
func TestAsyncJobs(t *testing.T) {
	ctx := context.Background()
	for _, tm := range fileTargets(t) {
		t.Run(tm.name, func(t *testing.T) {
			for _, tc := range []struct {
				name   string
				module string
				args   Args
				jid    string
				limit  int
				want   map[string]any
				failed bool
				msg    string
			}{
				{"command", "command", Args{RawParams: "echo hi there"}, "j1.1", 30, map[string]any{"stdout": "hi there", "rc": 0, "finished": 1, "cmd": "[echo hi there]", "stdout_lines": "[hi there]"}, false, ""},
				{"argv_hostile", "command", Args{"argv": []any{"printf", "%s", hostileNames[3].s + hostileNames[2].s + "\t\\"}}, "it's $(x) \"j\"", 30, map[string]any{"stdout": hostileNames[3].s + hostileNames[2].s + "\t\\"}, false, ""},
				{"shell_fails", "shell", Args{RawParams: "echo out; echo err >&2; exit 4", "chdir": "/"}, "j2.2", 30, map[string]any{"stdout": "out", "stderr": "err", "rc": 4}, true, "non-zero return code"},
				{"timeout", "shell", Args{RawParams: "sleep 30; : mdo-async-timeout-job"}, "j3.3", 1, nil, true, "Timeout exceeded"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					tg := tm.mk(t)
					c := conn.WithEnv(tg.c, map[string]string{"HOME": tg.dir})
					res, ok, err := StartAsync(ctx, c, tc.module, tc.args, tc.jid, tc.limit)
					if err != nil || !ok || res.Failed {
						t.Fatalf("start: %v %v %+v", ok, err, res)
					}
					if res.Values["ansible_job_id"] != tc.jid || res.Values["finished"] != 0 || !strings.HasSuffix(fmt.Sprint(res.Values["results_file"]), "/.ansible_async/"+tc.jid) {
						t.Errorf("started %v", res.Values)
					}
					waitJob(t, c, tc.jid)
					st, err := AsyncStatus{}.Run(ctx, &Env{Conn: c}, Args{"jid": tc.jid, "mode": "status"})
					if err != nil {
						t.Fatal(err)
					}
					if st.Failed != tc.failed || !strings.Contains(st.Msg, tc.msg) {
						t.Errorf("status failed=%v msg %q, want %v %q", st.Failed, st.Msg, tc.failed, tc.msg)
					}
					for k, v := range tc.want {
						if got := fmt.Sprint(st.Values[k]); got != fmt.Sprint(v) {
							t.Errorf("%s = %q, want %q", k, got, fmt.Sprint(v))
						}
					}
					if tc.name == "timeout" {
						// The job's whole process group is gone, as async_wrapper kills it.
						if out := envExec(t, c, "pgrep -af '[m]do-async-timeout-job' || true", nil); out != "" {
							t.Errorf("the timed-out job still runs: %s", out)
						}
					}
					cl, err := AsyncStatus{}.Run(ctx, &Env{Conn: c}, Args{"jid": tc.jid, "mode": "cleanup"})
					if err != nil || cl.Failed || !strings.HasSuffix(fmt.Sprint(cl.Values["erased"]), "/"+tc.jid) {
						t.Errorf("cleanup: %v %+v", err, cl)
					}
					wantNames(t, tg.c, tg.dir+"/.ansible_async")
					gone, _ := AsyncStatus{}.Run(ctx, &Env{Conn: c}, Args{"jid": tc.jid, "mode": "status"})
					if !gone.Failed || gone.Msg != "could not find job" {
						t.Errorf("after cleanup: %+v", gone)
					}
				})
			}
		})
	}
}

// TestAsyncResult: the job file's states as async_status reports them.
func TestAsyncResult(t *testing.T) {
	for _, tc := range []struct {
		name, data string
		want       string
	}{
		{"not_written", "", "map[ansible_job_id:j finished:0 results_file:/p started:1]"},
		{"half_written", `{"rc": 1, "std`, "map[ansible_job_id:j finished:0 results_file:/p started:1]"},
		{"started", `{"started": 1, "finished": 0, "ansible_job_id": "j"}`, "map[ansible_job_id:j finished:0 started:1]"},
		{"done", `{"changed": true, "rc": 0, "stdout": "a\nb", "msg": ""}`, "map[ansible_job_id:j finished:1 msg: rc:0 stderr_lines:[] stdout:a\nb stdout_lines:[a b]]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := AsyncResult("j", "/p", []byte(tc.data))
			m := map[string]any{}
			for k, v := range r.Values {
				m[k] = v
			}
			if tc.name == "done" {
				if !r.Changed || r.Failed {
					t.Errorf("changed %v failed %v", r.Changed, r.Failed)
				}
				m["stderr_lines"] = []string{}
			}
			if got := fmt.Sprint(m); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

// TestValidateArgSpec: Ansible's messages for each kind of violation.
func TestValidateArgSpec(t *testing.T) {
	spec := map[string]any{
		"name":  map[string]any{"type": "str", "required": true, "aliases": []any{"nom"}},
		"count": map[string]any{"type": "int", "default": 1},
		"on":    map[string]any{"type": "bool"},
		"tags":  map[string]any{"type": "list", "elements": "int"},
		"state": map[string]any{"choices": []any{"present", "absent"}},
		"modes": map[string]any{"type": "list", "choices": []any{"a", "b"}},
		"conf": map[string]any{"type": "dict", "options": map[string]any{
			"path": map[string]any{"type": "path", "required": true},
			"size": map[string]any{"type": "int"},
		}},
		"items": map[string]any{"type": "list", "elements": "dict", "options": map[string]any{
			"id": map[string]any{"type": "int", "required": true},
		}},
	}
	for _, tc := range []struct {
		name   string
		params map[string]any
		want   []string
	}{
		{"ok", map[string]any{"name": "x", "count": "3", "on": "yes", "tags": "1,2", "state": "present", "conf": map[string]any{"path": "/x"}, "items": []any{map[string]any{"id": 1}}}, nil},
		{"missing", map[string]any{}, []string{"missing required arguments: name"}},
		{"types", map[string]any{"name": []any{1}, "count": "many", "on": "maybe"}, []string{
			"argument 'count' is of type <class 'str'> and we were unable to convert to int: <class 'str'> cannot be converted to an int",
			"argument 'name' is of type <class 'list'> and we were unable to convert to str: '[1]' is not a string and conversion is not allowed",
			"argument 'on' is of type <class 'str'> and we were unable to convert to bool: The value 'maybe' is not a valid boolean.  Valid booleans include: 'y', 'yes', 'on', '1', 'true', 't', 'n', 'no', 'off', '0', 'false', 'f'",
		}},
		{"elements", map[string]any{"name": "x", "tags": []any{1, "two"}}, []string{
			"Elements value for option 'tags' is of type <class 'str'> and we were unable to convert to int: <class 'str'> cannot be converted to an int",
		}},
		{"choices", map[string]any{"name": "x", "state": "gone", "modes": []any{"a", "c"}}, []string{
			"value of modes must be one or more of: a, b. Got no match for: c",
			"value of state must be one of: present, absent, got: gone",
		}},
		{"nested", map[string]any{"name": "x", "conf": map[string]any{"size": "big"}, "items": []any{map[string]any{}}}, []string{
			"missing required arguments: path found in conf",
			"argument 'size' is of type <class 'str'> found in 'conf'. and we were unable to convert to int: <class 'str'> cannot be converted to an int",
			"missing required arguments: id found in items",
		}},
		{"unsupported", map[string]any{"name": "x", "colour": "red"}, []string{
			"colour. Supported parameters include: conf, count, items, modes, name, on, state, tags (nom).",
		}},
		{"unsupported_nested", map[string]any{"name": "x", "conf": map[string]any{"path": "/", "mode": 1}}, []string{
			"conf.mode. Supported parameters include: path, size.",
		}},
		{"alias", map[string]any{"nom": "x"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ValidateArgSpec(spec, tc.params, nil)
			if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tc.want) {
				t.Errorf("got\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}
