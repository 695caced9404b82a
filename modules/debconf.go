package modules

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/mdo-play/mdo-play/modules/conn"
	"github.com/mdo-play/mdo-play/templates/pyjson"
)

// Debconf is the debconf module (ansible.builtin.debconf): it reads a
// package's debconf answers with `debconf-show` and, given a question,
// sets it with `debconf-set-selections` when the answer differs, as
// ansible-core's module does. A password is compared with the value
// `debconf-get-selections` prints (debconf-show omits passwords); a
// boolean is compared in lower case; a multiselect given as a list is
// compared as a sorted list.
//
// One exec reads the answers (and, for a password, the package's lines of
// debconf-get-selections); a change costs one more.
type Debconf struct{}

var _ Module = Debconf{}

// Spec describes debconf's arguments.
func (Debconf) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "name", Aliases: []string{"pkg"}, Type: TypeStr, Required: true},
			{Name: "question", Aliases: []string{"selection", "setting"}, Type: TypeStr},
			{Name: "vtype", Type: TypeStr, Choices: []string{"boolean", "error", "multiselect", "note", "password", "seen", "select", "string", "text", "title"}},
			{Name: "value", Aliases: []string{"answer"}, Type: TypeRaw},
			{Name: "unseen", Type: TypeBool, Default: false},
		},
		CheckMode: true,
	}
}

// debconfParseShow is the module's get_selections: `* question: value`
// lines of debconf-show, the seen mark and spaces removed.
func debconfParseShow(out string) map[string]string {
	sel := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		sel[strings.TrimSpace(strings.Trim(k, "*"))] = strings.TrimSpace(v)
	}
	return sel
}

// debconfPassword is the module's get_password_value over the lines of
// debconf-get-selections: the first line starting with pkg that has no
// value gives "", a line for question and vtype gives its value; found is
// false when neither occurs.
func debconfPassword(out, pkg, question, vtype string) (value string, found bool) {
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, pkg) {
			continue
		}
		fields := strings.Split(line, "\t")
		if len(fields) <= 3 {
			return "", true
		}
		if fields[1] == question && fields[2] == vtype {
			return fields[3], true
		}
	}
	return "", false
}

// debconfStrings returns a multiselect list's items as strings, or false
// when one is not a string (Python cannot sort or join them).
func debconfStrings(l []any) ([]string, bool) {
	out := make([]string, len(l))
	for i, v := range l {
		s, ok := v.(string)
		if !ok {
			return nil, false
		}
		out[i] = s
	}
	return out, true
}

func debconfAnyList(l []string) []any {
	out := make([]any, len(l))
	for i, s := range l {
		out[i] = s
	}
	return out
}

// Run reads the answers and sets the question when it differs.
func (Debconf) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	pkg, question, vtype := args.String("name"), args.String("question"), args.String("vtype")
	given := 0
	for _, k := range []string{"question", "vtype", "value"} {
		if args.Has(k) {
			given++
		}
	}
	if given != 0 && given != 3 {
		return Result{Failed: true, Msg: "parameters are required together: question, vtype, value"}, nil
	}
	hasQuestion := given == 3
	password := hasQuestion && vtype == "password"

	var sc strings.Builder
	fmt.Fprintf(&sc, "_mdo_p=%s\n", conn.Quote(pkg))
	sc.WriteString(`command -v debconf-show >/dev/null 2>&1 || { _mdo_f fail "Failed to find required executable \"debconf-show\" in paths: $PATH"; exit 0; }
_mdo_e=$(mktemp) || { _mdo_f fail "mktemp failed"; exit 0; }
_mdo_o=$(LANG=C LC_ALL=C debconf-show "$_mdo_p" 2>"$_mdo_e"); _mdo_r=$?
_mdo_f err "$(cat "$_mdo_e")"; rm -f "$_mdo_e"
[ $_mdo_r -eq 0 ] || { _mdo_f showfail 1; exit 0; }
_mdo_f show "$_mdo_o"
`)
	if password {
		sc.WriteString(`if command -v debconf-get-selections >/dev/null 2>&1; then
  _mdo_o=$(debconf-get-selections 2>&1) && _mdo_f pw "$(printf '%s\n' "$_mdo_o" | _mdo_p=$_mdo_p awk 'index($0, ENVIRON["_mdo_p"]) == 1')" || _mdo_f pwerr "$_mdo_o"
else _mdo_f pwerr "Failed to find required executable \"debconf-get-selections\" in paths: $PATH"; fi
`)
	}
	sc.WriteString("_mdo_f end 1\n")
	f, res, err := runScript(ctx, env, "debconf", sc.String(), nil)
	if err != nil {
		return Result{}, err
	}
	if m, ok := f.get("fail"); ok {
		return Result{Failed: true, Msg: m}, nil
	}
	if _, ok := f.get("showfail"); ok {
		return Result{Failed: true, Msg: f.str("err")}, nil
	}
	if _, ok := f.get("end"); !ok {
		return scriptFailure("debconf", res), nil
	}
	prev := debconfParseShow(f.str("show"))

	// value is the answer as the module holds it: a string, or for a
	// multiselect given as a list, the list.
	var value any
	var valueList []string
	isList := false
	changed := false
	if hasQuestion {
		switch v := args["value"].(type) {
		case []any:
			l, ok := debconfStrings(v)
			if !ok || vtype != "multiselect" {
				return Result{Failed: true, Msg: fmt.Sprintf("Invalid value provided for '%s': a list must hold strings and is only accepted for 'multiselect'", vtype)}, nil
			}
			valueList, isList = l, true
			value = debconfAnyList(l)
		case map[string]any:
			return Result{Failed: true, Msg: "Invalid value provided for '" + vtype + "': a mapping is not an answer"}, nil
		default:
			value = pyjson.Str(v)
		}
		if vtype == "boolean" && !isList {
			value = strings.ToLower(value.(string))
		}
		existing, ok := prev[question]
		switch {
		case !ok:
			changed = true
		case vtype == "boolean":
			changed = value.(string) != strings.ToLower(existing)
		case vtype == "password":
			if m, bad := f.get("pwerr"); bad {
				return Result{Failed: true, Msg: fmt.Sprintf("Failed to get the value '%s' from '%s': %s", question, pkg, m)}, nil
			}
			pw, found := debconfPassword(f.str("pw"), pkg, question, vtype)
			changed = !found || value.(string) != pw
		case isList:
			sort.Strings(valueList)
			value = debconfAnyList(valueList)
			var have []string
			for _, s := range strings.Split(existing, ",") {
				have = append(have, strings.TrimSpace(s))
			}
			sort.Strings(have)
			changed = strings.Join(have, "\x00") != strings.Join(valueList, "\x00") || len(have) != len(valueList)
		default:
			changed = value.(string) != existing
		}
	}
	current := map[string]any{}
	if !changed {
		for k, v := range prev {
			current[k] = v
		}
		return Result{Values: map[string]any{"current": current, "msg": ""}}, nil
	}

	msg := ""
	if !env.Check {
		if isList {
			value = strings.Join(valueList, ", ")
		}
		data := strings.Join([]string{pkg, question, vtype, value.(string)}, " ") + "\n"
		u := ""
		if args.Bool("unseen") {
			u = " -u"
		}
		f, res, err = runScript(ctx, env, "debconf", `command -v debconf-set-selections >/dev/null 2>&1 || { _mdo_f err "Failed to find required executable \"debconf-set-selections\" in paths: $PATH"; _mdo_f rc 127; exit 0; }
_mdo_e=$(mktemp) || { _mdo_f err "mktemp failed"; _mdo_f rc 1; exit 0; }
_mdo_o=$(debconf-set-selections`+u+` 2>"$_mdo_e"); _mdo_r=$?
_mdo_f out "$_mdo_o"; _mdo_f err "$(cat "$_mdo_e")"; rm -f "$_mdo_e"; _mdo_f rc $_mdo_r
`, []byte(data))
		if err != nil {
			return Result{}, err
		}
		rc, ok := f.get("rc")
		if !ok {
			return scriptFailure("debconf", res), nil
		}
		if rc != "0" {
			return Result{Failed: true, Msg: f.str("err")}, nil
		}
		msg = f.str("out")
	}
	current[question] = value
	// As in Ansible: previous is the question's old answer, or, for a new
	// question, every answer of the package plus the question with "".
	previous := map[string]any{}
	if v, ok := prev[question]; ok {
		previous[question] = v
	} else {
		for k, v := range prev {
			previous[k] = v
		}
		previous[question] = ""
	}
	// msg is debconf-set-selections' output, "" as a rule (Ansible
	// returns it even then)
	values := map[string]any{"current": current, "previous": previous, "diff": map[string]any{}, "msg": msg}
	r := Result{Changed: true, Msg: msg, Values: values}
	if env.Diff {
		after := map[string]any{}
		for k, v := range previous {
			after[k] = v
		}
		after[question] = value
		values["diff"] = map[string]any{"before": previous, "after": after}
		r.Diff = []Diff{AttrDiff(previous, after)}
	}
	return r, nil
}
