package convert

import (
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// span is where one scalar's text lies in the file, and where each byte of
// its value came from.
type span struct {
	start, end int // byte offsets of the scalar's text (quotes and block header included)
	style      yaml.Style
	header     string // block scalars: the header line as written ("|-", ">2 # comment", ...)
	indent     int    // block scalars: the content's indentation
	trailing   int    // block scalars: the line breaks that end the value
	width      int    // block scalars: the length of the longest content line
	src        []int  // for each byte of the value, its byte offset in the file (nil when unknown)
}

// lineStarts returns the byte offset of the start of every line.
func lineStarts(data []byte) []int {
	starts := []int{0}
	for i, b := range data {
		if b == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}

// file is one YAML file's text with its line index.
type file struct {
	data   []byte
	starts []int
}

func newFile(data []byte) *file { return &file{data: data, starts: lineStarts(data)} }

// offset returns the byte offset of a yaml.v3 position (1-based line, and
// 1-based column counted in characters).
func (f *file) offset(line, col int) int {
	if line < 1 || line > len(f.starts) {
		return -1
	}
	off := f.starts[line-1]
	for c := 1; c < col && off < len(f.data) && f.data[off] != '\n'; c++ {
		_, n := utf8.DecodeRune(f.data[off:])
		off += n
	}
	return off
}

// position returns the 1-based line and character column of a byte offset.
func (f *file) position(off int) (int, int) {
	line := 1
	lo, hi := 0, len(f.starts)-1
	for lo <= hi {
		m := (lo + hi) / 2
		if f.starts[m] <= off {
			line, lo = m+1, m+1
		} else {
			hi = m - 1
		}
	}
	return line, utf8.RuneCount(f.data[f.starts[line-1]:off]) + 1
}

// lineEnd returns the offset of the newline ending the line holding off
// (or the end of the file).
func (f *file) lineEnd(off int) int {
	for off < len(f.data) && f.data[off] != '\n' {
		off++
	}
	return off
}

// baseStyle is a scalar's style without the tagged and flow bits.
func baseStyle(s yaml.Style) yaml.Style {
	return s &^ (yaml.TaggedStyle | yaml.FlowStyle)
}

// locate finds the text of scalar n in the file, or reports false when its
// text cannot be matched with its value (the scalar is then left alone).
// flow says whether the scalar sits inside a flow collection; parent is the
// indentation of the node holding it (the column of its key, or of its
// sequence, minus one), which bounds a block scalar's content.
func (f *file) locate(n *yaml.Node, flow bool, parent int) (span, bool) {
	off := f.offset(n.Line, n.Column)
	if off < 0 {
		return span{}, false
	}
	// Skip the anchor and tag properties the position starts at.
	for off < len(f.data) && (f.data[off] == '&' || f.data[off] == '!') {
		for off < len(f.data) && !isSpace(f.data[off]) && f.data[off] != '\n' {
			off++
		}
		for off < len(f.data) && isSpace(f.data[off]) {
			off++
		}
	}
	s := span{start: off, style: baseStyle(n.Style)}
	var ok bool
	switch s.style {
	case yaml.DoubleQuotedStyle:
		ok = f.quoted(&s, '"', n.Value)
	case yaml.SingleQuotedStyle:
		ok = f.quoted(&s, '\'', n.Value)
	case yaml.LiteralStyle, yaml.FoldedStyle:
		ok = f.block(&s, n.Value, parent)
	default:
		ok = f.plain(&s, n.Value, flow)
	}
	return s, ok
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\r' }

// fold consumes a line break inside a flow scalar at off (pointing at the
// '\n'), with the whitespace around it: one break folds to a space, each
// further empty line gives a newline. It returns the new offset and the
// folded text.
func (f *file) fold(off int) (int, string) {
	breaks := 0
	for ; off < len(f.data); off++ {
		if f.data[off] == '\n' {
			breaks++
		} else if !isSpace(f.data[off]) {
			break
		}
	}
	if breaks == 1 {
		return off, " "
	}
	return off, strings.Repeat("\n", breaks-1)
}

// trimTrailing removes the trailing blanks of out (and their offsets)
// before a line break inside a flow scalar.
func trimTrailing(out []byte, src []int) ([]byte, []int) {
	for len(out) > 0 && (out[len(out)-1] == ' ' || out[len(out)-1] == '\t') {
		out, src = out[:len(out)-1], src[:len(src)-1]
	}
	return out, src
}

// quoted decodes a single- or double-quoted scalar starting at s.start.
func (f *file) quoted(s *span, q byte, value string) bool {
	d := f.data
	if s.start >= len(d) || d[s.start] != q {
		return false
	}
	var out []byte
	var src []int
	add := func(text string, at int) {
		out = append(out, text...)
		for range len(text) {
			src = append(src, at)
		}
	}
	i := s.start + 1
	for i < len(d) {
		c := d[i]
		switch {
		case c == q && q == '\'' && i+1 < len(d) && d[i+1] == '\'':
			add("'", i)
			i += 2
		case c == q:
			s.end = i + 1
			s.src = src
			return string(out) == value
		case c == '\\' && q == '"':
			if i+1 >= len(d) {
				return false
			}
			if d[i+1] == '\n' || d[i+1] == '\r' && i+2 < len(d) && d[i+2] == '\n' {
				// An escaped line break: joined without a space.
				i = f.lineEnd(i) + 1
				for i < len(d) && isSpace(d[i]) {
					i++
				}
				continue
			}
			text, n := unescape(d[i:])
			if n == 0 {
				return false
			}
			add(text, i)
			i += n
		case c == '\n':
			out, src = trimTrailing(out, src)
			at := i
			var text string
			i, text = f.fold(i)
			add(text, at)
		default:
			_, n := utf8.DecodeRune(d[i:])
			add(string(d[i:i+n]), i)
			i += n
		}
	}
	return false
}

// unescape decodes one double-quoted escape at the start of b (which starts
// with a backslash); it returns the text and the bytes consumed (0 when the
// escape is invalid).
func unescape(b []byte) (string, int) {
	if len(b) < 2 {
		return "", 0
	}
	simple := map[byte]string{
		'0': "\x00", 'a': "\a", 'b': "\b", 't': "\t", '\t': "\t", 'n': "\n", 'v': "\v", 'f': "\f",
		'r': "\r", 'e': "\x1b", ' ': " ", '"': "\"", '/': "/", '\\': "\\",
		'N': "\u0085", '_': "\u00a0", 'L': "\u2028", 'P': "\u2029",
	}
	if t, ok := simple[b[1]]; ok {
		return t, 2
	}
	width := map[byte]int{'x': 2, 'u': 4, 'U': 8}[b[1]]
	if width == 0 || len(b) < 2+width {
		return "", 0
	}
	var r rune
	for _, h := range b[2 : 2+width] {
		var v byte
		switch {
		case h >= '0' && h <= '9':
			v = h - '0'
		case h >= 'a' && h <= 'f':
			v = h - 'a' + 10
		case h >= 'A' && h <= 'F':
			v = h - 'A' + 10
		default:
			return "", 0
		}
		r = r<<4 | rune(v)
	}
	return string(r), 2 + width
}

// plain decodes a plain scalar starting at s.start; multi-line plain
// scalars are followed line by line for as long as the value says.
func (f *file) plain(s *span, value string, flow bool) bool {
	d := f.data
	var out []byte
	var src []int
	i := s.start
	for {
		// One line's segment: up to a comment, a ": ", or (in flow
		// context) a flow indicator.
		segEnd := i
		for j := i; j < len(d) && d[j] != '\n'; j++ {
			c := d[j]
			if c == '#' && j > s.start && (d[j-1] == ' ' || d[j-1] == '\t') {
				break
			}
			if c == ':' && (j+1 == len(d) || d[j+1] == ' ' || d[j+1] == '\n' || d[j+1] == '\r' || flow && strings.IndexByte(",[]{}", d[j+1]) >= 0) {
				break
			}
			if flow && strings.IndexByte(",[]{}", c) >= 0 {
				break
			}
			if !isSpace(c) {
				segEnd = j + 1
			}
		}
		for j := i; j < segEnd; j++ {
			out = append(out, d[j])
			src = append(src, j)
		}
		if len(out) >= len(value) || segEnd < f.lineEnd(segEnd) && !isSpace(d[segEnd]) {
			s.end = segEnd
			s.src = src
			return string(out) == value
		}
		// Continue on the next line.
		at := f.lineEnd(segEnd)
		if at >= len(d) {
			return false
		}
		var text string
		i, text = f.fold(at)
		out = append(out, text...)
		for range len(text) {
			src = append(src, at)
		}
	}
}

// block finds the extent of a literal or folded block scalar whose header
// starts at s.start: its content lines are those indented at least as much
// as its first non-empty line. The span ends after the last non-empty
// content line.
func (f *file) block(s *span, value string, parentIndent int) bool {
	d := f.data
	eol := f.lineEnd(s.start)
	s.header = strings.TrimRight(string(d[s.start:eol]), " \t\r")
	s.trailing = len(value) - len(strings.TrimRight(value, "\n"))
	indicators := s.header
	if i := strings.Index(indicators, " #"); i >= 0 {
		indicators = indicators[:i]
	}
	explicit := 0
	for _, c := range indicators[1:] {
		if c >= '1' && c <= '9' {
			explicit = int(c - '0')
		}
	}
	line, _ := f.position(s.start)
	s.end = eol
	indent := -1
	if explicit > 0 {
		indent = parentIndent + explicit
	}
	for l := line; l < len(f.starts); l++ {
		start := f.starts[l]
		end := f.lineEnd(start)
		text := strings.TrimRight(string(d[start:end]), "\r")
		ind := len(text) - len(strings.TrimLeft(text, " "))
		if strings.TrimSpace(text) == "" {
			continue
		}
		if indent < 0 {
			if ind <= parentIndent {
				break
			}
			indent = ind
		}
		if ind < indent {
			break
		}
		s.width = max(s.width, utf8.RuneCountInString(text))
		s.end = end
	}
	if indent < 0 {
		indent = parentIndent + 1
	}
	s.indent = indent
	s.src = f.blockSources(s, value)
	return true
}

// blockSources maps a block scalar's value to its content: the content
// lines (without indentation, each with its line break) are walked along
// the value, a line break standing for the space or nothing that folding
// made of it. It returns nil when the value does not match the lines.
func (f *file) blockSources(s *span, value string) []int {
	d := f.data
	var stream []byte
	var at []int
	for off := f.lineEnd(s.start) + 1; off < s.end; {
		end := f.lineEnd(off)
		for j := min(off+s.indent, end); j < end; j++ {
			stream = append(stream, d[j])
			at = append(at, j)
		}
		stream = append(stream, '\n')
		at = append(at, end)
		off = end + 1
	}
	src := make([]int, 0, len(value))
	j := 0
	for i := 0; i < len(value); i++ {
		for j < len(stream) && stream[j] == '\n' && value[i] != '\n' && value[i] != ' ' {
			j++ // a line break folded away
		}
		switch {
		case j < len(stream) && (stream[j] == value[i] || stream[j] == '\n' && value[i] == ' '):
			src = append(src, at[j])
			j++
		case j >= len(stream) && value[i] == '\n':
			src = append(src, s.end) // kept trailing line breaks
		default:
			return nil
		}
	}
	return src
}
