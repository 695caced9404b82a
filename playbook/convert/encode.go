package convert

import (
	"strconv"
	"strings"
	"unicode"

	"gopkg.in/yaml.v3"
)

// encode returns the YAML text for value v in place of a scalar written as
// sp says: the same style where it can hold v, else a quoted one. A plain
// scalar stays plain only while it still reads back as the same string;
// a block scalar keeps its header and indentation.
func encode(v string, sp span, flow bool) string {
	switch sp.style {
	case yaml.LiteralStyle, yaml.FoldedStyle:
		if s, ok := encodeBlock(v, sp); ok {
			return s
		}
	case yaml.DoubleQuotedStyle:
		if !strings.Contains(v, `"`) {
			return doubleQuoted(v)
		}
		// Go templates quote strings with ": single quotes read better
		// than escapes.
	case yaml.SingleQuotedStyle:
		if !strings.ContainsAny(v, "\n\r") && printable(v) {
			return singleQuoted(v)
		}
		return doubleQuoted(v)
	default:
		if plainOK(v, flow) {
			return v
		}
	}
	if strings.Contains(v, `"`) && !strings.ContainsAny(v, "'\n\r") && printable(v) {
		return singleQuoted(v)
	}
	return doubleQuoted(v)
}

// plainOK reports whether v can be written as a plain scalar and read back
// as the same string.
func plainOK(v string, flow bool) bool {
	if v == "" || strings.ContainsAny(v, "\n\r\t") || !printable(v) || strings.TrimSpace(v) != v {
		return false
	}
	doc := "k: " + v
	if flow {
		doc = "[" + v + "]"
	}
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &n); err != nil || len(n.Content) != 1 {
		return false
	}
	c := n.Content[0]
	if len(c.Content) == 0 {
		return false
	}
	c = c.Content[len(c.Content)-1]
	if flow && len(n.Content[0].Content) != 1 {
		return false
	}
	return c.Kind == yaml.ScalarNode && c.Style == 0 && c.ShortTag() == "!!str" && c.Value == v
}

// printable reports whether s holds only printable characters, spaces,
// tabs and line breaks.
func printable(s string) bool {
	for _, r := range s {
		if r != '\n' && r != '\t' && !unicode.IsPrint(r) && r != ' ' {
			return false
		}
	}
	return true
}

func singleQuoted(v string) string {
	return "'" + strings.ReplaceAll(v, "'", "''") + "'"
}

// doubleQuoted writes v as a YAML double-quoted scalar: Go's escapes
// (\n, \t, \", \\, \xNN, \uNNNN, \UNNNNNNNN, ...) are all YAML escapes too.
func doubleQuoted(v string) string { return strconv.Quote(v) }

// encodeBlock writes v as a block scalar with sp's header and indentation.
// The span ends after the last non-empty content line, and the header's
// chomping makes v's trailing line breaks: when v has as many as the
// original value, the header stays; one or none (a condition, which the
// converter writes without) sets the chomping to clip or strip. A folded
// scalar whose new text has inner line breaks becomes a literal one, which
// keeps them.
func encodeBlock(v string, sp span) (string, bool) {
	body := strings.TrimRight(v, "\n")
	if body == "" || strings.HasPrefix(body, " ") || strings.HasPrefix(body, "\t") || strings.Contains(body, "\r") || !printable(body) {
		return "", false
	}
	header := sp.header
	if header[0] == '>' && strings.Contains(body, "\n") {
		header = "|" + header[1:]
	}
	if trail := len(v) - len(body); trail != sp.trailing {
		if trail > 1 {
			return "", false
		}
		header = chomp(header, trail == 0)
	}
	pad := strings.Repeat(" ", sp.indent)
	lines := strings.Split(body, "\n")
	if header[0] == '>' {
		lines = wrap(body, max(sp.width, 80)-sp.indent)
	}
	var b strings.Builder
	b.WriteString(header)
	for _, l := range lines {
		b.WriteByte('\n')
		if l != "" {
			b.WriteString(pad + l)
		}
	}
	return b.String(), true
}

// chomp returns a block scalar header with its chomping indicator set to
// strip ("-") or clip (none); the indentation indicator and a comment
// stay.
func chomp(header string, strip bool) string {
	i := 1
	digits := ""
	for i < len(header) && strings.IndexByte("+-0123456789", header[i]) >= 0 {
		if header[i] >= '0' && header[i] <= '9' {
			digits += header[i : i+1]
		}
		i++
	}
	ind := ""
	if strip {
		ind = "-"
	}
	return header[:1] + ind + digits + header[i:]
}

// wrap breaks a folded scalar's one-line text into lines of at most width
// characters where it can: at a single space between two other
// characters, which folding turns back into that space.
func wrap(text string, width int) []string {
	var lines []string
	r := []rune(text)
	for len(r) > width {
		cut := -1
		for i := 1; i < len(r)-1; i++ {
			if r[i] == ' ' && !blank(r[i-1]) && !blank(r[i+1]) {
				if i > width && cut > 0 {
					break
				}
				cut = i
			}
		}
		if cut < 0 {
			break
		}
		lines = append(lines, string(r[:cut]))
		r = r[cut+1:]
	}
	return append(lines, string(r))
}

func blank(r rune) bool { return r == ' ' || r == '\t' }
