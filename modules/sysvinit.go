package modules

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// Sysvinit is the sysvinit module (ansible.builtin.sysvinit): it starts,
// stops, restarts or reloads a service through its init script and
// enables or disables it with update-rc.d or chkconfig, as ansible-core's
// module does. Whether the service runs is decided from `service NAME
// status` (or `SCRIPT status`) with the module's heuristics (the output's
// words, then its exit status, then `ps`), or from `ps auxww` when
// pattern is given; whether it is enabled, from the S??NAME links of the
// runlevel directories.
//
// One round trip reads the state; a change costs one more.
type Sysvinit struct{}

var _ Module = Sysvinit{}

// Spec describes sysvinit's arguments.
func (Sysvinit) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "name", Aliases: []string{"service"}, Type: TypeStr, Required: true},
			{Name: "state", Type: TypeStr, Choices: []string{"started", "stopped", "restarted", "reloaded"}},
			{Name: "enabled", Type: TypeBool},
			{Name: "sleep", Type: TypeInt, Default: 1},
			{Name: "pattern", Type: TypeStr},
			{Name: "arguments", Aliases: []string{"args"}, Type: TypeStr},
			{Name: "runlevels", Type: TypeList},
			{Name: "daemonize", Type: TypeBool, Default: false},
		},
		CheckMode:     true,
		RequiredOneOf: [][]string{{"state", "enabled"}},
	}
}

// sysvinitPS is the module's get_ps: some line of `ps auxww` contains
// pattern.
func sysvinitPS(ps, pattern string) bool {
	for _, line := range strings.Split(ps, "\n") {
		if strings.Contains(line, pattern) {
			return true
		}
	}
	return false
}

// sysvinitStarted is the module's decision whether the service runs, from
// the status command's exit status and output (or ps with pattern). It
// returns the warnings the module gives.
func sysvinitStarted(name, pattern string, rc int, out, ps string) (started bool, warnings []string) {
	worked := false
	if pattern != "" {
		worked = sysvinitPS(ps, pattern)
		started = worked
	} else {
		if name == "iptables" && strings.Contains(out, "ACCEPT") {
			worked, started = true, true
		}
		if !worked && strings.Count(out, "\n") <= 1 {
			clean := strings.ReplaceAll(strings.ToLower(out), strings.ToLower(name), "")
			for _, s := range []string{"stop", "is dead ", "dead but ", "could not access pid file", "inactive"} {
				if strings.Contains(clean, s) {
					worked = true
					break
				}
			}
			if !worked {
				for _, s := range []string{"run", "start", "active"} {
					if strings.Contains(clean, s) && !strings.Contains(clean, "not ") {
						worked, started = true, true
						break
					}
				}
			}
		}
		if !worked && (rc >= 1 && rc <= 4 || rc == 69) {
			worked = true
		}
		if !worked {
			if rc == 0 {
				worked, started = true, true
			} else if sysvinitPS(ps, name) {
				worked, started = true, true
				warnings = append(warnings, "Used ps output to match service name and determine it is up, this is very unreliable")
			}
		}
	}
	if !worked {
		warnings = append(warnings, "Unable to determine if service is up, assuming it is down")
	}
	return started, warnings
}

var sysvinitActionRe = regexp.MustCompile(`p?ed$`)

// Run manages the service.
func (Sysvinit) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	name, state, pattern := args.String("name"), args.String("state"), args.String("pattern")
	runlevels := args.Strings("runlevels")
	var enabled *bool
	if args.Has("enabled") {
		b := args.Bool("enabled")
		enabled = &b
	}
	script := "/etc/init.d/" + name
	if strings.HasPrefix(name, "/") {
		script = name
	}
	var sc strings.Builder
	fmt.Fprintf(&sc, "_mdo_n=%s\n_mdo_s=%s\n", conn.Quote(name), conn.Quote(script))
	sc.WriteString(`[ -e "$_mdo_s" ] || [ -L "$_mdo_s" ] || { _mdo_f missing 1; exit 0; }
_mdo_bin() { for _mdo_d in /sbin /usr/sbin /bin /usr/bin; do [ -f "$_mdo_d/$1" ] && [ -x "$_mdo_d/$1" ] && { echo "$_mdo_d/$1"; return; }; done
  _mdo_w=$(command -v "$1" 2>/dev/null) && case $_mdo_w in /*) echo "$_mdo_w"; return ;; esac
  for _mdo_d in /usr/local/sbin; do [ -f "$_mdo_d/$1" ] && [ -x "$_mdo_d/$1" ] && echo "$_mdo_d/$1"; done; }
for _mdo_b in chkconfig update-rc.d service; do _mdo_f "bin_$_mdo_b" "$(_mdo_bin $_mdo_b)"; done
if [ -d /etc/rc0.d/ ]; then _mdo_pre=/etc/rc; else _mdo_pre=/etc/init.d/rc; fi
_mdo_en() { for _mdo_l in "$_mdo_pre"$1.d/S??"$_mdo_n"; do if [ -e "$_mdo_l" ] || [ -L "$_mdo_l" ]; then _mdo_f "$2" 1; return; fi; done; _mdo_f "$2" 0; }
`)
	if len(runlevels) > 0 {
		for i, rl := range runlevels {
			// a runlevel is a literal part of the glob, as in Python's
			// format string; quoting keeps it literal in the shell too
			fmt.Fprintf(&sc, "_mdo_en %s en%d\n", conn.Quote(rl), i)
		}
	} else {
		sc.WriteString("_mdo_en '?' en\n")
	}
	sc.WriteString(`_mdo_e=$(mktemp) || { _mdo_f fail "mktemp failed"; exit 0; }
trap 'rm -f "$_mdo_e"' EXIT
`)
	if pattern == "" {
		sc.WriteString(`_mdo_v=$(_mdo_bin service)
if [ -n "$_mdo_v" ]; then _mdo_o=$(LANG=C LC_ALL=C "$_mdo_v" "$_mdo_n" status 2>"$_mdo_e" </dev/null); else _mdo_o=$(LANG=C LC_ALL=C "$_mdo_s" status 2>"$_mdo_e" </dev/null); fi
_mdo_f rc $?; _mdo_f out "$_mdo_o"; _mdo_f err "$(cat "$_mdo_e")"
`)
	}
	// ps without this script's own line (it could hold the name)
	sc.WriteString(`if _mdo_p=$(_mdo_bin ps) && [ -n "$_mdo_p" ]; then _mdo_f ps "$("$_mdo_p" auxww 2>/dev/null | awk -v p=$$ '$2 != p')"; fi
_mdo_f end 1
`)
	f, res, err := runScript(ctx, env, "sysvinit "+name, sc.String(), nil)
	if err != nil {
		return Result{}, err
	}
	if m, ok := f.get("fail"); ok {
		return Result{Failed: true, Msg: m}, nil
	}
	if _, ok := f.get("missing"); ok {
		return Result{Failed: true, Msg: fmt.Sprintf("Could not find the requested service %s: ", name)}, nil
	}
	if _, ok := f.get("end"); !ok {
		return scriptFailure("sysvinit", res), nil
	}
	_, havePS := f.get("ps")
	statusRC, _ := strconv.Atoi(f.str("rc"))
	statusOut, statusErr := f.str("out"), f.str("err")
	if pattern != "" {
		statusRC, statusOut, statusErr = 0, "", ""
	}
	if !havePS {
		// Ansible looks for ps only when the heuristics get that far.
		_, w := sysvinitStarted(name, "", statusRC, statusOut, "")
		if pattern != "" || len(w) > 0 && strings.HasPrefix(w[len(w)-1], "Unable to determine") {
			return Result{Failed: true, Msg: "Failed to find required executable \"ps\" in paths: /sbin:/usr/sbin:/bin:/usr/bin"}, nil
		}
	}
	started, warnings := sysvinitStarted(name, pattern, statusRC, statusOut, f.str("ps"))

	changed := false
	enabledStatus := map[string]any{"changed": false, "rc": nil, "stdout": nil, "stderr": nil}
	status := map[string]any{"enabled": enabledStatus}
	updateRCD, chkconfig := f.str("bin_update-rc.d"), f.str("bin_chkconfig")
	var enableCmd []string
	if len(runlevels) > 0 {
		enabledStatus["runlevels"] = debconfAnyList(runlevels)
		// Ansible compares enabled with each runlevel even when enabled is
		// not given (and then disables); mdo-play leaves enablement alone
		// without enabled.
		if enabled != nil {
			for i := range runlevels {
				if (f.str(fmt.Sprintf("en%d", i)) == "1") != *enabled {
					changed = true
				}
			}
		}
		if changed {
			switch {
			case *enabled && updateRCD != "":
				enableCmd = append([]string{updateRCD, name, "enable"}, runlevels...)
			case *enabled && chkconfig != "":
				enableCmd = []string{chkconfig, "--level", strings.Join(runlevels, ""), name, "on"}
			case updateRCD != "":
				enableCmd = append([]string{updateRCD, name, "disable"}, runlevels...)
			case chkconfig != "":
				enableCmd = []string{chkconfig, "--level", strings.Join(runlevels, ""), name, "off"}
			}
		}
	} else if enabled != nil && (f.str("en") == "1") != *enabled {
		changed = true
		switch {
		case *enabled && updateRCD != "":
			enableCmd = []string{updateRCD, name, "defaults"}
		case *enabled && chkconfig != "":
			enableCmd = []string{chkconfig, name, "on"}
		case updateRCD != "":
			enableCmd = []string{updateRCD, name, "disable"}
		case chkconfig != "":
			enableCmd = []string{chkconfig, name, "off"}
		}
	}
	enableChanged := changed
	enabledStatus["changed"] = enableChanged

	stateKey := state
	if stateKey == "" {
		stateKey = "null" // Ansible keys it by the missing state, None
	}
	stateStatus := map[string]any{"changed": false, "rc": nil, "stdout": nil, "stderr": nil}
	status[stateKey] = stateStatus
	action := sysvinitActionRe.ReplaceAllString(strings.ToLower(state), "")
	var runs []string // init script actions to run, in order
	if state != "" {
		switch {
		case action == "restart":
			runs = []string{"stop", "start"}
		case started != (action == "start"), started == (action == "stop"):
			runs = []string{action}
		}
		if len(runs) > 0 {
			changed = true
			stateStatus["changed"] = true
		}
	}
	values := map[string]any{"name": name, "status": status}
	r := Result{Changed: changed, Values: values, Warnings: warnings}
	if env.Check || (!enableChanged && len(runs) == 0) {
		return r, nil
	}

	var ac strings.Builder
	ac.WriteString(`_mdo_e=$(mktemp) || { _mdo_f fail "mktemp failed"; exit 0; }
_mdo_o=$(mktemp) || { _mdo_f fail "mktemp failed"; exit 0; }
trap 'rm -f "$_mdo_e" "$_mdo_o"' EXIT
`)
	if enableChanged && len(enableCmd) > 0 {
		fmt.Fprintf(&ac, "%s >\"$_mdo_o\" 2>\"$_mdo_e\" </dev/null\n_mdo_f enrc $?; _mdo_f enout \"$(cat \"$_mdo_o\"; echo .)\"; _mdo_f enerr \"$(cat \"$_mdo_e\"; echo .)\"\n", quoteWords(enableCmd))
	}
	if len(runs) > 0 {
		var extra []string
		if args.Has("arguments") {
			w, err := SplitShlex(args.String("arguments"))
			if err != nil {
				return Result{Failed: true, Msg: err.Error(), Values: values}, nil
			}
			extra = w
		}
		sleep := args.Int("sleep")
		for _, run := range runs {
			cmd := quoteWords(append([]string{script, run}, extra...))
			if args.Bool("daemonize") {
				// detached as Ansible's daemonize: own session, cwd /,
				// no stdin; its output and status are still waited for
				cmd = "(cd / && if command -v setsid >/dev/null 2>&1; then exec setsid " + cmd + "; else exec " + cmd + "; fi)"
			}
			fmt.Fprintf(&ac, "%s >\"$_mdo_o\" 2>\"$_mdo_e\" </dev/null\n_mdo_r=$?; _mdo_f strc $_mdo_r; _mdo_f stout \"$(cat \"$_mdo_o\"; echo .)\"; _mdo_f sterr \"$(cat \"$_mdo_e\"; echo .)\"\n", cmd)
			ac.WriteString("[ $_mdo_r -eq 0 ] || exit 0\n")
			if action == "restart" && sleep > 0 {
				fmt.Fprintf(&ac, "sleep %d\n", sleep)
			}
		}
	}
	ac.WriteString("_mdo_f end 1\n")
	f2, res, err := runScript(ctx, env, "sysvinit "+name, ac.String(), nil)
	if err != nil {
		return Result{}, err
	}
	if m, ok := f2.get("fail"); ok {
		return Result{Failed: true, Msg: m, Values: values}, nil
	}
	dot := func(s string) string { return strings.TrimSuffix(s, ".") }
	if enableChanged {
		if _, ok := f2.get("enrc"); ok {
			rc, _ := strconv.Atoi(f2.str("enrc"))
			enabledStatus["rc"], enabledStatus["stdout"], enabledStatus["stderr"] = rc, dot(f2.str("enout")), dot(f2.str("enerr"))
		} else {
			// no update-rc.d or chkconfig: Ansible reports the status run's
			enabledStatus["rc"], enabledStatus["stdout"], enabledStatus["stderr"] = statusRC, statusOut, statusErr
		}
		if e, _ := enabledStatus["stderr"].(string); strings.Contains(e, "illegal runlevel specified") {
			return Result{Failed: true, Msg: "Illegal runlevel specified for enable operation on service " + name, Values: values, Warnings: warnings}, nil
		}
	}
	if len(runs) > 0 {
		rcs := f2.all("strc")
		if len(rcs) == 0 {
			return scriptFailure("sysvinit", res), nil
		}
		rc, _ := strconv.Atoi(rcs[len(rcs)-1])
		out, serr := dot(f2.all("stout")[len(rcs)-1]), dot(f2.all("sterr")[len(rcs)-1])
		if rc != 0 {
			return Result{Failed: true, Msg: fmt.Sprintf("Failed to %s service: %s", action, name), Warnings: warnings,
				Values: map[string]any{"rc": rc, "stdout": out, "stderr": serr}}, nil
		}
		stateStatus["rc"], stateStatus["stdout"], stateStatus["stderr"] = rc, out, serr
	}
	if _, ok := f2.get("end"); !ok {
		return scriptFailure("sysvinit", res), nil
	}
	return r, nil
}
