package lint

import (
	"strings"
	"unicode/utf8"

	"github.com/mdo-play/mdo-play/playbook"
)

// convertMarker is what `mdo-play convert` writes above (in YAML) or at the
// start of the line of (in templates) a construct it left for a human.
const convertMarker = "# mdo-convert:"

// recording returns a copy of l whose file reads, its own and its
// loader's, are kept in c, so that the marker rule sees every file the
// playbook uses: task files, handlers, vars files, templates.
func (c *checker) recording(l *Linter) *Linter {
	read := l.readFile
	cp := *l
	ld := *l.Loader
	ld.ReadFile = func(path string) ([]byte, error) {
		data, err := read(path)
		if err == nil {
			if _, ok := c.files[path]; !ok {
				c.order = append(c.order, path)
			}
			c.files[path] = data
		}
		return data, err
	}
	cp.Loader = &ld
	return &cp
}

// convertMarkers reports every `# mdo-convert:` marker in the files read.
func (c *checker) convertMarkers() {
	for _, path := range c.order {
		for i, line := range strings.Split(string(c.files[path]), "\n") {
			at := strings.Index(line, convertMarker)
			if at < 0 {
				continue
			}
			what := line[at+len(convertMarker):]
			if strings.HasSuffix(line[:at], "{{/* ") {
				what, _, _ = strings.Cut(what, "*/}}") // a template's marker
			}
			what = strings.TrimSpace(what)
			pos := playbook.Pos{File: path, Line: i + 1, Col: utf8.RuneCountInString(line[:at]) + 1}
			c.add(pos, RuleConvertMarker, "left by mdo-play convert for a human: %s", what)
		}
	}
}
