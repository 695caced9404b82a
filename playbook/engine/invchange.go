package engine

import (
	"fmt"

	"github.com/mdo-play/mdo-play/inventory"
	"github.com/mdo-play/mdo-play/playbook"
)

// The inventory changes while a run goes on (add_host, group_by): the
// engine reads it only through these methods, under invMu, and counts
// the changes in invGen so that plays and tasks rebuild what they derived
// from it (groups, a host's inventory variables).

func (st *state) invHost(name string) (*inventory.Host, bool) {
	st.invMu.RLock()
	defer st.invMu.RUnlock()
	return st.Inventory.Host(name)
}

func (st *state) invHostVars(h *inventory.Host) map[string]any {
	st.invMu.RLock()
	defer st.invMu.RUnlock()
	return st.Inventory.HostVars(h)
}

func (st *state) invGroupNames(h *inventory.Host) []string {
	st.invMu.RLock()
	defer st.invMu.RUnlock()
	return st.Inventory.GroupNames(h)
}

// groupsVar returns the groups magic variable and the inventory
// generation it reflects.
func (st *state) groupsVar() (map[string]any, int) {
	st.invMu.RLock()
	defer st.invMu.RUnlock()
	groups := st.Inventory.Groups()
	out := make(map[string]any, len(groups))
	for g, hs := range groups {
		l := make([]any, len(hs))
		for i, n := range hs {
			l[i] = n
		}
		out[g] = l
	}
	return out, st.invGen
}

// refreshGroups rebuilds the play's groups variable after an inventory
// change; it runs between tasks, never concurrently with them.
func (st *state) refreshGroups(pc *playCtx) {
	st.invMu.RLock()
	gen := st.invGen
	st.invMu.RUnlock()
	if gen != pc.invGen {
		pc.groups, pc.invGen = st.groupsVar()
	}
}

// applyActions applies what the results of add_host, group_by and
// set_stats ask of the run (Ansible's strategy does it when it reads the
// result): inventory changes, with changed set as Ansible sets it, and
// custom stats. It runs on h's goroutine before the result is recorded.
func (st *state) applyActions(h *hostState, t *playbook.Task, out *outcome) {
	if out.status != playbook.StatusOK && out.status != playbook.StatusChanged {
		return
	}
	switch t.Module {
	case "add_host", "group_by", "set_stats":
	default:
		return
	}
	results := []map[string]any{out.result}
	if out.loop {
		results = nil
		l, _ := out.result["results"].([]any)
		for _, r := range l {
			if m, ok := r.(map[string]any); ok {
				results = append(results, m)
			}
		}
	}
	anyChanged := false
	for _, r := range results {
		changed, err := st.applyAction(h, r)
		if err != nil {
			out.status = playbook.StatusFailed
			out.result["failed"] = true
			out.result["msg"] = err.Error()
			return
		}
		if changed {
			r["changed"] = true
			anyChanged = true
		}
	}
	if anyChanged {
		out.result["changed"] = true
		out.status = playbook.StatusChanged
	}
}

func (st *state) applyAction(h *hostState, r map[string]any) (bool, error) {
	if s, ok := r["ansible_stats"].(map[string]any); ok {
		st.setStats(h.name(), s)
		return false, nil
	}
	if ah, ok := r["add_host"].(map[string]any); ok {
		name := fmt.Sprint(ah["host_name"])
		var groups []string
		if l, ok := ah["groups"].([]any); ok {
			for _, g := range l {
				groups = append(groups, fmt.Sprint(g))
			}
		}
		vars, _ := ah["host_vars"].(map[string]any)
		st.invMu.Lock()
		changed := st.Inventory.AddHost(name, groups, vars)
		st.invGen++
		st.invMu.Unlock()
		return changed, nil
	}
	if g, ok := r["add_group"].(string); ok {
		var parents []string
		if l, ok := r["parent_groups"].([]any); ok {
			for _, p := range l {
				parents = append(parents, fmt.Sprint(p))
			}
		}
		st.invMu.Lock()
		defer st.invMu.Unlock()
		changed, err := st.Inventory.AddToGroup(h.name(), g, parents)
		if err != nil {
			return false, err
		}
		st.invGen++
		if ih, ok := st.Inventory.Host(h.name()); ok {
			// The host's own state: its new group's variables apply from
			// the next task on, as in Ansible.
			h.host = ih
			h.invVars = st.Inventory.HostVars(ih)
			h.invGen = st.invGen
			h.dirty = true
		}
		return changed, nil
	}
	return false, nil
}

// setStats records set_stats data as Ansible's AggregateStats does: per
// host or for the run ("_run"), added to what is there (aggregate:
// mappings merged, numbers added, lists and strings concatenated) or
// replacing it.
func (st *state) setStats(host string, s map[string]any) {
	data, _ := s["data"].(map[string]any)
	perHost, _ := s["per_host"].(bool)
	aggregate, _ := s["aggregate"].(bool)
	key := "_run"
	if perHost {
		key = host
	}
	st.statsMu.Lock()
	defer st.statsMu.Unlock()
	if st.custom == nil {
		st.custom = map[string]map[string]any{}
	}
	m := st.custom[key]
	if m == nil {
		m = map[string]any{}
		st.custom[key] = m
	}
	for k, v := range data {
		old, ok := m[k]
		if !aggregate || !ok {
			m[k] = v
			continue
		}
		switch o := old.(type) {
		case map[string]any:
			if n, ok := v.(map[string]any); ok {
				merged := make(map[string]any, len(o)+len(n))
				for a, b := range o {
					merged[a] = b
				}
				for a, b := range n {
					merged[a] = b
				}
				m[k] = merged
			}
		case []any:
			if n, ok := v.([]any); ok {
				m[k] = append(append([]any{}, o...), n...)
			}
		case int:
			switch n := v.(type) {
			case int:
				m[k] = o + n
			case float64:
				m[k] = float64(o) + n
			}
		case float64:
			switch n := v.(type) {
			case int:
				m[k] = o + float64(n)
			case float64:
				m[k] = o + n
			}
		case string:
			if n, ok := v.(string); ok {
				m[k] = o + n
			}
		}
	}
}
