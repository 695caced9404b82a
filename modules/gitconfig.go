package modules

import (
	"context"
	"fmt"
	"strings"

	"github.com/mdo-play/mdo-play/modules/conn"
	"github.com/mdo-play/mdo-play/templates/pyjson"
)

// GitConfig is community.general.git_config: it reads, sets or unsets one
// setting with `git config --includes [--SCOPE | -f FILE]`, or lists them
// all (list_all). As in the collection, the scope defaults to system, the
// current values are read with `--get-all` (rc 1 means unset), nothing is
// written when the value is already the only one (or among them, with
// add_mode add), and a write that prints anything on stderr fails.
//
// One exec reads; a change costs one more that writes (none in check mode).
type GitConfig struct{}

var _ Module = GitConfig{}

// Spec describes git_config's arguments.
func (GitConfig) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "list_all", Type: TypeBool, Default: false},
			{Name: "name", Type: TypeStr},
			{Name: "repo", Type: TypePath},
			{Name: "file", Type: TypePath},
			{Name: "add_mode", Type: TypeStr, Default: "replace-all", Choices: []string{"add", "replace-all"}},
			{Name: "scope", Type: TypeStr, Choices: []string{"file", "local", "global", "system"}},
			{Name: "state", Type: TypeStr, Default: "present", Choices: []string{"present", "absent"}},
			// Ansible's default type, str: Python's str() of a YAML
			// boolean or number (`True`, `1`).
			{Name: "value", Type: TypeRaw},
		},
		// The collection's required_one_of list_all/name is always met
		// (list_all has a default): without either, git's usage error
		// fails the task.
		MutuallyExclusive: [][]string{{"list_all", "name"}, {"list_all", "value"}, {"list_all", "state"}},
		CheckMode:         true,
	}
}

// gitConfigEnv is the collection's run_command_environ_update.
const gitConfigEnv = "LANG=C LC_ALL=C LC_MESSAGES=C LC_CTYPE=C; export LANG LC_ALL LC_MESSAGES LC_CTYPE\n"

// Run reads or changes the setting.
func (GitConfig) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	scope, listAll := args.String("scope"), args.Bool("list_all")
	for _, ri := range []struct{ scope, need string }{{"local", "repo"}, {"file", "file"}} {
		if scope == ri.scope && !args.Has(ri.need) {
			return Result{Failed: true, Msg: fmt.Sprintf("scope is %s but all of the following are missing: %s", ri.scope, ri.need)}, nil
		}
	}
	name := args.String("name")
	unset := args.String("state") == "absent"
	newValue := ""
	if v := args["value"]; v != nil {
		newValue = pyjson.Str(v)
	}
	addMode := args.String("add_mode")
	if scope == "" && !listAll {
		scope = "system"
	}

	var ex expander
	var sc strings.Builder
	fileWord, cwdWord := "", "/"
	if scope == "file" {
		fileWord = ex.Word(args.String("file"), true)
	}
	if scope == "local" || listAll && args.Has("repo") {
		cwdWord = ex.Word(args.String("repo"), true)
	}
	// head finds git, sets the locale, and puts the scope's arguments in
	// $@ (after config --includes).
	head := func() string {
		var h strings.Builder
		h.WriteString(ex.Prelude())
		h.WriteString(gitConfigEnv)
		h.WriteString(runCaptureScript)
		h.WriteString(`_mdo_g=$(PATH=$PATH:/sbin:/usr/sbin:/usr/local/sbin command -v git) ||
  { _mdo_f fail "Failed to find required executable \"git\" in paths: $PATH:/sbin:/usr/sbin:/usr/local/sbin"; exit 0; }
_mdo_f git "$_mdo_g"
`)
		switch scope {
		case "file":
			fmt.Fprintf(&h, "_mdo_ff=%s\n_mdo_f file \"$_mdo_ff\"\nset -- -f \"$_mdo_ff\"\n", fileWord)
		case "":
			h.WriteString("set --\n")
		default:
			fmt.Fprintf(&h, "set -- --%s\n", scope)
		}
		fmt.Fprintf(&h, "_mdo_c=%s\n_mdo_f cwd \"$_mdo_c\"\n", cwdWord)
		return h.String()
	}
	sc.WriteString(head())
	sc.WriteString("if [ -d \"$_mdo_c\" ]; then cd -- \"$_mdo_c\"; else cd /; fi\n")
	list := ""
	if listAll {
		list += " -l"
	}
	if name != "" {
		list += " --get-all " + conn.Quote(name)
	}
	fmt.Fprintf(&sc, "_mdo_run l \"$_mdo_g\" config --includes \"$@\"%s\n_mdo_f end 1\n", list)
	f, res, err := runScript(ctx, env, "git_config", sc.String(), nil)
	if err != nil {
		return Result{}, err
	}
	if msg, ok := f.get("fail"); ok {
		return Result{Failed: true, Msg: msg}, nil
	}
	if _, ok := f.get("end"); !ok {
		return scriptFailure("git_config", res), nil
	}
	base := []string{f.str("git"), "config", "--includes"}
	switch scope {
	case "file":
		base = append(base, "-f", f.str("file"))
	case "":
	default:
		base = append(base, "--"+scope)
	}
	listArgs := append([]string(nil), base...)
	if listAll {
		listArgs = append(listArgs, "-l")
	}
	if name != "" {
		listArgs = append(listArgs, "--get-all", name)
	}
	l := capturedOf(f, "l")
	switch {
	case listAll && scope != "" && l.rc == 128 && strings.Contains(l.err, "unable to read config file"):
		return Result{Values: map[string]any{"config_values": map[string]any{}}}, nil
	case l.rc >= 2:
		return Result{Failed: true, Msg: l.err, Values: map[string]any{"rc": l.rc, "cmd": strings.Join(listArgs, " ")}}, nil
	}
	var old []string
	if o := strings.TrimRight(l.out, " \t\r\n"); o != "" {
		old = strings.Split(o, "\n")
	}
	switch {
	case listAll:
		values := map[string]any{}
		for _, line := range old {
			k, v, _ := strings.Cut(line, "=")
			values[k] = v
		}
		return Result{Values: map[string]any{"config_values": values}}, nil
	case newValue == "" && !unset:
		first := ""
		if len(old) > 0 {
			first = old[0]
		}
		return Result{Values: map[string]any{"config_value": first}}, nil
	case unset && l.out == "":
		return Result{Msg: "no setting to unset"}, nil
	case contains(old, newValue) && (len(old) == 1 || addMode == "add") && !unset:
		return Result{}, nil
	}

	setArgs := append([]string(nil), base...)
	var after []string
	if unset {
		setArgs = append(setArgs, "--unset-all", name)
	} else {
		setArgs = append(setArgs, "--"+addMode, name, newValue)
		after = []string{newValue}
		if addMode == "add" {
			after = append(append([]string(nil), old...), newValue)
		}
	}
	r := Result{Changed: true, Msg: "setting changed"}
	hdr := strings.Join(setArgs, " ")
	r.Diff = []Diff{{BeforeHeader: hdr, AfterHeader: hdr, Before: gitConfigDiffValue(old), After: gitConfigDiffValue(after)}}
	if env.Check {
		return r, nil
	}
	sc.Reset()
	sc.WriteString(head())
	sc.WriteString(`case $_mdo_c in /*) ;; *) _mdo_c=$(pwd)/$_mdo_c ;; esac
[ -d "$_mdo_c" ] || { _mdo_f fail "Provided cwd is not a valid directory: $_mdo_c"; exit 0; }
cd -- "$_mdo_c" || { _mdo_f fail "Could not chdir to $_mdo_c"; exit 0; }
`)
	fmt.Fprintf(&sc, "_mdo_run s \"$_mdo_g\" config --includes \"$@\" %s\n_mdo_f end 1\n", quoteWords(setArgs[len(base):]))
	f, res, err = runScript(ctx, env, "git_config", sc.String(), nil)
	if err != nil {
		return Result{}, err
	}
	if msg, ok := f.get("fail"); ok {
		return Result{Failed: true, Msg: msg}, nil
	}
	if _, ok := f.get("end"); !ok {
		return scriptFailure("git_config", res), nil
	}
	if s := capturedOf(f, "s"); s.err != "" {
		return Result{Failed: true, Msg: s.err, Values: map[string]any{"rc": s.rc, "cmd": anyList(setArgs)}}, nil
	}
	return r, nil
}

// gitConfigDiffValue is the collection's build_diff_value, with several
// values shown one per line.
func gitConfigDiffValue(v []string) string {
	if len(v) == 0 {
		return "\n"
	}
	return strings.Join(v, "\n") + "\n"
}
