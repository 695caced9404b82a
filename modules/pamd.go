package modules

import (
	"context"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// Pamd is community.general's pamd: it edits one rule of a PAM service
// file (update it, insert a rule before or after it, add or remove its
// arguments, remove it). The edit is a port of the collection's module,
// its quirks included (the whole file's rules are rewritten in its
// format, and a "# Updated by Ansible" line is kept as the second line).
// One exec reads the file; a change costs one more that writes it
// atomically.
type Pamd struct {
	Now func() time.Time // the clock of the "Updated by Ansible" mark
}

var _ Module = Pamd{}

var pamdTypes = []string{"account", "-account", "auth", "-auth", "password", "-password", "session", "-session"}

// Spec describes pamd's arguments.
func (Pamd) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "name", Type: TypeStr, Required: true},
			{Name: "type", Type: TypeStr, Required: true, Choices: pamdTypes},
			{Name: "control", Type: TypeStr, Required: true},
			{Name: "module_path", Type: TypeStr, Required: true},
			{Name: "new_type", Type: TypeStr, Choices: pamdTypes},
			{Name: "new_control", Type: TypeStr},
			{Name: "new_module_path", Type: TypeStr},
			{Name: "module_arguments", Type: TypeList},
			{Name: "state", Type: TypeStr, Default: "updated", Choices: []string{"absent", "after", "args_absent", "args_present", "before", "updated"}},
			{Name: "path", Type: TypePath, Default: "/etc/pam.d"},
			{Name: "backup", Type: TypeBool, Default: false},
		},
		CheckMode: true,
	}
}

var (
	pamdRuleRe = regexp.MustCompile(`(-?(?:auth|account|session|password))\s+(\[.*\]|\S*)\s+(\S*)\s*(.*)\s*`)
	pamdArgRe  = regexp.MustCompile(`(\[.*\]|\S*)`)
)

var (
	pamdSimpleControls = []string{"required", "requisite", "sufficient", "optional", "include", "substack", "definitive"}
	pamdControlValues  = []string{"success", "open_err", "symbol_err", "service_err", "system_err", "buf_err",
		"perm_denied", "auth_err", "cred_insufficient", "authinfo_unavail", "user_unknown",
		"maxtries", "new_authtok_reqd", "acct_expired", "session_err", "cred_unavail",
		"cred_expired", "cred_err", "no_module_data", "conv_err", "authtok_err",
		"authtok_recover_err", "authtok_lock_busy", "authtok_disable_aging", "try_again",
		"ignore", "abort", "authtok_expired", "module_unknown", "bad_item", "conv_again",
		"incomplete", "default"}
	pamdControlActions = []string{"ignore", "bad", "die", "ok", "done", "reset"}
)

// pamdLine is one line of a service file: a rule (isRule) or a comment,
// @include or empty line kept as text.
type pamdLine struct {
	isRule  bool
	text    string // non-rules
	typ     string
	control string // normalized: "[a=b c=d]" or a simple control
	path    string
	args    []string
	invalid bool // a line that is no rule, comment, include or empty line
}

// pamdControl normalizes a control as the collection's setter does.
func pamdControl(c string) string {
	if strings.HasPrefix(c, "[") {
		c = strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(c, " = ", "="), "[", ""), "]", "")
		return "[" + c + "]"
	}
	return c
}

// pamdArgs is parse_module_arguments.
func pamdArgs(in []string) []string {
	if len(in) == 1 && in[0] == "" {
		return nil
	}
	var out []string
	for _, a := range in {
		for _, item := range pamdArgRe.FindAllString(a, -1) {
			if item != "" {
				out = append(out, item)
			}
		}
	}
	return out
}

func (l *pamdLine) matches(typ, control, p string) bool {
	return l.isRule && l.typ == typ && l.control == control && l.path == p
}

func (l *pamdLine) String() string {
	if !l.isRule {
		return l.text
	}
	s := fmt.Sprintf("%-11s%s %s", l.typ, l.control, l.path)
	if len(l.args) > 0 {
		s += " " + strings.Join(l.args, " ")
	}
	return s
}

// validate is the rule's (or line's) validate: "" when valid.
func (l *pamdLine) validate() string {
	if !l.isRule {
		switch {
		case l.invalid:
		case strings.TrimSpace(l.text) == "", strings.HasPrefix(l.text, "#"), strings.HasPrefix(l.text, "@include"):
			return ""
		}
		return "Rule is not valid " + l.text
	}
	if !contains(pamdTypes, l.typ) {
		return "Rule type, " + l.typ + ", is not valid in rule " + l.String()
	}
	if !strings.HasPrefix(l.control, "[") {
		if !contains(pamdSimpleControls, l.control) {
			return "Rule control, " + l.control + ", is not valid in rule " + l.String()
		}
		return ""
	}
	for _, c := range strings.Split(strings.Trim(l.control, "[]"), " ") {
		value, action, ok := strings.Cut(c, "=")
		if !ok || !contains(pamdControlValues, value) {
			return "Rule control value, " + value + ", is not valid in rule " + l.String()
		}
		if n, err := strconv.Atoi(action); !contains(pamdControlActions, action) && (err != nil || n < 0) {
			return "Rule control action, " + action + ", is not valid in rule " + l.String()
		}
	}
	return ""
}

// pamdParse splits a service file into lines as PamdService does.
func pamdParse(content string) []*pamdLine {
	var out []*pamdLine
	for _, line := range strings.Split(strings.TrimSuffix(content, "\n"), "\n") {
		if content == "" {
			break
		}
		line = strings.TrimSuffix(line, "\r")
		lt := strings.TrimLeft(line, " \t")
		switch {
		case strings.HasPrefix(lt, "#"), strings.HasPrefix(lt, "@include"), strings.TrimSpace(line) == "":
			out = append(out, &pamdLine{text: line})
		default:
			m := pamdRuleRe.FindStringSubmatch(line)
			if m == nil {
				out = append(out, &pamdLine{text: line, invalid: true})
				continue
			}
			out = append(out, &pamdLine{isRule: true, typ: m[1], control: pamdControl(m[2]), path: m[3], args: pamdArgs([]string{m[4]})})
		}
	}
	return out
}

// pamdRender is PamdService.__str__ with the mark for now.
func pamdRender(lines []*pamdLine, now time.Time) string {
	mark := "# Updated by Ansible - " + now.Format("2006-01-02T15:04:05.000000")
	out := make([]string, 0, len(lines)+2)
	for _, l := range lines {
		out = append(out, l.String())
	}
	if len(out) <= 1 {
		out = append([]string{"", mark}, out...)
	} else if strings.HasPrefix(out[1], "# Updated by Ansible") {
		out[1] = mark
	} else {
		out = append(out[:1], append([]string{mark}, out[1:]...)...)
	}
	return strings.Join(out, "\n") + "\n"
}

func pamdSkippable(l *pamdLine) bool {
	return !l.isRule && (strings.HasPrefix(strings.TrimLeft(l.text, " \t"), "#") || strings.TrimSpace(l.text) == "")
}

// pamdEdit applies the state's action and returns the new lines and the
// number of rules changed.
func pamdEdit(lines []*pamdLine, args Args) ([]*pamdLine, int) {
	typ, control, p := args.String("type"), args.String("control"), args.String("module_path")
	nt, nc, np := args.String("new_type"), args.String("new_control"), args.String("new_module_path")
	changes := 0
	newRule := func() *pamdLine {
		return &pamdLine{isRule: true, typ: nt, control: pamdControl(nc), path: np, args: pamdArgs(args.Strings("module_arguments"))}
	}
	switch args.String("state") {
	case "updated":
		var newArgs []string
		hasArgs := args.Has("module_arguments")
		if hasArgs {
			newArgs = pamdArgs(args.Strings("module_arguments"))
		}
		for _, l := range lines {
			if !l.matches(typ, control, p) {
				continue
			}
			ch := false
			if nt != "" && l.typ != nt {
				l.typ, ch = nt, true
			}
			if nc != "" && l.control != nc {
				l.control, ch = pamdControl(nc), true
			}
			if np != "" && l.path != np {
				l.path, ch = np, true
			}
			if hasArgs && strings.Join(l.args, "\x00") != strings.Join(newArgs, "\x00") {
				l.args, ch = newArgs, true
			}
			if ch {
				changes++
			}
		}
	case "before":
		for i := 0; i < len(lines); i++ {
			if !lines[i].matches(typ, control, p) {
				continue
			}
			j := i - 1
			for j >= 0 && pamdSkippable(lines[j]) {
				j--
			}
			switch {
			case j < 0:
				// the first rule: inserted right before it, after any comments
				lines = append(lines[:i], append([]*pamdLine{newRule()}, lines[i:]...)...)
				i++
				changes++
			case !lines[j].matches(nt, nc, np):
				// linked in after the previous rule: the comments and empty
				// lines between the two are dropped, as the collection does
				lines = append(lines[:j+1], append([]*pamdLine{newRule()}, lines[i:]...)...)
				i = j + 2
				changes++
			}
		}
	case "after":
		for i := 0; i < len(lines); i++ {
			if !lines[i].matches(typ, control, p) {
				continue
			}
			j := i + 1
			for j < len(lines) && pamdSkippable(lines[j]) {
				j++
			}
			// The new rule is linked in right after the rule: comments and
			// empty lines up to the next rule (or the end) are dropped, as the
			// collection does.
			switch {
			case j < len(lines) && !lines[j].matches(nt, nc, np):
				lines = append(lines[:i+1], append([]*pamdLine{newRule()}, lines[j:]...)...)
				changes++
			case j >= len(lines):
				lines = append(lines[:i+1], newRule())
				changes++
			}
		}
	case "args_present":
		add := pamdArgs(args.Strings("module_arguments"))
		for _, l := range lines {
			if !l.matches(typ, control, p) {
				continue
			}
			ch := false
			kv := map[string]string{}
			for _, a := range l.args {
				if k, v, ok := strings.Cut(a, "="); ok && !strings.HasPrefix(a, "[") {
					kv[k] = v
				}
			}
			for _, a := range add {
				if strings.HasPrefix(a, "[") {
					continue
				}
				k, v, isKV := strings.Cut(a, "=")
				switch {
				case !isKV && !contains(l.args, a):
					l.args, ch = append(l.args, a), true
				case isKV:
					old, has := kv[k]
					if !has {
						l.args, ch = append(l.args, a), true
						kv[k] = v
					} else if old != v {
						for n, x := range l.args {
							if x == k+"="+old {
								l.args[n] = a
							}
						}
						kv[k], ch = v, true
					}
				}
			}
			if ch {
				changes++
			}
		}
	case "args_absent":
		rm := pamdArgs(args.Strings("module_arguments"))
		for _, l := range lines {
			if !l.matches(typ, control, p) {
				continue
			}
			var kept []string
			for _, a := range l.args {
				if !contains(rm, a) {
					kept = append(kept, a)
				}
			}
			if len(kept) != len(l.args) {
				l.args = kept
				changes++
			}
		}
	case "absent":
		var kept []*pamdLine
		for _, l := range lines {
			if l.matches(typ, control, p) {
				changes++
				continue
			}
			kept = append(kept, l)
		}
		lines = kept
	}
	return lines, changes
}

// Run edits the service file.
func (m Pamd) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	now := time.Now
	if m.Now != nil {
		now = m.Now
	}
	state := args.String("state")
	switch {
	case (state == "args_present" || state == "args_absent") && !args.Has("module_arguments"):
		return Result{Failed: true, Msg: "state is " + state + " but all of the following are missing: module_arguments"}, nil
	case state == "before" || state == "after":
		var missing []string
		for _, a := range []string{"new_control", "new_type", "new_module_path"} {
			if !args.Has(a) {
				missing = append(missing, a)
			}
		}
		if len(missing) > 0 {
			return Result{Failed: true, Msg: "state is " + state + " but all of the following are missing: " + strings.Join(missing, ", ")}, nil
		}
	}
	fname := path.Join(args.String("path"), args.String("name"))
	st, err := ReadFile(ctx, env.Conn, fname, ReadOptions{Content: true, MaxContent: -1, Follow: true})
	if err != nil {
		return FailResult(err, nil)
	}
	if !st.Exists || st.Type != TypeFile || !st.HasContent {
		return Result{Failed: true, Msg: fmt.Sprintf("Unable to open/read PAM module file %s with error [Errno 2] No such file or directory: '%s'.", fname, fname)}, nil
	}
	if state == "args_present" {
		for _, a := range pamdArgs(args.Strings("module_arguments")) {
			if strings.HasPrefix(a, "[") {
				return Result{Failed: true, Msg: "Unable to process bracketed '[' complex arguments with 'args_present'. Please use 'updated'."}, nil
			}
		}
	}
	lines, changes := pamdEdit(pamdParse(string(st.Content)), args)
	for _, l := range lines {
		if msg := l.validate(); msg != "" {
			return Result{Failed: true, Msg: msg}, nil
		}
	}
	values := map[string]any{"change_count": changes, "backupdest": ""}
	if changes == 0 || env.Check {
		return Result{Changed: changes > 0, Values: values}, nil
	}
	// write through a link to the file it names (os.path.realpath)
	if r, err := env.Conn.Exec(ctx, conn.Command{Script: "readlink -f -- " + conn.Quote(st.Path)}); err != nil {
		return Result{}, fmt.Errorf("pamd %s: %w", fname, err)
	} else if real := strings.TrimSuffix(string(r.Stdout), "\n"); r.RC == 0 && real != st.Path {
		st.Path = real
	}
	content := pamdRender(lines, now())
	wr, err := WriteFile(ctx, env.Conn, []byte(content), WriteOptions{Before: st, Backup: args.Bool("backup")})
	if err != nil {
		return FailResult(err, values)
	}
	values["backupdest"] = wr.BackupFile
	res := Result{Changed: true, Values: values}
	if env.Diff {
		res.Diff = []Diff{ContentDiff(fname, st.Content, true, []byte(content), fname)}
	}
	return res, nil
}
