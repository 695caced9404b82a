package lint

import (
	"strings"

	"github.com/mdo-play/mdo-play/templates"
)

// unguarded keeps the uses of a template analysis (templates.Analyze)
// where a missing variable is an error.
func unguarded(uses []templates.Use, err error) ([]templates.Use, error) {
	if err != nil {
		return nil, err
	}
	out := make([]templates.Use, 0, len(uses))
	for _, u := range uses {
		if !u.Guarded {
			out = append(out, u)
		}
	}
	return out, nil
}

// lineCol returns the 1-based line and column of byte offset off in text.
func lineCol(text string, off int) (int, int) {
	if off > len(text) {
		off = len(text)
	}
	before := text[:off]
	line := strings.Count(before, "\n") + 1
	col := off - strings.LastIndexByte(before, '\n')
	return line, col
}
