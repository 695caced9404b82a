package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/mdo-play/mdo-play/playbook"
)

// progressSink decorates the text sink on a terminal: while a task runs, the
// last line of the terminal is a live status line (hosts done/total,
// failures so far, elapsed time) that is cleared before the text sink
// prints anything and drawn again after it. The line is redrawn with \r and
// erased with ESC[K, so it never scrolls and the normal lines replace it.
//
// Use it only when out is a terminal; without one the decorated sink alone
// is the output. Warnings go to the inner sink's error stream, usually the
// same terminal; the line is cleared before those too.
type progressSink struct {
	mu    sync.Mutex
	inner playbook.Sink
	out   io.Writer
	width int
	now   func() time.Time

	active   map[string]bool // hosts of the current play batch still running
	task     string          // running task ("" between tasks)
	handler  bool
	taskPos  playbook.Pos
	started  time.Time
	done     map[string]bool // hosts with a result for the running task
	total    int
	failures int // failed or unreachable host results of the run (not ignored)
	shown    bool
	held     bool // a prompt owns the terminal: the line is not drawn
}

// hold clears the line and keeps it off the terminal until release is
// called: pause's prompt owns the terminal meanwhile.
func (p *progressSink) hold() (release func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
	p.held = true
	return func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.held = false
	}
}

var _ playbook.Sink = (*progressSink)(nil)

// newProgressSink returns a progress line on out (a terminal width columns
// wide; 0 means 80) around inner. now is the clock (time.Now outside
// tests).
func newProgressSink(out io.Writer, inner playbook.Sink, width int, now func() time.Time) *progressSink {
	if width <= 0 {
		width = 80
	}
	return &progressSink{inner: inner, out: out, width: width, now: now, active: map[string]bool{}, done: map[string]bool{}}
}

// Emit clears the line, passes the event on, updates the counters and draws
// the line again.
func (p *progressSink) Emit(e playbook.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
	p.inner.Emit(e)
	switch e.Kind {
	case playbook.EventPlay:
		p.active = make(map[string]bool, len(e.Hosts))
		for _, h := range e.Hosts {
			p.active[h] = true
		}
		p.task = ""
	case playbook.EventTask, playbook.EventHandler:
		p.task, p.taskPos, p.handler = e.Task, e.Pos, e.Kind == playbook.EventHandler
		p.started = p.now()
		p.done = map[string]bool{}
		p.total = len(p.active)
		if len(e.Hosts) > 0 {
			p.total = len(e.Hosts)
		}
	case playbook.EventHost:
		if e.Pos == p.taskPos {
			p.done[e.Host] = true
		}
		if (e.Status == playbook.StatusFailed || e.Status == playbook.StatusUnreachable) && !e.Ignored {
			p.failures++
			delete(p.active, e.Host)
		}
		if p.task != "" && len(p.done) > p.total {
			p.total = len(p.done) // a handler or include on hosts we did not count
		}
	case playbook.EventNoHosts, playbook.EventNoMoreHosts, playbook.EventRecap, playbook.EventPlaybook:
		p.task = ""
	}
	p.draw()
}

// run redraws the line on every tick (so the elapsed time moves while hosts
// are slow) until ctx is done, then clears it. Start it in a goroutine and
// wait for it before the process writes its last words.
func (p *progressSink) run(ctx context.Context, tick <-chan time.Time) {
	for {
		select {
		case <-ctx.Done():
			p.stop()
			return
		case <-tick:
			p.redraw()
		}
	}
}

// start runs the redraw loop every interval in its own goroutine; the
// returned function stops it, waits for it and leaves the line cleared.
func (p *progressSink) start(ctx context.Context, interval time.Duration) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	t := time.NewTicker(interval)
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.run(ctx, t.C)
	}()
	return func() {
		cancel()
		<-done
		t.Stop()
	}
}

// redraw draws the line again with the current elapsed time.
func (p *progressSink) redraw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
	p.draw()
}

// stop clears the line and draws it no more.
func (p *progressSink) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
	p.task = ""
}

func (p *progressSink) clear() {
	if p.shown {
		io.WriteString(p.out, "\r\033[K")
		p.shown = false
	}
}

func (p *progressSink) draw() {
	if p.task == "" || p.held {
		return
	}
	io.WriteString(p.out, p.line())
	p.shown = true
}

// line is the status line, cut to fit in one terminal row so that \r always
// returns to its start.
func (p *progressSink) line() string {
	elapsed := p.now().Sub(p.started)
	if elapsed < 0 {
		elapsed = 0
	}
	kind := "TASK"
	if p.handler {
		kind = "HANDLER"
	}
	s := fmt.Sprintf("[%d/%d hosts, %d failed, %s] %s [%s]", len(p.done), p.total, p.failures, clock(elapsed), kind, p.task)
	return truncate(s, p.width-1)
}

// clock formats d as m:ss, or h:mm:ss from an hour on.
func clock(d time.Duration) string {
	s := int(d / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// truncate cuts s to at most n runes, marking the cut with "…".
func truncate(s string, n int) string {
	if n < 1 {
		return ""
	}
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' || r == '\033' {
			return ' '
		}
		return r
	}, s)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
