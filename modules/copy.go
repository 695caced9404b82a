package modules

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// Copy is the copy module: it puts content, a controller file or a
// controller directory tree (or, with remote_src, a file or tree already on
// the target) at dest. The destination's checksum is compared on the target
// first, so an unchanged file costs one exec and no upload; a changed file
// is written atomically by WriteFile.
type Copy struct{}

var _ Module = Copy{}

// fileAttrArgs are the attribute arguments every file module takes. The
// SELinux and attribute arguments are accepted and ignored.
func fileAttrArgs() []Arg {
	return []Arg{
		{Name: "mode", Type: TypeMode},
		{Name: "owner", Type: TypeStr},
		{Name: "group", Type: TypeStr},
		{Name: "attributes", Aliases: []string{"attr"}, Type: TypeStr},
		{Name: "selevel", Type: TypeStr},
		{Name: "serole", Type: TypeStr},
		{Name: "setype", Type: TypeStr},
		{Name: "seuser", Type: TypeStr},
		{Name: "unsafe_writes", Type: TypeBool, Default: false},
	}
}

// Spec describes copy's arguments.
func (Copy) Spec() *Spec {
	return &Spec{
		Args: append(fileAttrArgs(),
			Arg{Name: "src", Type: TypePath},
			Arg{Name: "content", Type: TypeStr},
			Arg{Name: "dest", Type: TypePath, Required: true},
			Arg{Name: "backup", Type: TypeBool, Default: false},
			Arg{Name: "force", Aliases: []string{"thirsty"}, Type: TypeBool, Default: true},
			Arg{Name: "directory_mode", Type: TypeMode},
			Arg{Name: "remote_src", Type: TypeBool, Default: false},
			Arg{Name: "local_follow", Type: TypeBool, Default: true},
			Arg{Name: "follow", Type: TypeBool, Default: false},
			Arg{Name: "validate", Type: TypeStr},
			Arg{Name: "checksum", Type: TypeStr},
			Arg{Name: "decrypt", Type: TypeBool, Default: true},
		),
		CheckMode:         true,
		MutuallyExclusive: [][]string{{"src", "content"}},
	}
}

// attrsOf returns the mode, owner and group arguments.
func attrsOf(args Args) Attrs {
	return Attrs{Mode: args.String("mode"), Owner: args.String("owner"), Group: args.String("group")}
}

// modeWarnings returns the warning for a decimal-looking mode argument.
func modeWarnings(args Args, names ...string) []string {
	var out []string
	for _, n := range names {
		if w := ModeWarning(args.String(n)); w != "" {
			out = append(out, w)
		}
	}
	return out
}

// Run copies.
func (Copy) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	dest := args.String("dest")
	warnings := modeWarnings(args, "mode", "directory_mode")
	fail := func(msg string) (Result, error) {
		return Result{Failed: true, Msg: msg, Warnings: warnings}, nil
	}
	if dest == "" {
		return fail("dest is required")
	}
	_, hasContent := args["content"]
	src := args.String("src")
	if !hasContent && src == "" {
		return fail("src (or content) is required")
	}
	if err := ValidateCommand(args.String("validate")); err != nil {
		return fail(err.Error())
	}
	o := putOptions{
		attrs:    attrsOf(args),
		backup:   args.Bool("backup"),
		force:    args.Bool("force"),
		validate: args.String("validate"),
		checksum: args.String("checksum"),
	}
	var r Result
	var err error
	switch {
	case hasContent:
		if strings.HasSuffix(dest, "/") {
			return fail("can not use content with a dir as dest")
		}
		o.afterHeader = "dynamically generated"
		r, err = putContent(ctx, env, dest, []byte(args.String("content")), o)
	case args.Bool("remote_src"):
		r, err = remoteCopy(ctx, env, src, dest, args)
	default:
		r, err = localCopy(ctx, env, src, dest, args, o)
	}
	r.Warnings = append(warnings, r.Warnings...)
	return r, err
}

// localCopy copies a controller file or directory tree.
func localCopy(ctx context.Context, env *Env, src, dest string, args Args, o putOptions) (Result, error) {
	full := src
	if env.Files != nil {
		f, err := env.Files.Find("files", src)
		if err != nil {
			return Result{Failed: true, Msg: fmt.Sprintf("Could not find or access '%s' on the Ansible Controller.", src)}, nil
		}
		full = f
	}
	statFn := os.Stat
	if !args.Bool("local_follow") {
		statFn = os.Lstat
	}
	fi, err := statFn(full)
	if err != nil {
		return Result{Failed: true, Msg: fmt.Sprintf("Could not find or access '%s' on the Ansible Controller.", src)}, nil
	}
	if fi.IsDir() {
		return copyTree(ctx, env, full, src, dest, args, o)
	}
	content, err := env.ReadFile(full)
	if err != nil {
		return Result{Failed: true, Msg: fmt.Sprintf("could not read %s: %v", full, err)}, nil
	}
	if o.attrs.Mode == "preserve" {
		o.attrs.Mode = ModeString(conn.UnixPerm(fi.Mode()))
	}
	o.srcName = filepath.Base(full)
	o.afterHeader = full
	o.mkdirs = strings.HasSuffix(dest, "/")
	r, err := putContent(ctx, env, dest, content, o)
	if r.Values != nil && !r.Failed {
		r.Values["src"] = full
	}
	return r, err
}

// putOptions steer putContent.
type putOptions struct {
	attrs       Attrs
	backup      bool
	force       bool
	validate    string
	checksum    string // expected sha1 of the content, as copy's checksum
	afterHeader string // diff header of the new content
	srcName     string // appended to dest when dest is a directory
	mkdirs      bool   // create dest's missing parents (dest ended with /)
}

func sums(content []byte) (string, string) {
	s := sha1.Sum(content)
	m := md5.Sum(content)
	return hex.EncodeToString(s[:]), hex.EncodeToString(m[:])
}

// putContent makes dest hold content: one exec to compare, one more to
// write when it differs (or to fix attributes).
func putContent(ctx context.Context, env *Env, dest string, content []byte, o putOptions) (Result, error) {
	sum, md5sum := sums(content)
	if o.checksum != "" && o.checksum != sum {
		return Result{Failed: true, Msg: "Copied file does not match the expected checksum. Transfer failed.", Values: map[string]any{"checksum": sum, "expected_checksum": o.checksum}}, nil
	}
	paths := []string{strings.TrimSuffix(dest, "/")}
	if dest == "/" {
		paths[0] = "/"
	}
	if o.srcName != "" {
		paths = append(paths, path.Join(paths[0], o.srcName))
	}
	sts, err := ReadFiles(ctx, env.Conn, paths, ReadOptions{Content: env.Diff})
	if err != nil {
		return FailResult(err, map[string]any{"dest": dest})
	}
	st := sts[0]
	if o.srcName != "" && (st.Type == TypeDirectory || strings.HasSuffix(dest, "/")) {
		st = sts[1]
	} else if st.Type == TypeDirectory {
		return Result{Failed: true, Msg: "can not use content with a dir as dest", Values: map[string]any{"dest": dest}}, nil
	}
	values := map[string]any{"dest": st.Path, "checksum": sum, "md5sum": md5sum}
	if st.Exists && !o.force {
		return Result{Values: map[string]any{"dest": st.Path}}, nil
	}
	if !o.mkdirs && st.Parent != TypeDirectory && !env.Check {
		// In check mode Ansible's copy reports the transfer as a change
		// without looking for the directory (an earlier task may create it).
		return Result{Failed: true, Msg: fmt.Sprintf("Destination directory %s does not exist", path.Dir(st.Path)), Values: map[string]any{"checksum": sum}}, nil
	}
	if st.Exists && st.Type == TypeFile && st.Checksum == sum {
		return fixAttrs(ctx, env, st, o.attrs, values)
	}
	r := Result{Changed: true, Values: values}
	if env.Diff {
		r.Diff = append(r.Diff, ContentDiff(st.Path, st.Content, st.HasContent || !st.Exists, content, o.afterHeader))
	}
	if env.Check {
		values["size"] = len(content)
		return r, nil
	}
	wr, err := WriteFile(ctx, env.Conn, content, WriteOptions{Before: st, Attrs: o.attrs, Backup: o.backup, Validate: o.validate, MkdirParents: o.mkdirs})
	if err != nil {
		return FailResult(err, values)
	}
	for k, v := range FileValues("dest", wr.After) {
		values[k] = v
	}
	if wr.BackupFile != "" {
		values["backup_file"] = wr.BackupFile
	}
	return r, nil
}

// fixAttrs gives an unchanged file its requested attributes: ok when they
// already match, else one more exec (none in check mode).
func fixAttrs(ctx context.Context, env *Env, st FileState, a Attrs, values map[string]any) (Result, error) {
	plan, err := PlanAttrs(st, a)
	if err != nil {
		return Result{Failed: true, Msg: err.Error(), Values: values}, nil
	}
	values["path"] = st.Path
	after := st
	if plan.Changed && !env.Check {
		if after, err = SetAttrs(ctx, env.Conn, st, plan, false); err != nil {
			return FailResult(err, values)
		}
	}
	for k, v := range FileValues("dest", after) {
		values[k] = v
	}
	r := Result{Changed: plan.Changed, Values: values}
	if plan.Changed && env.Diff {
		r.Diff = append(r.Diff, AttrDiff(withPath(plan.Before, st.Path), withPath(plan.After, st.Path)))
	}
	return r, nil
}

func withPath(m map[string]any, p string) map[string]any {
	out := map[string]any{"path": p}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// treeEntry is one file or directory of a source tree.
type treeEntry struct {
	rel     string
	dir     bool
	content []byte
	mode    fs.FileMode
}

// copyTree copies a controller directory: "dir/" copies its contents into
// dest, "dir" copies the directory itself into dest.
func copyTree(ctx context.Context, env *Env, full, src, dest string, args Args, o putOptions) (Result, error) {
	var entries []treeEntry
	err := filepath.WalkDir(full, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(full, p)
		if rel == "." {
			return nil
		}
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		e := treeEntry{rel: filepath.ToSlash(rel), dir: fi.IsDir(), mode: fi.Mode()}
		if !e.dir {
			if e.content, err = env.ReadFile(p); err != nil {
				return err
			}
		}
		entries = append(entries, e)
		return nil
	})
	if err != nil {
		return Result{Failed: true, Msg: fmt.Sprintf("could not read %s: %v", full, err)}, nil
	}
	root := strings.TrimSuffix(dest, "/")
	if !strings.HasSuffix(src, "/") {
		root = path.Join(root, filepath.Base(full))
	}
	paths := []string{root}
	for _, e := range entries {
		paths = append(paths, path.Join(root, e.rel))
	}
	sts, err := ReadFiles(ctx, env.Conn, paths, ReadOptions{Content: env.Diff})
	if err != nil {
		return FailResult(err, map[string]any{"dest": dest})
	}
	values := map[string]any{"dest": dest, "src": full}
	r := Result{Values: values}
	// Directories first (the walk is in lexical order, parents first).
	var mkdirs []string
	if !sts[0].Exists {
		mkdirs = append(mkdirs, sts[0].Path)
	}
	for i, e := range entries {
		st := sts[i+1]
		if e.dir && !st.Exists {
			mkdirs = append(mkdirs, st.Path)
		}
	}
	if len(mkdirs) > 0 {
		r.Changed = true
		if env.Diff {
			for _, d := range mkdirs {
				r.Diff = append(r.Diff, AttrDiff(map[string]any{"path": d, "state": TypeAbsent}, map[string]any{"path": d, "state": TypeDirectory}))
			}
		}
		if !env.Check {
			if res, err := makeDirs(ctx, env.Conn, mkdirs, args.String("directory_mode")); err != nil || res.Failed {
				return res, err
			}
		}
	}
	for i, e := range entries {
		if e.dir {
			continue
		}
		st := sts[i+1]
		po := o
		if po.attrs.Mode == "preserve" {
			po.attrs.Mode = ModeString(conn.UnixPerm(e.mode))
		}
		sum, _ := sums(e.content)
		if st.Exists && !po.force {
			continue
		}
		if st.Exists && st.Type == TypeFile && st.Checksum == sum {
			fr, err := fixAttrs(ctx, env, st, po.attrs, map[string]any{})
			if err != nil || fr.Failed {
				return fr, err
			}
			r.Changed = r.Changed || fr.Changed
			r.Diff = append(r.Diff, fr.Diff...)
			continue
		}
		r.Changed = true
		if env.Diff {
			r.Diff = append(r.Diff, ContentDiff(st.Path, st.Content, st.HasContent || !st.Exists, e.content, filepath.Join(full, e.rel)))
		}
		if env.Check {
			continue
		}
		if !st.Exists {
			// The parent was created above: WriteFile needs no mkdir.
			st.Parent = TypeDirectory
		}
		if _, err := WriteFile(ctx, env.Conn, e.content, WriteOptions{Before: st, Attrs: po.attrs, Backup: po.backup}); err != nil {
			return FailResult(err, values)
		}
	}
	return r, nil
}

// makeDirs creates directories (parents first) in one exec, with mode when
// given.
func makeDirs(ctx context.Context, c conn.Conn, dirs []string, mode string) (Result, error) {
	var b strings.Builder
	for _, d := range dirs {
		fmt.Fprintf(&b, "_mdo_p=%s\n_mdo_e=$(mkdir -p -- \"$_mdo_p\" 2>&1) || { printf 'fail\\0mkdir\\0%%s\\0' \"$_mdo_e\"; exit 1; }\n", conn.Quote(d))
		if mode != "" {
			st := NewFileState(FileState{Umask: 0o022}, TypeDirectory)
			m, err := ResolveMode(mode, st, true)
			if err != nil {
				return Result{Failed: true, Msg: err.Error()}, nil
			}
			fmt.Fprintf(&b, "chmod %o -- \"$_mdo_p\" || exit 1\n", m)
		}
	}
	if _, _, _, err := runHelper(ctx, c, "mkdir", dirs[0], b.String(), nil); err != nil {
		return FailResult(err, nil)
	}
	return Result{}, nil
}

// remoteCopy copies a file or tree that is already on the target, in one
// exec: compare by checksum listing, copy when different.
func remoteCopy(ctx context.Context, env *Env, src, dest string, args Args) (Result, error) {
	var e expander
	s, d := e.Word(src, true), e.Word(dest, true)
	check := "0"
	if env.Check {
		check = "1"
	}
	script := e.Prelude() + "_mdo_s=" + s + "\n_mdo_d=" + d + "\n_mdo_check=" + check + "\n" + `
[ -e "$_mdo_s" ] || { printf 'fail\0src\0Source %s not found\0' "$_mdo_s"; exit 0; }
if [ -d "$_mdo_s" ]; then
  case $_mdo_s in */) ;; *) _mdo_d="${_mdo_d%/}/${_mdo_s##*/}" ;; esac
  _mdo_sum() { [ -d "$1" ] || return 0; (cd "$1" && find . -print | LC_ALL=C sort && find . -type f -exec sha1sum {} + | LC_ALL=C sort) ; }
  if [ "$(_mdo_sum "$_mdo_s")" = "$(_mdo_sum "$_mdo_d")" ]; then printf 'ok\0%s\0' "$_mdo_d"; exit 0; fi
  [ "$_mdo_check" = 1 ] && { printf 'changed\0%s\0' "$_mdo_d"; exit 0; }
  _mdo_e=$(mkdir -p -- "$_mdo_d" 2>&1 && cp -pR -- "${_mdo_s%/}/." "$_mdo_d/" 2>&1) || { printf 'fail\0copy\0%s\0' "$_mdo_e"; exit 0; }
  printf 'changed\0%s\0' "$_mdo_d"; exit 0
fi
[ -d "$_mdo_d" ] && _mdo_d="${_mdo_d%/}/${_mdo_s##*/}"
_mdo_a=$(sha1sum < "$_mdo_s") || { printf 'fail\0src\0cannot read %s\0' "$_mdo_s"; exit 0; }
_mdo_b=$(sha1sum < "$_mdo_d" 2>/dev/null)
printf 'sum\0%s\0' "${_mdo_a%% *}"
if [ "$_mdo_a" = "$_mdo_b" ]; then printf 'ok\0%s\0' "$_mdo_d"; exit 0; fi
[ "$_mdo_check" = 1 ] && { printf 'changed\0%s\0' "$_mdo_d"; exit 0; }
_mdo_t=$(mktemp "${_mdo_d%/*}/.mdo-tmp-XXXXXXXXXX" 2>&1) || { printf 'fail\0mktemp\0%s\0' "$_mdo_t"; exit 0; }
trap 'rm -f -- "$_mdo_t"' EXIT
[ -f "$_mdo_d" ] && { chmod "$(stat -c %a -- "$_mdo_d")" "$_mdo_t"; chown "$(stat -c %u:%g -- "$_mdo_d")" "$_mdo_t" 2>/dev/null; }
[ -f "$_mdo_d" ] || chmod "$(printf '%o' $((0666 & ~$(umask))))" "$_mdo_t"
_mdo_e=$(cat -- "$_mdo_s" > "$_mdo_t" 2>&1 && mv -f -- "$_mdo_t" "$_mdo_d" 2>&1) || { printf 'fail\0copy\0%s\0' "$_mdo_e"; exit 0; }
trap - EXIT
printf 'changed\0%s\0' "$_mdo_d"
`
	res, err := env.Conn.Exec(ctx, conn.Command{Script: script})
	if err != nil {
		return Result{}, fmt.Errorf("copy %s to %s: %w", src, dest, err)
	}
	f := nulFields(res.Stdout)
	if _, bad := f["fail"]; bad {
		parts := strings.Split(string(res.Stdout), "\x00")
		msg := strings.TrimSpace(parts[len(parts)-2])
		return Result{Failed: true, Msg: msg, Values: map[string]any{"src": src, "dest": dest}}, nil
	}
	target := f["ok"]
	changed := false
	if t, ok := f["changed"]; ok {
		target, changed = t, true
	}
	if target == "" {
		return Result{Failed: true, Msg: fmt.Sprintf("copy script failed (rc %d): %s", res.RC, strings.TrimSpace(string(res.Stderr)))}, nil
	}
	values := map[string]any{"src": src, "dest": target}
	if s := f["sum"]; s != "" {
		values["checksum"] = s
	}
	r := Result{Changed: changed, Values: values}
	a := attrsOf(args)
	if a != (Attrs{}) {
		st, err := ReadFile(ctx, env.Conn, target, ReadOptions{NoChecksum: true})
		if err != nil {
			return FailResult(err, values)
		}
		if env.Check && !st.Exists {
			return r, nil
		}
		fr, err := fixAttrs(ctx, env, st, a, values)
		fr.Changed = fr.Changed || changed
		return fr, err
	}
	return r, nil
}
