package modules

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// YumRepository is the yum_repository module
// (ansible.builtin.yum_repository): it adds, replaces or removes one
// repository, a section of REPOSDIR/FILE.repo, as ansible-core's module
// does: the file is read as Python's RawConfigParser reads it, the
// repository's section is rebuilt from the arguments (sorted, booleans as
// 0/1, lists joined), and the file is rewritten, without its comments,
// only when the sorted dump of its sections changes; a file left without
// sections is removed. Pure file work: one round trip reads, one more
// writes (or removes); mode, owner, group, attributes and the SELinux
// options are the common file arguments.
type YumRepository struct{}

var _ Module = YumRepository{}

// yumRepoAllowed are the arguments written into the section (2.14's
// allowed_params, plus countme of later ansible-core); name holds
// description's value.
var yumRepoAllowed = []string{
	"async", "bandwidth", "baseurl", "cost", "countme", "deltarpm_metadata_percentage", "deltarpm_percentage",
	"enabled", "enablegroups", "exclude", "failovermethod", "gpgcakey", "gpgcheck", "gpgkey", "module_hotfixes",
	"http_caching", "include", "includepkgs", "ip_resolve", "keepalive", "keepcache", "metadata_expire",
	"metadata_expire_filter", "metalink", "mirrorlist", "mirrorlist_expire", "name", "password", "priority",
	"protect", "proxy", "proxy_password", "proxy_username", "repo_gpgcheck", "retries", "s3_enabled",
	"skip_if_unavailable", "sslcacert", "ssl_check_cert_permissions", "sslclientcert", "sslclientkey",
	"sslverify", "throttle", "timeout", "ui_repoid_vars", "username",
}

// Spec describes yum_repository's arguments.
func (YumRepository) Spec() *Spec {
	str := func(n string, aliases ...string) Arg { return Arg{Name: n, Aliases: aliases, Type: TypeStr} }
	boolean := func(n string, aliases ...string) Arg { return Arg{Name: n, Aliases: aliases, Type: TypeBool} }
	choice := func(n string, c ...string) Arg { return Arg{Name: n, Type: TypeStr, Choices: c} }
	list := func(n string) Arg { return Arg{Name: n, Type: TypeList} }
	return &Spec{
		Args: append(fileAttrArgs(),
			boolean("async"), str("bandwidth"), list("baseurl"), str("cost"), boolean("countme"),
			str("deltarpm_metadata_percentage"), str("deltarpm_percentage"), str("description"),
			boolean("enabled"), boolean("enablegroups"), list("exclude"),
			choice("failovermethod", "roundrobin", "priority"), str("file"), str("gpgcakey"),
			boolean("gpgcheck"), list("gpgkey"), boolean("module_hotfixes"),
			choice("http_caching", "all", "packages", "none"), str("include"), list("includepkgs"),
			choice("ip_resolve", "4", "6", "IPv4", "IPv6", "whatever"), boolean("keepalive"),
			choice("keepcache", "0", "1"), str("metadata_expire"),
			choice("metadata_expire_filter", "never", "read-only:past", "read-only:present", "read-only:future"),
			str("metalink"), str("mirrorlist"), str("mirrorlist_expire"),
			Arg{Name: "name", Type: TypeStr, Required: true},
			Arg{Name: "params", Type: TypeDict},
			Arg{Name: "password", Type: TypeStr, NoLog: true},
			str("priority"), boolean("protect"), str("proxy"),
			Arg{Name: "proxy_password", Type: TypeStr, NoLog: true},
			str("proxy_username"), boolean("repo_gpgcheck"),
			Arg{Name: "reposdir", Type: TypePath, Default: "/etc/yum.repos.d"},
			str("retries"), boolean("s3_enabled"), boolean("skip_if_unavailable"),
			str("sslcacert", "ca_cert"), boolean("ssl_check_cert_permissions"),
			str("sslclientcert", "client_cert"), str("sslclientkey", "client_key"),
			boolean("sslverify", "validate_certs"),
			Arg{Name: "state", Type: TypeStr, Default: "present", Choices: []string{"absent", "present"}},
			str("throttle"), str("timeout"), str("ui_repoid_vars"), str("username"),
		),
		CheckMode: true,
	}
}

// iniFile is a file as Python's RawConfigParser holds it: the DEFAULT
// section's options and the other sections in file order, option names
// in lower case, values with continuation lines joined by "\n".
type iniFile struct {
	defaults iniSection
	sections []*iniSection
}

type iniSection struct {
	name string
	keys []string
	vals map[string]string
}

func newIniSection(name string) *iniSection {
	return &iniSection{name: name, vals: map[string]string{}}
}

func (s *iniSection) set(k, v string) {
	if _, ok := s.vals[k]; !ok {
		s.keys = append(s.keys, k)
	}
	s.vals[k] = v
}

func (f *iniFile) section(name string) (*iniSection, int) {
	for i, s := range f.sections {
		if s.name == name {
			return s, i
		}
	}
	return nil, -1
}

func (f *iniFile) remove(name string) {
	if _, i := f.section(name); i >= 0 {
		f.sections = append(f.sections[:i], f.sections[i+1:]...)
	}
}

var (
	iniSectRe = regexp.MustCompile(`^\[(.+)\]`)
	iniOptRe  = regexp.MustCompile(`^(.*?)\s*([=:])\s*(.*)$`)
)

// pyStrip is Python's str.strip() for the whitespace configparser meets.
func pyStrip(s string) string { return strings.Trim(s, " \t\n\r\v\f") }

// parseRawConfig reads text as RawConfigParser.read_string does with its
// defaults (delimiters = and :, full-line comments # and ;, strict, empty
// lines kept in values). The error reads as Python's exception.
func parseRawConfig(text, fname string) (*iniFile, error) {
	f := &iniFile{defaults: *newIniSection("DEFAULT")}
	type opt struct {
		sect  *iniSection
		name  string
		lines []string
	}
	var (
		cur     *iniSection
		curName string
		curOpt  *opt
		opts    []*opt
		indent  int
		bad     []string
		added   = map[string]bool{}
	)
	lines := strings.SplitAfter(text, "\n")
	for i, raw := range lines {
		if raw == "" {
			continue
		}
		lineno := i + 1
		line := strings.TrimSuffix(raw, "\n")
		stripped := pyStrip(line)
		comment := strings.HasPrefix(stripped, "#") || strings.HasPrefix(stripped, ";")
		value := stripped
		if comment {
			value = ""
		}
		if value == "" {
			if !comment && cur != nil && curOpt != nil {
				curOpt.lines = append(curOpt.lines, "")
			}
			continue
		}
		ind := len(line) - len(strings.TrimLeft(line, " \t\n\r\v\f"))
		if cur != nil && curOpt != nil && ind > indent {
			curOpt.lines = append(curOpt.lines, value)
			continue
		}
		indent = ind
		if m := iniSectRe.FindStringSubmatch(value); m != nil {
			name := m[1]
			switch {
			case name == "DEFAULT":
				cur = &f.defaults
			default:
				if s, _ := f.section(name); s != nil {
					if added[name] {
						return nil, fmt.Errorf("While reading from '%s' [line %2d]: section '%s' already exists", fname, lineno, name)
					}
					cur = s
				} else {
					cur = newIniSection(name)
					f.sections = append(f.sections, cur)
				}
				added[name] = true
			}
			curName, curOpt = name, nil
			continue
		}
		if cur == nil {
			return nil, fmt.Errorf("File contains no section headers.\nfile: '%s', line: %d\n%s", fname, lineno, pyjsonRepr(raw))
		}
		m := iniOptRe.FindStringSubmatch(value)
		if m == nil || m[1] == "" {
			bad = append(bad, fmt.Sprintf("\n\t[line %2d]: %s", lineno, pyjsonRepr(raw)))
			curOpt = nil
			continue
		}
		name := strings.ToLower(strings.TrimRight(m[1], " \t\n\r\v\f"))
		key := curName + "\x00" + name
		if added[key] {
			return nil, fmt.Errorf("While reading from '%s' [line %2d]: option '%s' in section '%s' already exists", fname, lineno, name, curName)
		}
		added[key] = true
		curOpt = &opt{sect: cur, name: name, lines: []string{pyStrip(m[3])}}
		opts = append(opts, curOpt)
		cur.set(name, "")
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("Source contains parsing errors: '%s'%s", fname, strings.Join(bad, ""))
	}
	for _, o := range opts {
		o.sect.vals[o.name] = strings.TrimRight(strings.Join(o.lines, "\n"), " \t\n\r\v\f")
	}
	return f, nil
}

// pyjsonRepr is Python's repr of a str, for parse error messages.
func pyjsonRepr(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, "'", `\'`, "\n", `\n`, "\t", `\t`, "\r", `\r`).Replace(s) + "'"
}

// items is RawConfigParser.items(section): the defaults overridden by
// the section's options.
func (f *iniFile) items(s *iniSection) map[string]string {
	out := map[string]string{}
	for k, v := range f.defaults.vals {
		out[k] = v
	}
	for k, v := range s.vals {
		out[k] = v
	}
	return out
}

// dump is the module's dump: the sections sorted by name, each with its
// items sorted, as "key = value" lines and a blank line.
func (f *iniFile) dump() string {
	secs := append([]*iniSection(nil), f.sections...)
	sort.Slice(secs, func(i, j int) bool { return secs[i].name < secs[j].name })
	var b strings.Builder
	for _, s := range secs {
		fmt.Fprintf(&b, "[%s]\n", s.name)
		items := f.items(s)
		keys := make([]string, 0, len(items))
		for k := range items {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			if keys[i] != keys[j] {
				return keys[i] < keys[j]
			}
			return items[keys[i]] < items[keys[j]]
		})
		for _, k := range keys {
			fmt.Fprintf(&b, "%s = %s\n", k, items[k])
		}
		b.WriteString("\n")
	}
	return b.String()
}

// write is RawConfigParser.write: DEFAULT first when it has options, then
// the sections in order, continuation lines indented with a tab.
func (f *iniFile) write() string {
	var b strings.Builder
	one := func(s *iniSection) {
		fmt.Fprintf(&b, "[%s]\n", s.name)
		for _, k := range s.keys {
			fmt.Fprintf(&b, "%s = %s\n", k, strings.ReplaceAll(s.vals[k], "\n", "\n\t"))
		}
		b.WriteString("\n")
	}
	if len(f.defaults.keys) > 0 {
		one(&f.defaults)
	}
	for _, s := range f.sections {
		one(s)
	}
	return b.String()
}

// yumRepoCore does the work; YumRepository wraps it with the common file
// attributes, which need the path it returns under "dest".
type yumRepoCore struct{}

func (yumRepoCore) Spec() *Spec { return YumRepository{}.Spec() }

// Run adds or removes the repository.
func (YumRepository) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	r, err := fileAttrs{yumRepoCore{}, []string{"dest"}}.Run(ctx, env, args)
	delete(r.Values, "dest")
	return r, err
}

// yumRepoSection returns the section's options as the module sets them,
// in the order it sets them (sorted by argument name).
func yumRepoSection(args Args) *iniSection {
	vals := map[string]string{}
	for _, k := range yumRepoAllowed {
		src := k
		if k == "name" {
			src = "description"
		}
		v, ok := args[src]
		if !ok || v == nil {
			continue
		}
		switch x := v.(type) {
		case bool:
			vals[k] = map[bool]string{true: "1", false: "0"}[x]
		case []any:
			sep := " "
			if k == "baseurl" || k == "gpgkey" {
				sep = "\n"
			}
			vals[k] = strings.Join(args.Strings(src), sep)
		default:
			vals[k] = fmt.Sprint(x)
		}
	}
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	s := newIniSection(args.String("name"))
	for _, k := range keys {
		s.set(k, vals[k])
	}
	return s
}

func (yumRepoCore) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	name, state := args.String("name"), args.String("state")
	if args.Has("params") && len(args.Dict("params")) > 0 {
		return Result{Failed: true, Msg: "The params option to yum_repository was removed in Ansible 2.5 since it circumvents Ansible's option handling"}, nil
	}
	if state == "present" {
		if !args.Has("baseurl") && !args.Has("metalink") && !args.Has("mirrorlist") {
			return Result{Failed: true, Msg: "Parameter 'baseurl', 'metalink' or 'mirrorlist' is required."}, nil
		}
		if !args.Has("description") {
			return Result{Failed: true, Msg: "Parameter 'description' is required."}, nil
		}
	}
	file := name
	if args.Has("file") {
		file = args.String("file")
	}
	reposdir := args.String("reposdir")
	sts, err := ReadFiles(ctx, env.Conn, []string{reposdir, strings.TrimRight(reposdir, "/") + "/" + file + ".repo"}, ReadOptions{Content: true, MaxContent: -1, Follow: true})
	if err != nil {
		return FailResult(err, nil)
	}
	dir, st := sts[0], sts[1]
	if dir.Type != TypeDirectory {
		return Result{Failed: true, Msg: fmt.Sprintf("Repo directory '%s' does not exist.", dir.Path)}, nil
	}
	dest := st.Path
	isFile := st.Type == TypeFile
	repo := &iniFile{defaults: *newIniSection("DEFAULT")}
	if isFile {
		if !st.HasContent {
			return Result{Failed: true, Msg: fmt.Sprintf("cannot read %s", dest)}, nil
		}
		if repo, err = parseRawConfig(string(st.Content), dest); err != nil {
			return Result{Failed: true, Msg: err.Error()}, nil
		}
	}
	before := repo.dump()
	repo.remove(name)
	if state == "present" {
		if name == "DEFAULT" {
			return Result{Failed: true, Msg: "Invalid section name: 'DEFAULT'"}, nil
		}
		repo.sections = append(repo.sections, yumRepoSection(args))
	}
	after := repo.dump()
	changed := before != after
	mask := yumRepoMask(args)
	values := map[string]any{"repo": name, "state": state, "dest": dest,
		"diff": map[string]any{"before_header": dest, "before": mask(before), "after_header": dest, "after": mask(after)}}
	r := Result{Changed: changed, Values: values, Warnings: modeWarnings(args, "mode")}
	if changed && env.Diff {
		r.Diff = []Diff{{BeforeHeader: dest, AfterHeader: dest, Before: mask(before), After: mask(after)}}
	}
	attrs := attrsOf(args)
	existsAfter := isFile
	if changed && !env.Check {
		if len(repo.sections) > 0 {
			if st.Exists && !isFile {
				return Result{Failed: true, Msg: fmt.Sprintf("Problems handling file %s.", dest), Values: map[string]any{"details": fmt.Sprintf("[Errno 21] Is a directory: '%s'", dest)}}, nil
			}
			if _, err := WriteFile(ctx, env.Conn, []byte(repo.write()), WriteOptions{Before: st, Attrs: attrs}); err != nil {
				return FailResult(err, values)
			}
			return r, nil
		}
		f, res, err := runScript(ctx, env, "yum_repository", "_mdo_o=$(rm -f -- "+conn.Quote(dest)+" 2>&1) || { _mdo_f fail \"$_mdo_o\"; exit 0; }\n_mdo_f end 1\n", nil)
		if err != nil {
			return Result{}, err
		}
		if m, ok := f.get("fail"); ok {
			return Result{Failed: true, Msg: fmt.Sprintf("Cannot remove empty repo file %s.", dest), Values: map[string]any{"details": m}}, nil
		}
		if _, ok := f.get("end"); !ok {
			return scriptFailure("yum_repository", res), nil
		}
		existsAfter = false
	} else if changed && len(repo.sections) == 0 {
		existsAfter = false
	}
	if !existsAfter {
		return r, nil
	}
	plan, err := PlanAttrs(st, attrs)
	if err != nil {
		return Result{Failed: true, Msg: err.Error()}, nil
	}
	if plan.Changed {
		if !env.Check {
			if _, err := SetAttrs(ctx, env.Conn, st, plan, false); err != nil {
				return FailResult(err, values)
			}
		}
		r.Changed = true
		if env.Diff {
			d := AttrDiff(withPath(plan.Before, dest), withPath(plan.After, dest))
			d.BeforeHeader = dest + " (file attributes)"
			d.AfterHeader = d.BeforeHeader
			r.Diff = append(r.Diff, d)
		}
	}
	return r, nil
}

// yumRepoMask replaces the no_log values (password, proxy_password) in a
// text with Ansible's mask.
func yumRepoMask(args Args) func(string) string {
	var pairs []string
	for _, k := range []string{"password", "proxy_password"} {
		if v := args.String(k); v != "" {
			pairs = append(pairs, v, "********")
		}
	}
	if len(pairs) == 0 {
		return func(s string) string { return s }
	}
	return strings.NewReplacer(pairs...).Replace
}
