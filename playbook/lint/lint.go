// Package lint checks playbooks without connecting anywhere: load errors,
// unnamed tasks, handlers and notifications that do not meet, undefined
// variables, Jinja written where Go templates are expected, command and
// shell used where a module exists, and file modes given as YAML integers.
package lint

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/mdo-play/mdo-play/playbook"
	"github.com/mdo-play/mdo-play/templates"
)

// Rule ids.
const (
	RuleLoadError      = "load-error"
	RuleNameMissing    = "name-missing"
	RuleHandlerUnused  = "handler-unused"
	RuleNotifyUnknown  = "notify-unknown"
	RuleVarUndefined   = "var-undefined"
	RuleWhenBraces     = "when-braces"
	RuleJinjaSyntax    = "jinja-syntax"
	RuleTemplateSyntax = "template-syntax"
	RuleCommandModule  = "command-instead-of-module"
	RuleRiskyOctal     = "risky-octal"
	RuleConvertMarker  = "convert-marker"
)

// Rule describes one rule.
type Rule struct {
	ID          string
	Description string
}

// Rules returns every rule, in the order docs/lint.md lists them.
func Rules() []Rule {
	return []Rule{
		{RuleLoadError, "the playbook does not load: unknown module, keyword or argument, bad value, missing role or file"},
		{RuleNameMissing, "a task or handler has no name"},
		{RuleHandlerUnused, "a handler is never notified (by its name or a listen topic)"},
		{RuleNotifyUnknown, "a task notifies a handler that does not exist in its play"},
		{RuleVarUndefined, "a variable is used but defined nowhere"},
		{RuleWhenBraces, "a condition (when, failed_when, changed_when, until, assert that) is wrapped in {{ }}"},
		{RuleJinjaSyntax, "a condition or template is written in Jinja instead of Go template syntax"},
		{RuleTemplateSyntax, "a template or condition does not parse"},
		{RuleCommandModule, "command or shell runs a program a module does the job of"},
		{RuleRiskyOctal, "a file mode is an unquoted YAML integer"},
		{RuleConvertMarker, "mdo-play convert left a construct for a human (a # mdo-convert: comment)"},
	}
}

// KnownRule reports whether id names a rule.
func KnownRule(id string) bool {
	for _, r := range Rules() {
		if r.ID == id {
			return true
		}
	}
	return false
}

// Finding is one problem found in a file.
type Finding struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Col     int    `json:"col"`
	Rule    string `json:"rule"`
	Message string `json:"message"`
}

func (f Finding) String() string {
	return fmt.Sprintf("%s:%d:%d: %s: %s", f.File, f.Line, f.Col, f.Rule, f.Message)
}

// Sort orders findings by file, line, column and rule.
func Sort(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		switch {
		case a.File != b.File:
			return a.File < b.File
		case a.Line != b.Line:
			return a.Line < b.Line
		case a.Col != b.Col:
			return a.Col < b.Col
		case a.Rule != b.Rule:
			return a.Rule < b.Rule
		}
		return a.Message < b.Message
	})
}

// Linter checks playbooks. The zero value is not usable: Loader is required.
type Linter struct {
	// Loader loads playbooks, roles and included task files; its ReadFile
	// (vault decryption) is used for every file the linter reads.
	Loader *playbook.Loader
	// ExtraVars are the -e variables: defined everywhere, and used to
	// resolve templated vars_files names.
	ExtraVars map[string]any
	// Defined names variables defined outside the playbooks (inventory
	// host and group variables).
	Defined []string
	// Skip lists rule ids not to report.
	Skip []string
	// BaseDir, when set, makes the files of findings that lie inside it
	// relative to it (roles are loaded with absolute paths).
	BaseDir string
}

// ParseError is returned by Lint when a playbook cannot be read or is not
// YAML at all; nothing else can be checked in it.
type ParseError struct {
	Path string
	Err  error
}

func (e *ParseError) Error() string { return e.Err.Error() }
func (e *ParseError) Unwrap() error { return e.Err }

// Lint checks the playbook at path and returns its findings, sorted, with
// rules in Skip and lines marked `# noqa` (all rules) or `# noqa: RULE...`
// left out. It returns a *ParseError when the file cannot be read or
// parsed as YAML.
func (l *Linter) Lint(ctx context.Context, path string) ([]Finding, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	data, err := l.readFile(path)
	if err != nil {
		return nil, &ParseError{Path: path, Err: fmt.Errorf("read playbook: %w", err)}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &ParseError{Path: path, Err: fmt.Errorf("%s: invalid YAML: %s", path, strings.TrimPrefix(err.Error(), "yaml: "))}
	}
	c := &checker{eng: templates.New(), sources: map[string]*source{}, includes: map[string]*include{}, seen: map[Finding]bool{}, files: map[string][]byte{path: data}, order: []string{path}}
	c.l = c.recording(l)
	pb, err := c.l.Loader.Parse(path, data)
	if err != nil {
		c.loadErrors(path, err)
	} else {
		c.playbook(ctx, pb)
	}
	c.convertMarkers()
	return c.result(), nil
}

func (l *Linter) readFile(path string) ([]byte, error) {
	if l.Loader != nil && l.Loader.ReadFile != nil {
		return l.Loader.ReadFile(path)
	}
	return os.ReadFile(path)
}

// checker holds the state of one Lint call.
type checker struct {
	l        *Linter
	eng      *templates.Engine
	sources  map[string]*source  // raw YAML of files, by path
	includes map[string]*include // include_tasks files, by path
	seen     map[Finding]bool    // against duplicates (a role applied twice)
	findings []Finding
	files    map[string][]byte // every file read, for rules over whole files
	order    []string          // their paths, in the order first read
}

// include is one include_tasks file loaded for linting.
type include struct {
	tasks []*playbook.Task
	err   error
}

func (c *checker) skipped(rule string) bool {
	for _, s := range c.l.Skip {
		if s == rule {
			return true
		}
	}
	return false
}

func (c *checker) add(pos playbook.Pos, rule, format string, args ...any) {
	if c.skipped(rule) {
		return
	}
	f := Finding{File: pos.File, Line: pos.Line, Col: pos.Col, Rule: rule, Message: fmt.Sprintf(format, args...)}
	if c.noqa(f) {
		return
	}
	f.File = c.display(f.File)
	if c.seen[f] {
		return
	}
	c.seen[f] = true
	c.findings = append(c.findings, f)
}

func (c *checker) result() []Finding {
	out := c.findings
	if out == nil {
		out = []Finding{}
	}
	Sort(out)
	return out
}

// loadErrors reports the loader's errors as findings: a join of
// *playbook.Error values (possibly nested).
func (c *checker) loadErrors(file string, err error) {
	var walk func(err error)
	walk = func(err error) {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		var pe *playbook.Error
		if errors.As(err, &pe) {
			pos := pe.Pos
			if pos.File == "" {
				pos.File = file
			}
			c.add(pos, RuleLoadError, "%s", pe.Msg)
			return
		}
		c.add(playbook.Pos{File: file, Line: 1, Col: 1}, RuleLoadError, "%s", err.Error())
	}
	walk(err)
}

// noqa reports whether the finding's line carries `# noqa` for its rule.
func (c *checker) noqa(f Finding) bool {
	src := c.source(f.File)
	if src == nil || f.Line < 1 || f.Line > len(src.lines) {
		return false
	}
	line := src.lines[f.Line-1]
	i := strings.Index(line, "# noqa")
	if i < 0 {
		return false
	}
	rest := strings.TrimSpace(line[i+len("# noqa"):])
	if !strings.HasPrefix(rest, ":") {
		return true
	}
	for _, r := range strings.FieldsFunc(rest[1:], func(r rune) bool { return r == ' ' || r == ',' }) {
		if r == f.Rule {
			return true
		}
	}
	return false
}

// display returns path relative to the linter's BaseDir when it lies
// inside it.
func (c *checker) display(path string) string {
	if c.l.BaseDir == "" {
		return path
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return path
	}
	if r, err := filepath.Rel(c.l.BaseDir, abs); err == nil && r != ".." && !strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return r
	}
	return path
}
