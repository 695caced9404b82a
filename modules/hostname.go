package modules

import (
	"context"
	"fmt"
	"strings"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// Hostname is the hostname module. One script reads the current and the
// permanent hostname and sets whichever differs: with hostnamectl
// (strategy systemd, when systemd is PID 1), /etc/hostname plus the
// hostname command (debian and the other file-based strategies), or the
// hostname command alone (generic).
type Hostname struct {
	// etc is the directory holding the hostname file; "" means /etc.
	// Tests point it elsewhere.
	etc string
}

var _ Module = Hostname{}

// Spec describes hostname's arguments.
func (Hostname) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "name", Type: TypeStr, Required: true},
			{Name: "use", Type: TypeStr, Choices: []string{"alpine", "debian", "freebsd", "generic", "macos", "macosx", "darwin", "openbsd", "openrc", "redhat", "sles", "solaris", "systemd"}},
		},
		CheckMode: true,
	}
}

// hostnameScript builds the script for the strategy use ("" picks one on
// the target).
func hostnameScript(etc, name, use string, check bool) string {
	var sc strings.Builder
	fmt.Fprintf(&sc, "_mdo_n=%s\n_mdo_hf=%s/hostname\n", conn.Quote(name), conn.Quote(etc))
	switch use {
	case "":
		sc.WriteString(`if [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ] && command -v hostnamectl >/dev/null 2>&1; then _mdo_u=systemd
elif [ -f "$_mdo_hf" ]; then _mdo_u=file
else _mdo_u=generic; fi
`)
	case "systemd":
		sc.WriteString("_mdo_u=systemd\n")
	case "generic", "macos", "macosx", "darwin", "solaris", "openbsd", "freebsd":
		sc.WriteString("_mdo_u=generic\n")
	default: // debian, alpine, redhat, sles, openrc: a hostname file
		sc.WriteString("_mdo_u=file\n")
	}
	sc.WriteString(`_mdo_f strategy "$_mdo_u"
case $_mdo_u in
systemd) _mdo_c=$(hostnamectl --transient status 2>/dev/null || hostname); _mdo_p=$(hostnamectl --static status 2>/dev/null) ;;
file) _mdo_c=$(hostname); _mdo_p=$(cat "$_mdo_hf" 2>/dev/null | tr -d '[:space:]') ;;
*) _mdo_c=$(hostname); _mdo_p=UNKNOWN ;;
esac
_mdo_f current "$_mdo_c"
_mdo_f permanent "$_mdo_p"
`)
	if check {
		sc.WriteString("_mdo_f end 1\n")
		return sc.String()
	}
	sc.WriteString(`_mdo_run() { _mdo_o=$("$@" 2>&1) || { _mdo_f error "Command failed rc=$?, out=$_mdo_o"; exit 0; }; _mdo_f did "$*"; }
if [ "$_mdo_c" != "$_mdo_n" ]; then
  case $_mdo_u in systemd) _mdo_run hostnamectl --transient set-hostname "$_mdo_n" ;; *) _mdo_run hostname "$_mdo_n" ;; esac
fi
if [ "$_mdo_p" != "$_mdo_n" ]; then
  case $_mdo_u in
  systemd) _mdo_run hostnamectl --pretty --static set-hostname "$_mdo_n" ;;
  file) _mdo_t=$(mktemp "$_mdo_hf.XXXXXX") && printf '%s\n' "$_mdo_n" >"$_mdo_t" && chmod 644 "$_mdo_t" && mv -f "$_mdo_t" "$_mdo_hf" || { rm -f "$_mdo_t"; _mdo_f error "failed to write hostname file $_mdo_hf"; exit 0; }
    _mdo_f did "write $_mdo_hf" ;;
  esac
fi
_mdo_f fqdn "$(hostname -f 2>/dev/null || hostname)"
_mdo_f end 1
`)
	return sc.String()
}

// Run sets the hostname.
func (m Hostname) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	name := args.String("name")
	etc := m.etc
	if etc == "" {
		etc = "/etc"
	}
	if strings.TrimSpace(name) == "" || strings.ContainsAny(name, " \t\n/") {
		return Result{Failed: true, Msg: fmt.Sprintf("invalid hostname %q", name)}, nil
	}
	f, res, err := runScript(ctx, env, "hostname", hostnameScript(etc, name, args.String("use"), env.Check), nil)
	if err != nil {
		return Result{}, err
	}
	if msg, ok := f.get("error"); ok {
		return Result{Failed: true, Msg: msg}, nil
	}
	if _, ok := f.get("end"); !ok {
		return scriptFailure("hostname", res), nil
	}
	cur, perm := f.str("current"), f.str("permanent")
	changed := cur != name || (perm != name && f.str("strategy") != "generic")
	fqdn := f.str("fqdn")
	if fqdn == "" {
		fqdn = name
	}
	domain := ""
	if _, d, ok := strings.Cut(fqdn, "."); ok {
		domain = d
	}
	short, _, _ := strings.Cut(name, ".")
	r := Result{Changed: changed, Values: map[string]any{
		"name": name,
		"ansible_facts": map[string]any{
			"ansible_hostname": short, "ansible_nodename": name,
			"ansible_fqdn": fqdn, "ansible_domain": domain,
		},
	}}
	r.Facts = r.Values["ansible_facts"].(map[string]any)
	if env.Diff && changed {
		r.Diff = []Diff{{Before: "hostname = " + cur + "\n", After: "hostname = " + name + "\n"}}
	}
	return r, nil
}
