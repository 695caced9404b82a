package inventory

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

var (
	rePatternPart      = regexp.MustCompile(`(?:[^\s:\[\]]|\[[^\]]*\])+`)
	rePatternSubscript = regexp.MustCompile(`^(.+)\[(?:(-?[0-9]+)|([0-9]+)([:-])([0-9]*))\]$`)
)

// SplitPattern splits a host pattern into its parts as Ansible does: on
// commas when there is one, else on colons, except that a single address
// or range such as "web[1:3]" or "10.0.0.1:22" stays whole. Whitespace
// around parts is dropped.
func SplitPattern(pattern string) []string {
	var parts []string
	switch {
	case strings.Contains(pattern, ","):
		parts = strings.Split(pattern, ",")
	default:
		if _, _, ok := parseAddress(pattern, true); ok {
			parts = []string{pattern}
		} else {
			parts = rePatternPart.FindAllString(pattern, -1)
		}
	}
	out := make([]string, 0, len(parts))
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// ParseLimit turns a --limit value into patterns: it is split like a host
// pattern, and each "@file" part is replaced by the file's lines (one
// pattern per line), read with readFile (nil means the Options default).
func ParseLimit(value string, readFile func(string) ([]byte, error)) ([]string, error) {
	var out []string
	for _, p := range SplitPattern(value) {
		if !strings.HasPrefix(p, "@") {
			out = append(out, p)
			continue
		}
		if readFile == nil {
			return nil, fmt.Errorf("limit file %s: no file reader", p[1:])
		}
		data, err := readFile(p[1:])
		if err != nil {
			return nil, fmt.Errorf("limit file: %w", err)
		}
		for _, line := range splitLines(string(data)) {
			if line = strings.TrimSpace(line); line != "" {
				out = append(out, line)
			}
		}
	}
	return out, nil
}

// Select returns the hosts matching pattern (a play's hosts: or an ad-hoc
// pattern): all or *, host and group names, globs, ~regex, subscripts
// (web[0], web[-1], web[1:3] inclusive), unions (a:b, a,b), intersections
// (a:&b) and exclusions (a:!b), applied as Ansible applies them: unions in
// order, then intersections, then exclusions. Hosts come in match order
// without repeats. A part that matches nothing adds a warning such as
// "Could not match supplied host pattern, ignoring: nosuch"; errors are
// for invalid patterns (a bad regex, an out-of-range subscript).
func (inv *Inventory) Select(pattern string) ([]*Host, []string, error) {
	return inv.SelectLimit(pattern, nil)
}

// SelectLimit is Select restricted to the hosts matching limit (the
// patterns from ParseLimit), as --limit restricts a play. A nil or empty
// limit restricts nothing.
func (inv *Inventory) SelectLimit(pattern string, limit []string) ([]*Host, []string, error) {
	hosts, warnings, err := inv.evaluate(SplitPattern(pattern))
	if err != nil {
		return nil, nil, err
	}
	hosts, w, err := inv.Limit(hosts, limit)
	if err != nil {
		return nil, nil, fmt.Errorf("limit: %w", err)
	}
	warnings = append(warnings, w...)
	return hosts, warnings, nil
}

// Limit keeps, in their order, the hosts that limit matches (split
// patterns, from ParseLimit or SplitPattern): how --limit restricts a
// play's hosts. A nil or empty limit keeps them all.
func (inv *Inventory) Limit(hosts []*Host, limit []string) ([]*Host, []string, error) {
	if len(limit) == 0 {
		return hosts, nil, nil
	}
	allowed, warnings, err := inv.evaluate(limit)
	if err != nil {
		return nil, nil, err
	}
	in := make(map[*Host]bool, len(allowed))
	for _, h := range allowed {
		in[h] = true
	}
	var kept []*Host
	for _, h := range hosts {
		if in[h] {
			kept = append(kept, h)
		}
	}
	return kept, warnings, nil
}

// evaluate applies Ansible's _evaluate_patterns to split patterns.
func (inv *Inventory) evaluate(patterns []string) ([]*Host, []string, error) {
	var regular, and, not []string
	for _, p := range patterns {
		switch {
		case p == "":
		case p[0] == '!':
			not = append(not, p)
		case p[0] == '&':
			and = append(and, p)
		default:
			regular = append(regular, p)
		}
	}
	if len(regular) == 0 {
		regular = []string{"all"}
	}
	var (
		hosts    []*Host
		present  = map[*Host]bool{}
		warnings []string
	)
	for _, p := range append(append(regular, and...), not...) {
		if h, ok := inv.hosts[p]; ok {
			if !present[h] {
				present[h] = true
				hosts = append(hosts, h)
			}
			continue
		}
		matched, warn, err := inv.matchOne(p)
		if err != nil {
			return nil, nil, err
		}
		if warn != "" {
			warnings = append(warnings, warn)
		}
		switch p[0] {
		case '!', '&':
			set := make(map[*Host]bool, len(matched))
			for _, h := range matched {
				set[h] = true
			}
			keepIn := p[0] == '&'
			kept := hosts[:0]
			for _, h := range hosts {
				if set[h] == keepIn {
					kept = append(kept, h)
				} else {
					delete(present, h)
				}
			}
			hosts = kept
		default:
			for _, h := range matched {
				if !present[h] {
					present[h] = true
					hosts = append(hosts, h)
				}
			}
		}
	}
	return hosts, warnings, nil
}

// matchOne resolves one pattern part, ignoring its &/! prefix.
func (inv *Inventory) matchOne(pattern string) ([]*Host, string, error) {
	p := pattern
	if p[0] == '&' || p[0] == '!' {
		p = p[1:]
	}
	if p == "" {
		return nil, "", fmt.Errorf("invalid host pattern %q: expected a name after %q", pattern, pattern[:1])
	}
	expr, sub, warn := splitSubscript(p)
	hosts, miss, err := inv.enumerate(expr)
	if err != nil {
		return nil, "", err
	}
	if miss != "" {
		warn = miss
	}
	if sub == nil || len(hosts) == 0 {
		return hosts, warn, nil
	}
	start, end := sub[0], sub[1]
	if sub[2] == 1 { // a single index
		if start < 0 {
			start += len(hosts)
		}
		if start < 0 || start >= len(hosts) {
			return nil, "", fmt.Errorf("no hosts matched the subscripted pattern %q: %d hosts match %q", p, len(hosts), expr)
		}
		return []*Host{hosts[start]}, warn, nil
	}
	if end == -1 {
		end = len(hosts) - 1
	}
	if end == 0 { // Ansible treats [x:0] like [x]
		if start >= len(hosts) {
			return nil, "", fmt.Errorf("no hosts matched the subscripted pattern %q: %d hosts match %q", p, len(hosts), expr)
		}
		return []*Host{hosts[start]}, warn, nil
	}
	if start >= len(hosts) {
		return nil, warn, nil
	}
	if end+1 > len(hosts) {
		end = len(hosts) - 1
	}
	if end < start {
		return nil, warn, nil
	}
	return hosts[start : end+1], warn, nil
}

// splitSubscript splits "expr[i]", "expr[i:j]", "expr[i:]" into expr and
// {start, end, single}; regexes (~...) have no subscript.
func splitSubscript(p string) (string, *[3]int, string) {
	if p[0] == '~' {
		return p, nil, ""
	}
	m := rePatternSubscript.FindStringSubmatch(p)
	if m == nil {
		return p, nil, ""
	}
	if m[2] != "" {
		i, err := strconv.Atoi(m[2])
		if err != nil {
			return p, nil, ""
		}
		return m[1], &[3]int{i, 0, 1}, ""
	}
	start, err := strconv.Atoi(m[3])
	if err != nil {
		return p, nil, ""
	}
	end := -1
	if m[5] != "" {
		if end, err = strconv.Atoi(m[5]); err != nil {
			return p, nil, ""
		}
	}
	warn := ""
	if m[4] == "-" {
		warn = "Use [x:y] inclusive subscripts instead of [x-y] which has been removed"
	}
	return m[1], &[3]int{start, end, 0}, warn
}

// enumerate returns the hosts of the groups matching pattern and, when no
// group matched or the pattern is a glob or regex, the hosts matching it;
// localhost names fall back to the implicit localhost.
func (inv *Inventory) enumerate(pattern string) ([]*Host, string, error) {
	isRegex := pattern[0] == '~'
	special := isRegex || strings.ContainsAny(pattern, ".?*[")
	var match func(string) bool
	if isRegex || strings.ContainsAny(pattern, "?*[") {
		re, err := compileHostPattern(pattern)
		if err != nil {
			return nil, "", err
		}
		match = re.MatchString
	} else {
		match = func(s string) bool { return s == pattern }
	}

	var (
		out  []*Host
		seen = map[*Host]bool{}
	)
	add := func(h *Host) {
		if !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	groupMatched := false
	if g, ok := inv.groups[pattern]; ok && !isRegex {
		groupMatched = true
		for _, h := range g.allHosts {
			add(h)
		}
	} else if isRegex || strings.ContainsAny(pattern, "?*[") {
		for _, g := range inv.groupOrder {
			if match(g.Name) {
				groupMatched = true
				for _, h := range g.allHosts {
					add(h)
				}
			}
		}
	}
	if !groupMatched || special {
		if !isRegex && !strings.ContainsAny(pattern, "?*[") {
			if h, ok := inv.hosts[pattern]; ok {
				add(h)
			}
		} else {
			for _, h := range inv.hostOrder {
				if match(h.Name) {
					add(h)
				}
			}
		}
	}
	if len(out) == 0 {
		if h, ok := inv.implicit[pattern]; ok {
			add(h)
		}
	}
	if len(out) == 0 && !groupMatched && pattern != "all" {
		return nil, "Could not match supplied host pattern, ignoring: " + pattern, nil
	}
	return out, "", nil
}

// compileHostPattern compiles ~regex (matched from the start, as Python's
// re.match) or a shell glob (fnmatch: *, ?, [seq], [!seq], whole name).
func compileHostPattern(p string) (*regexp.Regexp, error) {
	var src string
	if p[0] == '~' {
		src = `^(?:` + p[1:] + `)`
	} else {
		src = `^(?s:` + globToRegexp(p) + `)$`
	}
	re, err := regexp.Compile(src)
	if err != nil {
		return nil, fmt.Errorf("invalid host pattern %q: %w", p, err)
	}
	return re, nil
}

// globToRegexp translates an fnmatch glob as Python's fnmatch.translate.
func globToRegexp(glob string) string {
	pat := []rune(glob)
	var b strings.Builder
	for i := 0; i < len(pat); {
		c := pat[i]
		i++
		switch c {
		case '*':
			for i < len(pat) && pat[i] == '*' {
				i++
			}
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		case '[':
			j := i
			if j < len(pat) && pat[j] == '!' {
				j++
			}
			if j < len(pat) && pat[j] == ']' {
				j++
			}
			for j < len(pat) && pat[j] != ']' {
				j++
			}
			if j >= len(pat) {
				b.WriteString(`\[`)
				continue
			}
			stuff := strings.ReplaceAll(string(pat[i:j]), `\`, `\\`)
			i = j + 1
			switch {
			case strings.HasPrefix(stuff, "!"):
				stuff = "^" + stuff[1:]
			case strings.HasPrefix(stuff, "^") || strings.HasPrefix(stuff, "["):
				stuff = `\` + stuff
			}
			b.WriteString("[" + stuff + "]")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	return b.String()
}

// MatchHostnames evaluates host patterns (each split as SplitPattern
// splits) over an inventory made of the groups variable alone, as
// ansible-core 2.14's inventory_hostnames lookup does: groups maps each
// group name to its hosts, groups["all"] giving the hosts' order. It
// returns the names of the matching hosts, in match order.
func MatchHostnames(groups map[string][]string, patterns []string) ([]string, error) {
	inv := newInventory(nil)
	for _, h := range groups["all"] {
		inv.addHost(h, nil)
	}
	names := make([]string, 0, len(groups))
	for g := range groups {
		if g != "all" && g != "ungrouped" {
			names = append(names, g)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		g := inv.addGroup(name)
		for _, h := range groups[name] {
			g.addHost(inv.addHost(h, nil))
		}
	}
	inv.relink()
	var split []string
	for _, p := range patterns {
		split = append(split, SplitPattern(p)...)
	}
	hosts, _, err := inv.evaluate(split)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(hosts))
	for i, h := range hosts {
		out[i] = h.Name
	}
	return out, nil
}
