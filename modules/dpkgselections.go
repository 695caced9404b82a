package modules

import (
	"context"
	"fmt"
	"strings"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// DpkgSelections is the dpkg_selections module
// (ansible.builtin.dpkg_selections): it reads a package's selection with
// `dpkg --get-selections NAME` and, when it differs, sets it with
// `dpkg --set-selections`, as ansible-core's module does, in one round
// trip. A package dpkg does not know fails, as in current ansible-core.
type DpkgSelections struct{}

var _ Module = DpkgSelections{}

// Spec describes dpkg_selections' arguments.
func (DpkgSelections) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "name", Type: TypeStr, Required: true},
			{Name: "selection", Type: TypeStr, Required: true, Choices: []string{"install", "hold", "deinstall", "purge"}},
		},
		CheckMode: true,
	}
}

// Run reads the selection and sets it when it differs.
func (DpkgSelections) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	name, selection := args.String("name"), args.String("selection")
	check := ""
	if env.Check {
		check = "1"
	}
	script := fmt.Sprintf("_mdo_n=%s\n_mdo_s=%s\n_mdo_c=%s\n", conn.Quote(name), conn.Quote(selection), check) +
		`export LANG=C LC_ALL=C LC_MESSAGES=C LC_CTYPE=C LANGUAGE=C
command -v dpkg >/dev/null 2>&1 || { _mdo_f fail "Failed to find required executable \"dpkg\" in paths: $PATH"; exit 0; }
_mdo_e=$(mktemp) || { _mdo_f fail "mktemp failed"; exit 0; }
_mdo_o=$(dpkg --get-selections "$_mdo_n" 2>"$_mdo_e"); _mdo_r=$?
_mdo_x=$(cat "$_mdo_e")
[ $_mdo_r -eq 0 ] || { rm -f "$_mdo_e"; _mdo_f fail "$_mdo_x"; exit 0; }
case $_mdo_x in *"no packages found matching"*) rm -f "$_mdo_e"; _mdo_f unknown 1; exit 0 ;; esac
if [ -z "$_mdo_o" ]; then _mdo_b="not present"; else _mdo_b=$(printf '%s\n' "$_mdo_o" | awk 'NR == 1 { print $2 }'); fi
_mdo_f before "$_mdo_b"
if [ "$_mdo_b" != "$_mdo_s" ] && [ -z "$_mdo_c" ]; then
  printf '%s %s\n' "$_mdo_n" "$_mdo_s" | dpkg --set-selections >/dev/null 2>"$_mdo_e" || { _mdo_f fail "$(cat "$_mdo_e")"; rm -f "$_mdo_e"; exit 0; }
fi
rm -f "$_mdo_e"
_mdo_f end 1
`
	f, res, err := runScript(ctx, env, "dpkg_selections", script, nil)
	if err != nil {
		return Result{}, err
	}
	if m, ok := f.get("fail"); ok {
		return Result{Failed: true, Msg: strings.TrimRight(m, " \t\n")}, nil
	}
	if _, ok := f.get("unknown"); ok {
		return Result{Failed: true, Msg: fmt.Sprintf("Failed to find package '%s' to perform selection '%s'.", name, selection)}, nil
	}
	if _, ok := f.get("end"); !ok {
		return scriptFailure("dpkg_selections", res), nil
	}
	before := f.str("before")
	return Result{Changed: before != selection, Values: map[string]any{"before": before, "after": selection}}, nil
}
