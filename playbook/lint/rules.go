package lint

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/mdo-play/mdo-play/modules"
	"github.com/mdo-play/mdo-play/playbook"
)

// handlerMatches reports whether a notification names handler h: by its
// name, a listen topic, or "ROLE : NAME" for a role's handler.
func handlerMatches(h *playbook.Task, name string) bool {
	if h.Name != "" && h.Name == name {
		return true
	}
	for _, l := range h.Listen {
		if l == name {
			return true
		}
	}
	if h.Role != nil {
		if role, rest, ok := strings.Cut(name, ":"); ok && strings.TrimSpace(role) == h.Role.Name {
			rest = strings.TrimSpace(rest)
			if rest == h.Name {
				return true
			}
			for _, l := range h.Listen {
				if l == rest {
					return true
				}
			}
		}
	}
	return false
}

// handlersNotified returns the play's handlers some notification names, and
// reports the notifications that name none.
func (c *checker) handlersNotified(ps *playState) []*playbook.Task {
	var out []*playbook.Task
	for _, h := range ps.play.Handlers {
		if ps.dynamic {
			out = append(out, h)
			continue
		}
		for _, n := range ps.notify {
			if handlerMatches(h, n.name) {
				out = append(out, h)
				break
			}
		}
	}
	for _, n := range ps.notify {
		if strings.Contains(n.name, "{{") {
			continue
		}
		found := false
		for _, h := range ps.play.Handlers {
			found = found || handlerMatches(h, n.name)
		}
		if !found {
			c.add(n.pos, RuleNotifyUnknown, "notify %q: no handler in this play has this name or listens to it%s", n.name, nearest(n.name, handlerNames(ps.play)))
		}
	}
	return out
}

func handlerNames(play *playbook.Play) []string {
	var out []string
	for _, h := range play.Handlers {
		if h.Name != "" {
			out = append(out, h.Name)
		}
		out = append(out, h.Listen...)
	}
	return out
}

// handlerChecks reports the handlers of a play that nothing notifies; a
// role's handler counts as used when any play notifies it.
func (c *checker) handlerChecks(ps *playState, notified map[*playbook.Task]bool) {
	for _, h := range ps.play.Handlers {
		if notified[h] {
			continue
		}
		if h.Role != nil && c.roleHandlerUsed(h, notified) {
			continue
		}
		c.add(h.Pos, RuleHandlerUnused, "handler %s is never notified: no task notifies its name%s", quoteName(h.Name), listenText(h))
	}
}

// roleHandlerUsed reports whether another application of the same role
// handler (the same file position) is notified.
func (c *checker) roleHandlerUsed(h *playbook.Task, notified map[*playbook.Task]bool) bool {
	for o := range notified {
		if o.Pos == h.Pos {
			return true
		}
	}
	return false
}

func listenText(h *playbook.Task) string {
	if len(h.Listen) == 0 {
		return ""
	}
	return " or its listen topics (" + strings.Join(h.Listen, ", ") + ")"
}

func quoteName(s string) string {
	if s == "" {
		return "(unnamed)"
	}
	return strconv.Quote(s)
}

// nearest suggests the closest of names to s, ignoring case (handler
// names are free text): modules.Nearest over the lowercased names.
func nearest(s string, names []string) string {
	lower := make([]string, len(names))
	orig := make(map[string]string, len(names))
	for i, n := range names {
		lower[i] = strings.ToLower(n)
		if _, ok := orig[lower[i]]; !ok {
			orig[lower[i]] = n
		}
	}
	best := modules.Nearest(strings.ToLower(s), lower)
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", orig[best])
}

// commandModule reports command and shell tasks that run a program one of
// our modules does the job of. Only the first command of the line is
// looked at, as ansible-lint does.
func (c *checker) commandModule(t *playbook.Task) {
	if t.Module != "command" && t.Module != "shell" {
		return
	}
	var words []string
	switch {
	case t.Args[modules.RawParams] != nil:
		words = strings.Fields(fmt.Sprint(t.Args[modules.RawParams]))
	case t.Args["cmd"] != nil:
		words = strings.Fields(fmt.Sprint(t.Args["cmd"]))
	case t.Args["argv"] != nil:
		if l, ok := t.Args["argv"].([]any); ok {
			for _, w := range l {
				words = append(words, fmt.Sprint(w))
			}
		}
	}
	// Skip environment assignments, sudo and a leading path.
	for len(words) > 0 && (strings.Contains(words[0], "=") && !strings.HasPrefix(words[0], "-") || words[0] == "sudo" || words[0] == "env") {
		words = words[1:]
	}
	for len(words) > 0 && strings.HasPrefix(words[0], "-") && len(words) > 1 {
		words = words[1:] // options of sudo or env
	}
	if len(words) == 0 || strings.Contains(words[0], "{{") {
		return
	}
	prog := words[0][strings.LastIndexByte(words[0], '/')+1:]
	prog = strings.TrimRight(prog, ";&|")
	if hint := moduleFor(prog, words[1:]); hint != "" {
		c.add(t.ModulePos, RuleCommandModule, "%s runs %s: use %s instead", t.ModuleKey, prog, hint)
	}
}

// moduleFor returns the module that does the job of prog with args, or "".
func moduleFor(prog string, args []string) string {
	has := func(ws ...string) bool {
		for _, a := range args {
			for _, w := range ws {
				if a == w {
					return true
				}
			}
		}
		return false
	}
	sub := ""
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			sub = a
			break
		}
	}
	switch prog {
	case "apt-get", "apt", "aptitude":
		if has("install", "remove", "purge") {
			return "the apt module (or package)"
		}
	case "yum", "dnf":
		if has("install", "remove", "erase") {
			return "the dnf module (or yum, package)"
		}
	case "systemctl":
		switch sub {
		case "start", "stop", "restart", "reload", "try-restart", "reload-or-restart", "enable", "disable", "daemon-reload", "mask", "unmask":
			return "the systemd module (or service)"
		}
	case "service":
		if len(args) >= 2 {
			switch args[1] {
			case "start", "stop", "restart", "reload":
				return "the service module"
			}
		}
	case "useradd", "usermod", "userdel":
		return "the user module"
	case "groupadd", "groupmod", "groupdel":
		return "the group module"
	case "mkdir":
		return "the file module with state: directory"
	case "cp":
		return "the copy module (remote_src: true for files on the host)"
	case "ln":
		if has("-s", "-sf", "-fs", "-sfn", "-snf", "-nsf", "--symbolic") {
			return "the file module with state: link"
		}
	case "chmod", "chown", "chgrp":
		return "the file module (mode, owner, group)"
	case "sed":
		for _, a := range args {
			if a == "-i" || strings.HasPrefix(a, "-i") || a == "--in-place" || strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && strings.Contains(a, "i") {
				return "the lineinfile or replace module"
			}
		}
	case "curl", "wget":
		return "the uri module (or get_url)"
	case "tar":
		if sub != "" && !strings.HasPrefix(sub, "-") && strings.Contains(sub, "x") || has("-x", "--extract", "-xf", "-xzf", "-xvf", "-xzvf", "-xjf", "-xJf") {
			return "the unarchive module"
		}
	}
	return ""
}

// riskyOctal reports file modes written as unquoted YAML integers: 644 is
// the decimal number 644 (octal 01204), and 0644 works but reads as a
// number where a string is meant.
func (c *checker) riskyOctal(t *playbook.Task) {
	reg := c.l.Loader.Registry
	m, ok := reg.Lookup(t.Module)
	if !ok {
		return
	}
	spec := m.Spec()
	for k, pos := range t.ArgsPos {
		a, ok := spec.Arg(k)
		if !ok || a.Type != modules.TypeMode {
			continue
		}
		n := c.valueNode(pos)
		if n == nil || n.Kind != yaml.ScalarNode || n.Style != 0 || n.ShortTag() != "!!int" {
			continue
		}
		vpos := playbook.Pos{File: pos.File, Line: n.Line, Col: n.Column}
		lit := n.Value
		digits := strings.TrimPrefix(strings.TrimPrefix(lit, "0o"), "0")
		if strings.HasPrefix(lit, "0") && len(lit) > 1 {
			c.add(vpos, RuleRiskyOctal, "%s: %s is an unquoted octal number: quote it as %q so it stays a mode", k, lit, "0"+digits)
			continue
		}
		d, err := strconv.Atoi(lit)
		if err != nil {
			continue
		}
		c.add(vpos, RuleRiskyOctal, "%s: %s is the decimal number %d (octal %#o), not the mode 0%s: write %q", k, lit, d, d, lit, "0"+lit)
	}
}
