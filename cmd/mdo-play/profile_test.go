package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mdo-play/mdo-play/playbook"
)

// checkLocalGolden compares got with cmd/mdo-play/testdata/NAME (rewritten
// with -update).
func checkLocalGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if string(want) != got {
		t.Errorf("output differs from %s (run go test -update and review the diff):\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}

// sampleRun is the events of a small run: two plays, a rendered task name,
// a loop, a failure, an unreachable host, a skipped host and a handler.
func sampleRun() []playbook.Event {
	t0 := time.Date(2024, 5, 1, 3, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	sec := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
	pos := func(line int) playbook.Pos { return playbook.Pos{File: "site.yml", Line: line, Col: 7} }
	hosts := []string{"web1", "web2", "db1"}
	return []playbook.Event{
		{Kind: playbook.EventPlaybook, Time: at(0), Playbook: "site.yml"},
		{Kind: playbook.EventPlay, Time: at(0), Play: "web servers", Hosts: hosts},
		{Kind: playbook.EventTask, Time: at(0), Play: "web servers", Task: "Gathering Facts", Pos: pos(2), Module: "setup"},
		{Kind: playbook.EventHost, Time: at(0.4), Task: "Gathering Facts", Pos: pos(2), Module: "setup", Host: "web1", Status: playbook.StatusOK, Duration: sec(0.4)},
		{Kind: playbook.EventHost, Time: at(0.5), Task: "Gathering Facts", Pos: pos(2), Module: "setup", Host: "web2", Status: playbook.StatusOK, Duration: sec(0.5)},
		{Kind: playbook.EventHost, Time: at(3), Task: "Gathering Facts", Pos: pos(2), Module: "setup", Host: "db1", Status: playbook.StatusUnreachable, Duration: sec(3),
			Result: map[string]any{"unreachable": true, "msg": "dial tcp 10.0.0.9:22: i/o timeout", "changed": false}},
		{Kind: playbook.EventTask, Time: at(3), Task: "install nginx 1.24", Pos: pos(5), Module: "apt"},
		{Kind: playbook.EventHost, Time: at(9.1), Task: "install nginx {{ .version }}", Pos: pos(5), Module: "apt", Host: "web1", Status: playbook.StatusChanged, Duration: sec(6.1)},
		{Kind: playbook.EventHost, Time: at(15.25), Task: "install nginx {{ .version }}", Pos: pos(5), Module: "apt", Host: "web2", Status: playbook.StatusFailed, Duration: sec(12.25),
			Result: map[string]any{"failed": true, "changed": false, "rc": 100, "msg": "E: Unable to locate package nginx-<1.24>",
				"stdout": "Reading package lists...\n", "stderr": "E: Unable to locate package nginx-<1.24>\n<script>alert(1)</script>"}},
		{Kind: playbook.EventTask, Time: at(15.25), Task: "write config", Pos: pos(9), Module: "template"},
		{Kind: playbook.EventItem, Time: at(15.5), Task: "write config", Pos: pos(9), Host: "web1", Status: playbook.StatusChanged, Item: "a.conf", HasItem: true, Duration: sec(0.25)},
		{Kind: playbook.EventItem, Time: at(15.75), Task: "write config", Pos: pos(9), Host: "web1", Status: playbook.StatusOK, Item: "b.conf", HasItem: true, Duration: sec(0.25)},
		{Kind: playbook.EventHost, Time: at(15.75), Task: "write config", Pos: pos(9), Host: "web1", Status: playbook.StatusChanged, Loop: true, Duration: sec(0.5)},
		{Kind: playbook.EventTask, Time: at(15.75), Task: "only on Debian 11", Pos: pos(14), Module: "command"},
		{Kind: playbook.EventHost, Time: at(15.76), Task: "only on Debian 11", Pos: pos(14), Host: "web1", Status: playbook.StatusSkipped, Duration: sec(0.01)},
		{Kind: playbook.EventTask, Time: at(15.76), Task: "check port", Pos: pos(16), Module: "wait_for"},
		{Kind: playbook.EventHost, Time: at(16.76), Task: "check port", Pos: pos(16), Host: "web1", Status: playbook.StatusFailed, Ignored: true, Duration: sec(1),
			Result: map[string]any{"failed": true, "msg": "Timeout when waiting for 127.0.0.1:81"}},
		{Kind: playbook.EventHandler, Time: at(16.76), Task: "reload nginx", Pos: pos(30), Module: "service"},
		{Kind: playbook.EventHost, Time: at(17.06), Task: "reload nginx", Pos: pos(30), Host: "web1", Status: playbook.StatusChanged, Duration: sec(0.3)},
		{Kind: playbook.EventPlay, Time: at(17.06), Play: "", Hosts: []string{"web1"}},
		{Kind: playbook.EventTask, Time: at(17.06), Task: "ping", Pos: pos(40), Module: "ping"},
		{Kind: playbook.EventHost, Time: at(17.1), Task: "ping", Pos: pos(40), Host: "web1", Status: playbook.StatusOK, Duration: sec(0.04)},
		{Kind: playbook.EventRecap, Time: at(17.1), Stats: map[string]*playbook.HostStats{
			"web1": {OK: 3, Changed: 3, Skipped: 1, Ignored: 1},
			"web2": {OK: 1, Failed: 1},
			"db1":  {Unreachable: 1},
		}},
	}
}

func TestProfileGolden(t *testing.T) {
	p := newProfileSink()
	for _, e := range sampleRun() {
		p.Emit(e)
	}
	var b strings.Builder
	p.write(&b)
	checkLocalGolden(t, "profile.golden", b.String())
}

func TestProfileLimitsAndEmpty(t *testing.T) {
	for _, tc := range []struct {
		name  string
		tasks int
		hosts int
		want  []string
	}{
		{name: "empty", want: []string{"no task ran"}},
		{name: "many", tasks: profileTop + 5, hosts: profileTop + 2, want: []string{"... and 5 faster tasks", "... and 2 faster hosts", "task24 (p.yml:24)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newProfileSink()
			t0 := time.Unix(0, 0)
			for i := 0; i < tc.tasks; i++ {
				pos := playbook.Pos{File: "p.yml", Line: i}
				p.Emit(playbook.Event{Kind: playbook.EventTask, Time: t0, Task: fmt.Sprintf("task%d", i), Pos: pos})
				for h := 0; h < tc.hosts; h++ {
					d := time.Duration(i*100+h) * time.Millisecond
					p.Emit(playbook.Event{Kind: playbook.EventHost, Time: t0.Add(d), Pos: pos, Host: fmt.Sprintf("h%02d", h), Duration: d})
				}
			}
			var b strings.Builder
			p.write(&b)
			for _, w := range tc.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("profile lacks %q:\n%s", w, b.String())
				}
			}
			if tc.tasks > 0 && strings.Contains(b.String(), "task0 ") {
				t.Errorf("the fastest task is listed beyond the top %d:\n%s", profileTop, b.String())
			}
		})
	}
}
