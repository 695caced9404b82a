package modules

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Gem is community.general.gem: it installs and removes Ruby gems with
// the target's gem, as the collection's module does: `gem list ^NAME$`
// gives the installed versions (`gem list --remote` the latest one for
// state latest), present installs when the version (or any version) is
// missing, absent uninstalls and fails when the gem is still there
// afterwards. With user_install (the default) and no install_dir the gem
// goes to `gem environment`'s user installation directory through
// --no-user-install --install-dir, as the collection now does.
//
// One exec reads; a change costs one more.
type Gem struct{}

var _ Module = Gem{}

// Spec describes gem's arguments.
func (Gem) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "executable", Type: TypePath},
			{Name: "gem_source", Type: TypePath},
			{Name: "include_dependencies", Type: TypeBool, Default: true},
			{Name: "name", Type: TypeStr, Required: true},
			{Name: "repository", Aliases: []string{"source"}, Type: TypeStr},
			{Name: "state", Type: TypeStr, Default: "present", Choices: []string{"present", "absent", "latest"}},
			{Name: "user_install", Type: TypeBool, Default: true},
			{Name: "install_dir", Type: TypePath},
			{Name: "bindir", Type: TypePath},
			{Name: "norc", Type: TypeBool, Default: true},
			{Name: "pre_release", Type: TypeBool, Default: false},
			{Name: "include_doc", Type: TypeBool, Default: false},
			{Name: "env_shebang", Type: TypeBool, Default: false},
			{Name: "version", Type: TypeStr},
			{Name: "build_flags", Type: TypeStr},
			{Name: "force", Type: TypeBool, Default: false},
		},
		MutuallyExclusive: [][]string{{"gem_source", "repository"}, {"gem_source", "version"}},
		CheckMode:         true,
	}
}

var (
	gemVersionRe   = regexp.MustCompile(`^(\d+)\.(\d+)\.(\d+)`)
	gemInstalledRe = regexp.MustCompile(`^\S+\s+\((?:default: )?(.+)\)`)
	gemUserDirRe   = regexp.MustCompile(`USER INSTALLATION DIRECTORY:\s*(.+)`)
)

// gemVersions is the collection's get_installed_versions over gem list's
// output.
func gemVersions(out string) []string {
	var vs []string
	for _, line := range strings.Split(out, "\n") {
		if m := gemInstalledRe.FindStringSubmatch(line); m != nil {
			for _, v := range strings.Split(m[1], ", ") {
				if f := strings.Fields(v); len(f) > 0 {
					vs = append(vs, f[0])
				}
			}
		}
	}
	return vs
}

// gemFailure is the result of a gem command that failed (check_rc).
func gemFailure(c captured) Result {
	return Result{Failed: true, Msg: c.msg(), Values: map[string]any{"rc": c.rc, "stdout": c.out, "stderr": c.err}}
}

// Run brings the gem to its state.
func (Gem) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	name, state, version := args.String("name"), args.String("state"), args.String("version")
	switch {
	case version != "" && state == "latest":
		return Result{Failed: true, Msg: "Cannot specify version when state=latest"}, nil
	case args.Has("gem_source") && state == "latest":
		return Result{Failed: true, Msg: "Cannot maintain state=latest when installing from local source"}, nil
	case args.Bool("user_install") && args.Has("install_dir"):
		return Result{Failed: true, Msg: "install_dir requires user_install=false"}, nil
	}
	var ex expander
	exe := `"$_mdo_x"`
	if e := args.String("executable"); e != "" {
		var words []string
		for _, w := range strings.Fields(e) {
			words = append(words, ex.Word(w, true))
		}
		exe = strings.Join(words, " ")
	}
	installDir, bindir, gemSource := "", "", ""
	if args.Has("install_dir") {
		installDir = ex.Word(args.String("install_dir"), true)
	}
	if args.Has("bindir") {
		bindir = ex.Word(args.String("bindir"), true)
	}
	if args.Has("gem_source") {
		gemSource = ex.Word(args.String("gem_source"), true)
	} else {
		gemSource = ex.Word(name, false)
	}
	userInstall := args.Bool("user_install") && !args.Has("install_dir")

	head := func() string {
		var b strings.Builder
		b.WriteString(ex.Prelude())
		b.WriteString(runCaptureScript)
		if args.String("executable") == "" {
			b.WriteString(`_mdo_x=$(PATH=$PATH:/sbin:/usr/sbin:/usr/local/sbin command -v gem) ||
  { _mdo_f fail "Failed to find required executable \"gem\" in paths: $PATH:/sbin:/usr/sbin:/usr/local/sbin"; exit 0; }
`)
		}
		if installDir != "" {
			fmt.Fprintf(&b, "GEM_HOME=%s; export GEM_HOME\n", installDir)
		}
		fmt.Fprintf(&b, "_mdo_gem() { %s \"$@\"; }\n", exe)
		return b.String()
	}
	pattern := "^" + name + "$"
	var sc strings.Builder
	sc.WriteString(head())
	sc.WriteString("_mdo_run ver _mdo_gem --version || { _mdo_f end 1; exit 0; }\n")
	if userInstall {
		sc.WriteString("_mdo_run envi _mdo_gem environment || { _mdo_f end 1; exit 0; }\n")
	}
	// --norc as the collection decides it: rubygems 2.5.2 or later.
	sc.WriteString("_mdo_nr=\n")
	if args.Bool("norc") {
		sc.WriteString(`set -- $(printf '%s\n' "$(_mdo_gem --version 2>/dev/null)" | sed -n '1s/^\([0-9][0-9]*\)\.\([0-9][0-9]*\)\.\([0-9][0-9]*\).*/\1 \2 \3/p')
if [ $# = 3 ] && { [ "$1" -gt 2 ] || { [ "$1" = 2 ] && { [ "$2" -gt 5 ] || { [ "$2" = 5 ] && [ "$3" -ge 2 ]; }; }; }; }; then _mdo_nr=--norc; fi
`)
	}
	// The listing: remote first for latest, then the installed versions.
	listLocal := "_mdo_run local _mdo_gem list $_mdo_nr " + quoteWords([]string{pattern}) + " || { _mdo_f end 1; exit 0; }\n"
	if state == "latest" {
		w := []string{"--remote"}
		if r := args.String("repository"); r != "" {
			w = append(w, "--source", r)
		}
		fmt.Fprintf(&sc, "_mdo_run remote _mdo_gem list $_mdo_nr %s || { _mdo_f end 1; exit 0; }\n", quoteWords(append(w, pattern)))
	}
	sc.WriteString(listLocal)
	sc.WriteString("_mdo_f end 1\n")
	f, res, err := runScript(ctx, env, "gem", sc.String(), nil)
	if err != nil {
		return Result{}, err
	}
	if msg, ok := f.get("fail"); ok {
		return Result{Failed: true, Msg: msg}, nil
	}
	if _, ok := f.get("end"); !ok {
		return scriptFailure("gem", res), nil
	}
	for _, tag := range []string{"ver", "envi", "remote", "local"} {
		if c := capturedOf(f, tag); c.ran && c.rc != 0 {
			return gemFailure(c), nil
		}
	}
	var ver []int
	if m := gemVersionRe.FindStringSubmatch(capturedOf(f, "ver").out); m != nil {
		for _, s := range m[1:] {
			n, _ := strconv.Atoi(s)
			ver = append(ver, n)
		}
	}
	older := func(a, b, c int) bool { // ver < (a, b, c), false when unknown
		if ver == nil {
			return false
		}
		for i, x := range []int{a, b, c} {
			if ver[i] != x {
				return ver[i] < x
			}
		}
		return false
	}
	userDir := ""
	if userInstall {
		for _, line := range strings.Split(capturedOf(f, "envi").out, "\n") {
			if m := gemUserDirRe.FindStringSubmatch(line); m != nil {
				userDir = strings.TrimSpace(m[1])
				break
			}
		}
	}
	var norc []string
	if args.Bool("norc") && ver != nil && !older(2, 5, 2) {
		norc = []string{"--norc"}
	}
	if state == "latest" {
		if rv := gemVersions(capturedOf(f, "remote").out); len(rv) > 0 {
			version = rv[0]
		}
	}
	installed := gemVersions(capturedOf(f, "local").out)
	exists := len(installed) > 0
	if version != "" {
		exists = contains(installed, version)
	}
	values := map[string]any{"name": name, "state": state}
	if version != "" {
		values["version"] = version
	}
	r := Result{Values: values}
	if state == "absent" && !exists || state != "absent" && exists {
		return r, nil
	}
	r.Changed = true
	if env.Check {
		return r, nil
	}

	sc.Reset()
	sc.WriteString(head())
	fmt.Fprintf(&sc, "_mdo_nr=%s\n", strings.Join(norc, ""))
	q := func(s string) string { return " " + quoteWords([]string{s}) }
	var cmd strings.Builder
	if state == "absent" {
		cmd.WriteString("uninstall")
		for _, w := range norc {
			cmd.WriteString(q(w))
		}
		switch {
		case userDir != "":
			cmd.WriteString(" --install-dir" + q(userDir))
		case installDir != "":
			cmd.WriteString(" --install-dir " + installDir)
		}
		if bindir != "" {
			cmd.WriteString(" --bindir " + bindir)
		}
		if version != "" {
			cmd.WriteString(" --version" + q(version))
		} else {
			cmd.WriteString(" --all")
		}
		cmd.WriteString(" --executable")
		if args.Bool("force") {
			cmd.WriteString(" --force")
		}
		cmd.WriteString(q(name))
		fmt.Fprintf(&sc, "_mdo_run do _mdo_gem %s || { _mdo_f end 1; exit 0; }\n%s", cmd.String(), listLocal)
	} else {
		cmd.WriteString("install")
		for _, w := range norc {
			cmd.WriteString(q(w))
		}
		if version != "" {
			cmd.WriteString(" --version" + q(version))
		}
		if r := args.String("repository"); r != "" {
			cmd.WriteString(" --source" + q(r))
		}
		switch {
		case !args.Bool("include_dependencies"):
			cmd.WriteString(" --ignore-dependencies")
		case older(2, 0, 0):
			cmd.WriteString(" --include-dependencies")
		}
		switch {
		case userDir != "":
			cmd.WriteString(" --no-user-install --install-dir" + q(userDir))
			if bindir != "" {
				cmd.WriteString(" --bindir " + bindir)
			} else {
				cmd.WriteString(" --bindir" + q(strings.TrimSuffix(userDir, "/")+"/bin"))
			}
		default:
			if args.Bool("user_install") {
				cmd.WriteString(" --user-install")
			} else {
				cmd.WriteString(" --no-user-install")
			}
			if installDir != "" {
				cmd.WriteString(" --install-dir " + installDir)
			}
			if bindir != "" {
				cmd.WriteString(" --bindir " + bindir)
			}
		}
		if args.Bool("pre_release") {
			cmd.WriteString(" --pre")
		}
		if !args.Bool("include_doc") {
			if older(2, 0, 0) {
				cmd.WriteString(" --no-rdoc --no-ri")
			} else {
				cmd.WriteString(" --no-document")
			}
		}
		if args.Bool("env_shebang") {
			cmd.WriteString(" --env-shebang")
		}
		cmd.WriteString(" " + gemSource)
		if b := args.String("build_flags"); b != "" {
			cmd.WriteString(" --" + q(b))
		}
		if args.Bool("force") {
			cmd.WriteString(" --force")
		}
		fmt.Fprintf(&sc, "_mdo_run do _mdo_gem %s || { _mdo_f end 1; exit 0; }\n", cmd.String())
	}
	sc.WriteString("_mdo_f end 1\n")
	f, res, err = runScript(ctx, env, "gem", sc.String(), nil)
	if err != nil {
		return Result{}, err
	}
	if _, ok := f.get("end"); !ok {
		return scriptFailure("gem", res), nil
	}
	do := capturedOf(f, "do")
	if do.rc != 0 {
		return gemFailure(do), nil
	}
	if state == "absent" {
		if c := capturedOf(f, "local"); c.rc != 0 {
			return gemFailure(c), nil
		}
		left := gemVersions(capturedOf(f, "local").out)
		if version != "" && contains(left, version) || version == "" && len(left) > 0 {
			return Result{Failed: true, Values: map[string]any{"rc": do.rc, "stdout": do.out, "stderr": do.err},
				Msg: fmt.Sprintf("Failed to uninstall gem '%s': it is still present after 'gem uninstall'. "+
					"This usually happens with default or system gems provided by the OS, "+
					"which cannot be removed with the gem command.", name)}, nil
		}
	}
	return r, nil
}
