package playbook

import (
	"time"

	"github.com/mdo-play/mdo-play/modules"
)

// EventKind names an event. The values are part of the JSON output schema
// (docs/json-output.md) and never change meaning.
type EventKind string

// Event kinds, in the order a run emits them.
const (
	EventPlaybook    EventKind = "playbook"      // a playbook file starts
	EventPlay        EventKind = "play"          // a play starts (or a batch of it)
	EventTask        EventKind = "task"          // a task starts on the play's hosts
	EventHandler     EventKind = "handler"       // a handler starts on the hosts that notified it
	EventHost        EventKind = "host"          // one host's result of a task
	EventItem        EventKind = "item"          // one loop item's result on one host
	EventWarning     EventKind = "warning"       // a warning for the operator
	EventError       EventKind = "error"         // the run could not start or stopped early (Msg says why); a recap follows
	EventRecap       EventKind = "recap"         // final per-host counters; always the last event
	EventNoHosts     EventKind = "no_hosts"      // a play matched no hosts
	EventNoMoreHosts EventKind = "no_more_hosts" // a failure policy (any_errors_fatal, max_fail_percentage, a failed batch) stopped the play
	EventIncluded    EventKind = "included"      // include_tasks loaded a file for some hosts (Msg: the file, Hosts)
	EventRetry       EventKind = "retry"         // an until condition failed; the task runs again (Msg says how many retries are left)
)

// Status is a host's result of a task.
type Status string

// Statuses of host and item results.
const (
	StatusOK          Status = "ok"
	StatusChanged     Status = "changed"
	StatusFailed      Status = "failed"
	StatusSkipped     Status = "skipped"
	StatusUnreachable Status = "unreachable"
)

// Event is one thing that happened during a run. Which fields are set
// depends on Kind.
type Event struct {
	Kind     EventKind
	Time     time.Time
	Playbook string // file, for EventPlaybook
	Play     string // play name
	Hosts    []string
	Pattern  string // the play's hosts pattern, for EventPlay
	Task     string // task or handler name as displayed
	Pos      Pos    // of the task or play
	Module   string
	Host     string
	Delegate string // delegate_to host, when the task ran elsewhere
	Status   Status
	Ignored  bool // a failure that ignore_errors turned into a warning
	Item     any  // loop item label, for EventItem
	HasItem  bool
	Loop     bool           // EventHost of a looped task (items were reported one by one)
	Result   map[string]any // registered-style result (no_log results are censored)
	Verbose  bool           // the module asks for its result to be shown (debug)
	Diff     []modules.Diff
	Msg      string // warnings
	Retries  int    // retries left, for EventRetry
	Duration time.Duration
	Stats    map[string]*HostStats // EventRecap
	// CustomStats is what set_stats recorded, per host or under "_run"
	// (EventRecap; nil when no task set any).
	CustomStats map[string]map[string]any
}

// HostStats are the counters of the recap line.
type HostStats struct {
	OK          int `json:"ok"`
	Changed     int `json:"changed"`
	Unreachable int `json:"unreachable"`
	Failed      int `json:"failed"`
	Skipped     int `json:"skipped"`
	Rescued     int `json:"rescued"`
	Ignored     int `json:"ignored"`
}

// Sink receives events. Emit is called from many goroutines; implementations
// serialise as they need. Events of one host for one task arrive in order.
type Sink interface {
	Emit(Event)
}
