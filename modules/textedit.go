package modules

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
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
