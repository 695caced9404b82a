// Package convert rewrites Ansible content (playbooks, roles, vars files
// and Jinja templates) into mdo-play's Go-template form, editing YAML files
// in place so that every byte outside the changed scalars stays as it was.
package convert

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/mdo-play/mdo-play/templates/jinja"
)

// Problem is a construct left for a human: its position, its Jinja text and
// why it was not converted.
type Problem struct {
	File      string
	Line, Col int
	Text      string
	Reason    string
}

func (p Problem) String() string {
	return fmt.Sprintf("%s:%d:%d: %s: %s", p.File, p.Line, p.Col, oneLine(p.Text, 120), p.Reason)
}

// Func converts one Jinja string; the positions of the problems it returns
// are 1-based lines and columns within src, and File is empty. What it
// cannot convert stays in its output as it was.
type Func func(src string) (string, []Problem)

// Converter converts files. Template converts template text in YAML string
// values; FileText converts a whole template file (Jinja decodes escapes in a
// file's string literals, while Ansible keeps them as written in YAML
// values); Expr converts a bare expression (when, failed_when,
// changed_when, until, assert's that) into a bare pipeline. Both must give
// back already converted text unchanged, so that converting twice changes
// nothing.
type Converter struct {
	Template Func
	FileText Func
	Expr     Func
}

// New returns the converter of package jinja.
func New() *Converter {
	return &Converter{Template: fromJinja(jinja.ConvertTemplate), FileText: fromJinja(jinja.ConvertFile), Expr: fromJinja(jinja.ConvertExpr)}
}

func fromJinja(f func(string) (string, []jinja.Problem)) Func {
	return func(src string) (string, []Problem) {
		out, ps := f(src)
		probs := make([]Problem, len(ps))
		for i, p := range ps {
			probs[i] = Problem{Line: p.Line, Col: p.Col, Text: p.Text, Reason: p.Reason}
		}
		return out, probs
	}
}

// ParseError is input that cannot be read as what it should be: YAML that
// does not parse.
type ParseError struct {
	File string
	Line int
	Msg  string
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Kind is what a file holds, which decides how it is converted.
type Kind int

const (
	Other    Kind = iota // copied as it is
	Tasks                // playbooks, task files, handlers, meta: YAML with conditions
	Vars                 // defaults, vars, group_vars, host_vars: YAML of template values
	Template             // template files: converted as text
)

func (k Kind) String() string {
	return [...]string{"other", "tasks", "vars", "template"}[k]
}

// Classify says what the file at rel, under the directory root, holds,
// from its name and the directories it lies in: files in templates/ and
// *.j2 files are templates; YAML under defaults/, vars/, group_vars/ or
// host_vars/ (where files need no extension) is variables; other YAML is
// plays and tasks. Under root, hidden files and directories and a role's
// files/ are left alone; root's own directories only tell the kind (a
// role's templates/ given as root holds templates).
func Classify(root, rel string) Kind {
	parts := strings.Split(filepath.ToSlash(filepath.Clean(rel)), "/")
	dirs, name := parts[:len(parts)-1], parts[len(parts)-1]
	for _, d := range dirs {
		if strings.HasPrefix(d, ".") && d != ".." || d == "files" {
			return Other
		}
	}
	if strings.HasPrefix(name, ".") {
		return Other
	}
	if abs, err := filepath.Abs(root); err == nil {
		root = abs
	}
	dirs = append(strings.Split(filepath.ToSlash(root), "/"), dirs...)
	vars := false
	for _, d := range dirs {
		switch d {
		case "templates":
			return Template
		case "defaults", "vars", "group_vars", "host_vars":
			vars = true
		}
	}
	ext := strings.ToLower(filepath.Ext(name))
	switch {
	case ext == ".j2":
		return Template
	case ext == ".yml" || ext == ".yaml":
		if vars {
			return Vars
		}
		return Tasks
	case ext == "" && inVarsDir(dirs):
		return Vars
	}
	return Other
}

// inVarsDir reports whether a file lies under group_vars/ or host_vars/,
// where YAML files may have no extension.
func inVarsDir(dirs []string) bool {
	for _, d := range dirs {
		if d == "group_vars" || d == "host_vars" {
			return true
		}
	}
	return false
}

// File converts the text of one file of the given kind; name is used in
// problems and errors. It returns the converted text (src itself when
// nothing changed) and what was left for a human. A vault-encrypted file
// and a binary file are returned as they are.
func (c *Converter) File(name string, kind Kind, src []byte) ([]byte, []Problem, error) {
	if bytes.HasPrefix(src, []byte("$ANSIBLE_VAULT;")) || bytes.IndexByte(src, 0) >= 0 {
		return src, nil, nil
	}
	switch kind {
	case Tasks, Vars:
		return c.yamlFile(name, src, kind == Vars)
	case Template:
		out, probs := c.text(name, src)
		return out, probs, nil
	}
	return src, nil, nil
}

// The markers: a Go template comment at the start of a template's line, a
// YAML comment above a value's line.
const (
	textMarkerOpen  = "{{/* # mdo-convert: "
	textMarkerClose = " */}}"
	yamlMarker      = "# mdo-convert: "
)

// text converts a template file as a whole. Each line holding something
// left unconverted starts with a Go template comment naming the reason,
// which renders as nothing (at the start, a line's text cannot run into
// it); markers from an earlier run are replaced.
func (c *Converter) text(name string, src []byte) ([]byte, []Problem) {
	clean, shift := stripTextMarkers(string(src))
	convert := c.FileText
	if convert == nil {
		convert = c.Template
	}
	out, probs := convert(clean)
	for i := range probs {
		probs[i].File = name
		if l := probs[i].Line - 1; l >= 0 && l < len(shift) {
			probs[i].Col += shift[l] // positions in the file as read
		}
	}
	if len(probs) == 0 {
		if out == string(src) {
			return src, nil
		}
		return []byte(out), nil
	}
	// A problem's line in the output: the converter keeps unconverted text
	// as it was and reports problems in the order of the text, so each is
	// found in the output after where the one before it starts (the
	// output's lines need not match the input's).
	lines := strings.SplitAfter(out, "\n")
	marks := map[int][]string{}
	order := append([]Problem(nil), probs...)
	sort.SliceStable(order, func(i, j int) bool {
		return order[i].Line < order[j].Line || order[i].Line == order[j].Line && order[i].Col < order[j].Col
	})
	from := 0
	for _, p := range order {
		l := lineOf(out, lines, &from, p)
		marks[l] = appendOnce(marks[l], marker(p))
	}
	var b strings.Builder
	for i, l := range lines {
		for _, r := range marks[i] {
			b.WriteString(textMarkerOpen + strings.ReplaceAll(r, "*/", "* /") + textMarkerClose)
		}
		b.WriteString(l)
	}
	return []byte(b.String()), probs
}

// lineOf returns the index of the output line holding problem p's text,
// searching from the offset *from on (and moving it just past where the
// text starts); when the text is not there, the line of the problem's
// position.
func lineOf(out string, lines []string, from *int, p Problem) int {
	if i := strings.Index(out[*from:], p.Text); p.Text != "" && i >= 0 {
		at := *from + i
		*from = at + 1
		return strings.Count(out[:at], "\n")
	}
	return max(0, min(p.Line-1, len(lines)-1))
}

// stripTextMarkers removes the markers an earlier run put at the start of
// lines; it returns the text and, per line, the characters removed.
func stripTextMarkers(s string) (string, []int) {
	if !strings.Contains(s, textMarkerOpen) {
		return s, nil
	}
	lines := strings.SplitAfter(s, "\n")
	shift := make([]int, len(lines))
	for i, l := range lines {
		for strings.HasPrefix(l, textMarkerOpen) {
			j := strings.Index(l, textMarkerClose)
			if j < 0 {
				break
			}
			shift[i] += utf8.RuneCountInString(l[:j+len(textMarkerClose)])
			l = l[j+len(textMarkerClose):]
		}
		lines[i] = l
	}
	return strings.Join(lines, ""), shift
}

// marker is the text of a problem's marker comment: the reason and the
// construct, on one line.
func marker(p Problem) string {
	return oneLine(p.Reason, 160) + ": " + oneLine(p.Text, 80)
}

// oneLine joins s's lines and cuts it after max characters.
func oneLine(s string, max int) string {
	r := []rune(strings.Join(strings.Fields(s), " "))
	if len(r) > max {
		return string(r[:max]) + "..."
	}
	return string(r)
}

func appendOnce(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// exprKeys take a bare expression (or a list of them) in tasks.
var exprKeys = map[string]bool{"when": true, "failed_when": true, "changed_when": true, "until": true}

// varKeys hold variables: a variable named when is not a condition.
var varKeys = map[string]bool{"vars": true, "set_fact": true, "ansible.builtin.set_fact": true, "ansible.legacy.set_fact": true}

// assertModules take their that: as bare expressions.
var assertModules = map[string]bool{"assert": true, "ansible.builtin.assert": true, "ansible.legacy.assert": true}

// edit is one change to a YAML file's text.
type edit struct {
	start, end int
	text       string
}

// yamlConv holds the state of converting one YAML file.
type yamlConv struct {
	c       *Converter
	name    string
	f       *file
	vars    bool
	edits   []edit
	marks   map[int][]string      // line (1-based) -> reasons of what was left on it
	values  map[int]bool          // lines (1-based) where a string (key or value) starts
	changed map[*yaml.Node]string // new text of the values that change
	retyped map[*yaml.Node]bool   // values whose YAML type changes on purpose
	probs   []Problem
}

func (c *Converter) yamlFile(name string, src []byte, vars bool) ([]byte, []Problem, error) {
	// A file written with CRLF line endings throughout is edited as LF and
	// written back with CRLF.
	if n := bytes.Count(src, []byte("\r\n")); n > 0 && n == bytes.Count(src, []byte("\n")) {
		lf := bytes.ReplaceAll(src, []byte("\r\n"), []byte("\n"))
		out, probs, err := c.yamlFile(name, lf, vars)
		if err != nil || bytes.Equal(out, lf) {
			return src, probs, err
		}
		return bytes.ReplaceAll(out, []byte("\n"), []byte("\r\n")), probs, nil
	}
	if !vars {
		src = rewriteLoops(src)
	}
	y := &yamlConv{c: c, name: name, f: newFile(src), vars: vars, marks: map[int][]string{}, values: map[int]bool{}, changed: map[*yaml.Node]string{}, retyped: map[*yaml.Node]bool{}}
	docs, err := decodeAll(src)
	if err != nil {
		return nil, nil, yamlError(name, err)
	}
	for _, doc := range docs {
		y.node(doc, false, -1, "", "")
	}
	out := y.apply()
	if bytes.Equal(out, src) {
		return src, y.probs, nil
	}
	if err := y.verify(docs, out); err != nil {
		// Never write YAML that does not read back as intended.
		p := Problem{File: name, Line: 1, Col: 1, Text: "(the whole file)", Reason: "file left as it was: the edited text does not read back as intended: " + err.Error()}
		return src, append(y.probs, p), nil
	}
	return out, y.probs, nil
}

// decodeAll parses every document of a YAML stream.
func decodeAll(src []byte) ([]*yaml.Node, error) {
	var docs []*yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(src))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		docs = append(docs, &doc)
	}
}

// verify parses the edited text and checks it against the original
// documents: the same structure, every value the same but the changed
// ones, which hold their new text.
func (y *yamlConv) verify(docs []*yaml.Node, out []byte) error {
	got, err := decodeAll(out)
	if err != nil {
		return err
	}
	if len(got) != len(docs) {
		return fmt.Errorf("%d documents instead of %d", len(got), len(docs))
	}
	var same func(a, b *yaml.Node) error
	same = func(a, b *yaml.Node) error {
		want := a.Value
		if v, ok := y.changed[a]; ok {
			want = v
		}
		switch {
		case a.Kind != b.Kind || len(a.Content) != len(b.Content):
			return fmt.Errorf("line %d: the structure changed", a.Line)
		case a.Kind == yaml.ScalarNode && (b.Value != want || a.ShortTag() != b.ShortTag() && !y.retyped[a]):
			return fmt.Errorf("line %d: %q reads back as %q", a.Line, want, b.Value)
		}
		for i := range a.Content {
			if err := same(a.Content[i], b.Content[i]); err != nil {
				return err
			}
		}
		return nil
	}
	for i := range docs {
		if err := same(docs[i], got[i]); err != nil {
			return err
		}
	}
	return nil
}

// yamlError turns yaml.v3's "yaml: line N: msg" into a *ParseError.
func yamlError(name string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, tail, ok := strings.Cut(rest, ": "); ok {
			if _, e := fmt.Sscanf(n, "%d", &line); e == nil {
				msg = tail
			}
		}
	}
	return &ParseError{File: name, Line: line, Msg: "invalid YAML: " + msg}
}

// node walks n; flow says whether it is inside a flow collection, parent
// is the indentation of its parent, key the mapping key it is the value of
// (or, for list items, the key of the list), and outer the key one level
// up (assert's that: is a condition).
func (y *yamlConv) node(n *yaml.Node, flow bool, parent int, key, outer string) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			y.node(c, false, -1, "", "")
		}
	case yaml.SequenceNode:
		inFlow := flow || n.Style&yaml.FlowStyle != 0
		if !y.vars && !inFlow && (parent == -1 || taskListKeys[key]) {
			y.includes(n, parent == -1 && hasPlays(n))
			y.alwaysRun(n)
		}
		for _, c := range n.Content {
			y.node(c, inFlow, n.Column-1, key, outer)
		}
	case yaml.MappingNode:
		inFlow := flow || n.Style&yaml.FlowStyle != 0
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!str" && k.Tag != "!unsafe" {
				y.scalar(k, inFlow, n.Column-1, false) // keys are templates too
			}
			y.node(v, inFlow, k.Column-1, k.Value, key)
		}
	case yaml.ScalarNode:
		if n.ShortTag() != "!!str" || n.Tag == "!unsafe" || n.Tag == "!vault" {
			return
		}
		expr := !y.vars && (exprKeys[key] && !varKeys[outer] || key == "that" && assertModules[outer])
		y.scalar(n, flow, parent, expr)
	}
}

// scalar converts one string (a value, or a key: keys are templates too).
func (y *yamlConv) scalar(n *yaml.Node, flow bool, parent int, expr bool) {
	y.values[n.Line] = true
	v := n.Value
	var out string
	var probs []Problem
	switch {
	case expr:
		out, probs = y.c.Expr(v)
	case strings.Contains(v, "{{") || strings.Contains(v, "{%") || strings.Contains(v, "{#"):
		out, probs = y.c.Template(v)
	default:
		return
	}
	if out == v && len(probs) == 0 {
		return
	}
	sp, ok := y.f.locate(n, flow, parent)
	if !ok {
		line, col := n.Line, n.Column
		y.probs = append(y.probs, Problem{File: y.name, Line: line, Col: col, Text: v, Reason: "cannot find this value's text in the file to edit it"})
		return
	}
	for _, p := range probs {
		p.File = y.name
		p.Line, p.Col = y.place(n, sp, v, p.Line, p.Col)
		y.probs = append(y.probs, p)
		y.marks[n.Line] = appendOnce(y.marks[n.Line], marker(p))
	}
	if out == v {
		return
	}
	y.edits = append(y.edits, edit{start: sp.start, end: sp.end, text: encode(out, sp, flow)})
	y.changed[n] = out
}

// place maps a 1-based line and column within the value v of scalar n to
// its line and column in the file.
func (y *yamlConv) place(n *yaml.Node, sp span, v string, line, col int) (int, int) {
	off := 0
	for l := 1; l < line; l++ {
		i := strings.IndexByte(v[off:], '\n')
		if i < 0 {
			break
		}
		off += i + 1
	}
	off += col - 1
	if sp.src == nil || off < 0 || off >= len(sp.src) {
		return n.Line, n.Column
	}
	return y.f.position(sp.src[off])
}

// apply makes the edits and puts the markers above the lines holding
// unconverted text. Markers an earlier run left above a value's line are
// replaced (or removed when nothing is left there), so that converting
// twice changes nothing.
func (y *yamlConv) apply() []byte {
	d := y.f.data
	all := append([]edit(nil), y.edits...)
	placed := map[int]bool{}
	lines := len(y.f.starts)
	for l := 1; l <= lines; l++ {
		if !isMarker(y.lineText(l)) {
			continue
		}
		owner := l
		for owner <= lines && isMarker(y.lineText(owner)) {
			owner++
		}
		if owner <= lines && y.values[owner] {
			all = append(all, edit{start: y.f.starts[l-1], end: y.f.starts[owner-1], text: y.markers(owner)})
			placed[owner] = true
		}
		l = owner - 1
	}
	for line := range y.marks {
		if !placed[line] {
			start := y.f.starts[line-1]
			all = append(all, edit{start: start, end: start, text: y.markers(line)})
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].start < all[j].start })
	var b bytes.Buffer
	at := 0
	for _, e := range all {
		if e.start < at {
			continue // overlapping edits cannot happen: values do not overlap
		}
		b.Write(d[at:e.start])
		b.WriteString(e.text)
		at = e.end
	}
	b.Write(d[at:])
	return b.Bytes()
}

// markers returns the marker comment lines for a line (none when nothing
// was left there), indented like the line.
func (y *yamlConv) markers(line int) string {
	indent := leadingSpace(y.lineText(line))
	var b strings.Builder
	for _, r := range y.marks[line] {
		b.WriteString(indent + yamlMarker + r + "\n")
	}
	return b.String()
}

func (y *yamlConv) lineText(l int) string {
	start := y.f.starts[l-1]
	return strings.TrimRight(string(y.f.data[start:y.f.lineEnd(start)]), "\r")
}

func isMarker(line string) bool {
	return strings.HasPrefix(strings.TrimLeft(line, " \t"), yamlMarker)
}

func leadingSpace(s string) string {
	return s[:len(s)-len(strings.TrimLeft(s, " \t"))]
}

// taskListKeys hold lists of tasks (a file's top-level list is one too, or
// a list of plays).
var taskListKeys = map[string]bool{
	"tasks": true, "pre_tasks": true, "post_tasks": true, "handlers": true,
	"block": true, "rescue": true, "always": true,
}

// includeKeys are the names of the include action that ansible-core 2.14
// still runs (deprecated, removed in 2.16) and mdo-play does not.
var includeKeys = map[string]bool{"include": true, "ansible.builtin.include": true, "ansible.legacy.include": true}

// hasPlays says a top-level list holds plays: one of its items has hosts:
// or import_playbook:.
func hasPlays(seq *yaml.Node) bool {
	for _, c := range seq.Content {
		if c.Kind != yaml.MappingNode {
			continue
		}
		for i := 0; i+1 < len(c.Content); i += 2 {
			switch c.Content[i].Value {
			case "hosts", "import_playbook", "ansible.builtin.import_playbook":
				return true
			}
		}
	}
	return false
}

// alwaysRun rewrites always_run: yes, which Ansible 2.4 removed (every
// later version fails to load it), as the porting guide says:
// check_mode: false. A false or templated always_run is left (it loads in
// no version of Ansible that is still in use either).
func (y *yamlConv) alwaysRun(seq *yaml.Node) {
	for _, t := range seq.Content {
		if t.Kind != yaml.MappingNode || t.Style&yaml.FlowStyle != 0 {
			continue
		}
		for i := 0; i+1 < len(t.Content); i += 2 {
			k, v := t.Content[i], t.Content[i+1]
			if k.Value != "always_run" || k.Style != 0 || v.Kind != yaml.ScalarNode || v.Style != 0 {
				continue
			}
			switch strings.ToLower(v.Value) {
			case "yes", "true", "on", "1", "y":
			default:
				continue
			}
			ks, ok1 := y.f.locate(k, false, t.Column-1)
			vs, ok2 := y.f.locate(v, false, t.Column-1)
			if !ok1 || !ok2 {
				continue
			}
			y.edits = append(y.edits, edit{start: ks.start, end: ks.end, text: "check_mode"}, edit{start: vs.start, end: vs.end, text: "false"})
			y.changed[k], y.changed[v] = "check_mode", "false"
			y.retyped[v] = true
		}
	}
}

// includes renames the include action of the items of a list of tasks
// (plays, when plays is set) to what ansible-core 2.14 makes of it
// (playbook/helpers.py): among plays, import_playbook; among tasks,
// import_tasks when the file name is not a template and the task has no
// loop, include_tasks otherwise. An include that passes variables as
// key=value after the file name, or says static:, stays as it is.
func (y *yamlConv) includes(seq *yaml.Node, plays bool) {
	for _, t := range seq.Content {
		if t.Kind != yaml.MappingNode || t.Style&yaml.FlowStyle != 0 {
			continue
		}
		var key, val *yaml.Node
		dynamic, static := false, false
		for i := 0; i+1 < len(t.Content); i += 2 {
			k := t.Content[i].Value
			switch {
			case includeKeys[k]:
				key, val = t.Content[i], t.Content[i+1]
			case k == "static":
				static = true
			case k == "loop" || strings.HasPrefix(k, "with_"):
				dynamic = true
			}
		}
		if key == nil || static || val.Kind != yaml.ScalarNode || key.Style != 0 {
			continue
		}
		file := strings.TrimSpace(val.Value)
		if file == "" || strings.ContainsAny(file, " \t\n") && !strings.Contains(file, "{{") {
			continue
		}
		if strings.Contains(file, "{{") {
			dynamic = true
		}
		name := "import_tasks"
		switch {
		case plays:
			name = "import_playbook"
		case dynamic:
			name = "include_tasks"
		}
		sp, ok := y.f.locate(key, false, t.Column-1)
		if !ok {
			continue
		}
		y.edits = append(y.edits, edit{start: sp.start, end: sp.end, text: name})
		y.changed[key] = name
	}
}
