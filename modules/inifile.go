package modules

import (
	"context"
	"regexp"
	"strings"
)

// IniFile is the ini_file module (community.general.ini_file): it sets,
// adds or removes an option (or a whole section) in an INI file. The edit
// is a port of the collection's do_ini; reading and writing go through
// the same helpers as lineinfile (one exec when nothing changes, atomic
// write keeping mode and owner, backup, file attributes).
type IniFile struct{}

var _ Module = IniFile{}

// Spec describes ini_file's arguments.
func (IniFile) Spec() *Spec {
	return &Spec{
		Args: append(fileAttrArgs(),
			Arg{Name: "path", Aliases: []string{"dest"}, Type: TypePath, Required: true},
			Arg{Name: "section", Type: TypeStr},
			Arg{Name: "option", Type: TypeStr},
			Arg{Name: "value", Type: TypeStr},
			Arg{Name: "values", Type: TypeList},
			Arg{Name: "backup", Type: TypeBool, Default: false},
			Arg{Name: "state", Type: TypeStr, Default: "present", Choices: []string{"absent", "present"}},
			Arg{Name: "exclusive", Type: TypeBool, Default: true},
			Arg{Name: "no_extra_spaces", Type: TypeBool, Default: false},
			Arg{Name: "allow_no_value", Type: TypeBool, Default: false},
			Arg{Name: "create", Type: TypeBool, Default: true},
		),
		CheckMode:         true,
		MutuallyExclusive: [][]string{{"value", "values"}},
	}
}

// iniRequest is one ini_file call.
type iniRequest struct {
	section, option string
	hasOption       bool
	values          []string
	present         bool
	exclusive       bool
	noExtraSpaces   bool
	allowNoValue    bool
}

func iniOptRE(option string, active bool) *regexp.Regexp {
	pre := "[#;]?"
	if active {
		pre = ""
	}
	return regexp.MustCompile("^" + pre + "( |\t)*(" + regexp.QuoteMeta(option) + ")( |\t)*(=|$)( |\t)*(.*)")
}

// iniEdit is do_ini: the new content, whether it changed and the message.
func iniEdit(content string, r iniRequest) (string, bool, string) {
	var values []string
	for _, v := range r.values {
		if !contains(values, v) {
			values = append(values, v)
		}
	}
	lines := splitLinesKeep(content)
	changed := false
	if len(lines) == 0 {
		lines = append(lines, "\n")
	}
	if last := lines[len(lines)-1]; last == "" || !strings.HasSuffix(last, "\n") {
		lines[len(lines)-1] += "\n"
		changed = true
	}
	const fake = "ad01e11446efb704fcdbdb21f2c43757423d91c5"
	lines = append(append([]string{"[" + fake + "]"}, lines...), "[")
	section := r.section
	if section == "" {
		section = fake
	}
	within := false
	start, end := 0, 0
	for i, l := range lines {
		if strings.HasPrefix(l, "["+section+"]") {
			within = true
			start = i
		} else if strings.HasPrefix(l, "[") && within {
			end = i
			break
		}
	}
	before := append([]string{}, lines[:start]...)
	sec := append([]string{}, lines[start:end]...)
	after := append([]string{}, lines[end:]...)
	changedLines := make([]bool, len(sec))
	msg := "OK"
	format := func(o, v string) string {
		if r.noExtraSpaces {
			return o + "=" + v + "\n"
		}
		return o + " = " + v + "\n"
	}
	update := func(i int, nl string) {
		if sec[i] != nl {
			changed = true
			msg = "option changed"
		}
		sec[i] = nl
		changedLines[i] = true
	}
	opt := iniOptRE(r.option, false)
	active := iniOptRE(r.option, true)
	match := func(re *regexp.Regexp, l string) []string { return re.FindStringSubmatch(strings.TrimRight(l, "\r\n")) }
	noValuePresent := false
	if r.present && r.hasOption {
		for i, l := range sec {
			m := match(opt, l)
			if m == nil {
				continue
			}
			if len(values) > 0 && contains(values, m[6]) {
				if m[6] == "" && r.allowNoValue {
					update(i, r.option+"\n")
					noValuePresent = true
				} else {
					update(i, format(r.option, m[6]))
				}
				for j, v := range values {
					if v == m[6] {
						values = append(values[:j], values[j+1:]...)
						break
					}
				}
			} else if len(values) == 0 && r.allowNoValue {
				update(i, r.option+"\n")
				noValuePresent = true
				break
			}
		}
	}
	if r.present && r.exclusive && !r.allowNoValue {
		if len(values) > 0 {
			for i, l := range sec {
				if !changedLines[i] && match(opt, l) != nil {
					update(i, format(r.option, values[0]))
					values = values[1:]
					if len(values) == 0 {
						break
					}
				}
			}
		}
		for i := len(sec) - 1; i > 0; i-- {
			if !changedLines[i] && match(opt, sec[i]) != nil {
				sec = append(sec[:i], sec[i+1:]...)
				changedLines = append(changedLines[:i], changedLines[i+1:]...)
				changed = true
				msg = "option changed"
			}
		}
	}
	blank := regexp.MustCompile(`^[ \t]*([#;].*)?$`)
	if r.present {
		for i := len(sec); i > 0; i-- {
			if blank.MatchString(strings.TrimRight(sec[i-1], "\r\n")) {
				continue
			}
			if r.hasOption && len(values) > 0 {
				var add []string
				for _, v := range values {
					add = append(add, format(r.option, v))
				}
				sec = append(sec[:i], append(add, sec[i:]...)...)
				msg, changed = "option added", true
			} else if r.hasOption && len(values) == 0 && r.allowNoValue && !noValuePresent {
				sec = append(sec[:i], append([]string{r.option + "\n"}, sec[i:]...)...)
				msg, changed = "option added", true
			}
			break
		}
	}
	if !r.present {
		if r.hasOption {
			var keep []string
			for _, l := range sec {
				m := match(active, l)
				if m != nil && (r.exclusive || contains(values, m[6])) {
					continue
				}
				keep = append(keep, l)
			}
			if (r.exclusive || len(values) > 0) && len(keep) != len(sec) {
				sec = keep
				changed, msg = true, "option changed"
			}
		} else if len(sec) > 0 {
			sec = nil
			changed, msg = true, "section removed"
		}
	}
	lines = append(append(before, sec...), after...)
	lines = lines[1 : len(lines)-1]
	if !within && r.present {
		lines = append(lines, "["+section+"]\n")
		msg = "section and option added"
		switch {
		case r.hasOption && len(values) > 0:
			for _, v := range values {
				lines = append(lines, format(r.option, v))
			}
		case r.hasOption && r.allowNoValue:
			lines = append(lines, r.option+"\n")
		default:
			msg = "only section added"
		}
		changed = true
	}
	return strings.Join(lines, ""), changed, msg
}

// Run edits the file.
func (IniFile) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	present := args.String("state") == "present"
	if present && !args.Bool("allow_no_value") && !args.Has("value") && len(args.Strings("values")) == 0 {
		return Result{Failed: true, Msg: "Parameter 'value(s)' must be defined if state=present and allow_no_value=False."}, nil
	}
	values := args.Strings("values")
	if args.Has("value") {
		values = []string{args.String("value")}
	}
	req := iniRequest{section: args.String("section"), option: args.String("option"), hasOption: args.String("option") != "",
		values: values, present: present, exclusive: args.Bool("exclusive"), noExtraSpaces: args.Bool("no_extra_spaces"),
		allowNoValue: args.Bool("allow_no_value")}
	p := args.String("path")
	o := editOptions{create: args.Bool("create"), missingMsg: "Destination %s does not exist!", backup: args.Bool("backup"),
		attrs: attrsOf(args), backupKey: "backup_file", contentLabel: true}
	r, err := editText(ctx, env, p, o, func(text string, _ bool) (textEdit, error) {
		after, changed, msg := iniEdit(text, req)
		return textEdit{after: after, changed: changed, msg: msg, values: map[string]any{"path": p}}, nil
	})
	if r.Values != nil && r.Values["backup_file"] == "" {
		delete(r.Values, "backup_file")
	}
	if r.Msg == "" && !r.Failed {
		r.Msg = "OK"
	}
	return r, err
}
