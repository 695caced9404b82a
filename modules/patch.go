package modules

import (
	"context"
	"fmt"
	"strings"
)

// Patch is ansible.posix.patch: it applies (or, state absent, reverts) a
// patch with GNU patch, as the collection's module does: a dry run in the
// other direction (`--reverse` for present) decides whether it is already
// applied; otherwise patch runs with `--forward --batch --reject-file=-`
// (with `--dry-run` in check mode). Without remote_src the patch is read
// on the controller (a role's files/ first, as the action plugin looks it
// up) and sent on stdin into a temporary file on the target.
//
// One exec in all cases.
type Patch struct{}

var _ Module = Patch{}

// Spec describes patch's arguments.
func (Patch) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "src", Aliases: []string{"patchfile"}, Type: TypePath, Required: true},
			{Name: "dest", Aliases: []string{"originalfile"}, Type: TypePath},
			{Name: "basedir", Type: TypePath},
			{Name: "strip", Type: TypeInt, Default: 0},
			{Name: "remote_src", Type: TypeBool, Default: false},
			{Name: "backup", Type: TypeBool, Default: false},
			{Name: "binary", Type: TypeBool, Default: false},
			{Name: "state", Type: TypeStr, Default: "present", Choices: []string{"absent", "present"}},
		},
		RequiredOneOf: [][]string{{"dest", "basedir"}},
		CheckMode:     true,
	}
}

// Run applies or reverts the patch.
func (Patch) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	var ex expander
	var stdin []byte
	var sc strings.Builder
	srcWord := ""
	if args.Bool("remote_src") {
		srcWord = ex.Word(args.String("src"), true)
	} else {
		src := args.String("src")
		full := src
		if env.Files != nil {
			f, err := env.Files.Find("files", src)
			if err != nil {
				return Result{Failed: true, Msg: fmt.Sprintf("Could not find or access '%s' on the Ansible Controller.", src)}, nil
			}
			full = f
		}
		b, err := env.ReadFile(full)
		if err != nil {
			return Result{Failed: true, Msg: fmt.Sprintf("Could not find or access '%s' on the Ansible Controller.", src)}, nil
		}
		stdin = b
	}
	destWord, baseWord := "", ""
	if args.Has("dest") {
		destWord = ex.Word(args.String("dest"), true)
	}
	if args.Has("basedir") {
		baseWord = ex.Word(args.String("basedir"), true)
	}
	sc.WriteString(ex.Prelude())
	sc.WriteString(runCaptureScript)
	if stdin != nil {
		sc.WriteString(`_mdo_s=$(mktemp) || { _mdo_f fail "mktemp failed"; exit 0; }
trap 'rm -f -- "$_mdo_e" "$_mdo_s"' EXIT
cat >"$_mdo_s"
`)
	} else {
		fmt.Fprintf(&sc, "_mdo_s=%s\n", srcWord)
	}
	sc.WriteString(`[ -r "$_mdo_s" ] || { _mdo_f fail "src $_mdo_s doesn't exist or not readable"; exit 0; }
`)
	if destWord != "" {
		fmt.Fprintf(&sc, "_mdo_d=%s\n", destWord)
		sc.WriteString(`[ -w "$_mdo_d" ] || { _mdo_f fail "dest $_mdo_d doesn't exist or not writable"; exit 0; }
`)
	}
	if baseWord != "" {
		fmt.Fprintf(&sc, "_mdo_b=%s\n", baseWord)
		sc.WriteString(`[ -e "$_mdo_b" ] || [ -L "$_mdo_b" ] || { _mdo_f fail "basedir $_mdo_b doesn't exist"; exit 0; }
`)
	} else {
		sc.WriteString(`_mdo_b=$(dirname -- "$_mdo_d")
`)
	}
	sc.WriteString(`_mdo_p=$(PATH=$PATH:/sbin:/usr/sbin:/usr/local/sbin command -v patch) || { _mdo_f fail "patch command not found"; exit 0; }
case $_mdo_s in /*) ;; *) _mdo_s=$(pwd)/$_mdo_s ;; esac
`)
	common := fmt.Sprintf(` --strip=%d --directory="$_mdo_b" --input="$_mdo_s"`, args.Int("strip"))
	var tail, applyTail string
	if args.Bool("binary") {
		tail += " --binary"
	}
	if destWord != "" {
		tail += ` "$_mdo_d"`
	}
	applyTail = tail
	if env.Check {
		applyTail = " --dry-run" + tail
	}
	if args.Bool("backup") {
		applyTail += " --backup --version-control=numbered"
	}
	if args.String("state") == "present" {
		tail += " --reverse"
	} else {
		applyTail += " --reverse"
	}
	fmt.Fprintf(&sc, "_mdo_run chk \"$_mdo_p\" --quiet --forward%s --dry-run%s && { _mdo_f end 1; exit 0; }\n", common, tail)
	fmt.Fprintf(&sc, "_mdo_run apply \"$_mdo_p\" --quiet --forward --batch --reject-file=-%s%s\n_mdo_f end 1\n", common, applyTail)
	f, res, err := runScript(ctx, env, "patch", sc.String(), stdin)
	if err != nil {
		return Result{}, err
	}
	if msg, ok := f.get("fail"); ok {
		return Result{Failed: true, Msg: msg}, nil
	}
	if _, ok := f.get("end"); !ok {
		return scriptFailure("patch", res), nil
	}
	a := capturedOf(f, "apply")
	if !a.ran {
		return Result{}, nil
	}
	if a.rc != 0 {
		msg := a.err
		if msg == "" {
			msg = a.out
		}
		return Result{Failed: true, Msg: msg}, nil
	}
	return Result{Changed: true}, nil
}
