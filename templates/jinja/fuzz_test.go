package jinja_test

import (
	"testing"

	"github.com/mdo-play/mdo-play/templates"
	"github.com/mdo-play/mdo-play/templates/jinja"
)

// FuzzConvert checks that any input converts without panicking, and that
// what converts without problems parses as a Go template and converts to
// itself again.
func FuzzConvert(f *testing.F) {
	for _, c := range templateCases {
		f.Add(c.jinja)
	}
	for _, c := range statementCases {
		f.Add(c.jinja)
	}
	for _, c := range exprCases {
		f.Add(c.jinja)
	}
	eng := templates.New()
	f.Fuzz(func(t *testing.T, src string) {
		out, probs := jinja.ConvertTemplate(src)
		if len(probs) == 0 && out != src {
			if err := eng.Check(out); err != nil {
				t.Fatalf("%q converts to %q, which does not parse: %v", src, out, err)
			}
			if again, p2 := jinja.ConvertTemplate(out); again != out || len(p2) > 0 {
				t.Fatalf("%q converts to %q, then to %q %v", src, out, again, p2)
			}
		}
		jinja.ConvertFile(src)
		if e, probs := jinja.ConvertExpr(src); len(probs) == 0 && e != src {
			if err := eng.CheckCond(e); err != nil {
				t.Fatalf("expression %q converts to %q, which does not parse: %v", src, e, err)
			}
		}
	})
}
