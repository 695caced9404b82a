package modules

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// PamLimits is the pam_limits module (community.general): it keeps one
// `domain type item value` line in limits.conf. The edit is a port of the
// collection's module, quirks included (a new line takes the comment of
// the last commented limit line when comment is not given). One exec reads
// the file; a change costs one more that writes it atomically.
type PamLimits struct{}

var _ Module = PamLimits{}

var pamItems = []string{"core", "data", "fsize", "memlock", "nofile", "rss", "stack", "cpu", "nproc", "as", "maxlogins",
	"maxsyslogins", "priority", "locks", "sigpending", "msgqueue", "nice", "rtprio", "chroot"}

// Spec describes pam_limits' arguments.
func (PamLimits) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "domain", Type: TypeStr, Required: true},
			{Name: "limit_type", Type: TypeStr, Required: true, Choices: []string{"soft", "hard", "-"}},
			{Name: "limit_item", Type: TypeStr, Required: true, Choices: pamItems},
			{Name: "value", Type: TypeStr, Required: true},
			{Name: "use_max", Type: TypeBool, Default: false},
			{Name: "use_min", Type: TypeBool, Default: false},
			{Name: "backup", Type: TypeBool, Default: false},
			{Name: "dest", Type: TypeStr, Default: "/etc/security/limits.conf"},
			{Name: "comment", Type: TypeStr, Default: ""},
		},
		CheckMode: true,
	}
}

// pamValueError is _assert_is_valid_value's message, "" for a valid value.
func pamValueError(item, value, prefix string) string {
	if item == "nice" || item == "priority" {
		if n, err := strconv.Atoi(value); err == nil && n >= -20 && n <= 19 {
			return ""
		}
		return fmt.Sprintf("%s Value of '%s' for item '%s' is invalid. Value must be a number in the range -20 to 19 inclusive. Refer to the limits.conf(5) manual pages for more details.", prefix, value, item)
	}
	digits := value != "" && strings.Trim(value, "0123456789") == ""
	if value == "unlimited" || value == "infinity" || value == "-1" || digits {
		return ""
	}
	return fmt.Sprintf("%s Value of '%s' for item '%s' is invalid. Value must either be 'unlimited', 'infinity' or -1, all of which indicate no limit, or a limit of 0 or larger. Refer to the limits.conf(5) manual pages for more details.", prefix, value, item)
}

var pamSpace = regexp.MustCompile(`\s+`)

// pamEdit is the module's loop: the new content, whether it changed, the
// message (the line kept or written) and a validation error.
func pamEdit(content, domain, typ, item, value, comment string, useMax, useMin bool, dest string) (string, bool, string, string) {
	var b strings.Builder
	changed, found := false, false
	newValue, msg := value, ""
	unlimited := func(v string) bool { return v == "unlimited" || v == "infinity" || v == "-1" }
	for _, line := range splitLinesKeep(content) {
		if strings.HasPrefix(line, "#") {
			b.WriteString(line)
			continue
		}
		nl := strings.TrimSpace(pamSpace.ReplaceAllString(line, " "))
		if nl == "" {
			b.WriteString(line)
			continue
		}
		nl, _, _ = strings.Cut(nl, "#")
		oldComment := ""
		if _, c, ok := strings.Cut(line, "#"); ok {
			oldComment = c
		}
		nl = strings.TrimRight(nl, " \t\r\n")
		if comment == "" {
			comment = oldComment
		}
		f := strings.Split(nl, " ")
		if len(f) != 4 {
			b.WriteString(line)
			continue
		}
		if e := pamValueError(f[2], f[3], fmt.Sprintf("Invalid configuration found in '%s'.", dest)); e != "" {
			return "", false, "", e
		}
		if f[0] != domain || f[1] != typ || f[2] != item {
			b.WriteString(line)
			continue
		}
		found = true
		actual := f[3]
		if value == actual {
			msg = line
			b.WriteString(line)
			continue
		}
		actualUnl, valueUnl := unlimited(actual), unlimited(value)
		if f[1] == "nice" || f[1] == "priority" {
			actualUnl, valueUnl = false, false
		}
		av, _ := strconv.Atoi(actual)
		vv, _ := strconv.Atoi(value)
		switch {
		case useMax && actualUnl:
			newValue = actual
		case useMax && valueUnl:
			newValue = value
		case useMax:
			newValue = strconv.Itoa(max(av, vv))
		case useMin && actualUnl && valueUnl:
			newValue = actual
		case useMin && actualUnl:
			newValue = value
		case useMin && valueUnl:
			newValue = actual
		case useMin:
			newValue = strconv.Itoa(min(av, vv))
		}
		if newValue != actual {
			changed = true
			if comment != "" {
				comment = "\t#" + comment
			}
			msg = domain + "\t" + typ + "\t" + item + "\t" + newValue + comment + "\n"
			b.WriteString(msg)
		} else {
			msg = line
			b.WriteString(line)
		}
	}
	if !found {
		changed = true
		if comment != "" {
			comment = "\t#" + comment
		}
		msg = domain + "\t" + typ + "\t" + item + "\t" + newValue + comment + "\n"
		b.WriteString(msg)
	}
	return b.String(), changed, msg, ""
}

// Run keeps the limit line.
func (PamLimits) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	dest := args.String("dest")
	if args.Bool("use_max") && args.Bool("use_min") {
		return Result{Failed: true, Msg: "Cannot use use_min and use_max at the same time."}, nil
	}
	item, value := args.String("limit_item"), args.String("value")
	if e := pamValueError(item, value, ""); e != "" {
		return Result{Failed: true, Msg: e}, nil
	}
	f, res, err := runScript(ctx, env, "pam_limits", fmt.Sprintf(`_mdo_d=%s
if [ -f "$_mdo_d" ]; then
  [ -w "$_mdo_d" ] || { _mdo_f fail "$_mdo_d is not writable. Use sudo"; exit 0; }
  printf 'content\0'; cat -- "$_mdo_d" || exit 1; printf '\0'
else
  _mdo_x=$(dirname -- "$_mdo_d"); { [ -d "$_mdo_x" ] && [ -w "$_mdo_x" ]; } || { _mdo_f fail "directory $_mdo_x is not writable (check presence, access rights, use sudo)"; exit 0; }
fi
_mdo_f end 1
`, conn.Quote(dest)), nil)
	if err != nil {
		return Result{}, err
	}
	if msg, ok := f.get("fail"); ok {
		return Result{Failed: true, Msg: msg}, nil
	}
	if _, ok := f.get("end"); !ok {
		return scriptFailure("pam_limits", res), nil
	}
	before, exists := f.get("content")
	after, changed, msg, bad := pamEdit(before, args.String("domain"), args.String("limit_type"), item, value,
		args.String("comment"), args.Bool("use_max"), args.Bool("use_min"), dest)
	if bad != "" {
		return Result{Failed: true, Msg: bad}, nil
	}
	r := Result{Changed: changed || !exists, Msg: msg, Values: map[string]any{}}
	if env.Diff && r.Changed {
		r.Diff = []Diff{{Before: before, After: after}}
	}
	if !r.Changed || env.Check {
		return r, nil
	}
	var sc strings.Builder
	if args.Bool("backup") {
		sc.WriteString(sysBackupScript(dest))
	}
	sc.WriteString(sysWriteScript(dest, "", "", ""))
	sc.WriteString("_mdo_f end 1\n")
	f, res, err = runScript(ctx, env, "pam_limits", sc.String(), []byte(after))
	if err != nil {
		return Result{}, err
	}
	if b := f.str("backup_file"); b != "" {
		r.Values["backup_file"] = b
	}
	if msg, ok := f.get("werr"); ok {
		return Result{Failed: true, Msg: msg}, nil
	}
	if _, ok := f.get("end"); !ok {
		return scriptFailure("pam_limits", res), nil
	}
	return r, nil
}
