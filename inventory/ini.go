package inventory

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

var (
	reINISection   = regexp.MustCompile(`^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$`)
	reINIGroupName = regexp.MustCompile(`^([^:\]\s]+)\s*(?:#.*)?$`)
)

// splitLines splits like Python's str.splitlines for \n, \r\n and \r.
func splitLines(s string) []string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.Split(s, "\n")
}

// parseINI adds the hosts and groups of an Ansible INI inventory to inv.
// Lines before the first section are ungrouped hosts; [g] holds hosts,
// [g:children] group names and [g:vars] key=value lines. Values are typed
// as Ansible types them (Python literals), host:port sets ansible_port,
// and a child group that is never declared is created empty.
func (inv *Inventory) parseINI(path string, data []byte) error {
	group := inv.ungrouped
	state := "hosts"
	type pendingVars struct {
		group string
		line  int
	}
	var pending []pendingVars
	declared := map[string]bool{}
	fail := func(line int, format string, args ...any) error {
		return fmt.Errorf("%s:%d: %s", path, line, fmt.Sprintf(format, args...))
	}

	for i, raw := range splitLines(string(data)) {
		lineno := i + 1
		line := strings.TrimSpace(raw)
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if m := reINISection.FindStringSubmatch(line); m != nil {
			name, kind := m[1], m[2]
			if kind == "" {
				kind = "hosts"
			}
			if kind != "hosts" && kind != "children" && kind != "vars" {
				return fail(lineno, "section [%s:%s] has unknown type %q: expected hosts, children or vars", name, m[2], m[2])
			}
			if _, exists := inv.groups[name]; !exists && kind == "vars" && !declared[name] {
				pending = append(pending, pendingVars{name, lineno})
			}
			if kind != "vars" {
				declared[name] = true
			}
			group = inv.addGroup(name)
			state = kind
			continue
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			return fail(lineno, "invalid section %q: expected [group], [group:children] or [group:vars] without spaces", line)
		}

		switch state {
		case "hosts":
			if err := inv.parseINIHost(path, line, group); err != nil {
				return fail(lineno, "%v", err)
			}
		case "vars":
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				return fail(lineno, "expected key=value, got %q", line)
			}
			k = strings.TrimSpace(k)
			if k == "" {
				return fail(lineno, "expected key=value, got an empty key in %q", line)
			}
			if err := setGroupVar(group, k, parseINIValue(strings.TrimSpace(v))); err != nil {
				return fail(lineno, "%v", err)
			}
		case "children":
			m := reINIGroupName.FindStringSubmatch(line)
			if m == nil {
				return fail(lineno, "expected a group name, got %q", line)
			}
			declared[m[1]] = true
			if err := inv.linkChild(group, inv.addGroup(m[1])); err != nil {
				return fail(lineno, "%v", err)
			}
		}
	}
	for _, p := range pending {
		if !declared[p.group] {
			return fail(p.line, "section [%s:vars] is for undefined group %q: declare it with [%s] or [%s:children]", p.group, p.group, p.group, p.group)
		}
	}
	return nil
}

// parseINIHost parses "name-or-range[:port] key=value ..." into group.
func (inv *Inventory) parseINIHost(path, line string, group *Group) error {
	tokens, err := shlexSplit(line)
	if err != nil {
		return fmt.Errorf("host definition %q: %w", line, err)
	}
	if len(tokens) == 0 || tokens[0] == "" {
		return fmt.Errorf("host definition %q: expected a host name", line)
	}
	names, port, err := expandHostPattern(tokens[0])
	if err != nil {
		return err
	}
	for _, n := range names {
		if strings.TrimSpace(n) == "---" {
			return errors.New(`invalid host "---": this looks like a YAML file; name it .yml or .yaml`)
		}
	}
	type kv struct{ k, v string }
	vars := make([]kv, 0, len(tokens)-1)
	for _, t := range tokens[1:] {
		k, v, ok := strings.Cut(t, "=")
		if !ok {
			return fmt.Errorf("expected key=value host variable, got %q", t)
		}
		vars = append(vars, kv{k, v})
	}
	for _, n := range names {
		h := inv.addHostPort(n, group, port)
		// Typed (as Python literals) when the host's variables are first
		// needed, not here.
		if h.vars == nil {
			h.vars = make([]hostVar, 0, len(vars))
		}
		for _, x := range vars {
			h.setRawVar(x.k, x.v)
		}
	}
	return nil
}

// addHostPort is addHost that sets ansible_port when the host is new and a
// port was given (Ansible ignores the port of a host already seen).
func (inv *Inventory) addHostPort(name string, g *Group, port int) *Host {
	_, existed := inv.hosts[name]
	h := inv.addHost(name, g)
	if !existed && port > 0 {
		h.setVar("ansible_port", port)
	}
	return h
}
