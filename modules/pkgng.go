package modules

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// Pkgng is community.general.pkgng: it installs, upgrades and removes
// FreeBSD packages with pkg (also in a rootdir, chroot or jail), upgrades
// everything (name '*', state latest) and autoremoves, following the
// collection's pkgng.py: the same pkg commands (BATCH=yes), msg, stdout
// and stderr. One script per call. Not supported: annotation (refused with
// a message) and pkg older than 1.11 (--repository is always used for
// pkgsite, --rootdir and IGNORE_OSVERSION are not version-checked).
//
// Tested only against a stand-in: pkg does not run on the test machines,
// so pkgng_test.go puts a shell script named pkg first on PATH that records
// its arguments and answers as pkg does (exit codes and the lines pkgng.py
// parses).
type Pkgng struct{}

// Spec describes pkgng's arguments.
func (Pkgng) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "state", Type: TypeStr, Default: "present", Choices: []string{"present", "latest", "absent"}},
			{Name: "name", Aliases: []string{"pkg"}, Type: TypeList, Required: true},
			{Name: "cached", Type: TypeBool, Default: false},
			{Name: "ignore_osver", Type: TypeBool, Default: false},
			{Name: "annotation", Type: TypeList},
			{Name: "pkgsite", Type: TypeStr},
			{Name: "rootdir", Type: TypePath},
			{Name: "chroot", Type: TypePath},
			{Name: "jail", Type: TypeStr},
			{Name: "autoremove", Type: TypeBool, Default: false},
		},
		MutuallyExclusive: [][]string{{"rootdir", "chroot", "jail"}},
		CheckMode:         true,
	}
}

var pkgngSplit = regexp.MustCompile(`[,\s]`)

// pkgngScript holds the shell functions; _mdo_dir (the rootdir, chroot or
// jail option, or nothing), _mdo_site (the --repository option or nothing)
// and _mdo_check are set before it.
const pkgngScript = `_mdo_e=$(mktemp) || exit 1; trap 'rm -f -- "$_mdo_e"' EXIT
_mdo_msgs=; _mdo_out=; _mdo_err=; _mdo_ch=0
_mdo_msg() { _mdo_msgs="${_mdo_msgs:+$_mdo_msgs, }$1"; }
_mdo_pkg() { _mdo_a=$1; shift
  case $_mdo_a in update|install|upgrade) eval "set -- $_mdo_site \"\$@\"" ;; esac
  eval "BATCH=yes $_mdo_env pkg $_mdo_dir \"\$_mdo_a\" \"\$@\""; }
_mdo_run() { _mdo_o=$(_mdo_pkg "$@" 2>"$_mdo_e"); _mdo_rc=$?; _mdo_out="$_mdo_out$_mdo_o${_mdo_o:+
}"; _mdo_se=$(cat -- "$_mdo_e"); _mdo_err="$_mdo_err$_mdo_se${_mdo_se:+
}"; return $_mdo_rc; }
_mdo_done() { _mdo_f changed $_mdo_ch; _mdo_f msg "$_mdo_msgs"; _mdo_f stdout "$_mdo_out"; _mdo_f stderr "$_mdo_err"; _mdo_f end 1; exit 0; }
_mdo_fail() { _mdo_f failed 1; _mdo_msgs=$1; _mdo_done; }
_mdo_has() { _mdo_pkg info -g -e "$1" >/dev/null 2>&1; }
_mdo_upd() { _mdo_pkg upgrade -g -n "$1" >/dev/null 2>&1; [ $? = 1 ]; }
command -v pkg >/dev/null 2>&1 || { _mdo_f failed 1; _mdo_f msg "Failed to find required executable \"pkg\" in paths: $PATH"; _mdo_f end 1; exit 0; }
`

// Run does what pkgng.py's main does.
func (Pkgng) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	if args.Has("annotation") {
		return Result{Failed: true, Msg: "pkgng: annotation is not supported by mdo-play"}, nil
	}
	dir := ""
	switch {
	case args.Has("rootdir"):
		dir = conn.Quote("--rootdir=" + args.String("rootdir"))
	case args.Has("chroot"):
		dir = conn.Quote("--chroot=" + args.String("chroot"))
	case args.Has("jail"):
		dir = conn.Quote("--jail=" + args.String("jail"))
	}
	site := ""
	if args.Has("pkgsite") {
		site = conn.Quote("--repository=" + args.String("pkgsite"))
	}
	penv := ""
	if args.Bool("ignore_osver") {
		penv = "IGNORE_OSVERSION=yes"
	}
	check := "0"
	if env.Check {
		check = "1"
	}
	state := args.String("state")
	pkgs := args.Strings("name")
	var sc strings.Builder
	fmt.Fprintf(&sc, "_mdo_dir=%s; _mdo_site=%s; _mdo_env=%s; _mdo_check=%s\n", conn.Quote(dir), conn.Quote(site), conn.Quote(penv), check)
	sc.WriteString(pkgngScript)
	if len(pkgs) == 1 && pkgs[0] == "*" && state == "latest" {
		// upgrade_packages
		sc.WriteString(`if [ $_mdo_check = 1 ]; then _mdo_run upgrade -n; else _mdo_run upgrade -y || _mdo_fail "upgrade failed: $_mdo_err"; fi
_mdo_c=$(printf '%s\n' "$_mdo_o" | sed -nE 's/^Number of packages to be (upgraded|reinstalled): ([0-9]+).*/\2/p' | awk '{ s += $1 } END { print s + 0 }')
if [ "$_mdo_c" -gt 0 ]; then _mdo_ch=1; _mdo_msg "updated $_mdo_c package(s)"; else _mdo_msg "no packages need upgrades"; fi
`)
	}
	if len(pkgs) == 1 {
		pkgs = pkgngSplit.Split(pkgs[0], -1)
	}
	var named []string
	for _, p := range pkgs {
		if p != "*" {
			named = append(named, p)
		}
	}
	if len(named) > 0 {
		sc.WriteString("set -- " + quoteWords(named) + "\n")
	}
	switch {
	case (state == "present" || state == "latest") && len(named) > 0:
		if !env.Check && !args.Bool("cached") {
			sc.WriteString("_mdo_run update || _mdo_fail \"Could not update catalogue [$_mdo_rc]: $_mdo_o $_mdo_se\"\n")
		}
		fmt.Fprintf(&sc, "_mdo_state=%s\n", state)
		sc.WriteString(`_mdo_ins=; _mdo_upg=; _mdo_ni=0; _mdo_nu=0
for _mdo_p; do
  if _mdo_has "$_mdo_p"; then
    [ $_mdo_state = present ] && continue
    _mdo_upd "$_mdo_p" || continue
    _mdo_upg="$_mdo_upg $(printf "'%s'" "$(printf '%s' "$_mdo_p" | sed "s/'/'\\\\''/g")")"; _mdo_nu=$((_mdo_nu+1))
  else
    _mdo_ins="$_mdo_ins $(printf "'%s'" "$(printf '%s' "$_mdo_p" | sed "s/'/'\\\\''/g")")"; _mdo_ni=$((_mdo_ni+1))
  fi
done
_mdo_pl() { if [ "$1" = 1 ]; then echo "$2 $1 package"; else echo "$2 $1 packages"; fi; }
_mdo_m=
for _mdo_act in install upgrade; do
  if [ $_mdo_act = install ]; then _mdo_l=$_mdo_ins; _mdo_n=$_mdo_ni; _mdo_w=installed; else _mdo_l=$_mdo_upg; _mdo_n=$_mdo_nu; _mdo_w=upgraded; fi
  [ -n "$_mdo_l" ] || continue
  if [ $_mdo_check = 0 ]; then
    eval "_mdo_run $_mdo_act -g -U -y $_mdo_l"
    eval "set -- $_mdo_l"
    for _mdo_p; do
      if [ $_mdo_act = install ]; then _mdo_has "$_mdo_p"; else ! _mdo_upd "$_mdo_p"; fi || _mdo_fail "failed to $_mdo_act $_mdo_p"
    done
  fi
  _mdo_m="${_mdo_m:+$_mdo_m; }$(_mdo_pl $_mdo_n $_mdo_w)"
done
if [ -n "$_mdo_m" ]; then _mdo_ch=1; _mdo_msg "$_mdo_m"; else _mdo_msg "package(s) already $_mdo_state"; fi
`)
	case state == "absent" && len(named) > 0:
		sc.WriteString(`_mdo_c=0
for _mdo_p; do
  _mdo_has "$_mdo_p" || continue
  if [ $_mdo_check = 0 ]; then
    _mdo_run delete -y "$_mdo_p"
    _mdo_has "$_mdo_p" && _mdo_fail "failed to remove $_mdo_p: $_mdo_o"
  fi
  _mdo_c=$((_mdo_c+1))
done
if [ $_mdo_c -gt 0 ]; then _mdo_ch=1; _mdo_msg "removed $_mdo_c package(s)"; else _mdo_msg "package(s) already absent"; fi
`)
	}
	if args.Bool("autoremove") {
		sc.WriteString(`_mdo_c=$(_mdo_pkg autoremove -n 2>/dev/null | sed -n 's/^Deinstallation has been requested for the following \([0-9][0-9]*\) packages.*/\1/p' | head -n 1)
if [ "${_mdo_c:-0}" -gt 0 ]; then
  [ $_mdo_check = 1 ] || _mdo_run autoremove -y
  _mdo_ch=1; _mdo_msg "autoremoved $_mdo_c package(s)"
else _mdo_msg "no package(s) to autoremove"; fi
`)
	}
	sc.WriteString("_mdo_done\n")
	f, res, err := runScript(ctx, env, "pkgng", sc.String(), nil)
	if err != nil {
		return Result{}, err
	}
	if _, ok := f.get("end"); !ok {
		return scriptFailure("pkgng", res), nil
	}
	values := map[string]any{"stdout": f.str("stdout"), "stderr": f.str("stderr")}
	return Result{Changed: f.str("changed") == "1", Failed: f.str("failed") == "1", Msg: f.str("msg"), Values: values}, nil
}
