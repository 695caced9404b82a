// Package engine runs loaded playbooks on hosts: plays and their serial
// batches, the linear and free strategies, forks, handlers, per-host state,
// variable precedence, and the events that report each result.
//
// A task goes through three steps on each host: resolve (every keyword
// rendered and checked once, into a plain struct), execute (the module
// call, its loop, retries and conditions), and record (the host's state,
// counters and the result event).
package engine

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"time"

	"github.com/mdo-play/mdo-play/inventory"
	"github.com/mdo-play/mdo-play/modules"
	"github.com/mdo-play/mdo-play/modules/conn"
	"github.com/mdo-play/mdo-play/playbook"
	"github.com/mdo-play/mdo-play/templates"
)

// Options are the run-wide settings that come from the command line.
type Options struct {
	Forks         int // hosts run at once; default 20
	Check         bool
	Diff          bool
	Tags          []string
	SkipTags      []string
	ExtraVars     map[string]any
	Limit         string // host pattern applied to every play
	StartAtTask   string
	ForceHandlers bool
	Verbosity     int
	Connection    string // default connection type (-c); "ssh" when empty
	RemoteUser    string // default remote user (-u)
	Become        bool   // -b
	BecomeUser    string // --become-user
	BecomeMethod  string
	// SliceK and SliceN select the K-th (1-based) of N deterministic slices
	// of the inventory's hosts (--slice K/N); SliceN 0 means no slicing.
	SliceK, SliceN int
}

// ConnectSpec says how to reach one host, as computed from its variables
// and the play's and task's keywords.
type ConnectSpec struct {
	Host       string         // inventory hostname
	Connection string         // "ssh" or "local"
	User       string         // remote user, "" for the transport's default
	Vars       map[string]any // the host's variables (ansible_host, ansible_port, ...)
}

// BecomeSpec says whom to become.
type BecomeSpec struct {
	Method   string // sudo, su, doas
	User     string
	Password string
	Flags    string
}

// Connector opens connections. The command line provides the implementation
// that knows about SSH settings; the engine keeps one connection per host
// (and per connection settings) for the whole run.
type Connector interface {
	Connect(ctx context.Context, spec ConnectSpec) (conn.Conn, error)
	Become(c conn.Conn, spec BecomeSpec) (conn.Conn, error)
}

// Prompter asks the operator a question (pause's prompt): text is the
// whole prompt, echo whether the answer is shown as typed. The command
// line provides one when stdin and stdout are a terminal.
type Prompter interface {
	Prompt(ctx context.Context, text string, echo bool) (string, error)
}

// Runner runs playbooks.
type Runner struct {
	Inventory *inventory.Inventory
	Registry  *modules.Registry
	Templates *templates.Engine
	Connector Connector
	Sink      playbook.Sink
	Options   Options
	// ReadFile reads vars_files; nil means os.ReadFile.
	ReadFile func(string) ([]byte, error)
	// Loader parses files included at run time (include_tasks).
	Loader *playbook.Loader
	// Prompter answers pause's prompts; nil: nobody can (no terminal).
	Prompter Prompter
}

// ErrNoHostsLeft is returned (wrapped) when --limit leaves no host at all.
var ErrNoHostsLeft = errors.New("no hosts matched the limit")

// run is the state of one Run call.
type state struct {
	*Runner
	hosts   map[string]*hostState // by inventory name, across plays
	order   []string              // hosts in first-seen order, for the recap
	sem     chan struct{}         // forks
	connsMu sync.Mutex
	conns   map[string]*connEntry
	omit    string
	refs    varRefs         // variable names each template refers to
	stopped bool            // a failure policy ended the run
	slice   map[string]bool // hosts of this runner's slice (--slice), nil for all

	includeMu sync.Mutex
	includes  map[string]includeEntry // include_tasks files, parsed once

	// invMu guards the inventory, which add_host and group_by change;
	// invGen counts the changes.
	// pending holds the facts delegate_facts gave hosts until each takes
	// them (takeFacts).
	pendMu  sync.Mutex
	pending map[string][]pendingFacts

	invMu  sync.RWMutex
	invGen int

	statsMu sync.Mutex
	custom  map[string]map[string]any // set_stats: per host, or "_run"
}

type connEntry struct {
	once sync.Once
	c    conn.Conn
	err  error
}

// Run runs the playbooks in order and returns the recap counters. The
// returned error is set only for errors that stop the whole run (bad
// vars files, --limit leaving nothing, cancellation); host failures are
// in the counters.
func (r *Runner) Run(ctx context.Context, pbs []*playbook.Playbook) (map[string]*playbook.HostStats, error) {
	forks := r.Options.Forks
	if forks <= 0 {
		forks = 20
	}
	st := &state{
		Runner:   r,
		hosts:    map[string]*hostState{},
		sem:      make(chan struct{}, forks),
		conns:    map[string]*connEntry{},
		omit:     "__omit_place_holder__",
		includes: map[string]includeEntry{},
	}
	defer st.closeConns()
	if n := r.Options.SliceN; n > 0 {
		st.slice = SliceHosts(r.Inventory.Hosts(), r.Options.SliceK, n)
	}
	var runErr error
	for _, pb := range pbs {
		r.Sink.Emit(playbook.Event{Kind: playbook.EventPlaybook, Time: time.Now(), Playbook: pb.Path})
		for _, play := range pb.Plays {
			if st.stopped {
				break
			}
			if err := st.play(ctx, pb, play); err != nil {
				runErr = err
				break
			}
		}
		if runErr != nil {
			break
		}
	}
	stats := st.stats()
	r.Sink.Emit(playbook.Event{Kind: playbook.EventRecap, Time: time.Now(), Stats: stats, CustomStats: st.customStats()})
	return stats, runErr
}

// customStats returns what set_stats recorded (nil when nothing).
func (st *state) customStats() map[string]map[string]any {
	st.statsMu.Lock()
	defer st.statsMu.Unlock()
	return st.custom
}

func (st *state) stats() map[string]*playbook.HostStats {
	out := make(map[string]*playbook.HostStats, len(st.hosts))
	for name, h := range st.hosts {
		s := h.stats
		if s == (playbook.HostStats{}) {
			continue // never ran a task, as Ansible leaves it out of the recap
		}
		out[name] = &s
	}
	return out
}

func (st *state) closeConns() {
	st.connsMu.Lock()
	defer st.connsMu.Unlock()
	for _, e := range st.conns {
		if e.err == nil && e.c != nil {
			e.c.Close()
		}
	}
}

// connect returns the cached connection for spec, opening it on first use.
func (st *state) connect(ctx context.Context, spec ConnectSpec) (conn.Conn, error) {
	return st.cachedConn(spec.Host+"\x00"+spec.Connection+"\x00"+spec.User, func() (conn.Conn, error) {
		return st.Connector.Connect(ctx, spec)
	})
}

// cachedConn returns the run's connection under key, opened by open on
// first use (once, however many hosts ask at the same time); every cached
// connection is closed at the end of the run.
func (st *state) cachedConn(key string, open func() (conn.Conn, error)) (conn.Conn, error) {
	st.connsMu.Lock()
	e, ok := st.conns[key]
	if !ok {
		e = &connEntry{}
		st.conns[key] = e
	}
	st.connsMu.Unlock()
	e.once.Do(func() { e.c, e.err = open() })
	return e.c, e.err
}

// selectHosts returns the play's hosts after --limit, skipping hosts that
// failed or were unreachable in earlier plays.
func (st *state) selectHosts(play *playbook.Play, vars map[string]any) ([]*inventory.Host, error) {
	pattern := play.Hosts
	if templates.IsTemplate(pattern) {
		s, err := st.Templates.RenderString("", pattern, vars)
		if err != nil {
			return nil, &playbook.Error{Pos: play.Pos, Msg: fmt.Sprintf("play %s: hosts: %v", playbook.QuoteName(play.Name), err)}
		}
		pattern = s
	}
	st.invMu.RLock()
	defer st.invMu.RUnlock()
	hosts, warns, err := st.Inventory.Select(pattern)
	if err != nil {
		return nil, &playbook.Error{Pos: play.Pos, Msg: fmt.Sprintf("play %s: %v", playbook.QuoteName(play.Name), err)}
	}
	for _, w := range warns {
		st.warn(w)
	}
	if st.Options.Limit != "" {
		limited, warns, err := st.Inventory.Limit(hosts, inventory.SplitPattern(st.Options.Limit))
		if err != nil {
			return nil, fmt.Errorf("--limit: %w", err)
		}
		for _, w := range warns {
			st.warn(w)
		}
		hosts = limited
	}
	var out []*inventory.Host
	for _, h := range hosts {
		if hs, ok := st.hosts[h.Name]; ok && (hs.failed || hs.unreachable) {
			continue
		}
		if st.slice != nil && !h.Implicit() && !st.slice[h.Name] {
			continue
		}
		out = append(out, h)
	}
	return out, nil
}

func (st *state) warn(msg string) {
	st.Sink.Emit(playbook.Event{Kind: playbook.EventWarning, Time: time.Now(), Msg: msg})
}

// sortHosts applies the play's order keyword.
func sortHosts(hosts []*inventory.Host, order string) []*inventory.Host {
	out := append([]*inventory.Host(nil), hosts...)
	switch order {
	case "reverse_inventory":
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	case "sorted":
		sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	case "reverse_sorted":
		sort.SliceStable(out, func(i, j int) bool { return out[i].Name > out[j].Name })
	case "shuffle":
		rand.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	}
	return out
}

// SliceHosts returns the hosts of slice k (1-based) of n: the hosts whose
// position in inventory order is k-1 modulo n. Every host is in exactly one
// slice, slices differ in size by at most one, and the split depends only on
// the inventory, so N runners with the same inventory cover every host once.
func SliceHosts(hosts []*inventory.Host, k, n int) map[string]bool {
	out := make(map[string]bool, len(hosts)/max(n, 1)+1)
	for i, h := range hosts {
		if i%n == k-1 {
			out[h.Name] = true
		}
	}
	return out
}
