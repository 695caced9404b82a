package modules

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Ufw is the ufw module (community.general.ufw). It decides changed as
// Ansible does: it keeps `ufw status verbose` and the `### tuple` lines
// of the user rules files from before, and after running the commands
// compares them again; in check mode, state, default and logging are
// judged from the status text, and a rule by comparing the tuples
// `ufw --dry-run` prints with those in the files.
//
// One exec reads the status, the rules and (for a rule) ufw's version;
// one more runs the commands and reads the status and rules again.
type Ufw struct{}

var _ Module = Ufw{}

// Spec describes ufw's arguments.
func (Ufw) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "state", Type: TypeStr, Choices: []string{"enabled", "disabled", "reloaded", "reset"}},
			{Name: "default", Aliases: []string{"policy"}, Type: TypeStr, Choices: []string{"allow", "deny", "reject"}},
			{Name: "logging", Type: TypeStr, Choices: []string{"full", "high", "low", "medium", "off", "on"}},
			{Name: "direction", Type: TypeStr, Choices: []string{"in", "incoming", "out", "outgoing", "routed"}},
			{Name: "delete", Type: TypeBool, Default: false},
			{Name: "route", Type: TypeBool, Default: false},
			{Name: "insert", Type: TypeInt},
			{Name: "insert_relative_to", Type: TypeStr, Default: "zero", Choices: []string{"zero", "first-ipv4", "last-ipv4", "first-ipv6", "last-ipv6"}},
			{Name: "rule", Type: TypeStr, Choices: []string{"allow", "deny", "limit", "reject"}},
			{Name: "interface", Aliases: []string{"if"}, Type: TypeStr},
			{Name: "interface_in", Aliases: []string{"if_in"}, Type: TypeStr},
			{Name: "interface_out", Aliases: []string{"if_out"}, Type: TypeStr},
			{Name: "log", Type: TypeBool, Default: false},
			{Name: "from_ip", Aliases: []string{"from", "src"}, Type: TypeStr, Default: "any"},
			{Name: "from_port", Type: TypeStr},
			{Name: "to_ip", Aliases: []string{"dest", "to"}, Type: TypeStr, Default: "any"},
			{Name: "to_port", Aliases: []string{"port"}, Type: TypeStr},
			{Name: "proto", Aliases: []string{"protocol"}, Type: TypeStr, Choices: []string{"ah", "any", "esp", "ipv6", "tcp", "udp", "gre", "igmp"}},
			{Name: "name", Aliases: []string{"app"}, Type: TypeStr},
			{Name: "comment", Type: TypeStr},
		},
		MutuallyExclusive: [][]string{{"name", "proto", "logging"}, {"direction", "interface_in"}, {"direction", "interface_out"}},
		RequiredOneOf:     [][]string{{"state", "default", "rule", "logging"}},
		CheckMode:         true,
	}
}

// ufwRulesFiles are the files whose `### tuple` lines Ansible compares.
const ufwRulesFiles = "/lib/ufw/user.rules /lib/ufw/user6.rules /etc/ufw/user.rules /etc/ufw/user6.rules /var/lib/ufw/user.rules /var/lib/ufw/user6.rules"

var (
	ufwIPv4Re     = regexp.MustCompile(`((25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9])\.){3,3}(25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9])`)
	ufwIPv6Re     = regexp.MustCompile(`(([0-9a-fA-F]{1,4}:){7,7}[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,7}:|([0-9a-fA-F]{1,4}:){1,6}:[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,5}(:[0-9a-fA-F]{1,4}){1,2}|([0-9a-fA-F]{1,4}:){1,4}(:[0-9a-fA-F]{1,4}){1,3}|([0-9a-fA-F]{1,4}:){1,3}(:[0-9a-fA-F]{1,4}){1,4}|([0-9a-fA-F]{1,4}:){1,2}(:[0-9a-fA-F]{1,4}){1,5}|[0-9a-fA-F]{1,4}:((:[0-9a-fA-F]{1,4}){1,6})|:((:[0-9a-fA-F]{1,4}){1,7}|:)|fe80:(:[0-9a-fA-F]{0,4}){0,4}%[0-9a-zA-Z]{1,}|::(ffff(:0{1,4}){0,1}:){0,1}((25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9])\.){3,3}(25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9])|([0-9a-fA-F]{1,4}:){1,4}:((25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9])\.){3,3}(25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9]))`)
	ufwVersionRe  = regexp.MustCompile(`^ufw.+(\d+)\.(\d+)(?:\.(\d+))?.*$`)
	ufwLoggingRe  = regexp.MustCompile(`Logging: (on|off)(?: \(([a-z]+)\))?`)
	ufwDefaultRe  = regexp.MustCompile(`Default: (deny|allow|reject) \(incoming\), (deny|allow|reject) \(outgoing\), (deny|allow|reject|disabled) \(routed\)`)
	ufwNumberedRe = regexp.MustCompile(`^\[ *([0-9]+)\] `)
)

// ufwLines keeps the lines (with their newlines) keep accepts.
func ufwLines(content string, keep func(string) bool) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(content, "\n") {
		if l != "" && keep(l) {
			b.WriteString(l)
		}
	}
	return b.String()
}

// ufwCommand is one command line: its words, and the text Ansible lists
// in commands.
type ufwCommand struct {
	words []string
	text  []string
}

func (c *ufwCommand) add(word, text string) {
	c.words = append(c.words, word)
	c.text = append(c.text, text)
}

// ufwReadScript prints, under prefix p, `ufw status verbose` (status,
// or serr and exits when it fails) and the tuple lines (rules).
func ufwReadScript(p string) string {
	return strings.ReplaceAll(`_mdo_o=$("$_mdo_u" status verbose 2>"$_mdo_e") || { _mdo_f Pserr "$(cat "$_mdo_e")"; _mdo_f Psout "$_mdo_o"; exit 0; }
_mdo_f Pstatus "$_mdo_o
"
_mdo_f Prules "$("$_mdo_g" -h '^### tuple' `+ufwRulesFiles+` 2>/dev/null; echo .)"
`, "P", p)
}

const ufwHead = `export LANG=C
_mdo_u=$(command -v ufw) || { _mdo_f error "Failed to find required executable \"ufw\" in paths: $PATH"; exit 0; }
_mdo_g=$(command -v grep) || { _mdo_f error "Failed to find required executable \"grep\" in paths: $PATH"; exit 0; }
_mdo_e=$(mktemp) || exit 1
trap 'rm -f "$_mdo_e"' EXIT
_mdo_f ufw "$_mdo_u"
_mdo_f grep "$_mdo_g"
`

// Run runs the ufw commands the arguments ask for.
func (Ufw) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	fail := func(msg string, cmds []string) Result {
		return Result{Failed: true, Msg: msg, Values: map[string]any{"commands": cmds}}
	}
	if args.Has("interface") && !args.Has("direction") {
		return fail("missing parameter(s) required by 'interface': direction", nil), nil
	}
	rule := args.String("rule")
	numbered := rule != "" && args.Has("insert") && !args.Bool("delete") && args.String("insert_relative_to") != "zero"
	var sc strings.Builder
	sc.WriteString(ufwHead + ufwReadScript("pre_"))
	if rule != "" {
		sc.WriteString("_mdo_f version \"$(\"$_mdo_u\" --version 2>&1)\"\n")
	}
	if numbered {
		sc.WriteString("_mdo_f numbered \"$(\"$_mdo_u\" status numbered 2>/dev/null)\"\n")
	}
	sc.WriteString("_mdo_f end 1\n")
	f, res, err := runScript(ctx, env, "ufw", sc.String(), nil)
	if err != nil {
		return Result{}, err
	}
	if msg, ok := f.get("error"); ok {
		return fail(msg, nil), nil
	}
	ufw, grep := f.str("ufw"), f.str("grep")
	cmds := []string{ufw + " status verbose"}
	if msg, ok := f.get("pre_serr"); ok {
		if msg == "" {
			msg = f.str("pre_sout")
		}
		return fail(msg, cmds), nil
	}
	if _, ok := f.get("end"); !ok {
		return scriptFailure("ufw", res), nil
	}
	grepText := grep + " -h '^### tuple' " + ufwRulesFiles
	cmds = append(cmds, grepText)
	preState := f.str("pre_status")
	preRules := strings.TrimSuffix(f.str("pre_rules"), ".")

	changed := false
	var run []ufwCommand
	base := func() ufwCommand {
		c := ufwCommand{}
		c.add(ufw, ufw)
		if env.Check {
			c.add("--dry-run", "--dry-run")
		}
		return c
	}
	if state := args.String("state"); state != "" {
		if state == "reloaded" || state == "reset" {
			changed = true
		}
		if env.Check {
			enabled := strings.Contains(preState, " active")
			if (state == "disabled" && enabled) || (state == "enabled" && !enabled) {
				changed = true
			}
		} else {
			c := base()
			c.add("-f", "-f")
			verb := map[string]string{"enabled": "enable", "disabled": "disable", "reloaded": "reload", "reset": "reset"}[state]
			c.add(verb, verb)
			run = append(run, c)
		}
	}
	direction := args.String("direction")
	if def := args.String("default"); def != "" {
		switch direction {
		case "", "outgoing", "incoming", "routed":
		default:
			return fail(`For default, direction must be one of "outgoing", "incoming" and "routed", or direction must not be specified.`, cmds), nil
		}
		if env.Check {
			if m := ufwDefaultRe.FindStringSubmatch(preState); m != nil {
				cur := map[string]string{"incoming": m[1], "outgoing": m[2], "routed": m[3]}
				d := direction
				if d == "" {
					d = "incoming"
				}
				if v := cur[d]; v != def && v != "disabled" {
					changed = true
				}
			} else {
				changed = true
			}
		} else {
			c := base()
			c.add("default", "default")
			c.add(def, def)
			if direction != "" {
				c.add(direction, direction)
			}
			run = append(run, c)
		}
	}
	ruleAt := -1
	if rule != "" {
		if direction != "" && direction != "in" && direction != "out" {
			return fail(`For rules, direction must be one of "in" and "out", or direction must not be specified.`, cmds), nil
		}
		if !args.Bool("route") && args.Has("interface_in") && args.Has("interface_out") {
			return fail("Only route rules can combine interface_in and interface_out", cmds), nil
		}
		c := base()
		if args.Bool("route") {
			c.add("route", "route")
		}
		if args.Bool("delete") {
			c.add("delete", "delete")
		}
		if args.Has("insert") && !args.Bool("delete") {
			insertTo, ok := args.Int("insert"), true
			if numbered {
				insertTo, ok = ufwInsertAt(f.str("numbered"), args.Int("insert"), args.String("insert_relative_to"))
			}
			if ok {
				n := strconv.Itoa(insertTo)
				c.add("insert", "insert")
				c.add(n, n)
			}
		}
		c.add(rule, rule)
		if direction != "" {
			c.add(direction, direction)
		}
		for _, o := range []struct{ key, pre string }{{"interface", "on"}, {"interface_in", "in on"}, {"interface_out", "out on"}} {
			if v := args.String(o.key); v != "" {
				for _, w := range strings.Fields(o.pre) {
					c.add(w, w)
				}
				c.add(v, v)
			}
		}
		if args.Bool("log") {
			c.add("log", "log")
		}
		for _, o := range []struct{ key, word string }{{"from_ip", "from"}, {"from_port", "port"}, {"to_ip", "to"}, {"to_port", "port"}, {"proto", "proto"}, {"name", "app"}} {
			if v := args.String(o.key); v != "" {
				c.add(o.word, o.word)
				text := v
				if o.key == "name" {
					text = "'" + v + "'"
				}
				c.add(v, text)
			}
		}
		cmds = append(cmds, ufw+" --version")
		major, minor, ok := ufwVersion(f.str("version"))
		if !ok {
			return Result{Failed: true, Msg: "Failed to get ufw version.", Values: map[string]any{"rc": 0, "out": f.str("version"), "commands": cmds}}, nil
		}
		if v := args.String("comment"); v != "" && ((major == 0 && minor >= 35) || major > 0) {
			c.add("comment", "comment")
			c.add(v, "'"+v+"'")
		}
		ruleAt = len(run)
		run = append(run, c)
	}
	if lv := args.String("logging"); lv != "" {
		if m := ufwLoggingRe.FindStringSubmatch(preState); m != nil {
			level, onOff := m[2], m[1]
			if lv != "off" {
				if onOff == "off" || (lv != "on" && lv != level) {
					changed = true
				}
			} else if onOff != "off" {
				changed = true
			}
		} else {
			changed = true
		}
		if !env.Check {
			c := base()
			c.add("logging", "logging")
			c.add(lv, lv)
			run = append(run, c)
		}
	}

	if len(run) == 0 {
		return Result{Changed: changed, Values: map[string]any{"commands": cmds}}, nil
	}
	sc.Reset()
	sc.WriteString(ufwHead)
	sc.WriteString(`_mdo_run() { _mdo_o=$("$@" 2>"$_mdo_e"); _mdo_r=$?; _mdo_f out "$_mdo_o
"; if [ $_mdo_r -ne 0 ]; then _mdo_f rerr "$(cat "$_mdo_e")"; exit 0; fi; }
`)
	for _, c := range run {
		fmt.Fprintf(&sc, "_mdo_run %s\n", quoteWords(c.words))
	}
	if !env.Check {
		sc.WriteString(ufwReadScript("post_"))
	}
	sc.WriteString("_mdo_f end 1\n")
	f, res, err = runScript(ctx, env, "ufw", sc.String(), nil)
	if err != nil {
		return Result{}, err
	}
	outs := f.all("out")
	for _, c := range run[:len(outs)] {
		cmds = append(cmds, strings.Join(c.text, " "))
	}
	if msg, ok := f.get("rerr"); ok {
		if msg == "" {
			msg = strings.TrimSuffix(outs[len(outs)-1], "\n")
		}
		return fail(msg, cmds), nil
	}
	if !env.Check {
		cmds = append(cmds, ufw+" status verbose")
		if msg, ok := f.get("post_serr"); ok {
			if msg == "" {
				msg = f.str("post_sout")
			}
			return fail(msg, cmds), nil
		}
	}
	if _, ok := f.get("end"); !ok {
		return scriptFailure("ufw", res), nil
	}
	if env.Check {
		if ruleAt >= 0 && ufwRuleChanges(outs[ruleAt], preRules, args.String("from_ip"), args.String("to_ip")) {
			changed = true
		}
		return Result{Changed: changed, Values: map[string]any{"commands": cmds}}, nil
	}
	postState := f.str("post_status")
	if !changed {
		cmds = append(cmds, grepText)
		changed = preState != postState || preRules != strings.TrimSuffix(f.str("post_rules"), ".")
	}
	return Result{Changed: changed, Msg: strings.TrimRight(postState, " \t\r\n"), Values: map[string]any{"commands": cmds}}, nil
}

// ufwRuleChanges is Ansible's check-mode comparison of the tuples a
// --dry-run printed (dry) with the ones in the rules files (pre).
func ufwRuleChanges(dry, pre, fromIP, toIP string) bool {
	lines := strings.SplitAfter(dry, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	skipping := 0
	for _, l := range lines {
		if strings.Contains(l, "Skipping") {
			skipping++
		}
	}
	if skipping > 0 && skipping == len(lines) {
		return false
	}
	dry = ufwLines(dry, func(l string) bool { return strings.HasPrefix(l, "### tuple") })
	starts := func(re *regexp.Regexp, s string) bool {
		loc := re.FindStringIndex(s)
		return loc != nil && loc[0] == 0
	}
	matching := func(re *regexp.Regexp) func(string) bool {
		return func(l string) bool { return re.MatchString(l) }
	}
	switch {
	case starts(ufwIPv4Re, fromIP) || starts(ufwIPv4Re, toIP):
		return ufwLines(pre, matching(ufwIPv4Re)) != ufwLines(dry, matching(ufwIPv4Re))
	case starts(ufwIPv6Re, fromIP) || starts(ufwIPv6Re, toIP):
		return ufwLines(pre, matching(ufwIPv6Re)) != ufwLines(dry, matching(ufwIPv6Re))
	}
	return pre != dry
}

// ufwVersion reads the major and minor version from `ufw --version`.
func ufwVersion(out string) (major, minor int, ok bool) {
	for _, l := range strings.Split(out, "\n") {
		if strings.TrimSpace(l) == "" {
			continue
		}
		m := ufwVersionRe.FindStringSubmatch(l)
		if m == nil {
			return 0, 0, false
		}
		major, _ = strconv.Atoi(m[1])
		minor, _ = strconv.Atoi(m[2])
		return major, minor, true
	}
	return 0, 0, false
}

// ufwInsertAt is Ansible's insert_relative_to arithmetic over the output
// of `ufw status numbered`; ok is false when the position is past the
// last rule (the rule is then added without insert).
func ufwInsertAt(numbered string, insert int, relative string) (int, bool) {
	type line struct {
		no   int
		ipv6 bool
	}
	var lines []line
	for _, l := range strings.Split(numbered, "\n") {
		if m := ufwNumberedRe.FindStringSubmatch(l); m != nil {
			n, _ := strconv.Atoi(m[1])
			lines = append(lines, line{n, strings.Contains(l, "(v6)")})
		}
	}
	last, lastV4, hasV4, hasV6 := 0, 0, false, false
	for _, l := range lines {
		last = max(last, l.no)
		if l.ipv6 {
			hasV6 = true
		} else {
			hasV4 = true
			lastV4 = max(lastV4, l.no)
		}
	}
	rel := 1
	switch relative {
	case "last-ipv4":
		if hasV4 {
			rel = lastV4
		}
	case "first-ipv6":
		if hasV4 {
			rel = lastV4 + 1
		}
	case "last-ipv6":
		rel = last + 1
		if hasV6 {
			rel = last
		}
	}
	at := insert + rel
	return at, at <= last
}
