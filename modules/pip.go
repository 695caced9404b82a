package modules

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// Pip is the pip module: it installs, upgrades or removes Python packages
// with the target's pip, in a virtualenv when asked (created first with
// virtualenv_command). One exec finds pip and lists what is installed;
// when every named package already satisfies its version specifier (state
// present) or none is installed (absent), nothing more runs. Otherwise a
// second exec runs pip once, and the result says changed when pip reports
// "Successfully installed"/"Successfully uninstalled" (for requirements
// files and VCS URLs, when pip freeze differs before and after), as in
// Ansible.
type Pip struct{}

var _ Module = Pip{}

var pipStates = map[string][]string{
	"present":        {"install"},
	"absent":         {"uninstall", "-y"},
	"latest":         {"install", "-U"},
	"forcereinstall": {"install", "-U", "--force-reinstall"},
}

// Spec describes pip's arguments.
func (Pip) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "state", Type: TypeStr, Default: "present", Choices: []string{"absent", "forcereinstall", "latest", "present"}},
			{Name: "name", Type: TypeList},
			{Name: "version", Type: TypeStr},
			{Name: "requirements", Type: TypeStr},
			{Name: "virtualenv", Type: TypePath},
			{Name: "virtualenv_site_packages", Type: TypeBool, Default: false},
			{Name: "virtualenv_command", Type: TypePath, Default: "virtualenv"},
			{Name: "virtualenv_python", Type: TypeStr},
			{Name: "extra_args", Type: TypeStr},
			{Name: "editable", Type: TypeBool, Default: false},
			{Name: "chdir", Type: TypePath},
			{Name: "executable", Type: TypePath},
			{Name: "umask", Type: TypeStr},
		},
		CheckMode:         true,
		RequiredOneOf:     [][]string{{"name", "requirements"}},
		MutuallyExclusive: [][]string{{"name", "requirements"}, {"executable", "virtualenv"}},
	}
}

var pipVCS = regexp.MustCompile(`^(svn|git|hg|bzr)\+`)

// pipRecoverNames is Ansible's _recover_package_name: names and version
// specifiers split at commas are put back together per package.
func pipRecoverNames(names []string) []string {
	var flat []string
	for _, n := range names {
		flat = append(flat, strings.Split(n, ",")...)
	}
	var out, parts []string
	inBrackets := false
	for _, n := range flat {
		isName := true
		for _, op := range []string{">=", "<=", ">", "<", "==", "!=", "~="} {
			if strings.HasPrefix(strings.TrimLeft(n, " \t"), op) {
				isName = false
			}
		}
		if isName && !inBrackets {
			if len(parts) > 0 {
				out = append(out, strings.Join(parts, ","))
			}
			parts = nil
		}
		if strings.Contains(n, "[") {
			inBrackets = true
		}
		if inBrackets && strings.Contains(n, "]") {
			inBrackets = false
		}
		parts = append(parts, n)
	}
	return append(out, strings.Join(parts, ","))
}

// pipReq is a parsed requirement: a plain name with version specifiers.
type pipReq struct {
	text  string // as passed to pip
	name  string // canonical (PEP 503)
	specs [][2]string
	plain bool // a name (with extras and specifiers), not a path or URL
}

var (
	pipReqRE  = regexp.MustCompile(`^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*?)\s*$`)
	pipSpecRE = regexp.MustCompile(`^\s*(===|==|!=|<=|>=|~=|<|>)\s*([^\s,;]+)\s*$`)
	pipCanon  = regexp.MustCompile(`[-_.]+`)
)

func pipParse(text string) pipReq {
	r := pipReq{text: text}
	m := pipReqRE.FindStringSubmatch(text)
	if m == nil || strings.Contains(text, "://") || strings.Contains(text, "@") || strings.ContainsAny(text, "/;") {
		return r
	}
	r.name = strings.ToLower(pipCanon.ReplaceAllString(m[1], "-"))
	if m[3] != "" {
		for _, s := range strings.Split(m[3], ",") {
			sm := pipSpecRE.FindStringSubmatch(s)
			if sm == nil {
				return r
			}
			r.specs = append(r.specs, [2]string{sm[1], sm[2]})
		}
	}
	r.plain = true
	return r
}

// pipVersionCmp compares dotted versions part by part, numbers as numbers.
func pipVersionCmp(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < max(len(pa), len(pb)); i++ {
		x, y := "0", "0"
		if i < len(pa) {
			x = pa[i]
		}
		if i < len(pb) {
			y = pb[i]
		}
		xi, ex := strconv.Atoi(x)
		yi, ey := strconv.Atoi(y)
		switch {
		case ex == nil && ey == nil:
			if xi != yi {
				return map[bool]int{true: -1, false: 1}[xi < yi]
			}
		case x != y:
			return strings.Compare(x, y)
		}
	}
	return 0
}

// satisfiedBy reports whether version v meets every specifier.
func (r pipReq) satisfiedBy(v string) bool {
	for _, s := range r.specs {
		op, want := s[0], s[1]
		if (op == "==" || op == "!=") && strings.HasSuffix(want, ".*") {
			pre := strings.TrimSuffix(want, ".*")
			match := v == pre || strings.HasPrefix(v, pre+".")
			if match != (op == "==") {
				return false
			}
			continue
		}
		c := pipVersionCmp(v, want)
		ok := false
		switch op {
		case "==", "===":
			ok = c == 0
		case "!=":
			ok = c != 0
		case ">=":
			ok = c >= 0
		case "<=":
			ok = c <= 0
		case ">":
			ok = c > 0
		case "<":
			ok = c < 0
		case "~=":
			parts := strings.Split(want, ".")
			pre := strings.Join(parts[:max(len(parts)-1, 1)], ".")
			ok = c >= 0 && (v == pre || strings.HasPrefix(v, pre+"."))
		}
		if !ok {
			return false
		}
	}
	return true
}

// pipInstalled parses `pip list --format=freeze` into canonical name →
// version.
func pipInstalled(out string) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if n, v, ok := strings.Cut(strings.TrimSpace(l), "=="); ok {
			m[strings.ToLower(pipCanon.ReplaceAllString(n, "-"))] = v
		}
	}
	return m
}

// Run installs or removes the packages.
func (Pip) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	state := args.String("state")
	venv := args.String("virtualenv")
	chdir := args.String("chdir")
	version := args.String("version")
	extra := args.String("extra_args")
	reqs := args.String("requirements")
	if venv != "" && chdir != "" && !strings.HasPrefix(venv, "/") {
		venv = strings.TrimSuffix(chdir, "/") + "/" + venv
	}
	if state == "latest" && args.Has("version") {
		return Result{Failed: true, Msg: "version is incompatible with state=latest"}, nil
	}
	if chdir == "" {
		chdir = "/tmp"
	}
	umask := ""
	if args.Has("umask") {
		u, err := strconv.ParseUint(args.String("umask"), 8, 32)
		if err != nil {
			return Result{Failed: true, Msg: "umask must be an octal integer"}, nil
		}
		umask = fmt.Sprintf("%04o", u)
	}
	names := args.Strings("name")
	var pkgs []pipReq
	hasVCS := false
	if len(names) > 0 {
		for _, n := range names {
			if pipVCS.MatchString(n) {
				hasVCS = true
			}
		}
		for _, n := range pipRecoverNames(names) {
			pkgs = append(pkgs, pipParse(n))
		}
		if args.Has("version") {
			if len(pkgs) > 1 {
				return Result{Failed: true, Msg: "'version' argument is ambiguous when installing multiple package distributions. Please specify version restrictions next to each package in 'name' argument."}, nil
			}
			if len(pkgs[0].specs) > 0 {
				return Result{Failed: true, Msg: "The 'version' argument conflicts with any version specifier provided along with a package name. Please keep the version specifier, but remove the 'version' argument."}, nil
			}
			v := strings.TrimLeft(version, " \t")
			sep := " "
			if v != "" && v[0] >= '0' && v[0] <= '9' {
				sep = "=="
			}
			pkgs[0] = pipParse(pkgs[0].text + sep + v)
		}
	}
	if args.Bool("editable") {
		words := []string{}
		if extra != "" {
			words = strings.Split(extra, " ")
		}
		if !contains(words, "-e") {
			extra = strings.Join(append(words, "-e"), " ")
		}
	}
	extraWords, err := SplitShlex(extra)
	if err != nil {
		return Result{Failed: true, Msg: fmt.Sprintf("extra_args: %v", err)}, nil
	}
	cmdWords := append([]string{}, pipStates[state]...)
	cmdWords = append(cmdWords, extraWords...)
	if len(pkgs) > 0 {
		for _, p := range pkgs {
			cmdWords = append(cmdWords, p.text)
		}
	} else {
		cmdWords = append(cmdWords, "-r", reqs)
	}
	values := map[string]any{"name": nilIfEmpty(names), "version": nilIfAbsent(args, "version"), "state": state,
		"requirements": nilIfAbsent(args, "requirements"), "virtualenv": nilIfEmptyStr(venv)}

	// The first exec: umask, chdir, the virtualenv's presence, pip, and
	// what is installed.
	var sc strings.Builder
	if umask != "" {
		fmt.Fprintf(&sc, "umask %s\n", umask)
	}
	fmt.Fprintf(&sc, "cd %s || { _mdo_f fail 'cannot chdir to %s'; exit 0; }\n", conn.Quote(chdir), strings.ReplaceAll(chdir, "'", ""))
	if venv != "" {
		fmt.Fprintf(&sc, "_mdo_env=%s\nPATH=$_mdo_env/bin:$PATH\n[ -e \"$_mdo_env/bin/activate\" ] || _mdo_f novenv 1\n", conn.Quote(venv))
	}
	sc.WriteString(pipFind(args.String("executable"), venv != ""))
	sc.WriteString("if [ -n \"${_mdo_pip:-}\" ]; then _mdo_f list \"$(LC_ALL=C LANG=C _mdo_run list --format=freeze 2>/dev/null)\"; fi\n_mdo_f end 1\n")
	probe := sc.String()
	f, res, err := runScript(ctx, env, "pip", probe, nil)
	if err != nil {
		return Result{}, err
	}
	if msg, ok := f.get("fail"); ok {
		return Result{Failed: true, Msg: msg, Values: values}, nil
	}
	if _, ok := f.get("end"); !ok {
		return scriptFailure("pip", res), nil
	}
	_, noVenv := f.get("novenv")
	if !noVenv {
		if msg, ok := f.get("nopip"); ok {
			return Result{Failed: true, Msg: msg, Values: values}, nil
		}
	}
	pipCmd := f.str("pipcmd")
	listCmd := pipCmd + " list --format=freeze"
	installed := pipInstalled(f.str("list"))

	// Whether anything needs doing, from the list (also check mode's answer).
	plainAll := len(pkgs) > 0
	for _, p := range pkgs {
		plainAll = plainAll && p.plain
	}
	needs := true
	if !noVenv && plainAll && (state == "present" || state == "absent") {
		needs = false
		for _, p := range pkgs {
			v, ok := installed[p.name]
			present := ok && p.satisfiedBy(v)
			if state == "present" && !present || state == "absent" && present {
				needs = true
			}
		}
	}
	if env.Check {
		if noVenv || extra != "" || reqs != "" || state == "latest" || len(pkgs) == 0 {
			return Result{Changed: true, Values: values}, nil
		}
		cv := map[string]any{"cmd": listCmd, "stdout": f.str("list") + "\n", "stderr": ""}
		if !plainAll {
			needs = false
			for _, p := range pkgs {
				if _, ok := installed[p.name]; !ok && state != "absent" {
					needs = true
				}
			}
		}
		return Result{Changed: needs, Values: cv}, nil
	}
	// Ansible always runs pip; skipping it when the list already shows
	// the wanted state gives the same result without the pip run (only
	// without extra_args, which may point pip at another target).
	if !needs && extra == "" && reqs == "" && !hasVCS && !args.Bool("editable") {
		values["cmd"] = append(pipCmdList(pipCmd), anyList(cmdWords)...)
		values["stdout"], values["stderr"] = "", ""
		return Result{Values: values}, nil
	}

	sc.Reset()
	if umask != "" {
		fmt.Fprintf(&sc, "umask %s\n", umask)
	}
	fmt.Fprintf(&sc, "cd %s || { _mdo_f fail 'cannot chdir'; exit 0; }\n", conn.Quote(chdir))
	if venv != "" {
		fmt.Fprintf(&sc, "_mdo_env=%s\nPATH=$_mdo_env/bin:$PATH\n", conn.Quote(venv))
		if noVenv {
			vc, err := pipVenvCommand(args, venv)
			if err != nil {
				return Result{Failed: true, Msg: err.Error(), Values: values}, nil
			}
			fmt.Fprintf(&sc, "_mdo_o=$(%s 2>&1 </dev/null); _mdo_rc=$?\n_mdo_f out \"$_mdo_o\"\n", vc)
			fmt.Fprintf(&sc, "[ $_mdo_rc -eq 0 ] || { _mdo_f fail %s; _mdo_f rc $_mdo_rc; exit 0; }\n_mdo_f venv_created 1\n", conn.Quote("Error creating the virtualenv: "+vc))
		}
	}
	sc.WriteString(pipFind(args.String("executable"), venv != ""))
	sc.WriteString("[ -n \"${_mdo_pip:-}\" ] || exit 0\n")
	freeze := reqs != "" || hasVCS
	if freeze {
		sc.WriteString("_mdo_f before \"$(_mdo_run list --format=freeze 2>/dev/null || _mdo_run freeze 2>/dev/null)\"\n")
	}
	fmt.Fprintf(&sc, "_mdo_e=$(mktemp) || exit 1\ntrap 'rm -f \"$_mdo_e\"' EXIT\n_mdo_o=$(_mdo_run %s 2>\"$_mdo_e\" </dev/null); _mdo_rc=$?\n", quoteWords(cmdWords))
	sc.WriteString("_mdo_f pout \"$_mdo_o\"\n_mdo_f perr \"$(cat \"$_mdo_e\")\"\n_mdo_f prc $_mdo_rc\n")
	if freeze {
		sc.WriteString("_mdo_f after \"$(_mdo_run list --format=freeze 2>/dev/null || _mdo_run freeze 2>/dev/null)\"\n")
	}
	sc.WriteString("_mdo_f end 1\n")
	f, res, err = runScript(ctx, env, "pip", sc.String(), nil)
	if err != nil {
		return Result{}, err
	}
	values["cmd"] = append(pipCmdList(f.str("pipcmd")), anyList(cmdWords)...)
	out := strings.Join(f.all("out"), "") + f.str("pout")
	errOut := f.str("perr")
	values["stdout"], values["stderr"] = out, errOut
	if msg, ok := f.get("nopip"); ok {
		return Result{Failed: true, Msg: msg, Values: values}, nil
	}
	if msg, ok := f.get("fail"); ok {
		if rc, ok := f.get("rc"); ok {
			values["rc"], _ = strconv.Atoi(rc)
		}
		return Result{Failed: true, Msg: msg, Values: values}, nil
	}
	if _, ok := f.get("end"); !ok {
		return scriptFailure("pip", res), nil
	}
	rc, _ := strconv.Atoi(f.str("prc"))
	pout := f.str("pout")
	if rc == 1 && state == "absent" && (strings.Contains(pout, "not installed") || strings.Contains(errOut, "not installed")) {
		// uninstalling a package that is not installed
	} else if rc != 0 {
		values["rc"] = rc
		return Result{Failed: true, Values: values, Msg: fmt.Sprintf("stdout: %s\n\n:stderr: %s", out, errOut)}, nil
	}
	var changed bool
	switch {
	case state == "absent":
		changed = strings.Contains(pout, "Successfully uninstalled")
	case freeze:
		changed = f.str("before") != f.str("after")
	default:
		changed = strings.Contains(pout, "Successfully installed")
	}
	_, created := f.get("venv_created")
	return Result{Changed: changed || created, Values: values}, nil
}

// pipFind returns shell code that defines _mdo_run (pip with its
// arguments) and prints the field pipcmd, or the field nopip with
// Ansible's message.
func pipFind(executable string, venv bool) string {
	var sc strings.Builder
	sc.WriteString("_mdo_pip=\n")
	switch {
	case executable != "" && strings.HasPrefix(executable, "/"):
		fmt.Fprintf(&sc, "_mdo_pip=%s\n", conn.Quote(executable))
	case executable != "":
		fmt.Fprintf(&sc, "_mdo_pip=$(command -v %s) || { _mdo_pip=; _mdo_f nopip %s; }\n", conn.Quote(executable),
			conn.Quote(fmt.Sprintf("Unable to find any of %s to use.  pip needs to be installed.", executable)))
	case venv:
		sc.WriteString(`for _mdo_b in pip3 pip; do [ -x "$_mdo_env/bin/$_mdo_b" ] && { _mdo_pip=$_mdo_env/bin/$_mdo_b; break; }; done
[ -n "$_mdo_pip" ] || _mdo_f nopip "Unable to find pip in the virtualenv, $_mdo_env, under any of these names: pip3, pip. Make sure pip is present in the virtualenv."
`)
	default:
		// Ansible runs the pip module of the Python that runs the module;
		// here that is the target's python3, else a pip3 on PATH.
		sc.WriteString(`if command -v python3 >/dev/null 2>&1 && python3 -c 'import pip' >/dev/null 2>&1; then _mdo_pip='python3 -m pip'
elif _mdo_pip=$(command -v pip3); then :
else _mdo_pip=; _mdo_f nopip 'Unable to find any of pip3 to use.  pip needs to be installed.'; fi
`)
	}
	sc.WriteString("_mdo_run() { $_mdo_pip \"$@\"; }\n[ -z \"$_mdo_pip\" ] || _mdo_f pipcmd \"$_mdo_pip\"\n")
	return sc.String()
}

func pipCmdList(pipCmd string) []any {
	var out []any
	for _, w := range strings.Fields(pipCmd) {
		out = append(out, w)
	}
	return out
}

// pipVenvCommand is Ansible's setup_virtualenv command line.
func pipVenvCommand(args Args, venv string) (string, error) {
	vcmd := args.String("virtualenv_command")
	words, err := SplitShlex(vcmd)
	if err != nil || len(words) == 0 {
		return "", fmt.Errorf("virtualenv_command %q: cannot split it into words", vcmd)
	}
	if args.Bool("virtualenv_site_packages") {
		words = append(words, "--system-site-packages")
	}
	isVenv := strings.Contains(vcmd, "pyvenv") || strings.Contains(vcmd, "-m venv")
	if py := args.String("virtualenv_python"); py != "" {
		if isVenv {
			return "", fmt.Errorf("virtualenv_python should not be used when using the venv module or pyvenv as virtualenv_command")
		}
		words = append(words, "-p"+py)
	}
	words = append(words, venv)
	return quoteWords(words), nil
}

func anyList(l []string) []any {
	out := make([]any, len(l))
	for i, s := range l {
		out[i] = s
	}
	return out
}

func nilIfEmpty(l []string) any {
	if len(l) == 0 {
		return nil
	}
	out := make([]any, len(l))
	for i, s := range l {
		out[i] = s
	}
	return out
}

func nilIfEmptyStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}
