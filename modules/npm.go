package modules

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// Npm is community.general.npm: it installs, updates and removes Node.js
// packages in path (or globally) with the target's npm, deciding from
// `npm list --json --long` (and `npm outdated` for latest) as the
// collection does: present installs when the package (or
// name@version) is not listed, latest also runs `npm update` when `npm
// outdated` prints anything, absent uninstalls a listed package, ci
// always runs `npm ci`. Like the collection, path is created when missing
// (also in check mode, where only the listing runs).
//
// One exec lists; a change costs one more.
type Npm struct{}

var _ Module = Npm{}

// Spec describes npm's arguments.
func (Npm) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "name", Type: TypeStr},
			{Name: "path", Type: TypePath},
			{Name: "version", Type: TypeStr},
			{Name: "global", Type: TypeBool, Default: false},
			{Name: "production", Type: TypeBool, Default: false},
			{Name: "executable", Type: TypePath},
			{Name: "registry", Type: TypeStr},
			{Name: "state", Type: TypeStr, Default: "present", Choices: []string{"present", "absent", "latest"}},
			{Name: "ignore_scripts", Type: TypeBool, Default: false},
			{Name: "unsafe_perm", Type: TypeBool, Default: false},
			{Name: "ci", Type: TypeBool, Default: false},
			{Name: "no_optional", Type: TypeBool, Default: false},
			{Name: "no_bin_links", Type: TypeBool, Default: false},
		},
		CheckMode: true,
	}
}

// npmCall holds what every npm command line of one task shares.
type npmCall struct {
	args        Args
	nameVersion string
	ex          expander
	exe         string // the executable's words, shell text
}

// cmd returns the shell words after the executable for the npm
// subcommand sub, with the flags the collection's _exec appends.
func (c *npmCall) cmd(sub []string, addName bool) string {
	w := append([]string(nil), sub...)
	a := c.args
	if a.Bool("global") {
		w = append(w, "--global")
	}
	if a.Bool("production") && (contains(w, "install") || contains(w, "update") || contains(w, "ci")) {
		w = append(w, "--production")
	}
	if a.Bool("ignore_scripts") {
		w = append(w, "--ignore-scripts")
	}
	if a.Bool("unsafe_perm") {
		w = append(w, "--unsafe-perm")
	}
	if c.nameVersion != "" && addName {
		w = append(w, c.nameVersion)
	}
	if r := a.String("registry"); r != "" {
		w = append(w, "--registry", r)
	}
	if a.Bool("no_optional") {
		w = append(w, "--no-optional")
	}
	if a.Bool("no_bin_links") {
		w = append(w, "--no-bin-links")
	}
	return quoteWords(w)
}

// head returns the script's start: the executable found and the
// directory made and entered.
func (c *npmCall) head() string {
	var b strings.Builder
	exe := c.exe
	if exe == "" {
		b.WriteString(`_mdo_x=$(PATH=$PATH:/sbin:/usr/sbin:/usr/local/sbin command -v npm) ||
  { _mdo_f fail "Failed to find required executable \"npm\" in paths: $PATH:/sbin:/usr/sbin:/usr/local/sbin"; exit 0; }
`)
		exe = `"$_mdo_x"`
	}
	var p string
	if c.args.Has("path") {
		p = c.ex.Word(c.args.String("path"), true)
	}
	b.WriteString(c.ex.Prelude())
	b.WriteString(runCaptureScript)
	fmt.Fprintf(&b, "_mdo_npm() { %s \"$@\"; }\n", exe)
	if p != "" {
		fmt.Fprintf(&b, "_mdo_p=%s\n", p)
		b.WriteString(`if [ ! -e "$_mdo_p" ]; then _mdo_o=$(mkdir -p -- "$_mdo_p" 2>&1) || { _mdo_f fail "$_mdo_o"; exit 0; }; fi
[ -d "$_mdo_p" ] || { _mdo_f fail "path $_mdo_p is not a directory"; exit 0; }
cd -- "$_mdo_p" || exit 1
`)
	}
	return b.String()
}

// Run brings the package to its state.
func (Npm) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	name, state := args.String("name"), args.String("state")
	if !args.Has("path") && !args.Bool("global") {
		return Result{Failed: true, Msg: "path must be specified when not using global"}, nil
	}
	if state == "absent" && name == "" {
		return Result{Failed: true, Msg: "uninstalling a package is only available for named packages"}, nil
	}
	c := &npmCall{args: args, nameVersion: name}
	if v := args.String("version"); v != "" && state != "absent" {
		c.nameVersion = name + "@" + v
	}
	if e := args.String("executable"); e != "" {
		var words []string
		for _, w := range strings.Split(e, " ") {
			words = append(words, c.ex.Word(w, true))
		}
		c.exe = strings.Join(words, " ")
	}

	var action []string // the npm subcommands to run, in order
	if args.Bool("ci") {
		action = []string{"ci"}
	} else {
		var sc strings.Builder
		sc.WriteString(c.head())
		fmt.Fprintf(&sc, "_mdo_run list _mdo_npm %s\n", c.cmd([]string{"list", "--json", "--long"}, false))
		if state == "latest" {
			fmt.Fprintf(&sc, "_mdo_run outdated _mdo_npm %s\n", c.cmd([]string{"outdated"}, true))
		}
		sc.WriteString("_mdo_f end 1\n")
		f, res, err := runScript(ctx, env, "npm", sc.String(), nil)
		if err != nil {
			return Result{}, err
		}
		if msg, ok := f.get("fail"); ok {
			return Result{Failed: true, Msg: msg}, nil
		}
		if _, ok := f.get("end"); !ok {
			return scriptFailure("npm", res), nil
		}
		installed, missing, err := npmList(capturedOf(f, "list").out, name, c.nameVersion)
		if err != nil {
			return Result{Failed: true, Msg: "Failed to parse NPM output with error " + err.Error()}, nil
		}
		switch state {
		case "present":
			if len(missing) > 0 {
				action = []string{"install"}
			}
		case "latest":
			if len(missing) > 0 {
				action = append(action, "install")
			}
			for _, line := range strings.Split(capturedOf(f, "outdated").out, "\n") {
				// The collection keeps each line's package name (the
				// header's too): any line means outdated.
				if line != "" {
					action = append(action, "update")
					break
				}
			}
		case "absent":
			if contains(installed, name) {
				action = []string{"uninstall"}
			}
		}
	}
	if len(action) == 0 {
		return Result{}, nil
	}
	if env.Check {
		return Result{Changed: true}, nil
	}
	var sc strings.Builder
	sc.WriteString(c.head())
	for i, a := range action {
		fmt.Fprintf(&sc, "_mdo_run r%d _mdo_npm %s || { _mdo_f failed %d; _mdo_f end 1; exit 0; }\n", i, c.cmd([]string{a}, true), i)
	}
	sc.WriteString("_mdo_f end 1\n")
	f, res, err := runScript(ctx, env, "npm", sc.String(), nil)
	if err != nil {
		return Result{}, err
	}
	if msg, ok := f.get("fail"); ok {
		return Result{Failed: true, Msg: msg}, nil
	}
	if _, ok := f.get("end"); !ok {
		return scriptFailure("npm", res), nil
	}
	if i, ok := f.get("failed"); ok {
		r := capturedOf(f, "r"+i)
		return Result{Failed: true, Msg: r.msg(), Values: map[string]any{"rc": r.rc, "stdout": r.out, "stderr": r.err}}, nil
	}
	return Result{Changed: true}, nil
}

// npmList is the collection's Npm.list: the installed names (and
// name@version) and the missing ones, from `npm list --json --long`.
func npmList(out, name, nameVersion string) (installed, missing []string, err error) {
	var data map[string]any
	if strings.TrimSpace(out) == "" {
		out = "{}"
	}
	if err := json.Unmarshal([]byte(out), &data); err != nil {
		return nil, nil, err
	}
	deps, ok := data["dependencies"].(map[string]any)
	if !ok {
		return nil, []string{name}, nil
	}
	for dep, p := range deps {
		props, _ := p.(map[string]any)
		if isTrue(props["missing"]) || isTrue(props["invalid"]) {
			missing = append(missing, dep)
			continue
		}
		installed = append(installed, dep)
		if v, ok := props["version"].(string); ok && v != "" {
			installed = append(installed, dep+"@"+v)
		}
	}
	if nameVersion != "" && !contains(installed, nameVersion) {
		missing = append(missing, name)
	}
	return installed, missing, nil
}

// isTrue is Python's truth of a JSON value that is there.
func isTrue(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case float64:
		return x != 0
	}
	return true
}
