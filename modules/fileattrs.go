package modules

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// fileAttrs wraps a module that takes Ansible's common file arguments
// (copy, template, file, lineinfile, ...) and gives it the two that the
// module itself leaves alone:
//
//   - attributes: the path's file attributes, read with lsattr and set
//     with chattr as Ansible's set_attributes_if_different does, after the
//     module ran (one exec to read, one more to change);
//   - seuser, serole, setype, selevel: where SELinux is not enabled they do
//     not apply, and the result says so in a warning; where it is enabled
//     the task fails, as mdo-play cannot set SELinux contexts.
//
// A call without these arguments costs nothing more.
type fileAttrs struct {
	Module
	pathArgs []string // result keys, then arguments, naming the path
}

var seArgs = []string{"selevel", "serole", "setype", "seuser"}

// readOnlyAttrs are flags lsattr shows that chattr cannot set or clear
// (extents, encryption, huge file, indexed directory, inline data,
// verity, ...): they never make a path differ.
const readOnlyAttrs = "eEhINVZ"

// attrFlags returns the settable flags of an lsattr flag field, sorted.
func attrFlags(s string) string {
	var out []byte
	for _, c := range []byte(s) {
		if c != '-' && !strings.ContainsRune(readOnlyAttrs, rune(c)) {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return string(out)
}

// attrsNeedChange reports whether chattr SPEC would change a path whose
// settable flags are cur: "+x" when a flag is missing, "-x" when one is
// present, "x" or "=x" when the sets differ. (Ansible compares the flag
// strings as they are, so it reports a change on every run for "+i" on a
// file that also has other flags; mdo-play compares the flags themselves.)
func attrsNeedChange(cur, spec string) bool {
	op, want := byte('='), spec
	if spec != "" && (spec[0] == '+' || spec[0] == '-' || spec[0] == '=') {
		op, want = spec[0], spec[1:]
	}
	want = attrFlags(want)
	switch op {
	case '+':
		for _, c := range want {
			if !strings.ContainsRune(cur, c) {
				return true
			}
		}
		return false
	case '-':
		for _, c := range want {
			if strings.ContainsRune(cur, c) {
				return true
			}
		}
		return false
	}
	return cur != want
}

func (w fileAttrs) path(args Args, r Result) string {
	for _, k := range w.pathArgs {
		if s, ok := r.Values[k].(string); ok && s != "" {
			return s
		}
	}
	for _, k := range w.pathArgs {
		if s := args.String(k); s != "" {
			return s
		}
	}
	return ""
}

// Run runs the module, then applies attributes and reports on se*.
func (w fileAttrs) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	spec := args.String("attributes")
	var se []string
	for _, n := range seArgs {
		if args.Has(n) && args.String(n) != "" {
			se = append(se, n)
		}
	}
	if spec == "" && len(se) == 0 {
		return w.Module.Run(ctx, env, args)
	}
	r, err := w.Module.Run(ctx, env, args)
	if err != nil || r.Failed || r.Skipped {
		return r, err
	}
	inner := r.Changed
	st := args.String("state")
	if st == "absent" || st == "link" || st == "hard" {
		spec = ""
	}
	p := w.path(args, r)
	if p == "" {
		return r, nil
	}
	recurse := args.Bool("recurse")
	var sc strings.Builder
	fmt.Fprintf(&sc, "_mdo_p=%s\n", conn.Quote(p))
	sc.WriteString("if [ -e /sys/fs/selinux/enforce ] || { command -v selinuxenabled >/dev/null 2>&1 && selinuxenabled; }; then _mdo_f selinux 1; fi\n")
	if spec != "" {
		sc.WriteString(`if [ -e "$_mdo_p" ] || [ -L "$_mdo_p" ]; then
  _mdo_o=$(lsattr -d -- "$_mdo_p" 2>&1); _mdo_f lsrc $?; _mdo_f lsattr "$_mdo_o"
else _mdo_f missing 1; fi
`)
	}
	sc.WriteString("_mdo_f end 1\n")
	f, res, err := runScript(ctx, env, "attributes of "+p, sc.String(), nil)
	if err != nil {
		return Result{}, err
	}
	if _, ok := f.get("end"); !ok {
		return scriptFailure("attributes", res), nil
	}
	if len(se) > 0 {
		if _, on := f.get("selinux"); on {
			r.Failed = true
			r.Msg = fmt.Sprintf("SELinux is enabled on the host and mdo-play cannot set SELinux contexts (%s)", strings.Join(se, ", "))
			return r, nil
		}
		r.Warnings = append(r.Warnings, fmt.Sprintf("%s: SELinux is not enabled on the host, so the SELinux options do not apply", strings.Join(se, ", ")))
	}
	if spec == "" {
		return r, nil
	}
	if _, missing := f.get("missing"); missing {
		if env.Check {
			r.Changed = true // the module would have created it
			return r, nil
		}
		return r, nil
	}
	cur := ""
	if f.str("lsrc") == "0" {
		if fl := strings.Fields(f.str("lsattr")); len(fl) > 0 {
			cur = attrFlags(fl[0])
		}
	}
	if f.str("lsrc") == "0" && !attrsNeedChange(cur, spec) && !recurse {
		return r, nil
	}
	mod := spec
	if mod[0] != '+' && mod[0] != '-' && mod[0] != '=' {
		mod = "=" + mod
	}
	r.Changed = true
	if env.Diff {
		d := AttrDiff(map[string]any{"path": p, "attributes": cur}, map[string]any{"path": p, "attributes": mod})
		d.BeforeHeader = p + " (file attributes)"
		d.AfterHeader = d.BeforeHeader
		r.Diff = append(r.Diff, d)
	}
	if env.Check {
		return r, nil
	}
	rflag := ""
	if recurse {
		rflag = "-R "
	}
	script := fmt.Sprintf("_mdo_o=$(chattr %s%s -- %s 2>&1); _mdo_rc=$?\n_mdo_f rc $_mdo_rc\n_mdo_f out \"$_mdo_o\"\n", rflag, conn.Quote(mod), conn.Quote(p))
	if recurse {
		// a recursive call reports a change only when a flag moved
		script = fmt.Sprintf("_mdo_b=$(lsattr -R -d -- %[1]s 2>/dev/null; lsattr -R -- %[1]s 2>/dev/null)\n", conn.Quote(p)) + script +
			fmt.Sprintf("[ \"$_mdo_b\" = \"$(lsattr -R -d -- %[1]s 2>/dev/null; lsattr -R -- %[1]s 2>/dev/null)\" ] && _mdo_f same 1\n", conn.Quote(p))
	}
	f, _, err = runScript(ctx, env, "chattr "+p, script, nil)
	if err != nil {
		return Result{}, err
	}
	if f.str("rc") != "0" || strings.TrimSpace(f.str("out")) != "" {
		if r.Values == nil {
			r.Values = map[string]any{}
		}
		r.Values["path"] = p
		r.Values["details"] = "Error while setting attributes: " + strings.TrimSpace(f.str("out"))
		return Result{Failed: true, Msg: "chattr failed", Values: r.Values, Warnings: r.Warnings}, nil
	}
	if _, same := f.get("same"); same && recurse {
		r.Changed = inner
		if env.Diff {
			r.Diff = r.Diff[:len(r.Diff)-1]
		}
	}
	return r, nil
}
