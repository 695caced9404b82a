package inventory

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// maxRangeHosts caps how many names one host range may expand to, so a
// typo like web[0:99999999999] is an error instead of exhausting memory.
const maxRangeHosts = 1 << 20

// Address patterns as in ansible/parsing/utils/addresses.py. RE2 has no
// look-behind, so "a label may not end with - or _" is spelled out.
const (
	numericRange  = `\[[0-9]+:[0-9]+(?::[0-9]+)?\]`
	hexRange      = `\[[0-9a-fA-F]+:[0-9a-fA-F]+(?::[0-9]+)?\]`
	alnumRange    = `\[(?:[a-zA-Z]:[a-zA-Z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]`
	ipv4Component = `(?:[01]?[0-9]{1,2}|2[0-4][0-9]|25[0-5]|` + numericRange + `)`
	wordChar      = `[\p{L}\p{N}_]`
	labelEnd      = `(?:[\p{L}\p{N}]|` + alnumRange + `)`
	label         = `(?:` + wordChar + `|` + alnumRange + `)(?:(?:` + wordChar + `|-|` + alnumRange + `)*` + labelEnd + `)?`
)

var (
	reBracketedHostPort = regexp.MustCompile(`^\[(.+)\]:([0-9]+)$`)
	reHostPort          = regexp.MustCompile(`^((?:[^:\[\]]|\[[^\]]*\])*):([0-9]+)$`)
	reIPv4              = regexp.MustCompile(`^(?:` + ipv4Component + `\.){3}` + ipv4Component + `$`)
	reIPv6              = regexp.MustCompile(`^(?:[0-9a-fA-F]{1,4}|` + hexRange + `|:|\.)+$`)
	reHostname          = regexp.MustCompile(`^` + label + `(?:\.` + label + `)*$`)
)

// parseAddress splits "host:port", "[v6]:port", a bare IPv4/IPv6 address or
// hostname, possibly with [x:y] ranges, as Ansible's parse_address does. ok
// is false when the text is none of those; port is 0 when none was given.
func parseAddress(s string, allowRanges bool) (host string, port int, ok bool) {
	addr := s
	if m := reBracketedHostPort.FindStringSubmatch(addr); m != nil {
		addr, port = m[1], atoiOr(m[2])
	}
	if m := reHostPort.FindStringSubmatch(addr); m != nil {
		addr, port = m[1], atoiOr(m[2])
	}
	switch {
	case reIPv4.MatchString(addr):
	case strings.Count(addr, ":") >= 2 && reIPv6.MatchString(addr):
	case reHostname.MatchString(addr):
	default:
		return "", 0, false
	}
	if !allowRanges && strings.Contains(addr, "[") {
		return "", 0, false
	}
	return addr, port, true
}

func atoiOr(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0
	}
	return n
}

// expandHostPattern turns an inventory host entry such as "web[01:03]:2222"
// into its host names and port, as Ansible's _expand_hostpattern does: the
// port is split off only when the entry parses as an address.
func expandHostPattern(entry string) (names []string, port int, err error) {
	pattern := entry
	if h, p, ok := parseAddress(entry, true); ok {
		pattern, port = h, p
	}
	if strings.HasSuffix(strings.TrimSpace(entry), ":") && port == 0 {
		return nil, 0, fmt.Errorf("invalid host %q: a trailing ':' must be followed by a port", entry)
	}
	if !strings.Contains(pattern, "[") {
		return []string{pattern}, port, nil
	}
	names, err = expandRange(pattern, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("invalid range %q: %w", entry, err)
	}
	return names, port, nil
}

const asciiLetters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

// expandRange expands the first [begin:end(:step)] of name and recurses on
// the results, appending to out (Ansible's expand_hostname_range).
func expandRange(name string, out []string) ([]string, error) {
	open := strings.IndexByte(name, '[')
	if open < 0 {
		return append(out, name), nil
	}
	closeRel := strings.IndexByte(name[open:], ']')
	if closeRel < 0 {
		return nil, fmt.Errorf("expected [start:end] or [start:end:step], got unclosed '['")
	}
	head, body, tail := name[:open], name[open+1:open+closeRel], name[open+closeRel+1:]
	bounds := strings.Split(body, ":")
	if len(bounds) != 2 && len(bounds) != 3 {
		return nil, fmt.Errorf("expected [start:end] or [start:end:step], got [%s]", body)
	}
	beg, end := bounds[0], bounds[1]
	if beg == "" {
		beg = "0"
	}
	if end == "" {
		return nil, fmt.Errorf("expected [start:end]: missing end in [%s]", body)
	}
	step := 1
	if len(bounds) == 3 {
		n, err := strconv.Atoi(bounds[2])
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("expected a positive step in [%s]", body)
		}
		step = n
	}

	var items []string
	bl, el := strings.Index(asciiLetters, beg), strings.Index(asciiLetters, end)
	if len(beg) == 1 && len(end) == 1 && bl >= 0 && el >= 0 {
		if bl > el {
			return nil, fmt.Errorf("expected start <= end in [%s]", body)
		}
		for i := bl; i <= el; i += step {
			items = append(items, asciiLetters[i:i+1])
		}
	} else {
		b, errB := strconv.Atoi(beg)
		e, errE := strconv.Atoi(end)
		if errB != nil || errE != nil {
			return nil, fmt.Errorf("expected [start:end] with two numbers or two letters, got [%s]", body)
		}
		width := 0
		if beg[0] == '0' && len(beg) > 1 {
			if len(beg) != len(end) {
				return nil, fmt.Errorf("expected start and end of equal length in [%s]", body)
			}
			width = len(beg)
		}
		if e >= b && (e-b)/step >= maxRangeHosts {
			return nil, fmt.Errorf("range [%s] expands to more than %d hosts", body, maxRangeHosts)
		}
		for i := b; i <= e; i += step {
			s := strconv.Itoa(i)
			if pad := width - len(s); pad > 0 {
				s = strings.Repeat("0", pad) + s
			}
			items = append(items, s)
		}
	}
	if len(out)+len(items) > maxRangeHosts {
		return nil, fmt.Errorf("range expands to more than %d hosts", maxRangeHosts)
	}
	var err error
	for _, it := range items {
		out, err = expandRange(head+it+tail, out)
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
