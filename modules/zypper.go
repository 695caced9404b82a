package modules

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// Zypper is community.general.zypper: it installs, upgrades and removes
// SUSE packages (also patterns, patches, products: type), refreshes the
// repositories and updates or dist-upgrades everything (name '*'),
// following the collection's zypper.py: the same zypper commands with
// --xmlout, whose XML is parsed for what changed; --dry-run in check mode.
// One script per call. Not done: the transactional-update wrapper and the
// diff.
//
// Tested only against a stand-in: zypper does not run on the test
// machines, so zypper_test.go puts a shell script named zypper first on
// PATH that records its arguments and answers in zypper's XML format (as
// zypper.py parses it).
type Zypper struct{}

// Spec describes zypper's arguments.
func (Zypper) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "name", Aliases: []string{"pkg"}, Type: TypeList, Required: true},
			{Name: "state", Type: TypeStr, Default: "present", Choices: []string{"absent", "installed", "latest", "present", "removed", "dist-upgrade"}},
			{Name: "type", Type: TypeStr, Default: "package", Choices: []string{"package", "patch", "pattern", "product", "srcpackage", "application"}},
			{Name: "extra_args_precommand", Type: TypeStr},
			{Name: "disable_gpg_check", Type: TypeBool, Default: false},
			{Name: "disable_recommends", Type: TypeBool, Default: true},
			{Name: "force", Type: TypeBool, Default: false},
			{Name: "force_resolution", Type: TypeBool, Default: false},
			{Name: "update_cache", Aliases: []string{"refresh"}, Type: TypeBool, Default: false},
			{Name: "oldpackage", Type: TypeBool, Default: false},
			{Name: "extra_args", Type: TypeStr},
			{Name: "allow_vendor_change", Type: TypeBool, Default: false},
			{Name: "replacefiles", Type: TypeBool, Default: false},
			{Name: "clean_deps", Type: TypeBool, Default: false},
		},
		CheckMode: true,
	}
}

var zypperVersionRE = regexp.MustCompile(`^(.*?)((?:<|>|<=|>=|=)[0-9.-]*)?$`)

// zypperPkg is zypper.py's Package.
type zypperPkg struct{ prefix, name, version string }

// zypperCmd is zypper.py's get_cmd (after the executable).
func zypperCmd(args Args, check bool, sub string) []string {
	install := sub == "install" || sub == "update" || sub == "patch" || sub == "dist-upgrade"
	refresh := sub == "refresh"
	cmd := []string{"--quiet", "--non-interactive", "--xmlout"}
	if p := args.String("extra_args_precommand"); p != "" {
		cmd = append(cmd, strings.Fields(p)...)
	}
	if (install || refresh) && args.Bool("disable_gpg_check") {
		cmd = append(cmd, "--no-gpg-checks")
	}
	if sub == "search" {
		cmd = append(cmd, "--disable-repositories")
	}
	cmd = append(cmd, sub)
	if sub != "patch" && sub != "dist-upgrade" && !refresh {
		cmd = append(cmd, "--type", args.String("type"))
	}
	if check && sub != "search" {
		cmd = append(cmd, "--dry-run")
	}
	if install {
		cmd = append(cmd, "--auto-agree-with-licenses")
		for _, f := range [][2]string{{"disable_recommends", "--no-recommends"}, {"force", "--force"}, {"force_resolution", "--force-resolution"}, {"oldpackage", "--oldpackage"}, {"replacefiles", "--replacefiles"}} {
			if args.Bool(f[0]) {
				cmd = append(cmd, f[1])
			}
		}
	}
	if sub == "remove" && args.Bool("clean_deps") {
		cmd = append(cmd, "--clean-deps")
	}
	if sub == "dist-upgrade" && args.Bool("allow_vendor_change") {
		cmd = append(cmd, "--allow-vendor-change")
	}
	if e := args.String("extra_args"); e != "" {
		cmd = append(cmd, strings.Split(e, " ")...)
	}
	return cmd
}

// zypperSolvable is one package of zypper's XML answer.
type zypperSolvable struct {
	version, oldversion, group string
	installed                  bool
}

// zypperParse reads zypper's XML: the solvables by name and the last
// message.
func zypperParse(out string) (map[string]zypperSolvable, string, error) {
	d := xml.NewDecoder(strings.NewReader(out))
	var stack []string
	pk := map[string]zypperSolvable{}
	var msg string
	var inMsg bool
	var cur bytes.Buffer
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return pk, msg, nil
		}
		if err != nil {
			return nil, "", err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local == "solvable" {
				s := zypperSolvable{}
				if len(stack) > 0 {
					s.group = stack[len(stack)-1]
				}
				var name string
				for _, a := range t.Attr {
					switch a.Name.Local {
					case "name":
						name = a.Value
					case "edition":
						s.version = a.Value
					case "edition-old":
						s.oldversion = a.Value
					case "status":
						s.installed = a.Value == "installed"
					}
				}
				pk[name] = s
			}
			if t.Name.Local == "message" {
				inMsg = true
				cur.Reset()
			}
			stack = append(stack, t.Name.Local)
		case xml.CharData:
			if inMsg {
				cur.Write(t)
			}
		case xml.EndElement:
			if t.Name.Local == "message" {
				inMsg = false
				msg = cur.String()
			}
			stack = stack[:len(stack)-1]
		}
	}
}

// Run does what zypper.py's main does.
func (Zypper) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	var names []string
	for _, n := range args.Strings("name") {
		if n != "" {
			names = append(names, n)
		}
	}
	state := args.String("state")
	values := map[string]any{"name": names, "state": state, "update_cache": args.Bool("update_cache")}
	fail := func(msg string) (Result, error) { return Result{Failed: true, Msg: msg, Values: values}, nil }
	all := len(names) == 1 && names[0] == "*"
	var sc strings.Builder
	sc.WriteString(`command -v zypper >/dev/null 2>&1 || { _mdo_f nozypper "$PATH"; exit 0; }
_mdo_e=$(mktemp) || exit 1; trap 'rm -f -- "$_mdo_e"' EXIT
_mdo_z() { _mdo_o=$(LANG=C LC_ALL=C LC_MESSAGES=C zypper "$@" 2>"$_mdo_e"); _mdo_rc=$?; }
_mdo_zr() { _mdo_z "$@"; _mdo_f rc $_mdo_rc; _mdo_f xml "$_mdo_o"; _mdo_f stderr "$(cat -- "$_mdo_e")"; }
`)
	if args.Bool("update_cache") && !env.Check {
		fmt.Fprintf(&sc, "_mdo_z %s; [ $_mdo_rc = 0 ] || { _mdo_f refreshfail $_mdo_rc; _mdo_f stdout \"$_mdo_o\"; _mdo_f stderr \"$(cat -- \"$_mdo_e\")\"; exit 0; }\n", quoteWords(zypperCmd(args, env.Check, "refresh")))
	}
	oldpackage := args.Bool("oldpackage")
	withOld := func() Args {
		if !oldpackage {
			return args
		}
		a := Args{}
		for k, v := range args {
			a[k] = v
		}
		a["oldpackage"] = true
		return a
	}
	var cmd []string
	switch {
	case all && (state == "latest" || state == "dist-upgrade"):
		sub := "update"
		if args.String("type") == "patch" {
			sub = "patch"
		} else if state == "dist-upgrade" {
			sub = "dist-upgrade"
		}
		cmd = zypperCmd(args, env.Check, sub)
		fmt.Fprintf(&sc, "_mdo_zr %s\n[ $_mdo_rc = 103 ] && _mdo_zr %s\n", quoteWords(cmd), quoteWords(cmd))
	case state == "dist-upgrade":
		return fail("Can not dist-upgrade specific packages.")
	default:
		remove := state == "absent" || state == "removed"
		var pkgs []zypperPkg
		var urls []string
		for _, n := range names {
			if strings.Contains(n, "://") || strings.HasSuffix(n, ".rpm") {
				urls = append(urls, n)
				continue
			}
			p := zypperPkg{}
			if n[0] == '-' || n[0] == '~' || n[0] == '+' {
				p.prefix = map[byte]string{'-': "-", '~': "-", '+': "+"}[n[0]]
				n = n[1:]
			}
			m := zypperVersionRE.FindStringSubmatch(n)
			p.name, p.version = m[1], m[2]
			if p.prefix == "" {
				p.prefix = "+"
				if remove {
					p.prefix = "-"
				}
			}
			pkgs = append(pkgs, p)
		}
		if remove {
			for _, p := range pkgs {
				if p.prefix == "+" {
					return fail("Can not combine '+' prefix with state=remove/absent.")
				}
			}
			if len(urls) > 0 {
				return fail("Can not remove via URL.")
			}
			if args.String("type") == "patch" {
				return fail("Can not remove patches.")
			}
		}
		// which packages to query, and the filter that keeps the ones to act on
		var query []string
		for _, p := range pkgs {
			if remove || (state != "latest" && p.version == "") {
				query = append(query, p.name)
			}
		}
		if len(query) > 0 {
			fmt.Fprintf(&sc, "_mdo_z %s --match-exact --details --installed-only %s\n", quoteWords(zypperCmd(args, false, "search")), quoteWords(query))
			sc.WriteString(`case $_mdo_rc in
  104) _mdo_inst= ;;
  0|102|103|106) _mdo_inst=$(printf '%s\n' "$_mdo_o" | grep -o '<solvable [^>]*' | sed -n 's/.* name="\([^"]*\)".*/\1/p') ;;
  *) _mdo_f rc $_mdo_rc; _mdo_f xml "$_mdo_o"; _mdo_f stderr "$(cat -- "$_mdo_e")"; exit 0 ;;
esac
`)
		}
		sc.WriteString("_mdo_has() { printf '%s\\n' \"$_mdo_inst\" | grep -qxF -e \"$1\"; }\nset --\n")
		if !remove {
			for _, u := range urls {
				sc.WriteString("set -- \"$@\" " + conn.Quote(u) + "\n")
			}
		}
		for _, p := range pkgs {
			word := p.prefix + p.name + p.version
			if remove {
				word = p.name + p.version
				fmt.Fprintf(&sc, "_mdo_has %s && set -- \"$@\" %s\n", conn.Quote(p.name), conn.Quote(word))
			} else if state != "latest" && p.version == "" {
				// keep when shouldinstall != installed
				if p.prefix == "+" {
					fmt.Fprintf(&sc, "_mdo_has %s || set -- \"$@\" %s\n", conn.Quote(p.name), conn.Quote(word))
				} else {
					fmt.Fprintf(&sc, "_mdo_has %s && set -- \"$@\" %s\n", conn.Quote(p.name), conn.Quote(word))
				}
			} else {
				if p.version != "" {
					oldpackage = true
				}
				fmt.Fprintf(&sc, "set -- \"$@\" %s\n", conn.Quote(word))
			}
		}
		sub := "install"
		if remove {
			sub = "remove"
		}
		cmd = zypperCmd(withOld(), env.Check, sub)
		if !remove {
			cmd = append(cmd, "--")
		}
		fmt.Fprintf(&sc, "if [ $# -gt 0 ]; then _mdo_zr %s \"$@\"; [ $_mdo_rc = 103 ] && _mdo_zr %s \"$@\"; fi\n", quoteWords(cmd), quoteWords(cmd))
	}
	sc.WriteString("_mdo_f end 1\n")
	f, res, err := runScript(ctx, env, "zypper", sc.String(), nil)
	if err != nil {
		return Result{}, err
	}
	if p, ok := f.get("nozypper"); ok {
		return fail("Failed to find required executable \"zypper\" in paths: " + p)
	}
	if rc, ok := f.get("refreshfail"); ok {
		values["rc"], _ = strconv.Atoi(rc)
		values["stdout"], values["stderr"] = f.str("stdout"), f.str("stderr")
		return fail("Zypper refresh run failed.")
	}
	rcs := f.all("rc")
	if len(rcs) == 0 {
		if _, ok := f.get("end"); !ok {
			return scriptFailure("zypper", res), nil
		}
		values["rc"] = 0
		return Result{Values: values}, nil
	}
	// the answers of every run (zypper's 103: it updated itself, run again)
	xmls, errs := f.all("xml"), f.all("stderr")
	changedPkgs := map[string]zypperSolvable{}
	rc := 0
	for i := range rcs {
		rc, _ = strconv.Atoi(rcs[i])
		values["rc"], values["stdout"], values["stderr"] = rc, xmls[i], errs[i]
		pk, msg, err := zypperParse(xmls[i])
		if err != nil {
			return fail("Failed to parse zypper xml output: " + err.Error())
		}
		switch rc {
		case 104:
			return fail(msg)
		case 0, 102, 103, 106:
			for k, v := range pk {
				changedPkgs[k] = v
			}
		default:
			return fail(fmt.Sprintf("Zypper run command failed with return code %d.", rc))
		}
	}
	changed := (rc == 0 || rc == 102) && len(changedPkgs) > 0
	if rc != 0 && rc != 102 {
		return fail("Zypper run failed.")
	}
	if !changed {
		delete(values, "stdout")
		delete(values, "stderr")
	}
	return Result{Changed: changed, Values: values}, nil
}
