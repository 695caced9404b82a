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
	script := "f=\"$HOME/.ansible_async\"/" + conn.Quote(jid) + "\ni=0; until grep -q '\"rc\"\\|Timeout exceeded' \"$f\" 2>/dev/null; do i=$((i+1)); [ $i -gt 400 ] && exit 1; sleep 0.05; done"
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
