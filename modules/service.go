package modules

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// Service is the service module and Systemd the systemd (systemd_service)
// module. Both run one script on the target: when systemd is PID 1 it uses
// systemctl; otherwise it falls back to sysvinit, running `service NAME`
// (or /etc/init.d/NAME) and enabling with update-rc.d or chkconfig. The
// script reads the current state, decides and acts in the same exec.
type Service struct{}

// Systemd is the systemd module (alias systemd_service).
type Systemd struct{}

var (
	_ Module = Service{}
	_ Module = Systemd{}
)

var serviceStates = []string{"reloaded", "restarted", "started", "stopped"}

// Spec describes service's arguments.
func (Service) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "name", Type: TypeStr, Required: true},
			{Name: "state", Type: TypeStr, Choices: serviceStates},
			{Name: "sleep", Type: TypeInt},
			{Name: "pattern", Type: TypeStr},
			{Name: "enabled", Type: TypeBool},
			{Name: "runlevel", Type: TypeStr, Default: "default"},
			{Name: "arguments", Aliases: []string{"args"}, Type: TypeStr, Default: ""},
			{Name: "use", Type: TypeStr, Default: "auto"},
			// Passed to systemd where it manages services, as Ansible's
			// service action passes it to the systemd module.
			{Name: "daemon_reload", Aliases: []string{"daemon-reload"}, Type: TypeBool},
		},
		CheckMode:     true,
		RequiredOneOf: [][]string{{"state", "enabled", "daemon_reload"}},
	}
}

// Spec describes systemd's arguments.
func (Systemd) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "name", Aliases: []string{"service", "unit"}, Type: TypeStr},
			{Name: "state", Type: TypeStr, Choices: serviceStates},
			{Name: "enabled", Type: TypeBool},
			{Name: "force", Type: TypeBool},
			{Name: "masked", Type: TypeBool},
			{Name: "daemon_reload", Aliases: []string{"daemon-reload"}, Type: TypeBool, Default: false},
			{Name: "daemon_reexec", Aliases: []string{"daemon-reexec"}, Type: TypeBool, Default: false},
			{Name: "scope", Type: TypeStr, Default: "system", Choices: []string{"global", "system", "user"}},
			{Name: "no_block", Type: TypeBool, Default: false},
		},
		CheckMode:     true,
		RequiredOneOf: [][]string{{"state", "enabled", "masked", "daemon_reload", "daemon_reexec"}},
	}
}

// svcRequest is what a service call asks for.
type svcRequest struct {
	name         string
	state        string
	enabled      *bool
	masked       *bool
	sleep        int
	pattern      string
	arguments    string
	daemonReload bool
	daemonReexec bool
	scope        string
	noBlock      bool
	force        bool
	check        bool
	systemdOnly  bool // systemd module: report systemd's keys
}

func optBool(args Args, name string) *bool {
	if !args.Has(name) {
		return nil
	}
	b := args.Bool(name)
	return &b
}

// Run starts, stops, restarts, reloads, enables or disables a service.
func (Service) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	return runService(ctx, env, svcRequest{
		name:         args.String("name"),
		state:        args.String("state"),
		enabled:      optBool(args, "enabled"),
		sleep:        args.Int("sleep"),
		pattern:      args.String("pattern"),
		arguments:    args.String("arguments"),
		daemonReload: args.Bool("daemon_reload"),
		check:        env.Check,
	})
}

// Run manages a systemd unit (sysvinit fallback without systemd).
func (Systemd) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	r := svcRequest{
		name:         args.String("name"),
		state:        args.String("state"),
		enabled:      optBool(args, "enabled"),
		masked:       optBool(args, "masked"),
		daemonReload: args.Bool("daemon_reload"),
		daemonReexec: args.Bool("daemon_reexec"),
		scope:        args.String("scope"),
		noBlock:      args.Bool("no_block"),
		force:        args.Bool("force"),
		check:        env.Check,
		systemdOnly:  true,
	}
	if r.name == "" && (r.state != "" || r.enabled != nil || r.masked != nil) {
		return Result{Failed: true, Msg: "state, enabled, masked require a unit name"}, nil
	}
	return runService(ctx, env, r)
}

// serviceScript builds the one script for r.
func serviceScript(r svcRequest) string {
	var sc strings.Builder
	fmt.Fprintf(&sc, "_mdo_n=%s\n", conn.Quote(r.name))
	// _mdo_run VERB CMD...: runs CMD with its output in a file (a daemon
	// started by it must not hold our pipes open), reports it and stops
	// the script on failure. In check mode it only reports the verb.
	if r.check {
		sc.WriteString("_mdo_run() { _mdo_f did \"$1\"; }\n")
	} else {
		sc.WriteString(`_mdo_o=$(mktemp) || { _mdo_f error 'mktemp failed'; exit 0; }
trap 'rm -f "$_mdo_o"' EXIT
_mdo_run() { _mdo_v=$1; shift; "$@" >"$_mdo_o" 2>&1 </dev/null; _mdo_rc=$?
  _mdo_f did "$_mdo_v"; _mdo_f out "$(cat "$_mdo_o")"; _mdo_f rc "$_mdo_rc"
  [ "$_mdo_rc" -eq 0 ] || exit 0; }
`)
	}
	sc.WriteString("if [ \"$(cat /proc/1/comm 2>/dev/null)\" = systemd ] && command -v systemctl >/dev/null 2>&1; then\n_mdo_f mgr systemd\n")
	sc.WriteString(systemdPart(r))
	sc.WriteString("else\n_mdo_f mgr sysv\n")
	sc.WriteString(sysvPart(r))
	sc.WriteString("fi\n_mdo_f end 1\n")
	return sc.String()
}

func systemdPart(r svcRequest) string {
	var sc strings.Builder
	ctl := "systemctl"
	if r.scope != "" && r.scope != "system" {
		ctl += " --" + r.scope
	}
	block := ""
	if r.noBlock {
		block = " --no-block"
	}
	force := ""
	if r.force {
		force = " --force"
	}
	fmt.Fprintf(&sc, "_mdo_c() { %s \"$@\"; }\n", ctl)
	if r.daemonReexec {
		sc.WriteString("_mdo_run daemon-reexec _mdo_c daemon-reexec\n")
	}
	if r.daemonReload {
		sc.WriteString("_mdo_run daemon-reload _mdo_c daemon-reload\n")
	}
	if r.name == "" {
		return sc.String()
	}
	sc.WriteString(`_mdo_s=$(_mdo_c show --no-pager -- "$_mdo_n" 2>/dev/null)
_mdo_f status "$_mdo_s"
case $_mdo_s in *"LoadState=not-found"*|'') _mdo_f notfound 1; exit 0 ;; esac
case $_mdo_s in *"ActiveState=active"*|*"ActiveState=activating"*|*"ActiveState=reloading"*) _mdo_a=1 ;; *) _mdo_a=0 ;; esac
_mdo_f active "$_mdo_a"
`)
	if r.masked != nil {
		if *r.masked {
			fmt.Fprintf(&sc, "case $_mdo_s in *\"UnitFileState=masked\"*) ;; *) _mdo_run mask _mdo_c%s mask -- \"$_mdo_n\" ;; esac\n", force)
		} else {
			sc.WriteString("case $_mdo_s in *\"UnitFileState=masked\"*) _mdo_run unmask _mdo_c unmask -- \"$_mdo_n\" ;; esac\n")
		}
	}
	if r.enabled != nil {
		sc.WriteString("if _mdo_c is-enabled --quiet -- \"$_mdo_n\" 2>/dev/null; then _mdo_e=1; else _mdo_e=0; fi\n_mdo_f was_enabled \"$_mdo_e\"\n")
		if *r.enabled {
			fmt.Fprintf(&sc, "[ \"$_mdo_e\" = 1 ] || _mdo_run enable _mdo_c%s enable -- \"$_mdo_n\"\n", force)
		} else {
			fmt.Fprintf(&sc, "[ \"$_mdo_e\" = 0 ] || _mdo_run disable _mdo_c%s disable -- \"$_mdo_n\"\n", force)
		}
	}
	switch r.state {
	case "started":
		fmt.Fprintf(&sc, "[ \"$_mdo_a\" = 1 ] || _mdo_run start _mdo_c%s start -- \"$_mdo_n\"\n", block)
	case "stopped":
		fmt.Fprintf(&sc, "[ \"$_mdo_a\" = 0 ] || _mdo_run stop _mdo_c%s stop -- \"$_mdo_n\"\n", block)
	case "restarted":
		fmt.Fprintf(&sc, "_mdo_run restart _mdo_c%s restart -- \"$_mdo_n\"\n", block)
	case "reloaded":
		fmt.Fprintf(&sc, "if [ \"$_mdo_a\" = 1 ]; then _mdo_run reload _mdo_c%s reload -- \"$_mdo_n\"; else _mdo_run start _mdo_c%s start -- \"$_mdo_n\"; fi\n", block, block)
	}
	return sc.String()
}

func sysvPart(r svcRequest) string {
	var sc strings.Builder
	if r.name == "" {
		return sc.String()
	}
	sc.WriteString(`_mdo_i=/etc/init.d/$_mdo_n
[ -x "$_mdo_i" ] || { _mdo_f notfound 1; exit 0; }
if command -v service >/dev/null 2>&1; then _mdo_svc() { service "$_mdo_n" "$@"; }; else _mdo_svc() { "$_mdo_i" "$@"; }; fi
`)
	if r.pattern != "" {
		fmt.Fprintf(&sc, "if ps axo args= 2>/dev/null | grep -v grep | grep -q -- %s; then _mdo_a=1; else _mdo_a=0; fi\n", conn.Quote(r.pattern))
	} else {
		sc.WriteString("if _mdo_svc status >/dev/null 2>&1 </dev/null; then _mdo_a=1; else _mdo_a=0; fi\n")
	}
	sc.WriteString("_mdo_f active \"$_mdo_a\"\n")
	if r.enabled != nil {
		sc.WriteString(`_mdo_e=0
for _mdo_l in /etc/rc2.d/S??"$_mdo_n" /etc/rc3.d/S??"$_mdo_n" /etc/rc4.d/S??"$_mdo_n" /etc/rc5.d/S??"$_mdo_n"; do [ -e "$_mdo_l" ] && { _mdo_e=1; break; }; done
_mdo_f was_enabled "$_mdo_e"
`)
		if *r.enabled {
			sc.WriteString(`if [ "$_mdo_e" = 0 ]; then
  if command -v update-rc.d >/dev/null 2>&1; then
    _mdo_any=; for _mdo_l in /etc/rc?.d/[SK]??"$_mdo_n"; do [ -e "$_mdo_l" ] && _mdo_any=1; done
    [ -n "$_mdo_any" ] || _mdo_run enable update-rc.d "$_mdo_n" defaults
    _mdo_run enable update-rc.d "$_mdo_n" enable
  elif command -v chkconfig >/dev/null 2>&1; then _mdo_run enable chkconfig "$_mdo_n" on
  else _mdo_f error 'no update-rc.d or chkconfig on the target to enable the service'; exit 0; fi
fi
`)
		} else {
			sc.WriteString(`if [ "$_mdo_e" = 1 ]; then
  if command -v update-rc.d >/dev/null 2>&1; then _mdo_run disable update-rc.d "$_mdo_n" disable
  elif command -v chkconfig >/dev/null 2>&1; then _mdo_run disable chkconfig "$_mdo_n" off
  else _mdo_f error 'no update-rc.d or chkconfig on the target to disable the service'; exit 0; fi
fi
`)
		}
	}
	extra := ""
	if r.arguments != "" {
		// Ansible appends arguments to the init script's command line.
		for _, w := range strings.Fields(r.arguments) {
			extra += " " + conn.Quote(w)
		}
	}
	switch r.state {
	case "started":
		fmt.Fprintf(&sc, "[ \"$_mdo_a\" = 1 ] || _mdo_run start _mdo_svc start%s\n", extra)
	case "stopped":
		fmt.Fprintf(&sc, "[ \"$_mdo_a\" = 0 ] || _mdo_run stop _mdo_svc stop%s\n", extra)
	case "restarted":
		if r.sleep > 0 && !r.check {
			fmt.Fprintf(&sc, "_mdo_run stop _mdo_svc stop%s\nsleep %d\n_mdo_run start _mdo_svc start%s\n", extra, r.sleep, extra)
		} else {
			fmt.Fprintf(&sc, "_mdo_run restart _mdo_svc restart%s\n", extra)
		}
	case "reloaded":
		fmt.Fprintf(&sc, "if [ \"$_mdo_a\" = 1 ]; then _mdo_run reload _mdo_svc reload%s; else _mdo_run start _mdo_svc start%s; fi\n", extra, extra)
	}
	return sc.String()
}

// runService runs the service script and builds Ansible's result.
func runService(ctx context.Context, env *Env, r svcRequest) (Result, error) {
	what := "service"
	if r.systemdOnly {
		what = "systemd"
	}
	f, res, err := runScript(ctx, env, what+" "+r.name, serviceScript(r), nil)
	if err != nil {
		return Result{}, err
	}
	values := map[string]any{}
	if r.name != "" {
		values["name"] = r.name
	}
	if msg, ok := f.get("error"); ok {
		return Result{Failed: true, Msg: msg, Values: values}, nil
	}
	if _, ok := f.get("notfound"); ok {
		if f.str("mgr") == "sysv" && !r.systemdOnly {
			return Result{Failed: true, Values: values, Msg: "cannot find 'service' binary or init script for service,  possible typo in service name?, aborting"}, nil
		}
		return Result{Failed: true, Values: values, Msg: fmt.Sprintf("Could not find the requested service %s: host", r.name)}, nil
	}
	did := f.all("did")
	if rc := f.str("rc"); rc != "" && rc != "0" {
		out := strings.TrimSpace(f.all("out")[len(f.all("out"))-1])
		code, _ := strconv.Atoi(rc)
		values["rc"] = code
		if out == "" {
			out = fmt.Sprintf("%s %s failed with rc %s", did[len(did)-1], r.name, rc)
		}
		return Result{Failed: true, Msg: out, Values: values}, nil
	}
	if _, ok := f.get("end"); !ok {
		return scriptFailure(what, res), nil
	}
	if r.enabled != nil {
		values["enabled"] = *r.enabled
	}
	switch r.state {
	case "":
	case "stopped":
		values["state"] = "stopped"
	default:
		values["state"] = "started"
	}
	if r.systemdOnly && f.str("mgr") == "systemd" {
		status := map[string]any{}
		for _, l := range strings.Split(f.str("status"), "\n") {
			if k, v, ok := strings.Cut(l, "="); ok {
				status[k] = v
			}
		}
		values["status"] = status
	}
	return Result{Changed: len(did) > 0, Values: values}, nil
}
