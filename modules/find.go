package modules

import (
	"context"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// Find is the find module (ansible.builtin.find): the files under paths
// that pass its filters, each with stat facts as Ansible's find returns
// them. It changes nothing.
//
// It makes one round trip: a shell script lists every entry with find(1)
// and lstat's them in batches with stat(1) through xargs; the filters on
// names, types, depth, age, size and mode run here on that list. Only the
// filters that read file content (contains, get_checksum) run on the target,
// over a superset of the matches narrowed by find's own tests, with grep -P
// (Perl regular expressions, close to Python's) and the *sum tools.
type Find struct{}

var _ Module = Find{}

// Spec describes find's arguments.
func (Find) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "paths", Aliases: []string{"name", "path"}, Type: TypeList, Required: true},
			{Name: "patterns", Aliases: []string{"pattern"}, Type: TypeList, Default: []any{}},
			{Name: "excludes", Aliases: []string{"exclude"}, Type: TypeList},
			{Name: "contains", Type: TypeStr},
			{Name: "read_whole_file", Type: TypeBool, Default: false},
			{Name: "file_type", Type: TypeStr, Default: "file", Choices: []string{"any", "directory", "file", "link"}},
			{Name: "age", Type: TypeStr},
			{Name: "age_stamp", Type: TypeStr, Default: "mtime", Choices: []string{"atime", "ctime", "mtime"}},
			{Name: "size", Type: TypeStr},
			{Name: "recurse", Type: TypeBool, Default: false},
			{Name: "hidden", Type: TypeBool, Default: false},
			{Name: "follow", Type: TypeBool, Default: false},
			{Name: "get_checksum", Type: TypeBool, Default: false},
			{Name: "checksum_algorithm", Aliases: []string{"checksum", "checksum_algo"}, Type: TypeStr, Default: "sha1",
				Choices: []string{"md5", "sha1", "sha224", "sha256", "sha384", "sha512"}},
			{Name: "use_regex", Type: TypeBool, Default: false},
			{Name: "depth", Type: TypeInt},
			{Name: "mode", Type: TypeMode},
			{Name: "exact_mode", Type: TypeBool, Default: true},
		},
		CheckMode: true,
	}
}

// findAgeRe and findSizeRe are Ansible's age and size syntaxes.
var (
	findAgeRe  = regexp.MustCompile(`^(-?\d+)(s|m|h|d|w)?$`)
	findSizeRe = regexp.MustCompile(`^(-?\d+)(b|k|m|g|t)?$`)
)

// findQuery is find's arguments, parsed.
type findQuery struct {
	patterns, excludes []*regexp.Regexp
	fileType           string
	age, size          *int64
	ageStamp           string
	hidden             bool
	depth              int // 0: unlimited
	recurse            bool
	mode               *uint32
	exactMode          bool
	contains           bool // contains is set and applies (file_type file)
	checksum           bool
	// bytes: some pattern is not UTF-8, so patterns and names are
	// matched byte for byte (each byte read as one character).
	bytes bool
}

// findBytes maps each byte of s to the character of the same number, for
// matching names and patterns that are not UTF-8.
func findBytes(s string) string {
	r := make([]rune, len(s))
	for i := 0; i < len(s); i++ {
		r[i] = rune(s[i])
	}
	return string(r)
}

// findPattern compiles a name pattern: Python's fnmatch translation of a
// glob, or the regular expression re.match applies (anchored at the start).
func findPattern(p string, regex bool) (*regexp.Regexp, error) {
	if regex {
		return regexp.Compile(`^(?:` + p + `)`)
	}
	return regexp.Compile(findGlobRegexp(p))
}

// findGlobRegexp is Python's fnmatch.translate: * and ? match any
// character (slashes too), [...] is a class ([!...] negated), an
// unclosed [ is literal, and backslash has no special meaning.
func findGlobRegexp(p string) string {
	var b strings.Builder
	b.WriteString(`(?s)^`)
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		case '[':
			j := i + 1
			if j < len(p) && p[j] == '!' {
				j++
			}
			if j < len(p) && p[j] == ']' {
				j++
			}
			for j < len(p) && p[j] != ']' {
				j++
			}
			if j >= len(p) {
				b.WriteString(`\[`)
				continue
			}
			stuff := p[i+1 : j]
			neg := strings.HasPrefix(stuff, "!")
			if neg {
				stuff = stuff[1:]
			}
			stuff = strings.ReplaceAll(stuff, `\`, `\\`)
			stuff = strings.ReplaceAll(stuff, `[`, `\[`)
			if neg {
				b.WriteString(`[^` + stuff + `]`)
			} else if strings.HasPrefix(stuff, "^") {
				b.WriteString(`[\` + stuff + `]`)
			} else {
				b.WriteString(`[` + stuff + `]`)
			}
			i = j
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString(`$`)
	return b.String()
}

// findParse turns the arguments into a query, or returns the message of
// Ansible's failure.
func findParse(args Args) (*findQuery, string) {
	q := &findQuery{
		fileType: args.String("file_type"), ageStamp: args.String("age_stamp"),
		hidden: args.Bool("hidden"), recurse: args.Bool("recurse"), depth: args.Int("depth"),
		exactMode: args.Bool("exact_mode"), checksum: args.Bool("get_checksum"),
	}
	regex := args.Bool("use_regex")
	pats := args.Strings("patterns")
	if len(pats) == 0 {
		pats = []string{"*"}
		if regex {
			pats = []string{".*"}
		}
	}
	for _, p := range append(pats, args.Strings("excludes")...) {
		if !utf8.ValidString(p) {
			q.bytes = true
		}
	}
	for _, list := range []struct {
		in  []string
		out *[]*regexp.Regexp
	}{{pats, &q.patterns}, {args.Strings("excludes"), &q.excludes}} {
		for _, p := range list.in {
			if q.bytes {
				p = findBytes(p)
			}
			re, err := findPattern(p, regex)
			if err != nil {
				return nil, fmt.Sprintf("invalid pattern %q: %v", p, err)
			}
			*list.out = append(*list.out, re)
		}
	}
	if args.Has("age") {
		m := findAgeRe.FindStringSubmatch(strings.ToLower(args.String("age")))
		if m == nil {
			return nil, "failed to process age"
		}
		n, _ := strconv.ParseInt(m[1], 10, 64)
		n *= map[string]int64{"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[m[2]]
		q.age = &n
	}
	if args.Has("size") {
		m := findSizeRe.FindStringSubmatch(strings.ToLower(args.String("size")))
		if m == nil {
			return nil, "failed to process size"
		}
		n, _ := strconv.ParseInt(m[1], 10, 64)
		n *= map[string]int64{"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}[m[2]]
		q.size = &n
	}
	if mode := args.String("mode"); mode != "" {
		bits, err := ResolveMode(mode, FileState{}, false)
		if err != nil {
			return nil, err.Error()
		}
		q.mode = &bits
	}
	q.contains = args.Has("contains") && q.fileType == "file"
	return q, ""
}

// findPrefilter returns find(1) tests selecting a superset of the regular
// files the query can match, for the content checks to read no more files
// than they must.
func (q *findQuery) findPrefilter(args Args, follow bool) string {
	var b strings.Builder
	if q.recurse {
		if q.depth > 0 {
			fmt.Fprintf(&b, " -maxdepth %d", q.depth)
		}
	} else {
		b.WriteString(" -maxdepth 1")
	}
	b.WriteString(" -type f")
	if follow {
		b.WriteString(" ! -xtype l")
	}
	if !q.hidden {
		b.WriteString(" ! -name '.*'")
	}
	if args.Bool("use_regex") {
		return b.String()
	}
	globs := func(pats []string) (string, bool) {
		var alt []string
		for _, p := range pats {
			if strings.Contains(p, `\`) || strings.Contains(p, "/") {
				return "", false // find -name and fnmatch differ here
			}
			alt = append(alt, "-name "+conn.Quote(p))
		}
		return `\( ` + strings.Join(alt, " -o ") + ` \)`, len(alt) > 0
	}
	if s, ok := globs(args.Strings("patterns")); ok {
		b.WriteString(" " + s)
	}
	if s, ok := globs(args.Strings("excludes")); ok {
		b.WriteString(" ! " + s)
	}
	return b.String()
}

// findScript is the one script of a find call.
func findScript(args Args, q *findQuery) string {
	var e expander
	var body strings.Builder
	follow := "-P"
	if args.Bool("follow") {
		follow = "-L"
	}
	maxdepth := " -maxdepth 1"
	if q.recurse {
		maxdepth = ""
		if q.depth > 0 {
			// One level more than is matched: Ansible's walk lists (and
			// counts as examined) the entries of the deepest directories.
			maxdepth = fmt.Sprintf(" -maxdepth %d", q.depth+1)
		}
	}
	pre := q.findPrefilter(args, args.Bool("follow"))
	var content []string
	if q.contains {
		// grep reads a newline as a pattern separator: write it as \n.
		pat := strings.ReplaceAll(args.String("contains"), "\n", `\n`)
		grep := "grep -lZsP -- " + conn.Quote(`^(?:`+pat+`)`)
		if args.Bool("read_whole_file") {
			grep = "grep -lZszP -- " + conn.Quote(pat)
		}
		// grep exits 2 for a bad pattern (and for unreadable files, which
		// Ansible skips too): check the pattern once on no input.
		fmt.Fprintf(&body, "_mdo_o=$(grep -P -- %s </dev/null 2>&1); [ $? -eq 2 ] && { _mdo_f fail \"contains: $_mdo_o\"; exit 0; }\n", conn.Quote(pat))
		content = append(content, grep+" | xargs -0r printf 'has\\0%s\\0'")
	}
	if q.checksum {
		content = append(content, args.String("checksum_algorithm")+"sum -z -- | xargs -0r printf 'sum\\0%s\\0'")
	}
	body.WriteString("_mdo_f now \"$(date +%s.%N)\"\n")
	for _, p := range args.Strings("paths") {
		fmt.Fprintf(&body, "_mdo_p=%s\n", e.Word(p, true))
		body.WriteString(`_mdo_f path "$_mdo_p"
if [ ! -d "$_mdo_p" ]; then _mdo_f notdir "$_mdo_p"; else
  { _mdo_o=$( { find ` + follow + ` "$_mdo_p" -mindepth 1` + maxdepth + ` -print0 | LC_ALL=C xargs -0r stat --printf 'ent\0` + statFormat + `\n%n\0' -- >&3; } 2>&1 ); } 3>&1
  [ -n "$_mdo_o" ] && _mdo_f walkerr "$_mdo_o"
`)
		for _, c := range content {
			fmt.Fprintf(&body, "  find %s \"$_mdo_p\" -mindepth 1%s -print0 | xargs -0r %s\n", follow, pre, c)
		}
		body.WriteString("fi\n")
	}
	return e.Prelude() + body.String()
}

// Run lists, filters and reports.
func (Find) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	q, msg := findParse(args)
	if msg != "" {
		return Result{Failed: true, Msg: msg}, nil
	}
	f, res, err := runScript(ctx, env, "find", findScript(args, q), nil)
	if err != nil {
		return Result{}, err
	}
	if m, ok := f.get("fail"); ok {
		return Result{Failed: true, Msg: strings.TrimSpace(m)}, nil
	}
	nowText, ok := f.get("now")
	if !ok {
		return scriptFailure("find", res), nil
	}
	now, err := strconv.ParseFloat(nowText, 64)
	if err != nil { // a date(1) without %N
		now, _ = strconv.ParseFloat(strings.SplitN(nowText, ".", 2)[0], 64)
	}
	var (
		files    = []any{}
		skipped  = map[string]any{}
		warnings []string
		examined int
	)
	// Each path's fields: path, then notdir, or its entries, a walk
	// error, and the names that passed the content checks.
	type walk struct {
		root    string
		ents    []string
		errText string
		has     map[string]bool
		sums    map[string]string
	}
	var walks []*walk
	for _, x := range f {
		var w *walk
		if len(walks) > 0 {
			w = walks[len(walks)-1]
		}
		switch x.k {
		case "path":
			walks = append(walks, &walk{root: x.v, has: map[string]bool{}, sums: map[string]string{}})
		case "notdir":
			skipped[x.v] = fmt.Sprintf("'%s' is not a directory", x.v)
			warnings = append(warnings, fmt.Sprintf("Skipped '%s' path due to this access issue: %s\n", x.v, skipped[x.v]))
		case "ent":
			w.ents = append(w.ents, x.v)
		case "walkerr":
			w.errText = strings.TrimSpace(x.v)
		case "has":
			w.has[x.v] = true
		case "sum":
			if sum, name, ok := strings.Cut(x.v, " "); ok {
				w.sums[strings.TrimLeft(name, " *")] = sum
			}
		}
	}
	for _, w := range walks {
		var found []map[string]any
		for _, ent := range w.ents {
			examined++
			line, name, ok := strings.Cut(ent, "\n")
			if !ok {
				continue
			}
			if r := q.match(w.root, name, line, now, w.has, w.sums); r != nil {
				found = append(found, r)
			}
		}
		sort.Slice(found, func(i, j int) bool { return found[i]["path"].(string) < found[j]["path"].(string) })
		for _, r := range found {
			files = append(files, r)
		}
		if w.errText != "" {
			skipped[w.root] = w.errText
			warnings = append(warnings, fmt.Sprintf("Skipped '%s' path due to this access issue: %s\n", w.root, w.errText))
		}
	}
	msg = "All paths examined"
	if len(warnings) > 0 {
		msg = "Not all paths examined, check warnings for details"
	}
	return Result{Msg: msg, Warnings: warnings, Values: map[string]any{
		"files": files, "matched": len(files), "examined": examined, "skipped_paths": skipped,
	}}, nil
}

// match applies the query to one entry (name as find printed it, line its
// stat line) and returns its result entry, or nil.
func (q *findQuery) match(root, name, line string, now float64, has map[string]bool, sums map[string]string) map[string]any {
	p := path.Clean(name)
	base := path.Base(p)
	rel := strings.TrimPrefix(strings.TrimPrefix(p, path.Clean(root)), "/")
	if q.depth > 0 && strings.Count(rel, "/")+1 > q.depth {
		return nil
	}
	if strings.HasPrefix(base, ".") && !q.hidden {
		return nil
	}
	st, err := parseStat(line)
	if err != nil {
		return nil
	}
	isReg, isDir, isLnk := st["isreg"] == true, st["isdir"] == true, st["islnk"] == true
	switch {
	case q.fileType == "any":
	case q.fileType == "directory" && isDir:
	case q.fileType == "file" && isReg:
	case q.fileType == "link" && isLnk:
	default:
		return nil
	}
	if !q.names(base) || !q.ageOK(st, now) || !q.modeOK(st) {
		return nil
	}
	if isReg && (q.fileType == "file" || q.fileType == "any") && !q.sizeOK(st) {
		return nil
	}
	if q.contains && !has[name] {
		return nil
	}
	r := map[string]any{"path": p, "pw_name": "", "gr_name": ""}
	for k, v := range st {
		switch k {
		case "exists", "blocks", "block_size", "device_type":
		default:
			r[k] = v
		}
	}
	if q.checksum && isReg {
		r["checksum"] = sums[name]
	}
	return r
}

// names is Ansible's pfilter: some pattern matches and no exclude does.
func (q *findQuery) names(base string) bool {
	if q.bytes {
		base = findBytes(base)
	}
	for _, p := range q.patterns {
		if p.MatchString(base) {
			for _, e := range q.excludes {
				if e.MatchString(base) {
					return false
				}
			}
			return true
		}
	}
	return false
}

// ageOK is Ansible's agefilter: older than age, or (age < 0) younger.
func (q *findQuery) ageOK(st map[string]any, now float64) bool {
	if q.age == nil {
		return true
	}
	t, _ := st[q.ageStamp].(float64)
	if *q.age >= 0 {
		return now-t >= float64(*q.age)
	}
	return now-t <= float64(-*q.age)
}

// sizeOK is Ansible's sizefilter: at least size, or (size < 0) at most.
func (q *findQuery) sizeOK(st map[string]any) bool {
	if q.size == nil {
		return true
	}
	n := int64(st["size"].(int))
	if *q.size >= 0 {
		return n >= *q.size
	}
	return n <= -*q.size
}

// modeOK is Ansible's mode_filter: the permission bits equal mode
// (exact_mode) or share a bit with it.
func (q *findQuery) modeOK(st map[string]any) bool {
	if q.mode == nil {
		return true
	}
	m, _ := strconv.ParseUint(st["mode"].(string), 8, 32)
	if q.exactMode {
		return uint32(m) == *q.mode
	}
	return uint32(m)&*q.mode != 0
}
