package engine

import (
	"strconv"
	"strings"

	"github.com/mdo-play/mdo-play/playbook"
)

// taskVars merges the variables a task sees on a host, in Ansible's
// precedence order (lowest first).
func (st *state) taskVars(pc *playCtx, h *hostState, sc *scope, t *playbook.Task) varSet {
	layers := make([]varLayer, 0, 12)
	roleDefaults, roleVars := roleLayers(sc, t)
	for _, d := range roleDefaults {
		layers = append(layers, varLayer{d, true})
	}
	layers = append(layers, varLayer{h.invVars, true})
	if len(h.facts) > 0 {
		layers = append(layers, varLayer{st.factVars(h), false})
	}
	layers = append(layers, varLayer{pc.playVars, true}, varLayer{pc.filesVars, true})
	for _, v := range roleVars {
		layers = append(layers, varLayer{v, true})
	}
	for _, b := range sc.blocks() {
		if len(b.Vars) > 0 {
			layers = append(layers, varLayer{varsMap(b.Vars), true})
		}
	}
	if t != nil && len(t.Vars) > 0 {
		layers = append(layers, varLayer{varsMap(t.Vars), true})
	}
	layers = append(layers, varLayer{h.setVars, false}, varLayer{st.Options.ExtraVars, true}, varLayer{st.magic(pc, h, sc, t), false})
	return st.merge(layers)
}

func (st *state) factVars(h *hostState) map[string]any {
	m := make(map[string]any, len(h.facts)+1)
	h.addFactVars(m)
	return m
}

func varsMap(vs []playbook.Var) map[string]any {
	m := make(map[string]any, len(vs))
	for _, v := range vs {
		m[v.Name] = v.Value
	}
	return m
}

// magic returns the variables Ansible defines for every host.
func (st *state) magic(pc *playCtx, h *hostState, sc *scope, t *playbook.Task) map[string]any {
	name := h.name()
	short := name
	if i := strings.IndexByte(short, '.'); i > 0 {
		short = short[:i]
	}
	groupNames := st.invGroupNames(h.host)
	gn := make([]any, len(groupNames))
	for i, g := range groupNames {
		gn[i] = g
	}
	m := map[string]any{
		"inventory_hostname":       name,
		"inventory_hostname_short": short,
		"group_names":              gn,
		"groups":                   pc.groups,
		"hostvars":                 pc.hostvars,
		"play_hosts":               pc.playHosts,
		"ansible_play_hosts":       pc.playHosts,
		"ansible_play_hosts_all":   pc.allHosts,
		"ansible_play_batch":       pc.playHosts,
		"ansible_play_name":        pc.play.Name,
		"ansible_check_mode":       st.Options.Check,
		"ansible_diff_mode":        st.Options.Diff,
		"ansible_verbosity":        st.Options.Verbosity,
		"playbook_dir":             pc.pb.Dir,
		"omit":                     st.omit,
		"ansible_managed":          "Ansible managed",
		"ansible_version":          ansibleVersion(),
	}
	if t != nil {
		dirs := st.files(pc, sc, t).dirs
		search := make([]any, len(dirs))
		for i, d := range dirs {
			search[i] = d
		}
		m["ansible_search_path"] = search
	}
	if r := innermostRole(sc, t); r != nil {
		m["role_name"] = r.Name
		m["role_path"] = r.Dir
	}
	return m
}

// compatVersion is the ansible-core release whose behaviour mdo-play
// follows (and compares its output with); roles that test
// ansible_version see it.
const compatVersion = "2.14.18"

// ansibleVersion is the ansible_version variable, shaped as Ansible's.
func ansibleVersion() map[string]any {
	parts := strings.SplitN(compatVersion, ".", 3)
	n := func(i int) int { v, _ := strconv.Atoi(parts[i]); return v }
	return map[string]any{"full": compatVersion, "string": compatVersion, "major": n(0), "minor": n(1), "revision": n(2)}
}

// innermostRole is the role t belongs to: its own, or its innermost
// enclosing block's; nil outside roles.
func innermostRole(sc *scope, t *playbook.Task) *playbook.Role {
	if t != nil && t.Role != nil {
		return t.Role
	}
	blocks := sc.blocks()
	for i := len(blocks) - 1; i >= 0; i-- {
		if blocks[i].Role != nil {
			return blocks[i].Role
		}
	}
	return nil
}

// roleLayers returns the role defaults (lowest precedence) and role vars
// that apply to a task, outermost role first.
func roleLayers(sc *scope, t *playbook.Task) (defaults, vars []map[string]any) {
	for _, b := range sc.blocks() {
		if b.Role != nil {
			defaults = append(defaults, b.Role.Defaults)
			vars = append(vars, b.Role.Vars)
		}
	}
	if t != nil && t.Role != nil {
		defaults = append(defaults, t.Role.Defaults)
		vars = append(vars, t.Role.Vars)
	}
	return defaults, vars
}

// varOrigin says where the value of variable name that h sees comes from,
// for error messages: the highest-precedence source that defines it.
func (st *state) varOrigin(h *hostState, name string) string {
	if _, ok := st.Options.ExtraVars[name]; ok {
		return "from the extra vars"
	}
	if _, ok := h.setVars[name]; ok {
		return "set by set_fact or register on " + h.name()
	}
	if _, ok := h.invVars[name]; ok {
		return "from the inventory variables of " + h.name()
	}
	return "from the play's or task's variables"
}
