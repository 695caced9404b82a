package main

import (
	"encoding/json"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/mdo-play/mdo-play/playbook"
)

// jsonSink prints one JSON object per event (JSON lines). The schema is
// documented in docs/json-output.md; field names never change meaning.
type jsonSink struct {
	mu      sync.Mutex
	enc     *json.Encoder
	changed changedTasks

	// slice and sliceCount (K and N of --slice) go on every event of a
	// sliced run, so that mdo-play merge can tell the slices apart.
	slice, sliceCount int
	inventory         string // inventoryDigest, on the recap of a sliced run
	// holdRecap keeps the recap back until finish adds the exit code.
	holdRecap bool
	recap     *jsonEvent
}

var _ playbook.Sink = (*jsonSink)(nil)

func newJSONSink(w io.Writer) *jsonSink {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return &jsonSink{enc: enc, changed: changedTasks{}}
}

type jsonDiff struct {
	BeforeHeader string `json:"before_header,omitempty"`
	AfterHeader  string `json:"after_header,omitempty"`
	Before       string `json:"before"`
	After        string `json:"after"`
}

type jsonEvent struct {
	Event      string                          `json:"event"`
	Time       string                          `json:"time"`
	Playbook   string                          `json:"playbook,omitempty"`
	Play       string                          `json:"play,omitempty"`
	Hosts      []string                        `json:"hosts,omitempty"`
	Task       string                          `json:"task,omitempty"`
	Module     string                          `json:"module,omitempty"`
	File       string                          `json:"file,omitempty"`
	Line       int                             `json:"line,omitempty"`
	Host       string                          `json:"host,omitempty"`
	Delegate   string                          `json:"delegate,omitempty"`
	Status     string                          `json:"status,omitempty"`
	Ignored    bool                            `json:"ignored,omitempty"`
	Item       any                             `json:"item,omitempty"`
	Result     map[string]any                  `json:"result,omitempty"`
	Diff       []jsonDiff                      `json:"diff,omitempty"`
	Msg        string                          `json:"msg,omitempty"`
	Retries    int                             `json:"retries_left,omitempty"`
	DurationMS *float64                        `json:"duration_ms,omitempty"`
	Stats      *map[string]*playbook.HostStats `json:"stats,omitempty"`
	// On the recap: per host, the names of the tasks and handlers that
	// changed (with --check: would change), in the order they ran; and the
	// hosts with at least one change, sorted.
	ChangedTasks map[string][]string `json:"changed_tasks,omitempty"`
	ChangedHosts *[]string           `json:"changed_hosts,omitempty"`
	Pattern      string              `json:"pattern,omitempty"`
	Loop         bool                `json:"loop,omitempty"`
	Verbose      bool                `json:"verbose,omitempty"`
	Slice        int                 `json:"slice,omitempty"`
	SliceCount   int                 `json:"slice_count,omitempty"`
	ExitCode     *int                `json:"exit_code,omitempty"`
	Inventory    string              `json:"inventory_digest,omitempty"`
	// On the recap: what set_stats recorded, per host or under "_run".
	CustomStats map[string]map[string]any `json:"custom_stats,omitempty"`
}

func (s *jsonSink) Emit(e playbook.Event) {
	je := jsonEvent{
		Event:    string(e.Kind),
		Time:     e.Time.UTC().Format(time.RFC3339Nano),
		Playbook: e.Playbook,
		Play:     e.Play,
		Hosts:    e.Hosts,
		Task:     e.Task,
		Module:   e.Module,
		File:     e.Pos.File,
		Line:     e.Pos.Line,
		Host:     e.Host,
		Delegate: e.Delegate,
		Status:   string(e.Status),
		Ignored:  e.Ignored,
		Result:   e.Result,
		Msg:      e.Msg,
		Retries:  e.Retries,
		Pattern:  e.Pattern,
		Loop:     e.Loop,
		Verbose:  e.Verbose,
	}
	if e.HasItem {
		je.Item = e.Item
	}
	if e.Kind == playbook.EventHost || e.Kind == playbook.EventItem {
		ms := float64(e.Duration.Microseconds()) / 1000
		je.DurationMS = &ms
	}
	for _, d := range e.Diff {
		je.Diff = append(je.Diff, jsonDiff(d))
	}
	if e.Kind == playbook.EventRecap {
		stats := e.Stats
		if stats == nil {
			stats = map[string]*playbook.HostStats{}
		}
		je.Stats = &stats // always present on the recap, {} when no host ran
		je.CustomStats = e.CustomStats
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.changed.observe(e)
	if e.Kind == playbook.EventRecap {
		hosts := changedHosts(e.Stats)
		je.ChangedHosts = &hosts // always present on the recap, [] when nothing changed
		je.ChangedTasks = s.changed
		je.Inventory = s.inventory
	}
	je.Slice, je.SliceCount = s.slice, s.sliceCount
	if e.Kind == playbook.EventRecap && s.holdRecap {
		s.recap = &je
		return
	}
	_ = s.enc.Encode(je)
}

// finish ends a stream whose recap was held back: an error event when err
// is one the output does not show yet, then the recap with the exit code
// err stands for (an empty recap if the run ended without one). It returns
// err marked as already in the stream.
func (s *jsonSink) finish(err error) error {
	code := exitOK
	if err != nil {
		code = exitCodeOf(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	recap := s.recap
	s.recap = nil
	now := time.Now().UTC().Format(time.RFC3339Nano)
	if err != nil && !errors.Is(err, errSilent) {
		_ = s.enc.Encode(jsonEvent{Event: string(playbook.EventError), Time: now, Msg: err.Error(), Slice: s.slice, SliceCount: s.sliceCount})
		err = &inStreamError{err}
	}
	if recap == nil {
		empty, none := map[string]*playbook.HostStats{}, []string{}
		recap = &jsonEvent{Event: string(playbook.EventRecap), Time: now, Stats: &empty, ChangedHosts: &none, Slice: s.slice, SliceCount: s.sliceCount}
	}
	recap.ExitCode = &code
	_ = s.enc.Encode(recap)
	return err
}

// inStreamError is an error that the JSON stream already ends with.
type inStreamError struct{ error }

func (e *inStreamError) Unwrap() error { return e.error }
