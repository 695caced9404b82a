package modules

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// LocaleGen is the locale_gen module (community.general.locale_gen). As in
// Ansible, the locales count as present when `locale -a` lists every one
// of them, and a change is made only when that answer differs from state.
// On Debian the matching lines of /etc/locale.gen are uncommented (or
// commented out) and locale-gen is run; on Ubuntu (where
// /var/lib/locales/supported.d exists) `locale-gen NAME...` adds them, and
// removing one drops it from supported.d/local and runs
// `locale-gen --purge`. A name must appear in /etc/locale.gen (Ubuntu:
// /usr/share/i18n/SUPPORTED) or already be in `locale -a`.
//
// One exec reads the files and `locale -a`; a change costs one more that
// writes, runs locale-gen and lists the locales again.
type LocaleGen struct {
	// root prefixes every file the module reads and writes; "" means /.
	// Tests point it at a temporary directory.
	root string
}

var _ Module = LocaleGen{}

// Spec describes locale_gen's arguments.
func (LocaleGen) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "name", Type: TypeList, Required: true},
			{Name: "state", Type: TypeStr, Default: "present", Choices: []string{"absent", "present"}},
		},
		CheckMode: true,
	}
}

// localeGenNorm is Ansible's LOCALE_NORMALIZATION: `locale -a` may print
// the encoding in lower case.
var localeGenNorm = strings.NewReplacer(
	".utf8", ".UTF-8", ".eucjp", ".EUC-JP", ".iso885915", ".ISO-8859-15", ".cp1251", ".CP1251",
	".koi8r", ".KOI8-R", ".armscii8", ".ARMSCII-8", ".euckr", ".EUC-KR", ".gbk", ".GBK",
	".gb18030", ".GB18030", ".euctw", ".EUC-TW",
)

var localeGenAvailRe = regexp.MustCompile(`^#?\s*(\S+[._\S]+) (\S+)\s*$`)

// localeGenMissing returns the names `locale -a` (out) does not list.
func localeGenMissing(names []string, out string) []string {
	var missing []string
	for _, n := range names {
		found := false
		for _, l := range strings.Split(out, "\n") {
			if localeGenNorm.Replace(n) == localeGenNorm.Replace(l) {
				found = true
				break
			}
		}
		if !found {
			missing = append(missing, n)
		}
	}
	return missing
}

// localeGenUnavailable returns the names that neither the list of
// available locales (avail) nor `locale -a` (out) has.
func localeGenUnavailable(names []string, avail, out string) []string {
	listed := map[string]bool{}
	for _, l := range strings.SplitAfter(avail, "\n") {
		if m := localeGenAvailRe.FindStringSubmatch(strings.TrimSuffix(l, "\n")); m != nil {
			listed[m[1]] = true
		}
	}
	var not []string
	for _, n := range names {
		if !listed[n] {
			not = append(not, n)
		}
	}
	return localeGenMissing(not, out)
}

// localeGenSet is Ansible's set_locale: every line naming one of names
// (commented or not) becomes "NAME CHARSET", or "# NAME CHARSET".
func localeGenSet(content string, names []string, enabled bool) string {
	lines := strings.SplitAfter(content, "\n")
	for _, n := range names {
		re := regexp.MustCompile(`^#?\s*` + regexp.QuoteMeta(n) + ` (.+)`)
		repl := n + " ${1}"
		if !enabled {
			repl = "# " + n + " ${1}"
		}
		for i, l := range lines {
			lines[i] = re.ReplaceAllString(l, repl)
		}
	}
	return strings.Join(lines, "")
}

// localeGenDropSupported removes the lines of supported.d/local that name
// one of names.
func localeGenDropSupported(content string, names []string) string {
	drop := map[string]bool{}
	for _, n := range names {
		drop[n] = true
	}
	var b strings.Builder
	for _, l := range strings.SplitAfter(content, "\n") {
		if f := strings.Fields(l); len(f) > 0 && drop[f[0]] {
			continue
		}
		b.WriteString(l)
	}
	return b.String()
}

// Run creates or removes the locales.
func (m LocaleGen) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	names := args.Strings("name")
	state := args.String("state")
	values := map[string]any{"name": names}
	head := fmt.Sprintf("_mdo_r=%s\n", conn.Quote(m.root))
	f, res, err := runScript(ctx, env, "locale_gen", head+`if [ -e "$_mdo_r/var/lib/locales/supported.d/" ]; then _mdo_f ubuntu 1; _mdo_a=$_mdo_r/usr/share/i18n/SUPPORTED
  [ -f "$_mdo_r/var/lib/locales/supported.d/local" ] && _mdo_f local "$(cat "$_mdo_r/var/lib/locales/supported.d/local"; echo .)"
elif [ ! -e "$_mdo_r/etc/locale.gen" ]; then _mdo_f missing 1; _mdo_f end 1; exit 0
else _mdo_a=$_mdo_r/etc/locale.gen; fi
_mdo_o=$(cat "$_mdo_a" 2>&1) || { _mdo_f error "$_mdo_o"; exit 0; }
_mdo_f avail "$_mdo_o"
[ -f "$_mdo_r/etc/locale.gen" ] && _mdo_f gen "$(cat "$_mdo_r/etc/locale.gen"; echo .)"
_mdo_o=$(locale -a 2>&1) || { _mdo_f error "locale -a failed (rc $?): $_mdo_o"; exit 0; }
_mdo_f locales "$_mdo_o"
_mdo_f end 1
`, nil)
	if err != nil {
		return Result{}, err
	}
	if msg, ok := f.get("error"); ok {
		return Result{Failed: true, Msg: msg, Values: values}, nil
	}
	if _, ok := f.get("end"); !ok {
		return scriptFailure("locale_gen", res), nil
	}
	if _, ok := f.get("missing"); ok {
		return Result{Failed: true, Values: values, Msg: `/var/lib/locales/supported.d/ and /etc/locale.gen are missing. Is the package "locales" installed?`}, nil
	}
	if not := localeGenUnavailable(names, f.str("avail"), f.str("locales")); len(not) > 0 {
		return Result{Failed: true, Values: values, Msg: "The following locales you've entered are not available on your system: " + strings.Join(not, ", ")}, nil
	}
	tracking := func(out string) string {
		if len(localeGenMissing(names, out)) == 0 {
			return "present"
		}
		return "absent"
	}
	before := tracking(f.str("locales"))
	if before == state {
		return Result{Values: values}, nil
	}
	if env.Check {
		return Result{Changed: true, Values: values}, nil
	}
	var sc strings.Builder
	sc.WriteString(head)
	sc.WriteString("_mdo_gen() { _mdo_o=$(locale-gen \"$@\" 2>&1) || { _mdo_f error \"locale-gen failed (rc $?): $_mdo_o\"; exit 0; }; }\n")
	var stdin string
	_, ubuntu := f.get("ubuntu")
	switch {
	case ubuntu && state == "present":
		fmt.Fprintf(&sc, "_mdo_gen %s\n", quoteWords(names))
	case ubuntu:
		local, ok := f.get("local")
		if !ok {
			return Result{Failed: true, Values: values, Msg: "cannot read /var/lib/locales/supported.d/local"}, nil
		}
		stdin = localeGenDropSupported(strings.TrimSuffix(local, "."), names)
		sc.WriteString(sysWriteScript(m.root+"/var/lib/locales/supported.d/local", "", "", ""))
		sc.WriteString("_mdo_gen --purge\n")
	default:
		stdin = localeGenSet(strings.TrimSuffix(f.str("gen"), "."), names, state == "present")
		sc.WriteString(sysWriteScript(m.root+"/etc/locale.gen", "", "", ""))
		sc.WriteString("_mdo_gen\n")
	}
	sc.WriteString(`_mdo_o=$(locale -a 2>&1) || { _mdo_f error "locale -a failed (rc $?): $_mdo_o"; exit 0; }
_mdo_f locales "$_mdo_o"
_mdo_f end 1
`)
	f, res, err = runScript(ctx, env, "locale_gen", sc.String(), []byte(stdin))
	if err != nil {
		return Result{}, err
	}
	for _, k := range []string{"werr", "error"} {
		if msg, ok := f.get(k); ok {
			return Result{Failed: true, Msg: msg, Values: values}, nil
		}
	}
	if _, ok := f.get("end"); !ok {
		return scriptFailure("locale_gen", res), nil
	}
	return Result{Changed: tracking(f.str("locales")) != before, Values: values}, nil
}
