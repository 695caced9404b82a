package main

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mdo-play/mdo-play/playbook"
)

// fakeTerm is a terminal screen that understands what the progress line
// writes: \r (column 0), ESC[K (erase to end of line) and \n. Any other
// escape sequence fails the test.
type fakeTerm struct {
	t      *testing.T
	mu     sync.Mutex
	width  int
	lines  []string // finished lines
	cur    []rune   // the line the cursor is on
	col    int
	writes int
}

func (f *fakeTerm) Write(b []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.writes++
	s := string(b)
	for len(s) > 0 {
		switch {
		case strings.HasPrefix(s, "\033[K"):
			f.cur = f.cur[:f.col]
			s = s[3:]
			continue
		case s[0] == '\033':
			f.t.Errorf("unexpected escape sequence %q", s)
			return len(b), nil
		case s[0] == '\r':
			f.col = 0
		case s[0] == '\n':
			f.lines = append(f.lines, string(f.cur))
			f.cur, f.col = nil, 0
		default:
			r := []rune(s)[0]
			if f.col < len(f.cur) {
				f.cur[f.col] = r
			} else {
				f.cur = append(f.cur, r)
			}
			f.col++
			s = s[len(string(r)):]
			continue
		}
		s = s[1:]
	}
	return len(b), nil
}

// screen returns the finished lines and the line under the cursor.
func (f *fakeTerm) screen() ([]string, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.lines...), string(f.cur)
}

func TestProgressLine(t *testing.T) {
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	now := t0
	clockNow := func() time.Time { return now }
	task := func(name string, line int) playbook.Event {
		return playbook.Event{Kind: playbook.EventTask, Time: now, Task: name, Pos: playbook.Pos{File: "site.yml", Line: line}}
	}
	host := func(h string, line int, st playbook.Status, ignored bool) playbook.Event {
		return playbook.Event{Kind: playbook.EventHost, Time: now, Task: "t", Pos: playbook.Pos{File: "site.yml", Line: line}, Host: h, Status: st, Ignored: ignored}
	}
	type step struct {
		ev      *playbook.Event
		advance time.Duration // clock moves, then a tick redraws
		want    string        // line under the cursor afterwards
	}
	ev := func(e playbook.Event) *playbook.Event { return &e }
	steps := []step{
		{ev: ev(playbook.Event{Kind: playbook.EventPlay, Play: "web", Hosts: []string{"a", "b", "c"}}), want: ""},
		{ev: ev(task("install nginx", 3)), want: "[0/3 hosts, 0 failed, 0:00] TASK [install nginx]"},
		{advance: 5 * time.Second, want: "[0/3 hosts, 0 failed, 0:05] TASK [install nginx]"},
		{ev: ev(host("a", 3, playbook.StatusChanged, false)), want: "[1/3 hosts, 0 failed, 0:05] TASK [install nginx]"},
		{ev: ev(host("b", 3, playbook.StatusFailed, false)), want: "[2/3 hosts, 1 failed, 0:05] TASK [install nginx]"},
		{advance: 70 * time.Second, want: "[2/3 hosts, 1 failed, 1:15] TASK [install nginx]"},
		{ev: ev(host("c", 3, playbook.StatusFailed, true)), want: "[3/3 hosts, 1 failed, 1:15] TASK [install nginx]"},
		// b failed, so the next task runs on two hosts.
		{ev: ev(task("start nginx with a name far too long to fit on one line of the terminal at all", 9)), want: "[0/2 hosts, 1 failed, 0:00] TASK [start nginx with a name …"},
		{advance: time.Hour + 2*time.Second, want: "[0/2 hosts, 1 failed, 1:00:02] TASK [start nginx with a na…"},
		{ev: ev(host("a", 9, playbook.StatusUnreachable, false)), want: "[1/2 hosts, 2 failed, 1:00:02] TASK [start nginx with a na…"},
		{ev: ev(playbook.Event{Kind: playbook.EventHandler, Time: now, Task: "reload", Pos: playbook.Pos{File: "site.yml", Line: 20}}), want: "[0/1 hosts, 2 failed, 0:00] HANDLER [reload]"},
		{ev: ev(playbook.Event{Kind: playbook.EventRecap, Stats: map[string]*playbook.HostStats{"a": {Unreachable: 1}}}), want: ""},
	}
	term := &fakeTerm{t: t, width: 60}
	text := &textSink{out: term, errOut: term, width: 60}
	p := newProgressSink(term, text, 60, clockNow)
	for i, s := range steps {
		if s.ev != nil {
			p.Emit(*s.ev)
		} else {
			now = now.Add(s.advance)
			p.redraw() // what every tick of run does
		}
		_, cur := term.screen()
		if n := len([]rune(cur)); n >= term.width {
			t.Errorf("step %d: progress line of %d runes on a %d-column terminal", i, n, term.width)
		}
		if cur != s.want {
			t.Errorf("step %d: line under the cursor\n got %q\nwant %q", i, cur, s.want)
		}
	}

	// What scrolled by is exactly what the text sink alone prints.
	plain := &strings.Builder{}
	alone := &textSink{out: plain, errOut: plain, width: 60}
	for _, s := range steps {
		if s.ev != nil {
			alone.Emit(*s.ev)
		}
	}
	lines, cur := term.screen()
	if got, want := strings.Join(lines, "\n")+"\n", plain.String(); got != want {
		t.Errorf("scrolled lines differ from the text sink's output:\n--- got\n%s\n--- want\n%s", got, want)
	}
	if cur != "" {
		t.Errorf("line left under the cursor after the run: %q", cur)
	}
}

func TestProgressStopClearsLine(t *testing.T) {
	term := &fakeTerm{t: t, width: 80}
	var mu sync.Mutex
	now := time.Unix(0, 0)
	clockNow := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	p := newProgressSink(term, teeSink{}, 0, clockNow)
	p.Emit(playbook.Event{Kind: playbook.EventPlay, Hosts: []string{"a"}})
	p.Emit(playbook.Event{Kind: playbook.EventTask, Task: "slow"})
	if _, cur := term.screen(); !strings.Contains(cur, "0:00] TASK [slow]") {
		t.Fatalf("no progress line while the task runs: %q", cur)
	}
	tick := make(chan time.Time)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.run(ctx, tick); close(done) }()
	mu.Lock()
	now = now.Add(42 * time.Second)
	mu.Unlock()
	tick <- now
	tick <- now // accepted only once the first redraw is over
	if _, cur := term.screen(); !strings.Contains(cur, "0:42] TASK [slow]") {
		t.Errorf("a tick did not redraw the elapsed time: %q", cur)
	}
	cancel()
	<-done
	if _, cur := term.screen(); cur != "" {
		t.Errorf("stop left %q on the line", cur)
	}
	p.Emit(playbook.Event{Kind: playbook.EventHost, Host: "a"})
	if lines, cur := term.screen(); cur != "" || len(lines) != 0 {
		t.Errorf("a stopped progress line drew again: %q %q", lines, cur)
	}
}

func TestClockAndTruncate(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{{0, "0:00"}, {59 * time.Second, "0:59"}, {61 * time.Second, "1:01"}, {3723 * time.Second, "1:02:03"}} {
		t.Run(tc.want, func(t *testing.T) {
			if got := clock(tc.d); got != tc.want {
				t.Errorf("clock(%v) = %q, want %q", tc.d, got, tc.want)
			}
		})
	}
	for _, tc := range []struct {
		s    string
		n    int
		want string
	}{{"abc", 3, "abc"}, {"abcd", 3, "ab…"}, {"héllo", 4, "hél…"}, {"a\nb\033c", 10, "a b c"}, {"x", 0, ""}} {
		t.Run(tc.s, func(t *testing.T) {
			if got := truncate(tc.s, tc.n); got != tc.want {
				t.Errorf("truncate(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
			}
		})
	}
}

func TestProgressStart(t *testing.T) {
	term := &fakeTerm{t: t, width: 80}
	p := newProgressSink(term, teeSink{}, 0, time.Now)
	stop := p.start(context.Background(), time.Hour)
	p.Emit(playbook.Event{Kind: playbook.EventTask, Task: "slow"})
	if _, cur := term.screen(); !strings.Contains(cur, "TASK [slow]") {
		t.Fatalf("no progress line while the task runs: %q", cur)
	}
	stop()
	if _, cur := term.screen(); cur != "" {
		t.Errorf("stop left %q on the line", cur)
	}
}

// TestProgressHold: while pause's prompt holds the terminal the live
// line is cleared and not drawn again, so the prompt and the answer stay
// readable; after release it comes back.
func TestProgressHold(t *testing.T) {
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	term := &fakeTerm{t: t, width: 80}
	p := newProgressSink(term, &textSink{out: term, errOut: term, width: 80}, 80, func() time.Time { return now })
	p.Emit(playbook.Event{Kind: playbook.EventPlay, Play: "web", Hosts: []string{"a"}})
	p.Emit(playbook.Event{Kind: playbook.EventTask, Time: now, Task: "ask", Pos: playbook.Pos{File: "site.yml", Line: 3}})
	if _, cur := term.screen(); cur == "" {
		t.Fatal("no live line before the prompt")
	}
	release := p.hold()
	if _, cur := term.screen(); cur != "" {
		t.Errorf("line under the cursor while held %q, want it cleared", cur)
	}
	term.Write([]byte("[ask]\nGo on?:"))
	p.redraw() // a tick while the operator types
	if _, cur := term.screen(); cur != "Go on?:" {
		t.Errorf("a tick drew over the prompt: %q", cur)
	}
	term.Write([]byte("yes\n"))
	release()
	p.redraw()
	if _, cur := term.screen(); !strings.Contains(cur, "TASK [ask]") {
		t.Errorf("line after release %q, want the live line", cur)
	}
}
