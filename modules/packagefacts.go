package modules

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// PackageFacts is the package_facts module: it sets the fact packages, a
// mapping from each installed package's name to a list of its installed
// versions ({name, version, arch, source, ...} as Ansible's managers
// report them), in one round trip. It changes nothing.
//
// Ansible reads the apt and rpm databases through Python bindings; this
// module asks the command-line tools instead: dpkg-query for apt (which
// does not know apt's origin, so that key is absent), rpm -qa for rpm,
// apk info -v and pacman -Qi as Ansible does.
type PackageFacts struct{}

var _ Module = PackageFacts{}

// Spec describes package_facts' arguments.
func (PackageFacts) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "manager", Type: TypeList, Default: []any{"auto"}},
			{Name: "strategy", Type: TypeStr, Default: "first", Choices: []string{"first", "all"}},
		},
		CheckMode: true,
	}
}

// pkgfactsManagers are Ansible's package managers in its auto-detection
// order, each with the shell code that lists its packages when it is
// usable here ("" for those mdo-play does not read).
var pkgfactsManagers = []struct{ name, test, list string }{
	// An rpm binary on a dpkg system has an empty database: as Ansible
	// without the rpm bindings, it is not usable then.
	{"rpm", `command -v rpm >/dev/null 2>&1 && [ -n "$(rpm -qa 2>/dev/null | head -n 1)" ]`,
		`rpm -qa --qf '%{NAME}\t%{VERSION}\t%{RELEASE}\t%{EPOCH}\t%{ARCH}\n'`},
	{"apt", `command -v dpkg-query >/dev/null 2>&1 && _mdo_f arch "$(dpkg --print-architecture 2>/dev/null)"`,
		`dpkg-query -W -f='${db:Status-Status}\t${Package}\t${Version}\t${Architecture}\t${Section}\n'`},
	{"pacman", `command -v pacman >/dev/null 2>&1`, `LC_ALL=C pacman -Qi`},
	{"pkg", "", ""},
	{"portage", "", ""},
	{"apk", `command -v apk >/dev/null 2>&1`, `apk info -v`},
	{"pkg_info", "", ""},
}

// pkgfactsAliases maps Ansible's manager aliases to the managers.
var pkgfactsAliases = map[string]string{
	"dnf": "rpm", "dnf5": "rpm", "yum": "rpm", "zypper": "rpm",
	"pkg5": "pkg", "pkgng": "pkg", "openbsd_pkg": "pkg_info",
}

// Run lists the packages.
func (PackageFacts) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	requested := args.Strings("manager")
	known := map[string]bool{}
	var all []string
	for _, m := range pkgfactsManagers {
		known[m.name] = true
		all = append(all, m.name)
	}
	for a := range pkgfactsAliases {
		known[a] = true
	}
	var names, unsupported []string
	auto := false
	for _, m := range requested {
		m = strings.ToLower(m)
		switch {
		case m == "auto":
			auto = true
		case !known[m]:
			unsupported = append(unsupported, m)
		default:
			names = append(names, m)
		}
	}
	if auto {
		names = append(names, all...)
	}
	if len(unsupported) > 0 {
		msg := "Unsupported package managers requested: " + strings.Join(unsupported, ", ")
		if auto {
			msg = "Could not auto detect a usable package manager, check warnings for details."
		}
		return Result{Failed: true, Msg: msg}, nil
	}
	var sc strings.Builder
	var warnings []string
	seen := map[string]bool{}
	var tried []string
	for _, n := range names {
		if a, ok := pkgfactsAliases[n]; ok {
			n = a
		}
		if seen[n] {
			continue
		}
		seen[n] = true
		tried = append(tried, n)
		for _, m := range pkgfactsManagers {
			if m.name != n {
				continue
			}
			explicit := contains(requested, n)
			if m.test == "" {
				if explicit {
					warnings = append(warnings, "Requested package manager "+n+" was not usable by this module: mdo-play does not read its database")
				}
				continue
			}
			fmt.Fprintf(&sc, "if %s; then\n  if _mdo_o=$(%s 2>&1); then _mdo_f list %s; _mdo_f out \"$_mdo_o\"%s\n  else _mdo_f err %s; _mdo_f out \"$_mdo_o\"; fi\nfi\n",
				m.test, m.list, n, map[bool]string{true: "; exit 0", false: ""}[args.String("strategy") == "first"], n)
		}
	}
	f, res, err := runScript(ctx, env, "package_facts", sc.String(), nil)
	if err != nil {
		return Result{}, err
	}
	if res.RC != 0 {
		return scriptFailure("package_facts", res), nil
	}
	packages := map[string]any{}
	found := 0
	for i := 0; i+1 < len(f); i++ {
		k, mgr := f[i].k, f[i].v
		if (k != "list" && k != "err") || f[i+1].k != "out" {
			continue
		}
		out := f[i+1].v
		if k == "err" {
			if contains(requested, mgr) {
				warnings = append(warnings, fmt.Sprintf("Failed to retrieve packages with %s: %s", mgr, strings.TrimSpace(out)))
			}
			continue
		}
		found++
		var list []map[string]any
		switch mgr {
		case "apt":
			list = pkgfactsApt(out, f.str("arch"))
		case "rpm":
			list = pkgfactsRpm(out)
		case "pacman":
			list = pkgfactsPacman(out)
		case "apk":
			list = pkgfactsApk(out)
		}
		byName := map[string]any{}
		for _, p := range list {
			p["source"] = mgr
			name := p["name"].(string)
			prev, _ := byName[name].([]any)
			byName[name] = append(prev, p)
		}
		for k, v := range byName {
			packages[k] = v
		}
	}
	if found == 0 {
		q := make([]string, len(tried))
		for i, n := range tried {
			q[i] = "'" + n + "'"
		}
		return Result{Failed: true, Warnings: warnings, Msg: "Could not detect a supported package manager from the following list: [" + strings.Join(q, ", ") +
			"], or the required Python library is not installed. Check warnings for details."}, nil
	}
	facts := map[string]any{"packages": packages}
	return Result{Facts: facts, Warnings: warnings}, nil
}

// pkgfactsApt reads dpkg-query's lines: status, package, version,
// architecture, section. A package of another architecture than the
// system's is named name:arch, as python-apt's cache names it.
func pkgfactsApt(out, native string) []map[string]any {
	var list []map[string]any
	for _, line := range SplitLines(out) {
		f := strings.Split(line, "\t")
		if len(f) < 5 || f[0] == "not-installed" || f[0] == "config-files" || f[0] == "" {
			continue
		}
		name := f[1]
		if native != "" && f[3] != native && f[3] != "all" && !strings.Contains(name, ":") {
			name += ":" + f[3]
		}
		list = append(list, map[string]any{"name": name, "version": f[2], "arch": f[3], "category": f[4]})
	}
	return list
}

// pkgfactsRpm reads rpm's query lines; the epoch is a number or null.
func pkgfactsRpm(out string) []map[string]any {
	var list []map[string]any
	for _, line := range SplitLines(out) {
		f := strings.Split(line, "\t")
		if len(f) < 5 {
			continue
		}
		var epoch any
		if n, err := strconv.Atoi(f[3]); err == nil {
			epoch = n
		}
		list = append(list, map[string]any{"name": f[0], "version": f[1], "release": f[2], "epoch": epoch, "arch": f[4]})
	}
	return list
}

// pkgfactsApk splits apk info -v's name-version-release words.
func pkgfactsApk(out string) []map[string]any {
	var list []map[string]any
	for _, line := range SplitLines(out) {
		if line == "" || strings.HasPrefix(line, "WARNING") {
			continue
		}
		i := strings.LastIndex(line, "-")
		j := -1
		if i > 0 {
			j = strings.LastIndex(line[:i], "-")
		}
		if j < 0 {
			list = append(list, map[string]any{"name": line, "version": "", "release": ""})
			continue
		}
		list = append(list, map[string]any{"name": line[:j], "version": line[j+1 : i], "release": line[i+1:]})
	}
	return list
}

var pkgfactsPacmanLine = regexp.MustCompile(`^([\w ]*[\w]) +: (.*)`)

// pkgfactsPacman reads pacman -Qi's blocks as Ansible's PACMAN does: a
// line without "Key : " continues the previous value.
func pkgfactsPacman(out string) []map[string]any {
	var list []map[string]any
	for _, block := range strings.Split(out, "\n\n") {
		if strings.TrimSpace(block) == "" {
			continue
		}
		raw := map[string]string{}
		last := ""
		for _, line := range strings.Split(block, "\n") {
			if m := pkgfactsPacmanLine.FindStringSubmatch(line); m != nil {
				last = m[1]
				raw[last] = m[2]
			} else if last != "" {
				raw[last] += "  " + strings.TrimLeft(line, " \t")
			}
		}
		var provides any
		if p, ok := raw["Provides"]; ok && p != "None" {
			var l []any
			for _, x := range strings.Split(p, "  ") {
				l = append(l, strings.SplitN(x, "=", 2)[0])
			}
			provides = l
		}
		list = append(list, map[string]any{"name": raw["Name"], "version": raw["Version"], "arch": raw["Architecture"], "provides": provides})
	}
	return list
}
