package modules

import (
	"context"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// Mount is the mount module (ansible.posix.mount): it keeps a mount's line
// in fstab and mounts, unmounts or remounts it. One exec reads fstab and
// /proc/self/mountinfo; a change costs one more exec that writes fstab
// (atomically, keeping its mode and owner), creates the mount point and
// runs mount/umount, putting fstab back when the mount fails (as Ansible
// does).
type Mount struct{}

var _ Module = Mount{}

// Spec describes mount's arguments.
func (Mount) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "path", Aliases: []string{"name"}, Type: TypePath, Required: true},
			{Name: "src", Type: TypePath},
			{Name: "fstype", Type: TypeStr},
			{Name: "opts", Type: TypeStr},
			{Name: "dump", Type: TypeStr, Default: "0"},
			{Name: "passno", Type: TypeStr, Default: "0"},
			{Name: "state", Type: TypeStr, Required: true, Choices: []string{"absent", "absent_from_fstab", "mounted", "present", "unmounted", "remounted", "ephemeral"}},
			{Name: "fstab", Type: TypePath},
			{Name: "boot", Type: TypeBool, Default: true},
			{Name: "backup", Type: TypeBool, Default: false},
		},
		CheckMode: true,
	}
}

// mountEntry is one fstab entry's fields (escaped as in fstab).
type mountEntry struct{ src, name, fstype, opts, dump, passno string }

func (e mountEntry) line() string {
	return fmt.Sprintf("%s %s %s %s %s %s\n", e.src, e.name, e.fstype, e.opts, e.dump, e.passno)
}

// fstabEscape is Ansible's _escape_fstab.
func fstabEscape(s string) string {
	return strings.NewReplacer(`\`, `\134`, " ", `\040`, "&", `\046`).Replace(s)
}

// fstabUnescape undoes the octal escapes of fstab and mountinfo fields.
func fstabUnescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// fstabMatch is Ansible's test for the line of the mount: same mount point,
// except that a swap line (mount point none) must also have the same src.
func fstabMatch(ld map[string]string, want mountEntry, srcGiven bool) bool {
	if ld["name"] != want.name {
		return false
	}
	return !(srcGiven && ld["name"] == "none" && ld["fstype"] == "swap" && ld["src"] != want.src)
}

// fstabSet is Ansible's _set_mount_save_old on Linux: the matching line
// (4 to 6 fields) is rewritten when a field differs (a missing dump or
// passno always differs, as in Ansible), otherwise the entry is appended.
func fstabSet(content string, want mountEntry, srcGiven bool) (string, bool) {
	var b strings.Builder
	exists, changed := false, false
	for _, line := range splitLinesKeep(content) {
		if !strings.HasSuffix(line, "\n") {
			line += "\n"
		}
		t := strings.TrimSpace(line)
		fields := strings.Fields(line)
		if t == "" || strings.HasPrefix(t, "#") || len(fields) < 4 || len(fields) > 6 {
			b.WriteString(line)
			continue
		}
		labels := []string{"src", "name", "fstype", "opts", "dump", "passno"}
		ld := map[string]string{"dump": "\x00missing", "passno": "\x00missing"}
		for i, f := range fields {
			ld[labels[i]] = f
		}
		if !fstabMatch(ld, want, srcGiven) {
			b.WriteString(line)
			continue
		}
		exists = true
		if ld["src"] != want.src || ld["fstype"] != want.fstype || ld["opts"] != want.opts || ld["dump"] != want.dump || ld["passno"] != want.passno {
			changed = true
			b.WriteString(want.line())
		} else {
			b.WriteString(line)
		}
	}
	if !exists {
		b.WriteString(want.line())
		changed = true
	}
	return b.String(), changed
}

// fstabUnset is Ansible's unset_mount on Linux: lines of exactly six fields
// that match are removed.
func fstabUnset(content string, want mountEntry, srcGiven bool) (string, bool) {
	var b strings.Builder
	changed := false
	for _, line := range splitLinesKeep(content) {
		t := strings.TrimSpace(line)
		fields := strings.Fields(line)
		if t == "" || strings.HasPrefix(t, "#") || len(fields) != 6 {
			b.WriteString(line)
			continue
		}
		ld := map[string]string{"src": fields[0], "name": fields[1], "fstype": fields[2]}
		if !fstabMatch(ld, want, srcGiven) {
			b.WriteString(line)
			continue
		}
		changed = true
	}
	return b.String(), changed
}

// mountInfo is one line of /proc/self/mountinfo.
type mountInfo struct{ root, point, fstype, source string }

func parseMountInfo(s string) []mountInfo {
	var out []mountInfo
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		sep := -1
		for i, x := range f {
			if x == "-" && i >= 6 {
				sep = i
				break
			}
		}
		if sep < 0 || sep+2 >= len(f) {
			continue
		}
		out = append(out, mountInfo{root: fstabUnescape(f[3]), point: fstabUnescape(f[4]), fstype: f[sep+1], source: fstabUnescape(f[sep+2])})
	}
	return out
}

// Run keeps fstab and the mount state as asked.
func (Mount) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	state := args.String("state")
	name := args.String("path")
	fstab := args.String("fstab")
	explicitFstab := fstab != ""
	if fstab == "" {
		fstab = "/etc/fstab"
	}
	if (state == "mounted" || state == "present" || state == "ephemeral") && (!args.Has("src") || !args.Has("fstype")) {
		var missing []string
		for _, n := range []string{"src", "fstype"} {
			if !args.Has(n) {
				missing = append(missing, n)
			}
		}
		return Result{Failed: true, Msg: fmt.Sprintf("state is %s but all of the following are missing: %s", state, strings.Join(missing, ", "))}, nil
	}
	opts := "defaults"
	if args.Has("opts") {
		opts = args.String("opts")
	}
	var warnings []string
	boot := "yes"
	ol := strings.Split(opts, ",")
	switch {
	case contains(ol, "noauto"):
		warnings = append(warnings, "Ignore the 'boot' due to 'opts' contains 'noauto'.")
	case !args.Bool("boot"):
		boot = "no"
		if contains(ol, "defaults") {
			warnings = append(warnings, "Ignore the 'boot' due to 'opts' contains 'defaults'.")
		} else {
			opts += ",noauto"
		}
	}
	src, fstype := args.String("src"), args.String("fstype")
	values := map[string]any{"name": name, "opts": opts, "dump": args.String("dump"), "passno": args.String("passno"),
		"fstab": fstab, "boot": boot, "backup_file": ""}
	if args.Has("src") {
		values["src"] = src
	}
	if args.Has("fstype") {
		values["fstype"] = fstype
	}
	want := mountEntry{src: fstabEscape(src), name: fstabEscape(name), fstype: fstabEscape(fstype), opts: fstabEscape(opts),
		dump: fstabEscape(args.String("dump")), passno: fstabEscape(args.String("passno"))}

	var sc strings.Builder
	fmt.Fprintf(&sc, "_mdo_t=%s\n", conn.Quote(fstab))
	sc.WriteString(`if [ -f "$_mdo_t" ]; then printf 'fstab\0'; cat -- "$_mdo_t" || exit 1; printf '\0'; fi
printf 'mountinfo\0'; cat /proc/self/mountinfo 2>/dev/null; printf '\0'
`)
	fmt.Fprintf(&sc, "[ -e %s ] && _mdo_f exists 1\n_mdo_f end 1\n", conn.Quote(name))
	f, res, err := runScript(ctx, env, "mount "+name, sc.String(), nil)
	if err != nil {
		return Result{}, err
	}
	if _, ok := f.get("end"); !ok {
		return scriptFailure("mount", res), nil
	}
	before, fstabExists := f.get("fstab")
	_, pathExists := f.get("exists")
	var mounted *mountInfo
	clean := path.Clean(name)
	for _, mi := range parseMountInfo(f.str("mountinfo")) {
		if mi.point == clean {
			m := mi
			mounted = &m // the last one is the one on top
		}
	}

	after, changed := before, false
	write := false
	var action []string // shell commands run after fstab is written
	mountCmd := func() string {
		c := "mount"
		if state == "ephemeral" {
			c += " -t " + conn.Quote(fstype)
			if opts != "defaults" {
				c += " -o " + conn.Quote(opts)
			}
			c += " " + conn.Quote(src)
		} else if explicitFstab && fstab != "/etc/fstab" {
			c += " -T " + conn.Quote(fstab)
		}
		return c + " " + conn.Quote(name)
	}
	remountCmd := func() string {
		o := "remount"
		if state == "remounted" && opts != "defaults" {
			o += "," + opts
		}
		c := "mount -o " + conn.Quote(o)
		if state == "ephemeral" {
			c += " -t " + conn.Quote(fstype)
			if opts != "defaults" {
				c += " -o " + conn.Quote(opts)
			}
			c += " " + conn.Quote(src)
		} else if explicitFstab && fstab != "/etc/fstab" {
			c += " -T " + conn.Quote(fstab)
		}
		c += " " + conn.Quote(name)
		if state == "remounted" && opts != "defaults" {
			return c
		}
		// Ansible falls back to umount and mount when remount fails.
		return "{ " + c + " || { umount " + conn.Quote(name) + " && " + mountCmd() + "; }; }"
	}
	do := func(msg, cmd string) string { return "_mdo_do " + conn.Quote(msg+" "+name) + " " + conn.Quote(cmd) }
	switch state {
	case "absent_from_fstab":
		after, changed = fstabUnset(before, want, args.Has("src"))
		write = changed
	case "absent":
		after, changed = fstabUnset(before, want, args.Has("src"))
		write = changed
		if changed {
			if mounted != nil {
				action = append(action, do("Error unmounting", "umount "+conn.Quote(name)))
			}
			action = append(action, "if [ -e "+conn.Quote(name)+" ]; then "+do("Error rmdir", "rmdir -- "+conn.Quote(name))+"; fi")
		}
	case "unmounted":
		if mounted != nil {
			changed = true
			action = append(action, do("Error unmounting", "umount "+conn.Quote(name)))
		}
	case "present":
		after, changed = fstabSet(normalizeNL(before), want, args.Has("src"))
		write = changed
	case "mounted", "ephemeral":
		if !pathExists {
			action = append(action, do("Error making dir", "mkdir -p -- "+conn.Quote(name)))
		}
		if state == "mounted" {
			after, changed = fstabSet(normalizeNL(before), want, args.Has("src"))
			write = changed
		}
		switch {
		case mounted != nil && state == "ephemeral":
			if mounted.source != src {
				return Result{Failed: true, Values: values, Msg: "Ephemeral mount point is already mounted with a different source than the specified one. Failing in order to prevent an unwanted unmount or override operation. Try replacing this command with a \"state: unmounted\" followed by a \"state: ephemeral\", or use a different destination path."}, nil
			}
			changed = true
			action = append(action, do("Error mounting", remountCmd()))
		case mounted != nil:
			if changed {
				action = append(action, do("Error mounting", remountCmd()))
			}
		default:
			changed = true
			action = append(action, do("Error mounting", mountCmd()))
		}
	case "remounted":
		changed = true
		if opts != "defaults" {
			action = append(action, "_mdo_do "+conn.Quote("Options were specified with remounted, but the remount command failed. Failing in order to prevent an unexpected mount result. Try replacing this command with a \"state: unmounted\" followed by a \"state: mounted\" using the full desired mount options instead.")+" "+conn.Quote(remountCmd()))
		} else {
			action = append(action, do("Error remounting", remountCmd()))
		}
	}
	r := Result{Changed: changed, Values: values, Warnings: warnings}
	if env.Diff && write {
		r.Diff = []Diff{{BeforeHeader: fstab, AfterHeader: fstab, Before: before, After: after}}
	}
	if !changed || env.Check {
		return r, nil
	}
	sc.Reset()
	// _mdo_do MSG CMD...: runs CMD; on failure puts fstab back (when it was
	// rewritten), reports MSG with the output and stops.
	sc.WriteString(`_mdo_do() { _mdo_o=$(eval "$2" 2>&1 </dev/null) && return 0
  if [ -n "${_mdo_old:-}" ]; then mv -f -- "$_mdo_old" "$_mdo_fs"; fi
  _mdo_f ferr "$1: $_mdo_o"; exit 0; }
`)
	fmt.Fprintf(&sc, "_mdo_fs=%s\n", conn.Quote(fstab))
	if write {
		if !fstabExists {
			sc.WriteString(`mkdir -p -- "$(dirname -- "$_mdo_fs")" 2>/dev/null; >>"$_mdo_fs" || { _mdo_f werr "Failed to open $_mdo_fs"; exit 0; }` + "\n")
		}
		if args.Bool("backup") {
			sc.WriteString(sysBackupScript(fstab))
		}
		if len(action) > 0 {
			sc.WriteString(`_mdo_old=$(mktemp "$(dirname -- "$_mdo_fs")/.mdo-fstab-XXXXXXXX") && cp -p -- "$_mdo_fs" "$_mdo_old" || { _mdo_f werr "save $_mdo_fs"; exit 0; }
trap 'rm -f "$_mdo_old"' EXIT
`)
		}
		// sysWriteScript sets its own EXIT trap; keep both files cleaned.
		ws := sysWriteScript(fstab, "", "", "")
		ws = strings.Replace(ws, `trap 'rm -f "$_mdo_t"' EXIT`, `trap 'rm -f "$_mdo_t" "${_mdo_old:-}"' EXIT`, 1)
		sc.WriteString(ws)
	}
	for _, a := range action {
		sc.WriteString(a + "\n")
	}
	sc.WriteString("_mdo_f end 1\n")
	f, res, err = runScript(ctx, env, "mount "+name, sc.String(), []byte(after))
	if err != nil {
		return Result{}, err
	}
	if b := f.str("backup_file"); b != "" {
		values["backup_file"] = b
	}
	if msg, ok := f.get("werr"); ok {
		return Result{Failed: true, Msg: msg, Values: values}, nil
	}
	if msg, ok := f.get("ferr"); ok {
		return Result{Failed: true, Msg: strings.TrimSpace(msg), Values: values}, nil
	}
	if _, ok := f.get("end"); !ok {
		return scriptFailure("mount", res), nil
	}
	return r, nil
}

// normalizeNL is the content set_mount reads: every line ends in a newline.
func normalizeNL(s string) string {
	if s != "" && !strings.HasSuffix(s, "\n") {
		return s + "\n"
	}
	return s
}
