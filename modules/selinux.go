package modules

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// SeBoolean is the seboolean module (ansible.posix.seboolean) and SELinux
// the selinux module (ansible.posix.selinux). Where SELinux is not enabled
// they answer as Ansible's do: seboolean fails with "SELinux is disabled
// on this host." (unless ignore_selinux_state), and selinux manages only
// the configuration file, warning that a reboot is needed. With SELinux
// enabled, seboolean uses getsebool/setsebool (-P when persistent) and
// selinux also switches the running mode with setenforce.
type SeBoolean struct{}

// SELinux is the selinux module.
type SELinux struct{}

var (
	_ Module = SeBoolean{}
	_ Module = SELinux{}
)

// selinuxOn is shell code printing the field on when SELinux is enabled
// and the field enforce with getenforce's answer.
const selinuxOn = `if [ -e /sys/fs/selinux/enforce ] || { command -v selinuxenabled >/dev/null 2>&1 && selinuxenabled; }; then
  _mdo_f on 1; _mdo_f enforce "$(getenforce 2>/dev/null)"
fi
`

// Spec describes seboolean's arguments.
func (SeBoolean) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "ignore_selinux_state", Type: TypeBool, Default: false},
			{Name: "name", Type: TypeStr, Required: true},
			{Name: "persistent", Type: TypeBool, Default: false},
			{Name: "state", Type: TypeBool, Required: true},
		},
		CheckMode: true,
	}
}

// Run sets the boolean.
func (SeBoolean) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	name := args.String("name")
	want := args.Bool("state")
	values := map[string]any{"name": name, "persistent": args.Bool("persistent"), "state": want}
	f, res, err := runScript(ctx, env, "seboolean "+name, selinuxOn+
		fmt.Sprintf("_mdo_f cur \"$(getsebool -- %s 2>&1)\"\n_mdo_f end 1\n", conn.Quote(name)), nil)
	if err != nil {
		return Result{}, err
	}
	if _, ok := f.get("end"); !ok {
		return scriptFailure("seboolean", res), nil
	}
	if _, on := f.get("on"); !on && !args.Bool("ignore_selinux_state") {
		return Result{Failed: true, Msg: "SELinux is disabled on this host.", Values: values}, nil
	}
	cur := f.str("cur")
	if !strings.Contains(cur, "-->") {
		return Result{Failed: true, Msg: fmt.Sprintf("SELinux boolean %s does not exist.", name), Values: values}, nil
	}
	isOn := strings.HasSuffix(strings.TrimSpace(cur), "on")
	if isOn == want {
		return Result{Values: values}, nil
	}
	if env.Check {
		return Result{Changed: true, Values: values}, nil
	}
	v := "off"
	if want {
		v = "on"
	}
	p := ""
	if args.Bool("persistent") {
		p = "-P "
	}
	f, _, err = runScript(ctx, env, "seboolean "+name, fmt.Sprintf("_mdo_o=$(setsebool %s-- %s %s 2>&1) || _mdo_f fail \"$_mdo_o\"\n", p, conn.Quote(name), v), nil)
	if err != nil {
		return Result{}, err
	}
	if msg, ok := f.get("fail"); ok {
		return Result{Failed: true, Msg: fmt.Sprintf("Failed to set boolean %s to %v: %s", name, want, strings.TrimSpace(msg)), Values: values}, nil
	}
	return Result{Changed: true, Values: values}, nil
}

// Spec describes selinux's arguments.
func (SELinux) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "policy", Type: TypeStr},
			{Name: "state", Type: TypeStr, Required: true, Choices: []string{"enforcing", "permissive", "disabled"}},
			{Name: "configfile", Aliases: []string{"conf", "file"}, Type: TypeStr, Default: "/etc/selinux/config"},
			{Name: "update_kernel_param", Type: TypeBool, Default: false},
		},
		CheckMode: true,
	}
}

var (
	seStateLine  = regexp.MustCompile(`(?m)^SELINUX=.*$`)
	sePolicyLine = regexp.MustCompile(`(?m)^SELINUXTYPE=.*$`)
)

// seSetLine is Ansible's set_config_state/set_config_policy: every
// KEY= line is rewritten, or one is appended.
func seSetLine(content string, re *regexp.Regexp, line string) string {
	if re.MatchString(content) {
		return re.ReplaceAllLiteralString(content, line)
	}
	if content != "" && !strings.HasSuffix(content, "\n") {
		content += "\n"
	}
	return content + line + "\n"
}

// Run sets the configured (and, where SELinux runs, the running) state.
func (SELinux) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	if args.Bool("update_kernel_param") {
		return Result{Failed: true, Msg: "selinux: update_kernel_param (grubby) is not supported by mdo-play"}, nil
	}
	conf := args.String("configfile")
	state, policy := args.String("state"), args.String("policy")
	f, res, err := runScript(ctx, env, "selinux", selinuxOn+fmt.Sprintf(`_mdo_c=%s
if [ -f "$_mdo_c" ]; then printf 'conf\0'; cat -- "$_mdo_c" || exit 1; printf '\0'; fi
_mdo_f end 1
`, conn.Quote(conf)), nil)
	if err != nil {
		return Result{}, err
	}
	if _, ok := f.get("end"); !ok {
		return scriptFailure("selinux", res), nil
	}
	content, ok := f.get("conf")
	if !ok {
		return Result{Failed: true, Msg: "Unable to find file " + conf, Values: map[string]any{
			"details": "Please install SELinux-policy package, if this package is not installed previously."}}, nil
	}
	cfg := func(re *regexp.Regexp) string {
		if m := re.FindString(content); m != "" {
			return strings.TrimSpace(m[strings.Index(m, "=")+1:])
		}
		return ""
	}
	confState, confPolicy := cfg(seStateLine), cfg(sePolicyLine)
	if state != "disabled" && policy == "" {
		return Result{Failed: true, Msg: "Policy is required if state is not 'disabled'"}, nil
	}
	if policy == "" {
		policy = confPolicy
	}
	_, on := f.get("on")
	runtime := "disabled"
	if on {
		runtime = strings.ToLower(f.str("enforce"))
	}
	var msgs, warnings []string
	changed, reboot := false, false
	after := content
	if policy != confPolicy {
		after = seSetLine(after, sePolicyLine, "SELINUXTYPE="+policy)
		msgs = append(msgs, fmt.Sprintf("SELinux policy configuration in '%s' changed from '%s' to '%s'", conf, confPolicy, policy))
		changed = true
	}
	setenforce := ""
	if state != runtime {
		switch {
		case on && state == "disabled":
			if runtime != "permissive" {
				setenforce = "0"
				warnings = append(warnings, fmt.Sprintf("SELinux state temporarily changed from '%s' to 'permissive'. State change will take effect next reboot.", runtime))
				changed = true
			} else {
				warnings = append(warnings, "SELinux state change will take effect next reboot")
			}
			reboot = true
		case on:
			setenforce = map[string]string{"enforcing": "1", "permissive": "0"}[state]
			msgs = append(msgs, fmt.Sprintf("SELinux state changed from '%s' to '%s'", runtime, state))
			changed = true
		default:
			warnings = append(warnings, fmt.Sprintf("Reboot is required to set SELinux state to '%s'", state))
			reboot = true
		}
	}
	if state != confState {
		after = seSetLine(after, seStateLine, "SELINUX="+state)
		msgs = append(msgs, fmt.Sprintf("Config SELinux state changed from '%s' to '%s'", confState, state))
		changed = true
	}
	values := map[string]any{"configfile": conf, "policy": policy, "state": state, "reboot_required": reboot}
	r := Result{Changed: changed, Msg: strings.Join(msgs, ", "), Values: values, Warnings: warnings}
	if env.Diff && after != content {
		r.Diff = []Diff{{BeforeHeader: conf, AfterHeader: conf, Before: content, After: after}}
	}
	if !changed || env.Check {
		return r, nil
	}
	var sc strings.Builder
	if after != content {
		sc.WriteString(sysWriteScript(conf, "", "", ""))
	}
	if setenforce != "" {
		fmt.Fprintf(&sc, "_mdo_o=$(setenforce %s 2>&1) || { _mdo_f werr \"setenforce: $_mdo_o\"; exit 0; }\n", setenforce)
	}
	sc.WriteString("_mdo_f end 1\n")
	f, res, err = runScript(ctx, env, "selinux", sc.String(), []byte(after))
	if err != nil {
		return Result{}, err
	}
	if msg, ok := f.get("werr"); ok {
		return Result{Failed: true, Msg: msg, Values: values}, nil
	}
	if _, ok := f.get("end"); !ok {
		return scriptFailure("selinux", res), nil
	}
	return r, nil
}
