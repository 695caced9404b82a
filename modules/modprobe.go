package modules

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// Modprobe is the modprobe module (community.general.modprobe). As in
// Ansible, a kernel module is loaded when /proc/modules lists it (dashes
// read as underscores) or /lib/modules/$(uname -r)/modules.builtin has
// it; state present runs `modprobe NAME PARAMS...` (with -n in check
// mode), absent `modprobe -r NAME`. persistent present writes
// /etc/modules-load.d/NAME.conf and /etc/modprobe.d/NAME.conf (commenting
// out other `options NAME k=v` lines) unless the module is already listed
// and its options are already the params; absent comments out both.
//
// One exec reads /proc/modules, modules.builtin and both directories; a
// change costs one more that runs modprobe and writes the files.
type Modprobe struct {
	// root prefixes /etc/modules-load.d and /etc/modprobe.d, kernel
	// prefixes /proc/modules and /lib/modules; "" means /. Tests point
	// them at directories of their own.
	root, kernel string
}

var _ Module = Modprobe{}

// Spec describes modprobe's arguments.
func (Modprobe) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "name", Type: TypeStr, Required: true},
			{Name: "state", Type: TypeStr, Default: "present", Choices: []string{"absent", "present"}},
			{Name: "params", Type: TypeStr, Default: ""},
			{Name: "persistent", Type: TypeStr, Default: "disabled", Choices: []string{"disabled", "absent", "present"}},
		},
		CheckMode: true,
	}
}

// modprobeLoadedScript sets _mdo_l to 1 when the module $_mdo_n is loaded
// or built in, as Ansible's module_loaded decides; it prints error and
// exits when a file it needs cannot be read.
const modprobeLoadedScript = `_mdo_loaded() {
  _mdo_l=0
  _mdo_o=$(cat "$_mdo_k/proc/modules" 2>&1) || { _mdo_f error "$_mdo_o"; exit 0; }
  if printf '%s\n' "$_mdo_o" | awk -v m="$(printf %s "$_mdo_n" | tr - _)" '$1 == m { f = 1 } END { exit !f }'; then _mdo_l=1; return; fi
  _mdo_b="$_mdo_k/lib/modules/$(uname -r)/modules.builtin"
  [ -r "$_mdo_b" ] || { _mdo_f error "[Errno 2] No such file or directory: '$_mdo_b'"; exit 0; }
  if awk -v s="/$_mdo_n.ko" '{ sub(/[ \t\r]+$/, "") } length($0) >= length(s) && substr($0, length($0) - length(s) + 1) == s { f = 1 } END { exit !f }' "$_mdo_b"; then _mdo_l=1; fi
}
`

// modprobeFiles returns the regular files of a directory, from the fields
// prefix:PATH, with their content.
func modprobeFiles(f fields, prefix string) (paths []string, content map[string]string) {
	content = map[string]string{}
	for _, x := range f {
		if p, ok := strings.CutPrefix(x.k, prefix); ok {
			if _, seen := content[p]; !seen {
				paths = append(paths, p)
			}
			content[p] = strings.TrimSuffix(x.v, ".")
		}
	}
	sort.Strings(paths)
	return paths, content
}

// modprobeRes are Ansible's three regular expressions for name.
type modprobeRes struct{ module, params, paramValue *regexp.Regexp }

func modprobeRegexps(name string) modprobeRes {
	q := regexp.QuoteMeta(name)
	return modprobeRes{
		module:     regexp.MustCompile(`^ *` + q + ` *(?:[#;].*)?\n?$`),
		params:     regexp.MustCompile(`^options ` + q + ` \w+=\S+ *(?:[#;].*)?\n?$`),
		paramValue: regexp.MustCompile(`^options ` + q + ` (\w+=\S+) *(?:[#;].*)?\n?$`),
	}
}

// modprobeLines splits content into lines that keep their newline.
func modprobeLines(content string) []string {
	lines := strings.SplitAfter(content, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// modprobeComment returns content with the lines re matches commented
// out, and whether any was.
func modprobeComment(content string, re *regexp.Regexp) (string, bool) {
	lines := modprobeLines(content)
	changed := false
	for i, l := range lines {
		if re.MatchString(l) {
			lines[i] = "#" + l
			changed = true
		}
	}
	return strings.Join(lines, ""), changed
}

// Run loads or unloads the module and keeps its files.
func (m Modprobe) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	name, params := args.String("name"), args.String("params")
	state, persistent := args.String("state"), args.String("persistent")
	values := map[string]any{"name": name, "params": params, "state": state}
	loadDir, optDir := m.root+"/etc/modules-load.d", m.root+"/etc/modprobe.d"
	head := fmt.Sprintf("_mdo_n=%s\n_mdo_k=%s\n", conn.Quote(name), conn.Quote(m.kernel)) + modprobeLoadedScript +
		"command -v modprobe >/dev/null 2>&1 || { _mdo_f error \"Failed to find required executable \\\"modprobe\\\" in paths: $PATH\"; exit 0; }\n"
	var sc strings.Builder
	sc.WriteString(head)
	sc.WriteString("_mdo_loaded; _mdo_f loaded $_mdo_l\n")
	for _, d := range []struct{ prefix, dir string }{{"ml:", loadDir}, {"mp:", optDir}} {
		fmt.Fprintf(&sc, "for _mdo_p in %s/*; do [ -f \"$_mdo_p\" ] && _mdo_f \"%s$_mdo_p\" \"$(cat \"$_mdo_p\"; echo .)\"; done\n", conn.Quote(d.dir), d.prefix)
	}
	sc.WriteString("_mdo_f end 1\n")
	f, res, err := runScript(ctx, env, "modprobe "+name, sc.String(), nil)
	if err != nil {
		return Result{}, err
	}
	if msg, ok := f.get("error"); ok {
		return Result{Failed: true, Msg: msg, Values: values}, nil
	}
	if _, ok := f.get("end"); !ok {
		return scriptFailure("modprobe", res), nil
	}
	loaded := f.str("loaded") == "1"
	loadFiles, loadContent := modprobeFiles(f, "ml:")
	optFiles, optContent := modprobeFiles(f, "mp:")
	re := modprobeRegexps(name)

	persistently := false
	for _, p := range loadFiles {
		for _, l := range modprobeLines(loadContent[p]) {
			persistently = persistently || re.module.MatchString(l)
		}
	}
	permanent := map[string]bool{}
	for _, p := range optFiles {
		for _, l := range modprobeLines(optContent[p]) {
			if mm := re.paramValue.FindStringSubmatch(l); mm != nil {
				permanent[mm[1]] = true
			}
		}
	}
	desired := map[string]bool{}
	for _, p := range strings.Fields(params) {
		desired[p] = true
	}
	paramsSet := len(desired) == len(permanent)
	for p := range desired {
		paramsSet = paramsSet && permanent[p]
	}

	changed := false
	sc.Reset()
	sc.WriteString(head)
	sc.WriteString(`_mdo_wf() {
  _mdo_o=$(mkdir -p -- "$(dirname -- "$1")" 2>&1) || { _mdo_f error "$_mdo_o"; exit 0; }
  _mdo_t=$(mktemp "$(dirname -- "$1")/.mdo-tmp-XXXXXXXX" 2>&1) || { _mdo_f error "$_mdo_t"; exit 0; }
  printf %s "$2" >"$_mdo_t" && { if [ -e "$1" ]; then chmod --reference="$1" "$_mdo_t"; else chmod 0644 "$_mdo_t"; fi; } && _mdo_o=$(mv -f -- "$_mdo_t" "$1" 2>&1) || { rm -f "$_mdo_t"; _mdo_f error "write $1: $_mdo_o"; exit 0; }
}
`)
	work := false
	split, err := SplitShlex(params)
	if err != nil {
		return Result{Failed: true, Msg: fmt.Sprintf("params: %v", err), Values: values}, nil
	}
	words := quoteWords(append([]string{name}, split...))
	switch {
	case state == "present" && !loaded:
		work = true
		dry := ""
		if env.Check {
			dry = "-n "
		}
		fmt.Fprintf(&sc, "_mdo_x=$(modprobe %s%s 2>&1 >/dev/null); _mdo_r=$?\n", dry, words)
		sc.WriteString("if [ $_mdo_r -ne 0 ]; then _mdo_f rc $_mdo_r; _mdo_f error \"$_mdo_x\"; exit 0; fi\n")
		if env.Check {
			changed = true
		} else {
			fmt.Fprintf(&sc, "_mdo_loaded\nif [ $_mdo_l = 1 ]; then _mdo_f changed 1\nelse _mdo_x=$(modprobe -n --first-time %s 2>&1 >/dev/null) || _mdo_f warn \"$_mdo_x\"; fi\n", words)
		}
	case state == "absent" && loaded:
		work, changed = true, true
		dry := ""
		if env.Check {
			dry = " -n"
		}
		fmt.Fprintf(&sc, "_mdo_x=$(modprobe -r %s%s 2>&1 >/dev/null); _mdo_r=$?\n", conn.Quote(name), dry)
		sc.WriteString("if [ $_mdo_r -ne 0 ]; then _mdo_f rc $_mdo_r; _mdo_f error \"$_mdo_x\"; exit 0; fi\n")
	}
	writes := map[string]string{}
	disableParams := func() {
		for _, p := range optFiles {
			if c, ok := modprobeComment(optContent[p], re.params); ok {
				writes[p] = c
			}
		}
	}
	switch {
	case persistent == "present" && !(persistently && paramsSet):
		changed = true
		if !persistently {
			writes[loadDir+"/"+name+".conf"] = name + "\n"
		}
		if !paramsSet {
			disableParams()
			var b strings.Builder
			for _, p := range strings.Fields(params) {
				fmt.Fprintf(&b, "options %s %s\n", name, p)
			}
			if b.Len() == 0 {
				b.WriteString("\n")
			}
			writes[optDir+"/"+name+".conf"] = b.String()
		}
	case persistent == "absent" && (persistently || len(permanent) > 0):
		changed = true
		for _, p := range loadFiles {
			if c, ok := modprobeComment(loadContent[p], re.module); ok {
				writes[p] = c
			}
		}
		disableParams()
	}
	if !env.Check {
		paths := make([]string, 0, len(writes))
		for p := range writes {
			paths = append(paths, p)
		}
		sort.Strings(paths)
		for _, p := range paths {
			work = true
			fmt.Fprintf(&sc, "_mdo_wf %s %s\n", conn.Quote(p), conn.Quote(writes[p]))
		}
	}
	r := Result{Changed: changed, Values: values}
	if !work {
		return r, nil
	}
	sc.WriteString("_mdo_f end 1\n")
	f, res, err = runScript(ctx, env, "modprobe "+name, sc.String(), nil)
	if err != nil {
		return Result{}, err
	}
	if msg, ok := f.get("error"); ok {
		values["stderr"] = msg
		if rc, ok := f.get("rc"); ok {
			values["rc"] = rc
		}
		return Result{Failed: true, Msg: msg, Values: values}, nil
	}
	if _, ok := f.get("end"); !ok {
		return scriptFailure("modprobe", res), nil
	}
	if _, ok := f.get("changed"); ok {
		r.Changed = true
	}
	if w, ok := f.get("warn"); ok {
		r.Warnings = append(r.Warnings, w)
	}
	return r, nil
}
