package inventory

import (
	"fmt"
	"strings"

	"github.com/mdo-play/mdo-play/templates/pyjson"
)

// isInternalVar reports the vars left out of ansible-inventory's output (its INTERNAL_VARS).
func isInternalVar(k string) bool {
	switch k {
	case "ansible_diff_mode", "ansible_config_file", "ansible_facts", "ansible_forks",
		"ansible_inventory_sources", "ansible_limit", "ansible_playbook_python",
		"ansible_run_tags", "ansible_skip_tags", "ansible_verbosity", "ansible_version",
		"inventory_dir", "inventory_file", "inventory_hostname", "inventory_hostname_short",
		"groups", "group_names", "omit", "playbook_dir":
		return true
	}
	return false
}

func (inv *Inventory) displayVars(h *Host) map[string]any {
	vars := inv.HostVars(h)
	for k := range vars {
		if isInternalVar(k) {
			delete(vars, k)
		}
	}
	return vars
}

// ListJSON renders the inventory as `ansible-inventory --list` does: every
// group with its hosts and children (empty keys and empty groups left out),
// all with its children, and _meta.hostvars with each host's merged vars.
// Keys are sorted, indented by four spaces, ending in a newline.
func (inv *Inventory) ListJSON() ([]byte, error) {
	out := map[string]any{}
	seen := map[*Group]bool{}
	var format func(g *Group)
	format = func(g *Group) {
		entry := map[string]any{}
		if g != inv.all && len(g.Hosts) > 0 {
			names := make([]any, len(g.Hosts))
			for i, h := range g.Hosts {
				names[i] = h.Name
			}
			entry["hosts"] = names
		}
		if len(g.Children) > 0 {
			names := make([]any, len(g.Children))
			for i, c := range g.Children {
				names[i] = c.Name
			}
			entry["children"] = names
		}
		for _, c := range g.Children {
			if !seen[c] {
				seen[c] = true
				format(c)
			}
		}
		if len(entry) > 0 {
			out[g.Name] = entry
		}
	}
	format(inv.all)
	hostvars := map[string]any{}
	for _, h := range inv.all.allHosts {
		if vars := inv.displayVars(h); len(vars) > 0 {
			hostvars[h.Name] = vars
		}
	}
	out["_meta"] = map[string]any{"hostvars": hostvars}
	return marshalPyJSON(out)
}

// HostJSON renders `ansible-inventory --host NAME`: the host's merged vars.
func (inv *Inventory) HostJSON(name string) ([]byte, error) {
	h, ok := inv.Host(name)
	if !ok {
		return nil, fmt.Errorf("host %q is not in the inventory", name)
	}
	return marshalPyJSON(inv.displayVars(h))
}

// Graph renders `ansible-inventory --graph [GROUP]` (group "" means all):
//
//	@all:
//	  |--@ungrouped:
//	  |  |--host
//
// ending in a newline.
func (inv *Inventory) Graph(group string) (string, error) {
	if group == "" {
		group = "all"
	}
	g, ok := inv.groups[group]
	if !ok {
		return "", fmt.Errorf("graph: %q is not a group name", group)
	}
	var b strings.Builder
	var walk func(g *Group, depth int)
	line := func(name string, depth int) {
		if depth > 0 {
			b.WriteString(strings.Repeat("  |", depth) + "--")
		}
		b.WriteString(name)
		b.WriteByte('\n')
	}
	walk = func(g *Group, depth int) {
		line("@"+g.Name+":", depth)
		for _, c := range g.Children {
			walk(c, depth+1)
		}
		if g != inv.all {
			for _, h := range g.Hosts {
				line(h.Name, depth+1)
			}
		}
	}
	walk(g, 0)
	return b.String(), nil
}

// marshalPyJSON encodes v as Python's json.dumps(v, sort_keys=True,
// indent=4, ensure_ascii=False) does, plus a final newline.
func marshalPyJSON(v any) ([]byte, error) {
	s, err := pyjson.Marshal(v, pyjson.Options{Indent: 4})
	if err != nil {
		return nil, err
	}
	return []byte(s + "\n"), nil
}
