package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mdo-play/mdo-play/playbook"
)

func TestLogFileAppendsJSONLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mdo.log")
	events := []playbook.Event{
		{Kind: playbook.EventPlay, Time: time.Unix(1, 0), Play: "web", Hosts: []string{"a"}},
		{Kind: playbook.EventHost, Time: time.Unix(2, 0), Task: "t", Host: "a", Status: playbook.StatusChanged, Duration: 1500 * time.Microsecond},
		{Kind: playbook.EventRecap, Time: time.Unix(3, 0), Stats: map[string]*playbook.HostStats{"a": {Changed: 1}}},
	}
	for run := 0; run < 2; run++ {
		l, err := openLogFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range events {
			l.Emit(e)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("new log file mode %v, want 0600", fi.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Each line is what --output json prints for the same event.
	var want bytes.Buffer
	js := newJSONSink(&want)
	for run := 0; run < 2; run++ {
		for _, e := range events {
			js.Emit(e)
		}
	}
	if string(data) != want.String() {
		t.Errorf("log file differs from --output json:\n--- got\n%s--- want\n%s", data, want.String())
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	n := 0
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Errorf("line %d is not a JSON object: %v", n+1, err)
		}
		n++
	}
	if n != 2*len(events) {
		t.Errorf("%d lines after two runs, want %d (the second run must append)", n, 2*len(events))
	}
}

func TestLogFileErrors(t *testing.T) {
	_, err := openLogFile(filepath.Join(t.TempDir(), "missing", "mdo.log"))
	if err == nil {
		t.Fatal("no error for a log file in a missing directory")
	}
}

type recordSink struct{ kinds []playbook.EventKind }

func (r *recordSink) Emit(e playbook.Event) { r.kinds = append(r.kinds, e.Kind) }

func TestTeeSink(t *testing.T) {
	a, b := &recordSink{}, &recordSink{}
	tee := teeSink{a, b}
	tee.Emit(playbook.Event{Kind: playbook.EventPlay})
	tee.Emit(playbook.Event{Kind: playbook.EventRecap})
	for i, r := range []*recordSink{a, b} {
		if len(r.kinds) != 2 || r.kinds[0] != playbook.EventPlay || r.kinds[1] != playbook.EventRecap {
			t.Errorf("sink %d got %v", i, r.kinds)
		}
	}
}
