package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mdo-play/mdo-play/playbook"
)

// profileTop is how many tasks and hosts --profile lists.
const profileTop = 20

// profileSink is --profile: it times every task and host from the events
// and, at the end, prints the slowest tasks and each host's total time
// (like Ansible's profile_tasks callback). It keeps one entry per task and
// per host, never one per task × host.
type profileSink struct {
	mu    sync.Mutex
	tasks map[profileKey]*taskProfile
	byPos map[playbook.Pos]*taskProfile // the last banner at each position
	order []*taskProfile
	hosts map[string]*hostProfile
}

var _ playbook.Sink = (*profileSink)(nil)

type profileKey struct {
	pos     playbook.Pos
	name    string
	handler bool
}

type taskProfile struct {
	name    string
	pos     playbook.Pos
	handler bool
	seq     int
	start   time.Time // first banner
	end     time.Time // last host result
	total   time.Duration
	max     time.Duration
	maxHost string
	hosts   int
}

// wall is the time from the task's banner to its last host result, or the
// longest host when no banner was seen.
func (t *taskProfile) wall() time.Duration {
	if t.start.IsZero() || t.end.Before(t.start) {
		return t.max
	}
	return t.end.Sub(t.start)
}

type hostProfile struct {
	name  string
	total time.Duration
	tasks int
}

func newProfileSink() *profileSink {
	return &profileSink{tasks: map[profileKey]*taskProfile{}, byPos: map[playbook.Pos]*taskProfile{}, hosts: map[string]*hostProfile{}}
}

func (p *profileSink) task(k profileKey) *taskProfile {
	t := p.tasks[k]
	if t == nil {
		t = &taskProfile{name: k.name, pos: k.pos, handler: k.handler, seq: len(p.order)}
		p.tasks[k] = t
		p.order = append(p.order, t)
	}
	return t
}

func (p *profileSink) Emit(e playbook.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch e.Kind {
	case playbook.EventTask, playbook.EventHandler:
		t := p.task(profileKey{e.Pos, e.Task, e.Kind == playbook.EventHandler})
		if t.start.IsZero() {
			t.start = e.Time
		}
		p.byPos[e.Pos] = t
	case playbook.EventHost:
		// Host events carry the task's name as written; the banner may
		// have rendered it, so a host result joins its banner by position.
		t := p.byPos[e.Pos]
		if t == nil {
			t = p.task(profileKey{pos: e.Pos, name: e.Task})
		}
		d := e.Duration
		t.total += d
		t.hosts++
		if d > t.max || t.maxHost == "" {
			t.max, t.maxHost = d, e.Host
		}
		if e.Time.After(t.end) {
			t.end = e.Time
		}
		h := p.hosts[e.Host]
		if h == nil {
			h = &hostProfile{name: e.Host}
			p.hosts[e.Host] = h
		}
		h.total += d
		h.tasks++
	}
}

// write prints the profile: the slowest tasks by wall time (banner to last
// host result), with their total and longest time over hosts, then the
// hosts by total time.
func (p *profileSink) write(w io.Writer) {
	p.mu.Lock()
	defer p.mu.Unlock()
	tasks := append([]*taskProfile(nil), p.order...)
	sort.SliceStable(tasks, func(i, j int) bool { return tasks[i].wall() > tasks[j].wall() })
	profileBanner(w, "PROFILE: SLOWEST TASKS")
	if len(tasks) == 0 {
		fmt.Fprintln(w, "no task ran")
	} else {
		fmt.Fprintf(w, "%9s %9s %9s %6s  %s\n", "wall", "total", "max", "hosts", "task")
	}
	for i, t := range tasks {
		if i == profileTop {
			fmt.Fprintf(w, "... and %d faster tasks\n", len(tasks)-profileTop)
			break
		}
		name := t.name
		if t.handler {
			name = "HANDLER " + name
		}
		if t.pos.File != "" {
			name += fmt.Sprintf(" (%s:%d)", t.pos.File, t.pos.Line)
		}
		if t.hosts > 1 {
			name += ", slowest on " + t.maxHost
		}
		fmt.Fprintf(w, "%9s %9s %9s %6d  %s\n", seconds(t.wall()), seconds(t.total), seconds(t.max), t.hosts, name)
	}

	hosts := make([]*hostProfile, 0, len(p.hosts))
	for _, h := range p.hosts {
		hosts = append(hosts, h)
	}
	sort.Slice(hosts, func(i, j int) bool {
		if hosts[i].total != hosts[j].total {
			return hosts[i].total > hosts[j].total
		}
		return hosts[i].name < hosts[j].name
	})
	profileBanner(w, "PROFILE: TIME PER HOST")
	width := 4
	for _, h := range hosts {
		width = max(width, len(h.name))
	}
	for i, h := range hosts {
		if i == profileTop {
			fmt.Fprintf(w, "... and %d faster hosts\n", len(hosts)-profileTop)
			break
		}
		unit := "tasks"
		if h.tasks == 1 {
			unit = "task"
		}
		fmt.Fprintf(w, "%-*s %9s  %d %s\n", width, h.name, seconds(h.total), h.tasks, unit)
	}
	fmt.Fprintln(w)
}

func profileBanner(w io.Writer, title string) {
	fmt.Fprintf(w, "\n%s %s\n", title, strings.Repeat("*", max(3, 80-len(title)-1)))
}

// seconds formats d as seconds with two decimals ("12.34s").
func seconds(d time.Duration) string {
	return fmt.Sprintf("%.2fs", d.Seconds())
}
