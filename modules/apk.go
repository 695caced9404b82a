package modules

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// Apk is community.general.apk: it installs, upgrades and removes Alpine
// packages, updates the repository indexes and upgrades the system,
// following the collection's apk.py: the same apk queries (world file,
// info, version) and commands, --simulate in check mode, msg and packages
// return keys. One script per call. Unlike apk.py, a check-mode removal
// does not fail because the package is still installed afterwards.
//
// Tested only against a stand-in: apk does not run on the test machines,
// so apk_test.go puts a shell script named apk first on PATH that records
// its arguments and answers in apk's output formats (as apk.py parses them).
type Apk struct{}

// Spec describes apk's arguments.
func (Apk) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "state", Type: TypeStr, Default: "present", Choices: []string{"present", "installed", "absent", "removed", "latest"}},
			{Name: "name", Type: TypeList},
			{Name: "no_cache", Type: TypeBool, Default: false},
			{Name: "repository", Type: TypeList},
			{Name: "update_cache", Type: TypeBool, Default: false},
			{Name: "upgrade", Type: TypeBool, Default: false},
			{Name: "available", Type: TypeBool, Default: false},
			{Name: "world", Type: TypeStr, Default: "/etc/apk/world"},
		},
		RequiredOneOf:     [][]string{{"name", "update_cache", "upgrade"}},
		MutuallyExclusive: [][]string{{"name", "upgrade"}},
		CheckMode:         true,
	}
}

var apkPackageLine = regexp.MustCompile(`^\(\d+/\d+\)\s+\S+\s+(\S+)`)

// apkScript holds the shell functions: _mdo_apk runs apk with the global
// options in $_mdo_g; _mdo_done reports.
const apkScript = `_mdo_e=$(mktemp) || exit 1; trap 'rm -f -- "$_mdo_e"' EXIT
_mdo_apk() { eval "LANG=C LC_ALL=C LC_MESSAGES=C LC_CTYPE=C apk $_mdo_g \"\$@\""; }
_mdo_run() { _mdo_o=$(_mdo_apk "$@" 2>"$_mdo_e"); _mdo_rc=$?; _mdo_f stdout "$_mdo_o"; _mdo_f stderr "$(cat -- "$_mdo_e")"; return $_mdo_rc; }
_mdo_done() { _mdo_f changed "$1"; _mdo_f msg "$2"; _mdo_f end 1; exit 0; }
_mdo_fail() { _mdo_f failed 1; _mdo_done 0 "$1"; }
command -v apk >/dev/null 2>&1 || { _mdo_f failed 1; _mdo_f msg "Failed to find required executable \"apk\" in paths: $PATH"; _mdo_f end 1; exit 0; }
`

// Run does what apk.py's main does.
func (Apk) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	var g []string
	if args.Bool("no_cache") {
		g = append(g, "--no-cache")
	}
	for _, r := range args.Strings("repository") {
		g = append(g, "--repository", r, "--repositories-file", "/dev/null")
	}
	sim := ""
	if env.Check {
		sim = " --simulate"
	}
	state := args.String("state")
	names := args.Strings("name")
	var sc strings.Builder
	fmt.Fprintf(&sc, "_mdo_g=%s\n", conn.Quote(quoteWords(g)))
	sc.WriteString(apkScript)
	sc.WriteString("set --")
	for _, n := range names {
		sc.WriteString(" " + conn.Quote(n))
	}
	sc.WriteString("\n")
	if args.Bool("update_cache") {
		sc.WriteString("_mdo_run update || _mdo_fail \"could not update package db\"\n")
		if len(names) == 0 && !args.Bool("upgrade") {
			sc.WriteString("_mdo_done 1 'updated repository indexes'\n")
		}
	}
	if args.Bool("upgrade") {
		avail := ""
		if args.Bool("available") {
			avail = " --available"
		}
		fmt.Fprintf(&sc, `_mdo_run upgrade%s%s; _mdo_rc=$?; _mdo_f packages_from_stdout 1
[ $_mdo_rc = 0 ] || _mdo_fail "failed to upgrade packages"
case $_mdo_o in OK*) _mdo_done 0 "packages already upgraded" ;; esac
_mdo_done 1 "upgraded packages"
`, sim, avail)
	}
	switch state {
	case "present", "installed", "latest":
		latest := "0"
		if state == "latest" {
			latest = "1"
		}
		fmt.Fprintf(&sc, "_mdo_latest=%s; _mdo_world=%s\n", latest, conn.Quote(args.String("world")))
		// query_latest: "NAME-VER-rREL < NEWVER-rREL" in apk version's output
		sc.WriteString(`_mdo_old() { _mdo_apk version "$1" 2>/dev/null | awk -v n="$1" 'index($0, n "-") == 1 { v = substr($1, length(n) + 2); if (v ~ /^[0-9.A-Za-z_]+-[0-9A-Za-z_]+$/ && $2 == "<") f = 1 } END { exit !f }'; }
_mdo_top() { tr -s ' \t' '\n\n' <"$_mdo_world" 2>/dev/null | awk -v n="$1" 'substr($0, 1, length(n)) == n { r = substr($0, length(n) + 1); if (r == "" || r ~ /^[@=<>~]./) f = 1 } END { exit !f }'; }
_mdo_ins=; _mdo_upg=
for _mdo_n; do
  if _mdo_apk -v info --description "$_mdo_n" 2>/dev/null | grep -q -e "^$(printf '%s' "$_mdo_n" | sed 's/[].[*^$\\/]/\\&/g'): virtual meta package"; then
    for _mdo_d in $(_mdo_apk -v info --depends "$_mdo_n" 2>/dev/null | awk '{ for (i = 1; i <= NF; i++) if (++c > 1) print $i }'); do
      [ $_mdo_latest = 1 ] && _mdo_old "$_mdo_d" && _mdo_upg="$_mdo_upg $_mdo_d"
    done
  elif ! _mdo_top "$_mdo_n"; then _mdo_ins="$_mdo_ins $(printf "'%s'" "$(printf '%s' "$_mdo_n" | sed "s/'/'\\\\''/g")")"
  elif [ $_mdo_latest = 1 ] && _mdo_old "$_mdo_n"; then _mdo_upg="$_mdo_upg $(printf "'%s'" "$(printf '%s' "$_mdo_n" | sed "s/'/'\\\\''/g")")"
  fi
done
[ -n "$_mdo_ins$_mdo_upg" ] || _mdo_done 0 "package(s) already installed"
eval "set -- $_mdo_ins $_mdo_upg"
_mdo_what="$*"
if [ -n "$_mdo_upg" ]; then _mdo_up=--upgrade; else _mdo_up=; fi
`)
		fmt.Fprintf(&sc, `_mdo_run add $_mdo_up%s "$@"; _mdo_rc=$?; _mdo_f packages_from_stdout 1
[ $_mdo_rc = 0 ] || _mdo_fail "failed to install $_mdo_what"
_mdo_done 1 "installed $_mdo_what package(s)"
`, sim)
	case "absent", "removed":
		fmt.Fprintf(&sc, `_mdo_inst=
for _mdo_n; do _mdo_apk -v info --installed "$_mdo_n" >/dev/null 2>&1 && _mdo_inst="$_mdo_inst $(printf "'%%s'" "$(printf '%%s' "$_mdo_n" | sed "s/'/'\\\\''/g")")"; done
[ -n "$_mdo_inst" ] || _mdo_done 0 "package(s) already removed"
eval "set -- $_mdo_inst"
_mdo_what="$*"
_mdo_run del --purge%s "$@"; _mdo_rc=$?; _mdo_f packages_from_stdout 1
`, sim)
		if !env.Check {
			sc.WriteString(`for _mdo_n; do _mdo_apk -v info --installed "$_mdo_n" >/dev/null 2>&1 && _mdo_rc=1; done
`)
		}
		sc.WriteString(`[ $_mdo_rc = 0 ] || _mdo_fail "failed to remove $_mdo_what package(s)"
_mdo_done 1 "removed $_mdo_what package(s)"
`)
	}
	f, res, err := runScript(ctx, env, "apk", sc.String(), nil)
	if err != nil {
		return Result{}, err
	}
	if _, ok := f.get("end"); !ok {
		return scriptFailure("apk", res), nil
	}
	values := map[string]any{}
	for _, k := range []string{"stdout", "stderr"} {
		if v, ok := f.get(k); ok {
			values[k] = v
		}
	}
	if _, ok := f.get("packages_from_stdout"); ok {
		pk := []any{}
		for _, l := range strings.Split(f.str("stdout"), "\n") {
			if m := apkPackageLine.FindStringSubmatch(l); m != nil {
				pk = append(pk, m[1])
			}
		}
		values["packages"] = pk
	}
	return Result{Changed: f.str("changed") == "1", Failed: f.str("failed") == "1", Msg: f.str("msg"), Values: values}, nil
}
