package modules

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// WaitFor is the wait_for module. The whole wait is one shell loop on the
// target (one exec): ports are probed with nc when the target has it, else
// with bash's /dev/tcp, else by looking for a listener in /proc/net/tcp;
// paths with test and grep. The timeout is enforced by the loop and, with
// some slack, by the call's context.
type WaitFor struct{}

var _ Module = WaitFor{}

// Spec describes wait_for's arguments.
func (WaitFor) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "host", Type: TypeStr, Default: "127.0.0.1"},
			{Name: "port", Type: TypeInt},
			{Name: "path", Type: TypePath},
			{Name: "search_regex", Type: TypeStr},
			{Name: "state", Type: TypeStr, Default: "started", Choices: []string{"absent", "drained", "present", "started", "stopped"}},
			{Name: "timeout", Type: TypeInt, Default: 300},
			{Name: "delay", Type: TypeInt, Default: 0},
			{Name: "sleep", Type: TypeInt, Default: 1},
			{Name: "connect_timeout", Type: TypeInt, Default: 5},
			{Name: "exclude_hosts", Type: TypeList},
			{Name: "active_connection_states", Type: TypeList},
			{Name: "msg", Type: TypeStr},
		},
		CheckMode: true,
	}
}

// tcpStates maps Ansible's connection state names to /proc/net/tcp codes.
var tcpStates = map[string]string{
	"ESTABLISHED": "01", "SYN_SENT": "02", "SYN_RECV": "03", "FIN_WAIT1": "04", "FIN_WAIT2": "05",
	"TIME_WAIT": "06", "CLOSE": "07", "CLOSE_WAIT": "08", "LAST_ACK": "09", "LISTEN": "0A", "CLOSING": "0B",
}

// ereFromPython turns the Python regex features grep -E lacks into ERE
// (\d, named and non-capturing groups); Go's regexp then extracts groups
// from the matching line on the controller.
func ereFromPython(re string) string {
	r := strings.NewReplacer(`\d`, `[0-9]`, `\D`, `[^0-9]`, `(?:`, `(`)
	return regexp.MustCompile(`\(\?P<[A-Za-z_][A-Za-z0-9_]*>`).ReplaceAllString(r.Replace(re), "(")
}

// Run waits.
func (WaitFor) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	host, path, re := args.String("host"), args.String("path"), args.String("search_regex")
	port, hasPort := args.Int("port"), args.Has("port")
	state := args.String("state")
	timeout, delay, sleep, ct := args.Int("timeout"), args.Int("delay"), args.Int("sleep"), args.Int("connect_timeout")
	values := map[string]any{"elapsed": 0}
	fail := func(msg string) (Result, error) { return Result{Failed: true, Msg: msg, Values: values}, nil }
	var compiled *regexp.Regexp
	if re != "" {
		var err error
		if compiled, err = regexp.Compile(re); err != nil {
			return fail(fmt.Sprintf("Invalid regular expression: %v", err))
		}
	}
	switch {
	case hasPort && path != "":
		return fail("port and path parameter can not both be passed to wait_for")
	case path != "" && state == "stopped":
		return fail("state=stopped should only be used for checking a port in the wait_for module")
	case path != "" && state == "drained":
		return fail("state=drained should only be used for checking a port in the wait_for module")
	case args.Has("exclude_hosts") && state != "drained":
		return fail("exclude_hosts should only be with state=drained")
	}
	states := args.Strings("active_connection_states")
	if len(states) == 0 {
		states = []string{"ESTABLISHED", "FIN_WAIT1", "FIN_WAIT2", "SYN_RECV", "SYN_SENT", "TIME_WAIT"}
	}
	var codes []string
	for _, s := range states {
		c, ok := tcpStates[strings.ToUpper(s)]
		if !ok {
			return fail(fmt.Sprintf("unknown active_connection_state (%s) defined", s))
		}
		codes = append(codes, c)
	}
	if sleep < 1 {
		sleep = 1
	}

	var sc strings.Builder
	fmt.Fprintf(&sc, "_mdo_h=%s\n_mdo_port=%d\n_mdo_ct=%d\n_mdo_hex=$(printf %%04X %d)\n", conn.Quote(host), port, ct, port)
	if path != "" {
		var e expander
		w := e.Word(path, true)
		fmt.Fprintf(&sc, "%s_mdo_p=%s\n", e.Prelude(), w)
	}
	if re != "" {
		fmt.Fprintf(&sc, "_mdo_re=%s\n", conn.Quote(ereFromPython(re)))
	}
	fmt.Fprintf(&sc, "_mdo_start=$(date +%%s)\n_mdo_end=$((_mdo_start + %d))\n", timeout)
	if delay > 0 {
		fmt.Fprintf(&sc, "sleep %d\n", delay)
	}
	// _mdo_proc CODES: a socket on our port in one of the states exists.
	sc.WriteString(`_mdo_proc() { for _mdo_tf in /proc/net/tcp /proc/net/tcp6; do [ -r "$_mdo_tf" ] || continue
  while read -r _ _mdo_l _mdo_r _mdo_st _; do
    case "${_mdo_l##*:}" in "$_mdo_hex") case " $1 " in *" $_mdo_st "*) return 0 ;; esac ;; esac
  done <"$_mdo_tf"; done; return 1; }
`)
	if hasPort {
		sc.WriteString(`if command -v nc >/dev/null 2>&1; then _mdo_m=nc
elif command -v bash >/dev/null 2>&1; then _mdo_m=bash
elif [ -r /proc/net/tcp ]; then _mdo_m=proc
else _mdo_f error 'wait_for needs nc, bash or /proc/net/tcp on the target to check ports'; exit 0; fi
_mdo_f method "$_mdo_m"
_mdo_up() { case $_mdo_m in
  nc) nc -z -w "$_mdo_ct" "$_mdo_h" "$_mdo_port" </dev/null >/dev/null 2>&1 ;;
  bash) timeout "$_mdo_ct" bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$_mdo_h" "$_mdo_port" </dev/null >/dev/null 2>&1 ;;
  proc) _mdo_proc 0A ;;
  esac; }
_mdo_read() { case $_mdo_m in
  nc) timeout "$_mdo_ct" nc -w "$_mdo_ct" "$_mdo_h" "$_mdo_port" </dev/null 2>/dev/null | head -c 1048576 ;;
  bash) timeout "$_mdo_ct" bash -c 'exec 3<>"/dev/tcp/$0/$1"; cat <&3' "$_mdo_h" "$_mdo_port" </dev/null 2>/dev/null | head -c 1048576 ;;
  *) return 1 ;;
  esac; }
`)
	}
	var cond string
	switch {
	case state == "drained":
		cond = fmt.Sprintf("! _mdo_proc %s", conn.Quote(strings.Join(codes, " ")))
	case hasPort && (state == "stopped" || state == "absent"):
		cond = "! _mdo_up"
	case path != "" && state == "absent":
		cond = "! [ -e \"$_mdo_p\" ] && ! [ -L \"$_mdo_p\" ]"
	case hasPort && re != "":
		cond = "_mdo_d=$(_mdo_read) && _mdo_x=$(printf '%s\\n' \"$_mdo_d\" | grep -E -m1 -e \"$_mdo_re\")"
	case hasPort:
		cond = "_mdo_up"
	case path != "" && re != "":
		cond = "[ -f \"$_mdo_p\" ] && _mdo_x=$(grep -E -m1 -e \"$_mdo_re\" -- \"$_mdo_p\" 2>/dev/null)"
	case path != "":
		cond = "[ -e \"$_mdo_p\" ]"
	default:
		// Neither port nor path: Ansible just sleeps for the timeout.
		cond = "[ \"$(date +%s)\" -ge \"$_mdo_end\" ]"
	}
	fmt.Fprintf(&sc, `_mdo_x=
while :; do
  if %s; then _mdo_f ok 1; [ -n "$_mdo_x" ] && _mdo_f line "$_mdo_x"; break; fi
  [ "$(date +%%s)" -ge "$_mdo_end" ] && { _mdo_f timeout 1; break; }
  sleep %d
done
_mdo_f elapsed $(($(date +%%s) - _mdo_start))
`, cond, sleep)

	// The loop ends itself; the context is a backstop for a target whose
	// clock or tools misbehave.
	budget := time.Duration(timeout+delay+ct+30) * time.Second
	cctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	f, res, err := runScript(cctx, env, "wait_for", sc.String(), nil)
	if err != nil {
		if ctx.Err() == nil && errors.Is(cctx.Err(), context.DeadlineExceeded) {
			values["elapsed"] = int(budget.Seconds())
			return fail(waitForTimeoutMsg(args, host, port, path, re, state))
		}
		return Result{}, err
	}
	if msg, ok := f.get("error"); ok {
		return fail(msg)
	}
	el, ok := f.get("elapsed")
	if !ok {
		return scriptFailure("wait_for", res), nil
	}
	values["elapsed"], _ = strconv.Atoi(el)
	if _, ok := f.get("timeout"); ok {
		return fail(waitForTimeoutMsg(args, host, port, path, re, state))
	}
	var groups []string
	groupDict := map[string]any{}
	if line, ok := f.get("line"); ok && compiled != nil {
		if m := compiled.FindStringSubmatch(line); m != nil {
			groups = m[1:]
			for i, n := range compiled.SubexpNames() {
				if n != "" {
					groupDict[n] = m[i]
				}
			}
		}
	}
	if groups == nil {
		groups = []string{}
	}
	values["state"] = state
	values["port"] = nilIfAbsent(args, "port")
	values["path"] = nilIfAbsent(args, "path")
	values["search_regex"] = nilIfAbsent(args, "search_regex")
	values["match_groups"] = groups
	values["match_groupdict"] = groupDict
	return Result{Values: values}, nil
}

// waitForTimeoutMsg is Ansible's message for a wait that timed out.
func waitForTimeoutMsg(args Args, host string, port int, path, re, state string) string {
	if m := args.String("msg"); m != "" {
		return m
	}
	switch {
	case state == "drained":
		return fmt.Sprintf("Timeout when waiting for %s:%d to drain", host, port)
	case args.Has("port") && (state == "stopped" || state == "absent"):
		return fmt.Sprintf("Timeout when waiting for %s:%d to stop.", host, port)
	case path != "" && state == "absent":
		return fmt.Sprintf("Timeout when waiting for %s to be absent.", path)
	case args.Has("port") && re != "":
		return fmt.Sprintf("Timeout when waiting for search string %s in %s:%d", re, host, port)
	case args.Has("port"):
		return fmt.Sprintf("Timeout when waiting for %s:%d", host, port)
	case re != "":
		return fmt.Sprintf("Timeout when waiting for search string %s in %s", re, path)
	default:
		return fmt.Sprintf("Timeout when waiting for file %s", path)
	}
}
