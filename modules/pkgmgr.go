package modules

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// Apt, Dnf, Yum and Package manage packages. Each call is one shell script
// on the target: it reads the installed state (dpkg-query or rpm -q), decides
// which packages need work and runs the package manager once for all of
// them, so an unchanged host costs one round trip and no package manager
// run. The three backends share the request, the script skeleton and the
// result parsing; only the state tests and command lines differ.

// Apt is the apt module.
type Apt struct{}

// Dnf is the dnf module.
type Dnf struct{}

// Yum is the yum module (run with yum, or dnf where yum is missing).
type Yum struct{}

// Package is the generic package module: it picks apt, dnf or yum by what
// exists on the target, inside the same script.
type Package struct{}

var (
	_ Module = Apt{}
	_ Module = Dnf{}
	_ Module = Yum{}
	_ Module = Package{}
)

// pkgRequest is what a package module call asks for, backend-neutral.
type pkgRequest struct {
	names             []string
	state             string // present, absent, latest
	updateCache       bool
	cacheValidTime    int
	purge             bool
	autoremove        bool
	deb               string
	installRecommends *bool
	onlyUpgrade       bool
	force             bool
	allowUnauth       bool
	allowDowngrade    bool
	defaultRelease    string
	dpkgOptions       string
	lockTimeout       int
	check             bool
}

// Spec describes apt's arguments.
func (Apt) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "name", Aliases: []string{"package", "pkg"}, Type: TypeList},
			{Name: "state", Type: TypeStr, Default: "present", Choices: []string{"absent", "latest", "present"}},
			{Name: "update_cache", Aliases: []string{"update-cache"}, Type: TypeBool},
			{Name: "cache_valid_time", Type: TypeInt, Default: 0},
			{Name: "purge", Type: TypeBool, Default: false},
			{Name: "autoremove", Type: TypeBool},
			{Name: "deb", Type: TypePath},
			{Name: "install_recommends", Aliases: []string{"install-recommends"}, Type: TypeBool},
			{Name: "only_upgrade", Type: TypeBool, Default: false},
			{Name: "force", Type: TypeBool, Default: false},
			{Name: "allow_unauthenticated", Aliases: []string{"allow-unauthenticated"}, Type: TypeBool, Default: false},
			{Name: "allow_downgrade", Aliases: []string{"allow-downgrade", "allow_downgrades", "allow-downgrades"}, Type: TypeBool, Default: false},
			{Name: "default_release", Aliases: []string{"default-release"}, Type: TypeStr},
			{Name: "dpkg_options", Type: TypeStr, Default: "force-confdef,force-confold"},
			{Name: "lock_timeout", Type: TypeInt, Default: 60},
			{Name: "policy_rc_d", Type: TypeInt},
		},
		CheckMode:         true,
		MutuallyExclusive: [][]string{{"deb", "name"}},
		RequiredOneOf:     [][]string{{"name", "deb", "update_cache", "autoremove"}},
	}
}

// Run installs, upgrades or removes packages with apt-get or dpkg.
func (Apt) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	req, bad := pkgRequestFrom(args, env.Check)
	if bad != "" {
		return Result{Failed: true, Msg: bad}, nil
	}
	if req.deb != "" && req.state != "present" {
		return Result{Failed: true, Msg: "deb only supports state=present"}, nil
	}
	script := aptScript(req)
	if args.Has("policy_rc_d") && !env.Check {
		// As Ansible's apt: /usr/sbin/policy-rc.d answers policy_rc_d to
		// invoke-rc.d while apt runs (services of installed packages are
		// not started with 101), and the previous file comes back after.
		script = fmt.Sprintf(`_mdo_prc=/usr/sbin/policy-rc.d
if [ -e "$_mdo_prc" ]; then mv -f -- "$_mdo_prc" "$_mdo_prc.mdo-backup"; fi
trap 'rm -f "$_mdo_prc"; if [ -e "$_mdo_prc.mdo-backup" ]; then mv -f -- "$_mdo_prc.mdo-backup" "$_mdo_prc"; fi' EXIT
printf '#!/bin/sh\nexit %d\n' >"$_mdo_prc" && chmod 0755 "$_mdo_prc"
(
%s)
`, args.Int("policy_rc_d"), script)
	}
	return runPkg(ctx, env, "apt", script, req)
}

// Spec describes dnf's arguments.
func (Dnf) Spec() *Spec { return rpmSpec() }

// Run manages packages with dnf.
func (Dnf) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	return runRPM(ctx, env, args, "dnf")
}

// Spec describes yum's arguments.
func (Yum) Spec() *Spec { return rpmSpec() }

// Run manages packages with yum.
func (Yum) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	return runRPM(ctx, env, args, "yum")
}

func rpmSpec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "name", Aliases: []string{"pkg"}, Type: TypeList},
			{Name: "state", Type: TypeStr, Default: "present", Choices: []string{"absent", "installed", "latest", "present", "removed"}},
			{Name: "update_cache", Aliases: []string{"expire-cache"}, Type: TypeBool},
			{Name: "autoremove", Type: TypeBool},
			{Name: "disable_gpg_check", Type: TypeBool, Default: false},
			{Name: "enablerepo", Type: TypeList},
			{Name: "disablerepo", Type: TypeList},
		},
		CheckMode:     true,
		RequiredOneOf: [][]string{{"name", "update_cache", "autoremove"}},
	}
}

func runRPM(ctx context.Context, env *Env, args Args, tool string) (Result, error) {
	req, bad := pkgRequestFrom(args, env.Check)
	if bad != "" {
		return Result{Failed: true, Msg: bad}, nil
	}
	return runPkg(ctx, env, tool, rpmScript(tool, req, rpmExtra(args)), req)
}

// rpmExtra returns the dnf/yum options for repos and GPG checks.
func rpmExtra(args Args) []string {
	var o []string
	if args.Bool("disable_gpg_check") {
		o = append(o, "--nogpgcheck")
	}
	for _, r := range args.Strings("disablerepo") {
		o = append(o, "--disablerepo="+r)
	}
	for _, r := range args.Strings("enablerepo") {
		o = append(o, "--enablerepo="+r)
	}
	return o
}

// Spec describes package's arguments.
func (Package) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "name", Type: TypeList, Required: true},
			// Ansible documents state as required, but its package action
			// hands the arguments to apt/dnf/yum unchecked, whose default
			// is present: `package: name=redis` installs (DavidWittman's
			// redis role relies on it).
			{Name: "state", Type: TypeStr, Default: "present", Choices: []string{"absent", "installed", "latest", "present", "removed"}},
			{Name: "use", Type: TypeStr, Default: "auto", Choices: []string{"auto", "apt", "dnf", "yum"}},
			// Passed through to the backend, as Ansible's package does.
			{Name: "allow_downgrade", Type: TypeBool, Default: false},
			{Name: "enablerepo", Type: TypeList},
			{Name: "disablerepo", Type: TypeList},
			{Name: "disable_gpg_check", Type: TypeBool, Default: false},
		},
		CheckMode: true,
	}
}

// Run manages packages with whichever of apt-get, dnf and yum the target
// has (or the one named by use), deciding on the target in the same script.
func (Package) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	req, bad := pkgRequestFrom(args, env.Check)
	if bad != "" {
		return Result{Failed: true, Msg: bad}, nil
	}
	type backend struct{ name, probe, script string }
	aptPart := aptScript(req)
	// Arguments apt does not have fail there, as Ansible's apt module
	// refuses them.
	var rpmOnly []string
	for _, n := range []string{"disable_gpg_check", "disablerepo", "enablerepo"} {
		if args.Has(n) && (len(args.Strings(n)) > 0 || args.Bool(n)) {
			rpmOnly = append(rpmOnly, n)
		}
	}
	if len(rpmOnly) > 0 {
		aptPart = "_mdo_f error " + conn.Quote("Unsupported parameters for (apt) module: "+strings.Join(rpmOnly, ", ")) + "\nexit 0\n"
	}
	all := []backend{
		{"apt", "apt-get", aptPart},
		{"dnf", "dnf", rpmScript("dnf", req, rpmExtra(args))},
		{"yum", "yum", rpmScript("yum", req, rpmExtra(args))},
	}
	use := args.String("use")
	var sc strings.Builder
	kw := "if"
	for _, b := range all {
		if use != "auto" && use != b.name {
			continue
		}
		fmt.Fprintf(&sc, "%s command -v %s >/dev/null 2>&1; then\n_mdo_f use %s\n(\n%s)\n", kw, b.probe, b.name, b.script)
		kw = "elif"
	}
	sc.WriteString("else _mdo_f error 'Could not find a package manager on the target (looked for apt-get, dnf and yum)'\nfi\n")
	return runPkg(ctx, env, "package", sc.String(), req)
}

// pkgRequestFrom reads the arguments all package modules share.
func pkgRequestFrom(args Args, check bool) (pkgRequest, string) {
	r := pkgRequest{
		state:          args.String("state"),
		updateCache:    args.Bool("update_cache"),
		cacheValidTime: args.Int("cache_valid_time"),
		purge:          args.Bool("purge"),
		autoremove:     args.Bool("autoremove"),
		deb:            args.String("deb"),
		onlyUpgrade:    args.Bool("only_upgrade"),
		force:          args.Bool("force"),
		allowUnauth:    args.Bool("allow_unauthenticated"),
		allowDowngrade: args.Bool("allow_downgrade"),
		defaultRelease: args.String("default_release"),
		dpkgOptions:    args.String("dpkg_options"),
		lockTimeout:    args.Int("lock_timeout"),
		check:          check,
	}
	switch r.state {
	case "installed", "":
		r.state = "present"
	case "removed":
		r.state = "absent"
	}
	if args.Has("install_recommends") {
		b := args.Bool("install_recommends")
		r.installRecommends = &b
	}
	for _, n := range args.Strings("name") {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if strings.HasPrefix(n, "-") || strings.ContainsAny(n, " \t\n") {
			return r, fmt.Sprintf("invalid package spec: %s", n)
		}
		r.names = append(r.names, n)
	}
	return r, ""
}

// aptScript builds the apt script for r.
func aptScript(r pkgRequest) string {
	var sc strings.Builder
	sc.WriteString("export DEBIAN_FRONTEND=noninteractive LC_ALL=C\n")
	sc.WriteString("command -v apt-get >/dev/null 2>&1 || { _mdo_f error 'apt-get not found on the target'; exit 0; }\n")
	if r.updateCache || r.cacheValidTime > 0 {
		// Ansible's get_updated_cache_time: the success stamp, else the
		// lists directory.
		sc.WriteString(`_mdo_ut() { for _mdo_s in /var/lib/apt/periodic/update-success-stamp /var/lib/apt/lists; do
  if [ -e "$_mdo_s" ]; then stat -c %Y "$_mdo_s"; return; fi; done; echo 0; }
_mdo_t=$(_mdo_ut)
`)
		fmt.Fprintf(&sc, "if [ $((_mdo_t + %d)) -lt \"$(date +%%s)\" ]; then\n", r.cacheValidTime)
		if r.check {
			sc.WriteString("  _mdo_f cache_updated 1\n")
		} else {
			sc.WriteString(`  _mdo_o=$(apt-get update -q 2>&1) || { _mdo_f error "Failed to update apt cache: $_mdo_o"; exit 0; }
  _mdo_n=$(_mdo_ut); [ "$_mdo_n" != "$_mdo_t" ] && _mdo_f cache_updated 1; _mdo_t=$_mdo_n
`)
		}
		sc.WriteString("fi\n_mdo_f cache_update_time \"$_mdo_t\"\n")
		if len(r.names) == 0 && r.deb == "" && !r.autoremove {
			sc.WriteString("_mdo_f changed 0\nexit 0\n")
			return sc.String()
		}
	}
	opts := aptOptions(r)
	if r.deb != "" {
		fmt.Fprintf(&sc, "_mdo_d=%s\n", conn.Quote(r.deb))
		sc.WriteString(`[ -f "$_mdo_d" ] || { _mdo_f error "Unable to install package: deb file $_mdo_d not found"; exit 0; }
_mdo_dn=$(dpkg-deb -f "$_mdo_d" Package) && _mdo_dv=$(dpkg-deb -f "$_mdo_d" Version) || { _mdo_f error "Unable to read the package name and version of $_mdo_d"; exit 0; }
case $(dpkg-query -W -f='${db:Status-Abbrev}|${Version}' "$_mdo_dn" 2>/dev/null) in
  ?i?"|$_mdo_dv") _mdo_f changed 0; exit 0 ;;
esac
_mdo_f todo "$_mdo_dn"
set -- "$_mdo_d"
`)
		check := ""
		if r.check {
			check = "--simulate "
		}
		fmt.Fprintf(&sc, "_mdo_cmd=%s\n", conn.Quote("dpkg "+check+dpkgOptions(r.dpkgOptions)+" -i"))
		sc.WriteString(pkgRunAction(false))
		return sc.String()
	}
	if len(r.names) == 0 && r.autoremove {
		args := "-y " + opts
		if r.purge {
			args += " --purge"
		}
		if r.check {
			args += " --simulate"
		}
		fmt.Fprintf(&sc, "set --\n_mdo_cmd=%s\n", conn.Quote("apt-get "+args+" autoremove"))
		sc.WriteString(pkgRunAction(false))
		sc.WriteString("case $_mdo_o in *'\n0 upgraded, 0 newly installed, 0 to remove'*|'0 upgraded, 0 newly installed, 0 to remove'*) _mdo_f changed 0 ;; esac\n")
		return sc.String()
	}
	sc.WriteString("_mdo_in=\n")
	for _, n := range r.names {
		name, ver, pinned := strings.Cut(n, "=")
		fmt.Fprintf(&sc, "_mdo_p=%s\n", conn.Quote(name))
		sc.WriteString("_mdo_s=$(dpkg-query -W -f='${db:Status-Abbrev}|${Version}' \"$_mdo_p\" 2>/dev/null)\n")
		sc.WriteString("_mdo_c=$(apt-cache policy \"$_mdo_p\" 2>/dev/null | sed -n 's/^ *Candidate: //p')\n")
		notFound := fmt.Sprintf("{ _mdo_f notfound %s; exit 0; }", conn.Quote(n))
		todo := "_mdo_f todo " + conn.Quote(n) + "; " + strings.TrimSuffix(appendWord("_mdo_in", n), "\n")
		switch {
		case r.state == "absent":
			if r.purge {
				fmt.Fprintf(&sc, "case $_mdo_s in ?n*|'') ;; *) %s ;; esac\n", todo)
			} else {
				fmt.Fprintf(&sc, "case $_mdo_s in ?n*|?c*|'') ;; *) %s ;; esac\n", todo)
			}
		case pinned:
			fmt.Fprintf(&sc, "case $_mdo_s in ?i?\"|\"%s) ;; *) %s ;; esac\n", globWord(ver), todo)
		case r.state == "latest":
			fmt.Fprintf(&sc, "case $_mdo_c in ''|'(none)') case $_mdo_s in ?i*) ;; *) %s ;; esac ;; *)\n", notFound)
			fmt.Fprintf(&sc, "  case $_mdo_s in ?i?\"|$_mdo_c\") ;; *) %s ;; esac ;; esac\n", todo)
		default:
			fmt.Fprintf(&sc, "case $_mdo_s in ?i*) ;; *) case $_mdo_c in ''|'(none)') %s ;; esac; %s ;; esac\n", notFound, todo)
		}
	}
	sc.WriteString("[ -n \"$_mdo_in\" ] || { _mdo_f changed 0; exit 0; }\neval \"set -- $_mdo_in\"\n")
	var cmd string
	if r.state == "absent" {
		verb := "remove"
		if r.purge {
			verb = "purge"
		}
		cmd = "apt-get -q -y " + opts
		if r.autoremove {
			cmd += " --auto-remove"
		}
		if r.check {
			cmd += " --simulate"
		}
		cmd += " " + verb
	} else {
		cmd = "apt-get -y " + opts
		if r.onlyUpgrade {
			cmd += " --only-upgrade"
		}
		if r.autoremove {
			cmd += " --auto-remove"
		}
		if r.check {
			cmd += " --simulate"
		}
		if r.defaultRelease != "" {
			cmd += " -t " + conn.Quote(r.defaultRelease)
		}
		if r.installRecommends != nil {
			cmd += " -o APT::Install-Recommends=" + map[bool]string{true: "yes", false: "no"}[*r.installRecommends]
		}
		if r.allowUnauth {
			cmd += " --allow-unauthenticated"
		}
		if r.allowDowngrade {
			cmd += " --allow-downgrades"
		}
		cmd += " install"
	}
	fmt.Fprintf(&sc, "_mdo_cmd=%s\n", conn.Quote(cmd))
	sc.WriteString(pkgRunAction(false))
	return sc.String()
}

// aptOptions are the dpkg options and force flags every apt-get call gets.
func aptOptions(r pkgRequest) string {
	o := dpkgOptionsApt(r.dpkgOptions)
	if r.lockTimeout > 0 {
		o += fmt.Sprintf(" -o DPkg::Lock::Timeout=%d", r.lockTimeout)
	}
	if r.force {
		o += " --force-yes"
	}
	return strings.TrimSpace(o)
}

// dpkgOptionsApt turns "force-confdef,force-confold" into apt-get -o words.
func dpkgOptionsApt(s string) string {
	var out []string
	for _, o := range strings.Split(s, ",") {
		if o = strings.TrimSpace(o); o != "" {
			out = append(out, conn.Quote("-o")+" "+conn.Quote("Dpkg::Options::=--"+o))
		}
	}
	return strings.Join(out, " ")
}

// dpkgOptions turns "force-confdef,force-confold" into dpkg flags.
func dpkgOptions(s string) string {
	var out []string
	for _, o := range strings.Split(s, ",") {
		if o = strings.TrimSpace(o); o != "" {
			out = append(out, conn.Quote("--"+o))
		}
	}
	return strings.Join(out, " ")
}

// globWord quotes s for a case pattern, keeping * as a wildcard (apt's
// `name=1.2*` version patterns).
func globWord(s string) string {
	parts := strings.Split(s, "*")
	for i, p := range parts {
		if p != "" {
			parts[i] = conn.Quote(p)
		}
	}
	return strings.Join(parts, "*")
}

// pkgRunAction runs `$_mdo_cmd "$@"` (the command is a trusted string of
// quoted words built here; the packages are the positional parameters) and
// reports its output. With skip set the command is not run (check mode
// for managers without a simulation flag).
func pkgRunAction(skip bool) string {
	if skip {
		return "_mdo_f cmd \"$_mdo_cmd\"\n_mdo_f changed 1\nexit 0\n"
	}
	return `_mdo_f cmd "$_mdo_cmd"
_mdo_e=$(mktemp) || { _mdo_f error 'mktemp failed'; exit 0; }
_mdo_o=$(eval "$_mdo_cmd \"\$@\"" 2>"$_mdo_e" </dev/null); _mdo_rc=$?
_mdo_f stdout "$_mdo_o"
_mdo_f stderr "$(cat "$_mdo_e")"
rm -f "$_mdo_e"
_mdo_f rc "$_mdo_rc"
_mdo_f changed 1
`
}

// rpmScript builds the dnf or yum script for r.
func rpmScript(tool string, r pkgRequest, extra []string) string {
	var sc strings.Builder
	sc.WriteString("export LC_ALL=C\n")
	bin := tool
	if tool == "yum" {
		// Newer distributions only ship dnf; yum is its alias.
		sc.WriteString("_mdo_x=yum; command -v yum >/dev/null 2>&1 || _mdo_x=dnf\n")
		bin = "$_mdo_x"
	}
	fmt.Fprintf(&sc, "command -v %s >/dev/null 2>&1 || { _mdo_f error %s; exit 0; }\n", bin, conn.Quote(tool+" not found on the target"))
	base := bin + " -y"
	for _, o := range extra {
		base += " " + conn.Quote(o)
	}
	if r.updateCache {
		if r.check {
			sc.WriteString("_mdo_f cache_updated 1\n")
		} else {
			fmt.Fprintf(&sc, "_mdo_o=$(%s makecache 2>&1) || { _mdo_f error \"Failed to update the %s cache: $_mdo_o\"; exit 0; }\n_mdo_f cache_updated 1\n", base, tool)
		}
		if len(r.names) == 0 && !r.autoremove {
			sc.WriteString("_mdo_f changed 0\nexit 0\n")
			return sc.String()
		}
	}
	if len(r.names) == 0 && r.autoremove {
		fmt.Fprintf(&sc, "set --\n_mdo_cmd=\"%s autoremove\"\n", base)
		sc.WriteString(pkgRunAction(r.check))
		return sc.String()
	}
	sc.WriteString("_mdo_in=\n_mdo_up=\n")
	for _, n := range r.names {
		fmt.Fprintf(&sc, "_mdo_p=%s\n", conn.Quote(n))
		todo := "_mdo_f todo " + conn.Quote(n) + "; " + strings.TrimSuffix(appendWord("_mdo_in", n), "\n")
		switch r.state {
		case "absent":
			fmt.Fprintf(&sc, "if rpm -q --quiet \"$_mdo_p\"; then %s; fi\n", todo)
		case "latest":
			up := "_mdo_f todo " + conn.Quote(n) + "; " + strings.TrimSuffix(appendWord("_mdo_up", n), "\n")
			fmt.Fprintf(&sc, "if rpm -q --quiet \"$_mdo_p\"; then %s -q check-update \"$_mdo_p\" >/dev/null 2>&1; [ $? -eq 100 ] && { %s; }; else %s; fi\n", bin, up, todo)
		default:
			fmt.Fprintf(&sc, "rpm -q --quiet \"$_mdo_p\" || { %s; }\n", todo)
		}
	}
	sc.WriteString("[ -n \"$_mdo_in$_mdo_up\" ] || { _mdo_f changed 0; exit 0; }\n")
	verb := "install"
	if r.state == "absent" {
		verb = "remove"
	}
	if r.autoremove && r.state == "absent" {
		base += " --setopt=clean_requirements_on_remove=1"
	}
	// Missing packages are installed first, then installed ones upgraded.
	fmt.Fprintf(&sc, "if [ -n \"$_mdo_in\" ]; then\neval \"set -- $_mdo_in\"\n_mdo_cmd=\"%s %s\"\n%sfi\n", base, verb, pkgRunAction(r.check))
	fmt.Fprintf(&sc, "if [ -n \"$_mdo_up\" ] && [ \"${_mdo_rc:-0}\" -eq 0 ]; then\neval \"set -- $_mdo_up\"\n_mdo_cmd=\"%s upgrade\"\n%sfi\n", base, pkgRunAction(r.check))
	return sc.String()
}

// runPkg runs a package script and turns its fields into Ansible's result.
func runPkg(ctx context.Context, env *Env, what, script string, r pkgRequest) (Result, error) {
	f, res, err := runScript(ctx, env, what, script, nil)
	if err != nil {
		return Result{}, err
	}
	values := map[string]any{}
	use := f.str("use")
	if use != "" {
		values["ansible_facts"] = map[string]any{"pkg_mgr": use}
	}
	isApt := what == "apt" || use == "apt"
	if isApt && (r.updateCache || r.cacheValidTime > 0) {
		_, updated := f.get("cache_updated")
		values["cache_updated"] = updated
		t, _ := strconv.Atoi(f.str("cache_update_time"))
		values["cache_update_time"] = t
	}
	if msg, ok := f.get("error"); ok {
		return Result{Failed: true, Msg: msg, Values: values}, nil
	}
	if n, ok := f.get("notfound"); ok {
		return Result{Failed: true, Msg: fmt.Sprintf("No package matching '%s' is available", n), Values: values}, nil
	}
	changedField, ok := f.get("changed")
	if !ok {
		return scriptFailure(what, res), nil
	}
	todo := f.all("todo")
	if changedField == "0" {
		// Nothing to do; for apt a cache update alone counts as a change.
		changed := values["cache_updated"] == true && len(r.names) == 0 && r.deb == ""
		if !isApt {
			values["msg"] = "Nothing to do"
			values["rc"] = 0
			values["results"] = []string{}
		}
		return Result{Changed: changed, Values: values}, nil
	}
	rc, _ := strconv.Atoi(f.str("rc"))
	stdout, stderr := f.str("stdout"), f.str("stderr")
	if _, ran := f.get("rc"); ran {
		values["stdout"] = stdout
		values["stderr"] = stderr
		values["stdout_lines"] = SplitLines(stdout)
		values["stderr_lines"] = SplitLines(stderr)
	}
	if !isApt {
		verb := "Installed"
		if r.state == "absent" {
			verb = "Removed"
		}
		results := make([]string, 0, len(todo))
		for _, n := range todo {
			results = append(results, verb+": "+n)
		}
		values["results"] = results
		values["rc"] = rc
		values["msg"] = ""
	}
	if rc != 0 {
		values["rc"] = rc
		return Result{Failed: true, Msg: fmt.Sprintf("'%s' failed: %s", strings.TrimSpace(f.str("cmd")+" "+quoteWords(todo)), stderr), Values: values}, nil
	}
	return Result{Changed: true, Values: values}, nil
}
