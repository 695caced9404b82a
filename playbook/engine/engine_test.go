package engine

import (
	"context"
	"encoding/json"
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

// recordSink keeps every event.
type recordSink struct {
	mu     sync.Mutex
	events []playbook.Event
}

func (s *recordSink) Emit(e playbook.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, e)
}

// hostResults returns the host events of task name, by host.
func (s *recordSink) hostResults(task string) map[string]playbook.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]playbook.Event{}
	for _, e := range s.events {
		if e.Kind == playbook.EventHost && e.Task == task {
			out[e.Host] = e
		}
	}
	return out
}

// runLocal runs playbook source src on n local hosts (h1..hn) and returns
// the events and the recap.
func runLocal(t *testing.T, src string, n int, opts Options) (*recordSink, map[string]*playbook.HostStats, error) {
	t.Helper()
	var inv strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&inv, "h%d ansible_connection=local\n", i)
	}
	return runInventory(t, src, inv.String(), opts, localConnector{})
}

// runInventory runs playbook source src on the hosts of an INI inventory.
func runInventory(t *testing.T, src, inv string, opts Options, cn Connector) (*recordSink, map[string]*playbook.HostStats, error) {
	t.Helper()
	pb, in, reg, eng := loadLocal(t, src, inv)
	sink := &recordSink{}
	r := &Runner{Inventory: in, Registry: reg, Templates: eng, Connector: cn, Sink: sink, Options: opts}
	stats, err := r.Run(context.Background(), []*playbook.Playbook{pb})
	return sink, stats, err
}

// loadLocal loads playbook source src and an INI inventory.
func loadLocal(t *testing.T, src, inv string) (*playbook.Playbook, *inventory.Inventory, *modules.Registry, *templates.Engine) {
	t.Helper()
	dir := t.TempDir()
	invPath := filepath.Join(dir, "hosts.ini")
	if err := os.WriteFile(invPath, []byte(inv), 0o644); err != nil {
		t.Fatal(err)
	}
	reg := modules.Builtin()
	eng := templates.New(templates.WithHostPatterns(inventory.MatchHostnames))
	pb, err := (&playbook.Loader{Registry: reg, Templates: eng}).Parse(filepath.Join(dir, "site.yml"), []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	in, err := inventory.Load(context.Background(), []string{invPath}, inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return pb, in, reg, eng
}

// TestKeywordRenderErrorsFail: a keyword whose template cannot be rendered
// fails the task with the render error; no_log that cannot be rendered
// never lets the result through.
func TestKeywordRenderErrorsFail(t *testing.T) {
	const secret = "s3cr3t-value"
	for _, tc := range []struct {
		name, task string
		wantMsg    string // in the failure message
	}{
		{"no_log", `debug: {msg: "{{ .secret }}"}
      no_log: "{{ .undefined_thing }}"`, "undefined_thing"},
		{"no_log_loop", `debug: {msg: "{{ .item }}"}
      loop: ["{{ .secret }}"]
      no_log: "{{ .undefined_thing }}"`, "undefined_thing"},
		{"no_log_not_bool", `debug: {msg: "{{ .secret }}"}
      no_log: "{{ .secret }}"`, "boolean"},
		{"retries", `command: echo {{ .secret }}
      register: r
      until: eq .r.rc 0
      retries: "{{ .undefined_retries }}"`, "undefined_retries"},
		{"delay", `command: "true"
      register: r
      until: eq .r.rc 0
      delay: "{{ .undefined_delay }}"`, "undefined_delay"},
		{"ignore_errors", `command: "false"
      ignore_errors: "{{ .undefined_ignore }}"`, "undefined_ignore"},
		{"diff", `command: "true"
      diff: "{{ .undefined_diff }}"`, "undefined_diff"},
		{"label", `debug: {msg: x}
      loop: [1]
      loop_control: {label: "{{ .undefined_label }}"}`, "undefined_label"},
		{"notify", `command: "true"
      notify: "{{ .undefined_handler }}"`, "undefined_handler"},
		{"run_once", `command: "true"
      run_once: "{{ .undefined_once }}"`, "undefined_once"},
		{"throttle", `command: "true"
      throttle: "{{ .undefined_throttle }}"`, "undefined_throttle"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := `- hosts: all
  gather_facts: false
  vars:
    secret: ` + secret + `
  tasks:
    - name: the task
      ` + tc.task + `
  handlers:
    - name: h
      debug: {msg: h}
`
			sink, stats, err := runLocal(t, src, 1, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if stats["h1"].Failed != 1 {
				t.Errorf("recap %+v, want failed=1", stats["h1"])
			}
			res := sink.hostResults("the task")["h1"]
			if res.Status != playbook.StatusFailed {
				t.Errorf("status %s, want failed; result %v", res.Status, res.Result)
			}
			b, _ := json.Marshal(sink.events)
			if strings.Contains(string(b), secret) {
				t.Errorf("the secret was printed: %s", b)
			}
			var msgs []string
			for _, e := range sink.events {
				if e.Task == "the task" && e.Result != nil {
					msgs = append(msgs, fmt.Sprint(e.Result["msg"]))
				}
			}
			if !strings.Contains(strings.Join(msgs, "\n"), tc.wantMsg) {
				t.Errorf("no result message mentions %q: %q", tc.wantMsg, msgs)
			}
		})
	}
}

// becomeConnector runs locally and records which hosts asked for become.
type becomeConnector struct {
	mu     sync.Mutex
	become map[string]bool
}

func (b *becomeConnector) Connect(_ context.Context, spec ConnectSpec) (conn.Conn, error) {
	return hostConn{Conn: local.New(), host: spec.Host}, nil
}

func (b *becomeConnector) Become(c conn.Conn, _ BecomeSpec) (conn.Conn, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.become[c.(hostConn).host] = true
	return c, nil
}

type hostConn struct {
	conn.Conn
	host string
}

// TestBecomeVariableBooleans: ansible_become from an INI inventory is read
// with Ansible's boolean rules (Yes, 1, on ...), and a value that is not a
// boolean fails the host's task naming the variable and where it comes from.
func TestBecomeVariableBooleans(t *testing.T) {
	inv := `yes1 ansible_connection=local ansible_become=Yes
one ansible_connection=local ansible_become=1
on ansible_connection=local ansible_become=on
true ansible_connection=local ansible_become=True
no ansible_connection=local ansible_become=no
zero ansible_connection=local ansible_become=0
bad ansible_connection=local ansible_become=maybe
`
	src := `- hosts: all
  gather_facts: false
  tasks:
    - name: the task
      command: "true"
`
	cn := &becomeConnector{become: map[string]bool{}}
	sink, _, err := runInventory(t, src, inv, Options{}, cn)
	if err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]bool{"yes1": true, "one": true, "on": true, "true": true, "no": false, "zero": false} {
		if cn.become[host] != want {
			t.Errorf("%s: become %v, want %v", host, cn.become[host], want)
		}
	}
	res := sink.hostResults("the task")
	if res["bad"].Status != playbook.StatusFailed || cn.become["bad"] {
		t.Fatalf("bad: status %s (become %v), want failed", res["bad"].Status, cn.become["bad"])
	}
	msg := fmt.Sprint(res["bad"].Result["msg"])
	for _, want := range []string{"ansible_become", "inventory variables of bad", "maybe"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q does not mention %q", msg, want)
		}
	}
}
