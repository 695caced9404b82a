package modules

import (
	"context"
	"strings"
)

// Capabilities is community.general.capabilities: it adds or removes one
// file capability with getcap and setcap, as the collection's module does.
// A capability is NAME, OP (=, - or +, the first of them found in that
// order) and FLAGS; present is satisfied only by the same triple in
// getcap's output (so `cap_x+ep`, which getcap prints as `cap_x=ep`,
// changes on every run, as in Ansible); absent removes the name whatever
// its flags. The new set is written with one `setcap "CAPS" PATH`.
//
// One exec reads; a change costs one more.
type Capabilities struct{}

var _ Module = Capabilities{}

// Spec describes capabilities' arguments.
func (Capabilities) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "path", Aliases: []string{"key"}, Type: TypeStr, Required: true},
			{Name: "capability", Aliases: []string{"cap"}, Type: TypeStr, Required: true},
			{Name: "state", Type: TypeStr, Default: "present", Choices: []string{"absent", "present"}},
		},
		CheckMode: true,
	}
}

// capTuple is the collection's (cap, op, flags).
type capTuple struct{ name, op, flags string }

func (c capTuple) String() string { return c.name + c.op + c.flags }

// parseCap is the collection's _parse_cap; ok is false when no operator
// is found (or the operator appears twice, where Python's unpacking fails).
func parseCap(s string) (capTuple, bool) {
	for _, op := range []string{"=", "-", "+"} {
		if i := strings.Index(s, op); i >= 0 {
			parts := strings.Split(s, op)
			if len(parts) != 2 {
				return capTuple{}, false
			}
			return capTuple{parts[0], op, parts[1]}, true
		}
	}
	return capTuple{name: s}, false
}

const capOpsMsg = "Couldn't find operator (one of: ('=', '-', '+'))"

// Run sets or removes the capability.
func (Capabilities) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	path := strings.TrimSpace(args.String("path"))
	state := args.String("state")
	want, ok := parseCap(strings.ToLower(strings.TrimSpace(args.String("capability"))))
	if !ok && (state == "present" || want.name == "") {
		return Result{Failed: true, Msg: capOpsMsg}, nil
	}
	head := runCaptureScript + `for _mdo_t in getcap setcap; do
  PATH=$PATH:/sbin:/usr/sbin:/usr/local/sbin command -v $_mdo_t >/dev/null ||
    { _mdo_f fail "Failed to find required executable \"$_mdo_t\" in paths: $PATH:/sbin:/usr/sbin:/usr/local/sbin"; exit 0; }
done
PATH=$PATH:/sbin:/usr/sbin:/usr/local/sbin
`
	f, res, err := runScript(ctx, env, "capabilities", head+"_mdo_run get getcap -v "+quoteWords([]string{path})+"\n_mdo_f end 1\n", nil)
	if err != nil {
		return Result{}, err
	}
	if msg, ok := f.get("fail"); ok {
		return Result{Failed: true, Msg: msg}, nil
	}
	if _, ok := f.get("end"); !ok {
		return scriptFailure("capabilities", res), nil
	}
	get := capturedOf(f, "get")
	unable := Result{Failed: true, Msg: "Unable to get capabilities of " + path,
		Values: map[string]any{"stdout": strings.TrimSpace(get.out), "stderr": get.err}}
	if get.rc != 0 || get.err != "" {
		return unable, nil
	}
	var current []capTuple
	if out := strings.TrimSpace(get.out); out != path {
		var caps []string
		rest, cut := strings.CutPrefix(get.out, path+" ")
		switch {
		case cut && strings.HasSuffix(out, ")"):
			return unable, nil
		case cut && (rest == "=" || strings.HasPrefix(rest, "= ")):
			caps = strings.Fields(rest[1:]) // older libcap: "PATH = CAPS"
		case cut:
			// The path as given, then every clause (the collection takes
			// only the first word after the path, which breaks on paths
			// with blanks and on several clauses).
			caps = strings.Fields(rest)
		case strings.Contains(get.out, " ="):
			_, after, _ := strings.Cut(get.out, " =")
			caps = strings.Fields(after)
		case strings.HasSuffix(out, ")"):
			return unable, nil
		default:
			if fs := strings.Fields(get.out); len(fs) > 1 {
				caps = []string{fs[1]}
			}
		}
		for _, c := range caps {
			c = strings.ToLower(c)
			group := strings.Split(c, ",")
			last, ok := parseCap(group[len(group)-1])
			if !ok {
				return Result{Failed: true, Msg: capOpsMsg}, nil
			}
			for _, name := range group[:len(group)-1] {
				current = append(current, capTuple{name, last.op, last.flags})
			}
			current = append(current, last)
		}
	}
	has, hasName := false, false
	var others []capTuple
	for _, c := range current {
		has = has || c == want
		if c.name == want.name {
			hasName = true
		} else {
			others = append(others, c)
		}
	}
	values := map[string]any{"state": state}
	switch {
	case state == "present" && !has:
		others = append(others, want)
	case state == "absent" && hasName:
	default:
		return Result{Values: values}, nil
	}
	if env.Check {
		return Result{Changed: true, Msg: "capabilities changed"}, nil
	}
	words := make([]string, len(others))
	for i, c := range others {
		words[i] = c.String()
	}
	f, res, err = runScript(ctx, env, "capabilities", head+"_mdo_run set setcap "+quoteWords([]string{strings.Join(words, " "), path})+"\n_mdo_f end 1\n", nil)
	if err != nil {
		return Result{}, err
	}
	if msg, ok := f.get("fail"); ok {
		return Result{Failed: true, Msg: msg}, nil
	}
	if _, ok := f.get("end"); !ok {
		return scriptFailure("capabilities", res), nil
	}
	set := capturedOf(f, "set")
	if set.rc != 0 {
		return Result{Failed: true, Msg: "Unable to set capabilities of " + path, Values: map[string]any{"stdout": set.out, "stderr": set.err}}, nil
	}
	values["stdout"] = set.out
	return Result{Changed: true, Msg: "capabilities changed", Values: values}, nil
}
