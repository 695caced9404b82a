// Package pyre turns Python re.sub replacement templates into templates
// for Go's Regexp.Expand: the one conversion the replace and lineinfile
// modules and the regex_replace function share.
package pyre

import (
	"regexp"
	"strconv"
	"strings"
)

// Expand converts t, a Python replacement template (\1, \12, \g<1>,
// \g<name>, \n, \t, \r, \\), into a Regexp.Expand template. A backslash
// before anything else stays a backslash. What a '$' means is the
// caller's: with literalDollar, as in Python, a '$' is literal unless it
// starts ${N} or ${name} naming a group of re ("PATH=$PATH:/opt" keeps
// its $PATH); without it, Go's $1, ${1} and $name keep working (re may
// then be nil).
func Expand(t string, re *regexp.Regexp, literalDollar bool) string {
	if !literalDollar && !strings.Contains(t, `\`) {
		return t
	}
	var b strings.Builder
	for i := 0; i < len(t); i++ {
		c := t[i]
		if c == '$' && literalDollar {
			if ref, ok := groupRef(t[i:], re); ok {
				b.WriteString(ref)
				i += len(ref) - 1
			} else {
				b.WriteString("$$")
			}
			continue
		}
		if c != '\\' || i+1 == len(t) {
			b.WriteByte(c)
			continue
		}
		n := t[i+1]
		switch {
		case n >= '0' && n <= '9':
			j := i + 2
			if j < len(t) && t[j] >= '0' && t[j] <= '9' {
				j++
			}
			b.WriteString("${" + t[i+1:j] + "}")
			i = j - 1
		case n == 'g' && i+2 < len(t) && t[i+2] == '<':
			if end := strings.IndexByte(t[i+3:], '>'); end >= 0 {
				b.WriteString("${" + t[i+3:i+3+end] + "}")
				i += 3 + end
				continue
			}
			b.WriteString(`\g`)
			i++
		case n == 'n':
			b.WriteByte('\n')
			i++
		case n == 't':
			b.WriteByte('\t')
			i++
		case n == 'r':
			b.WriteByte('\r')
			i++
		case n == '\\':
			b.WriteByte('\\')
			i++
		default:
			b.WriteByte('\\')
		}
	}
	return b.String()
}

// groupRef returns the ${N} or ${name} reference t starts with when it
// names a group of re.
func groupRef(t string, re *regexp.Regexp) (string, bool) {
	if re == nil || !strings.HasPrefix(t, "${") {
		return "", false
	}
	end := strings.IndexByte(t, '}')
	if end < 0 {
		return "", false
	}
	name := t[2:end]
	if n, err := strconv.Atoi(name); err == nil && n >= 0 && n <= re.NumSubexp() && name == strconv.Itoa(n) {
		return t[:end+1], true
	}
	if name != "" && re.SubexpIndex(name) >= 0 {
		return t[:end+1], true
	}
	return "", false
}
