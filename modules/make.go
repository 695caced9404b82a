package modules

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/mdo-play/mdo-play/templates/pyjson"
)

// Make is community.general.make: it runs `make [-j N] [-f FILE] TARGET...
// PARAMS...` in chdir unless `make -q` with the same arguments says the
// targets are up to date. As in the collection, check mode reports
// changed when `make -q` exits non-zero and runs nothing else; a failing
// make fails with its stderr.
//
// One exec: the directory and the make binary are checked, `make -q` runs,
// and make itself when needed.
type Make struct{}

var _ Module = Make{}

// Spec describes make's arguments.
func (Make) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "target", Type: TypeStr},
			{Name: "targets", Type: TypeList},
			{Name: "params", Type: TypeDict},
			{Name: "chdir", Type: TypePath, Required: true},
			{Name: "file", Type: TypePath},
			{Name: "make", Type: TypePath},
			{Name: "jobs", Type: TypeInt},
		},
		MutuallyExclusive: [][]string{{"target", "targets"}},
		CheckMode:         true,
	}
}

// makeParams renders params as make's VAR=value words: Python's str() of
// each value (a null value gives the bare name), sorted by name (a Go
// mapping keeps no order).
func makeParams(params map[string]any) []string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		if v := params[k]; v != nil {
			out = append(out, k+"="+pyjson.Str(v))
		} else {
			out = append(out, k)
		}
	}
	return out
}

// Run brings the targets up to date.
func (Make) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	var words []string // after the make binary
	var jobs any
	if args.Has("jobs") {
		jobs = args.Int("jobs")
		words = append(words, "-j", fmt.Sprint(args.Int("jobs")))
	}
	var ex expander
	fileWord := ""
	if args.Has("file") {
		fileWord = ex.Word(args.String("file"), true)
	}
	var targets any
	if args.Has("targets") {
		targets = args.List("targets")
	}
	var tail []string
	if t := args.String("target"); t != "" {
		tail = append(tail, t)
	} else {
		tail = append(tail, args.Strings("targets")...)
	}
	var params any
	if args.Has("params") {
		params = args.Dict("params")
		tail = append(tail, makeParams(args.Dict("params"))...)
	}
	values := map[string]any{
		"target": nilIfAbsent(args, "target"), "targets": targets, "params": params,
		"file": nilIfAbsent(args, "file"), "jobs": jobs,
	}

	var sc strings.Builder
	chdirWord := ex.Word(args.String("chdir"), true)
	makeWord := `""`
	if args.Has("make") {
		makeWord = ex.Word(args.String("make"), true)
	}
	sc.WriteString(ex.Prelude())
	sc.WriteString(runCaptureScript)
	fmt.Fprintf(&sc, "_mdo_c=%s\n_mdo_f chdir \"$_mdo_c\"\n", chdirWord)
	sc.WriteString(`[ -d "$_mdo_c" ] || { _mdo_f fail "Provided cwd is not a valid directory: $_mdo_c"; exit 0; }
_mdo_o=$(cd -- "$_mdo_c" 2>&1) || { _mdo_f fail "Could not chdir to $_mdo_c, $_mdo_o"; exit 0; }
cd -- "$_mdo_c"
`)
	fmt.Fprintf(&sc, "_mdo_m=%s\n", makeWord)
	if fileWord != "" {
		fmt.Fprintf(&sc, "_mdo_ff=%s\n_mdo_f file \"$_mdo_ff\"\n", fileWord)
	}
	sc.WriteString(`if [ -z "$_mdo_m" ]; then
  _mdo_m=$(PATH=$PATH:/sbin:/usr/sbin:/usr/local/sbin command -v gmake) || _mdo_m=$(PATH=$PATH:/sbin:/usr/sbin:/usr/local/sbin command -v make) ||
    { _mdo_f fail "Failed to find required executable \"make\" in paths: $PATH:/sbin:/usr/sbin:/usr/local/sbin"; exit 0; }
fi
_mdo_f make "$_mdo_m"
`)
	args1 := quoteWords(words)
	if fileWord != "" {
		args1 = strings.TrimSpace(args1 + ` -f "$_mdo_ff"`)
	}
	all := strings.TrimSpace(args1 + " " + quoteWords(tail))
	fmt.Fprintf(&sc, "_mdo_run q \"$_mdo_m\" %s -q\n", all)
	if !env.Check {
		fmt.Fprintf(&sc, "[ \"$_mdo_r\" = 0 ] || _mdo_run run \"$_mdo_m\" %s\n", all)
	}
	sc.WriteString("_mdo_f end 1\n")
	f, res, err := runScript(ctx, env, "make", sc.String(), nil)
	if err != nil {
		return Result{}, err
	}
	values["chdir"] = f.str("chdir")
	if args.Has("file") {
		values["file"] = f.str("file")
	}
	if msg, ok := f.get("fail"); ok {
		return Result{Failed: true, Msg: msg, Values: values}, nil
	}
	if _, ok := f.get("end"); !ok {
		return scriptFailure("make", res), nil
	}
	// The command as the collection reports it: the make binary and its
	// arguments, each quoted with shlex.quote, without -q.
	cmdWords := append([]string{f.str("make")}, words...)
	if args.Has("file") {
		cmdWords = append(cmdWords, "-f", f.str("file"))
	}
	cmdWords = append(cmdWords, tail...)
	values["command"] = quoteWords(cmdWords)
	q, run := capturedOf(f, "q"), capturedOf(f, "run")
	last := q
	if run.ran {
		last = run
	}
	values["stdout"], values["stderr"] = last.out, last.err
	if run.ran && run.rc != 0 {
		values["cmd"], values["rc"] = values["command"], run.rc
		return Result{Failed: true, Msg: run.msg(), Values: values}, nil
	}
	return Result{Changed: q.rc != 0, Values: values}, nil
}
