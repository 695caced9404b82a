package templates

import (
	"regexp"
	"sort"
	"strings"

	"github.com/mdo-play/mdo-play/templates/jinja"
)

// Jinja detection: when a template fails, input written in Jinja (as in an
// Ansible playbook) gets a hint with its Go-template form, made by the
// converter of package jinja (the one `mdo-play convert` uses).

var jinjaStmtRE = regexp.MustCompile(`\{%-?\s*(if|elif|else|endif|for|endfor|set|endset|raw|endraw|macro|endmacro|block|endblock|include|import|from|extends|filter|endfilter|call|endcall|with|endwith|do)\b(?:[^%]|%[^}])*%\}`)

// jinjaStatement returns the first Jinja statement tag ({% if x %}) in s;
// it only detects them (converting is package jinja's work).
func jinjaStatement(s string) string {
	if !strings.Contains(s, "{%") {
		return ""
	}
	return jinjaStmtRE.FindString(s)
}

// blankLiterals returns expr with the contents of its Go string, raw string
// and character literals replaced by spaces (the quotes kept), so that a
// guard scanning for Jinja syntax does not match text inside them. An
// unterminated literal is blanked to the end.
func blankLiterals(expr string) string {
	b := []byte(expr)
	for i := 0; i < len(b); i++ {
		q := b[i]
		if q != '"' && q != '\'' && q != '`' {
			continue
		}
		j := i + 1
		for ; j < len(b) && b[j] != q; j++ {
			if b[j] == '\\' && q != '`' && j+1 < len(b) {
				b[j] = ' '
				j++
			}
			b[j] = ' '
		}
		i = j
	}
	return string(b)
}

// validGo reports whether expr parses as a Go template pipeline with our
// functions.
func (e *Engine) validGo(expr string) bool { return jinja.IsGoExpr(expr) }

var goCallRE = regexp.MustCompile(`\{\{-?\s*([A-Za-z_]\w*)\s+[.$]\w`)

// goKeywords start Go template actions.
var goKeywords = map[string]bool{"if": true, "else": true, "range": true, "with": true, "define": true, "template": true, "block": true}

// maxHint is the longest whole template given as a hint; a longer one
// gets its first converted action.
const maxHint = 120

// jinjaHint returns the Go-template form of text that looks like Jinja (a
// template, or a bare pipeline when c.expr is set), or "".
func (c *compiled) jinjaHint() string {
	if c.expr {
		src := strings.TrimSuffix(strings.TrimPrefix(c.text, "{{"), "}}")
		if jinja.IsGoExpr(src) {
			return ""
		}
		out, probs := jinja.ConvertExpr(src)
		if len(probs) > 0 || out == src {
			return ""
		}
		return out
	}
	for _, m := range goCallRE.FindAllStringSubmatch(c.text, -1) {
		if !goKeywords[m[1]] {
			// {{ frobnicate .x }}: a Go call of an unknown function, not Jinja.
			return ""
		}
	}
	out, probs := jinja.ConvertTemplate(c.text)
	if len(probs) > 0 || out == c.text {
		return ""
	}
	if len(out) <= maxHint && !strings.Contains(out, "\n") {
		if stmt := jinjaStatement(c.text); stmt != "" && strings.HasPrefix(strings.TrimSpace(c.text), stmt) {
			// A statement: its own action is the hint.
			return firstNewAction(c.text, out)
		}
		if strings.Count(out, "{{") == 1 && strings.HasPrefix(out, "{{") && strings.HasSuffix(out, "}}") {
			return out
		}
		return firstNewAction(c.text, out)
	}
	return firstNewAction(c.text, out)
}

// firstNewAction returns the first {{ }} action of out that src does not
// contain as written.
func firstNewAction(src, out string) string {
	rest := out
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			return ""
		}
		j := strings.Index(rest[i:], "}}")
		if j < 0 {
			return ""
		}
		act := rest[i : i+j+2]
		rest = rest[i+j+2:]
		if !strings.Contains(src, act) {
			return act
		}
	}
}

// convertJinja converts a Jinja expression to a Go pipeline, or returns ""
// when the converter cannot.
func convertJinja(src string) string {
	out, probs := jinja.ConvertExpr(src)
	if len(probs) > 0 || out == src {
		return ""
	}
	return out
}

// FuncNames returns the names of every function a template may call
// (sprig's, text/template's builtins and ours), for tools that parse
// templates themselves, such as lint.
func FuncNames() []string {
	m := funcMap()
	names := make([]string, 0, len(m)+len(builtins))
	for k := range m {
		names = append(names, k)
	}
	for k := range builtins {
		if _, dup := m[k]; !dup {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	return names
}

// Guards reports whether the named function accepts undefined variables
// in its arguments (default, hasKey, d, is_defined, ...): a missing
// variable there is not an error.
func Guards(name string) bool { return guardFuncs[name] || undefFuncs[name] }
