package engine

import (
	"context"
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

type localConnector struct{}

func (localConnector) Connect(context.Context, ConnectSpec) (conn.Conn, error) {
	return local.New(), nil
}
func (localConnector) Become(c conn.Conn, _ BecomeSpec) (conn.Conn, error) { return c, nil }

type countSink struct {
	mu     sync.Mutex
	events map[playbook.EventKind]int
}

func (s *countSink) Emit(e playbook.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events[e.Kind]++
}

// TestStrategiesRace runs a play with failures, handlers, registers and
// set_fact on many local hosts at once, with both strategies, under -race.
func TestStrategiesRace(t *testing.T) {
	for _, strategy := range []string{"linear", "free"} {
		t.Run(strategy, func(t *testing.T) { testStrategyRace(t, strategy) })
	}
}

func testStrategyRace(t *testing.T, strategy string) {
	dir := t.TempDir()
	inv := filepath.Join(dir, "hosts.ini")
	var hosts string
	for _, h := range []string{"h1", "h2", "h3", "h4", "h5", "h6", "h7", "h8"} {
		hosts += h + " ansible_connection=local\n"
	}
	if err := os.WriteFile(inv, []byte(hosts), 0o644); err != nil {
		t.Fatal(err)
	}
	src := `- hosts: all
  gather_facts: false
  strategy: STRATEGY
  max_fail_percentage: 50
  tasks:
    - command: echo {{ .inventory_hostname }}
      register: out
      notify: h
    - set_fact:
        seen: "{{ .out.stdout }}"
    - fail:
        msg: boom
      when: eq .inventory_hostname "h3"
    - debug:
        msg: "{{ .seen }}"
  handlers:
    - name: h
      debug:
        msg: handler
`
	src = strings.Replace(src, "STRATEGY", strategy, 1)
	reg := modules.Builtin()
	pb, err := (&playbook.Loader{Registry: reg}).Parse(filepath.Join(dir, "site.yml"), []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	in, err := inventory.Load(context.Background(), []string{inv}, inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sink := &countSink{events: map[playbook.EventKind]int{}}
	r := &Runner{Inventory: in, Registry: reg, Templates: templates.New(), Connector: localConnector{}, Sink: sink,
		Options: Options{Forks: 8}}
	stats, err := r.Run(context.Background(), []*playbook.Playbook{pb})
	if err != nil {
		t.Fatal(err)
	}
	if stats["h3"].Failed != 1 || stats["h1"].Failed != 0 {
		t.Errorf("stats: h3 %+v, h1 %+v", stats["h3"], stats["h1"])
	}
	if got := stats["h1"].OK; got != 4 {
		t.Errorf("h1 ok=%d, want 4 (3 tasks and the handler)", got)
	}
	if sink.events[playbook.EventRecap] != 1 {
		t.Errorf("recap events: %d", sink.events[playbook.EventRecap])
	}
}
