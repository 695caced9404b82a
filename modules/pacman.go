package modules

import (
	"context"
	"fmt"
	"strings"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// Pacman is community.general.pacman: it installs, upgrades and removes
// Arch Linux packages (names, groups, files and URLs), refreshes the
// package database and upgrades the system, following the collection's
// pacman.py (the same pacman queries and commands, msg and packages
// return keys). One script per call. Not supported: reason/reason_for
// (refused with a message) and the per-package diff.
//
// Tested only against a stand-in: pacman does not run on the test
// machines, so pacman_test.go puts a shell script named pacman first on
// PATH that records its arguments and answers the queries in pacman's
// output formats (taken from pacman.py's parsing code).
type Pacman struct{}

// Spec describes pacman's arguments.
func (Pacman) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "name", Aliases: []string{"pkg", "package"}, Type: TypeList},
			{Name: "state", Type: TypeStr, Default: "present", Choices: []string{"present", "installed", "latest", "absent", "removed"}},
			{Name: "force", Type: TypeBool, Default: false},
			{Name: "remove_nosave", Type: TypeBool, Default: false},
			{Name: "executable", Type: TypeStr, Default: "pacman"},
			{Name: "extra_args", Type: TypeStr, Default: ""},
			{Name: "upgrade", Type: TypeBool},
			{Name: "upgrade_extra_args", Type: TypeStr, Default: ""},
			{Name: "update_cache", Aliases: []string{"update-cache"}, Type: TypeBool},
			{Name: "update_cache_extra_args", Type: TypeStr, Default: ""},
			{Name: "reason", Type: TypeStr, Choices: []string{"explicit", "dependency"}},
			{Name: "reason_for", Type: TypeStr, Default: "new", Choices: []string{"new", "all"}},
		},
		RequiredOneOf:     [][]string{{"name", "update_cache", "upgrade"}},
		MutuallyExclusive: [][]string{{"name", "upgrade"}},
		CheckMode:         true,
	}
}

// pacmanScript holds the shell functions of the pacman script; the
// variables _mdo_pm (the executable), _mdo_check and the word lists
// _mdo_x (extra_args), _mdo_ux, _mdo_cx are set before it.
const pacmanScript = `_mdo_msgs=; _mdo_msg() { _mdo_msgs="${_mdo_msgs:+$_mdo_msgs
}$1"; }
_mdo_out=; _mdo_err=; _mdo_e=$(mktemp) || exit 1; trap 'rm -f -- "$_mdo_e"' EXIT
_mdo_run() { _mdo_o=$("$@" 2>"$_mdo_e"); _mdo_rc=$?; _mdo_out="${_mdo_out:+$_mdo_out
}$_mdo_o"; _mdo_se=$(cat -- "$_mdo_e"); _mdo_err="${_mdo_err:+$_mdo_err
}$_mdo_se"; return $_mdo_rc; }
_mdo_done() { _mdo_f changed $_mdo_ch; _mdo_f msg "$_mdo_msgs"; _mdo_f stdout "$_mdo_out"; _mdo_f stderr "$_mdo_err"; _mdo_f end 1; exit 0; }
_mdo_fail() { _mdo_msg "$1"; _mdo_f failed 1; _mdo_done; }
_mdo_ch=0
command -v "$_mdo_pm" >/dev/null 2>&1 || { _mdo_f failed 1; _mdo_f msg "Failed to find required executable \"$_mdo_pm\" in paths: $PATH"; _mdo_f end 1; exit 0; }
`

// Run does what the arguments ask, in pacman.py's order: refresh the
// database, then upgrade or install/remove.
func (Pacman) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	if args.Has("reason") {
		return Result{Failed: true, Msg: "pacman: reason/reason_for are not supported by mdo-play"}, nil
	}
	var sc strings.Builder
	check := "0"
	if env.Check {
		check = "1"
	}
	fmt.Fprintf(&sc, "_mdo_pm=%s; _mdo_check=%s\n", conn.Quote(args.String("executable")), check)
	for _, x := range [][2]string{{"_mdo_x", "extra_args"}, {"_mdo_ux", "upgrade_extra_args"}, {"_mdo_cx", "update_cache_extra_args"}} {
		v, a := x[0], x[1]
		words, err := SplitShlex(args.String(a))
		if err != nil {
			return Result{Failed: true, Msg: fmt.Sprintf("%s: %v", a, err)}, nil
		}
		fmt.Fprintf(&sc, "%s=%s\n", v, conn.Quote(quoteWords(words)))
	}
	sc.WriteString(pacmanScript)
	if args.Bool("update_cache") {
		force := args.Bool("force")
		sc.WriteString(`if [ $_mdo_check = 1 ]; then _mdo_msg "Would have updated the package db"; _mdo_ch=1; _mdo_f cache_updated 1
else
`)
		if !force {
			sc.WriteString("  _mdo_pre=$(\"$_mdo_pm\" --sync --list | sort) || _mdo_fail \"could not list the package db\"\n")
		}
		fmt.Fprintf(&sc, "  eval \"_mdo_run \\\"\\$_mdo_pm\\\" --sync --refresh $_mdo_cx%s\"; _mdo_rc=$?\n", map[bool]string{true: " --refresh", false: ""}[force])
		if force {
			sc.WriteString("  _mdo_ch=1\n")
		} else {
			sc.WriteString("  [ \"$_mdo_pre\" = \"$(\"$_mdo_pm\" --sync --list | sort)\" ] || _mdo_ch=1\n")
		}
		sc.WriteString(`  _mdo_f cache_updated $_mdo_ch
  [ $_mdo_rc = 0 ] || _mdo_fail "could not update package db"
  _mdo_msg "Updated package db"
fi
`)
		if !args.Has("name") && !args.Bool("upgrade") {
			sc.WriteString("_mdo_done\n")
		}
	}
	// the inventory (pacman.py's _build_inventory)
	sc.WriteString(`_mdo_inst=$("$_mdo_pm" --query) || _mdo_fail "could not list installed packages"
_mdo_db=$("$_mdo_pm" --sync --list) || _mdo_fail "could not list the package db"
_mdo_grp=$("$_mdo_pm" --sync --groups --groups) || _mdo_fail "could not list package groups"
_mdo_upg=$("$_mdo_pm" --query --upgrades 2>/dev/null); _mdo_rc=$?
if [ $_mdo_rc = 1 ] && [ -z "$_mdo_upg" ]; then _mdo_upg=
elif [ $_mdo_rc = 0 ]; then _mdo_upg=$(printf '%s\n' "$_mdo_upg" | awk 'NF && !/\[ignored\]/ { if (NF != 4) { print "invalid " $0; exit 1 } print $1, $2, $4 }') || _mdo_fail "Invalid line: ${_mdo_upg#invalid }"
else _mdo_fail "Couldn't get list of packages available for upgrade"; fi
_mdo_has() { printf '%s\n' "$2" | awk -v n="$1" -v c="$3" '$c == n { f = 1 } END { exit !f }'; }
`)
	if args.Bool("upgrade") {
		sc.WriteString(`if [ -z "$_mdo_upg" ]; then _mdo_msg "Nothing to upgrade"; _mdo_done; fi
_mdo_ch=1
printf '%s\n' "$_mdo_upg" | while read -r _mdo_p _mdo_a _mdo_b; do _mdo_f packages "$_mdo_p"; done
if [ $_mdo_check = 1 ]; then _mdo_msg "$(printf '%s\n' "$_mdo_upg" | wc -l | tr -d ' ') packages would have been upgraded"; _mdo_done; fi
eval "_mdo_run \"\$_mdo_pm\" --sync --sysupgrade --quiet --noconfirm $_mdo_ux" || _mdo_fail "Could not upgrade"
_mdo_msg "System upgraded"
_mdo_done
`)
	}
	if args.Has("name") {
		state := args.String("state")
		absent := state == "absent" || state == "removed"
		sc.WriteString("set --")
		for _, n := range args.Strings("name") {
			if n != "" {
				sc.WriteString(" " + conn.Quote(n))
			}
		}
		sc.WriteString("\n")
		// package_list: groups expand to their members; names known to
		// the database or installed stay; anything else is asked of
		// pacman --sync, then --upgrade (a file or URL).
		sc.WriteString(`_mdo_sync=; _mdo_url=; _mdo_names=
_mdo_q() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
for _mdo_n; do
  _mdo_m=$(printf '%s\n' "$_mdo_grp" | awk -v g="$_mdo_n" '$1 == g { print $2 }')
  if [ -n "$_mdo_m" ]; then
    for _mdo_p in $_mdo_m; do _mdo_names="$_mdo_names $_mdo_p"; _mdo_sync="$_mdo_sync $_mdo_p"; done
  elif _mdo_has "$_mdo_n" "$_mdo_db" 2 || _mdo_has "$_mdo_n" "$_mdo_inst" 1; then
    _mdo_names="$_mdo_names $_mdo_n"; _mdo_sync="$_mdo_sync $(_mdo_q "$_mdo_n")"
  elif _mdo_p=$("$_mdo_pm" --sync --print-format %n "$_mdo_n" 2>/dev/null); then
    _mdo_p=$(printf '%s\n' "$_mdo_p" | tail -n 1); _mdo_names="$_mdo_names $_mdo_p"; _mdo_sync="$_mdo_sync $(_mdo_q "$_mdo_n")"
  elif _mdo_p=$("$_mdo_pm" --upgrade --print-format %n "$_mdo_n" 2>/dev/null); then
    _mdo_p=$(printf '%s\n' "$_mdo_p" | tail -n 1); _mdo_names="$_mdo_names $_mdo_p"; _mdo_url="$_mdo_url $(_mdo_q "$_mdo_n")"
  else
`)
		if absent {
			sc.WriteString("    :\n")
		} else {
			sc.WriteString("    _mdo_fail \"Failed to list package $_mdo_n\"\n")
		}
		sc.WriteString("  fi\ndone\n")
		if absent {
			sc.WriteString(`_mdo_rm=
for _mdo_p in $_mdo_names; do _mdo_has "$_mdo_p" "$_mdo_inst" 1 && _mdo_rm="$_mdo_rm $_mdo_p"; done
if [ -z "$_mdo_rm" ]; then _mdo_msg "package(s) already absent"; _mdo_done; fi
_mdo_ch=1
`)
			force := ""
			if args.Bool("force") {
				force = " --nodeps --nodeps"
			}
			nosave := ""
			if args.Bool("remove_nosave") {
				nosave = " --nosave"
			}
			fmt.Fprintf(&sc, `_mdo_o=$(eval "\"\$_mdo_pm\" --remove --noconfirm --noprogressbar $_mdo_x%s --print-format %%n-%%v $_mdo_rm" 2>"$_mdo_e") || { _mdo_err=$(cat -- "$_mdo_e"); _mdo_fail "failed to list package(s) to remove"; }
_mdo_cnt=0; for _mdo_p in $_mdo_o; do _mdo_f packages "$_mdo_p"; _mdo_cnt=$((_mdo_cnt+1)); done
if [ $_mdo_check = 1 ]; then _mdo_msg "Would have removed $_mdo_cnt packages"; _mdo_done; fi
eval "_mdo_run \"\$_mdo_pm\" --remove --noconfirm --noprogressbar $_mdo_x%s%s $_mdo_rm" || _mdo_fail "failed to remove package(s)"
_mdo_msg "Removed $_mdo_cnt package(s)"
_mdo_done
`, force, force, nosave)
		} else {
			latest := "0"
			if state == "latest" {
				latest = "1"
			}
			fmt.Fprintf(&sc, "_mdo_latest=%s\n", latest)
			sc.WriteString(`_mdo_todo=
for _mdo_s in $_mdo_sync; do
  eval "_mdo_p=$_mdo_s"
  if ! _mdo_has "$_mdo_p" "$_mdo_inst" 1 || { [ $_mdo_latest = 1 ] && _mdo_has "$_mdo_p" "$_mdo_upg" 1; }; then _mdo_todo="$_mdo_todo $_mdo_s"; fi
done
_mdo_pk=
if [ -n "$_mdo_todo" ]; then
  _mdo_o=$(eval "\"\$_mdo_pm\" --noconfirm --noprogressbar --needed $_mdo_x --sync --print-format '%n %v' $_mdo_todo" 2>"$_mdo_e") || { _mdo_err=$(cat -- "$_mdo_e"); _mdo_fail "Failed to list package(s) to install"; }
  _mdo_pk="$_mdo_pk$(printf '%s\n' "$_mdo_o" | grep -v -e 'loading packages' -e 'there is nothing to do' | awk 'NF { print $1 }')
"
fi
if [ -n "$_mdo_url" ]; then
  _mdo_o=$(eval "\"\$_mdo_pm\" --noconfirm --noprogressbar --needed $_mdo_x --upgrade --print-format '%n %v' $_mdo_url" 2>"$_mdo_e") || { _mdo_err=$(cat -- "$_mdo_e"); _mdo_fail "Failed to list package(s) to install"; }
  _mdo_pk="$_mdo_pk$(printf '%s\n' "$_mdo_o" | grep -v -e 'loading packages' -e 'there is nothing to do' | awk 'NF { print $1 }')"
fi
_mdo_pk=$(printf '%s\n' "$_mdo_pk" | awk 'NF' | sort)
if [ -z "$_mdo_pk" ]; then _mdo_msg "package(s) already installed"; _mdo_done; fi
_mdo_ch=1
for _mdo_p in $_mdo_pk; do _mdo_f packages "$_mdo_p"; done
_mdo_cnt=$(printf '%s\n' "$_mdo_pk" | wc -l | tr -d ' ')
if [ $_mdo_check = 1 ]; then _mdo_msg "Would have installed $_mdo_cnt packages"; _mdo_done; fi
if [ -n "$_mdo_todo" ]; then eval "_mdo_run \"\$_mdo_pm\" --noconfirm --noprogressbar --needed $_mdo_x --sync $_mdo_todo" || _mdo_fail "Failed to install package(s)"; fi
if [ -n "$_mdo_url" ]; then eval "_mdo_run \"\$_mdo_pm\" --noconfirm --noprogressbar --needed $_mdo_x --upgrade $_mdo_url" || _mdo_fail "Failed to install package(s)"; fi
_mdo_msg "Installed $_mdo_cnt package(s)"
_mdo_done
`)
		}
	}
	sc.WriteString("_mdo_done\n")
	f, res, err := runScript(ctx, env, "pacman", sc.String(), nil)
	if err != nil {
		return Result{}, err
	}
	if _, ok := f.get("end"); !ok {
		return scriptFailure("pacman", res), nil
	}
	values := map[string]any{}
	if args.Has("name") || args.Bool("upgrade") {
		pk := []any{}
		for _, p := range f.all("packages") {
			pk = append(pk, p)
		}
		values["packages"] = pk
	}
	if v, ok := f.get("cache_updated"); ok {
		values["cache_updated"] = v == "1"
	}
	for _, k := range []string{"stdout", "stderr"} {
		if v := f.str(k); v != "" {
			values[k] = v
		}
	}
	r := Result{Changed: f.str("changed") == "1", Failed: f.str("failed") == "1", Msg: f.str("msg"), Values: values}
	return r, nil
}
