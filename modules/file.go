package modules

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// File is the file module: it makes a path a file (attributes only),
// directory, symlink, hard link, touched file or absent, and sets mode
// (octal or symbolic), owner and group, recursively for directories when
// asked. One exec reads the state; one more makes the change, and none when
// nothing differs. Where the target can decide the change alone (a missing
// directory, an absolute mode) the reading exec makes it.
type File struct{}

var _ Module = File{}

// Spec describes file's arguments.
func (File) Spec() *Spec {
	return &Spec{
		Args: append(fileAttrArgs(),
			Arg{Name: "path", Aliases: []string{"dest", "name"}, Type: TypePath, Required: true},
			Arg{Name: "state", Type: TypeStr, Choices: []string{"absent", "directory", "file", "hard", "link", "touch"}},
			Arg{Name: "src", Type: TypePath},
			Arg{Name: "recurse", Type: TypeBool, Default: false},
			Arg{Name: "force", Type: TypeBool, Default: false},
			Arg{Name: "follow", Type: TypeBool, Default: true},
			Arg{Name: "modification_time", Type: TypeStr},
			Arg{Name: "modification_time_format", Type: TypeStr, Default: "%Y%m%d%H%M.%S"},
			Arg{Name: "access_time", Type: TypeStr},
			Arg{Name: "access_time_format", Type: TypeStr, Default: "%Y%m%d%H%M.%S"},
		),
		CheckMode: true,
	}
}

// fileRun is one file module call in progress.
type fileRun struct {
	ctx   context.Context
	env   *Env
	args  Args
	st    FileState
	prev  string // Ansible's prev_state: absent, file, directory, link, hard
	attrs Attrs
	warns []string
	// applied is the path's state after a change the read already made
	// (see speculate), nil when it made none.
	applied *FileState
}

// read describes the path. When the change the call needs can be decided
// on the target (speculate), the same exec makes it: the path's state
// before is the first record, its state after the change the second.
func (f *fileRun) read(p, state string) (FileState, error) {
	spec := f.speculate(state)
	if spec == "" {
		return ReadFile(f.ctx, f.env.Conn, p, ReadOptions{NoChecksum: true})
	}
	_, numeric := f.env.Conn.(conn.FileWriter)
	var e expander
	body := "printf 'umask\\0'; umask; printf '\\0'\n_mdo_s=\n_mdo_p=" + e.Word(p, true) + "\n" + readScript(ReadOptions{NoChecksum: true}, false, numeric) + spec
	recs, umask, res, err := runHelper(f.ctx, f.env.Conn, "file", p, e.Prelude()+body, nil)
	if err != nil {
		var fe *FileError
		if errors.As(err, &fe) {
			// Name the path as the shell expanded it, as a change would.
			if r, _ := parseRecords(res.Stdout); len(r) > 0 && r[0]["path"] != "" {
				fe.Path = r[0]["path"]
			}
		}
		return FileState{}, err
	}
	if len(recs) != 1 && len(recs) != 2 {
		return FileState{}, &FileError{Op: "stat", Path: p, Msg: fmt.Sprintf("unexpected output (rc %d): %s", res.RC, bytes.TrimSpace(res.Stderr))}
	}
	st, err := namedState(f.ctx, f.env.Conn, recs[0], umask)
	if err != nil {
		return FileState{}, err
	}
	if len(recs) == 2 {
		after, err := namedState(f.ctx, f.env.Conn, recs[1], umask)
		if err != nil {
			return FileState{}, err
		}
		f.applied = &after
	}
	return st, nil
}

// speculate returns shell code that, run right after readScript, makes the
// change the call needs when the target alone can decide it, and then
// prints the path's new state: mkdir (and chmod) of a missing directory,
// chmod of a directory or file whose mode differs from an absolute mode.
// The controller decides again from the state read and uses the new state
// only where it decides the same; anything else (check mode, owner or
// group, a symbolic mode, links, recursion) gets "": read first, then
// change with a second exec.
func (f *fileRun) speculate(state string) string {
	a := f.attrs
	if f.env.Check || a.Owner != "" || a.Group != "" || f.args.Bool("recurse") || f.args.String("src") != "" {
		return ""
	}
	var types []uint32 // file types whose mode a differing mode changes
	switch state {
	case "directory":
		types = []uint32{0o040000}
	case "file":
		types = []uint32{0o100000}
	case "":
		types = []uint32{0o100000, 0o040000}
	default:
		return ""
	}
	var want *uint32
	if a.Mode != "" {
		// An absolute mode plans the same from any current mode.
		p1, err1 := PlanAttrs(FileState{Exists: true, Type: TypeFile, Mode: 0}, Attrs{Mode: a.Mode})
		p2, err2 := PlanAttrs(FileState{Exists: true, Type: TypeFile, Mode: 0o7777}, Attrs{Mode: a.Mode})
		if err1 != nil || err2 != nil || p1.Mode == nil || p2.Mode == nil || *p1.Mode != *p2.Mode {
			return ""
		}
		want = p1.Mode
	}
	var b strings.Builder
	if state == "directory" {
		// The missing path readScript describes without stat.
		b.WriteString("if [ \"$_mdo_pt\" = directory ] && [ -x \"$_mdo_d\" ] && [ ${#_mdo_bn} -le 63 ] && [ ${#_mdo_p} -le 1024 ] && ! [ -e \"$_mdo_p\" ] && ! [ -L \"$_mdo_p\" ]; then\n")
		// mkdir -m sets the mode as chmod does (umask aside): no chmod
		// process. The parent exists, so -p creates only the path itself.
		m := ""
		if want != nil {
			m = fmt.Sprintf("-m %o ", *want)
		}
		fmt.Fprintf(&b, "_mdo_e=$(mkdir -p %s-- \"$_mdo_p\" 2>&1) || { printf 'fail\\0mkdir\\0%%s\\0' \"$_mdo_e\"; exit 1; }\n", m)
		b.WriteString(statRecord(f.env.Conn, "_mdo_p"))
		b.WriteString("fi\n")
	}
	if want == nil {
		return b.String()
	}
	// stat's first field is the raw mode in hex: type and permissions.
	b.WriteString("case $_mdo_s in\n")
	for _, t := range types {
		fmt.Fprintf(&b, "%x\\ *) ;;\n", t|*want)
	}
	for _, t := range types {
		fmt.Fprintf(&b, "%x???\\ *) %s%s;;\n", t>>12, attrCmds("_mdo_p", AttrPlan{Mode: want, Changed: true}, false), statRecord(f.env.Conn, "_mdo_p"))
	}
	b.WriteString("esac\n")
	return b.String()
}

// Run applies the requested state.
func (File) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	p := args.String("path")
	if p != "/" {
		p = strings.TrimRight(p, "/")
	}
	state := args.String("state")
	f := &fileRun{ctx: ctx, env: env, args: args, attrs: attrsOf(args), warns: modeWarnings(args, "mode")}
	if args.Bool("recurse") && state != "directory" && state != "" {
		return f.fail("recurse option requires state to be 'directory'", nil)
	}
	if src := args.String("src"); src != "" && state != "link" && state != "hard" && state != "" {
		return f.fail("src option requires state to be 'link' or 'hard'", map[string]any{"path": p})
	}
	st, err := f.read(p, state)
	if err != nil {
		var fe *FileError
		if errors.As(err, &fe) && fe.Path != "" {
			p = fe.Path
		}
		return FailResult(err, map[string]any{"path": p})
	}
	if st.Type == TypeLink && args.Bool("follow") && (state == "file" || state == "directory" || state == "touch" || state == "") {
		// Operate on the link's target, as Ansible does with follow.
		if t, err := ReadFile(ctx, env.Conn, st.Path, ReadOptions{NoChecksum: true, Follow: true}); err == nil && t.Exists {
			t.Path = st.Path
			st = t
		}
	}
	f.st = st
	f.prev = st.Type
	if st.Type == TypeFile && st.Nlink > 1 {
		f.prev = "hard"
	}
	if state == "" {
		state = "file"
		if st.Exists {
			state = f.prev
			if state == TypeOther {
				state = "file"
			}
		}
		if args.String("src") != "" && !st.Exists {
			state = "link"
		}
	}
	switch state {
	case "absent":
		return f.absent()
	case "file":
		return f.file()
	case "directory":
		return f.directory()
	case "touch":
		return f.touch()
	case "link", "hard":
		return f.link(state)
	}
	return f.fail("unknown state "+state, nil)
}

func (f *fileRun) fail(msg string, values map[string]any) (Result, error) {
	return Result{Failed: true, Msg: msg, Values: values, Warnings: f.warns}, nil
}

// stateDiff is the before/after of the path's state plus attribute
// changes.
func (f *fileRun) stateDiff(r *Result, before, after string, plan AttrPlan) {
	if !f.env.Diff || !r.Changed {
		return
	}
	b := map[string]any{"path": f.st.Path}
	a := map[string]any{"path": f.st.Path}
	if before != after {
		b["state"], a["state"] = before, after
	}
	for k, v := range plan.Before {
		b[k] = v
	}
	for k, v := range plan.After {
		a[k] = v
	}
	r.Diff = append(r.Diff, AttrDiff(b, a))
}

// change runs script (which may use $_mdo_p, the path) followed by the
// attribute commands of plan, and returns the path's new state.
func (f *fileRun) change(script string, plan AttrPlan, noFollow bool) (FileState, error) {
	full := "_mdo_p=" + conn.Quote(f.st.Path) + "\n" + script + attrCmds("_mdo_p", plan, noFollow) + statRecord(f.env.Conn, "_mdo_p")
	recs, _, _, err := runHelper(f.ctx, f.env.Conn, "file", f.st.Path, full, nil)
	if err != nil {
		return FileState{}, err
	}
	if len(recs) != 1 {
		return FileState{}, &FileError{Op: "stat", Path: f.st.Path, Msg: "no state after change"}
	}
	return namedState(f.ctx, f.env.Conn, recs[0], f.st.Umask)
}

// result builds a result from the new state.
func (f *fileRun) result(key string, changed bool, after FileState, extra map[string]any) Result {
	v := FileValues(key, after)
	if f.prev == "hard" && v["state"] == TypeFile {
		v["state"] = "hard"
	}
	for k, x := range extra {
		v[k] = x
	}
	return Result{Changed: changed, Values: v, Warnings: f.warns}
}

func (f *fileRun) absent() (Result, error) {
	v := map[string]any{"path": f.st.Path, "state": TypeAbsent}
	if !f.st.Exists {
		return Result{Values: v, Warnings: f.warns}, nil
	}
	r := Result{Changed: true, Values: v, Warnings: f.warns}
	f.stateDiff(&r, f.prev, TypeAbsent, AttrPlan{})
	if f.env.Check {
		return r, nil
	}
	_, _, _, err := runHelper(f.ctx, f.env.Conn, "absent", f.st.Path,
		"_mdo_e=$(rm -rf -- "+conn.Quote(f.st.Path)+" 2>&1) || { printf 'fail\\0absent\\0%s\\0' \"$_mdo_e\"; exit 1; }\n", nil)
	if err != nil {
		return FailResult(err, v)
	}
	return r, nil
}

func (f *fileRun) file() (Result, error) {
	if f.prev != TypeFile && f.prev != "hard" {
		v := FileValues("path", f.st)
		return f.fail(fmt.Sprintf("file (%s) is %s, cannot continue", f.st.Path, f.prev), v)
	}
	return f.attrsOnly("path", f.prev)
}

// attrsOnly applies the attributes to an existing path.
func (f *fileRun) attrsOnly(key, state string) (Result, error) {
	plan, err := PlanAttrs(f.st, f.attrs)
	if err != nil {
		return f.fail(err.Error(), map[string]any{"path": f.st.Path})
	}
	after := f.st
	if plan.Changed && f.applied != nil {
		after = *f.applied
	} else if plan.Changed && !f.env.Check {
		if after, err = f.change("", plan, false); err != nil {
			return FailResult(err, map[string]any{"path": f.st.Path})
		}
	} else if plan.Changed {
		after = predict(f.st, plan)
	}
	r := f.result(key, plan.Changed, after, nil)
	f.stateDiff(&r, state, state, plan)
	return r, nil
}

// predict returns the state a plan would produce (for check mode results).
func predict(st FileState, plan AttrPlan) FileState {
	if plan.Mode != nil {
		st.Mode = *plan.Mode
	}
	if plan.Owner != "" {
		if n, err := strconv.Atoi(plan.Owner); err == nil {
			st.UID = n
		} else {
			st.Owner = plan.Owner
		}
	}
	if plan.Group != "" {
		if n, err := strconv.Atoi(plan.Group); err == nil {
			st.GID = n
		} else {
			st.Group = plan.Group
		}
	}
	return st
}

func (f *fileRun) directory() (Result, error) {
	switch f.prev {
	case TypeAbsent:
		n := NewFileState(f.st, TypeDirectory)
		plan, err := PlanAttrs(n, f.attrs)
		if err != nil {
			return f.fail(err.Error(), map[string]any{"path": f.st.Path})
		}
		plan.Changed = true
		r := Result{Changed: true, Values: map[string]any{"path": f.st.Path, "state": TypeDirectory}, Warnings: f.warns}
		if f.applied != nil {
			r = f.result("path", true, *f.applied, nil)
		} else if !f.env.Check {
			after, err := f.change("_mdo_e=$(mkdir -p -- \"$_mdo_p\" 2>&1) || { printf 'fail\\0mkdir\\0%s\\0' \"$_mdo_e\"; exit 1; }\n", plan, false)
			if err != nil {
				return FailResult(err, map[string]any{"path": f.st.Path})
			}
			r = f.result("path", true, after, nil)
		}
		f.stateDiff(&r, TypeAbsent, TypeDirectory, AttrPlan{})
		return r, nil
	case TypeDirectory:
		if f.args.Bool("recurse") {
			return f.recurse()
		}
		return f.attrsOnly("path", TypeDirectory)
	}
	return f.fail(fmt.Sprintf("%s already exists as a %s", f.st.Path, f.prev), FileValues("path", f.st))
}

// recurse applies the attributes to a directory and everything below it:
// one exec lists the tree, one more changes what differs.
func (f *fileRun) recurse() (Result, error) {
	script := "_mdo_p=" + conn.Quote(f.st.Path) + "\n" +
		"find \"$_mdo_p\" -mindepth 1 -exec sh -c 'for f; do printf \"B\\0%s\\0\" \"$f\"; s=$(LC_ALL=C stat -c \"" + statFields + "\" -- \"$f\") && printf \"stat\\0%s\\0\" \"$s\"; done' sh {} +\n"
	recs, _, _, err := runHelper(f.ctx, f.env.Conn, "recurse", f.st.Path, script, nil)
	if err != nil {
		return FailResult(err, map[string]any{"path": f.st.Path})
	}
	top, err := PlanAttrs(f.st, f.attrs)
	if err != nil {
		return f.fail(err.Error(), map[string]any{"path": f.st.Path})
	}
	changed := top.Changed
	var cmds strings.Builder
	for _, rec := range recs {
		st, err := rec.state(f.st.Umask)
		if err != nil || !st.Exists {
			continue
		}
		if st.Type == TypeLink {
			// Links are not followed; only their owner changes.
			a := Attrs{Owner: f.attrs.Owner, Group: f.attrs.Group}
			if p, _ := PlanAttrs(st, a); p.Changed {
				changed = true
				cmds.WriteString("_mdo_q=" + conn.Quote(st.Path) + "\n" + attrCmds("_mdo_q", p, true))
			}
			continue
		}
		p, err := PlanAttrs(st, f.attrs)
		if err != nil {
			return f.fail(err.Error(), map[string]any{"path": st.Path})
		}
		if p.Changed {
			changed = true
			cmds.WriteString("_mdo_q=" + conn.Quote(st.Path) + "\n" + attrCmds("_mdo_q", p, false))
		}
	}
	after := f.st
	if changed && !f.env.Check {
		if after, err = f.change(cmds.String(), top, false); err != nil {
			return FailResult(err, map[string]any{"path": f.st.Path})
		}
	}
	r := f.result("path", changed, after, nil)
	f.stateDiff(&r, TypeDirectory, TypeDirectory, top)
	return r, nil
}

// timeArg returns touch's argument for a time option: "" to preserve,
// "now", or a -t stamp.
func (f *fileRun) timeArg(name, def string) (string, error) {
	v := f.args.String(name)
	if v == "" {
		v = def
	}
	switch v {
	case "preserve", "now":
		return v, nil
	}
	format := f.args.String(name + "_format")
	if format != "%Y%m%d%H%M.%S" {
		return "", fmt.Errorf("%s_format %q is not supported (only %%Y%%m%%d%%H%%M.%%S)", name, format)
	}
	if len(v) != 15 || v[12] != '.' {
		return "", fmt.Errorf("Error while obtaining timestamp for time %s using format %s", v, format)
	}
	return v, nil
}

// touchCmds returns touch commands setting the times, or "" when both are
// preserved.
func touchCmds(mtime, atime string) string {
	var b strings.Builder
	for _, x := range []struct{ flag, v string }{{"-m", mtime}, {"-a", atime}} {
		switch x.v {
		case "preserve":
		case "now":
			fmt.Fprintf(&b, "_mdo_e=$(touch -c %s -- \"$_mdo_p\" 2>&1) || { printf 'fail\\0touch\\0%%s\\0' \"$_mdo_e\"; exit 1; }\n", x.flag)
		default:
			fmt.Fprintf(&b, "_mdo_e=$(touch -c %s -t %s -- \"$_mdo_p\" 2>&1) || { printf 'fail\\0touch\\0%%s\\0' \"$_mdo_e\"; exit 1; }\n", x.flag, conn.Quote(x.v))
		}
	}
	return b.String()
}

func (f *fileRun) touch() (Result, error) {
	mtime, err := f.timeArg("modification_time", "now")
	if err != nil {
		return f.fail(err.Error(), nil)
	}
	atime, err := f.timeArg("access_time", "now")
	if err != nil {
		return f.fail(err.Error(), nil)
	}
	base := f.st
	script := ""
	if !f.st.Exists {
		base = NewFileState(f.st, TypeFile)
		script = "_mdo_e=$( : >> \"$_mdo_p\" 2>&1) || { printf 'fail\\0touch\\0%s\\0' \"$_mdo_e\"; exit 1; }\n"
	}
	script += touchCmds(mtime, atime)
	plan, err := PlanAttrs(base, f.attrs)
	if err != nil {
		return f.fail(err.Error(), map[string]any{"dest": f.st.Path})
	}
	changed := !f.st.Exists || plan.Changed || mtime != "preserve" || atime != "preserve"
	after := base
	if changed && !f.env.Check {
		if after, err = f.change(script, plan, false); err != nil {
			return FailResult(err, map[string]any{"dest": f.st.Path})
		}
	}
	r := f.result("dest", changed, after, nil)
	before := f.prev
	f.stateDiff(&r, before, "touch", plan)
	return r, nil
}

func (f *fileRun) link(state string) (Result, error) {
	src := f.args.String("src")
	p := f.st.Path
	force := f.args.Bool("force")
	if src == "" {
		if f.st.Type == TypeLink && state == "link" {
			src = f.st.LinkTarget // keep the link, fix attributes
		} else {
			kind := "symlinks"
			if state == "hard" {
				kind = "hardlinks"
			}
			return f.fail("src is required for creating new "+kind, nil)
		}
	}
	// The link's source as seen from the link's directory.
	absSrc := src
	if !strings.HasPrefix(src, "/") {
		absSrc = path.Join(path.Dir(p), src)
	}
	srcSt, err := ReadFile(f.ctx, f.env.Conn, absSrc, ReadOptions{NoChecksum: true})
	if err != nil {
		return FailResult(err, map[string]any{"path": p, "src": src})
	}
	if state == "hard" && !srcSt.Exists {
		return f.fail("src does not exist", map[string]any{"dest": p, "src": src})
	}
	if state == "link" && !srcSt.Exists && !force {
		return f.fail(fmt.Sprintf("src file does not exist, use \"force=yes\" if you really want to create the link: %s", srcSt.Path), map[string]any{"path": p, "src": src})
	}
	same := false
	switch {
	case state == "link" && f.st.Type == TypeLink:
		same = f.st.LinkTarget == src
	case state == "hard" && f.st.Exists:
		same = f.st.Inode == srcSt.Inode && f.st.Dev == srcSt.Dev
	}
	replace := f.st.Exists && !same
	if replace {
		switch {
		case state == "link" && f.st.Type == TypeLink:
		case state == "hard" && f.prev == "hard":
		case state == "link" && f.st.Type == TypeDirectory:
			if !force {
				return f.fail(fmt.Sprintf("refusing to convert from directory to symlink for %s", p), FileValues("path", f.st))
			}
		case !force && state == "link":
			return f.fail(fmt.Sprintf("refusing to convert from %s to symlink for %s", f.prev, p), FileValues("path", f.st))
		case !force:
			return f.fail(fmt.Sprintf("Cannot link, %s exists at destination", f.prev), map[string]any{"dest": p, "src": src})
		}
	}
	// Attributes of a symlink: owner and group of the link itself (chown
	// -h); a mode applies to the target, as Ansible does with follow.
	var plan AttrPlan
	if state == "link" {
		cur := f.st
		if !same {
			cur = FileState{Path: p, Exists: true, Type: TypeLink, Mode: 0o777, UID: -1, GID: -1}
		}
		if plan, err = PlanAttrs(cur, Attrs{Owner: f.attrs.Owner, Group: f.attrs.Group}); err != nil {
			return f.fail(err.Error(), nil)
		}
	} else {
		cur := srcSt
		if plan, err = PlanAttrs(cur, f.attrs); err != nil {
			return f.fail(err.Error(), nil)
		}
	}
	changed := !same || plan.Changed
	if !changed {
		return f.result("dest", false, f.st, map[string]any{"src": src}), nil
	}
	var script string
	if !same {
		op := "ln -s"
		if state == "hard" {
			op = "ln"
		}
		rm := ""
		if f.st.Type == TypeDirectory {
			rm = "rmdir -- \"$_mdo_p\" 2>&1 && "
		}
		// A new link under a temporary name, renamed over the old path:
		// the path is never missing.
		script = fmt.Sprintf("_mdo_t=\"$_mdo_p.mdo-tmp-$$\"\n_mdo_e=$(%s%s -- %s \"$_mdo_t\" 2>&1 && mv -f -- \"$_mdo_t\" \"$_mdo_p\" 2>&1) || { rm -f -- \"$_mdo_t\"; printf 'fail\\0link\\0%%s\\0' \"$_mdo_e\"; exit 1; }\n", rm, op, conn.Quote(src))
	}
	r := Result{Changed: true, Values: map[string]any{"dest": p, "src": src, "state": state}, Warnings: f.warns}
	if !f.env.Check {
		after, err := f.change(script, plan, state == "link")
		if err != nil {
			return FailResult(err, map[string]any{"dest": p, "src": src})
		}
		r = f.result("dest", true, after, map[string]any{"src": src})
		r.Values["state"] = state
	}
	if f.env.Diff {
		b := map[string]any{"path": p}
		a := map[string]any{"path": p}
		if f.st.Type == TypeLink && state == "link" && !same {
			b["src"], a["src"] = f.st.LinkTarget, src
		} else if !same {
			b["state"], a["state"] = f.prev, state
		}
		for k, v := range plan.Before {
			b[k] = v
		}
		for k, v := range plan.After {
			a[k] = v
		}
		r.Diff = append(r.Diff, AttrDiff(b, a))
	}
	return r, nil
}
