package modules

import (
	"context"
	"regexp"
	"strconv"
	"strings"

	"github.com/mdo-play/mdo-play/templates/pyre"
)

// LineInFile is the lineinfile module: it makes sure one line is in a file
// (replacing the line a regexp or search_string finds, else inserting it
// after/before a matching line, BOF or EOF) or that matching lines are
// absent. The algorithm is Ansible's, line by line; regexps are Go RE2 and
// are matched against each line without its newline, so `$` behaves as in
// Ansible.
type LineInFile struct{}

var _ Module = LineInFile{}

// Spec describes lineinfile's arguments.
func (LineInFile) Spec() *Spec {
	return &Spec{
		Args: append(fileAttrArgs(),
			Arg{Name: "path", Aliases: []string{"dest", "destfile", "name"}, Type: TypePath, Required: true},
			Arg{Name: "state", Type: TypeStr, Default: "present", Choices: []string{"absent", "present"}},
			Arg{Name: "regexp", Aliases: []string{"regex"}, Type: TypeStr},
			Arg{Name: "search_string", Type: TypeStr},
			Arg{Name: "line", Aliases: []string{"value"}, Type: TypeStr},
			Arg{Name: "insertafter", Type: TypeStr},
			Arg{Name: "insertbefore", Type: TypeStr},
			Arg{Name: "backrefs", Type: TypeBool, Default: false},
			Arg{Name: "create", Type: TypeBool, Default: false},
			Arg{Name: "backup", Type: TypeBool, Default: false},
			Arg{Name: "firstmatch", Type: TypeBool, Default: false},
			Arg{Name: "validate", Type: TypeStr},
			Arg{Name: "others", Type: TypeRaw},
		),
		CheckMode: true,
		MutuallyExclusive: [][]string{
			{"insertbefore", "insertafter"}, {"regexp", "search_string"}, {"backrefs", "search_string"},
		},
	}
}

// Run edits the file.
func (LineInFile) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	p := args.String("path")
	fail := func(msg string) (Result, error) { return Result{Failed: true, Msg: msg}, nil }
	_, hasRegexp := args["regexp"]
	_, hasSearch := args["search_string"]
	_, hasLine := args["line"]
	regexpS, search, line := args.String("regexp"), args.String("search_string"), args.String("line")
	present := args.String("state") != "absent"
	backrefs := args.Bool("backrefs")
	if present {
		if backrefs && !hasRegexp {
			return fail("regexp is required with backrefs=true")
		}
		if !hasLine {
			return fail("line is required with state=present")
		}
	} else if !hasRegexp && !hasSearch && !hasLine {
		return fail("one of line, search_string, or regexp is required with state=absent")
	}
	if err := ValidateCommand(args.String("validate")); err != nil {
		return fail(err.Error())
	}
	var warnings []string
	if hasRegexp && regexpS == "" {
		warnings = append(warnings, "The regular expression is an empty string, which will match every line in the file. This may have unintended consequences, such as replacing the last line in the file rather than appending.")
	}
	var re, ins *lineRE
	if hasRegexp {
		c, err := compileRE("regexp", regexpS, "")
		if err != nil {
			return fail(err.Error())
		}
		re = &lineRE{c}
	}
	after, before := args.String("insertafter"), args.String("insertbefore")
	if after != "" && after != "BOF" && after != "EOF" {
		c, err := compileRE("insertafter", after, "")
		if err != nil {
			return fail(err.Error())
		}
		ins = &lineRE{c}
	} else if before != "" && before != "BOF" {
		c, err := compileRE("insertbefore", before, "")
		if err != nil {
			return fail(err.Error())
		}
		ins = &lineRE{c}
	}
	o := editOptions{
		create: args.Bool("create"), missingMsg: "Destination %s does not exist !", backup: args.Bool("backup"),
		validate: args.String("validate"), attrs: attrsOf(args), backupKey: "backup", contentLabel: true,
		missingOK: !present,
	}
	li := lineEdit{re: re, ins: ins, hasSearch: hasSearch, search: search, line: line, after: after, before: before, backrefs: backrefs, firstmatch: args.Bool("firstmatch")}
	var r Result
	var err error
	if present {
		r, err = editText(ctx, env, p, o, func(text string, _ bool) (textEdit, error) { return li.present(text), nil })
	} else {
		r, err = editText(ctx, env, p, o, func(text string, exists bool) (textEdit, error) {
			if !exists {
				return textEdit{notPresent: true}, nil
			}
			return li.absent(text, hasLine), nil
		})
	}
	r.Warnings = append(append(warnings, modeWarnings(args, "mode")...), r.Warnings...)
	return r, err
}

// lineRE matches a line without its newline, as Python's re.search with
// `$` matching before a final newline.
type lineRE struct{ re *regexp.Regexp }

func (l *lineRE) match(line string) []int {
	return l.re.FindStringSubmatchIndex(strings.TrimSuffix(line, "\n"))
}

type lineEdit struct {
	re, ins       *lineRE
	hasSearch     bool
	search, line  string
	after, before string
	backrefs      bool
	firstmatch    bool
}

func trimEOL(s string) string { return strings.TrimRight(s, "\r\n") }

// present is Ansible's lineinfile present(), on a text.
func (e lineEdit) present(text string) textEdit {
	lines := splitLinesKeep(text)
	idx0, idx1 := -1, -1
	var m []int
	var mline string
	matched := false
	if e.re != nil {
		for i, l := range lines {
			if x := e.re.match(l); x != nil {
				idx0, m, mline, matched = i, x, strings.TrimSuffix(l, "\n"), true
				if e.firstmatch {
					break
				}
			}
		}
	}
	if e.hasSearch {
		for i, l := range lines {
			if strings.Contains(l, e.search) {
				idx0, matched = i, true
				if e.firstmatch {
					break
				}
			}
		}
	}
	if !matched {
		for i, l := range lines {
			if e.line == trimEOL(l) {
				idx0 = i
			} else if e.ins != nil && e.ins.match(l) != nil {
				if e.after != "" {
					idx1 = i + 1
					if e.firstmatch {
						break
					}
				}
				if e.before != "" {
					idx1 = i
					if e.firstmatch {
						break
					}
				}
			}
		}
	}
	msg, changed := "", false
	add := func(at int) {
		nl := e.line + "\n"
		lines = append(lines[:at], append([]string{nl}, lines[at:]...)...)
		msg, changed = "line added", true
	}
	endsWithEOL := func() bool {
		last := lines[len(lines)-1]
		return strings.HasSuffix(last, "\n") || strings.HasSuffix(last, "\r")
	}
	switch {
	case idx0 != -1:
		newLine := e.line
		if e.backrefs && m != nil {
			newLine = string(e.re.re.ExpandString(nil, pyre.Expand(e.line, e.re.re, true), mline, m))
		}
		if !strings.HasSuffix(newLine, "\n") {
			newLine += "\n"
		}
		if lines[idx0] != newLine {
			lines[idx0] = newLine
			msg, changed = "line replaced", true
		}
	case e.backrefs:
		// Nothing: without a match the backrefs cannot be filled.
	case e.before == "BOF" || e.after == "BOF":
		add(0)
	case e.after == "EOF" || idx1 == -1:
		if len(lines) > 0 && !endsWithEOL() {
			lines = append(lines, "\n")
		}
		lines = append(lines, e.line+"\n")
		msg, changed = "line added", true
	case e.after != "" && idx1 != -1:
		if len(lines) == idx1 {
			if trimEOL(lines[idx1-1]) != e.line {
				lines = append(lines, e.line+"\n")
				msg, changed = "line added", true
			}
		} else if e.line != trimEOL(lines[idx1]) {
			add(idx1)
		}
	default:
		add(idx1)
	}
	return textEdit{after: strings.Join(lines, ""), changed: changed, msg: msg, values: map[string]any{}}
}

// absent is Ansible's lineinfile absent(), on a text.
func (e lineEdit) absent(text string, hasLine bool) textEdit {
	var kept []string
	found := 0
	for _, l := range splitLinesKeep(text) {
		var hit bool
		switch {
		case e.re != nil:
			hit = e.re.match(l) != nil
		case e.hasSearch:
			hit = strings.Contains(l, e.search)
		default:
			hit = e.line == trimEOL(l)
		}
		if hit {
			found++
			continue
		}
		kept = append(kept, l)
	}
	te := textEdit{after: strings.Join(kept, ""), changed: found > 0, values: map[string]any{"found": found}}
	if found > 0 {
		te.msg = strconv.Itoa(found) + " line(s) removed"
	}
	return te
}
