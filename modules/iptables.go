package modules

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// Iptables is ansible.builtin.iptables, a port of ansible-core's module:
// the rule is built from the arguments word for word as construct_rule
// builds it, `iptables -C` says whether it is there, and -A/-I/-D, -F,
// -P, -N and -X change the tables as the module does. One exec probes
// (version, -C, -L), one more changes; a flush is one exec.
type Iptables struct{}

var _ Module = Iptables{}

// Spec describes iptables's arguments.
func (Iptables) Spec() *Spec {
	str := func(n string) Arg { return Arg{Name: n, Type: TypeStr} }
	return &Spec{
		Args: []Arg{
			{Name: "table", Type: TypeStr, Default: "filter", Choices: []string{"filter", "nat", "mangle", "raw", "security"}},
			{Name: "state", Type: TypeStr, Default: "present", Choices: []string{"absent", "present"}},
			{Name: "action", Type: TypeStr, Default: "append", Choices: []string{"append", "insert"}},
			{Name: "ip_version", Type: TypeStr, Default: "ipv4", Choices: []string{"ipv4", "ipv6"}},
			str("chain"), str("rule_num"), str("protocol"), str("wait"), str("source"), str("to_source"),
			str("destination"), str("to_destination"),
			{Name: "match", Type: TypeList, Default: []any{}},
			{Name: "tcp_flags", Type: TypeDict},
			str("jump"), str("gateway"), str("log_prefix"),
			{Name: "log_level", Type: TypeStr, Choices: []string{"0", "1", "2", "3", "4", "5", "6", "7",
				"emerg", "alert", "crit", "error", "warning", "notice", "info", "debug"}},
			str("goto"), str("in_interface"), str("out_interface"), str("fragment"), str("set_counters"),
			str("source_port"), str("destination_port"),
			{Name: "destination_ports", Type: TypeList, Default: []any{}},
			str("to_ports"), str("set_dscp_mark"), str("set_dscp_mark_class"), str("comment"),
			{Name: "ctstate", Type: TypeList, Default: []any{}},
			str("src_range"), str("dst_range"), str("match_set"),
			{Name: "match_set_flags", Type: TypeStr, Choices: []string{"src", "dst", "src,dst", "dst,src"}},
			str("limit"), str("limit_burst"), str("uid_owner"), str("gid_owner"), str("reject_with"), str("icmp_type"),
			{Name: "syn", Type: TypeStr, Default: "ignore", Choices: []string{"ignore", "match", "negate"}},
			{Name: "flush", Type: TypeBool, Default: false},
			{Name: "policy", Type: TypeStr, Choices: []string{"ACCEPT", "DROP", "QUEUE", "RETURN"}},
			{Name: "chain_management", Type: TypeBool, Default: false},
		},
		CheckMode:         true,
		MutuallyExclusive: [][]string{{"set_dscp_mark", "set_dscp_mark_class"}, {"flush", "policy"}},
	}
}

// iptRule builds the rule's words as construct_rule does.
type iptRule []string

func (r *iptRule) param(v, flag string) {
	if v == "" {
		return
	}
	if v[0] == '!' {
		*r = append(*r, "!", flag, v[1:])
	} else {
		*r = append(*r, flag, v)
	}
}

func (r *iptRule) matchFlag(v, flag string, negatable bool) {
	if v == "match" {
		*r = append(*r, flag)
	} else if negatable && v == "negate" {
		*r = append(*r, "!", flag)
	}
}

func (r *iptRule) csv(v []string, flag string) {
	if len(v) > 0 {
		*r = append(*r, flag, strings.Join(v, ","))
	}
}

func (r *iptRule) match(cond bool, m string) {
	if cond {
		*r = append(*r, "-m", m)
	}
}

// iptablesRule is construct_rule: wait is the -w value to use ("" for
// none).
func iptablesRule(args Args, jump, wait string) []string {
	var r iptRule
	s := args.String
	if wait != "" {
		r = append(r, "-w", wait)
	}
	r.param(s("protocol"), "-p")
	r.param(s("source"), "-s")
	r.param(s("destination"), "-d")
	matches := args.Strings("match")
	for _, m := range matches {
		r.param(m, "-m")
	}
	if tf := args.Dict("tcp_flags"); tf != nil {
		flags, okF := tf["flags"]
		set, okS := tf["flags_set"]
		if okF && okS {
			r = append(r, "--tcp-flags", joinAny(flags), joinAny(set))
		}
	}
	r.param(jump, "-j")
	if strings.ToLower(jump) == "tee" {
		r.param(s("gateway"), "--gateway")
	}
	r.param(s("log_prefix"), "--log-prefix")
	r.param(s("log_level"), "--log-level")
	r.param(s("to_destination"), "--to-destination")
	dports := args.Strings("destination_ports")
	r.match(len(dports) > 0, "multiport")
	r.csv(dports, "--dports")
	r.param(s("to_source"), "--to-source")
	r.param(s("goto"), "-g")
	r.param(s("in_interface"), "-i")
	r.param(s("out_interface"), "-o")
	r.param(s("fragment"), "-f")
	r.param(s("set_counters"), "-c")
	r.param(s("source_port"), "--source-port")
	r.param(s("destination_port"), "--destination-port")
	r.param(s("to_ports"), "--to-ports")
	r.param(s("set_dscp_mark"), "--set-dscp")
	r.param(s("set_dscp_mark_class"), "--set-dscp-class")
	r.matchFlag(s("syn"), "--syn", true)
	ctstate := args.Strings("ctstate")
	switch {
	case contains(matches, "conntrack"):
		r.csv(ctstate, "--ctstate")
	case contains(matches, "state"):
		r.csv(ctstate, "--state")
	case len(ctstate) > 0:
		r.match(true, "conntrack")
		r.csv(ctstate, "--ctstate")
	}
	switch {
	case contains(matches, "iprange"):
		r.param(s("src_range"), "--src-range")
		r.param(s("dst_range"), "--dst-range")
	case s("src_range") != "" || s("dst_range") != "":
		r.match(true, "iprange")
		r.param(s("src_range"), "--src-range")
		r.param(s("dst_range"), "--dst-range")
	}
	switch {
	case contains(matches, "set"):
		r.param(s("match_set"), "--match-set")
		r.matchFlag("match", s("match_set_flags"), false)
	case s("match_set") != "":
		r.match(true, "set")
		r.param(s("match_set"), "--match-set")
		r.matchFlag("match", s("match_set_flags"), false)
	}
	r.match(s("limit") != "" || s("limit_burst") != "", "limit")
	r.param(s("limit"), "--limit")
	r.param(s("limit_burst"), "--limit-burst")
	r.match(s("uid_owner") != "", "owner")
	r.matchFlag(s("uid_owner"), "--uid-owner", true)
	r.param(s("uid_owner"), "--uid-owner")
	r.match(s("gid_owner") != "", "owner")
	r.matchFlag(s("gid_owner"), "--gid-owner", true)
	r.param(s("gid_owner"), "--gid-owner")
	if jump == "" && s("reject_with") != "" {
		r = append(r, "-j", "REJECT")
	}
	r.param(s("reject_with"), "--reject-with")
	icmp := "--icmp-type"
	if s("ip_version") == "ipv6" {
		icmp = "--icmpv6-type"
	}
	r.param(s("icmp_type"), icmp)
	r.match(s("comment") != "", "comment")
	r.param(s("comment"), "--comment")
	return r
}

func joinAny(v any) string {
	l, err := Convert(TypeList, v)
	if err != nil {
		return fmt.Sprint(v)
	}
	out := make([]string, 0)
	for _, x := range l.([]any) {
		out = append(out, fmt.Sprint(x))
	}
	return strings.Join(out, ",")
}

// iptPolicy finds the policy in the first line of iptables -L.
var iptPolicy = regexp.MustCompile(`\(policy ([A-Z]+)\)`)

// Run applies the rule, flush or policy.
func (Iptables) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	chain, state := args.String("chain"), args.String("state")
	jump := args.String("jump")
	values := map[string]any{
		"ip_version": args.String("ip_version"), "table": args.String("table"), "chain": nil,
		"flush": args.Bool("flush"), "rule": strings.Join(iptablesRule(args, jump, args.String("wait")), " "),
		"state": state, "chain_management": args.Bool("chain_management"),
	}
	if args.Has("chain") {
		values["chain"] = chain
	}
	fail := func(msg string) (Result, error) { return Result{Failed: true, Msg: msg, Values: values}, nil }
	if strings.ToLower(jump) == "tee" && !args.Has("gateway") {
		return fail(fmt.Sprintf("jump is %s but all of the following are missing: gateway", jump))
	}
	if !args.Bool("flush") && !args.Has("chain") {
		return fail("Either chain or flush parameter must be specified.")
	}
	if args.String("log_prefix") != "" || args.String("log_level") != "" {
		if jump == "" {
			jump = "LOG"
		} else if jump != "LOG" {
			return fail("Logging options can only be used with the LOG jump target.")
		}
	}
	bin := "iptables"
	if args.String("ip_version") == "ipv6" {
		bin = "ip6tables"
	}
	base := []string{bin, "-t", args.String("table")}
	cmd := func(action string, withRule bool, extra ...string) string {
		w := append(append([]string(nil), base...), action)
		if chain != "" || args.Has("chain") {
			w = append(w, chain)
		}
		if action == "-I" && args.String("rule_num") != "" {
			w = append(w, args.String("rule_num"))
		}
		w = append(w, extra...)
		q := make([]string, len(w))
		for i, x := range w {
			q[i] = conn.Quote(x)
		}
		s := strings.Join(q, " ")
		if withRule {
			// -w with seconds needs iptables 1.6.0; older ones get none.
			with := quoteWords(iptablesRule(args, jump, args.String("wait")))
			without := quoteWords(iptablesRule(args, jump, ""))
			if with != without {
				return fmt.Sprintf(`if [ "$_mdo_w" = 1 ]; then %s %s; else %s %s; fi`, s, with, s, without)
			}
			return s + " " + without
		}
		return s
	}
	// The probe: the binary, its version, then what the mode needs.
	var probe strings.Builder
	fmt.Fprintf(&probe, `PATH=$PATH:/sbin:/usr/sbin:/usr/local/sbin
command -v %[1]s >/dev/null 2>&1 || { echo nobin; exit 0; }
_mdo_v=$(%[1]s --version 2>&1) || { printf 'version\n%%s\n' "$_mdo_v"; exit 0; }
case $_mdo_v in *v0.*|*v1.[0-5].*) _mdo_w=0 ;; *) _mdo_w=1 ;; esac
echo ok $_mdo_w
`, conn.Quote(bin))
	listCmd := cmd("-L", false, "-n")
	rule := values["rule"].(string)
	var mode string
	switch {
	case args.Bool("flush"):
		mode = "flush"
		if !env.Check {
			fmt.Fprintf(&probe, "_mdo_o=$(%s 2>&1) || { printf 'fail\\n%%s\\n%%s\\n' $? \"$_mdo_o\"; exit 0; }\n", cmd("-F", false))
		}
	case args.String("policy") != "":
		mode = "policy"
		fmt.Fprintf(&probe, "_mdo_o=$(%s 2>&1) || { printf 'fail\\n%%s\\n%%s\\n' $? \"$_mdo_o\"; exit 0; }\nprintf '%%s\\n' \"$_mdo_o\" | head -n 1\n", listCmd)
	case state == "absent" && rule == "":
		mode = "chain"
		fmt.Fprintf(&probe, "%s >/dev/null 2>&1; echo $?\n", listCmd)
	default:
		mode = "rule"
		fmt.Fprintf(&probe, "%s >/dev/null 2>&1; echo $?\n%s >/dev/null 2>&1; echo $?\n", cmd("-C", true), listCmd)
	}
	res, err := env.Conn.Exec(ctx, conn.Command{Script: probe.String()})
	if err != nil {
		return Result{}, fmt.Errorf("iptables: %w", err)
	}
	lines := strings.Split(string(res.Stdout), "\n")
	wait := "1"
	switch lines[0] {
	case "ok 0", "ok 1":
		wait = lines[0][3:]
	case "nobin":
		return fail(fmt.Sprintf("Failed to find required executable %q in paths", bin))
	default:
		return fail(fmt.Sprintf("%s --version failed: %s", bin, strings.TrimSpace(strings.Join(lines[1:], "\n"))))
	}
	if len(lines) > 1 && lines[1] == "fail" {
		rc, _ := strconv.Atoi(lines[2])
		values["rc"] = rc
		return fail(strings.TrimRight(strings.Join(lines[3:], "\n"), "\n"))
	}
	r := Result{Values: values}
	var change []string // commands to run
	switch mode {
	case "flush":
		r.Changed = true
		return r, nil
	case "policy":
		m := iptPolicy.FindStringSubmatch(lines[1])
		if m == nil {
			return fail("Can't detect current policy")
		}
		r.Changed = m[1] != args.String("policy")
		if r.Changed {
			change = append(change, cmd("-P", false, args.String("policy")))
		}
	case "chain":
		r.Changed = len(lines) > 1 && lines[1] == "0"
		if r.Changed && args.Bool("chain_management") {
			change = append(change, cmd("-X", false))
		}
	default:
		rulePresent := len(lines) > 1 && lines[1] == "0"
		chainPresent := rulePresent || (len(lines) > 2 && lines[2] == "0")
		should := state == "present"
		r.Changed = rulePresent != should
		switch {
		case !r.Changed:
		case should:
			if !chainPresent && args.Bool("chain_management") {
				change = append(change, cmd("-N", false))
			}
			if args.String("action") == "insert" {
				change = append(change, cmd("-I", true))
			} else {
				change = append(change, cmd("-A", true))
			}
		default:
			change = append(change, cmd("-D", true))
		}
	}
	if env.Check || len(change) == 0 {
		return r, nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "PATH=$PATH:/sbin:/usr/sbin:/usr/local/sbin\n_mdo_w=%s\n", wait)
	for _, c := range change {
		fmt.Fprintf(&b, "_mdo_o=$(%s 2>&1) || { printf '%%s\\n%%s' $? \"$_mdo_o\"; exit 1; }\n", c)
	}
	res, err = env.Conn.Exec(ctx, conn.Command{Script: b.String()})
	if err != nil {
		return Result{}, fmt.Errorf("iptables: %w", err)
	}
	if res.RC != 0 {
		rcs, out, _ := strings.Cut(string(res.Stdout), "\n")
		rc, _ := strconv.Atoi(rcs)
		values["rc"] = rc
		values["stderr"] = out
		return fail(strings.TrimRight(out, "\n"))
	}
	return r, nil
}
