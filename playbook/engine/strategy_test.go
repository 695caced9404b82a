package engine

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mdo-play/mdo-play/modules/conn"
	"github.com/mdo-play/mdo-play/modules/conn/local"
	"github.com/mdo-play/mdo-play/playbook"
)

// countConnector runs locally and measures how many commands run at once.
type countConnector struct {
	cur, max atomic.Int64
}

func (cc *countConnector) Connect(context.Context, ConnectSpec) (conn.Conn, error) {
	return countConn{Conn: local.New(), cc: cc}, nil
}

func (cc *countConnector) Become(c conn.Conn, _ BecomeSpec) (conn.Conn, error) { return c, nil }

type countConn struct {
	conn.Conn
	cc *countConnector
}

func (c countConn) Exec(ctx context.Context, cmd conn.Command) (conn.ExecResult, error) {
	n := c.cc.cur.Add(1)
	defer c.cc.cur.Add(-1)
	for {
		m := c.cc.max.Load()
		if n <= m || c.cc.max.CompareAndSwap(m, n) {
			break
		}
	}
	return c.Conn.Exec(ctx, cmd)
}

func hostsINI(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "h%d ansible_connection=local\n", i)
	}
	return b.String()
}

// TestForksBoundEveryStep: with -f 2, no more than two hosts run a command
// at once, in fact gathering, tasks and handlers, under both strategies
// (issue 11 item 4: free ran handlers and fact gathering on every host at
// once). The commands take long enough (sleep 0.2) to overlap when
// nothing holds them back.
func TestForksBoundEveryStep(t *testing.T) {
	for _, strategy := range []string{"linear", "free"} {
		for _, step := range []string{"facts", "tasks", "handlers"} {
			t.Run(strategy+"/"+step, func(t *testing.T) {
				src := `- hosts: all
  gather_facts: ` + fmt.Sprint(step == "facts") + `
  strategy: ` + strategy + `
  tasks:
    - command: ` + map[bool]string{true: "sleep 0.2", false: "true"}[step == "tasks"] + `
      changed_when: true
      notify: h
  handlers:
    - name: h
      command: ` + map[bool]string{true: "sleep 0.2", false: "true"}[step == "handlers"] + `
`
				cc := &countConnector{}
				_, stats, err := runInventory(t, src, hostsINI(6), Options{Forks: 2}, cc)
				if err != nil {
					t.Fatal(err)
				}
				if len(stats) != 6 {
					t.Fatalf("recap has %d hosts, want 6", len(stats))
				}
				for h, s := range stats {
					if s.Failed != 0 || s.Changed != 2 {
						t.Errorf("%s: %+v, want changed=2 (task and handler)", h, s)
					}
				}
				if m := cc.max.Load(); m > 2 {
					t.Errorf("%d commands ran at once, want at most 2 (forks)", m)
				}
			})
		}
	}
}

// TestStrategiesManyHosts runs start-at-task, flush_handlers, end_host,
// notify and failures on many local hosts with both strategies; run with
// -race it checks that the state the hosts share is synchronised.
func TestStrategiesManyHosts(t *testing.T) {
	for _, strategy := range []string{"linear", "free"} {
		t.Run(strategy, func(t *testing.T) {
			src := `- hosts: all
  gather_facts: false
  strategy: ` + strategy + `
  tasks:
    - name: before start
      command: "false"
    - name: start here
      command: "true"
      changed_when: true
      notify: h
    - meta: flush_handlers
    - name: end some hosts
      meta: end_host
      when: eq (mod (len .inventory_hostname) 2) 0
    - name: fail one
      fail: {msg: boom}
      when: eq .inventory_hostname "h13"
    - name: last
      command: "true"
      changed_when: true
      notify: h2
  handlers:
    - name: h
      set_fact: {flushed: true}
    - name: h2
      debug: {msg: "{{ .flushed }}"}
`
			sink, stats, err := runInventory(t, src, hostsINI(24), Options{Forks: 5, StartAtTask: "start here"}, localConnector{})
			if err != nil {
				t.Fatal(err)
			}
			if res := sink.hostResults("before start"); len(res) != 0 {
				t.Errorf("a task before --start-at-task ran on %d hosts", len(res))
			}
			last := sink.hostResults("last")
			for i := 1; i <= 24; i++ {
				name := fmt.Sprintf("h%d", i)
				s := stats[name]
				_, ranLast := last[name]
				switch {
				case name == "h13":
					if s.Failed != 1 || ranLast {
						t.Errorf("h13: %+v (ran last: %v), want failed=1", s, ranLast)
					}
				case len(name)%2 == 0: // h1..h9: ended
					if s.OK != 2 || ranLast {
						t.Errorf("%s: %+v (ran last: %v), want ok=2 (task, handler) and ended", name, s, ranLast)
					}
				default:
					if s.OK != 4 || s.Changed != 2 || !ranLast {
						t.Errorf("%s: %+v (ran last: %v), want ok=4 changed=2", name, s, ranLast)
					}
				}
			}
		})
	}
}

// TestPlayHostsAllUnderSerial: ansible_play_hosts_all is every host of the
// play in each serial batch; ansible_play_batch is the batch (issue 11
// item 5).
func TestPlayHostsAllUnderSerial(t *testing.T) {
	src := `- hosts: all
  gather_facts: false
  serial: 2
  tasks:
    - name: show
      debug:
        msg: "{{ len .ansible_play_hosts_all }} {{ len .ansible_play_batch }}"
`
	sink, _, err := runInventory(t, src, hostsINI(5), Options{}, localConnector{})
	if err != nil {
		t.Fatal(err)
	}
	res := sink.hostResults("show")
	for h, want := range map[string]string{"h1": "5 2", "h3": "5 2", "h5": "5 1"} {
		if got := fmt.Sprint(res[h].Result["msg"]); got != want {
			t.Errorf("%s: %q, want %q", h, got, want)
		}
	}
}

// startConnector reports when a command has started on each host.
type startConnector struct {
	started chan string
}

func (sc startConnector) Connect(_ context.Context, spec ConnectSpec) (conn.Conn, error) {
	return startConn{Conn: local.New(), host: spec.Host, started: sc.started}, nil
}

func (startConnector) Become(c conn.Conn, _ BecomeSpec) (conn.Conn, error) { return c, nil }

type startConn struct {
	conn.Conn
	host    string
	started chan string
}

func (c startConn) Exec(ctx context.Context, cmd conn.Command) (conn.ExecResult, error) {
	c.started <- c.host
	return c.Conn.Exec(ctx, cmd)
}

// TestInterruptedRun: a cancelled run says once per host, with the task's
// name, that the run was interrupted (issue 11 item 10), for a plain task
// and for a loop.
func TestInterruptedRun(t *testing.T) {
	for _, loop := range []bool{false, true} {
		t.Run(fmt.Sprintf("loop=%v", loop), func(t *testing.T) {
			task := `    - name: wait
      command: sleep 30
`
			if loop {
				task += "      loop: [1, 2]\n"
			}
			src := "- hosts: all\n  gather_facts: false\n  tasks:\n" + task
			pb, in, reg, eng := loadLocal(t, src, hostsINI(3))
			started := make(chan string, 3)
			sink := &recordSink{}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			r := &Runner{Inventory: in, Registry: reg, Templates: eng, Connector: startConnector{started: started}, Sink: sink}
			done := make(chan error, 1)
			go func() {
				_, err := r.Run(ctx, []*playbook.Playbook{pb})
				done <- err
			}()
			for range 3 {
				<-started
			}
			cancel()
			if err := <-done; err == nil {
				t.Error("Run returned no error after cancellation")
			}
			var lines []string
			for _, e := range sink.events {
				if e.Kind == playbook.EventHost || e.Kind == playbook.EventItem {
					lines = append(lines, fmt.Sprintf("%s %s %v", e.Kind, e.Host, e.Result["msg"]))
				}
			}
			if len(lines) != 3 {
				t.Fatalf("%d results, want one per host:\n%s", len(lines), strings.Join(lines, "\n"))
			}
			for _, l := range lines {
				if !strings.HasPrefix(l, "host ") || !strings.Contains(l, `the run was interrupted during task "wait"`) || strings.Contains(l, "context canceled") {
					t.Errorf("result %q, want the host's interruption with the task name", l)
				}
			}
		})
	}
}
