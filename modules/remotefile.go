package modules

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/mdo-play/mdo-play/modules/conn"
	"github.com/mdo-play/mdo-play/templates/pyjson"
)

// This file holds the helpers every file-writing module shares: reading a
// remote path's state in one exec (ReadFile, ReadFiles), writing content
// atomically with mode, owner, group, backup and validate in one exec
// (WriteFile), applying attributes (PlanAttrs, SetAttrs) and filling
// --diff (ContentDiff, AttrDiff). Paths are expanded (~, $VAR) on the
// target by the read; everything after it uses the expanded FileState.Path
// literally, so write after read.

// File types in FileState.Type, as Ansible's file module names them.
const (
	TypeAbsent    = "absent"
	TypeFile      = "file"
	TypeDirectory = "directory"
	TypeLink      = "link"
	TypeOther     = "other" // fifo, socket, device
)

// MaxDiffSize is the largest content shown in a diff (Ansible's
// DEFAULT_MAX_DIFF_SIZE, 104448 bytes); it is also the default
// ReadOptions.MaxContent.
const MaxDiffSize = 104448

// uploadViaPut is the size above which WriteFile uploads with Conn.Put
// instead of feeding the content to the write script's stdin.
const uploadViaPut = 8 << 20

// FileState is a remote path's state as ReadFile saw it (lstat: a link is
// described, not its target).
type FileState struct {
	Path       string // as the target expanded it (~ and $VAR)
	Exists     bool
	Type       string // TypeFile, TypeDirectory, TypeLink, TypeOther or TypeAbsent
	Mode       uint32 // permission bits, 07777
	UID, GID   int
	Owner      string // "" when the uid has no name
	Group      string // "" when the gid has no name
	Size       int64
	Nlink      int
	Inode      uint64
	Dev        uint64
	LinkTarget string // for links: readlink's answer
	Checksum   string // sha1 hex of a regular file (empty when unreadable)
	// Content is the file's bytes when ReadOptions.Content was set and the
	// file is regular and no larger than MaxContent; HasContent says so.
	Content    []byte
	HasContent bool
	// Parent describes the parent directory: TypeDirectory, TypeAbsent or
	// TypeOther (exists but is not a directory).
	Parent string
	// Umask is the target shell's umask (the same for every path of a read).
	Umask uint32

	unnamed bool // read without Owner and Group: nameOwners fills them in
}

// ReadOptions says what ReadFile fetches besides the stat.
type ReadOptions struct {
	// Content fetches regular files' bytes up to MaxContent (default
	// MaxDiffSize; negative: no limit).
	Content    bool
	MaxContent int64
	// Follow describes a link's target instead of the link.
	Follow bool
	// NoChecksum skips the sha1 of regular files.
	NoChecksum bool
}

// FileError is a step that ran on the target and failed (permission
// denied, validation failed, no such directory). The host is fine; modules
// turn it into a failed Result with FailResult.
type FileError struct {
	Op     string // mktemp, write, chmod, chown, validate, backup, rename, mkdir, stat
	Path   string
	Msg    string // the remote command's message
	RC     int    // validate's exit status
	Stdout string // validate's output
	Stderr string
}

func (e *FileError) Error() string {
	if e.Op == "validate" {
		return "failed to validate"
	}
	return fmt.Sprintf("%s %s: %s", e.Op, e.Path, e.Msg)
}

// FailResult turns err into a failed Result when it is a *FileError (the
// step failed on a reachable host) and returns other errors (transport,
// cancellation) unchanged.
func FailResult(err error, values map[string]any) (Result, error) {
	var fe *FileError
	if !errors.As(err, &fe) {
		return Result{}, err
	}
	if values == nil {
		values = map[string]any{}
	}
	if fe.Op == "validate" {
		values["exit_status"] = fe.RC
		values["stdout"] = fe.Stdout
		values["stderr"] = fe.Stderr
	}
	return Result{Failed: true, Msg: fe.Error(), Values: values}, nil
}

// statFields is what the helpers' scripts ask `stat -c` for; the names come
// last because only they could contain unusual characters.
const statFields = "%f %s %u %g %h %i %d %U %G"

// statFieldsNumeric is statFields without the names: a stat process that
// names ids does a name-service lookup (several milliseconds with
// nsswitch's systemd module), so where the connection can name ids
// itself (conn.FileWriter.IDNames, cached per host) reads ask for numbers.
const statFieldsNumeric = "%f %s %u %g %h %i %d"

// fetchChecksumMax is the largest regular file whose sha1 ReadFiles
// computes from the file's bytes fetched over the connection's file
// transfer instead of with a sha1sum process on the target.
const fetchChecksumMax = 256 << 10

// readScript returns shell code describing the path in shell variable
// _mdo_p as records (see parseRecords). With fetch, a regular file's
// content (or, up to fetchChecksumMax, the bytes its checksum is computed
// from) is not printed: a "fetch" record asks the caller to Get it. With
// numeric, the stat record has no names (statFieldsNumeric).
func readScript(o ReadOptions, fetch, numeric bool) string {
	follow := ""
	if o.Follow {
		follow = "-L "
	}
	max := o.MaxContent
	if max == 0 {
		max = MaxDiffSize
	}
	var b strings.Builder
	b.WriteString("printf 'B\\0%s\\0' \"$_mdo_p\"\n")
	// The parent directory, computed in the shell because the path was
	// expanded there.
	b.WriteString(`case $_mdo_p in */*) _mdo_d=${_mdo_p%/*}; [ -n "$_mdo_d" ] || _mdo_d=/ ;; *) _mdo_d=. ;; esac
if [ -d "$_mdo_d" ]; then _mdo_pt=directory; elif [ -e "$_mdo_d" ]; then _mdo_pt=other; else _mdo_pt=absent; fi
printf 'parent\0%s\0' "$_mdo_pt"
_mdo_bn=${_mdo_p##*/}
`)
	// A path that is neither there nor a link, in a directory that can be
	// searched, does not exist: no stat process for it (the length limits
	// keep "File name too long" for stat to report).
	b.WriteString("if [ \"$_mdo_pt\" = directory ] && [ -x \"$_mdo_d\" ] && [ ${#_mdo_bn} -le 63 ] && [ ${#_mdo_p} -le 1024 ] && ! [ -e \"$_mdo_p\" ] && ! [ -L \"$_mdo_p\" ]; then\n")
	b.WriteString("  printf 'error\\0No such file or directory\\0'\n")
	fields := statFields
	if numeric {
		fields = statFieldsNumeric
	}
	fmt.Fprintf(&b, "elif _mdo_s=$(LC_ALL=C stat %s-c '%s' -- \"$_mdo_p\" 2>&1); then\n", follow, fields)
	b.WriteString("  printf 'stat\\0%s\\0' \"$_mdo_s\"\n  case $_mdo_s in\n")
	b.WriteString("  a*) printf 'link\\0'; readlink -- \"$_mdo_p\"; printf '\\0' ;;\n")
	b.WriteString("  8*)")
	// The size is stat's second field.
	sizeLE := func(n int64) string {
		return fmt.Sprintf("_mdo_z=${_mdo_s#* }; [ \"${_mdo_z%%%% *}\" -le %d ]", n)
	}
	const fetchRec = "printf 'fetch\\0\\0'"
	sha1 := ""
	if !o.NoChecksum {
		sha1 = "printf 'sha1\\0'; sha1sum < \"$_mdo_p\"; printf '\\0'"
		if fetch && !o.Content {
			sha1 = "if " + sizeLE(fetchChecksumMax) + "; then " + fetchRec + "; else " + sha1 + "; fi"
		}
	}
	switch {
	case o.Content:
		// The controller computes the checksum of content it gets.
		cond := "true"
		if max > 0 {
			cond = sizeLE(max)
		}
		read := "printf 'content\\0'; base64 < \"$_mdo_p\"; printf '\\0'"
		if fetch {
			read = fetchRec
		}
		fmt.Fprintf(&b, " if [ -r \"$_mdo_p\" ]; then if %s; then %s", cond, read)
		if sha1 != "" {
			b.WriteString("; else " + sha1)
		}
		b.WriteString("; fi; fi;")
	case sha1 != "":
		b.WriteString(" if [ -r \"$_mdo_p\" ]; then " + sha1 + "; fi;")
	}
	b.WriteString(" ;;\n  esac\nelse\n  printf 'error\\0%s\\0' \"$_mdo_s\"\nfi\n")
	return b.String()
}

// ReadFile describes path on the target in one exec. A missing path is
// not an error (Exists false); a path that cannot be examined (permission
// denied) is a *FileError.
func ReadFile(ctx context.Context, c conn.Conn, p string, o ReadOptions) (FileState, error) {
	sts, err := ReadFiles(ctx, c, []string{p}, o)
	if err != nil {
		return FileState{}, err
	}
	return sts[0], nil
}

// ReadFiles describes several paths in one exec, in order.
func ReadFiles(ctx context.Context, c conn.Conn, paths []string, o ReadOptions) ([]FileState, error) {
	var e expander
	var body strings.Builder
	// umask is a builtin writing to stdout: no command substitution, no fork.
	body.WriteString("printf 'umask\\0'; umask; printf '\\0'\n")
	// Over a connection with a file transfer (SFTP), a regular file's
	// bytes come that way: no base64 or sha1sum process on the target.
	// Only for paths that are absolute once expanded: the transfer's
	// working directory need not be the shell's.
	_, fetch := c.(conn.FileWriter)
	rsPlain, rsFetch := readScript(o, false, fetch), readScript(o, true, fetch)
	// A path inside an earlier path of the list (copy's dest and
	// dest/basename, a tree's directories and their entries) cannot
	// exist unless that one is a directory: then no stat is run for it.
	parents := map[string]int{}
	for i, p := range paths {
		parents[p] = i
	}
	saved := map[int]bool{}
	for i, p := range paths {
		rs := rsPlain
		if fetch && (strings.HasPrefix(p, "/") || p == "~" || strings.HasPrefix(p, "~/")) {
			rs = rsFetch
		}
		if j, ok := parents[path.Dir(p)]; ok && j < i && path.Dir(p) != p {
			fmt.Fprintf(&body, "_mdo_p=%s\nif [ -d \"$_mdo_p%d\" ]; then\n%selse\n%sfi\n", e.Word(p, true), j, rs, absentChild(j))
		} else {
			fmt.Fprintf(&body, "_mdo_p=%s\n%s", e.Word(p, true), rs)
		}
		if j, ok := parents[p]; ok && j == i && !saved[i] && hasChild(paths, i) {
			saved[i] = true
			fmt.Fprintf(&body, "_mdo_p%d=$_mdo_p\n", i)
		}
	}
	res, err := c.Exec(ctx, conn.Command{Script: e.Prelude() + body.String()})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", strings.Join(paths, ", "), err)
	}
	recs, umask := parseRecords(res.Stdout)
	if len(recs) != len(paths) {
		return nil, &FileError{Op: "stat", Path: strings.Join(paths, ", "), Msg: fmt.Sprintf("unexpected output (rc %d): %s", res.RC, bytes.TrimSpace(res.Stderr))}
	}
	out := make([]FileState, len(recs))
	for i, r := range recs {
		st, err := r.state(umask)
		if err != nil {
			return nil, err
		}
		if _, ok := r["fetch"]; ok {
			if st, err = fetchContent(ctx, c, st, o); err != nil {
				return nil, err
			}
		}
		if st.HasContent && !o.NoChecksum {
			sum := sha1.Sum(st.Content)
			st.Checksum = hex.EncodeToString(sum[:])
		}
		out[i] = st
	}
	if err := nameOwners(ctx, c, out); err != nil {
		return nil, err
	}
	return out, nil
}

// nameOwners fills in Owner and Group of states read without names
// (statFieldsNumeric) with the connection's IDNames.
func nameOwners(ctx context.Context, c conn.Conn, sts []FileState) error {
	var uids, gids []int
	for _, st := range sts {
		if st.unnamed {
			uids, gids = append(uids, st.UID), append(gids, st.GID)
		}
	}
	if len(uids) == 0 {
		return nil
	}
	fw, ok := c.(conn.FileWriter)
	if !ok {
		return fmt.Errorf("name owners: %T cannot name ids", c)
	}
	users, groups, err := fw.IDNames(ctx, uids, gids)
	if err != nil {
		if terr := transportErr(ctx, "name owners", err); terr != nil {
			return terr
		}
		return &FileError{Op: "stat", Path: sts[0].Path, Msg: err.Error()}
	}
	for i := range sts {
		if st := &sts[i]; st.unnamed {
			st.Owner, st.Group, st.unnamed = users[st.UID], groups[st.GID], false
		}
	}
	return nil
}

// fetchContent gets a regular file's bytes for ReadFiles: its content
// when o.Content, else its checksum. Where the transfer fails on a
// reachable host (no SFTP subsystem, a file that changed under us), the
// path is read again with the script's own base64 and sha1sum.
func fetchContent(ctx context.Context, c conn.Conn, st FileState, o ReadOptions) (FileState, error) {
	var buf bytes.Buffer
	err := c.Get(ctx, st.Path, &buf)
	if err == nil {
		if o.Content {
			st.Content, st.HasContent = buf.Bytes(), true
		} else {
			sum := sha1.Sum(buf.Bytes())
			st.Checksum = hex.EncodeToString(sum[:])
		}
		return st, nil
	}
	if terr := transportErr(ctx, "read "+st.Path, err); terr != nil {
		return st, terr
	}
	script := "_mdo_p=" + conn.Quote(st.Path) + "\n" + readScript(o, false, false)
	res, err := c.Exec(ctx, conn.Command{Script: script})
	if err != nil {
		return st, fmt.Errorf("read %s: %w", st.Path, err)
	}
	recs, _ := parseRecords(res.Stdout)
	if len(recs) != 1 {
		return st, &FileError{Op: "stat", Path: st.Path, Msg: fmt.Sprintf("unexpected output (rc %d): %s", res.RC, bytes.TrimSpace(res.Stderr))}
	}
	again, err := recs[0].state(st.Umask)
	again.Parent = st.Parent
	return again, err
}

// hasChild reports whether a path after paths[i] lies directly in it.
func hasChild(paths []string, i int) bool {
	for _, p := range paths[i+1:] {
		if path.Dir(p) == paths[i] && p != paths[i] {
			return true
		}
	}
	return false
}

// absentChild is the record readScript gives a path whose parent, the
// path saved as _mdo_pJ, is not a directory: it does not exist, and its
// parent is "other" or "absent".
func absentChild(j int) string {
	return fmt.Sprintf("printf 'B\\0%%s\\0' \"$_mdo_p\"\nif [ -e \"$_mdo_p%d\" ]; then printf 'parent\\0other\\0'; else printf 'parent\\0absent\\0'; fi\nprintf 'error\\0No such file or directory\\0'\n", j)
}

// record is one path's key/value pairs from a helper script.
type record map[string]string

// parseRecords reads key\0value\0 pairs; "B" starts a new record and every
// key before the first B is global (umask).
func parseRecords(b []byte) ([]record, uint32) {
	parts := bytes.Split(b, []byte{0})
	var recs []record
	var umask uint32 = 0o022
	for i := 0; i+1 < len(parts); i += 2 {
		k, v := string(parts[i]), string(parts[i+1])
		switch {
		case k == "B":
			recs = append(recs, record{"path": v})
		case k == "umask" && len(recs) == 0:
			if n, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32); err == nil {
				umask = uint32(n)
			}
		case len(recs) > 0:
			recs[len(recs)-1][k] = v
		}
	}
	return recs, umask
}

func (r record) state(umask uint32) (FileState, error) {
	st := FileState{Path: r["path"], Type: TypeAbsent, Parent: r["parent"], Umask: umask}
	if msg, bad := r["error"]; bad {
		msg = strings.TrimSpace(msg)
		if i := strings.LastIndex(msg, ": "); i >= 0 {
			msg = msg[i+2:]
		}
		if msg == "No such file or directory" || msg == "Not a directory" {
			return st, nil
		}
		return st, &FileError{Op: "stat", Path: st.Path, Msg: msg}
	}
	if err := st.parseStat(r["stat"]); err != nil {
		return st, err
	}
	if t, ok := r["link"]; ok {
		st.LinkTarget = strings.TrimSuffix(t, "\n")
	}
	if s := strings.Fields(r["sha1"]); len(s) > 0 {
		st.Checksum = s[0]
	}
	if c, ok := r["content"]; ok {
		data, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(c), ""))
		if err != nil {
			return st, &FileError{Op: "read", Path: st.Path, Msg: err.Error()}
		}
		st.Content, st.HasContent = data, true
	}
	return st, nil
}

// parseStat fills st from a statFields line.
func (st *FileState) parseStat(line string) error {
	f := strings.Fields(line)
	if len(f) != 7 && len(f) < 9 {
		return &FileError{Op: "stat", Path: st.Path, Msg: fmt.Sprintf("unexpected stat output %q", line)}
	}
	raw, err := strconv.ParseUint(f[0], 16, 32)
	if err != nil {
		return &FileError{Op: "stat", Path: st.Path, Msg: fmt.Sprintf("mode %q: %v", f[0], err)}
	}
	var n [6]uint64
	for i := range n {
		if n[i], err = strconv.ParseUint(f[i+1], 10, 64); err != nil {
			return &FileError{Op: "stat", Path: st.Path, Msg: fmt.Sprintf("field %q: %v", f[i+1], err)}
		}
	}
	st.Exists = true
	st.Mode = uint32(raw) & 0o7777
	switch uint32(raw) & 0o170000 {
	case 0o100000:
		st.Type = TypeFile
	case 0o040000:
		st.Type = TypeDirectory
	case 0o120000:
		st.Type = TypeLink
	default:
		st.Type = TypeOther
	}
	st.Size, st.UID, st.GID, st.Nlink = int64(n[0]), int(n[1]), int(n[2]), int(n[3])
	st.Inode, st.Dev = n[4], n[5]
	if len(f) == 7 {
		st.unnamed = true // statFieldsNumeric: nameOwners names them
		return nil
	}
	if f[7] != "UNKNOWN" {
		st.Owner = f[7]
	}
	if f[8] != "UNKNOWN" {
		st.Group = f[8]
	}
	return nil
}

// ModeString formats permission bits as Ansible's results do ("0644").
func ModeString(m uint32) string { return fmt.Sprintf("%04o", m) }

// Attrs are the attributes a module was asked to set; empty fields leave
// the attribute alone.
type Attrs struct {
	Mode  string // octal ("0644"), symbolic ("u=rw,g=r,o=") as TypeMode gives it
	Owner string // name or numeric uid
	Group string // name or numeric gid
}

// AttrPlan is what must change to give a path its requested attributes.
type AttrPlan struct {
	Mode    *uint32 // new permission bits, nil when unchanged
	Owner   string  // chown argument, "" when unchanged
	Group   string  // chgrp argument, "" when unchanged
	Changed bool
	// Before and After are the changed attributes as Ansible's file module
	// puts them in its diff: mode as "0644", owner and group as ids or
	// names.
	Before, After map[string]any
}

var octalMode = regexp.MustCompile(`^[0-7]+$`)

// ResolveMode returns the permission bits mode asks for on a path in state
// st (symbolic modes are relative to the current mode, and a mode without
// a who part honours st.Umask, as chmod and Ansible do). isDir matters for
// X.
func ResolveMode(mode string, st FileState, isDir bool) (uint32, error) {
	if octalMode.MatchString(mode) {
		n, err := strconv.ParseUint(mode, 8, 32)
		if err != nil || n > 0o7777 {
			return 0, fmt.Errorf("Invalid mode supplied, only permission info is allowed")
		}
		return uint32(n), nil
	}
	return symbolicMode(mode, st.Mode, isDir, st.Umask)
}

// ModeWarning returns a warning when mode looks like an unquoted decimal
// YAML integer (644 arrives as "1204"), else "".
func ModeWarning(mode string) string {
	if len(mode) != 4 || mode[0] == '0' || !octalMode.MatchString(mode) {
		return ""
	}
	n, _ := strconv.ParseUint(mode, 8, 32)
	dec := strconv.FormatUint(n, 10)
	if len(dec) == 3 && octalMode.MatchString(dec) {
		return fmt.Sprintf("mode %s was given as the decimal integer %s and means 0%s; quote octal modes (mode: \"0%s\")", ModeString(uint32(n)), dec, mode, dec)
	}
	return ""
}

// symbolicMode applies a chmod-style symbolic mode to cur, as Ansible's
// AnsibleModule._symbolic_mode_to_octal does.
func symbolicMode(mode string, cur uint32, isDir bool, umask uint32) (uint32, error) {
	bad := func() (uint32, error) {
		return 0, fmt.Errorf("mode must be in octal or symbolic form: bad symbolic permission for mode: %s", mode)
	}
	newMode := cur
	for _, clause := range strings.Split(mode, ",") {
		i := strings.IndexAny(clause, "+-=")
		if i < 0 {
			return bad()
		}
		users := clause[:i]
		useUmask := users == ""
		if users == "" || users == "a" {
			users = "ugo"
		}
		if strings.Trim(users, "ugoa") != "" {
			return bad()
		}
		rest := clause[i:]
		for rest != "" {
			op := rest[0]
			j := strings.IndexAny(rest[1:], "+-=")
			var perms string
			if j < 0 {
				perms, rest = rest[1:], ""
			} else {
				perms, rest = rest[1:1+j], rest[1+j:]
			}
			if strings.Trim(perms, "rwxXstugo") != "" {
				return bad()
			}
			for _, u := range users {
				if u == 'a' {
					continue
				}
				apply := permBits(byte(u), perms, newMode, isDir, useUmask, umask)
				newMode = applyOp(byte(u), op, apply, newMode)
			}
		}
	}
	return newMode, nil
}

func permBits(user byte, perms string, prev uint32, isDir, useUmask bool, umask uint32) uint32 {
	rev := umask ^ 0o7777
	applyX := isDir || prev&0o111 != 0
	shift := map[byte]uint{'u': 6, 'g': 3, 'o': 0}[user]
	var out uint32
	for i := 0; i < len(perms); i++ {
		var bits uint32
		switch perms[i] {
		case 'r', 'w', 'x':
			bits = map[byte]uint32{'r': 4, 'w': 2, 'x': 1}[perms[i]] << shift
			if useUmask {
				bits &= rev
			}
		case 'X':
			if applyX {
				bits = 1 << shift
			}
		case 's':
			bits = map[byte]uint32{'u': 0o4000, 'g': 0o2000}[user]
		case 't':
			if user == 'o' {
				bits = 0o1000
			}
		case 'u', 'g', 'o':
			from := map[byte]uint{'u': 6, 'g': 3, 'o': 0}[perms[i]]
			bits = ((prev >> from) & 7) << shift
		}
		out |= bits
	}
	return out
}

func applyOp(user, op byte, bits, cur uint32) uint32 {
	switch op {
	case '=':
		mask := map[byte]uint32{'u': 0o700 | 0o4000, 'g': 0o070 | 0o2000, 'o': 0o007 | 0o1000}[user]
		return cur&^mask | bits
	case '+':
		return cur | bits
	default:
		return cur &^ bits
	}
}

// PlanAttrs compares st with the requested attributes. For a path that
// does not exist yet, st should describe what will be created (Type and
// Mode set to the defaults): see NewFileState.
func PlanAttrs(st FileState, a Attrs) (AttrPlan, error) {
	p := AttrPlan{Before: map[string]any{}, After: map[string]any{}}
	if a.Mode != "" {
		m, err := ResolveMode(a.Mode, st, st.Type == TypeDirectory)
		if err != nil {
			return p, err
		}
		if m != st.Mode || !st.Exists {
			mm := m
			p.Mode = &mm
			if m != st.Mode {
				p.Changed = true
				p.Before["mode"] = ModeString(st.Mode)
				p.After["mode"] = ModeString(m)
			}
		}
	}
	if a.Owner != "" && !sameID(a.Owner, st.Owner, st.UID) {
		p.Owner, p.Changed = a.Owner, true
		p.Before["owner"] = st.UID
		p.After["owner"] = idOrName(a.Owner)
	}
	if a.Group != "" && !sameID(a.Group, st.Group, st.GID) {
		p.Group, p.Changed = a.Group, true
		p.Before["group"] = st.GID
		p.After["group"] = idOrName(a.Group)
	}
	return p, nil
}

// NewFileState describes what a path that is about to be created will
// look like before attributes are applied: typ with the umask's default
// mode (0666 or 0777 without the umask bits).
func NewFileState(st FileState, typ string) FileState {
	n := st
	n.Type = typ
	n.Mode = 0o666 &^ st.Umask
	if typ == TypeDirectory {
		n.Mode = 0o777 &^ st.Umask
	}
	return n
}

func sameID(want, name string, id int) bool {
	if n, err := strconv.Atoi(want); err == nil {
		return n == id
	}
	return want == name
}

func idOrName(s string) any {
	if n, err := strconv.Atoi(s); err == nil {
		return n
	}
	return s
}

// attrCmds returns shell commands applying plan to the path in variable
// v; each failure prints a fail record and exits.
func attrCmds(v string, plan AttrPlan, noFollow bool) string {
	var b strings.Builder
	h := ""
	if noFollow {
		h = "-h "
	}
	if plan.Owner != "" || plan.Group != "" {
		spec := plan.Owner
		if plan.Group != "" {
			spec += ":" + plan.Group
		}
		fmt.Fprintf(&b, "_mdo_e=$(chown %s-- %s \"$%s\" 2>&1) || { printf 'fail\\0chown\\0%%s\\0' \"$_mdo_e\"; exit 1; }\n", h, conn.Quote(spec), v)
	}
	// chmod after chown: chown clears setuid/setgid bits.
	if plan.Mode != nil && !noFollow {
		fmt.Fprintf(&b, "_mdo_e=$(chmod %o -- \"$%s\" 2>&1) || { printf 'fail\\0chmod\\0%%s\\0' \"$_mdo_e\"; exit 1; }\n", *plan.Mode, v)
	}
	return b.String()
}

// statRecord is shell code printing the state of the path in variable v
// as a record (no checksum, no content) for a command on c: without names
// where c can name ids itself (read it with namedState).
func statRecord(c conn.Conn, v string) string {
	fields := statFields
	if _, ok := c.(conn.FileWriter); ok {
		fields = statFieldsNumeric
	}
	return fmt.Sprintf("printf 'B\\0%%s\\0' \"$%s\"\n_mdo_s=$(LC_ALL=C stat -c '%s' -- \"$%s\" 2>&1) && printf 'stat\\0%%s\\0' \"$_mdo_s\" || printf 'error\\0%%s\\0' \"$_mdo_s\"\n", v, fields, v)
}

// namedState is r.state with the owner and group named (nameOwners).
func namedState(ctx context.Context, c conn.Conn, r record, umask uint32) (FileState, error) {
	st, err := r.state(umask)
	if err != nil {
		return st, err
	}
	sts := []FileState{st}
	if err := nameOwners(ctx, c, sts); err != nil {
		return FileState{}, err
	}
	return sts[0], nil
}

// runHelper runs a helper script and returns its records, or a
// *FileError from a fail record.
func runHelper(ctx context.Context, c conn.Conn, op, p, script string, stdin []byte) ([]record, uint32, conn.ExecResult, error) {
	res, err := c.Exec(ctx, conn.Command{Script: script, Stdin: stdin})
	if err != nil {
		return nil, 0, res, fmt.Errorf("%s %s: %w", op, p, err)
	}
	if i := bytes.Index(res.Stdout, []byte("fail\x00")); i >= 0 && (i == 0 || res.Stdout[i-1] == 0) {
		parts := bytes.SplitN(res.Stdout[i:], []byte{0}, 4)
		fe := &FileError{Op: op, Path: p}
		if len(parts) >= 3 {
			fe.Op = string(parts[1])
			fe.Msg = strings.TrimSpace(string(parts[2]))
			if i := strings.LastIndex(fe.Msg, ": "); i >= 0 && fe.Op != "validate" {
				fe.Msg = fe.Msg[i+2:]
			}
		}
		if fe.Op == "validate" {
			fe.Stdout, fe.Stderr = fe.Msg, strings.TrimSpace(string(res.Stderr))
			fe.Msg = "failed to validate"
			if len(parts) == 4 {
				rest := nulFields(parts[3])
				fe.RC, _ = strconv.Atoi(rest["rc"])
			}
		}
		return nil, 0, res, fe
	}
	recs, umask := parseRecords(res.Stdout)
	if res.RC != 0 {
		return recs, umask, res, &FileError{Op: op, Path: p, Msg: fmt.Sprintf("script exited %d: %s", res.RC, bytes.TrimSpace(res.Stderr))}
	}
	return recs, umask, res, nil
}

// SetAttrs applies plan to st.Path in one exec and returns the new state.
// noFollow changes a link itself (chown -h; links have no mode).
func SetAttrs(ctx context.Context, c conn.Conn, st FileState, plan AttrPlan, noFollow bool) (FileState, error) {
	script := "_mdo_p=" + conn.Quote(st.Path) + "\n" + attrCmds("_mdo_p", plan, noFollow) + statRecord(c, "_mdo_p")
	recs, _, _, err := runHelper(ctx, c, "set attributes", st.Path, script, nil)
	if err != nil {
		return st, err
	}
	if len(recs) != 1 {
		return st, &FileError{Op: "stat", Path: st.Path, Msg: "no state after change"}
	}
	after, err := namedState(ctx, c, recs[0], st.Umask)
	after.Parent = st.Parent
	return after, err
}

// WriteOptions says how WriteFile writes.
type WriteOptions struct {
	// Before is the destination's state from ReadFile: its Path is written
	// and, when it exists, its mode, owner and group are kept unless Attrs
	// say otherwise. A new file gets 0666 without the umask bits.
	Before FileState
	Attrs  Attrs
	// Backup copies an existing destination to DEST.PID.YYYY-MM-DD@HH:MM:SS~
	// before replacing it.
	Backup bool
	// Validate is a command with %s (the temporary file), run before the
	// rename; a non-zero exit leaves the destination untouched.
	Validate string
	// MkdirParents creates missing parent directories (mode from the umask).
	MkdirParents bool
}

// WriteResult is what WriteFile did.
type WriteResult struct {
	After      FileState // the new file's state (no checksum or content)
	BackupFile string    // "" without a backup
}

// ValidateCommand checks a validate argument: it must contain %s.
func ValidateCommand(v string) error {
	if v != "" && !strings.Contains(v, "%s") {
		return fmt.Errorf("validate must contain %%s: %s", v)
	}
	return nil
}

// validateCmd turns `visudo -cf %s` into shell words with %s replaced by
// "$v". Like Ansible it does not use a shell: the words are split as
// shlex does and each is quoted.
func validateCmd(validate, v string) (string, error) {
	words, err := SplitShlex(validate)
	if err != nil {
		return "", fmt.Errorf("validate: %w", err)
	}
	out := make([]string, len(words))
	for i, w := range words {
		pieces := strings.Split(w, "%s")
		q := make([]string, len(pieces))
		for j, p := range pieces {
			q[j] = conn.Quote(p)
		}
		out[i] = strings.Join(q, "\"$"+v+"\"")
	}
	return strings.Join(out, " "), nil
}

// WriteFile replaces o.Before.Path with content atomically in one exec: a
// temporary file made by mktemp in the destination's directory receives
// the content (on stdin; with Conn.Put above 8 MiB), gets its mode, owner
// and group, is validated, the old file is backed up, and a rename puts
// it in place. On any failure, or when the script is killed, the temporary
// file is removed and the destination is untouched.
func WriteFile(ctx context.Context, c conn.Conn, content []byte, o WriteOptions) (WriteResult, error) {
	st := o.Before
	dst := st.Path
	if dst == "" {
		return WriteResult{}, fmt.Errorf("write: no destination path (read it first)")
	}
	if err := ValidateCommand(o.Validate); err != nil {
		return WriteResult{}, &FileError{Op: "validate", Path: dst, Msg: err.Error()}
	}
	base := st
	if !st.Exists || st.Type != TypeFile {
		base = NewFileState(st, TypeFile)
	}
	plan, err := PlanAttrs(base, o.Attrs)
	if err != nil {
		return WriteResult{}, &FileError{Op: "chmod", Path: dst, Msg: err.Error()}
	}
	// The temporary file starts as 0600 and owned by us: the final mode
	// is always set, and an existing file's owner and group are kept
	// (best effort, as Ansible's atomic_move) unless asked otherwise.
	mode := base.Mode
	if plan.Mode != nil {
		mode = *plan.Mode
	}
	plan.Mode = &mode

	if !o.Backup && o.Validate == "" {
		wr, ok, err := writeDirect(ctx, c, content, st, o.Attrs, mode)
		if ok || err != nil {
			return wr, err
		}
	}

	var b strings.Builder
	fmt.Fprintf(&b, "_mdo_f=%s\n_mdo_d=%s\n", conn.Quote(dst), conn.Quote(path.Dir(dst)))
	if o.MkdirParents {
		b.WriteString("[ -d \"$_mdo_d\" ] || _mdo_e=$(mkdir -p -- \"$_mdo_d\" 2>&1) || { printf 'fail\\0mkdir\\0%s\\0' \"$_mdo_e\"; exit 1; }\n")
	}
	var stdin []byte
	var uploaded string
	if len(content) > uploadViaPut {
		// One name per destination: an upload a dropped connection left
		// behind is replaced by the next one.
		uploaded = stableTemp(dst, ".mdo-up")
		if err := c.Put(ctx, bytes.NewReader(content), uploaded, 0o600); err != nil {
			return WriteResult{}, fmt.Errorf("write %s: upload: %w", dst, err)
		}
		fmt.Fprintf(&b, "_mdo_t=%s\ntrap 'rm -f -- \"$_mdo_t\"' EXIT\ntrap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 143' TERM\n", conn.Quote(uploaded))
	} else {
		stdin = content
		b.WriteString(`_mdo_t=$(umask 077; mktemp "$_mdo_d/.mdo-tmp-XXXXXXXXXX" 2>&1) || { printf 'fail\0mktemp\0%s\0' "$_mdo_t"; exit 1; }
trap 'rm -f -- "$_mdo_t"' EXIT
trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 143' TERM
_mdo_e=$(cat 2>&1 >"$_mdo_t") || { printf 'fail\0write\0%s\0' "$_mdo_e"; exit 1; }
`)
	}
	// A dropped connection ends stdin early: never rename a short file.
	fmt.Fprintf(&b, "_mdo_n=$(wc -c < \"$_mdo_t\") && [ \"$_mdo_n\" -eq %d ] || { printf 'fail\\0write\\0short write (%%s of %d bytes)\\0' \"$_mdo_n\"; exit 1; }\n", len(content), len(content))
	if st.Exists && st.Type == TypeFile {
		fmt.Fprintf(&b, "chown %d:%d \"$_mdo_t\" 2>/dev/null || :\n", st.UID, st.GID)
	}
	// The temporary file is ours: requested owner and group always apply.
	plan.Owner, plan.Group = o.Attrs.Owner, o.Attrs.Group
	b.WriteString(attrCmds("_mdo_t", plan, false))
	if o.Validate != "" {
		vc, err := validateCmd(o.Validate, "_mdo_t")
		if err != nil {
			return WriteResult{}, &FileError{Op: "validate", Path: dst, Msg: err.Error()}
		}
		fmt.Fprintf(&b, "_mdo_o=$(%s </dev/null); _mdo_rc=$?\n[ $_mdo_rc -eq 0 ] || { printf 'fail\\0validate\\0%%s\\0rc\\0%%s\\0' \"$_mdo_o\" \"$_mdo_rc\"; exit 1; }\n", vc)
	}
	if o.Backup {
		b.WriteString(`if [ -f "$_mdo_f" ]; then
  _mdo_b="$_mdo_f.$$.$(date +%Y-%m-%d@%H:%M:%S)~"
  _mdo_e=$(cp -p -- "$_mdo_f" "$_mdo_b" 2>&1) || { printf 'fail\0backup\0%s\0' "$_mdo_e"; exit 1; }
  _mdo_bk=$_mdo_b
fi
`)
	}
	b.WriteString("_mdo_e=$(mv -f -- \"$_mdo_t\" \"$_mdo_f\" 2>&1) || { printf 'fail\\0rename\\0%s\\0' \"$_mdo_e\"; exit 1; }\ntrap - EXIT\n")
	// The temporary file of an SFTP write (sftpfs.TempPath) that a dropped
	// connection left behind: test is a builtin, rm runs only if it is there.
	fmt.Fprintf(&b, "_mdo_s=%s\n[ ! -e \"$_mdo_s\" ] && [ ! -L \"$_mdo_s\" ] || rm -f -- \"$_mdo_s\"\n", conn.Quote(stableTemp(dst, ".mdo-tmp")))
	b.WriteString(statRecord(c, "_mdo_f"))
	if o.Backup {
		b.WriteString("[ -z \"${_mdo_bk:-}\" ] || printf 'backup_file\\0%s\\0' \"$_mdo_bk\"\n")
	}
	script := b.String()
	recs, _, _, err := runHelper(ctx, c, "write", dst, script, stdin)
	if err != nil {
		if uploaded != "" {
			var fe *FileError
			if errors.As(err, &fe) {
				_, _ = c.Exec(ctx, conn.Command{Script: "rm -f -- " + conn.Quote(uploaded)})
			}
		}
		return WriteResult{}, err
	}
	if len(recs) != 1 {
		return WriteResult{}, &FileError{Op: "stat", Path: dst, Msg: "no state after write"}
	}
	after, err := namedState(ctx, c, recs[0], st.Umask)
	if err != nil {
		return WriteResult{}, err
	}
	after.Parent = TypeDirectory
	return WriteResult{After: after, BackupFile: recs[0]["backup_file"]}, nil
}

// writeDirect is WriteFile without a command on the target (no backup,
// no validate), for connections that are a conn.FileWriter. ok is false
// when it cannot write as WriteFile would (the connection cannot, the
// parent directory is missing, the destination is not a regular file, an
// owner is given by a name the target must resolve) or when the SFTP write
// failed on a reachable host: the caller then writes with a script, which
// also reports the failure precisely (SFTP says only "Failure" for a full
// disk). A transport error or cancellation is returned as err.
func writeDirect(ctx context.Context, c conn.Conn, content []byte, st FileState, a Attrs, mode uint32) (wr WriteResult, ok bool, err error) {
	w, ok := c.(conn.FileWriter)
	dst := st.Path
	existing := st.Exists && st.Type == TypeFile
	if !ok || !path.IsAbs(dst) || st.Parent != TypeDirectory || (st.Exists && !existing) {
		return WriteResult{}, false, nil
	}
	u, g, err := w.LoginUser(ctx)
	if err != nil {
		return WriteResult{}, false, transportErr(ctx, "write "+dst, err)
	}
	uid, gid := -1, -1
	if existing {
		// Keep the file's owner and group, as the script does.
		uid, gid = st.UID, st.GID
	}
	if uid, ok = directID(a.Owner, uid, existing, st.Owner, st.UID, u.Username, u.Uid); !ok {
		return WriteResult{}, false, nil
	}
	if gid, ok = directID(a.Group, gid, existing, st.Group, st.GID, g.Name, g.Gid); !ok {
		return WriteResult{}, false, nil
	}
	fi, err := w.PutFile(ctx, bytes.NewReader(content), dst, conn.PermMode(mode), uid, gid)
	if err != nil {
		return WriteResult{}, false, transportErr(ctx, "write "+dst, err)
	}
	after := FileState{
		Path: dst, Exists: true, Type: TypeFile, Mode: conn.UnixPerm(fi.Mode), UID: fi.UID, GID: fi.GID,
		Size: fi.Size, Nlink: 1, Parent: TypeDirectory, Umask: st.Umask,
	}
	owner, okU := idName(fi.UID, existing, st.UID, st.Owner, u.Uid, u.Username)
	group, okG := idName(fi.GID, existing, st.GID, st.Group, g.Gid, g.Name)
	if okU && okG {
		after.Owner, after.Group = owner, group
		return WriteResult{After: after}, true, nil
	}
	// An id nobody named yet (a setgid directory's group): ask.
	recs, _, _, err := runHelper(ctx, c, "write", dst, "_mdo_f="+conn.Quote(dst)+"\n"+statRecord(c, "_mdo_f"), nil)
	if err != nil {
		return WriteResult{}, true, err
	}
	if len(recs) != 1 {
		return WriteResult{}, true, &FileError{Op: "stat", Path: dst, Msg: "no state after write"}
	}
	if after, err = namedState(ctx, c, recs[0], st.Umask); err != nil {
		return WriteResult{}, true, err
	}
	after.Parent = TypeDirectory
	return WriteResult{After: after}, true, nil
}

// directID returns the id to give a file for a requested owner or group
// want ("" keeps def), when that needs no lookup on the target: a number,
// the name the existing file already has, or the login user's name.
func directID(want string, def int, existing bool, curName string, curID int, loginName, loginID string) (int, bool) {
	if want == "" {
		return def, true
	}
	if n, err := strconv.Atoi(want); err == nil && n >= 0 {
		return n, true
	}
	if existing && want == curName {
		return curID, true
	}
	if want == loginName {
		n, err := strconv.Atoi(loginID)
		return n, err == nil
	}
	return 0, false
}

// idName names id from what is known: the file's old owner or group, or
// the login user's.
func idName(id int, existing bool, oldID int, oldName, loginID, loginName string) (string, bool) {
	switch {
	case existing && id == oldID:
		return oldName, true
	case strconv.Itoa(id) == loginID:
		return loginName, true
	}
	return "", false
}

// transportErr returns err when it means the host is gone or ctx ended,
// and nil for an error of the one operation (worth another way).
func transportErr(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil || errors.Is(err, conn.ErrUnreachable) {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// Backup copies an existing file to DEST.PID.YYYY-MM-DD@HH:MM:SS~ (as
// Ansible's backup_local) in one exec and returns the backup's path.
func Backup(ctx context.Context, c conn.Conn, p string) (string, error) {
	script := "_mdo_f=" + conn.Quote(p) + `
_mdo_b="$_mdo_f.$$.$(date +%Y-%m-%d@%H:%M:%S)~"
_mdo_e=$(cp -p -- "$_mdo_f" "$_mdo_b" 2>&1) || { printf 'fail\0backup\0%s\0' "$_mdo_e"; exit 1; }
printf 'B\0%s\0' "$_mdo_b"
`
	recs, _, _, err := runHelper(ctx, c, "backup", p, script, nil)
	if err != nil {
		return "", err
	}
	if len(recs) != 1 {
		return "", &FileError{Op: "backup", Path: p, Msg: "no backup name"}
	}
	return recs[0]["path"], nil
}

// stableTemp is the temporary file next to dst with the given suffix,
// the same for every write to dst: ".<name><suffix>", or a hash of the
// name when that would be too long for a file name. With ".mdo-tmp" it
// is sftpfs.TempPath(dst), the file an SFTP write goes through.
func stableTemp(dst, suffix string) string {
	dir, base := path.Split(dst)
	name := "." + base + suffix
	if len(name) > 255 {
		sum := sha256.Sum256([]byte(base))
		name = suffix + "-" + hex.EncodeToString(sum[:8])
	}
	return path.Join(dir, name)
}

// FileValues are the result keys Ansible's file-writing modules return
// about a path: path or dest, mode, uid, gid, owner, group, size, state.
func FileValues(key string, st FileState) map[string]any {
	v := map[string]any{key: st.Path}
	if !st.Exists {
		v["state"] = TypeAbsent
		return v
	}
	v["mode"] = ModeString(st.Mode)
	v["uid"] = st.UID
	v["gid"] = st.GID
	v["owner"] = st.Owner
	v["group"] = st.Group
	v["size"] = st.Size
	v["state"] = st.Type
	if st.Type == TypeLink {
		v["state"] = TypeLink
	}
	if st.Type == TypeFile && st.Nlink > 1 {
		v["state"] = "hard"
	}
	return v
}

// ContentDiff returns the --diff entry for replacing a file: before is the
// old content (nil when the file did not exist), afterHeader names the
// source (a controller path, or "dynamically generated"). Binary or
// oversized content is replaced by Ansible's "diff skipped" notes.
func ContentDiff(p string, before []byte, beforeKnown bool, after []byte, afterHeader string) Diff {
	d := Diff{BeforeHeader: p, AfterHeader: afterHeader}
	switch {
	case !beforeKnown:
		d.Before = "diff skipped: destination file size is greater than 104448\n"
	case bytes.IndexByte(before, 0) >= 0:
		d.Before = "diff skipped: destination file appears to be binary\n"
	default:
		d.Before = string(before)
	}
	switch {
	case len(after) > MaxDiffSize:
		d.After = "diff skipped: source file size is greater than 104448\n"
	case bytes.IndexByte(after, 0) >= 0:
		d.After = "diff skipped: source file appears to be binary\n"
	default:
		d.After = string(after)
	}
	return d
}

// AttrDiff returns the --diff entry for attribute changes, rendered as
// Ansible renders dict diffs: JSON with sorted keys and four-space indent.
func AttrDiff(before, after map[string]any) Diff {
	return Diff{Before: pyJSONIndent(before), After: pyJSONIndent(after)}
}

func pyJSONIndent(v map[string]any) string {
	return pyjson.String(v, pyjson.Options{Indent: 4}) + "\n"
}
