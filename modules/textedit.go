package modules

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
)

// Helpers shared by lineinfile, blockinfile and replace: compile Ansible
// (Python) regular expressions with Go's RE2, expand Python-style
// replacement templates, and read-edit-write a remote text file in at most
// two execs.

// compileRE compiles a pattern, explaining patterns RE2 cannot express.
// flags are Go inline flags such as "(?m)".
func compileRE(arg, pattern, flags string) (*regexp.Regexp, error) {
	re, err := regexp.Compile(flags + pattern)
	if err == nil {
		return re, nil
	}
	var se *syntax.Error
	if errors.As(err, &se) && (se.Code == syntax.ErrInvalidPerlOp || se.Code == syntax.ErrInvalidEscape) {
		return nil, fmt.Errorf("%s %q cannot be used: Go's RE2 syntax has no look-around or back-references inside a pattern (%v)", arg, pattern, se.Code)
	}
	return nil, fmt.Errorf("%s %q is not a valid regular expression: %v", arg, pattern, err)
}

// pyTemplate turns a Python re replacement template (\1, \g<1>, \g<name>,
// \n, \\) into a Go Regexp.Expand template for re; Go's braced ${1} and
// ${name} keep working for re's groups. Any other '$' is literal, as in
// Python: "PATH=$PATH:/opt" must not lose $PATH to an unknown group.
func pyTemplate(t string, re *regexp.Regexp) string {
	var b strings.Builder
	for i := 0; i < len(t); i++ {
		c := t[i]
		if c == '$' {
			if ref, ok := goGroupRef(t[i:], re); ok {
				b.WriteString(ref)
				i += len(ref) - 1
			} else {
				b.WriteString("$$")
			}
			continue
		}
		if c != '\\' || i+1 == len(t) {
			b.WriteByte(c)
			continue
		}
		n := t[i+1]
		switch {
		case n >= '0' && n <= '9':
			j := i + 2
			if j < len(t) && t[j] >= '0' && t[j] <= '9' {
				j++
			}
			b.WriteString("${" + t[i+1:j] + "}")
			i = j - 1
		case n == 'g' && i+2 < len(t) && t[i+2] == '<':
			if end := strings.IndexByte(t[i+3:], '>'); end >= 0 {
				b.WriteString("${" + t[i+3:i+3+end] + "}")
				i += 3 + end
				continue
			}
			b.WriteString(`\g`)
			i++
		case n == 'n':
			b.WriteByte('\n')
			i++
		case n == 't':
			b.WriteByte('\t')
			i++
		case n == 'r':
			b.WriteByte('\r')
			i++
		case n == '\\':
			b.WriteByte('\\')
			i++
		default:
			b.WriteByte('\\')
		}
	}
	return b.String()
}

// goGroupRef returns the ${N} or ${name} reference t starts with when it
// names a group of re.
func goGroupRef(t string, re *regexp.Regexp) (string, bool) {
	if !strings.HasPrefix(t, "${") {
		return "", false
	}
	end := strings.IndexByte(t, '}')
	if end < 0 {
		return "", false
	}
	name := t[2:end]
	if n, err := strconv.Atoi(name); err == nil && n >= 0 && n <= re.NumSubexp() && name == strconv.Itoa(n) {
		return t[:end+1], true
	}
	if name != "" && re.SubexpIndex(name) >= 0 {
		return t[:end+1], true
	}
	return "", false
}

// splitLinesKeep splits s into lines that keep their "\n" (Python's
// readlines).
func splitLinesKeep(s string) []string {
	if s == "" {
		return nil
	}
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// textEdit is the outcome of an edit function.
type textEdit struct {
	after   string
	changed bool
	msg     string
	values  map[string]any // extra result keys (found, ...)
	// notPresent: the file is missing and that is fine (state=absent).
	notPresent bool
	// stop ends the call with msg, unchanged, before attributes are
	// looked at (replace when its section is not found, as Ansible exits).
	stop bool
}

// editOptions steer editText.
type editOptions struct {
	create       bool
	missingMsg   string // failure when the file is missing and create is off
	backup       bool
	validate     string
	attrs        Attrs
	backupKey    string // result key of the backup path: backup or backup_file
	contentLabel bool   // diff headers "PATH (content)" (lineinfile, blockinfile)
	missingOK    bool   // a missing file is not an error (absent states)
}

// editText reads path with its content (one exec), applies edit, and
// writes the result atomically with attributes, backup and validate (one
// more exec) when something changed.
func editText(ctx context.Context, env *Env, p string, o editOptions, edit func(before string, exists bool) (textEdit, error)) (Result, error) {
	st, err := ReadFile(ctx, env.Conn, p, ReadOptions{Content: true, MaxContent: -1})
	if err != nil {
		return FailResult(err, nil)
	}
	if st.Type == TypeDirectory {
		return Result{Failed: true, Msg: fmt.Sprintf("Path %s is a directory !", st.Path), Values: map[string]any{"rc": 256}}, nil
	}
	if !st.Exists && !o.create && !o.missingOK {
		return Result{Failed: true, Msg: fmt.Sprintf(o.missingMsg, st.Path), Values: map[string]any{"rc": 257}}, nil
	}
	before := string(st.Content)
	te, err := edit(before, st.Exists)
	if err != nil {
		return Result{Failed: true, Msg: err.Error()}, nil
	}
	if te.notPresent {
		return Result{Msg: "file not present", Values: te.values}, nil
	}
	if te.stop {
		return Result{Msg: te.msg, Values: te.values}, nil
	}
	values := map[string]any{}
	for k, v := range te.values {
		values[k] = v
	}
	if o.backupKey != "" {
		values[o.backupKey] = ""
	}
	r := Result{Changed: te.changed, Msg: te.msg, Values: values}
	if env.Diff && te.changed {
		h := st.Path
		if o.contentLabel {
			h += " (content)"
		}
		r.Diff = append(r.Diff, Diff{BeforeHeader: h, AfterHeader: h, Before: before, After: te.after})
	}
	if te.changed && !st.Exists && env.Check {
		return r, nil
	}
	base := st
	if !st.Exists {
		base = NewFileState(st, TypeFile)
	}
	plan, err := PlanAttrs(base, o.attrs)
	if err != nil {
		return Result{Failed: true, Msg: err.Error()}, nil
	}
	if te.changed && !env.Check {
		wr, err := WriteFile(ctx, env.Conn, []byte(te.after), WriteOptions{Before: st, Attrs: o.attrs, Backup: o.backup && st.Exists, Validate: o.validate, MkdirParents: !st.Exists})
		if err != nil {
			return FailResult(err, values)
		}
		if wr.BackupFile != "" && o.backupKey != "" {
			values[o.backupKey] = wr.BackupFile
		}
	} else if plan.Changed && st.Exists {
		if !env.Check {
			if _, err := SetAttrs(ctx, env.Conn, st, plan, false); err != nil {
				return FailResult(err, values)
			}
		}
	}
	if plan.Changed && st.Exists {
		if r.Msg != "" {
			r.Msg += " and "
		}
		r.Msg += "ownership, perms or SE linux context changed"
		r.Changed = true
		if env.Diff {
			d := AttrDiff(withPath(plan.Before, st.Path), withPath(plan.After, st.Path))
			d.BeforeHeader = st.Path + " (file attributes)"
			d.AfterHeader = d.BeforeHeader
			r.Diff = append(r.Diff, d)
		}
	}
	return r, nil
}
