package modules

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strings"

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
