package modules

import (
	"context"
	"fmt"
	"strings"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// Sysctl is the sysctl module (ansible.posix.sysctl): it keeps a
// `name=value` line in sysctl_file and optionally sets the kernel value
// (sysctl -w) and reloads the file (sysctl -p). One exec reads the file
// and the kernel value; a change costs one more that writes the file
// atomically (keeping its mode and owner), sets and reloads.
type Sysctl struct{}

var _ Module = Sysctl{}

// Spec describes sysctl's arguments.
func (Sysctl) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "name", Aliases: []string{"key"}, Type: TypeStr, Required: true},
			{Name: "value", Aliases: []string{"val"}, Type: TypeStr},
			{Name: "state", Type: TypeStr, Default: "present", Choices: []string{"absent", "present"}},
			{Name: "ignoreerrors", Type: TypeBool, Default: false},
			{Name: "reload", Type: TypeBool, Default: true},
			{Name: "sysctl_file", Type: TypePath, Default: "/etc/sysctl.conf"},
			{Name: "sysctl_set", Type: TypeBool, Default: false},
		},
		CheckMode: true,
	}
}

// sysctlValue is Ansible's _parse_value: booleans become 1 and 0, other
// strings are stripped.
func sysctlValue(v string) string {
	switch strings.ToLower(v) {
	case "y", "yes", "on", "true", "t":
		return "1"
	case "n", "no", "off", "false", "f":
		return "0"
	}
	return strings.TrimSpace(v)
}

// sysctlEqual compares values word by word (tabs and spaces alike), as
// the kernel prints multi-word values with tabs.
func sysctlEqual(a, b string) bool {
	return strings.Join(strings.Fields(a), " ") == strings.Join(strings.Fields(b), " ")
}

// sysctlFix is Ansible's read_sysctl_file + fix_lines: it returns the
// file's value for name (found reports whether it had one) and the new
// content, with every setting rewritten as k=v, duplicates dropped, and
// name set (present) or removed (absent).
func sysctlFix(content, name, value string, present bool) (old string, found bool, out string) {
	var b strings.Builder
	checked := map[string]bool{}
	for _, line := range strings.SplitAfter(content, "\n") {
		if line == "" {
			continue
		}
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "#") || strings.HasPrefix(t, ";") || !strings.Contains(t, "=") {
			b.WriteString(line)
			continue
		}
		k, v, _ := strings.Cut(t, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if k == name {
			old, found = v, true
		}
		if checked[k] {
			continue
		}
		checked[k] = true
		if k == name {
			if present {
				fmt.Fprintf(&b, "%s=%s\n", k, value)
			}
			continue
		}
		fmt.Fprintf(&b, "%s=%s\n", k, v)
	}
	if !checked[name] && present {
		fmt.Fprintf(&b, "%s=%s\n", name, value)
	}
	return old, found, b.String()
}

// Run sets the value in the file (and the kernel).
func (Sysctl) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	name := strings.TrimSpace(args.String("name"))
	present := args.String("state") == "present"
	file := args.String("sysctl_file")
	values := map[string]any{}
	if present && !args.Has("value") {
		return Result{Failed: true, Msg: "state is present but all of the following are missing: value"}, nil
	}
	value := sysctlValue(args.String("value"))
	if present && value == "" {
		return Result{Failed: true, Msg: fmt.Sprintf("value cannot be empty for %s", name)}, nil
	}
	ign := ""
	if args.Bool("ignoreerrors") {
		ign = "-e "
	}
	var sc strings.Builder
	fmt.Fprintf(&sc, "_mdo_n=%s\n_mdo_s=%s\n", conn.Quote(name), conn.Quote(file))
	sc.WriteString(`if _mdo_v=$(sysctl -e -n "$_mdo_n" 2>/dev/null) && [ -n "$_mdo_v" ]; then _mdo_f proc "$_mdo_v"; fi
if [ -f "$_mdo_s" ]; then printf 'content\0'; cat -- "$_mdo_s" || exit 1; printf '\0'; fi
_mdo_f end 1
`)
	f, res, err := runScript(ctx, env, "sysctl "+name, sc.String(), nil)
	if err != nil {
		return Result{}, err
	}
	if _, ok := f.get("end"); !ok {
		return scriptFailure("sysctl", res), nil
	}
	proc, procKnown := f.get("proc")
	before := f.str("content")
	old, found, after := sysctlFix(before, name, value, present)

	changed, write, setProc := false, false, false
	switch {
	case !found && present:
		changed, write = true, true
	case found && !present:
		changed, write = true, true
	case found && old != value:
		changed, write = true, true
	}
	if args.Bool("reload") && present {
		if !procKnown || !sysctlEqual(proc, value) {
			changed = true
		}
	}
	if args.Bool("sysctl_set") && present {
		if !procKnown {
			changed = true
		} else if !sysctlEqual(proc, value) {
			changed, setProc = true, true
		}
	}
	r := Result{Changed: changed, Values: values}
	if env.Diff && write {
		r.Diff = []Diff{{BeforeHeader: file, AfterHeader: file, Before: before, After: after}}
	}
	if !changed || env.Check {
		return r, nil
	}
	sc.Reset()
	if write {
		sc.WriteString(sysWriteScript(file, "", "", ""))
	}
	if setProc {
		fmt.Fprintf(&sc, "_mdo_o=$(sysctl -w %s 2>&1) || { _mdo_f serr \"$_mdo_o\"; exit 0; }\n", conn.Quote(name+"="+value))
	}
	if args.Bool("reload") {
		fmt.Fprintf(&sc, "_mdo_o=$(sysctl %s-p %s 2>&1) || { _mdo_f rerr \"$_mdo_o\"; exit 0; }\n", ign, conn.Quote(file))
		if !args.Bool("ignoreerrors") {
			sc.WriteString("case $_mdo_o in *'Invalid argument'*|*'unknown key'*|*'cannot stat'*) _mdo_f rerr \"$_mdo_o\"; exit 0 ;; esac\n")
		}
	}
	sc.WriteString("_mdo_f end 1\n")
	f, res, err = runScript(ctx, env, "sysctl "+name, sc.String(), []byte(after))
	if err != nil {
		return Result{}, err
	}
	if msg, ok := f.get("werr"); ok {
		return Result{Failed: true, Msg: msg, Values: values}, nil
	}
	if msg, ok := f.get("serr"); ok {
		return Result{Failed: true, Msg: fmt.Sprintf("setting %s failed: %s", name, strings.TrimSpace(msg)), Values: values}, nil
	}
	if msg, ok := f.get("rerr"); ok {
		return Result{Failed: true, Msg: fmt.Sprintf("Failed to reload sysctl: %s", strings.TrimSpace(msg)), Values: values}, nil
	}
	if _, ok := f.get("end"); !ok {
		return scriptFailure("sysctl", res), nil
	}
	return r, nil
}
