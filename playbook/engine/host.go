package engine

import (
	"strings"
	"sync"

	"github.com/mdo-play/mdo-play/inventory"
	"github.com/mdo-play/mdo-play/playbook"
	"github.com/mdo-play/mdo-play/templates"
)

// hostState is everything the run knows about one host. Only the goroutine
// running a task on the host writes it; between tasks the engine reads it.
type hostState struct {
	host    *inventory.Host
	invVars map[string]any // inventory group and host vars, merged once
	facts   map[string]any // gathered facts (ansible_facts)
	// bareFacts are the facts (of package_facts, service_facts) that are
	// variables under their own name (packages), not as ansible_NAME.
	bareFacts map[string]bool
	setVars   map[string]any // set_fact and register results
	// failed and unreachable drop the host from the rest of the run.
	failed      bool
	unreachable bool
	notified    map[*playbook.Task]bool
	stats       playbook.HostStats
	hostvars    map[string]any // this host's entry in hostvars; rebuilt when dirty
	dirty       bool
	lastFacts   map[string]any // facts set by the last task (shared by run_once)
	ended       bool           // meta: end_host, for the current play
	invGen      int            // the inventory generation invVars reflects
}

func (h *hostState) name() string { return h.host.Name }

// addFactVars adds the variables the host's facts define to m:
// ansible_facts, and each fact as ansible_NAME (setup's) or under its own
// name (package_facts' packages), as Ansible injects them.
func (h *hostState) addFactVars(m map[string]any) {
	if len(h.facts) == 0 {
		return
	}
	m["ansible_facts"] = h.facts
	for k, v := range h.facts {
		if h.bareFacts[k] {
			m[k] = v
		} else {
			m["ansible_"+k] = v
		}
	}
}

// hostvarsEntry returns what other hosts see as hostvars[h].
func (h *hostState) hostvarsEntry() map[string]any {
	if h.hostvars != nil && !h.dirty {
		return h.hostvars
	}
	m := make(map[string]any, len(h.invVars)+len(h.facts)+len(h.setVars)+2)
	for k, v := range h.invVars {
		m[k] = v
	}
	h.addFactVars(m)
	for k, v := range h.setVars {
		m[k] = v
	}
	m["inventory_hostname"] = h.host.Name
	h.hostvars = m
	h.dirty = false
	return m
}

// varLayer is one source of variables, lowest precedence first.
type varLayer struct {
	vars map[string]any
	// templated: values may hold templates to be resolved lazily (variable
	// definitions); registered results and facts are never re-rendered.
	templated bool
}

// varRefs caches the variable names each template string refers to
// (templates.Engine.Refs, which parses the string).
type varRefs struct{ m sync.Map }

func (r *varRefs) of(eng *templates.Engine, s string) []string {
	if v, ok := r.m.Load(s); ok {
		return v.([]string)
	}
	out := eng.Refs(s)
	r.m.Store(s, out)
	return out
}

// templateStrings appends the template strings inside v (keys included).
func templateStrings(v any, out []string) []string {
	switch x := v.(type) {
	case string:
		if strings.Contains(x, "{{") {
			out = append(out, x)
		}
	case []any:
		for _, e := range x {
			out = templateStrings(e, out)
		}
	case map[string]any:
		for k, e := range x {
			out = templateStrings(k, out)
			out = templateStrings(e, out)
		}
	}
	return out
}

func without(hs []*hostState, drop func(*hostState) bool) []*hostState {
	return filter(hs, func(h *hostState) bool { return !drop(h) })
}

func filter(hs []*hostState, keep func(*hostState) bool) []*hostState {
	out := make([]*hostState, 0, len(hs))
	for _, h := range hs {
		if keep(h) {
			out = append(out, h)
		}
	}
	return out
}

func toSet(hs []*hostState) map[*hostState]bool {
	m := make(map[*hostState]bool, len(hs))
	for _, h := range hs {
		m[h] = true
	}
	return m
}

func unique(hs []*hostState) []*hostState {
	seen := map[*hostState]bool{}
	var out []*hostState
	for _, h := range hs {
		if !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	return out
}
