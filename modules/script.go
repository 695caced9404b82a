package modules

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// Script is the script module: a controller-side script is sent to a
// private temporary directory on the target, run with its arguments (as
// Ansible does, the arguments are shell words), and removed, all in one
// exec; creates and removes are decided in the same exec.
type Script struct{}

var _ Module = Script{}

// Spec describes script's arguments.
func (Script) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "cmd", Type: TypeStr},
			{Name: "creates", Type: TypePath},
			{Name: "removes", Type: TypePath},
			{Name: "chdir", Type: TypePath},
			{Name: "executable", Type: TypeStr},
			{Name: "decrypt", Type: TypeBool, Default: true},
		},
		FreeForm: true,
	}
}

// Run uploads and runs the script.
func (Script) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	raw, bad := freeForm(args)
	fail := func(msg string) (Result, error) { return Result{Failed: true, Msg: msg}, nil }
	if bad != "" {
		return fail(bad)
	}
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return fail("script requires a path to a local script")
	}
	// The first shell word is the script; the rest stays shell text.
	toks, err := tokenize(raw)
	if err != nil || len(toks) == 0 {
		return fail(fmt.Sprintf("script: cannot parse %q", raw))
	}
	name, rest := toks[0].value, strings.TrimSpace(raw[len(toks[0].text):])
	full := name
	if env.Files != nil {
		f, err := env.Files.Find("files", name)
		if err != nil {
			return fail(fmt.Sprintf("Could not find or access '%s' on the Ansible Controller.", name))
		}
		full = f
	}
	content, err := env.ReadFile(full)
	if err != nil {
		return fail(fmt.Sprintf("Could not find or access '%s' on the Ansible Controller.", name))
	}
	var e expander
	var sc strings.Builder
	if c := args.String("creates"); c != "" {
		fmt.Fprintf(&sc, "_mdo_p=%s\n%s", e.Word(c, true), globTest("_mdo_p", "printf 'skip\\0%s exists, matching creates option\\0' \"$_mdo_p\"; exit 0", ""))
	}
	if r := args.String("removes"); r != "" {
		fmt.Fprintf(&sc, "_mdo_p=%s\n%s", e.Word(r, true), globTest("_mdo_p", "", "printf 'skip\\0%s does not exist, matching removes option\\0' \"$_mdo_p\"; exit 0"))
	}
	if dir := args.String("chdir"); dir != "" {
		fmt.Fprintf(&sc, "cd -- %s || { printf 'fail\\0Unable to change directory\\0'; exit 1; }\n", e.Word(dir, true))
	}
	base := filepath.Base(full)
	run := "\"$_mdo_d\"/" + conn.Quote(base)
	if x := args.String("executable"); x != "" {
		run = x + " " + run
	}
	fmt.Fprintf(&sc, `_mdo_d=$(umask 077; mktemp -d "${TMPDIR:-/tmp}/.mdo-script-XXXXXXXXXX") || { printf 'fail\0mktemp\0'; exit 1; }
trap 'rm -rf -- "$_mdo_d"' EXIT
trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 143' TERM
cat > "$_mdo_d"/%s && chmod 700 "$_mdo_d"/%s || { printf 'fail\0upload\0'; exit 1; }
[ "$(wc -c < "$_mdo_d"/%s)" -eq %d ] || { printf 'fail\0short upload\0'; exit 1; }
printf 'run\0'
%s %s </dev/null
`, conn.Quote(base), conn.Quote(base), conn.Quote(base), len(content), run, rest)
	res, err := env.Conn.Exec(ctx, conn.Command{Script: e.Prelude() + sc.String(), Stdin: content})
	if err != nil {
		return Result{}, fmt.Errorf("script %s: %w", name, err)
	}
	status, out, _ := bytes.Cut(res.Stdout, []byte{0})
	switch string(status) {
	case "skip":
		msg, _, _ := bytes.Cut(out, []byte{0})
		return Result{Msg: string(msg), Values: map[string]any{"rc": 0, "stdout": string(msg), "stdout_lines": SplitLines(string(msg)), "stderr": "", "stderr_lines": []string{}}}, nil
	case "fail":
		msg, _, _ := bytes.Cut(out, []byte{0})
		return fail(fmt.Sprintf("%s: %s", msg, strings.TrimSpace(string(res.Stderr))))
	case "run":
	default:
		return fail(fmt.Sprintf("script failed (rc %d): %s", res.RC, strings.TrimSpace(string(res.Stderr))))
	}
	r := Result{Changed: true, Values: outputValues(res.RC, string(out), string(res.Stderr))}
	if res.RC != 0 {
		r.Failed = true
		r.Msg = "non-zero return code"
	}
	return r, nil
}
