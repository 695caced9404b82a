package modules

import (
	"context"
	"fmt"
	"regexp"
	"strings"
)

// ServiceFacts is the service_facts module: it sets the fact services, a
// mapping from each service's name to {name, state, status, source}, from
// `service --status-all` (sysv) and from systemd's unit lists, in one round
// trip, as Ansible's ServiceScanService and SystemctlScanService read them.
// Upstart, chkconfig, OpenRC and the BSD and AIX service managers are not
// read. It changes nothing.
type ServiceFacts struct{}

var _ Module = ServiceFacts{}

// Spec describes service_facts (it has no arguments).
func (ServiceFacts) Spec() *Spec { return &Spec{CheckMode: true} }

// svcfactsSystemd is Ansible's is_systemd_managed: one of systemd's
// canaries exists.
const svcfactsSystemd = `{ [ -e /run/systemd/system/ ] || [ -e /dev/.run/systemd/ ] || [ -e /dev/.systemd/ ]; }`

// svcfactsScript lists the services; systemd is the shell test saying
// whether systemd manages the target.
func svcfactsScript(systemd string) string {
	return `export LANG=C LC_ALL=C LC_MESSAGES=C LC_CTYPE=C
set -f
if command -v service >/dev/null 2>&1 && ! command -v chkconfig >/dev/null 2>&1 && ! command -v rc-status >/dev/null 2>&1; then
  _mdo_o=$(service --status-all 2>&1); _mdo_f sysvrc $?; _mdo_f sysv "$_mdo_o"
  [ -e /etc/init.d ] || _mdo_f noinitd 1
fi
if ` + systemd + ` && command -v systemctl >/dev/null 2>&1; then
  _mdo_k=
  if _mdo_o=$(systemctl list-units --no-pager --type service --all --plain 2>&1); then
    _mdo_f units "$_mdo_o"; _mdo_k=" $(printf '%s\n' "$_mdo_o" | awk '/\.service/ { print $1 }' | tr '\n' ' ')"
  else _mdo_f unitserr "$_mdo_o"; fi
  if _mdo_o=$(systemctl list-unit-files --no-pager --type service --all 2>&1); then
    _mdo_f files "$_mdo_o"
    # The state of a unit that is not loaded, as Ansible asks for it.
    for _mdo_u in $(printf '%s\n' "$_mdo_o" | awk '/\.service/ { print $1 }'); do
      case $_mdo_k in *" $_mdo_u "*) continue ;; esac
      _mdo_o=$(systemctl show "$_mdo_u" --property=ActiveState 2>/dev/null) && _mdo_f "state:$_mdo_u" "$_mdo_o"
    done
  else _mdo_f fileserr "$_mdo_o"; fi
fi
exit 0
`
}

// svcfactsSysv is Ansible's pattern for service --status-all lines.
var svcfactsSysv = regexp.MustCompile(`(?m)^\s*\[ (\+|-) \]\s+(.+)$`)

// svcfactsBad are the systemd states Ansible reports as the status.
var svcfactsBad = []string{"not-found", "masked", "failed"}

// Run lists the services.
func (ServiceFacts) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	return svcfactsRun(ctx, env, svcfactsSystemd)
}

func svcfactsRun(ctx context.Context, env *Env, systemd string) (Result, error) {
	f, res, err := runScript(ctx, env, "service_facts", svcfactsScript(systemd), nil)
	if err != nil {
		return Result{}, err
	}
	if res.RC != 0 {
		return scriptFailure("service_facts", res), nil
	}
	services := map[string]any{}
	var warnings []string
	if out, ok := f.get("sysv"); ok {
		rc := f.str("sysvrc")
		switch {
		case rc == "4" && f.str("noinitd") != "":
		default:
			if rc != "0" {
				warnings = append(warnings, fmt.Sprintf("Unable to query 'service' tool (%s): %s", rc, strings.TrimSpace(out)))
			}
			// Ansible's finditer over the multi-line output: \s may
			// cross a line end, a name runs to the end of its line.
			for _, m := range svcfactsSysv.FindAllStringSubmatch(out, -1) {
				state := "stopped"
				if m[1] == "+" {
					state = "running"
				}
				services[m[2]] = map[string]any{"name": m[2], "state": state, "source": "sysv"}
			}
		}
	}
	if e, ok := f.get("unitserr"); ok {
		warnings = append(warnings, "Could not list units from systemd: "+e)
	}
	units := map[string]bool{}
	for _, line := range strings.Split(f.str("units"), "\n") {
		if !strings.Contains(line, ".service") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 4 {
			continue
		}
		status := fields[2]
		for _, bad := range svcfactsBad {
			if contains(fields[:len(fields)-1], bad) {
				status = bad
				break
			}
		}
		state := "stopped"
		if fields[3] == "running" {
			state = "running"
		}
		services[fields[0]] = map[string]any{"name": fields[0], "state": state, "status": status, "source": "systemd"}
		units[fields[0]] = true
	}
	if e, ok := f.get("fileserr"); ok {
		warnings = append(warnings, "Could not get unit files data from systemd: "+e)
	}
	for _, line := range strings.Split(f.str("files"), "\n") {
		if !strings.Contains(line, ".service") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 2 {
			return Result{Failed: true, Msg: "Malformed output discovered from systemd list-unit-files: " + line}, nil
		}
		name, status := fields[0], fields[1]
		state := "unknown"
		if s := f.str("state:" + name); s != "" {
			state = strings.TrimPrefix(s, "ActiveState=")
		}
		if !units[name] {
			services[name] = map[string]any{"name": name, "state": state, "status": status, "source": "systemd"}
			units[name] = true
			continue
		}
		svc := services[name].(map[string]any)
		if !contains(svcfactsBad, svc["status"].(string)) {
			svc["status"] = status
		}
	}
	if len(services) == 0 {
		return Result{Skipped: true, Warnings: warnings, Msg: "Failed to find any services. This can be due to privileges or some other configuration issue."}, nil
	}
	return Result{Facts: map[string]any{"services": services}, Warnings: warnings}, nil
}
