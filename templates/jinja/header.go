package jinja

import (
	"strconv"
	"strings"
)

// jinjaOverride is the first line with which a template file changes
// Jinja's settings for itself (`#jinja2: trim_blocks: True,
// lstrip_blocks: True`). Ansible's templar removes that line and applies
// each setting (ansible/template/__init__.py, JINJA2_OVERRIDE); the
// converter does the same: it removes the line and writes the template
// that the settings give.
const jinjaOverride = "#jinja2:"

// applyOverrides removes a `#jinja2:` first line from a template file and
// applies its settings to src. It reports the settings it cannot apply:
// the converted template keeps Ansible's defaults for those.
func applyOverrides(src string) (string, []Problem) {
	if !strings.HasPrefix(src, jinjaOverride) {
		return src, nil
	}
	eol := strings.IndexByte(src, '\n')
	if eol < 0 {
		return src, nil
	}
	line := src[len(jinjaOverride):eol]
	rest := src[eol+1:]
	var problems []Problem
	lstrip := false
	for _, pair := range strings.Split(line, ",") {
		key, val, ok := strings.Cut(pair, ":")
		key = strings.TrimSpace(key)
		b, isBool := literalTruth(strings.TrimSpace(val))
		switch {
		case ok && key == "lstrip_blocks" && isBool:
			lstrip = b
		case ok && key == "trim_blocks" && isBool && b:
			// Ansible's default, which the converter writes anyway.
		default:
			problems = append(problems, Problem{Line: 1, Col: 1, Text: src[:eol],
				Reason: "the template setting " + strings.TrimSpace(pair) + " is not supported"})
		}
	}
	if len(problems) > 0 {
		return src, problems
	}
	if lstrip {
		rest = lstripBlocks(rest)
	}
	return rest, nil
}

// literalTruth is the truth of a Python literal as ast.literal_eval reads
// it: True, False, a number or a quoted string (any non-empty string is
// true, "false" too, as in Ansible).
func literalTruth(s string) (bool, bool) {
	switch s {
	case "True", "true":
		// true is not a Python literal, but reads as the intent.
		return true, true
	case "False", "false", "None":
		return false, true
	}
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		return n != 0, true
	}
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return len(s) > 2, true
	}
	return false, false
}

// lstripBlocks applies Jinja's lstrip_blocks to src: the spaces and tabs
// between the start of a line and a statement or comment tag that starts
// the line's text are removed (not before {%+, and not inside raw blocks).
func lstripBlocks(src string) string {
	items, err := scan(src)
	if err != nil {
		return src
	}
	var b strings.Builder
	last := 0
	strip := func(start int, ltrim byte) {
		if ltrim == '+' {
			return
		}
		i := start
		for i > 0 && (src[i-1] == ' ' || src[i-1] == '\t') {
			i--
		}
		if i == start || i > 0 && src[i-1] != '\n' {
			return
		}
		b.WriteString(src[last:i])
		last = start
	}
	for _, it := range items {
		switch x := it.node.(type) {
		case *Tag:
			strip(x.Start, x.LTrim)
		case *Comment:
			strip(x.Start, x.LTrim)
		case *Raw:
			strip(x.Start, x.LTrim)
			strip(x.EndTag.Start, x.EndTag.LTrim)
		}
	}
	b.WriteString(src[last:])
	return b.String()
}
