package modules

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// Timezone is the timezone module (community.general.timezone). It sets
// the system time zone (name) and whether the hardware clock keeps UTC or
// local time (hwclock) the way Ansible's Linux classes do: with
// timedatectl when that command works (systemd), otherwise by editing the
// distribution's file (/etc/timezone on Debian, Alpine and Gentoo,
// /etc/sysconfig/clock on Red Hat and SUSE) and updating /etc/localtime
// (ln -sf plus dpkg-reconfigure tzdata on Debian, setup-timezone on
// Alpine, cp --remove-destination elsewhere), and hwclock --systohc.
//
// One exec reads the current values; a change costs one that applies it
// and reads the values again, which must then be the planned ones.
type Timezone struct {
	// root prefixes the files under /etc the module reads and writes;
	// "" means /. Tests point it at a temporary directory.
	root string
}

var _ Module = Timezone{}

// Spec describes timezone's arguments.
func (Timezone) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "name", Type: TypeStr},
			{Name: "hwclock", Aliases: []string{"rtc"}, Type: TypeStr, Choices: []string{"local", "UTC"}},
		},
		RequiredOneOf: [][]string{{"hwclock", "name"}},
		CheckMode:     true,
	}
}

const tzZoneinfo = "/usr/share/zoneinfo/"

// tzReadScript reports, with field names prefixed by p, which strategy
// applies and everything the values are read from.
func tzReadScript(p string) string {
	return strings.ReplaceAll(`if command -v timedatectl >/dev/null 2>&1 && _mdo_o=$(timedatectl status 2>&1); then
  _mdo_f Pstrategy systemd; _mdo_f Pstatus "$_mdo_o"
else
  if command -v dpkg-reconfigure >/dev/null 2>&1; then _mdo_s=debian
  else case $(. "$_mdo_r/etc/os-release" 2>/dev/null; echo "$ID") in alpine) _mdo_s=alpine ;; gentoo) _mdo_s=gentoo ;; *) _mdo_s=redhat ;; esac; fi
  _mdo_f Pstrategy $_mdo_s
  for _mdo_c in timezone sysconfig/clock default/rcS conf.d/hwclock adjtime; do
    if [ -f "$_mdo_r/etc/$_mdo_c" ]; then _mdo_f "Pfile:$_mdo_c" "$(cat "$_mdo_r/etc/$_mdo_c"; echo .)"; fi
  done
  _mdo_l=$_mdo_r/etc/localtime
  if [ -L "$_mdo_l" ]; then _mdo_f Plink "$(readlink "$_mdo_l")"; [ -e "$_mdo_l" ] && _mdo_f Plinkok 1; fi
  if [ -n "$_mdo_n" ] && cmp -s "$_mdo_l" "$_mdo_z" 2>/dev/null; then _mdo_f Psame 1; fi
  command -v tzdata-update >/dev/null 2>&1 && _mdo_f Ptzdataupdate 1
fi
`, "P", p)
}

// tzState is what a read script reported.
type tzState struct {
	f      fields
	prefix string
}

func (s tzState) get(k string) (string, bool) { return s.f.get(s.prefix + k) }
func (s tzState) str(k string) string         { return s.f.str(s.prefix + k) }

// file returns the content of /etc/name and whether it exists.
func (s tzState) file(name string) (string, bool) {
	v, ok := s.get("file:" + name)
	return strings.TrimSuffix(v, "."), ok
}

var (
	tzSystemdRe = map[string]*regexp.Regexp{
		"hwclock": regexp.MustCompile(`(?m)^\s*RTC in local TZ\s*:\s*(\S+)`),
		"name":    regexp.MustCompile(`(?m)^\s*Time ?zone\s*:\s*(\S+)`),
	}
	tzHwclockRe  = regexp.MustCompile(`(?m)^UTC\s*=\s*(\S+)`)
	tzAdjtimeRe  = regexp.MustCompile(`(?m)^(UTC|LOCAL)$`)
	tzNameRe     = regexp.MustCompile(`(?m)^(\S+)`)
	tzRedhatRe   = regexp.MustCompile(`(?m)^ZONE\s*=\s*"?([^"\s]+)"?`)
	tzSuseRe     = regexp.MustCompile(`(?m)^TIMEZONE\s*=\s*"?([^"\s]+)"?`)
	tzSuseKeyRe  = regexp.MustCompile(`(?m)^TIMEZONE\s*=`)
	tzLinkZoneRe = regexp.MustCompile(`/(?:usr/share|etc)/zoneinfo/(.*)`)
)

// tzPlan is the per-strategy layout Ansible's NosystemdTimezone sets up.
type tzPlan struct {
	nameFile    string         // under /etc
	nameRe      *regexp.Regexp // finds the zone in nameFile
	nameLine    string         // format of the line written
	hwclockFile string         // under /etc; "" when none
}

func tzPlanFor(strategy string, s tzState) tzPlan {
	switch strategy {
	case "debian":
		return tzPlan{"timezone", tzNameRe, "%s\n", "default/rcS"}
	case "alpine", "gentoo":
		return tzPlan{"timezone", tzNameRe, "%s\n", "conf.d/hwclock"}
	}
	p := tzPlan{"sysconfig/clock", tzRedhatRe, "ZONE=\"%s\"\n", "sysconfig/clock"}
	if c, _ := s.file("sysconfig/clock"); tzSuseKeyRe.MatchString(c) {
		p.nameRe, p.nameLine = tzSuseRe, "TIMEZONE=\"%s\"\n"
	}
	return p
}

// tzBool is Ansible's module.boolean for the words timedatectl and the
// config files use.
func tzBool(v string) bool {
	switch strings.ToLower(v) {
	case "yes", "on", "1", "true", "y", "t":
		return true
	}
	return false
}

// tzGet is Ansible's get(key, phase) for either strategy. A non-empty
// error is the message Ansible aborts with.
func tzGet(s tzState, key, planned, phase string) (string, string) {
	strategy := s.str("strategy")
	if strategy == "systemd" {
		m := tzSystemdRe[key].FindStringSubmatch(s.str("status"))
		if m == nil {
			return "", fmt.Sprintf("cannot find %q in the output of timedatectl status", key)
		}
		if key == "hwclock" {
			if tzBool(m[1]) {
				return "local", ""
			}
			return "UTC", ""
		}
		return m[1], ""
	}
	plan := tzPlanFor(strategy, s)
	if key == "hwclock" {
		v := "n/a"
		if c, ok := s.file(plan.hwclockFile); ok && plan.hwclockFile != "" {
			if m := tzHwclockRe.FindStringSubmatch(c); m != nil {
				v = "local"
				if tzBool(m[1]) {
					v = "UTC"
				}
			}
		}
		if v != planned {
			return v, ""
		}
		c, _ := s.file("adjtime")
		if m := tzAdjtimeRe.FindStringSubmatch(c); m != nil && m[1] == "LOCAL" {
			return "local", ""
		}
		return "UTC", ""
	}
	c, ok := s.file(plan.nameFile)
	if !ok {
		return "n/a", ""
	}
	m := plan.nameRe.FindStringSubmatch(c)
	if m == nil {
		if phase == "before" {
			return "n/a", ""
		}
		return "", fmt.Sprintf("tried to configure name using a file \"/etc/%s\", but could not find a valid value in it", plan.nameFile)
	}
	v := m[1]
	if v != planned {
		return v, ""
	}
	link, isLink := s.get("link")
	if !isLink {
		if _, same := s.get("same"); !same {
			return "n/a", ""
		}
		return v, ""
	}
	if _, ok := s.get("linkok"); !ok {
		return "n/a", ""
	}
	lm := tzLinkZoneRe.FindStringSubmatch(link)
	if lm == nil {
		return "n/a", ""
	}
	return lm[1], ""
}

// tzEditFile is Ansible's _edit_file: the lines matching re are removed
// and line is put where the first of them was (or at the top).
func tzEditFile(content string, re *regexp.Regexp, line string) string {
	lines := strings.SplitAfter(content, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	out, at := make([]string, 0, len(lines)+1), -1
	for _, l := range lines {
		if re.MatchString(l) {
			if at < 0 {
				at = len(out)
			}
			continue
		}
		out = append(out, l)
	}
	if at < 0 {
		at = 0
	}
	out = append(out[:at], append([]string{line}, out[at:]...)...)
	return strings.Join(out, "")
}

// tzApplyScript returns the script that sets key to value.
func tzApplyScript(s tzState, key, value string) string {
	var sc strings.Builder
	sc.WriteString("_mdo_run() { _mdo_o=$(\"$@\" 2>&1) || { _mdo_f error \"Command failed rc=$?: $* $_mdo_o\"; exit 0; }; _mdo_f msg \"executed \\`$*\\`\"; }\n")
	strategy := s.str("strategy")
	if strategy == "systemd" {
		if key == "hwclock" {
			v := "no"
			if value == "local" {
				v = "yes"
			}
			fmt.Fprintf(&sc, "_mdo_run timedatectl set-local-rtc %s\n", v)
		} else {
			fmt.Fprintf(&sc, "_mdo_run timedatectl set-timezone %s\n", conn.Quote(value))
		}
		return sc.String()
	}
	plan := tzPlanFor(strategy, s)
	edit := func(file string, re *regexp.Regexp, line string) {
		c, _ := s.file(file)
		p := "$_mdo_r/etc/" + file
		fmt.Fprintf(&sc, "printf %%s %s >\"%s\" || { _mdo_f error 'tried to configure %s using a file \"/etc/%s\", but could not write to it'; exit 0; }\n",
			conn.Quote(tzEditFile(c, re, line)), p, key, file)
	}
	if key == "name" {
		edit(plan.nameFile, plan.nameRe, fmt.Sprintf(plan.nameLine, value))
		switch {
		case strategy == "debian":
			sc.WriteString("_mdo_run ln -sf \"$_mdo_z\" \"$_mdo_r/etc/localtime\"\n_mdo_run dpkg-reconfigure --frontend noninteractive tzdata\n")
		case strategy == "alpine":
			fmt.Fprintf(&sc, "_mdo_run setup-timezone -z %s\n", conn.Quote(value))
		default:
			_, isLink := s.get("link")
			if _, ok := s.get("tzdataupdate"); ok && !isLink {
				sc.WriteString("_mdo_run tzdata-update\n")
			} else {
				sc.WriteString("_mdo_run cp --remove-destination \"$_mdo_z\" \"$_mdo_r/etc/localtime\"\n")
			}
		}
		return sc.String()
	}
	option, utc := "--utc", "yes"
	if value == "local" {
		option, utc = "--localtime", "no"
	}
	if plan.hwclockFile != "" {
		edit(plan.hwclockFile, tzHwclockRe, "UTC="+utc+"\n")
	}
	fmt.Fprintf(&sc, "_mdo_run hwclock --systohc %s\n", option)
	return sc.String()
}

// tzDiffText is Ansible's rendering of a dict diff side: JSON with sorted
// keys and four-space indentation, plus a newline.
func tzDiffText(m map[string]string) string {
	b, _ := json.MarshalIndent(m, "", "    ")
	return string(b) + "\n"
}

// Run sets the time zone and the hardware clock mode.
func (m Timezone) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	planned := map[string]string{}
	for _, k := range []string{"hwclock", "name"} {
		if args.Has(k) {
			planned[k] = args.String(k)
		}
	}
	keys := make([]string, 0, len(planned))
	for k := range planned {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	head := fmt.Sprintf("_mdo_r=%s\n_mdo_n=%s\n_mdo_z=%s\n", conn.Quote(m.root), conn.Quote(planned["name"]), conn.Quote(tzZoneinfo+planned["name"]))
	fail := func(msg string, notes []string) Result {
		text := "Error message:\n" + msg
		if len(notes) > 0 {
			text += "\nOther message(s):\n" + strings.Join(notes, "\n")
		}
		return Result{Failed: true, Msg: text}
	}
	check := ""
	if name, ok := planned["name"]; ok {
		check = "if [ ! -f \"$_mdo_z\" ]; then _mdo_f badzone 1; _mdo_f end 1; exit 0; fi\n"
		if name == "" || strings.Contains("/"+name+"/", "/../") {
			return fail(fmt.Sprintf("given timezone %q is not available", name), nil), nil
		}
	}
	f, res, err := runScript(ctx, env, "timezone", head+check+tzReadScript("b_")+"_mdo_f end 1\n", nil)
	if err != nil {
		return Result{}, err
	}
	if _, ok := f.get("end"); !ok {
		return scriptFailure("timezone", res), nil
	}
	if _, bad := f.get("badzone"); bad {
		return fail(fmt.Sprintf("given timezone %q is not available", planned["name"]), nil), nil
	}
	bs := tzState{f, "b_"}
	before, msg := tzValues(bs, keys, planned, "before")
	if msg != "" {
		return fail(msg, nil), nil
	}
	after := planned
	var notes []string
	changing := []string{}
	for _, k := range keys {
		if before[k] != planned[k] {
			changing = append(changing, k)
		}
	}
	if !env.Check && len(changing) > 0 {
		var sc strings.Builder
		sc.WriteString(head)
		for _, k := range changing {
			sc.WriteString(tzApplyScript(bs, k, planned[k]))
		}
		sc.WriteString(tzReadScript("a_") + "_mdo_f end 1\n")
		f, res, err = runScript(ctx, env, "timezone", sc.String(), nil)
		if err != nil {
			return Result{}, err
		}
		notes = f.all("msg")
		if msg, ok := f.get("error"); ok {
			return fail(msg, notes), nil
		}
		if _, ok := f.get("end"); !ok {
			return scriptFailure("timezone", res), nil
		}
		if after, msg = tzValues(tzState{f, "a_"}, keys, planned, "after"); msg != "" {
			return fail(msg, notes), nil
		}
		for _, k := range keys {
			if after[k] != planned[k] {
				return fail(fmt.Sprintf("still not desired state, though changes have made - planned: %s, after: %s", tzPyDict(planned, keys), tzPyDict(after, keys)), notes), nil
			}
		}
	}
	changed := false
	for _, k := range keys {
		changed = changed || before[k] != after[k]
	}
	r := Result{Changed: changed, Values: map[string]any{
		"diff": map[string]any{"before": tzAnyMap(before), "after": tzAnyMap(after)},
	}}
	if len(notes) > 0 {
		r.Msg = strings.Join(notes, "\n")
	}
	if env.Diff {
		r.Diff = []Diff{{Before: tzDiffText(before), After: tzDiffText(after)}}
	}
	return r, nil
}

// tzValues reads the value of each key at phase; a non-empty message is
// the error Ansible aborts with.
func tzValues(s tzState, keys []string, planned map[string]string, phase string) (map[string]string, string) {
	out := map[string]string{}
	for _, k := range keys {
		v, msg := tzGet(s, k, planned[k], phase)
		if msg != "" {
			return nil, msg
		}
		out[k] = v
	}
	return out, ""
}

func tzAnyMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// tzPyDict renders m the way Python prints a dict of strings.
func tzPyDict(m map[string]string, keys []string) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("'%s': '%s'", k, m[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
