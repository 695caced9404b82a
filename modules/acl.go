package modules

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// ACL is ansible.posix.acl, a port of the collection's module (Linux):
// getfacl and setfacl on the target. A change is decided as the module
// decides it, by `setfacl --test`: any line of its answer that does not end
// in "*,*" means the ACL would change. One exec tests and reads the ACL;
// a change costs one more.
type ACL struct{}

var _ Module = ACL{}

// Spec describes acl's arguments.
func (ACL) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "path", Aliases: []string{"name"}, Type: TypePath, Required: true},
			{Name: "entry", Type: TypeStr},
			{Name: "entity", Type: TypeStr, Default: ""},
			{Name: "etype", Type: TypeStr, Choices: []string{"group", "mask", "other", "user"}},
			{Name: "permissions", Type: TypeStr},
			{Name: "state", Type: TypeStr, Default: "query", Choices: []string{"absent", "present", "query"}},
			{Name: "follow", Type: TypeBool, Default: true},
			{Name: "default", Type: TypeBool, Default: false},
			{Name: "recursive", Aliases: []string{"recurse"}, Type: TypeBool, Default: false},
			{Name: "recalculate_mask", Type: TypeStr, Default: "default", Choices: []string{"default", "mask", "no_mask"}},
			{Name: "use_nfsv4_acls", Type: TypeBool, Default: false},
		},
		CheckMode: true,
	}
}

// aclSplitEntry is the module's split_entry: [d:]type:entity[:perms].
func aclSplitEntry(entry string) (isDefault *bool, etype, entity, perms string, err error) {
	a := strings.Split(entry, ":")
	if strings.HasPrefix(strings.ToLower(entry), "d") {
		t := true
		isDefault = &t
		a = a[1:]
	}
	if len(a) == 2 {
		a = append(a, "")
	}
	if len(a) != 3 {
		return nil, "", "", "", fmt.Errorf("entry %q: expected [default:]type:entity[:permissions]", entry)
	}
	t := strings.ToLower(a[0])
	switch {
	case strings.HasPrefix(t, "u"):
		etype = "user"
	case strings.HasPrefix(t, "g"):
		etype = "group"
	case strings.HasPrefix(t, "m"):
		etype = "mask"
	case strings.HasPrefix(t, "o"):
		etype = "other"
	default:
		return nil, "", "", "", fmt.Errorf("entry %q: unknown type %q", entry, a[0])
	}
	return isDefault, etype, a[1], a[2], nil
}

// aclCmd is one getfacl/setfacl command the module runs, as build_command
// builds it (the path comes last, from the script's $_mdo_p).
func aclCmd(mode string, follow, isDefault, recursive bool, recalc, entry string) []string {
	var cmd []string
	switch mode {
	case "set":
		cmd = []string{"setfacl", "-m", entry}
	case "rm":
		cmd = []string{"setfacl", "-x", entry}
	default:
		cmd = []string{"getfacl", "--omit-header", "--absolute-names"}
	}
	if recursive {
		cmd = append(cmd, "--recursive")
	}
	if mode != "get" {
		switch recalc {
		case "mask":
			cmd = append(cmd, "--mask")
		case "no_mask":
			cmd = append(cmd, "--no-mask")
		}
	}
	if !follow {
		cmd = append(cmd, "--physical")
	}
	if isDefault {
		cmd = append([]string{cmd[0], "-d"}, cmd[1:]...)
	}
	return cmd
}

// aclRun returns shell code running cmd on "$_mdo_p" and printing a
// section: tag, stdout, rc and stderr, each ended by a NUL.
func aclRun(tag string, cmd []string) string {
	return fmt.Sprintf("printf '%s\\0'; { _mdo_e=$(%s \"$_mdo_p\" 2>&1 1>&3 3>&-); } 3>&1; _mdo_rc=$?; printf '\\0%%s\\0%%s\\0' \"$_mdo_rc\" \"$_mdo_e\"\n", tag, quoteWords(cmd))
}

type aclOut struct {
	stdout, stderr string
	rc             int
	cmd            []string
}

// parseACLSections reads aclRun's sections.
func parseACLSections(b []byte) map[string]aclOut {
	out := map[string]aclOut{}
	parts := bytes.Split(b, []byte{0})
	for i := 0; i+3 < len(parts); i += 4 {
		rc, _ := strconv.Atoi(string(parts[i+2]))
		out[string(parts[i])] = aclOut{stdout: string(parts[i+1]), rc: rc, stderr: string(parts[i+3])}
	}
	return out
}

// aclLines is run_acl's reading of an answer: comment lines dropped,
// lines stripped, a last empty line dropped.
func aclLines(out string) []string {
	var lines []string
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if !strings.HasPrefix(l, "#") {
			lines = append(lines, strings.TrimSpace(l))
		}
	}
	if out == "" {
		lines = nil
	}
	if n := len(lines); n > 0 && strings.TrimSpace(lines[n-1]) == "" {
		lines = lines[:n-1]
	}
	return lines
}

// Run queries, sets or removes the entry.
func (ACL) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	fail := func(msg string) (Result, error) { return Result{Failed: true, Msg: msg}, nil }
	entry, entity, etype, perms := args.String("entry"), args.String("entity"), args.String("etype"), args.String("permissions")
	state, recalc := args.String("state"), args.String("recalculate_mask")
	isDefault, recursive := args.Bool("default"), args.Bool("recursive")
	if state == "query" {
		if recursive {
			return fail("'recursive' MUST NOT be set when 'state=query'.")
		}
		if recalc == "mask" || recalc == "no_mask" {
			return fail("'recalculate_mask' MUST NOT be set to 'mask' or 'no_mask' when 'state=query'.")
		}
	}
	if entry == "" {
		switch {
		case state == "absent" && perms != "":
			return fail("'permissions' MUST NOT be set when 'state=absent'.")
		case state == "absent" && entity == "":
			return fail("'entity' MUST be set when 'state=absent'.")
		case (state == "present" || state == "absent") && etype == "":
			return fail(fmt.Sprintf("'etype' MUST be set when 'state=%s'.", state))
		}
	} else {
		n := strings.Count(entry, ":")
		switch {
		case etype != "" || entity != "" || perms != "":
			return fail("'entry' MUST NOT be set when 'entity', 'etype' or 'permissions' are set.")
		case state == "present" && n != 2 && n != 3:
			return fail("'entry' MUST have 3 or 4 sections divided by ':' when 'state=present'.")
		case state == "absent" && n != 1 && n != 2:
			return fail("'entry' MUST have 2 or 3 sections divided by ':' when 'state=absent'.")
		case state == "query":
			return fail("'entry' MUST NOT be set when 'state=query'.")
		}
		d, t, e, p, err := aclSplitEntry(entry)
		if err != nil {
			return fail(err.Error())
		}
		if d != nil {
			isDefault = *d
		}
		etype, entity, perms = t, e, p
	}
	follow := args.Bool("follow")
	var change []string
	var msg string
	switch state {
	case "present":
		if args.Bool("use_nfsv4_acls") {
			entry = strings.Join([]string{etype, entity, perms, "allow"}, ":")
		} else if perms != "" {
			entry = etype + ":" + entity + ":" + perms
		} else {
			entry = etype + ":" + entity
		}
		change = aclCmd("set", follow, isDefault, recursive, recalc, entry)
		msg = entry + " is present"
	case "absent":
		// The module passes use_nfsv4_acls as the permissions here.
		entry = etype + ":" + entity
		if args.Bool("use_nfsv4_acls") {
			entry += ":True"
		}
		change = aclCmd("rm", follow, isDefault, recursive, recalc, entry)
		msg = entry + " is absent"
	default:
		msg = "current acl"
	}
	get := aclCmd("get", follow, isDefault, recursive, recalc, "")

	var e expander
	word := e.Word(args.String("path"), true)
	var b strings.Builder
	b.WriteString(e.Prelude() + "PATH=$PATH:/sbin:/usr/sbin:/usr/local/sbin\n_mdo_p=" + word + "\n")
	b.WriteString(`[ -e "$_mdo_p" ] || { printf 'nopath\0'; exit 0; }
for _mdo_b in getfacl setfacl; do command -v $_mdo_b >/dev/null 2>&1 || { printf 'nobin\0%s\0' "$_mdo_b"; exit 0; }; done
printf 'ok\0'
`)
	if change != nil {
		b.WriteString(aclRun("test", append([]string{change[0], "--test"}, change[1:]...)))
	}
	b.WriteString(aclRun("get", get))
	res, err := env.Conn.Exec(ctx, conn.Command{Script: b.String()})
	if err != nil {
		return Result{}, fmt.Errorf("acl: %w", err)
	}
	head, rest, _ := bytes.Cut(res.Stdout, []byte{0})
	switch string(head) {
	case "ok":
	case "nopath":
		return fail("Path not found or not accessible.")
	case "nobin":
		bin, _, _ := bytes.Cut(rest, []byte{0})
		return fail(fmt.Sprintf("Failed to find required executable %q in paths", bin))
	default:
		return fail(fmt.Sprintf("acl: unexpected output (rc %d): %s", res.RC, bytes.TrimSpace(res.Stderr)))
	}
	secs := parseACLSections(rest)
	failed := func(o aclOut, cmd []string) (Result, error) {
		return Result{Failed: true, Msg: strings.TrimRight(o.stderr, " \n"), Values: map[string]any{
			"cmd": strings.Join(append(cmd, args.String("path")), " "), "rc": o.rc, "stdout": o.stdout, "stderr": o.stderr,
		}}, nil
	}
	changed := false
	if change != nil {
		t, ok := secs["test"]
		if !ok {
			return fail("acl: no answer from setfacl --test")
		}
		if t.rc != 0 {
			return failed(t, append([]string{change[0], "--test"}, change[1:]...))
		}
		for _, l := range aclLines(t.stdout) {
			if !strings.HasSuffix(l, "*,*") {
				changed = true
			}
		}
	}
	if changed && !env.Check {
		var b2 strings.Builder
		b2.WriteString(e.Prelude() + "PATH=$PATH:/sbin:/usr/sbin:/usr/local/sbin\n_mdo_p=" + word + "\n")
		b2.WriteString(aclRun("set", change))
		b2.WriteString(aclRun("get", get))
		res, err := env.Conn.Exec(ctx, conn.Command{Script: b2.String()})
		if err != nil {
			return Result{}, fmt.Errorf("acl: %w", err)
		}
		secs = parseACLSections(res.Stdout)
		// Removing is run without check_rc in the module.
		if s := secs["set"]; s.rc != 0 && state == "present" {
			return failed(s, change)
		}
	}
	g, ok := secs["get"]
	if !ok {
		return fail("acl: no answer from getfacl")
	}
	if g.rc != 0 {
		return failed(g, get)
	}
	acl := []any{}
	for _, l := range aclLines(g.stdout) {
		acl = append(acl, l)
	}
	return Result{Changed: changed, Msg: msg, Values: map[string]any{"acl": acl}}, nil
}
