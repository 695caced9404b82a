package modules

// Platform and distribution facts: uname, os-release and the release files, the package and service managers, lsb.

import (
	"path"
	"regexp"
	"strconv"
	"strings"
)

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
	reSlackwareVer = regexp.MustCompile(`\w+[.]\w+\+?`)
)

// distSource is what the facts script read for the distribution: the
// os-release text, its variables, and the release files by path.
type distSource struct {
	m   map[string]string
	osr string
	ov  map[string]string
}

// file returns the trimmed content of the release file p, and whether the
// script found it.
func (d *distSource) file(p string) (string, bool) {
	v, ok := d.m["file:"+p]
	return strings.Trim(strings.TrimSpace(v), `'"\`), ok
}

// distributionFacts ports Ansible's DistributionFiles for Linux: a guess
// from os-release (as the distro library gives it), then the first release
// file that parses, in Ansible's order (releaseFiles).
func distributionFacts(m map[string]string) map[string]any {
	d := &distSource{m: m, osr: m["os-release"], ov: shellVars(m["os-release"])}
	out := d.guess()
	for _, parse := range releaseFiles {
		if name, path, parsed, ok := parse(d, out); ok {
			out["distribution"] = name
			out["distribution_file_path"] = path
			out["distribution_file_variety"] = name
			out["distribution_file_parsed"] = true
			for k, v := range parsed {
				out[k] = v
			}
			break
		}
	}
	out["os_family"] = osFamily(out["distribution"].(string))
	return out
}

// guess is the distribution as os-release alone gives it
// (sys_info.get_distribution and friends).
func (d *distSource) guess() map[string]any {
	id := strings.ToLower(d.ov["ID"])
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
		if d.osr == "" {
			dist = "NA"
		}
	}
	version := d.ov["VERSION_ID"]
	if dv, ok := d.file("/etc/debian_version"); ok && id == "debian" && reVersionNum.MatchString(dv) && strings.Count(dv, ".") >= strings.Count(version, ".") {
		version = dv
	}
	if id == "centos" {
		if cv, ok := d.file("/etc/centos-release"); ok {
			if mm := reCentOSBestVe.FindStringSubmatch(cv); mm != nil {
				version = mm[1]
			}
		}
		if p := strings.SplitN(version, ".", 3); len(p) > 2 {
			version = p[0] + "." + p[1]
		}
	}
	release, hasRelease := d.ov["VERSION_CODENAME"]
	if !hasRelease {
		release, hasRelease = d.ov["UBUNTU_CODENAME"]
	}
	if !hasRelease {
		if mm := reCodename.FindStringSubmatch(d.ov["VERSION"]); mm != nil {
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
	return out
}

// releaseParser reads one release file: the distribution name (also the
// file's variety), its path and the facts it gives, when it applies. guess
// is the os-release guess so far.
type releaseParser func(d *distSource, guess map[string]any) (name, path string, parsed map[string]any, ok bool)

// searchOrFirst is Ansible's parse for files named after their
// distribution: the name when the file mentions search, else the file's
// first word.
func searchOrFirst(name, path, search string) releaseParser {
	return func(d *distSource, _ map[string]any) (string, string, map[string]any, bool) {
		c, ok := d.file(path)
		if !ok {
			return "", "", nil, false
		}
		dist := name
		if !strings.Contains(c, search) {
			if f := strings.Fields(c); len(f) > 0 {
				dist = f[0]
			}
		}
		return name, path, map[string]any{"distribution": dist}, true
	}
}

// releaseFiles are the release-file parsers in Ansible's order; the first
// that applies decides.
var releaseFiles = []releaseParser{
	searchOrFirst("Altlinux", "/etc/altlinux-release", "ALT"),
	searchOrFirst("OracleLinux", "/etc/oracle-release", "Oracle Linux"),
	slackwareRelease,
	centOSRelease,
	searchOrFirst("RedHat", "/etc/redhat-release", "Red Hat"),
	openWrtRelease,
	amazonRelease,
	func(d *distSource, _ map[string]any) (string, string, map[string]any, bool) {
		c, ok := d.file("/etc/system-release")
		return "Amazon", "/etc/system-release", nil, ok && strings.Contains(c, "Amazon")
	},
	func(d *distSource, _ map[string]any) (string, string, map[string]any, bool) {
		c, ok := d.file("/etc/alpine-release")
		return "Alpine", "/etc/alpine-release", map[string]any{"distribution_version": c}, ok
	},
	func(d *distSource, _ map[string]any) (string, string, map[string]any, bool) {
		_, ok := d.m["file:/etc/arch-release"]
		return "Archlinux", "/etc/arch-release", nil, ok
	},
	func(d *distSource, _ map[string]any) (string, string, map[string]any, bool) {
		return "Archlinux", "/etc/os-release", nil, strings.Contains(d.osr, "Arch Linux")
	},
	suseRelease,
	func(d *distSource, _ map[string]any) (string, string, map[string]any, bool) {
		p, ok := debianFacts(d.osr, d.m)
		return "Debian", "/etc/os-release", p, ok
	},
	func(d *distSource, _ map[string]any) (string, string, map[string]any, bool) {
		p, ok := debianFacts(d.m["file:/etc/lsb-release"], d.m)
		return "Debian", "/etc/lsb-release", p, ok
	},
	otherOSRelease,
}

func slackwareRelease(d *distSource, _ map[string]any) (string, string, map[string]any, bool) {
	c, ok := d.file("/etc/slackware-version")
	if !ok || !strings.Contains(c, "Slackware") {
		return "", "", nil, false
	}
	p := map[string]any{}
	if v := reSlackwareVer.FindString(c); v != "" {
		p["distribution_version"] = v
	}
	return "Slackware", "/etc/slackware-version", p, true
}

func centOSRelease(d *distSource, _ map[string]any) (string, string, map[string]any, bool) {
	c, ok := d.file("/etc/centos-release")
	switch {
	case ok && strings.Contains(c, "CentOS Stream"):
		return "CentOS", "/etc/centos-release", map[string]any{"distribution_release": "Stream"}, true
	case ok && strings.Contains(c, "TencentOS Server"):
		return "CentOS", "/etc/centos-release", map[string]any{"distribution": "TencentOS"}, true
	}
	return "", "", nil, false
}

func openWrtRelease(d *distSource, _ map[string]any) (string, string, map[string]any, bool) {
	c, ok := d.file("/etc/openwrt_release")
	if !ok || !strings.Contains(c, "OpenWrt") {
		return "", "", nil, false
	}
	p := map[string]any{}
	if mm := reOpenWrtVer.FindStringSubmatch(c); mm != nil {
		p["distribution_version"] = mm[1]
	}
	if mm := reOpenWrtCode.FindStringSubmatch(c); mm != nil {
		p["distribution_release"] = mm[1]
	}
	return "OpenWrt", "/etc/openwrt_release", p, true
}

func amazonRelease(d *distSource, _ map[string]any) (string, string, map[string]any, bool) {
	if !strings.Contains(d.osr, "Amazon") {
		return "", "", nil, false
	}
	p := map[string]any{}
	if mm := reQuotedVer.FindStringSubmatch(d.osr); mm != nil {
		v := mm[1]
		p["distribution_version"] = v
		major, minor, ok := strings.Cut(v, ".")
		if !ok {
			minor = "NA"
		}
		p["distribution_major_version"], p["distribution_minor_version"] = major, minor
	}
	return "Amazon", "/etc/os-release", p, true
}

func suseRelease(d *distSource, _ map[string]any) (string, string, map[string]any, bool) {
	low := strings.ToLower(d.osr)
	if !strings.Contains(low, "suse") {
		return "", "", nil, false
	}
	p := map[string]any{}
	for _, line := range strings.Split(d.osr, "\n") {
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
	return "SUSE", "/etc/os-release", p, true
}

// otherOSRelease is the last resort: an os-release no parser knew.
func otherOSRelease(d *distSource, guess map[string]any) (string, string, map[string]any, bool) {
	if d.osr == "" {
		return "", "", nil, false
	}
	p := map[string]any{}
	if n, ok := d.ov["NAME"]; ok {
		p["distribution"] = n
	}
	if v, ok := d.ov["VERSION"]; ok && guess["distribution_version"] == "NA" {
		p["distribution_version"] = v
	}
	return "NA", "/etc/os-release", p, true
}

// debianFacts is parse_distribution_file_Debian for the common members of
// the family: the facts it gives, and whether data is of that family.
func debianFacts(data string, m map[string]string) (map[string]any, bool) {
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
	return pf, true
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
