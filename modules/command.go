package modules

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// Command is the command module: it runs a program with its arguments on
// the target, without a shell (the argument vector is quoted word by word).
//
// Check mode follows Ansible: without creates/removes the call is skipped;
// with them the target is asked (one round trip) and the result says
// whether the command would run. Spec.CheckMode is therefore true.
type Command struct {
	// Now is the clock for start, end and delta; nil means time.Now.
	Now func() time.Time
}

var _ Module = Command{}

// commandArgs are the arguments command and shell share.
func commandArgs() []Arg {
	return []Arg{
		{Name: "cmd", Type: TypeStr},
		{Name: "chdir", Type: TypePath},
		{Name: "executable", Type: TypeStr},
		{Name: "creates", Type: TypePath},
		{Name: "removes", Type: TypePath},
		{Name: "stdin", Type: TypeStr},
		{Name: "stdin_add_newline", Type: TypeBool, Default: true},
		{Name: "strip_empty_ends", Type: TypeBool, Default: true},
	}
}

// Spec describes command's arguments.
func (Command) Spec() *Spec {
	args := append(commandArgs(),
		Arg{Name: "argv", Type: TypeList},
		Arg{Name: "expand_argument_vars", Type: TypeBool, Default: true},
	)
	return &Spec{Args: args, FreeForm: true, CheckMode: true}
}

// Run runs the command.
func (m Command) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	return runCommand(ctx, env, args, false, m.Now)
}

// Status words the command script prints first on stdout, NUL-terminated.
const (
	stChdir    = "chdir"
	stCreates  = "creates"
	stRemoves  = "removes"
	stNotFound = "notfound"
	stCheck    = "check"
	stRun      = "run"
)

// runCommand is command and shell: one script that changes directory,
// decides creates/removes and then execs the program, so a call costs one
// round trip.
func runCommand(ctx context.Context, env *Env, args Args, shell bool, now func() time.Time) (Result, error) {
	if now == nil {
		now = time.Now
	}
	raw, badRaw := freeForm(args)
	values := map[string]any{
		"cmd": nil, "rc": nil, "stdout": "", "stderr": "",
		"stdout_lines": []string{}, "stderr_lines": []string{},
		"start": nil, "end": nil, "delta": nil,
	}
	fail := func(rc any, msg string) (Result, error) {
		values["rc"] = rc
		return Result{Failed: true, Msg: msg, Values: values}, nil
	}
	if badRaw != "" {
		return fail(256, badRaw)
	}
	argv := args.Strings("argv")
	var warnings []string
	executable := args.String("executable")
	if !shell && executable != "" {
		warnings = append(warnings, fmt.Sprintf("As of Ansible 2.4, the parameter 'executable' is no longer supported with the 'command' module. Not using '%s'.", executable))
		executable = ""
	}
	if strings.TrimSpace(raw) == "" && len(argv) == 0 {
		return fail(256, "no command given")
	}
	if raw != "" && len(argv) > 0 {
		return fail(256, "only command or argv can be given, not both")
	}

	var e expander
	var precheck, run string // the script's last lines: the program itself
	if shell {
		values["cmd"] = raw
		if executable == "" {
			executable = "/bin/sh"
		}
		run = "exec " + conn.Quote(executable) + " -c " + conn.Quote(raw)
	} else {
		if raw != "" {
			var err error
			argv, err = SplitShlex(raw)
			if err != nil {
				return fail(256, err.Error())
			}
		}
		values["cmd"] = argv
		expand := !args.Has("expand_argument_vars") || args.Bool("expand_argument_vars")
		words := make([]string, len(argv))
		for i, a := range argv {
			words[i] = e.Word(a, expand)
		}
		// exec would fail with rc 127; Ansible reports a missing program
		// as errno 2 with rc 2.
		precheck = "command -v " + words[0] + " >/dev/null 2>&1 || { printf '" + stNotFound + "\\0'; exit 2; }\n"
		run = "exec " + strings.Join(words, " ")
	}

	creates, removes := args.String("creates"), args.String("removes")
	if env.Check && creates == "" && removes == "" {
		values["rc"] = 0
		return Result{Skipped: true, Msg: "Command would have run if not in check mode", Values: values, Warnings: warnings}, nil
	}

	var stdin []byte
	if args.Has("stdin") {
		stdin = []byte(args.String("stdin"))
		if !args.Has("stdin_add_newline") || args.Bool("stdin_add_newline") {
			stdin = append(stdin, '\n')
		}
	}
	strip := !args.Has("strip_empty_ends") || args.Bool("strip_empty_ends")
	// A shell command with nothing to decide before it is the script
	// itself: the connection runs it as `/bin/sh -c SCRIPT`, exactly as
	// `exec /bin/sh -c CMD` would, without a second shell process.
	direct := shell && executable == "/bin/sh" && !env.Check && args.String("chdir") == "" && creates == "" && removes == ""
	if direct {
		start := now()
		res, err := env.Conn.Exec(ctx, conn.Command{Script: raw, Stdin: stdin})
		end := now()
		if err != nil {
			return Result{}, fmt.Errorf("run command: %w", err)
		}
		return ranResult(values, warnings, res, start, end, strip), nil
	}

	var sc strings.Builder
	if dir := args.String("chdir"); dir != "" {
		w := e.Word(dir, true)
		fmt.Fprintf(&sc, "cd -- %s || { printf '%s\\0'; exit 1; }\n", w, stChdir)
	}
	if creates != "" {
		fmt.Fprintf(&sc, "_mdo_p=%s\n%s", e.Word(creates, true), globTest("_mdo_p", fmt.Sprintf("printf '%s\\0%%s\\0' \"$_mdo_p\"; exit 0", stCreates), ""))
	}
	if removes != "" {
		fmt.Fprintf(&sc, "_mdo_p=%s\n%s", e.Word(removes, true), globTest("_mdo_p", "", fmt.Sprintf("printf '%s\\0%%s\\0' \"$_mdo_p\"; exit 0", stRemoves)))
	}
	if env.Check {
		fmt.Fprintf(&sc, "printf '%s\\0'; exit 0\n", stCheck)
	} else {
		fmt.Fprintf(&sc, "%sprintf '%s\\0'\n%s\n", precheck, stRun, run)
	}

	start := now()
	res, err := env.Conn.Exec(ctx, conn.Command{Script: e.Prelude() + sc.String(), Stdin: stdin})
	end := now()
	if err != nil {
		return Result{}, fmt.Errorf("run command: %w", err)
	}
	status, stdout, _ := bytes.Cut(res.Stdout, []byte{0})
	stderr := string(res.Stderr)
	switch string(status) {
	case stChdir:
		return fail(nil, "Unable to change directory before execution: "+strings.TrimRight(stderr, "\r\n"))
	case stCreates, stRemoves:
		path, _, _ := bytes.Cut(stdout, []byte{0})
		shoulda := "Did"
		if env.Check {
			shoulda = "Would"
		}
		var msg, out string
		if string(status) == stCreates {
			msg = fmt.Sprintf("%s not run command since '%s' exists", shoulda, path)
			out = fmt.Sprintf("skipped, since %s exists", path)
		} else {
			msg = fmt.Sprintf("%s not run command since '%s' does not exist", shoulda, path)
			out = fmt.Sprintf("skipped, since %s does not exist", path)
		}
		for k, v := range outputValues(0, out, "") {
			values[k] = v
		}
		return Result{Msg: msg, Values: values, Warnings: warnings}, nil
	case stNotFound:
		return fail(2, fmt.Sprintf("[Errno 2] No such file or directory: b'%s'", argv[0]))
	case stCheck:
		values["rc"] = 0
		return Result{Changed: true, Msg: "Command would have run if not in check mode", Values: values, Warnings: warnings}, nil
	case stRun:
	default:
		// The script never reached the program: the shell itself failed.
		return fail(res.RC, fmt.Sprintf("command script failed (rc %d): %s", res.RC, strings.TrimSpace(stderr)))
	}
	res.Stdout = stdout
	return ranResult(values, warnings, res, start, end, strip), nil
}

// ranResult is the result of a program that ran from start to end: its
// rc, output (trailing newlines stripped when strip) and times.
func ranResult(values map[string]any, warnings []string, res conn.ExecResult, start, end time.Time, strip bool) Result {
	out, stderr := string(res.Stdout), string(res.Stderr)
	if strip {
		out = strings.TrimRight(out, "\r\n")
		stderr = strings.TrimRight(stderr, "\r\n")
	}
	for k, v := range outputValues(res.RC, out, stderr) {
		values[k] = v
	}
	values["start"] = PyTime(start)
	values["end"] = PyTime(end)
	values["delta"] = PyDelta(end.Sub(start))
	r := Result{Changed: true, Values: values, Warnings: warnings}
	if res.RC != 0 {
		r.Failed = true
		r.Msg = "non-zero return code"
	}
	return r
}

// globTest returns shell code that expands the pattern in variable v as
// Python's glob.glob does and runs found when something matches, else
// notFound.
func globTest(v, found, notFound string) string {
	if found == "" {
		found = ":"
	}
	if notFound == "" {
		notFound = ":"
	}
	return "_mdo_found=\nIFS=\nfor _mdo_f in $" + v + "; do if [ -e \"$_mdo_f\" ] || [ -L \"$_mdo_f\" ]; then _mdo_found=1; break; fi; done\n" +
		"unset IFS\n" +
		"if [ -n \"$_mdo_found\" ]; then " + found + "; else " + notFound + "; fi\n"
}

// freeForm returns the command string from the free form or cmd, or, when
// both are given, Ansible's message for that.
func freeForm(args Args) (raw, bad string) {
	if v, ok := args[RawParams]; ok && v != nil {
		raw = fmt.Sprint(v)
	}
	if c := args.String("cmd"); c != "" {
		if strings.TrimSpace(raw) != "" {
			return "", "The 'cmd' argument cannot be used when other raw parameters are specified."
		}
		raw = c
	}
	return raw, ""
}
