package modules

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// Setup is the setup module: facts about the target gathered by ONE POSIX
// shell script (coreutils and /proc, /sys reads; no Python), whose NUL-framed
// output is parsed on the controller. Fact names carry no ansible_ prefix;
// the engine stores the map as ansible_facts and as top-level ansible_*
// variables. The values follow Ansible's fact collectors (ansible-core
// 2.14) for the platform, distribution, date_time, env, user, pkg_mgr,
// service_mgr, dns, cmdline, ssh host key, hardware and network facts.
type Setup struct{}

var _ Module = Setup{}

// Spec describes setup's arguments. fact_path is the directory of local
// facts (ansible_local); gather_timeout bounds each executable local fact
// (coreutils' timeout), the one part of gathering that runs user code.
func (Setup) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "gather_subset", Type: TypeList, Default: []any{"all"}},
			{Name: "filter", Type: TypeList},
			{Name: "gather_timeout", Type: TypeInt, Default: 10},
			{Name: "fact_path", Type: TypePath},
		},
		CheckMode: true,
	}
}

// Fact collector groups selectable with gather_subset.
const (
	subsetMin      = "min"
	subsetHardware = "hardware"
	subsetNetwork  = "network"
	subsetVirtual  = "virtual"
)

// minCollectorNames are Ansible's minimal_gather_subset; each is also a
// valid gather_subset name of its own (read-only).
var minCollectorNames = []string{"apparmor", "caps", "cmdline", "date_time", "distribution", "dns", "env",
	"fips", "local", "lsb", "pkg_mgr", "platform", "python", "selinux", "service_mgr", "ssh_pub_keys", "user"}

// otherSubsets are the other names Ansible accepts (read-only); facter,
// ohai and virtual select nothing here.
var otherSubsets = []string{subsetHardware, subsetNetwork, subsetVirtual, "facter", "ohai",
	"devices", "dmi", "interfaces", "default_ipv4", "mounts", "system"}

// subsets resolves gather_subset as Ansible's get_collector_names does:
// start from min, add the additions, drop the exclusions except those also
// named explicitly. It returns the set of collectors, or Ansible's message
// for an unknown name.
func subsets(spec []string) (map[string]bool, string) {
	valid := map[string]bool{}
	for _, n := range minCollectorNames {
		valid[n] = true
	}
	for _, n := range otherSubsets {
		valid[n] = true
	}
	alias := func(n string) []string {
		switch n {
		case "system":
			return minCollectorNames
		case "devices", "dmi", "mounts":
			return []string{subsetHardware}
		case "interfaces", "default_ipv4":
			return []string{subsetNetwork}
		}
		return []string{n}
	}
	add, excl, explicit := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, s := range append([]string{subsetMin}, spec...) {
		s = strings.TrimSpace(s)
		neg := strings.HasPrefix(s, "!")
		name := strings.TrimPrefix(s, "!")
		switch {
		case name == subsetMin:
			set := add
			if neg {
				set = excl
			}
			for _, n := range minCollectorNames {
				set[n] = true
			}
			continue
		case name == "all":
			for n := range valid {
				if neg && contains(minCollectorNames, n) {
					continue
				}
				if neg {
					excl[n] = true
				} else {
					add[n] = true
				}
			}
			continue
		case !valid[name]:
			names := append([]string{"all", subsetMin}, minCollectorNames...)
			names = append(names, otherSubsets...)
			sort.Strings(names)
			return nil, fmt.Sprintf("Bad subset '%s' given to Ansible. gather_subset options allowed: %s", name, strings.Join(names, ", "))
		}
		for _, n := range alias(name) {
			if neg {
				excl[n] = true
			} else {
				add[n] = true
				explicit[n] = true
			}
		}
	}
	for n := range excl {
		if !explicit[n] {
			delete(add, n)
		}
	}
	return add, ""
}

// Run gathers the facts.
func (Setup) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	spec := args.Strings("gather_subset")
	if !args.Has("gather_subset") {
		spec = []string{"all"}
	}
	want, bad := subsets(spec)
	if bad != "" {
		return Result{Failed: true, Msg: bad}, nil
	}
	script := factsScript(want)
	if want["local"] {
		fp := localFactPath(args)
		// after the prelude (it uses _f), before env (which must be last)
		script = strings.Replace(script, factsPrelude, factsPrelude+localFactsScript(fp, args.Int("gather_timeout")), 1)
	}
	res, err := env.Conn.Exec(ctx, conn.Command{Script: script})
	if err != nil {
		return Result{}, fmt.Errorf("gather facts: %w", err)
	}
	if res.RC != 0 {
		return Result{Failed: true, Msg: fmt.Sprintf("fact script exited with %d: %s", res.RC, strings.TrimSpace(string(res.Stderr)))}, nil
	}
	secs := factSections(res.Stdout)
	facts := parseFacts(secs, want)
	var warnings []string
	if want["local"] {
		var local map[string]any
		local, warnings = localFacts(secs, localFactPath(args))
		facts["local"] = local
	}
	facts = filterFacts(facts, args.Strings("filter"))
	gs := make([]any, len(spec))
	for i, s := range spec {
		gs[i] = s
	}
	facts["gather_subset"] = gs
	facts["module_setup"] = true
	return Result{Facts: facts, Values: map[string]any{"ansible_facts": facts}, Warnings: warnings}, nil
}

// localFactPath is fact_path, Ansible's /etc/ansible/facts.d by default.
func localFactPath(args Args) string {
	if fp := strings.TrimSuffix(args.String("fact_path"), "/"); fp != "" {
		return fp
	}
	return "/etc/ansible/facts.d"
}

// localFactsScript prints, for each DIR/*.fact in name order, the
// sections local:NAME (the file's content, or an executable's output),
// and for an executable localrc:NAME and localerr:NAME. An executable
// runs under coreutils' timeout of gather_timeout seconds.
func localFactsScript(dir string, timeout int) string {
	to := ""
	if timeout > 0 {
		to = fmt.Sprintf("timeout %d ", timeout)
	}
	return fmt.Sprintf(`for _lf in %s/*.fact; do
  [ -e "$_lf" ] || continue
  _lb=${_lf##*/}; _lb=${_lb%%.fact}
  if [ -x "$_lf" ]; then
    _le=$(mktemp); _lo=$(%s"$_lf" 2>"$_le" </dev/null); _lrc=$?
    printf 'localrc:%%s\0%%s\0' "$_lb" "$_lrc"; printf 'localerr:%%s\0' "$_lb"; cat "$_le"; printf '\0'; rm -f "$_le"
    printf 'local:%%s\0%%s\0' "$_lb" "$_lo"
  else _f "local:$_lb" "$_lf"; fi
done
`, ShellQuote(strings.TrimSuffix(dir, "/")), to)
}

// localFacts is Ansible's LocalFactCollector over the script's sections:
// each fact is JSON, else INI (sections of lower-cased options), else an
// error string; a failed executable gives Ansible's failure string. Each
// failure is also a warning.
func localFacts(secs []section, dir string) (map[string]any, []string) {
	local := map[string]any{}
	var warnings []string
	rc, errs := map[string]string{}, map[string]string{}
	for _, s := range secs {
		if n, ok := strings.CutPrefix(s.key, "localrc:"); ok {
			rc[n] = s.value
		} else if n, ok := strings.CutPrefix(s.key, "localerr:"); ok {
			errs[n] = s.value
		}
	}
	for _, s := range secs {
		name, ok := strings.CutPrefix(s.key, "local:")
		if !ok {
			continue
		}
		if r, ok := rc[name]; ok && r != "0" {
			msg := fmt.Sprintf("Failure executing fact script (%s), rc: %s, err: %s", dir+"/"+name+".fact", r, errs[name])
			if r == "124" {
				msg = fmt.Sprintf("Failure executing fact script (%s), rc: %s, err: timed out (gather_timeout)", dir+"/"+name+".fact", r)
			}
			local[name] = msg
			warnings = append(warnings, msg)
			continue
		}
		var v any
		if err := json.Unmarshal([]byte(s.value), &v); err == nil {
			local[name] = v
			continue
		}
		if ini, ok := parseFactINI(s.value); ok {
			local[name] = ini
			continue
		}
		msg := "error loading facts as JSON or ini - please check content: " + dir + "/" + name + ".fact"
		local[name] = msg
		warnings = append(warnings, msg)
	}
	return local, warnings
}

// parseFactINI reads INI as Python's ConfigParser does for local facts:
// [section] headers, key = value or key: value options (names lower-cased),
// # and ; comment lines, indented continuation lines. Text before the
// first section is an error.
func parseFactINI(s string) (map[string]any, bool) {
	out := map[string]any{}
	var cur map[string]any
	lastKey := ""
	for _, line := range strings.Split(s, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "#") || strings.HasPrefix(t, ";") {
			continue
		}
		if cur != nil && lastKey != "" && (line[0] == ' ' || line[0] == '\t') {
			cur[lastKey] = cur[lastKey].(string) + "\n" + t
			continue
		}
		if strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]") {
			name := t[1 : len(t)-1]
			if _, dup := out[name]; dup {
				return nil, false
			}
			cur = map[string]any{}
			out[name] = cur
			lastKey = ""
			continue
		}
		if cur == nil {
			return nil, false
		}
		i := strings.IndexAny(t, "=:")
		if i <= 0 {
			return nil, false
		}
		lastKey = strings.ToLower(strings.TrimSpace(t[:i]))
		cur[lastKey] = strings.TrimSpace(t[i+1:])
	}
	return out, true
}

// filterFacts keeps the facts whose ansible_-prefixed name matches one of
// the glob patterns, as Ansible's filter does (a pattern without the
// prefix is tried with it too). No pattern, or "*", keeps everything.
func filterFacts(facts map[string]any, patterns []string) map[string]any {
	if len(patterns) == 0 || len(patterns) == 1 && (patterns[0] == "*" || patterns[0] == "") {
		return facts
	}
	out := map[string]any{}
	for k, v := range facts {
		name := "ansible_" + k
		for _, p := range patterns {
			ok, _ := path.Match(p, name)
			if !ok && p != "" && !strings.HasPrefix(p, "ansible_") && !strings.HasPrefix(p, "facter") && !strings.HasPrefix(p, "ohai") {
				ok, _ = path.Match("ansible_"+p, name)
			}
			if ok || p == "" {
				out[k] = v
				break
			}
		}
	}
	return out
}

// The script prints key\0value\0 sections; `env` comes last and its value
// is the rest of the output (env -0's NUL-separated entries).
const factsPrelude = `_f() { printf '%s\0' "$1"; cat "$2" 2>/dev/null; printf '\0'; }
_r() { _v=; [ -r "$1" ] && read -r _v <"$1" 2>/dev/null; printf '%s' "$_v"; }
`

const factsPlatform = `printf 'uname\0'; uname -snrvm; printf '\0'
printf 'long_bit\0'; getconf LONG_BIT 2>/dev/null; printf '\0'
printf 'fqdn\0'; { _h=$(getent hosts "$(uname -n)") && set -- $_h && getent hosts "$1"; } 2>/dev/null; printf '\0'
printf 'machine_id\0'; _r /etc/machine-id; printf '\0'
`

const factsDistribution = `for _p in /etc/os-release /usr/lib/os-release; do [ -r $_p ] && { _f os-release $_p; break; }; done
for _p in /etc/debian_version /etc/altlinux-release /etc/oracle-release /etc/slackware-version /etc/centos-release /etc/redhat-release /etc/openwrt_release /etc/system-release /etc/alpine-release /etc/SuSE-release /etc/lsb-release; do
  [ -s $_p ] && _f file:$_p $_p
done
[ -e /etc/arch-release ] && printf 'file:/etc/arch-release\0\0'
`

const factsMisc = `printf 'date\0'; LC_ALL=C date '+%Y %m %d %H %M %S %s %N %A %w %W %Z %z'; LC_ALL=C date -d @1704110400 '+%Z %z'; LC_ALL=C date -d @1719835200 '+%Z %z'; printf '\0'
printf 'id\0'; id; printf '\0'
_u=${LOGNAME:-${USER:-${LNAME:-$USERNAME}}}
printf 'passwd\0'; { [ -n "$_u" ] && getent passwd "$_u"; } || getent passwd "$(id -u)" || grep "^$(id -un):" /etc/passwd; printf '\0'
printf 'pkg\0'; for _p in /usr/bin/rpm-ostree /usr/bin/yum /usr/bin/dnf /usr/bin/apt-get /usr/bin/zypper /usr/sbin/urpmi /usr/bin/pacman /bin/opkg /sbin/apk /usr/bin/emerge /usr/bin/xbps-install /usr/bin/swupd /run/ostree-booted; do [ -e $_p ] && echo $_p; done
[ -e /usr/bin/rpm ] && [ -e /usr/bin/apt-get ] && /usr/bin/rpm -q --whatprovides /usr/bin/apt-get >/dev/null 2>&1 && echo apt_rpm; printf '\0'
printf 'proc1\0'; if [ -r /proc/1/comm ]; then _r /proc/1/comm; else ps -p 1 -o comm 2>/dev/null | tail -n 1; fi; printf '\0'
printf 'svc\0'
[ -L /sbin/init ] && echo "init_link $(readlink /sbin/init)"
command -v systemctl >/dev/null 2>&1 && for _p in /run/systemd/system/ /dev/.run/systemd/ /dev/.systemd/; do [ -e $_p ] && echo systemd; done
command -v initctl >/dev/null 2>&1 && [ -e /etc/init/ ] && echo upstart
[ -e /sbin/openrc ] && echo openrc
[ -e /etc/init.d/ ] && echo sysvinit
[ -e /etc/dinit.d/ ] && echo dinit
printf '\0'
_f resolv /etc/resolv.conf
_f cmdline /proc/cmdline
printf 'apparmor\0'; [ -e /sys/kernel/security/apparmor ] && echo enabled; printf '\0'
printf 'selinux\0'; [ -r /sys/fs/selinux/enforce ] && _r /sys/fs/selinux/enforce; printf '\0'
printf 'fips\0'; _r /proc/sys/crypto/fips_enabled; printf '\0'
for _p in /etc/ssh/ssh_host_*_key.pub; do [ -r "$_p" ] && _f "sshkey:$_p" "$_p"; done
`

const factsHardware = `_f meminfo /proc/meminfo
printf 'cpuinfo\0'; grep -E '^(model name|Processor|vendor_id|cpu|Vendor|processor|physical id|core id|cpu cores|siblings|# processors|ncpus active)[[:space:]]*:' /proc/cpuinfo 2>/dev/null; printf '\0'
printf 'nproc\0'; nproc 2>/dev/null; printf '\0'
printf 'uptime\0'; _r /proc/uptime; printf '\0'
for _p in bios_date bios_vendor bios_version board_asset_tag board_name board_serial board_vendor board_version chassis_asset_tag chassis_serial chassis_vendor chassis_version chassis_type product_name product_serial product_uuid product_version sys_vendor; do
  [ -r /sys/devices/virtual/dmi/id/$_p ] && { printf 'dmi:%s\0' $_p; _r /sys/devices/virtual/dmi/id/$_p; printf '\0'; }
done
`

const factsNetwork = `_f route /proc/net/route
_f ipv6_route /proc/net/ipv6_route
_f if_inet6 /proc/net/if_inet6
if command -v ip >/dev/null 2>&1; then printf 'ip4\0'; ip -o -4 addr show 2>/dev/null; printf '\0'; else _f fib_trie /proc/net/fib_trie; fi
for _d in /sys/class/net/*; do
  [ -e "$_d" ] || continue
  printf 'if:%s\0' "${_d##*/}"
  for _p in address mtu type operstate flags; do printf '%s ' "$(_r $_d/$_p)"; done
  [ -d $_d/bridge ] && printf 'bridge'
  printf '\0'
done
`

// factsScript returns the script collecting the wanted collectors.
func factsScript(want map[string]bool) string {
	var b strings.Builder
	b.WriteString(factsPrelude)
	b.WriteString(factsPlatform)
	b.WriteString(factsDistribution)
	b.WriteString(factsMisc)
	if want[subsetHardware] {
		b.WriteString(factsHardware)
	}
	if want[subsetNetwork] {
		b.WriteString(factsNetwork)
	}
	if want["env"] || want["user"] {
		b.WriteString("printf 'env\\0'; env -0 2>/dev/null || cat /proc/$$/environ\n")
	}
	return b.String()
}

// section is one key\0value\0 pair of the script's output.
type section struct{ key, value string }

// factSections splits the script's output into its sections; the value of
// `env` is everything after it.
func factSections(out []byte) []section {
	s := string(out)
	var secs []section
	for s != "" {
		k, rest, ok := strings.Cut(s, "\x00")
		if !ok {
			break
		}
		if k == "env" {
			secs = append(secs, section{k, rest})
			break
		}
		v, rest2, _ := strings.Cut(rest, "\x00")
		secs = append(secs, section{k, v})
		s = rest2
	}
	return secs
}

// parseFacts turns the sections into facts (only those of the wanted
// collectors; the platform, distribution and user facts feed the others).
func parseFacts(secs []section, want map[string]bool) map[string]any {
	m := map[string]string{}
	for _, s := range secs {
		m[s.key] = s.value
	}
	facts := map[string]any{}
	env := parseEnv(m["env"])
	put := func(collector string, f map[string]any) {
		if !want[collector] {
			return
		}
		for k, v := range f {
			facts[k] = v
		}
	}
	plat := platformFacts(m)
	put("platform", plat)
	dist := distributionFacts(m)
	put("distribution", dist)
	family, _ := dist["os_family"].(string)
	distName, _ := dist["distribution"].(string)
	major, _ := dist["distribution_major_version"].(string)
	put("pkg_mgr", map[string]any{"pkg_mgr": pkgMgr(m["pkg"], family, distName, major)})
	put("service_mgr", map[string]any{"service_mgr": serviceMgr(m["proc1"], m["svc"], plat["system"] == "Linux")})
	put("date_time", map[string]any{"date_time": dateTimeFacts(m["date"])})
	put("user", userFacts(m["id"], m["passwd"], env))
	put("env", map[string]any{"env": env})
	put("dns", map[string]any{"dns": dnsFacts(m["resolv"])})
	cmd, proc := cmdlineFacts(m["cmdline"])
	put("cmdline", map[string]any{"cmdline": cmd, "proc_cmdline": proc})
	put("apparmor", map[string]any{"apparmor": map[string]any{"status": map[bool]string{true: "enabled", false: "disabled"}[strings.TrimSpace(m["apparmor"]) == "enabled"]}})
	put("selinux", map[string]any{"selinux": selinuxFacts(m["selinux"])})
	put("fips", map[string]any{"fips": strings.TrimSpace(m["fips"]) == "1"})
	put("ssh_pub_keys", sshKeyFacts(secs))
	put("local", map[string]any{"local": map[string]any{}})
	if lsb := lsbFacts(m["file:/etc/lsb-release"]); lsb != nil {
		put("lsb", map[string]any{"lsb": lsb})
	}
	if want[subsetHardware] {
		for k, v := range hardwareFacts(m, plat) {
			facts[k] = v
		}
	}
	if want[subsetNetwork] {
		for k, v := range networkFacts(secs, m) {
			facts[k] = v
		}
	}
	return facts
}

// shellVars parses KEY=value lines (os-release, lsb-release), unquoting
// values.
func shellVars(s string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
			if line[len(k)+1] == '"' {
				r := strings.NewReplacer(`\"`, `"`, `\\`, `\`, `\$`, `$`, "\\`", "`")
				v = r.Replace(v)
			}
		}
		out[k] = v
	}
	return out
}

func lines(s string) []string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// platformFacts: system, kernel, kernel_version, machine, architecture,
// nodename, hostname, fqdn, domain, userspace_bits,
// userspace_architecture, machine_id.
func platformFacts(m map[string]string) map[string]any {
	f := strings.Fields(m["uname"])
	if len(f) < 5 {
		return map[string]any{}
	}
	system, node, kernel, machine := f[0], f[1], f[2], f[len(f)-1]
	version := strings.Join(f[3:len(f)-1], " ")
	// uname -v may itself hold spaces; machine never does.
	if i := strings.Index(m["uname"], kernel+" "); i >= 0 {
		rest := strings.TrimRight(m["uname"][i+len(kernel)+1:], "\n")
		version = strings.TrimSuffix(rest, " "+machine)
	}
	bits := strings.TrimSpace(m["long_bit"])
	arch := machine
	if len(machine) == 4 && machine[0] == 'i' && strings.HasSuffix(machine, "86") {
		arch = "i386"
	}
	out := map[string]any{
		"system": system, "kernel": kernel, "kernel_version": version, "machine": machine,
		"architecture": arch, "nodename": node, "hostname": strings.SplitN(node, ".", 2)[0],
	}
	if bits != "" {
		out["userspace_bits"] = bits
		ua := machine
		if machine == "x86_64" && bits == "32" {
			ua = "i386"
		}
		out["userspace_architecture"] = ua
	}
	// Python's socket.getfqdn: the first name of the address's host entry
	// that contains a dot, else its canonical name, else the node name.
	fqdn := node
	if ff := strings.Fields(firstLine(m["fqdn"])); len(ff) >= 2 {
		fqdn = ff[1]
		for _, n := range ff[1:] {
			if strings.Contains(n, ".") {
				fqdn = n
				break
			}
		}
	}
	out["fqdn"] = fqdn
	domain := ""
	if _, d, ok := strings.Cut(fqdn, "."); ok {
		domain = d
	}
	out["domain"] = domain
	if id := strings.TrimSpace(m["machine_id"]); id != "" {
		out["machine_id"] = id
	}
	return out
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// osFamily maps a distribution to its family as Ansible's OS_FAMILY_MAP.
func osFamily(dist string) string {
	families := map[string][]string{
		"RedHat": {"RedHat", "RHEL", "Fedora", "CentOS", "Scientific", "SLC", "Ascendos", "CloudLinux", "PSBM",
			"OracleLinux", "OVS", "OEL", "Amazon", "Virtuozzo", "XenServer", "Alibaba", "EulerOS", "openEuler",
			"AlmaLinux", "Rocky", "TencentOS", "EuroLinux", "Kylin Linux Advanced Server"},
		"Debian": {"Debian", "Ubuntu", "Raspbian", "Neon", "KDE neon", "Linux Mint", "SteamOS", "Devuan", "Kali",
			"Cumulus Linux", "Pop!_OS", "Parrot", "Pardus GNU/Linux", "Uos", "Deepin", "OSMC"},
		"Suse":       {"SuSE", "SLES", "SLED", "openSUSE", "openSUSE Tumbleweed", "SLES_SAP", "SUSE_LINUX", "openSUSE Leap"},
		"Archlinux":  {"Archlinux", "Antergos", "Manjaro"},
		"Mandrake":   {"Mandrake", "Mandriva"},
		"Slackware":  {"Slackware"},
		"Altlinux":   {"Altlinux"},
		"SGML":       {"SGML"},
		"Gentoo":     {"Gentoo", "Funtoo"},
		"Alpine":     {"Alpine"},
		"ClearLinux": {"Clear Linux OS", "Clear Linux Mix"},
	}
	for fam, names := range families {
		if contains(names, dist) {
			return fam
		}
	}
	return dist
}

var (
	reCodename     = regexp.MustCompile(`\((\D+)\)|,\s*(\D+)`)
	reVersionNum   = regexp.MustCompile(`^\d+(\.\d+)*$`)
	reDebRelease   = regexp.MustCompile(`PRETTY_NAME=[^(]+ \(?([^)]+?)\)`)
	reDebMinor     = regexp.MustCompile(`(\d+)\.(\d+)`)
	reSuseVersion  = regexp.MustCompile(`^VERSION_ID="?([0-9]+\.?[0-9]*)"?`)
	reSuseRelease  = regexp.MustCompile(`^VERSION_ID="?[0-9]+\.?([0-9]*)"?`)
	reQuotedVer    = regexp.MustCompile(`VERSION_ID="(.*)"`)
	reOpenWrtVer   = regexp.MustCompile(`DISTRIB_RELEASE="(.*)"`)
	reOpenWrtCode  = regexp.MustCompile(`DISTRIB_CODENAME="(.*)"`)
	reCentOSBestVe = regexp.MustCompile(`release (\d+(\.\d+)*)`)
)

// distributionFacts ports Ansible's DistributionFiles for Linux: a guess
// from os-release (as the distro library gives it), then the first release
// file that parses, in Ansible's order.
func distributionFacts(m map[string]string) map[string]any {
	osr := m["os-release"]
	ov := shellVars(osr)
	file := func(p string) (string, bool) {
		v, ok := m["file:"+p]
		return strings.Trim(strings.TrimSpace(v), `'"\`), ok
	}
	// The guess (sys_info.get_distribution and friends).
	id := strings.ToLower(ov["ID"])
	switch id {
	case "ol":
		id = "oracle"
	case "opensuse-leap":
		id = "opensuse"
	}
	dist := ""
	if id != "" {
		dist = strings.ToUpper(id[:1]) + id[1:]
	}
	switch dist {
	case "Amzn":
		dist = "Amazon"
	case "Rhel":
		dist = "Redhat"
	case "":
		dist = "OtherLinux"
		if osr == "" {
			dist = "NA"
		}
	}
	version := ov["VERSION_ID"]
	if dv, ok := file("/etc/debian_version"); ok && id == "debian" && reVersionNum.MatchString(dv) && strings.Count(dv, ".") >= strings.Count(version, ".") {
		version = dv
	}
	if id == "centos" {
		if cv, ok := file("/etc/centos-release"); ok {
			if mm := reCentOSBestVe.FindStringSubmatch(cv); mm != nil {
				version = mm[1]
			}
		}
		if p := strings.SplitN(version, ".", 3); len(p) > 2 {
			version = p[0] + "." + p[1]
		}
	}
	release, hasRelease := ov["VERSION_CODENAME"]
	if !hasRelease {
		release, hasRelease = ov["UBUNTU_CODENAME"]
	}
	if !hasRelease {
		if mm := reCodename.FindStringSubmatch(ov["VERSION"]); mm != nil {
			release = strings.TrimSpace(mm[1] + mm[2])
			hasRelease = release != ""
		}
	}
	out := map[string]any{"distribution": dist, "distribution_version": version, "distribution_release": release}
	if version == "" {
		out["distribution_version"] = "NA"
	}
	if !hasRelease {
		out["distribution_release"] = "NA"
	}
	out["distribution_major_version"] = strings.Split(out["distribution_version"].(string), ".")[0]

	found := func(name, p string, parsed map[string]any) map[string]any {
		out["distribution"] = name
		out["distribution_file_path"] = p
		out["distribution_file_variety"] = name
		out["distribution_file_parsed"] = true
		for k, v := range parsed {
			out[k] = v
		}
		out["os_family"] = osFamily(out["distribution"].(string))
		return out
	}
	searchOrFirst := func(name, p, search string) (map[string]any, bool) {
		c, ok := file(p)
		if !ok {
			return nil, false
		}
		d := name
		if !strings.Contains(c, search) {
			if f := strings.Fields(c); len(f) > 0 {
				d = f[0]
			}
		}
		return found(name, p, map[string]any{"distribution": d}), true
	}
	if r, ok := searchOrFirst("Altlinux", "/etc/altlinux-release", "ALT"); ok {
		return r
	}
	if r, ok := searchOrFirst("OracleLinux", "/etc/oracle-release", "Oracle Linux"); ok {
		return r
	}
	if c, ok := file("/etc/slackware-version"); ok && strings.Contains(c, "Slackware") {
		p := map[string]any{}
		if v := regexp.MustCompile(`\w+[.]\w+\+?`).FindString(c); v != "" {
			p["distribution_version"] = v
		}
		return found("Slackware", "/etc/slackware-version", p)
	}
	if c, ok := file("/etc/centos-release"); ok {
		if strings.Contains(c, "CentOS Stream") {
			return found("CentOS", "/etc/centos-release", map[string]any{"distribution_release": "Stream"})
		}
		if strings.Contains(c, "TencentOS Server") {
			return found("CentOS", "/etc/centos-release", map[string]any{"distribution": "TencentOS"})
		}
	}
	if r, ok := searchOrFirst("RedHat", "/etc/redhat-release", "Red Hat"); ok {
		return r
	}
	if c, ok := file("/etc/openwrt_release"); ok && strings.Contains(c, "OpenWrt") {
		p := map[string]any{}
		if mm := reOpenWrtVer.FindStringSubmatch(c); mm != nil {
			p["distribution_version"] = mm[1]
		}
		if mm := reOpenWrtCode.FindStringSubmatch(c); mm != nil {
			p["distribution_release"] = mm[1]
		}
		return found("OpenWrt", "/etc/openwrt_release", p)
	}
	if strings.Contains(osr, "Amazon") {
		p := map[string]any{}
		if mm := reQuotedVer.FindStringSubmatch(osr); mm != nil {
			v := mm[1]
			p["distribution_version"] = v
			major, minor, ok := strings.Cut(v, ".")
			if !ok {
				minor = "NA"
			}
			p["distribution_major_version"], p["distribution_minor_version"] = major, minor
		}
		return found("Amazon", "/etc/os-release", p)
	}
	if c, ok := file("/etc/system-release"); ok && strings.Contains(c, "Amazon") {
		return found("Amazon", "/etc/system-release", nil)
	}
	if c, ok := file("/etc/alpine-release"); ok {
		return found("Alpine", "/etc/alpine-release", map[string]any{"distribution_version": c})
	}
	if _, ok := m["file:/etc/arch-release"]; ok {
		return found("Archlinux", "/etc/arch-release", nil)
	}
	if strings.Contains(osr, "Arch Linux") {
		return found("Archlinux", "/etc/os-release", nil)
	}
	if strings.Contains(strings.ToLower(osr), "suse") {
		p := map[string]any{}
		low := strings.ToLower(osr)
		for _, line := range strings.Split(osr, "\n") {
			if strings.HasPrefix(line, "NAME=") {
				p["distribution"] = strings.Trim(line[len("NAME="):], `"`)
			}
			if mm := reSuseVersion.FindStringSubmatch(line); mm != nil {
				p["distribution_version"] = mm[1]
				p["distribution_major_version"] = strings.Split(mm[1], ".")[0]
			}
			if mm := reSuseRelease.FindStringSubmatch(line); mm != nil {
				if strings.Contains(low, "open") {
					p["distribution_release"] = mm[1]
				} else if strings.Contains(low, "enterprise") {
					p["distribution_release"] = mm[1]
					if mm[1] == "" {
						p["distribution_release"] = "0"
					}
				}
			}
		}
		return found("SUSE", "/etc/os-release", p)
	}
	if r, ok := debianFacts(osr, "/etc/os-release", m, out); ok {
		return r
	}
	if r, ok := debianFacts(m["file:/etc/lsb-release"], "/etc/lsb-release", m, out); ok {
		return r
	}
	if osr != "" {
		p := map[string]any{}
		if n, ok := ov["NAME"]; ok {
			p["distribution"] = n
		}
		if v, ok := ov["VERSION"]; ok && out["distribution_version"] == "NA" {
			p["distribution_version"] = v
		}
		return found("NA", "/etc/os-release", p)
	}
	out["os_family"] = osFamily(dist)
	return out
}

// debianFacts is parse_distribution_file_Debian for the common members of
// the family.
func debianFacts(data, p string, m map[string]string, out map[string]any) (map[string]any, bool) {
	if data == "" {
		return nil, false
	}
	ov := shellVars(data)
	pf := map[string]any{}
	switch {
	case strings.Contains(data, "Debian") || strings.Contains(data, "Raspbian"):
		pf["distribution"] = "Debian"
		if mm := reDebRelease.FindStringSubmatch(data); mm != nil {
			pf["distribution_release"] = mm[1]
		}
		for _, l := range lines(m["file:/etc/debian_version"]) {
			if mm := reDebMinor.FindStringSubmatch(strings.TrimSpace(l)); mm != nil {
				pf["distribution_minor_version"] = mm[2]
			}
		}
	case strings.Contains(data, "Ubuntu"):
		pf["distribution"] = "Ubuntu"
	case strings.Contains(data, "SteamOS"):
		pf["distribution"] = "SteamOS"
	case strings.Contains(data, "Kali"), strings.Contains(data, "Parrot"):
		pf["distribution"] = "Kali"
		if strings.Contains(data, "Parrot") && !strings.Contains(data, "Kali") {
			pf["distribution"] = "Parrot"
		}
		if v, ok := ov["DISTRIB_RELEASE"]; ok {
			pf["distribution_release"] = v
		}
	case strings.Contains(data, "Devuan"):
		pf["distribution"] = "Devuan"
		if v, ok := ov["VERSION_ID"]; ok {
			pf["distribution_version"], pf["distribution_major_version"] = v, v
		}
	case strings.Contains(data, "Mint"):
		pf["distribution"] = "Linux Mint"
		if v, ok := ov["VERSION_ID"]; ok {
			pf["distribution_version"], pf["distribution_major_version"] = v, strings.Split(v, ".")[0]
		}
	default:
		return nil, false
	}
	out["distribution"] = "Debian"
	out["distribution_file_path"] = p
	out["distribution_file_variety"] = "Debian"
	out["distribution_file_parsed"] = true
	for k, v := range pf {
		out[k] = v
	}
	out["os_family"] = osFamily(out["distribution"].(string))
	return out, true
}

// pkgMgr picks the package manager as Ansible's PkgMgrFactCollector: the
// last existing tool of its list, then the family's official one.
func pkgMgr(found, family, dist, major string) string {
	names := map[string]string{
		"/usr/bin/rpm-ostree": "atomic_container", "/usr/bin/yum": "yum", "/usr/bin/dnf": "dnf",
		"/usr/bin/apt-get": "apt", "/usr/bin/zypper": "zypper", "/usr/sbin/urpmi": "urpmi",
		"/usr/bin/pacman": "pacman", "/bin/opkg": "opkg", "/sbin/apk": "apk", "/usr/bin/emerge": "portage",
		"/usr/bin/xbps-install": "xbps", "/usr/bin/swupd": "swupd",
	}
	have := map[string]bool{}
	mgr := "unknown"
	for _, l := range lines(found) {
		have[l] = true
		if n, ok := names[l]; ok {
			mgr = n
		}
	}
	atoi := func(s string) (int, bool) {
		n, err := strconv.Atoi(s)
		return n, err == nil
	}
	switch family {
	case "RedHat":
		switch {
		case have["/run/ostree-booted"]:
			mgr = "atomic_container"
		case dist == "Fedora" || dist == "Amazon":
			limit := 23
			if dist == "Amazon" {
				limit = 2022
			}
			n, ok := atoi(major)
			switch {
			case !ok:
				mgr = "dnf"
			case n < limit && have["/usr/bin/yum"]:
				mgr = "yum"
			case n >= limit && have["/usr/bin/dnf"]:
				mgr = "dnf"
			}
		default:
			if n, ok := atoi(major); ok && n < 8 {
				mgr = "yum"
			} else {
				mgr = "dnf"
			}
		}
	case "Debian":
		mgr = "apt"
	case "Altlinux":
		if mgr == "apt" {
			mgr = "apt_rpm"
		}
	}
	if mgr == "apt" && have["apt_rpm"] {
		mgr = "apt_rpm"
	}
	return mgr
}

// serviceMgr is Ansible's ServiceMgrFactCollector for Linux: PID 1's name
// unless it is init or a shell, else what the file system shows.
func serviceMgr(proc1, probes string, linux bool) string {
	p := strings.TrimSpace(proc1)
	if p == "COMMAND" {
		p = ""
	}
	have := map[string]string{}
	for _, l := range lines(probes) {
		k, v, _ := strings.Cut(l, " ")
		if _, ok := have[k]; !ok {
			have[k] = v
		}
	}
	if p == "" {
		p = have["init_link"]
	}
	if p != "" {
		p = path.Base(p)
	}
	if p == "init" || strings.HasSuffix(p, "sh") {
		p = ""
	}
	if p != "" {
		switch p {
		case "procd":
			return "openwrt_init"
		case "runit-init":
			return "runit"
		case "svscan":
			return "svc"
		case "openrc-init":
			return "openrc"
		}
		return p
	}
	if linux {
		_, systemd := have["systemd"]
		_, upstart := have["upstart"]
		_, openrc := have["openrc"]
		_, sysv := have["sysvinit"]
		_, dinit := have["dinit"]
		switch {
		case systemd:
			return "systemd"
		case upstart:
			return "upstart"
		case openrc:
			return "openrc"
		case strings.HasSuffix(have["init_link"], "systemd"):
			return "systemd"
		case sysv:
			return "sysvinit"
		case dinit:
			return "dinit"
		}
	}
	return "service"
}

// dateTimeFacts reads `date` output (local fields, epoch, nanoseconds, zone)
// and the zone names in January and July (for tz_dst).
func dateTimeFacts(s string) map[string]any {
	ls := lines(s)
	if len(ls) == 0 {
		return map[string]any{}
	}
	f := strings.Fields(ls[0])
	if len(f) < 13 {
		return map[string]any{}
	}
	year, month, day, hour, minute, second, epoch, nanos := f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7]
	micro := (nanos + "000000")[:6]
	out := map[string]any{
		"year": year, "month": month, "day": day, "hour": hour, "minute": minute, "second": second,
		"epoch": epoch, "epoch_int": epoch, "weekday": f[8], "weekday_number": f[9], "weeknumber": f[10],
		"date": year + "-" + month + "-" + day, "time": hour + ":" + minute + ":" + second,
		"iso8601_basic":       year + month + day + "T" + hour + minute + second + micro,
		"iso8601_basic_short": year + month + day + "T" + hour + minute + second,
		"tz":                  f[11], "tz_offset": f[12], "tz_dst": f[11],
	}
	if sec, err := strconv.ParseInt(epoch, 10, 64); err == nil {
		ns, _ := strconv.Atoi(micro)
		u := time.Unix(sec, int64(ns)*1000).UTC()
		out["iso8601"] = u.Format("2006-01-02T15:04:05Z")
		out["iso8601_micro"] = u.Format("2006-01-02T15:04:05.000000Z")
	}
	// Python's time.tzname[1]: the daylight-saving name, or the standard
	// name where the zone has none.
	if len(ls) >= 3 {
		jan, jul := strings.Fields(ls[1]), strings.Fields(ls[2])
		if len(jan) == 2 && len(jul) == 2 {
			out["tz_dst"] = jan[0]
			if jul[1] > jan[1] && !strings.HasPrefix(jul[1], "-") || strings.HasPrefix(jan[1], "-") && jul[1] < jan[1] {
				out["tz_dst"] = jul[0]
			}
		}
	}
	return out
}

// userFacts reads `id` output and the user's passwd entry.
func userFacts(idOut, passwd string, env map[string]any) map[string]any {
	ids := map[string]string{}
	names := map[string]string{}
	for _, f := range strings.Fields(idOut) {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			continue
		}
		num, name, _ := strings.Cut(v, "(")
		ids[k] = num
		names[k] = strings.TrimSuffix(name, ")")
	}
	if _, ok := ids["euid"]; !ok {
		ids["euid"] = ids["uid"]
	}
	out := map[string]any{}
	num := func(s string) any {
		if n, err := strconv.Atoi(s); err == nil {
			return n
		}
		return s
	}
	if ids["uid"] != "" {
		out["real_user_id"] = num(ids["uid"])
		out["effective_user_id"] = num(ids["euid"])
		out["real_group_id"] = num(ids["gid"])
		// Ansible reports os.getgid() here too.
		out["effective_group_id"] = num(ids["gid"])
	}
	user := names["uid"]
	for _, k := range []string{"LOGNAME", "USER", "LNAME", "USERNAME"} {
		if v, ok := env[k].(string); ok && v != "" {
			user = v
			break
		}
	}
	out["user_id"] = user
	if p := strings.Split(firstLine(passwd), ":"); len(p) >= 7 {
		out["user_uid"] = num(p[2])
		out["user_gid"] = num(p[3])
		out["user_gecos"] = p[4]
		out["user_dir"] = p[5]
		out["user_shell"] = p[6]
	}
	return out
}

// parseEnv reads env -0 output.
func parseEnv(s string) map[string]any {
	out := map[string]any{}
	for _, e := range strings.Split(s, "\x00") {
		if k, v, ok := strings.Cut(e, "="); ok && k != "" {
			out[k] = v
		}
	}
	return out
}

// dnsFacts parses resolv.conf as Ansible's DnsFactCollector.
func dnsFacts(s string) map[string]any {
	out := map[string]any{}
	for _, l := range lines(s) {
		if strings.HasPrefix(l, "#") || strings.HasPrefix(l, ";") {
			continue
		}
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "nameserver":
			ns, _ := out["nameservers"].([]any)
			out["nameservers"] = append(ns, f[1])
		case "domain":
			out["domain"] = f[1]
		case "search", "sortlist":
			l := make([]any, 0, len(f)-1)
			for _, x := range f[1:] {
				l = append(l, x)
			}
			out[f[0]] = l
		case "options":
			o := map[string]any{}
			for _, x := range f[1:] {
				if k, v, ok := strings.Cut(x, ":"); ok {
					o[k] = v
				} else {
					o[x] = true
				}
			}
			out["options"] = o
		}
	}
	return out
}

// cmdlineFacts parses /proc/cmdline into cmdline (last value wins) and
// proc_cmdline (repeated keys become lists).
func cmdlineFacts(s string) (map[string]any, map[string]any) {
	cmd, proc := map[string]any{}, map[string]any{}
	for _, w := range strings.Fields(s) {
		k, v, ok := strings.Cut(w, "=")
		var val any = true
		if ok {
			val = v
		}
		cmd[k] = val
		if prev, dup := proc[k]; dup {
			if l, isList := prev.([]any); isList {
				proc[k] = append(l, val)
			} else {
				proc[k] = []any{prev, val}
			}
		} else {
			proc[k] = val
		}
	}
	return cmd, proc
}

func selinuxFacts(enforce string) map[string]any {
	switch strings.TrimSpace(enforce) {
	case "1":
		return map[string]any{"status": "enabled", "mode": "enforcing"}
	case "0":
		return map[string]any{"status": "enabled", "mode": "permissive"}
	}
	return map[string]any{"status": "disabled"}
}

// sshKeyFacts: ssh_host_key_<type>_public and _keytype per host key file.
func sshKeyFacts(secs []section) map[string]any {
	out := map[string]any{}
	for _, s := range secs {
		p, ok := strings.CutPrefix(s.key, "sshkey:")
		if !ok {
			continue
		}
		typ := strings.TrimSuffix(strings.TrimPrefix(path.Base(p), "ssh_host_"), "_key.pub")
		f := strings.Fields(s.value)
		if len(f) < 2 {
			continue
		}
		out["ssh_host_key_"+typ+"_public"] = f[1]
		out["ssh_host_key_"+typ+"_public_keytype"] = f[0]
	}
	return out
}

// lsbFacts reads /etc/lsb-release (lsb_release itself is not run).
func lsbFacts(s string) map[string]any {
	if s == "" {
		return nil
	}
	v := shellVars(s)
	out := map[string]any{}
	for k, name := range map[string]string{"DISTRIB_ID": "id", "DISTRIB_RELEASE": "release", "DISTRIB_DESCRIPTION": "description", "DISTRIB_CODENAME": "codename"} {
		if x, ok := v[k]; ok {
			out[name] = x
		}
	}
	if r, ok := out["release"].(string); ok {
		out["major_release"] = strings.Split(r, ".")[0]
	}
	return out
}

// dmiFacts are the DMI files read for the hardware facts, by fact name.
var dmiFacts = [][2]string{
	{"bios_date", "bios_date"}, {"bios_vendor", "bios_vendor"}, {"bios_version", "bios_version"},
	{"board_asset_tag", "board_asset_tag"}, {"board_name", "board_name"}, {"board_serial", "board_serial"},
	{"board_vendor", "board_vendor"}, {"board_version", "board_version"}, {"chassis_asset_tag", "chassis_asset_tag"},
	{"chassis_serial", "chassis_serial"}, {"chassis_vendor", "chassis_vendor"}, {"chassis_version", "chassis_version"},
	{"product_name", "product_name"}, {"product_serial", "product_serial"}, {"product_uuid", "product_uuid"},
	{"product_version", "product_version"}, {"system_vendor", "sys_vendor"},
}

var formFactors = []string{"Unknown", "Other", "Unknown", "Desktop", "Low Profile Desktop", "Pizza Box",
	"Mini Tower", "Tower", "Portable", "Laptop", "Notebook", "Hand Held", "Docking Station", "All In One",
	"Sub Notebook", "Space-saving", "Lunch Box", "Main Server Chassis", "Expansion Chassis", "Sub Chassis",
	"Bus Expansion Chassis", "Peripheral Chassis", "RAID Chassis", "Rack Mount Chassis", "Sealed-case PC",
	"Multi-system", "CompactPCI", "AdvancedTCA", "Blade", "Blade Enclosure", "Tablet", "Convertible",
	"Detachable", "IoT Gateway", "Embedded PC", "Mini PC", "Stick PC"}

// hardwareFacts: memory, processors, uptime and DMI, as Ansible's
// LinuxHardware (mounts, devices and LVM are not collected).
func hardwareFacts(m map[string]string, plat map[string]any) map[string]any {
	out := map[string]any{}
	mem := map[string]int{}
	for _, l := range lines(m["meminfo"]) {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		if f := strings.Fields(v); len(f) > 0 {
			if n, err := strconv.Atoi(f[0]); err == nil {
				mem[k] = n / 1024
			}
		}
	}
	if len(mem) > 0 {
		out["memtotal_mb"] = mem["MemTotal"]
		out["memfree_mb"] = mem["MemFree"]
		out["swaptotal_mb"] = mem["SwapTotal"]
		out["swapfree_mb"] = mem["SwapFree"]
		nocacheFree := mem["Cached"] + mem["MemFree"] + mem["Buffers"]
		out["memory_mb"] = map[string]any{
			"real":    map[string]any{"total": mem["MemTotal"], "free": mem["MemFree"], "used": mem["MemTotal"] - mem["MemFree"]},
			"nocache": map[string]any{"free": nocacheFree, "used": mem["MemTotal"] - nocacheFree},
			"swap": map[string]any{"total": mem["SwapTotal"], "free": mem["SwapFree"], "used": mem["SwapTotal"] - mem["SwapFree"],
				"cached": mem["SwapCached"]},
		}
	}
	arch, _ := plat["architecture"].(string)
	for k, v := range cpuFacts(m["cpuinfo"], arch) {
		out[k] = v
	}
	if n, err := strconv.Atoi(strings.TrimSpace(m["nproc"])); err == nil {
		out["processor_nproc"] = n
	}
	if f := strings.Fields(m["uptime"]); len(f) > 0 {
		if x, err := strconv.ParseFloat(f[0], 64); err == nil {
			out["uptime_seconds"] = int(x)
		}
	}
	for _, d := range dmiFacts {
		v, ok := m["dmi:"+d[1]]
		if !ok || strings.TrimSpace(v) == "" {
			v = "NA"
		}
		out[d[0]] = strings.TrimSpace(v)
	}
	out["form_factor"] = "NA"
	if n, err := strconv.Atoi(strings.TrimSpace(m["dmi:chassis_type"])); err == nil && n >= 0 && n < len(formFactors) {
		out["form_factor"] = formFactors[n]
	}
	return out
}

// cpuFacts ports Ansible's LinuxHardware.get_cpu_facts (without the Xen
// paravirtualisation case).
func cpuFacts(cpuinfo, arch string) map[string]any {
	var proc []any
	var vendors, models, procs, i int
	sockets := map[string]int{}
	var socketOrder []string
	cores := map[string]int{}
	var coreOrder []string
	physid, coreid := "0", "0"
	out := map[string]any{}
	setSocket := func(k string, v int) {
		if _, ok := sockets[k]; !ok {
			socketOrder = append(socketOrder, k)
		}
		sockets[k] = v
	}
	setCore := func(k string, v int) {
		if _, ok := cores[k]; !ok {
			coreOrder = append(coreOrder, k)
		}
		cores[k] = v
	}
	for _, l := range lines(cpuinfo) {
		k, v, _ := strings.Cut(l, ":")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "model name", "Processor", "vendor_id", "cpu", "Vendor", "processor":
			proc = append(proc, v)
			switch k {
			case "vendor_id":
				vendors++
			case "model name":
				models++
			case "processor":
				procs++
			}
			i++
		case "physical id":
			physid = v
			if _, ok := sockets[physid]; !ok {
				setSocket(physid, 1)
			}
		case "core id":
			coreid = v
			if _, ok := sockets[coreid]; !ok {
				setCore(coreid, 1)
			}
		case "cpu cores":
			n, _ := strconv.Atoi(v)
			setSocket(physid, n)
		case "siblings":
			n, _ := strconv.Atoi(v)
			setCore(coreid, n)
		case "# processors":
			n, _ := strconv.Atoi(v)
			out["processor_cores"] = n
		case "ncpus active":
			i, _ = strconv.Atoi(v)
		}
	}
	if cpuinfo == "" {
		return out
	}
	out["processor"] = proc
	if vendors > 0 && vendors == models {
		i = vendors
	}
	if strings.HasPrefix(arch, "armv") || strings.HasPrefix(arch, "aarch") || strings.HasPrefix(arch, "ppc") {
		i = procs
	}
	if arch == "s390x" {
		return out
	}
	count := i
	if len(sockets) > 0 {
		count = len(sockets)
	}
	nc := 1
	if len(socketOrder) > 0 && sockets[socketOrder[0]] != 0 {
		nc = sockets[socketOrder[0]]
	}
	tpc := 1 / nc
	if len(coreOrder) > 0 {
		tpc = cores[coreOrder[0]] / nc
	}
	out["processor_count"] = count
	out["processor_cores"] = nc
	out["processor_threads_per_core"] = tpc
	out["processor_vcpus"] = tpc * count * nc
	out["processor_nproc"] = procs
	return out
}

// ifaceInfo is what the script reads of /sys/class/net/NAME.
type ifaceInfo struct {
	name, mac, typ string
	mtu            int
	active         bool
	promisc        bool
	ipv4           []map[string]any
	ipv6           []any
}

// networkFacts: interfaces, one fact per interface, all_ipv4_addresses,
// all_ipv6_addresses, default_ipv4 and default_ipv6, as Ansible's
// LinuxNetwork (from /proc and /sys, and `ip -o -4 addr` when present).
func networkFacts(secs []section, m map[string]string) map[string]any {
	ifs := map[string]*ifaceInfo{}
	var names []string
	for _, s := range secs {
		n, ok := strings.CutPrefix(s.key, "if:")
		if !ok {
			continue
		}
		f := strings.Fields(s.value)
		for len(f) < 5 {
			f = append(f, "")
		}
		ii := &ifaceInfo{name: n, mac: f[0], active: f[3] != "down"}
		ii.mtu, _ = strconv.Atoi(f[1])
		if fl, err := strconv.ParseUint(strings.TrimPrefix(f[4], "0x"), 16, 32); err == nil {
			ii.promisc = fl&0x100 != 0
		}
		switch {
		case len(f) > 5 && f[5] == "bridge":
			ii.typ = "bridge"
		case f[2] == "1":
			ii.typ = "ether"
		case f[2] == "772":
			ii.typ = "loopback"
		case f[2] == "512":
			ii.typ = "ppp"
		default:
			ii.typ = "unknown"
		}
		ifs[n] = ii
		names = append(names, n)
	}
	routes := parseRoutes(m["route"])
	if ip4, ok := m["ip4"]; ok {
		for _, l := range lines(ip4) {
			parseIPAddrLine(l, ifs)
		}
	} else {
		for _, a := range fibTrieLocal(m["fib_trie"]) {
			r, ok := routeFor(a, routes)
			if !ok {
				continue
			}
			ii := ifs[r.iface]
			if ii == nil {
				continue
			}
			prefix := bitsOf(r.mask)
			bcast := ""
			if ii.typ != "loopback" {
				bcast = ipString(r.dest | ^r.mask)
			}
			ii.ipv4 = append(ii.ipv4, ipv4Entry(a, prefix, bcast))
		}
	}
	for _, l := range lines(m["if_inet6"]) {
		f := strings.Fields(l)
		if len(f) < 6 || ifs[f[5]] == nil {
			continue
		}
		p, _ := strconv.ParseUint(f[2], 16, 8)
		ifs[f[5]].ipv6 = append(ifs[f[5]].ipv6, map[string]any{
			"address": ipv6String(f[0]), "prefix": strconv.Itoa(int(p)), "scope": ipv6Scope(f[3]),
		})
	}
	out := map[string]any{}
	all4, all6 := []any{}, []any{}
	ifaceList := []any{}
	for _, n := range names {
		ii := ifs[n]
		ifaceList = append(ifaceList, n)
		f := map[string]any{"device": n, "active": ii.active, "type": ii.typ, "mtu": ii.mtu, "promisc": ii.promisc}
		if ii.mac != "" && ii.mac != "00:00:00:00:00:00" {
			f["macaddress"] = ii.mac
		}
		if len(ii.ipv4) > 0 {
			f["ipv4"] = ii.ipv4[0]
			if len(ii.ipv4) > 1 {
				sec := make([]any, 0, len(ii.ipv4)-1)
				for _, a := range ii.ipv4[1:] {
					sec = append(sec, a)
				}
				f["ipv4_secondaries"] = sec
			}
			for _, a := range ii.ipv4 {
				if addr := a["address"].(string); !strings.HasPrefix(addr, "127.") {
					all4 = append(all4, addr)
				}
			}
		}
		if len(ii.ipv6) > 0 {
			f["ipv6"] = ii.ipv6
			for _, a := range ii.ipv6 {
				if addr := a.(map[string]any)["address"].(string); addr != "::1" {
					all6 = append(all6, addr)
				}
			}
		}
		out[strings.NewReplacer("-", "_", ":", "_", ".", "_").Replace(n)] = f
	}
	out["interfaces"] = ifaceList
	out["all_ipv4_addresses"] = all4
	out["all_ipv6_addresses"] = all6
	out["default_ipv4"] = map[string]any{}
	if r, ok := defaultRoute(routes); ok {
		if ii := ifs[r.iface]; ii != nil {
			d := map[string]any{"interface": r.iface, "gateway": ipString(r.gateway), "type": ii.typ, "mtu": ii.mtu}
			if ii.mac != "" && ii.mac != "00:00:00:00:00:00" {
				d["macaddress"] = ii.mac
			}
			if len(ii.ipv4) > 0 {
				for k, v := range ii.ipv4[0] {
					d[k] = v
				}
				d["alias"] = r.iface
				if l, ok := ii.ipv4[0]["label"].(string); ok {
					d["alias"] = l
				}
				delete(d, "label")
			}
			out["default_ipv4"] = d
		}
	}
	out["default_ipv6"] = map[string]any{}
	for _, l := range lines(m["ipv6_route"]) {
		f := strings.Fields(l)
		if len(f) < 10 || f[0] != strings.Repeat("0", 32) || f[1] != "00" || f[4] == strings.Repeat("0", 32) {
			continue
		}
		ii := ifs[f[9]]
		if ii == nil {
			continue
		}
		d := map[string]any{"interface": f[9], "gateway": ipv6String(f[4]), "type": ii.typ, "mtu": ii.mtu}
		if ii.mac != "" {
			d["macaddress"] = ii.mac
		}
		for _, a := range ii.ipv6 {
			if am := a.(map[string]any); am["scope"] == "global" {
				for k, v := range am {
					d[k] = v
				}
				break
			}
		}
		out["default_ipv6"] = d
		break
	}
	return out
}

// parseIPAddrLine reads one line of `ip -o -4 addr show`:
// "2: eth0    inet 10.0.0.5/24 brd 10.0.0.255 scope global eth0\ ...".
func parseIPAddrLine(l string, ifs map[string]*ifaceInfo) {
	l, _, _ = strings.Cut(l, `\`)
	f := strings.Fields(l)
	if len(f) < 4 || f[2] != "inet" {
		return
	}
	dev, _, _ := strings.Cut(f[1], "@")
	ii := ifs[dev]
	if ii == nil {
		return
	}
	addr, pfx, _ := strings.Cut(f[3], "/")
	prefix, err := strconv.Atoi(pfx)
	if err != nil {
		prefix = 32
	}
	bcast := ""
	for j := 4; j+1 < len(f); j++ {
		if f[j] == "brd" {
			bcast = f[j+1]
		}
	}
	e := ipv4Entry(addr, prefix, bcast)
	if label := f[len(f)-1]; label != dev && f[len(f)-2] != "scope" {
		e["label"] = label
	}
	ii.ipv4 = append(ii.ipv4, e)
}

func ipv4Entry(addr string, prefix int, bcast string) map[string]any {
	mask := uint32(0)
	if prefix > 0 {
		mask = ^uint32(0) << (32 - prefix)
	}
	return map[string]any{
		"address": addr, "broadcast": bcast, "netmask": ipString(mask),
		"network": ipString(ipValue(addr) & mask), "prefix": strconv.Itoa(prefix),
	}
}

// route is one /proc/net/route line, addresses in host order.
type route struct {
	iface               string
	dest, gateway, mask uint32
	metric              int
	flags               uint64
}

func parseRoutes(s string) []route {
	var out []route
	for i, l := range lines(s) {
		f := strings.Fields(l)
		if i == 0 || len(f) < 8 {
			continue
		}
		hex := func(x string) uint32 {
			n, _ := strconv.ParseUint(x, 16, 32)
			// /proc/net/route prints addresses in the kernel's (little-endian) byte order.
			return uint32(n)>>24 | uint32(n)>>8&0xff00 | uint32(n)<<8&0xff0000 | uint32(n)<<24
		}
		r := route{iface: f[0], dest: hex(f[1]), gateway: hex(f[2]), mask: hex(f[7])}
		r.flags, _ = strconv.ParseUint(f[3], 16, 32)
		r.metric, _ = strconv.Atoi(f[6])
		out = append(out, r)
	}
	return out
}

// defaultRoute is the up default route with the lowest metric.
func defaultRoute(rs []route) (route, bool) {
	var best route
	found := false
	for _, r := range rs {
		if r.dest == 0 && r.mask == 0 && r.flags&1 != 0 && (!found || r.metric < best.metric) {
			best, found = r, true
		}
	}
	return best, found
}

// routeFor is the most specific directly connected route holding addr.
func routeFor(addr string, rs []route) (route, bool) {
	a := ipValue(addr)
	var best route
	found := false
	for _, r := range rs {
		if r.gateway != 0 || r.mask == 0 || a&r.mask != r.dest {
			continue
		}
		if !found || r.mask > best.mask {
			best, found = r, true
		}
	}
	if !found && strings.HasPrefix(addr, "127.") {
		return route{iface: "lo", dest: ipValue("127.0.0.0"), mask: ipValue("255.0.0.0")}, true
	}
	return best, found
}

// fibTrieLocal lists the local addresses of /proc/net/fib_trie (the
// entries followed by "/32 host LOCAL").
func fibTrieLocal(s string) []string {
	var out []string
	seen := map[string]bool{}
	last := ""
	for _, l := range lines(s) {
		t := strings.TrimSpace(l)
		if a, ok := strings.CutPrefix(t, "|-- "); ok {
			last = a
			continue
		}
		if strings.HasPrefix(t, "/32 host LOCAL") && last != "" && !seen[last] {
			seen[last] = true
			out = append(out, last)
		}
	}
	return out
}

func bitsOf(mask uint32) int {
	n := 0
	for mask&0x80000000 != 0 {
		n++
		mask <<= 1
	}
	return n
}

func ipValue(s string) uint32 {
	var v uint32
	for i, p := range strings.SplitN(s, ".", 4) {
		n, _ := strconv.Atoi(p)
		v |= uint32(n&0xff) << (24 - 8*i)
	}
	return v
}

func ipString(v uint32) string {
	return fmt.Sprintf("%d.%d.%d.%d", v>>24, v>>16&0xff, v>>8&0xff, v&0xff)
}

// ipv6String formats 32 hex digits as an IPv6 address in its short form.
func ipv6String(h string) string {
	b, err := hexBytes(h)
	if err != nil || len(b) != 16 {
		return h
	}
	return netip.AddrFrom16([16]byte(b)).String()
}

func hexBytes(h string) ([]byte, error) {
	out := make([]byte, len(h)/2)
	for i := range out {
		n, err := strconv.ParseUint(h[2*i:2*i+2], 16, 8)
		if err != nil {
			return nil, err
		}
		out[i] = byte(n)
	}
	return out, nil
}

func ipv6Scope(hex string) string {
	switch hex {
	case "00":
		return "global"
	case "10":
		return "host"
	case "20":
		return "link"
	case "40":
		return "site"
	}
	return hex
}
