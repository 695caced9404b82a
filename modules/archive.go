package modules

import (
	"bytes"
	"context"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// Archive is community.general.archive: it packs paths on the target
// into a tar (plain, gz, bz2, xz) or zip archive, or compresses one file,
// with the target's tar, gzip, bzip2, xz and zip. Paths, globs, the
// archive root and the member names are the collection's (expand_paths,
// common_path, strip_prefix); a new archive is built next to dest and
// replaces it only when its members differ (as the module compares member
// checksums: the tar listing with modes, owners, sizes and times, zip's
// names and CRCs, a compressed file's content), so an unchanged tree is
// ok. One exec lists the sources, one more builds (in check mode it only
// looks at dest).
type Archive struct{}

var _ Module = Archive{}

// Spec describes archive's arguments.
func (Archive) Spec() *Spec {
	return &Spec{
		Args: append(fileAttrArgs(),
			Arg{Name: "path", Type: TypeList, Required: true},
			Arg{Name: "format", Type: TypeStr, Default: "gz", Choices: []string{"bz2", "gz", "tar", "xz", "zip"}},
			Arg{Name: "dest", Type: TypePath},
			Arg{Name: "exclude_path", Type: TypeList, Default: []any{}},
			Arg{Name: "exclusion_patterns", Type: TypeList},
			Arg{Name: "force_archive", Type: TypeBool, Default: false},
			Arg{Name: "remove", Type: TypeBool, Default: false},
		),
		CheckMode: true,
	}
}

// archiveGlobWord returns a shell word for a path pattern: * and ? stay
// active, everything else is quoted (a leading ~ or $VAR is expanded).
func archiveGlobWord(e *expander, p string) string {
	var b strings.Builder
	start := 0
	first := true
	for i := 0; i <= len(p); i++ {
		if i < len(p) && p[i] != '*' && p[i] != '?' {
			continue
		}
		if i > start {
			if first {
				b.WriteString(e.Word(p[start:i], true))
			} else {
				b.WriteString(conn.Quote(p[start:i]))
			}
		}
		first = false
		if i < len(p) {
			b.WriteByte(p[i])
		}
		start = i + 1
	}
	return b.String()
}

// archiveSource is one expanded path as the probe saw it.
type archiveSource struct {
	exists, isDir bool
	entries       []string // for a directory: everything under it (find -mindepth 1)
}

// archiveProbe lists every expanded path of list (kind "P" or "X"):
// its state, and for a directory the paths under it.
func archiveProbe(e *expander, kind string, list []string) (string, bool) {
	var b strings.Builder
	globby := false
	for _, p := range list {
		if strings.ContainsAny(p, "*?") {
			globby = true
			fmt.Fprintf(&b, "for _mdo_g in %s; do { [ -e \"$_mdo_g\" ] || [ -L \"$_mdo_g\" ]; } && _mdo_emit %s \"$_mdo_g\"; done\n", archiveGlobWord(e, p), kind)
		} else {
			fmt.Fprintf(&b, "_mdo_emit %s %s\n", kind, e.Word(p, true))
		}
	}
	return b.String(), globby
}

const archiveEmit = `_mdo_emit() {
  printf '%s\0%s\0' "$1" "$2"
  if [ -d "$2" ]; then printf 'D\0\0'; [ "$1" = X ] || find -H "$2" -mindepth 1 -printf 'F\0%p\0'
  elif [ -e "$2" ] || [ -L "$2" ]; then printf 'E\0\0'
  else printf 'M\0\0'; fi
}
`

// commonPath is the module's common_path.
func commonPath(paths []string) string {
	if len(paths) == 0 {
		return ""
	}
	ds := make([]string, len(paths))
	for i, p := range paths {
		ds[i] = pyJoin(pyDirname(p), "")
	}
	prefix := ds[0]
	for _, d := range ds[1:] {
		n := 0
		for n < len(prefix) && n < len(d) && prefix[n] == d[n] {
			n++
		}
		prefix = prefix[:n]
	}
	return pyJoin(pyDirname(prefix), "")
}

// pyDirname and pyJoin are Python's os.path.dirname and os.path.join of
// two parts.
func pyDirname(p string) string {
	i := strings.LastIndex(p, "/") + 1
	head := p[:i]
	if head != "" && strings.Trim(head, "/") != "" {
		head = strings.TrimRight(head, "/")
	}
	return head
}

func pyJoin(a, b string) string {
	if strings.HasPrefix(b, "/") || a == "" {
		return b
	}
	if strings.HasSuffix(a, "/") {
		return a + b
	}
	return a + "/" + b
}

// Run archives.
func (Archive) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	format := args.String("format")
	pathArgs := args.Strings("path")
	var e expander
	incl, globby := archiveProbe(&e, "P", pathArgs)
	excl, _ := archiveProbe(&e, "X", args.Strings("exclude_path"))
	res, err := env.Conn.Exec(ctx, conn.Command{Script: e.Prelude() + archiveEmit + incl + excl})
	if err != nil {
		return Result{}, fmt.Errorf("archive: %w", err)
	}
	var expanded, excluded []string
	sources := map[string]*archiveSource{}
	parts := bytes.Split(res.Stdout, []byte{0})
	var cur *archiveSource
	for i := 0; i+1 < len(parts); i += 2 {
		k, v := string(parts[i]), string(parts[i+1])
		switch k {
		case "P", "X":
			if k == "P" {
				expanded = append(expanded, v)
			} else {
				excluded = append(excluded, v)
			}
			if sources[v] == nil {
				sources[v] = &archiveSource{}
			}
			cur = sources[v]
		case "D":
			cur.exists, cur.isDir = true, true
		case "E":
			cur.exists = true
		case "F":
			cur.entries = append(cur.entries, v)
		}
	}
	exSet := map[string]bool{}
	for _, x := range excluded {
		exSet[x] = true
	}
	seen := map[string]bool{}
	var paths []string
	for _, p := range expanded {
		if !exSet[p] && !seen[p] {
			seen[p] = true
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	if len(paths) == 0 {
		return Result{Failed: true, Msg: "Error, no source paths were found", Values: map[string]any{
			"path": strings.Join(pathArgs, ", "), "expanded_paths": strings.Join(expanded, ", "), "expanded_exclude_paths": strings.Join(excluded, ", "),
		}}, nil
	}
	root := commonPath(paths)
	mustArchive := args.Bool("force_archive") || globby || sources[paths[0]].isDir || len(paths) > 1
	dest := args.String("dest")
	if dest == "" && !mustArchive {
		dest = paths[0] + "." + format
	}
	if mustArchive && dest == "" {
		return Result{Failed: true, Msg: `Error, must specify "dest" when archiving multiple files or trees`, Values: map[string]any{"dest": nil, "path": strings.Join(pathArgs, ", ")}}, nil
	}
	if args.Bool("remove") {
		for _, p := range paths {
			if sources[p].isDir && strings.HasPrefix(dest, pyJoin(p, "")) {
				return Result{Failed: true, Msg: "Error, created archive can not be contained in source paths when remove=true", Values: map[string]any{"path": strings.Join(paths, ", ")}}, nil
			}
		}
	}
	var targets, missing []string
	for _, p := range paths {
		if sources[p].exists {
			targets = append(targets, p)
		} else {
			missing = append(missing, p)
		}
	}
	patterns := args.Strings("exclusion_patterns")
	excludedName := func(full, name string) bool {
		subject := name
		if format == "zip" {
			subject = full
		}
		for _, pat := range patterns {
			if ok, _ := path.Match(pat, subject); ok || fnmatchAny(pat, subject) {
				return true
			}
		}
		return false
	}
	// The members: archive names relative to root, and the paths archived.
	var members, archived []string
	add := func(full string) {
		name := strings.TrimPrefix(full, root)
		if excludedName(full, name) {
			return
		}
		members = append(members, name)
		archived = append(archived, full)
	}
	compress := false
	switch {
	case len(targets) == 0:
	case mustArchive:
		for _, t := range targets {
			if sources[t].isDir {
				for _, f := range sources[t].entries {
					add(f)
				}
			} else {
				add(t)
			}
		}
	case format == "zip" || format == "tar":
		add(paths[0])
	default:
		compress = true
		archived = []string{paths[0]}
	}
	destState := "absent"
	switch {
	case len(targets) == 0:
	case mustArchive && len(missing) > 0:
		destState = "incomplete"
	case compress:
		destState = "compress"
	default:
		destState = "archive"
	}

	// The build: a new archive in a temporary directory beside dest,
	// compared with dest, moved over it when it differs.
	var b strings.Builder
	var e2 expander
	destWord := e2.Word(dest, true)
	b.WriteString(e2.Prelude())
	fmt.Fprintf(&b, "_mdo_f=%s\n_mdo_r=%s\n", destWord, conn.Quote(root))
	b.WriteString(`[ -n "$_mdo_r" ] || _mdo_r=.
printf 'B\0%s\0' "$_mdo_f"
_mdo_x=0; [ -e "$_mdo_f" ] && _mdo_x=1
printf 'existed\0%s\0' "$_mdo_x"
`)
	build := len(targets) > 0 && !env.Check
	var stdin []byte
	if build {
		for _, m := range members {
			stdin = append(append(stdin, m...), 0)
		}
		var make, list string
		switch {
		case compress:
			prog := map[string]string{"gz": "gzip", "bz2": "bzip2", "xz": "xz"}[format]
			make = fmt.Sprintf("%s -c < %s > \"$_mdo_n\"", prog, conn.Quote(paths[0]))
			list = prog + " -dc < \"$1\" | cksum"
		case format == "zip":
			make = `(cd "$_mdo_r" && tr '\0' '\n' | zip -q "$_mdo_n" -@)`
			list = `unzip -v "$1" | tail -n +2`
		default:
			make = `tar -C "$_mdo_r" --no-recursion --null -T - -cf "$_mdo_t/tar"`
			if format == "tar" {
				make += ` && mv -- "$_mdo_t/tar" "$_mdo_n"`
			} else {
				comp := map[string]string{"gz": "gzip", "bz2": "bzip2", "xz": "xz"}[format]
				make += fmt.Sprintf(` && %s -c < "$_mdo_t/tar" > "$_mdo_n"`, comp)
			}
			list = `tar -tv --full-time -f "$1" | LC_ALL=C sort`
		}
		fmt.Fprintf(&b, `_mdo_list() { %s; }
case $_mdo_f in */*) _mdo_dd=${_mdo_f%%/*}; [ -n "$_mdo_dd" ] || _mdo_dd=/ ;; *) _mdo_dd=. ;; esac
_mdo_t=$(mktemp -d "$_mdo_dd/.mdo-archive-XXXXXXXX" 2>&1) || { printf 'fail\0%%s\0' "$_mdo_t"; exit 1; }
trap 'rm -rf -- "$_mdo_t"' EXIT
case $_mdo_t in /*) ;; *) _mdo_t=$PWD/$_mdo_t ;; esac
_mdo_n="$_mdo_t/new.zip"
_mdo_e=$( { %s; } 2>&1) || { printf 'fail\0%%s\0' "$_mdo_e"; exit 1; }
if [ "$_mdo_x" = 1 ] && [ "$(_mdo_list "$_mdo_f" 2>/dev/null)" = "$(_mdo_list "$_mdo_n" 2>&1)" ]; then printf 'changed\0no\0'
else
  if [ "$_mdo_x" = 1 ]; then chmod --reference="$_mdo_f" "$_mdo_n" && chown --reference="$_mdo_f" "$_mdo_n" 2>/dev/null
  else chmod "$(printf '%%o' $(( 0666 & ~0$(umask) )))" "$_mdo_n"; fi
  _mdo_e=$(mv -f -- "$_mdo_n" "$_mdo_f" 2>&1) || { printf 'fail\0%%s\0' "$_mdo_e"; exit 1; }
  printf 'changed\0yes\0'
fi
`, list, make)
		if args.Bool("remove") {
			var rm []string
			for _, a := range archived {
				rm = append(rm, conn.Quote(a))
			}
			for _, p := range paths {
				if sources[p].isDir {
					rm = append(rm, conn.Quote(p))
				}
			}
			fmt.Fprintf(&b, "_mdo_e=$(rm -rf -- %s 2>&1) || { printf 'fail\\0Error deleting some source files: %%s\\0' \"$_mdo_e\"; exit 1; }\n", strings.Join(rm, " "))
		}
	}
	b.WriteString(`_mdo_s=$(LC_ALL=C stat -L -c '` + statFields + `' -- "$_mdo_f" 2>&1) && printf 'stat\0%s\0' "$_mdo_s" || printf 'error\0%s\0' "$_mdo_s"` + "\n")
	res, err = env.Conn.Exec(ctx, conn.Command{Script: b.String(), Stdin: stdin})
	if err != nil {
		return Result{}, fmt.Errorf("archive: %w", err)
	}
	if i := bytes.Index(res.Stdout, []byte("\x00fail\x00")); i >= 0 {
		msg, _, _ := bytes.Cut(res.Stdout[i+6:], []byte{0})
		kind := format
		if format != "zip" && format != "tar" && !compress {
			kind = "tar." + format
		}
		return Result{Failed: true, Msg: fmt.Sprintf("Error when writing %s archive at %s: %s", kind, dest, strings.TrimSpace(string(msg)))}, nil
	}
	recs, _ := parseRecords(res.Stdout)
	if len(recs) != 1 {
		return Result{Failed: true, Msg: fmt.Sprintf("archive: unexpected output (rc %d): %s", res.RC, bytes.TrimSpace(res.Stderr))}, nil
	}
	st, err := recs[0].state(0o022)
	if err != nil {
		return FailResult(err, nil)
	}
	existed := recs[0]["existed"] == "1"
	changed := recs[0]["changed"] == "yes"
	if len(targets) > 0 && env.Check {
		changed = mustArchive || !existed
	}
	if len(targets) == 0 && existed {
		destState = "compress"
		if archiveName(dest) {
			destState = "archive"
		}
	}
	if archived == nil {
		archived = []string{}
	}
	values := map[string]any{
		"archived": toAny(archived), "dest": st.Path, "dest_state": destState, "arcroot": root,
		"missing": toAny(missing), "expanded_paths": toAny(expanded), "expanded_exclude_paths": toAny(excluded),
	}
	if st.Exists {
		r, err := fixAttrs(ctx, env, st, attrsOf(args), values)
		if err != nil || r.Failed {
			return r, err
		}
		delete(r.Values, "path")
		r.Values["dest"] = st.Path
		r.Changed = r.Changed || changed
		return r, nil
	}
	values["state"] = "absent"
	return Result{Changed: changed, Values: values}, nil
}

func toAny(l []string) []any {
	out := make([]any, len(l))
	for i, s := range l {
		out[i] = s
	}
	return out
}

// archiveName is the module's is_archive.
func archiveName(p string) bool {
	b := strings.ToLower(path.Base(p))
	for _, s := range []string{".tar", ".tar.gz", ".tar.bz2", ".tar.xz", ".tgz", ".tbz2", ".zip"} {
		if strings.HasSuffix(b, s) {
			return true
		}
	}
	return false
}

// fnmatchAny is Python's fnmatch where * and ? also match "/" (which
// path.Match's do not).
func fnmatchAny(pat, s string) bool {
	if pat == "" {
		return s == ""
	}
	switch pat[0] {
	case '*':
		for i := 0; i <= len(s); i++ {
			if fnmatchAny(pat[1:], s[i:]) {
				return true
			}
		}
		return false
	case '?':
		return s != "" && fnmatchAny(pat[1:], s[1:])
	case '[':
		if end := strings.IndexByte(pat[1:], ']'); end >= 0 && s != "" {
			ok, _ := path.Match(pat[:end+2], s[:1])
			return ok && fnmatchAny(pat[end+2:], s[1:])
		}
	}
	return s != "" && s[0] == pat[0] && fnmatchAny(pat[1:], s[1:])
}
