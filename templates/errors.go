package templates

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"text/template"
)

// ErrUndefined is matched (errors.Is) by every undefined-variable error,
// including mandatory's.
var ErrUndefined = errors.New("undefined variable")

// Is makes undefinedError match ErrUndefined.
func (e *undefinedError) Is(target error) bool { return target == ErrUndefined }

// Error is a template error. Callers add position and task context around
// it: `site.yml:12:9: task "install": undefined variable "app_port"`.
type Error struct {
	Template  string // name given by the caller (a file path); "" for inline values
	Line, Col int    // position inside the template text when known (0 otherwise)
	Undefined string // dotted path of the undefined variable, e.g. "app_port" or "result.stdout"
	Hint      string // Go-template form of input that looks like Jinja
	Err       error
}

func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.Template != "":
		b.WriteString(e.Template)
		if e.Line > 0 {
			b.WriteString(":" + strconv.Itoa(e.Line))
			if e.Col > 0 {
				b.WriteString(":" + strconv.Itoa(e.Col))
			}
		}
		b.WriteString(": ")
	case e.Undefined == "":
		b.WriteString("template: ")
	}
	b.WriteString(e.Err.Error())
	if e.Hint != "" {
		b.WriteString("; this looks like Jinja: write ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Message forms of text/template errors.
var (
	parseErrRE = regexp.MustCompile(`(?s)^template: ` + rootName + `:(\d+): (.*)$`)
	execErrRE  = regexp.MustCompile(`(?s)^template: ` + rootName + `:(\d+):(\d+): executing "(?:[^"\\]|\\.)*" at <(.*?)>: (.*)$`)
	undefRE    = regexp.MustCompile(`^(map has no entry for key |nil pointer evaluating |can't evaluate field |nil data; no entry for key )`)
)

// fail turns an error from compiling or executing c into an *Error.
func (c *compiled) fail(name string, err error) error {
	out := &Error{Template: name, Err: err}
	var ue *undefinedError
	switch {
	case errors.As(err, &ue):
		out.Undefined, out.Err = ue.path, ue
		if m := execErrRE.FindStringSubmatch(err.Error()); m != nil {
			out.Line, out.Col = c.position(m[1], m[2])
		}
	case parseErrRE.MatchString(err.Error()):
		m := parseErrRE.FindStringSubmatch(err.Error())
		out.Line, _ = strconv.Atoi(m[1])
		out.Err = errors.New(publicName.Replace(m[2]))
	case execErrRE.MatchString(err.Error()):
		m := execErrRE.FindStringSubmatch(err.Error())
		out.Line, out.Col = c.position(m[1], m[2])
		if undefRE.MatchString(m[4]) {
			path := c.pathAt(m[1], m[2])
			if path == "" {
				path = strings.TrimPrefix(m[3], ".")
			}
			out.Undefined = path
			out.Err = &undefinedError{path: path}
			break
		}
		// Keep the error chain (ErrLimit, function errors) for errors.Is.
		msg := publicName.Replace("at <" + m[3] + ">: " + m[4])
		var ee template.ExecError
		if errors.As(err, &ee) {
			out.Err = &wrapped{msg: msg, err: ee.Err}
		} else {
			out.Err = errors.New(msg)
		}
	}
	if c.expr {
		out.Line, out.Col = 0, 0
	}
	out.Hint = c.jinjaHint()
	return out
}

// wrapped is an error with a rewritten message that still unwraps.
type wrapped struct {
	msg string
	err error
}

func (w *wrapped) Error() string { return w.msg }
func (w *wrapped) Unwrap() error { return errors.Unwrap(w.err) }

// offset converts text/template's "line:col" back to a byte offset.
func (c *compiled) offset(line, col string) int {
	l, _ := strconv.Atoi(line)
	cl, _ := strconv.Atoi(col)
	off := 0
	for i := 1; i < l; i++ {
		j := strings.IndexByte(c.text[off:], '\n')
		if j < 0 {
			return -1
		}
		off += j + 1
	}
	return off + cl
}

func (c *compiled) pathAt(line, col string) string { return c.paths[c.offset(line, col)] }

// position returns the 1-based line and column of a text/template location.
func (c *compiled) position(line, col string) (int, int) {
	l, _ := strconv.Atoi(line)
	cl, _ := strconv.Atoi(col)
	return l, cl + 1
}

// bracesError explains that conditions are bare pipelines.
func (e *Engine) bracesError(what, expr string) error {
	inner := strings.TrimSpace(expr)
	if strings.HasPrefix(inner, "{{") && strings.HasSuffix(inner, "}}") && strings.Count(inner, "{{") == 1 {
		inner = strings.TrimSpace(strings.Trim(strings.TrimSuffix(strings.TrimPrefix(inner, "{{"), "}}"), "-"))
	} else {
		inner = ""
	}
	out := &Error{Err: fmt.Errorf("%s %q contains {{ }}: write the bare pipeline without braces", what, expr)}
	if inner != "" {
		if h := convertJinja(inner); h != "" && !e.validGo(inner) {
			inner = h
		}
		out.Err = fmt.Errorf("%s %q contains {{ }}: write the bare pipeline without braces: %s", what, expr, inner)
	}
	return out
}
