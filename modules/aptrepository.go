package modules

import (
	"context"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// AptRepository is the apt_repository module: it adds or removes a
// `deb`/`deb-src` line in the apt sources (sources.list and
// sources.list.d/*.list, located with apt-config as apt_pkg does), then
// updates the cache. One exec reads every sources file; a change costs one
// more that writes the changed files (as Ansible renders them), runs
// apt-get update with Ansible's retries, and puts the files back when the
// update fails.
type AptRepository struct{}

var _ Module = AptRepository{}

// Spec describes apt_repository's arguments.
func (AptRepository) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "repo", Type: TypeStr, Required: true},
			{Name: "state", Type: TypeStr, Default: "present", Choices: []string{"absent", "present"}},
			{Name: "mode", Type: TypeMode},
			{Name: "update_cache", Aliases: []string{"update-cache"}, Type: TypeBool, Default: true},
			{Name: "update_cache_retries", Type: TypeInt, Default: 5},
			{Name: "update_cache_retry_max_delay", Type: TypeInt, Default: 12},
			{Name: "filename", Type: TypeStr},
			{Name: "install_python_apt", Type: TypeBool, Default: true},
			{Name: "validate_certs", Type: TypeBool, Default: true},
			{Name: "codename", Type: TypeStr},
		},
		CheckMode: true,
	}
}

// aptSource is one parsed line of a sources file (Ansible's _parse).
type aptSource struct {
	valid, enabled  bool
	source, comment string
}

func aptParse(line string) aptSource {
	s := aptSource{enabled: true}
	line = strings.TrimSpace(line)
	if strings.HasPrefix(line, "#") {
		s.enabled = false
		line = line[1:]
	}
	if i := strings.Index(line, "#"); i > 0 {
		s.comment = strings.TrimSpace(line[i+1:])
		line = line[:i]
	}
	s.source = strings.TrimSpace(line)
	if s.source != "" {
		chunks := strings.Fields(s.source)
		if chunks[0] == "deb" || chunks[0] == "deb-src" {
			s.valid = true
			s.source = strings.Join(chunks, " ")
		}
	}
	return s
}

func (s aptSource) render() string {
	var b strings.Builder
	if !s.enabled {
		b.WriteString("# ")
	}
	b.WriteString(s.source)
	if s.comment != "" {
		b.WriteString(" # " + s.comment)
	}
	b.WriteString("\n")
	return b.String()
}

// aptSources is Ansible's SourcesList: every file's parsed lines.
type aptSources struct {
	order []string
	files map[string][]aptSource
	added map[string]bool // files a new source went into (mode applies)
}

func (l *aptSources) load(name, content string) {
	if _, ok := l.files[name]; !ok {
		l.order = append(l.order, name)
	}
	var lines []aptSource
	for _, line := range splitLinesKeep(content) {
		lines = append(lines, aptParse(line))
	}
	l.files[name] = lines
}

func (l *aptSources) dump() map[string]string {
	out := map[string]string{}
	for name, lines := range l.files {
		if len(lines) == 0 {
			continue
		}
		var b strings.Builder
		for _, s := range lines {
			b.WriteString(s.render())
		}
		out[name] = b.String()
	}
	return out
}

func (l *aptSources) clone() *aptSources {
	c := &aptSources{order: append([]string{}, l.order...), files: map[string][]aptSource{}, added: map[string]bool{}}
	for k, v := range l.files {
		c.files[k] = append([]aptSource{}, v...)
	}
	return c
}

var (
	aptOptionsRE = regexp.MustCompile(`\[[^\]]+\]`)
	aptSchemeRE  = regexp.MustCompile(`\w+://`)
	aptNonAlnum  = regexp.MustCompile(`[^a-zA-Z0-9]`)
)

// aptSuggestFilename is Ansible's _suggest_filename: the first word after
// the type, without options, scheme and credentials.
func aptSuggestFilename(line string) string {
	line = aptOptionsRE.ReplaceAllString(line, "")
	line = aptSchemeRE.ReplaceAllString(line, "")
	var parts []string
	for _, p := range strings.Fields(line) {
		if p != "deb" && p != "deb-src" {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return ".list"
	}
	first := parts[0]
	if i := strings.Index(first, "@"); i >= 0 {
		first = first[i+1:]
	}
	return strings.Join(strings.Fields(aptNonAlnum.ReplaceAllString(first, " ")), "_") + ".list"
}

// add is Ansible's add_source: a source already in the files (enabled or
// not) is enabled where it is; otherwise it goes into file.
func (l *aptSources) add(source, file string) {
	found := false
	for _, name := range l.order {
		for i, s := range l.files[name] {
			if s.valid && s.source == source {
				l.files[name][i].enabled = true
				found = true
			}
		}
	}
	if found {
		return
	}
	if _, ok := l.files[file]; !ok {
		l.order = append(l.order, file)
	}
	l.files[file] = append(l.files[file], aptSource{valid: true, enabled: true, source: source})
	l.added[file] = true
}

// remove is Ansible's remove_source: every enabled line of source goes.
func (l *aptSources) remove(source string) {
	for _, name := range l.order {
		var keep []aptSource
		for _, s := range l.files[name] {
			if s.valid && s.enabled && s.source == source {
				continue
			}
			keep = append(keep, s)
		}
		l.files[name] = keep
	}
}

// Run adds or removes the repository.
func (AptRepository) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	repo := args.String("repo")
	state := args.String("state")
	if repo == "" {
		return Result{Failed: true, Msg: "Please set argument 'repo' to a non-empty value"}, nil
	}
	values := map[string]any{"repo": repo, "state": state}
	if strings.HasPrefix(repo, "ppa:") {
		return Result{Failed: true, Values: values, Msg: "apt_repository: ppa: repositories are not supported by mdo-play (they need the PPA's signing key from Launchpad); add the key with apt_key and give the deb line"}, nil
	}
	src := aptParse(repo)
	if !src.valid || !src.enabled {
		return Result{Failed: true, Values: values, Msg: "Invalid repository string: " + strings.TrimSpace(repo)}, nil
	}
	f, res, err := runScript(ctx, env, "apt_repository", `command -v apt-config >/dev/null 2>&1 || { _mdo_f unsupported 1; exit 0; }
eval "$(apt-config shell _mdo_sl Dir::Etc::sourcelist/f _mdo_sp Dir::Etc::sourceparts/d)"
_mdo_f parts "${_mdo_sp%/}"
for _mdo_x in "$_mdo_sl" "${_mdo_sp%/}"/*.list; do
  [ -f "$_mdo_x" ] || continue
  _mdo_f file "$_mdo_x"; printf 'content\0'; cat -- "$_mdo_x" || exit 1; printf '\0'
done
[ -n "$_mdo_sl" ] && _mdo_f default "$_mdo_sl"
_mdo_f end 1
`, nil)
	if err != nil {
		return Result{}, err
	}
	if _, ok := f.get("unsupported"); ok {
		return Result{Failed: true, Values: values, Msg: "Module apt_repository is not supported on target."}, nil
	}
	if _, ok := f.get("end"); !ok {
		return scriptFailure("apt_repository", res), nil
	}
	list := &aptSources{files: map[string][]aptSource{}, added: map[string]bool{}}
	var cur string
	for _, x := range f {
		switch x.k {
		case "file":
			cur = x.v
		case "content":
			list.load(cur, x.v)
		}
	}
	before := list.clone()
	beforeDump := list.dump()
	if state == "present" {
		file := args.String("filename")
		if file == "" {
			file = aptSuggestFilename(src.source)
		} else {
			file += ".list"
		}
		if !strings.Contains(file, "/") {
			file = path.Join(f.str("parts"), file)
		}
		list.add(src.source, file)
	} else {
		list.remove(src.source)
	}
	afterDump := list.dump()
	var changedFiles []string
	for _, name := range list.order {
		if beforeDump[name] != afterDump[name] {
			changedFiles = append(changedFiles, name)
		}
	}
	sort.Strings(changedFiles)
	r := Result{Changed: len(changedFiles) > 0, Values: values}
	if env.Diff && r.Changed {
		for _, name := range changedFiles {
			d := Diff{BeforeHeader: name, AfterHeader: name, Before: beforeDump[name], After: afterDump[name]}
			if _, ok := beforeDump[name]; !ok {
				d.BeforeHeader = "/dev/null"
			}
			if _, ok := afterDump[name]; !ok {
				d.AfterHeader = "/dev/null"
			}
			r.Diff = append(r.Diff, d)
		}
	}
	if !r.Changed || env.Check {
		return r, nil
	}
	mode := "0644"
	if args.Has("mode") {
		mode = args.String("mode")
	}
	var sc strings.Builder
	sc.WriteString("_mdo_put() { _mdo_t=$(mktemp \"$(dirname -- \"$1\")/.mdo-apt-XXXXXXXX\") && printf '%s' \"$2\" >\"$_mdo_t\" && { if [ -e \"$1\" ]; then chmod --reference=\"$1\" \"$_mdo_t\" && chown --reference=\"$1\" \"$_mdo_t\"; else chmod 0644 \"$_mdo_t\"; fi; } && mv -f -- \"$_mdo_t\" \"$1\"; }\n")
	sc.WriteString("_mdo_undo() { :\n")
	for _, name := range changedFiles {
		if _, ok := beforeDump[name]; ok {
			// put the file back as Ansible's revert does (rendered)
			orig := ""
			for _, x := range before.files[name] {
				orig += x.render()
			}
			fmt.Fprintf(&sc, "  _mdo_put %s %s\n", conn.Quote(name), conn.Quote(orig))
		} else {
			fmt.Fprintf(&sc, "  rm -f -- %s\n", conn.Quote(name))
		}
	}
	sc.WriteString("}\n")
	for _, name := range changedFiles {
		if a, ok := afterDump[name]; ok {
			fmt.Fprintf(&sc, "mkdir -p -- %s && _mdo_put %s %s || { _mdo_f fail %s; exit 0; }\n", conn.Quote(path.Dir(name)), conn.Quote(name), conn.Quote(a), conn.Quote("Failed to write "+name))
			if list.added[name] {
				fmt.Fprintf(&sc, "chmod %s %s || { _mdo_f fail %s; exit 0; }\n", mode, conn.Quote(name), conn.Quote("Failed to set the mode of "+name))
			}
		} else {
			fmt.Fprintf(&sc, "rm -f -- %s\n", conn.Quote(name))
		}
	}
	if args.Bool("update_cache") {
		// Ansible's retries: a failed update is retried after 1, 2, 4, ...
		// seconds (at most update_cache_retry_max_delay); the last failure
		// puts the files back.
		fmt.Fprintf(&sc, `_mdo_n=0; _mdo_d=1
until _mdo_o=$(apt-get update -q 2>&1 </dev/null) && ! printf '%%s\n' "$_mdo_o" | grep -qE '^(E: |W: Failed to fetch)'; do
  _mdo_n=$((_mdo_n+1))
  if [ $_mdo_n -ge %d ]; then _mdo_undo; _mdo_f fail "Failed to update apt cache: $(printf '%%s\n' "$_mdo_o" | grep -E '^(E: |W: Failed to fetch)' | head -n 5)"; exit 0; fi
  sleep $_mdo_d; _mdo_d=$((_mdo_d*2)); [ $_mdo_d -le %d ] || _mdo_d=%d
done
`, max(args.Int("update_cache_retries"), 1), max(args.Int("update_cache_retry_max_delay"), 1), max(args.Int("update_cache_retry_max_delay"), 1))
	}
	sc.WriteString("_mdo_f end 1\n")
	f, res, err = runScript(ctx, env, "apt_repository", sc.String(), nil)
	if err != nil {
		return Result{}, err
	}
	if msg, ok := f.get("fail"); ok {
		return Result{Failed: true, Msg: strings.TrimSpace(msg), Values: values}, nil
	}
	if _, ok := f.get("end"); !ok {
		return scriptFailure("apt_repository", res), nil
	}
	return r, nil
}
