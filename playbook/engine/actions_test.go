package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/mdo-play/mdo-play/inventory"
	"github.com/mdo-play/mdo-play/modules"
	"github.com/mdo-play/mdo-play/modules/conn"
	"github.com/mdo-play/mdo-play/modules/conn/local"
	"github.com/mdo-play/mdo-play/playbook"
	"github.com/mdo-play/mdo-play/templates"
)

// resultOf returns the result of task name on host.
func (s *recordSink) resultOf(t *testing.T, task, host string) playbook.Event {
	t.Helper()
	e, ok := s.hostResults(task)[host]
	if !ok {
		t.Fatalf("task %q did not run on %s", task, host)
	}
	return e
}

// TestAsyncPoll: async with poll > 0 runs the module to its end within
// async seconds (failing as Ansible does when it does not finish); poll:
// 0 starts command and shell in the background and async_status follows
// the job to its result, then cleans it up; other modules leave their
// result in the job file; async is refused where Ansible refuses it.
func TestAsyncPoll(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tasks  string
		opts   Options
		task   string // the task whose result is checked
		status playbook.Status
		want   map[string]any // result keys (compared as printed)
		msg    string         // in the message
	}{
		{name: "poll_ok", tasks: `
    - name: the task
      command: echo hi
      async: 20
      poll: 1`, task: "the task", status: playbook.StatusChanged, want: map[string]any{"stdout": "hi", "finished": 1, "started": 1, "rc": 0}},
		{name: "poll_timeout", tasks: `
    - name: the task
      shell: sleep 30
      async: 1
      poll: 1`, task: "the task", status: playbook.StatusFailed, msg: "async task did not complete within the requested time - 1s"},
		{name: "fire_and_forget_command", tasks: `
    - name: start
      command: sh -c "echo out; echo err >&2"
      async: 30
      poll: 0
      register: job
    - name: the task
      async_status: {jid: "{{ .job.ansible_job_id }}"}
      register: st
      until: eq (toString .st.finished) "1"
      retries: 30
      delay: 1`, task: "the task", status: playbook.StatusChanged, want: map[string]any{"stdout": "out", "stderr": "err", "rc": 0, "finished": 1, "stdout_lines": "[out]"}},
		{name: "fire_and_forget_shell_fails", tasks: `
    - name: start
      shell: printf 'a "quoted"\tline\n\n'; exit 3
      async: 30
      poll: 0
      register: job
    - name: the task
      async_status: {jid: "{{ .job.ansible_job_id }}"}
      register: st
      until: eq (toString .st.finished) "1"
      retries: 30
      delay: 1
      ignore_errors: true`, task: "the task", status: playbook.StatusFailed, want: map[string]any{"stdout": "a \"quoted\"\tline", "rc": 3, "finished": 1}, msg: "non-zero return code"},
		{name: "started_result", tasks: `
    - name: the task
      command: sleep 1
      async: 30
      poll: 0`, task: "the task", status: playbook.StatusChanged, want: map[string]any{"started": 1, "finished": 0}},
		{name: "other_module", tasks: `
    - name: start
      stat: {path: /}
      async: 30
      poll: 0
      register: job
    - name: the task
      async_status: {jid: "{{ .job.ansible_job_id }}"}`, task: "the task", status: playbook.StatusOK, want: map[string]any{"finished": 1}},
		{name: "cleanup", tasks: `
    - name: start
      stat: {path: /}
      async: 30
      poll: 0
      register: job
    - name: clean
      async_status: {jid: "{{ .job.ansible_job_id }}", mode: cleanup}
    - name: the task
      async_status: {jid: "{{ .job.ansible_job_id }}"}
      ignore_errors: true`, task: "the task", status: playbook.StatusFailed, msg: "could not find job"},
		{name: "controller_module", tasks: `
    - name: the task
      debug: {msg: hi}
      async: 10`, task: "the task", status: playbook.StatusFailed, msg: "async is not supported for this task."},
		{name: "check_mode", opts: Options{Check: true}, tasks: `
    - name: the task
      command: echo hi
      async: 10
      poll: 0`, task: "the task", status: playbook.StatusFailed, msg: "check mode and async cannot be used on same task."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			home := t.TempDir()
			src := fmt.Sprintf(`- hosts: all
  gather_facts: false
  environment: {HOME: %q}
  tasks:%s
`, home, tc.tasks)
			sink, _, err := runLocal(t, src, 1, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			e := sink.resultOf(t, tc.task, "h1")
			if e.Status != tc.status {
				t.Fatalf("status %s, want %s: %v", e.Status, tc.status, e.Result)
			}
			for k, v := range tc.want {
				if got := fmt.Sprint(e.Result[k]); got != fmt.Sprint(v) {
					t.Errorf("%s = %q, want %q (result %v)", k, got, fmt.Sprint(v), e.Result)
				}
			}
			if tc.msg != "" && !strings.Contains(fmt.Sprint(e.Result["msg"]), tc.msg) {
				t.Errorf("msg %q does not say %q", e.Result["msg"], tc.msg)
			}
			if tc.name == "cleanup" {
				if left, _ := filepath.Glob(filepath.Join(home, ".ansible_async", "*")); len(left) != 0 {
					t.Errorf("cleanup left %v", left)
				}
			}
		})
	}
}

// TestPause: pause waits the time given (cancellable, never below one
// second), runs once for the batch and gives its result to every host; a
// prompt without a time does not wait when nothing can answer it.
func TestPause(t *testing.T) {
	src := `- hosts: all
  gather_facts: false
  tasks:
    - name: wait
      pause: {seconds: 0}
      register: p
    - name: prompt
      pause: {prompt: "Continue?", echo: false}
      register: q
    - name: seen
      debug: {msg: "{{ .p.delta }} {{ .q.user_input }}|{{ .q.delta }} {{ .q.echo }}"}
`
	sink, stats, err := runLocal(t, src, 3, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(sink.hostResults("wait")); n != 1 {
		t.Errorf("pause ran on %d hosts, want 1", n)
	}
	w := sink.resultOf(t, "wait", "h1")
	if !strings.HasPrefix(fmt.Sprint(w.Result["stdout"]), "Paused for 1.") || fmt.Sprint(w.Result["delta"]) != "1" || w.Result["user_input"] != "" {
		t.Errorf("wait result %v", w.Result)
	}
	for _, k := range []string{"start", "stop"} {
		if s, _ := w.Result[k].(string); len(s) < 19 {
			t.Errorf("%s = %q, want a time", k, s)
		}
	}
	q := sink.resultOf(t, "prompt", "h1")
	if ws, _ := q.Result["warnings"].([]string); len(ws) != 1 || !strings.Contains(ws[0], "stdin is not interactive") {
		t.Errorf("prompt result %v, want the not-interactive warning", q.Result)
	}
	for _, h := range []string{"h1", "h2", "h3"} {
		if got := sink.resultOf(t, "seen", h).Result["msg"]; got != "1 |0 false" {
			t.Errorf("%s saw %q", h, got)
		}
		if stats[h].Failed != 0 {
			t.Errorf("%s failed", h)
		}
	}
}

// TestAddHostGroupBy: add_host and group_by change the run's inventory;
// later plays' patterns, groups and variables see the change, and
// changed says whether anything was new.
func TestAddHostGroupBy(t *testing.T) {
	src := `- hosts: all
  gather_facts: false
  tasks:
    - name: add
      add_host: {name: "new1:2222", groups: "fresh,other", ansible_connection: local, color: blue}
    - name: add again
      add_host: {hostname: "new1", group: fresh}
    - name: add loop
      add_host: {name: "{{ .item }}", groups: [looped], ansible_connection: local}
      loop: [l1, l2]
    - name: by kind
      group_by: {key: "kind_{{ .kind }}", parents: [kinds]}
- hosts: fresh:looped
  gather_facts: false
  tasks:
    - name: new hosts
      debug: {msg: "{{ .inventory_hostname }} {{ .group_names }} {{ index .groups \"fresh\" }}"}
- hosts: kinds
  gather_facts: false
  tasks:
    - name: grouped
      debug: {msg: "{{ .group_names }} {{ .kind_var }}"}
`
	inv := `h1 ansible_connection=local kind=a
h2 ansible_connection=local kind=b
[kind_a]
[kind_a:vars]
kind_var=from-a
[kind_b]
[kind_b:vars]
kind_var=from-b
`
	sink, _, err := runInventory(t, src, inv, Options{}, localConnector{})
	if err != nil {
		t.Fatal(err)
	}
	for task, want := range map[string]playbook.Status{"add": playbook.StatusChanged, "add again": playbook.StatusOK, "add loop": playbook.StatusChanged} {
		if got := sink.hostResults(task); len(got) != 1 || got["h1"].Status != want {
			t.Errorf("%s: %v, want one %s result", task, got, want)
		}
	}
	ah, _ := sink.resultOf(t, "add", "h1").Result["add_host"].(map[string]any)
	if fmt.Sprint(ah["host_vars"]) != "map[ansible_ssh_port:2222 color:blue ansible_connection:local]" && fmt.Sprint(ah["host_vars"]) != "map[ansible_connection:local ansible_ssh_port:2222 color:blue]" {
		t.Errorf("add_host result %v", ah)
	}
	for _, h := range []string{"h1", "h2"} {
		if s := sink.resultOf(t, "by kind", h).Status; s != playbook.StatusChanged {
			t.Errorf("group_by on %s: %s, want changed", h, s)
		}
	}
	want := map[string]string{
		"new1": `new1 ["fresh","other"] ["new1"]`,
		"l1":   `l1 ["looped"] ["new1"]`,
		"l2":   `l2 ["looped"] ["new1"]`,
	}
	got := sink.hostResults("new hosts")
	if len(got) != len(want) {
		t.Errorf("new hosts ran on %d hosts, want %d", len(got), len(want))
	}
	for h, w := range want {
		if m := got[h].Result["msg"]; m != w {
			t.Errorf("%s: %q, want %q", h, m, w)
		}
	}
	grouped := sink.hostResults("grouped")
	for h, w := range map[string]string{"h1": `["kind_a","kinds"] from-a`, "h2": `["kind_b","kinds"] from-b`} {
		if m := grouped[h].Result["msg"]; m != w {
			t.Errorf("%s: %q, want %q", h, m, w)
		}
	}
}

// TestSetStats: set_stats data is added up (aggregate) or replaced, per
// host or for the run, and reaches the recap event.
func TestSetStats(t *testing.T) {
	src := `- hosts: all
  gather_facts: false
  tasks:
    - set_stats: {data: {n: 1, l: [a], m: {x: 1}}}
      run_once: true
    - set_stats: {data: {n: 2, l: [b], m: {y: 2}}}
      run_once: true
    - set_stats: {data: {host: "{{ .inventory_hostname }}"}, per_host: true}
    - set_stats: {data: {n: 5}, aggregate: false}
      run_once: true
`
	sink, _, err := runLocal(t, src, 2, Options{})
	if err != nil {
		t.Fatal(err)
	}
	recap := sink.events[len(sink.events)-1]
	if recap.Kind != playbook.EventRecap {
		t.Fatalf("last event %s", recap.Kind)
	}
	got := fmt.Sprint(recap.CustomStats)
	want := "map[_run:map[l:[a b] m:map[x:1 y:2] n:5] h1:map[host:h1] h2:map[host:h2]]"
	if got != want {
		t.Errorf("custom stats %s, want %s", got, want)
	}
}

// TestRoleArgumentSpecs: a role with meta/argument_specs.yml starts with
// Ansible's validation task, which checks role parameters and variables.
func TestRoleArgumentSpecs(t *testing.T) {
	for _, tc := range []struct {
		name   string
		params string
		vars   string
		status playbook.Status
		msg    string
	}{
		{"ok", `port: "80", mode: b`, "", playbook.StatusOK, "The arg spec validation passed"},
		{"from_vars", "", "port: 8080", playbook.StatusOK, "The arg spec validation passed"},
		{"missing", "", "", playbook.StatusFailed, "Validation of arguments failed:\nmissing required arguments: port"},
		{"bad", `port: "x", mode: c, opts: {size: big}`, "", playbook.StatusFailed, "Validation of arguments failed:\n" +
			"argument 'port' is of type <class 'str'> and we were unable to convert to int: <class 'str'> cannot be converted to an int\n" +
			"value of mode must be one of: a, b, got: c\n" +
			"missing required arguments: name found in opts\n" +
			"argument 'size' is of type <class 'str'> found in 'opts'. and we were unable to convert to int: <class 'str'> cannot be converted to an int"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			files := map[string]string{
				"roles/r1/meta/argument_specs.yml": `argument_specs:
  main:
    short_description: The role
    options:
      port: {type: int, required: true}
      mode: {type: str, choices: [a, b], default: a}
      opts:
        type: dict
        options:
          name: {type: str, required: true}
          size: {type: int}
`,
				"roles/r1/tasks/main.yml": "- name: body\n  debug: {msg: body}\n",
			}
			for f, s := range files {
				p := filepath.Join(dir, f)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			role := "r1"
			if tc.params != "" {
				role = "{role: r1, " + tc.params + "}"
			}
			vars := ""
			if tc.vars != "" {
				vars = "\n  vars: {" + tc.vars + "}"
			}
			src := "- hosts: all\n  gather_facts: false" + vars + "\n  roles:\n    - " + role + "\n"
			reg := modules.Builtin()
			eng := templates.New()
			pb, err := (&playbook.Loader{Registry: reg, Templates: eng}).Parse(filepath.Join(dir, "site.yml"), []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			invPath := filepath.Join(dir, "hosts")
			os.WriteFile(invPath, []byte("h1 ansible_connection=local\n"), 0o644)
			in, err := inventory.Load(context.Background(), []string{invPath}, inventory.Options{})
			if err != nil {
				t.Fatal(err)
			}
			sink := &recordSink{}
			r := &Runner{Inventory: in, Registry: reg, Templates: eng, Connector: localConnector{}, Sink: sink}
			if _, err := r.Run(context.Background(), []*playbook.Playbook{pb}); err != nil {
				t.Fatal(err)
			}
			e := sink.resultOf(t, "r1 : Validating arguments against arg spec 'main' - The role", "h1")
			if e.Status != tc.status || e.Result["msg"] != tc.msg {
				t.Errorf("status %s msg %q, want %s %q", e.Status, e.Result["msg"], tc.status, tc.msg)
			}
			_, ran := sink.hostResults("r1 : body")["h1"]
			if ran != (tc.status == playbook.StatusOK) {
				t.Errorf("role body ran: %v", ran)
			}
		})
	}
}

// flakyConnector serves local connections; after a command containing
// "fake-reboot" runs, the host is down: the open connection fails and
// the next `down` dials fail, as during a reboot.
type flakyConnector struct {
	mu    sync.Mutex
	dials int
	down  int
	gen   int  // bumped by each reboot: connections of an older generation are dead
	dead  bool // every connection it opens is dead already (a host that never answers)
}

func (f *flakyConnector) Connect(context.Context, ConnectSpec) (conn.Conn, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dials++
	if f.down > 0 {
		f.down--
		return nil, fmt.Errorf("%w: connection refused", conn.ErrUnreachable)
	}
	c := &flakyConn{Conn: local.New(), f: f, gen: f.gen}
	if f.dead {
		c.gen--
		f.down = 1 << 20
	}
	return c, nil
}

func (f *flakyConnector) Become(c conn.Conn, _ BecomeSpec) (conn.Conn, error) { return c, nil }

type flakyConn struct {
	conn.Conn
	f   *flakyConnector
	gen int
}

func (c *flakyConn) Exec(ctx context.Context, cmd conn.Command) (conn.ExecResult, error) {
	c.f.mu.Lock()
	dead := c.gen != c.f.gen
	c.f.mu.Unlock()
	if dead {
		return conn.ExecResult{}, fmt.Errorf("%w: connection reset", conn.ErrUnreachable)
	}
	res, err := c.Conn.Exec(ctx, cmd)
	if strings.Contains(cmd.Script, "fake-reboot") {
		c.f.mu.Lock()
		c.f.gen++
		c.f.down = 1
		c.f.mu.Unlock()
		return conn.ExecResult{}, fmt.Errorf("%w: connection closed by remote host", conn.ErrUnreachable)
	}
	return res, err
}

// TestRebootReconnects: reboot runs its command, survives the dropped
// connection, dials again through the run's cache until the host answers
// with a new boot id, and the tasks after it use the new connection;
// wait_for_connection likewise; check mode reboots nothing.
func TestRebootReconnects(t *testing.T) {
	dir := t.TempDir()
	bootID := filepath.Join(dir, "boot_id")
	if err := os.WriteFile(bootID, []byte("one\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := fmt.Sprintf(`- hosts: all
  gather_facts: false
  tasks:
    - name: reboot
      reboot:
        boot_time_command: cat %[1]s
        reboot_command: "echo two > %[1]s # fake-reboot"
        test_command: "true"
        reboot_timeout: 30
      register: r
    - name: after
      command: cat %[1]s
    - name: wait
      wait_for_connection: {timeout: 10}
`, bootID)
	f := &flakyConnector{}
	sink, stats, err := runInventory(t, src, "h1 ansible_connection=ssh\n", Options{}, f)
	if err != nil {
		t.Fatal(err)
	}
	r := sink.resultOf(t, "reboot", "h1")
	if r.Status != playbook.StatusChanged || r.Result["rebooted"] != true {
		t.Fatalf("reboot: %s %v", r.Status, r.Result)
	}
	if a := sink.resultOf(t, "after", "h1"); a.Result["stdout"] != "two" {
		t.Errorf("after: %v", a.Result)
	}
	if s := stats["h1"]; s.Failed != 0 || s.Unreachable != 0 || s.OK != 3 {
		t.Errorf("recap %+v", s)
	}
	// The first dial, one refused while the host is down, one that works.
	if f.dials != 3 {
		t.Errorf("%d dials, want 3", f.dials)
	}

	// Check mode: changed, nothing run.
	os.WriteFile(bootID, []byte("one\n"), 0o644)
	sink, _, err = runInventory(t, src, "h1 ansible_connection=ssh\n", Options{Check: true}, &flakyConnector{})
	if err != nil {
		t.Fatal(err)
	}
	if r := sink.resultOf(t, "reboot", "h1"); r.Status != playbook.StatusChanged {
		t.Errorf("check mode reboot: %s", r.Status)
	}
	if b, _ := os.ReadFile(bootID); string(b) != "one\n" {
		t.Errorf("check mode ran the reboot command")
	}
}

// TestWaitForConnection: a host that is down when the task starts is
// dialled again until it answers; one that never answers fails with
// Ansible's message once timeout has passed.
func TestWaitForConnection(t *testing.T) {
	for _, tc := range []struct {
		name   string
		f      *flakyConnector
		status playbook.Status
		msg    string
		dials  int
	}{
		{"comes_up", &flakyConnector{down: 2}, playbook.StatusOK, "", 3},
		{"never", &flakyConnector{dead: true}, playbook.StatusFailed, "timed out waiting for ping module test: ", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := `- hosts: all
  gather_facts: false
  tasks:
    - name: wait
      wait_for_connection: {timeout: 4, sleep: 1, connect_timeout: 1}
    - name: after
      command: echo up
`
			sink, _, err := runInventory(t, src, "h1 ansible_connection=ssh\n", Options{}, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			e := sink.resultOf(t, "wait", "h1")
			if e.Status != tc.status || !strings.HasPrefix(fmt.Sprint(e.Result["msg"]), tc.msg) {
				t.Errorf("wait: %s %v", e.Status, e.Result)
			}
			if tc.f.dials < tc.dials {
				t.Errorf("%d dials, want at least %d", tc.f.dials, tc.dials)
			}
			if tc.status == playbook.StatusOK {
				if a := sink.resultOf(t, "after", "h1"); a.Result["stdout"] != "up" {
					t.Errorf("after: %v", a.Result)
				}
			}
		})
	}
}

// TestGatherFactsAction: gather_facts as a task is setup: its facts are
// host facts (ansible_hostname, ansible_facts.hostname), not variables
// under their bare names.
func TestGatherFactsAction(t *testing.T) {
	src := `- hosts: all
  gather_facts: false
  tasks:
    - name: gather
      ansible.builtin.gather_facts: {gather_subset: [min]}
    - name: vars
      debug:
        msg: '{{ eq .ansible_hostname .ansible_facts.hostname }} {{ hasKey . "hostname" }}'
`
	sink, _, err := runLocal(t, src, 1, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := sink.resultOf(t, "vars", "h1").Result["msg"]; got != "true false" {
		t.Errorf("msg %q, want %q", got, "true false")
	}
}

// fakePrompter answers every prompt and records them.
type fakePrompter struct {
	mu      sync.Mutex
	prompts []string
	echo    []bool
	answer  string
}

func (f *fakePrompter) Prompt(_ context.Context, text string, echo bool) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.prompts = append(f.prompts, text)
	f.echo = append(f.echo, echo)
	return f.answer, nil
}

// TestPausePrompt: with someone to ask, a prompt without a time waits
// for the answer (user_input), with Ansible's prompt text; a timed pause
// asks nothing; the answer reaches every host of the batch.
func TestPausePrompt(t *testing.T) {
	src := `- hosts: all
  gather_facts: false
  tasks:
    - name: ask
      pause: {prompt: "Deploy to prod?"}
      register: a
    - name: ask quietly
      pause: {echo: false}
      register: q
    - name: seen
      debug: {msg: "{{ .a.user_input }} {{ .q.user_input }} {{ .q.echo }}"}
`
	pb, in, reg, eng := loadLocal(t, src, "h1 ansible_connection=local\nh2 ansible_connection=local\n")
	sink := &recordSink{}
	p := &fakePrompter{answer: "yes"}
	r := &Runner{Inventory: in, Registry: reg, Templates: eng, Connector: localConnector{}, Sink: sink, Prompter: p}
	if _, err := r.Run(context.Background(), []*playbook.Playbook{pb}); err != nil {
		t.Fatal(err)
	}
	want := []string{"[ask]\nDeploy to prod?:", "[ask quietly]\nPress enter to continue, Ctrl+C to interrupt (output is hidden):"}
	if fmt.Sprintf("%q %v", p.prompts, p.echo) != fmt.Sprintf("%q %v", want, []bool{true, false}) {
		t.Errorf("prompts %q %v, want %q [true false]", p.prompts, p.echo, want)
	}
	for _, h := range []string{"h1", "h2"} {
		if got := sink.resultOf(t, "seen", h).Result["msg"]; got != "yes yes false" {
			t.Errorf("%s saw %q", h, got)
		}
	}
	if ws := sink.resultOf(t, "ask", "h1").Result["warnings"]; ws != nil {
		t.Errorf("warnings %v", ws)
	}
}
