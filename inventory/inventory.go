// Package inventory loads Ansible-compatible inventories (INI, YAML,
// executable JSON sources, host lists, directories, group_vars/host_vars),
// selects hosts by Ansible host patterns and merges each host's variables.
//
// An Inventory is built by Load and AddVarsDir; after that it is read-only
// and safe for concurrent use.
package inventory

import (
	"fmt"
	"sort"
	"sync"
)

// Host is one inventory host.
//
// Its own variables are kept as they were read, in order, and typed only
// when first needed (OwnVars, Inventory.HostVars): an INI value is parsed
// as a Python literal then, not while loading. A 60,000-host inventory of
// which a run selects ten types the variables of ten hosts.
type Host struct {
	Name string

	vars      []hostVar // own variables in the order they were set
	typeOnce  sync.Once
	typedVars map[string]any // vars typed and merged, set by typeOnce
	implicit  bool           // the implicit localhost, not a member of all
	groups    []*Group       // groups the host was added to directly
	ancestry  []*Group       // every group holding it, directly or through children (incl. all)
	source    string         // inventory_file: the source that first named it
}

// hostVar is one variable set on a host: an INI value not yet typed (raw),
// or a typed value from YAML, a script or host:port.
type hostVar struct {
	key   string
	raw   string
	val   any
	isRaw bool
}

// value returns v's typed value.
func (v hostVar) value() any {
	if v.isRaw {
		return parseINIValue(v.raw)
	}
	return v.val
}

// setVar sets a typed own variable.
func (h *Host) setVar(k string, v any) { h.vars = append(h.vars, hostVar{key: k, val: v}) }

// setRawVar sets an own variable from INI text, typed when first needed.
func (h *Host) setRawVar(k, raw string) {
	h.vars = append(h.vars, hostVar{key: k, raw: raw, isRaw: true})
}

// OwnVars returns the host's own inventory variables (inline INI/YAML vars,
// script hostvars, ansible_port from host:port), typing them on the first
// call; read-only. Safe for concurrent use once loading is done.
func (h *Host) OwnVars() map[string]any {
	h.typeOnce.Do(func() {
		m := make(map[string]any, len(h.vars))
		for _, v := range h.vars {
			m[v.key] = v.value()
		}
		h.typedVars = m
	})
	return h.typedVars
}

// typed reports whether h's variables have been typed (for tests).
func (h *Host) typed() bool { return h.typedVars != nil }

// Implicit reports whether h is the implicit localhost that Ansible creates
// when a play targets localhost without it being in the inventory.
func (h *Host) Implicit() bool { return h.implicit }

// Group is one inventory group.
type Group struct {
	Name string
	// Vars are the group's inventory variables; read-only.
	Vars     map[string]any
	Hosts    []*Host  // direct members, in the order they were added
	Children []*Group // child groups, in the order they were added
	Priority int      // ansible_group_priority (default 1)

	parents  []*Group
	hostSet  map[*Host]struct{}
	depth    int     // longest path from all
	allHosts []*Host // members including those of descendants, inventory order
}

// Parents returns the group's parent groups.
func (g *Group) Parents() []*Group { return g.parents }

// Inventory is the merged result of one or more inventory sources.
type Inventory struct {
	groups     map[string]*Group
	groupOrder []*Group
	hosts      map[string]*Host
	hostOrder  []*Host
	all        *Group
	ungrouped  *Group
	implicit   map[string]*Host // localhost names not in the inventory

	readFile func(string) ([]byte, error)
	invDirs  []*varsDir // group_vars/host_vars next to inventory sources
	playDirs []*varsDir // ... next to playbooks (higher precedence)
	warnings []string
	current  string // absolute path of the source being parsed (inventory_file)
}

// localhostNames returns the names Ansible treats as the implicit localhost.
func localhostNames() []string { return []string{"localhost", "127.0.0.1", "::1"} }

func newInventory(readFile func(string) ([]byte, error)) *Inventory {
	inv := &Inventory{
		groups:   map[string]*Group{},
		hosts:    map[string]*Host{},
		implicit: map[string]*Host{},
		readFile: readFile,
	}
	inv.all = inv.addGroup("all")
	inv.ungrouped = inv.addGroup("ungrouped")
	inv.all.addChild(inv.ungrouped)
	return inv
}

// addGroup returns the named group, creating it if needed.
func (inv *Inventory) addGroup(name string) *Group {
	if g, ok := inv.groups[name]; ok {
		return g
	}
	g := &Group{Name: name, Vars: map[string]any{}, Priority: 1, hostSet: map[*Host]struct{}{}}
	inv.groups[name] = g
	inv.groupOrder = append(inv.groupOrder, g)
	return g
}

// addHost returns the named host, creating it (remembering the current
// source as its inventory_file) if needed, and adds it to group g when g is
// not nil.
func (inv *Inventory) addHost(name string, g *Group) *Host {
	h, ok := inv.hosts[name]
	if !ok {
		h = &Host{Name: name, source: inv.current}
		inv.hosts[name] = h
		inv.hostOrder = append(inv.hostOrder, h)
	}
	if g != nil {
		g.addHost(h)
	}
	return h
}

func (g *Group) addHost(h *Host) {
	if _, ok := g.hostSet[h]; ok {
		return
	}
	g.hostSet[h] = struct{}{}
	g.Hosts = append(g.Hosts, h)
	h.groups = append(h.groups, g)
}

// addChild makes child a child of g (idempotent).
func (g *Group) addChild(child *Group) {
	for _, c := range g.Children {
		if c == child {
			return
		}
	}
	g.Children = append(g.Children, child)
	child.parents = append(child.parents, g)
}

// linkChild is addChild with Ansible's checks: no self-parenting, no loops.
func (inv *Inventory) linkChild(parent, child *Group) error {
	if parent == child {
		return fmt.Errorf("group %q cannot be a child of itself", parent.Name)
	}
	if child == inv.all {
		return fmt.Errorf("group %q cannot have all as a child", parent.Name)
	}
	if isDescendant(child, parent) {
		return fmt.Errorf("adding group %q as a child of %q creates a loop", child.Name, parent.Name)
	}
	parent.addChild(child)
	return nil
}

// isDescendant reports whether d is g or below g.
func isDescendant(g, d *Group) bool {
	seen := map[*Group]bool{}
	stack := []*Group{g}
	for len(stack) > 0 {
		cur := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if cur == d {
			return true
		}
		if seen[cur] {
			continue
		}
		seen[cur] = true
		stack = append(stack, cur.Children...)
	}
	return false
}

// setGroupVar sets a group variable; ansible_group_priority sets the
// group's priority instead, as in Ansible.
func setGroupVar(g *Group, key string, v any) error {
	if key == "ansible_group_priority" {
		p, err := toInt(v)
		if err != nil {
			return fmt.Errorf("group %q: ansible_group_priority: %w", g.Name, err)
		}
		g.Priority = p
		return nil
	}
	g.Vars[key] = v
	return nil
}

func toInt(v any) (int, error) {
	switch v := v.(type) {
	case int:
		return v, nil
	case float64:
		return int(v), nil
	case string:
		var n int
		if _, err := fmt.Sscanf(v, "%d", &n); err == nil && fmt.Sprint(n) == v {
			return n, nil
		}
	}
	return 0, fmt.Errorf("expected an integer, got %v", v)
}

// finish applies Ansible's reconcile rules once every source is parsed:
// top-level groups become children of all, hosts without a group go to
// ungrouped (and leave it when they have one), then depths, ancestry and
// per-group host lists are computed.
func (inv *Inventory) finish() {
	inv.relink()
	for _, name := range localhostNames() {
		if _, ok := inv.hosts[name]; ok {
			continue
		}
		h := &Host{Name: name, implicit: true}
		h.setVar("ansible_connection", "local")
		inv.implicit[name] = h
	}
	for _, h := range inv.hostOrder {
		if _, ok := inv.groups[h.Name]; ok {
			inv.warnings = append(inv.warnings, fmt.Sprintf("Found both group and host with same name: %s", h.Name))
		}
	}
}

// relink applies the reconcile rules after hosts or groups were added
// (finish, AddHost, AddToGroup): top-level groups become children of all,
// ungrouped holds exactly the hosts without another group, and depths,
// ancestry and per-group host lists are computed again.
func (inv *Inventory) relink() {
	for _, g := range inv.groupOrder {
		if g != inv.all && len(g.parents) == 0 {
			inv.all.addChild(g)
		}
	}
	var keep []*Host
	for _, h := range inv.ungrouped.Hosts {
		if !hasRealGroup(h, inv) {
			keep = append(keep, h)
		} else {
			delete(inv.ungrouped.hostSet, h)
			h.groups = removeGroup(h.groups, inv.ungrouped)
		}
	}
	inv.ungrouped.Hosts = keep
	for _, h := range inv.hostOrder {
		if !hasRealGroup(h, inv) {
			inv.ungrouped.addHost(h)
		}
	}

	depth := map[*Group]int{}
	var depthOf func(g *Group) int
	depthOf = func(g *Group) int {
		if d, ok := depth[g]; ok {
			return d
		}
		depth[g] = 0 // loops are rejected by linkChild; this only guards recursion
		d := 0
		for _, p := range g.parents {
			if pd := depthOf(p) + 1; pd > d {
				d = pd
			}
		}
		depth[g] = d
		return d
	}
	for _, g := range inv.groupOrder {
		g.depth = depthOf(g)
	}
	for _, h := range inv.hostOrder {
		h.ancestry = ancestors(h.groups)
	}
	for _, g := range inv.groupOrder {
		g.allHosts = collectHosts(g)
	}
}

// AddHost adds a host while a playbook runs, as add_host does: name is
// created when new (it then replaces the implicit localhost of that
// name), joins groups (created under all when new), and vars become its
// own variables. It reports whether the host or a group membership is
// new, which is add_host's changed. The inventory is not locked: the
// caller keeps readers out while it runs.
func (inv *Inventory) AddHost(name string, groups []string, vars map[string]any) bool {
	_, existed := inv.hosts[name]
	changed := !existed
	h := inv.addHost(name, nil)
	delete(inv.implicit, name)
	for _, gn := range groups {
		g := inv.addGroup(gn)
		if _, in := g.hostSet[h]; !in {
			g.addHost(h)
			changed = true
		}
	}
	if len(vars) > 0 {
		own := h.OwnVars()
		m := make(map[string]any, len(own)+len(vars))
		for k, v := range own {
			m[k] = v
		}
		for k, v := range vars {
			m[k] = v
			h.setVar(k, v)
		}
		h.typedVars = m
	}
	inv.relink()
	return changed
}

// AddToGroup puts a host in a group while a playbook runs, as group_by
// does: the group is created when new and made a child of each of
// parents (created under all when new). It reports whether the group,
// a parent link or the membership is new. Like
// AddHost, it does not lock.
func (inv *Inventory) AddToGroup(host, group string, parents []string) (bool, error) {
	h, ok := inv.Host(host)
	if !ok {
		return false, fmt.Errorf("no host %q in the inventory", host)
	}
	if h.implicit {
		// The implicit localhost becomes a real host, as Ansible adds it.
		h = inv.addHost(host, nil)
		h.setVar("ansible_connection", "local")
		delete(inv.implicit, host)
	}
	_, existed := inv.groups[group]
	changed := !existed
	g := inv.addGroup(group)
	for _, pn := range parents {
		p := inv.addGroup(pn)
		linked := false
		for _, c := range p.Children {
			linked = linked || c == g
		}
		if linked {
			continue
		}
		if err := inv.linkChild(p, g); err != nil {
			return false, err
		}
		changed = true
	}
	if _, in := g.hostSet[h]; !in {
		g.addHost(h)
		changed = true
	}
	inv.relink()
	return changed, nil
}

// hasRealGroup reports whether h is in a group other than all and ungrouped.
func hasRealGroup(h *Host, inv *Inventory) bool {
	for _, g := range h.groups {
		if g != inv.all && g != inv.ungrouped {
			return true
		}
	}
	return false
}

func removeGroup(gs []*Group, g *Group) []*Group {
	out := gs[:0]
	for _, x := range gs {
		if x != g {
			out = append(out, x)
		}
	}
	return out
}

// ancestors returns direct groups plus all their ancestors, without repeats.
func ancestors(direct []*Group) []*Group {
	seen := map[*Group]bool{}
	var out []*Group
	stack := append([]*Group(nil), direct...)
	for len(stack) > 0 {
		g := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[g] {
			continue
		}
		seen[g] = true
		out = append(out, g)
		stack = append(stack, g.parents...)
	}
	return out
}

// collectHosts lists g's hosts and its descendants' hosts breadth first, in
// child order, without repeats (Ansible's Group.get_hosts).
func collectHosts(g *Group) []*Host {
	var out []*Host
	seenHost := map[*Host]bool{}
	seenGroup := map[*Group]bool{g: true}
	level := []*Group{g}
	for len(level) > 0 {
		var next []*Group
		for _, cur := range level {
			for _, h := range cur.Hosts {
				if !seenHost[h] {
					seenHost[h] = true
					out = append(out, h)
				}
			}
			for _, c := range cur.Children {
				if !seenGroup[c] {
					seenGroup[c] = true
					next = append(next, c)
				}
			}
		}
		level = next
	}
	return out
}

// Warnings returns what loading found questionable but not fatal (unknown
// keys in YAML inventories, a host named like a group, ...).
func (inv *Inventory) Warnings() []string { return append([]string(nil), inv.warnings...) }

// Hosts returns every host of the inventory in inventory order (the order of
// the all group); the implicit localhost is not among them.
func (inv *Inventory) Hosts() []*Host { return append([]*Host(nil), inv.all.allHosts...) }

// Host returns the named host; localhost, 127.0.0.1 and ::1 resolve to the
// implicit localhost (ansible_connection=local) when not in the inventory.
func (inv *Inventory) Host(name string) (*Host, bool) {
	if h, ok := inv.hosts[name]; ok {
		return h, true
	}
	h, ok := inv.implicit[name]
	return h, ok
}

// Group returns the named group.
func (inv *Inventory) Group(name string) (*Group, bool) {
	g, ok := inv.groups[name]
	return g, ok
}

// GroupNames returns Ansible's group_names for h: every group holding it,
// directly or through a child group, sorted, without all (ungrouped is
// included for ungrouped hosts, as in Ansible).
func (inv *Inventory) GroupNames(h *Host) []string {
	names := []string{}
	for _, g := range h.ancestry {
		if g != inv.all {
			names = append(names, g.Name)
		}
	}
	sort.Strings(names)
	return names
}

// Groups returns Ansible's groups magic variable: every group (including
// all and ungrouped) mapped to its hosts' names in inventory order. The map
// is fresh; compute it once per play rather than per host.
func (inv *Inventory) Groups() map[string][]string {
	out := make(map[string][]string, len(inv.groupOrder))
	for _, g := range inv.groupOrder {
		names := make([]string, len(g.allHosts))
		for i, h := range g.allHosts {
			names[i] = h.Name
		}
		out[g.Name] = names
	}
	return out
}

// sortedGroups returns h's groups other than all, ordered as Ansible merges
// their variables: by depth, then ansible_group_priority, then name.
func (inv *Inventory) sortedGroups(h *Host) []*Group {
	var gs []*Group
	for _, g := range h.ancestry {
		if g != inv.all {
			gs = append(gs, g)
		}
	}
	sort.Slice(gs, func(i, j int) bool {
		a, b := gs[i], gs[j]
		if a.depth != b.depth {
			return a.depth < b.depth
		}
		if a.Priority != b.Priority {
			return a.Priority < b.Priority
		}
		return a.Name < b.Name
	})
	return gs
}

// HostVars returns h's merged inventory variables in Ansible's order:
// all's inventory vars, other groups' inventory vars (by depth, priority,
// name), group_vars/all next to the inventory then next to the playbook,
// group_vars/<group> likewise, then the host's own vars, host_vars next to
// the inventory, host_vars next to the playbook. Each step replaces whole
// top-level keys. inventory_file and inventory_dir are included, as in
// Ansible. The map and its nested values are a fresh copy.
func (inv *Inventory) HostVars(h *Host) map[string]any {
	out := map[string]any{}
	merge := func(m map[string]any) {
		for k, v := range m {
			out[k] = v
		}
	}
	groups := inv.sortedGroups(h)
	merge(inv.all.Vars)
	for _, g := range groups {
		merge(g.Vars)
	}
	for _, dirs := range [][]*varsDir{inv.invDirs, inv.playDirs} {
		for _, d := range dirs {
			merge(d.groups["all"])
		}
	}
	for _, dirs := range [][]*varsDir{inv.invDirs, inv.playDirs} {
		for _, d := range dirs {
			for _, g := range groups {
				merge(d.groups[g.Name])
			}
		}
	}
	if h.source != "" {
		out["inventory_file"] = h.source
		out["inventory_dir"] = dirOf(h.source)
	}
	merge(h.OwnVars())
	for _, dirs := range [][]*varsDir{inv.invDirs, inv.playDirs} {
		for _, d := range dirs {
			merge(d.hosts[h.Name])
		}
	}
	return deepCopy(out).(map[string]any)
}

func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[k] = deepCopy(x)
		}
		return m
	case []any:
		s := make([]any, len(v))
		for i, x := range v {
			s[i] = deepCopy(x)
		}
		return s
	}
	return v
}

// VarValues returns the value of every inventory variable whose name
// matches: group variables, hosts' own variables and group_vars/host_vars
// files, typing only the matching ones. It serves callers that need, say,
// every password given as a variable (to keep it out of the output)
// without merging, or even typing, every host's variables up front.
func (inv *Inventory) VarValues(match func(name string) bool) []any {
	var out []any
	add := func(m map[string]any) {
		for k, v := range m {
			if match(k) {
				out = append(out, v)
			}
		}
	}
	for _, g := range inv.groupOrder {
		add(g.Vars)
	}
	for _, h := range inv.hostOrder {
		for _, v := range h.vars {
			if match(v.key) {
				out = append(out, v.value())
			}
		}
	}
	for _, h := range inv.implicit {
		add(h.OwnVars())
	}
	for _, dirs := range [][]*varsDir{inv.invDirs, inv.playDirs} {
		for _, d := range dirs {
			for _, m := range d.groups {
				add(m)
			}
			for _, m := range d.hosts {
				add(m)
			}
		}
	}
	return out
}
