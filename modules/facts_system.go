package modules

// System facts: date and time, the user, the environment, DNS, the kernel command line, SELinux and the host's SSH keys.

import (
	"path"
	"strconv"
	"strings"
	"time"
)

// dateTimeFacts reads `date` output (local fields, epoch, nanoseconds, zone)
// and the zone names in January and July (for tz_dst).
func dateTimeFacts(s string) map[string]any {
	ls := lines(s)
	if len(ls) == 0 {
		return map[string]any{}
	}
	f := strings.Fields(ls[0])
	if len(f) < 13 {
		return map[string]any{}
	}
	year, month, day, hour, minute, second, epoch, nanos := f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7]
	micro := (nanos + "000000")[:6]
	out := map[string]any{
		"year": year, "month": month, "day": day, "hour": hour, "minute": minute, "second": second,
		"epoch": epoch, "epoch_int": epoch, "weekday": f[8], "weekday_number": f[9], "weeknumber": f[10],
		"date": year + "-" + month + "-" + day, "time": hour + ":" + minute + ":" + second,
		"iso8601_basic":       year + month + day + "T" + hour + minute + second + micro,
		"iso8601_basic_short": year + month + day + "T" + hour + minute + second,
		"tz":                  f[11], "tz_offset": f[12], "tz_dst": f[11],
	}
	if sec, err := strconv.ParseInt(epoch, 10, 64); err == nil {
		ns, _ := strconv.Atoi(micro)
		u := time.Unix(sec, int64(ns)*1000).UTC()
		out["iso8601"] = u.Format("2006-01-02T15:04:05Z")
		out["iso8601_micro"] = u.Format("2006-01-02T15:04:05.000000Z")
	}
	// Python's time.tzname[1]: the daylight-saving name, or the standard
	// name where the zone has none.
	if len(ls) >= 3 {
		jan, jul := strings.Fields(ls[1]), strings.Fields(ls[2])
		if len(jan) == 2 && len(jul) == 2 {
			out["tz_dst"] = jan[0]
			if jul[1] > jan[1] && !strings.HasPrefix(jul[1], "-") || strings.HasPrefix(jan[1], "-") && jul[1] < jan[1] {
				out["tz_dst"] = jul[0]
			}
		}
	}
	return out
}

// userFacts reads `id` output and the user's passwd entry.
func userFacts(idOut, passwd string, env map[string]any) map[string]any {
	ids := map[string]string{}
	names := map[string]string{}
	for _, f := range strings.Fields(idOut) {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			continue
		}
		num, name, _ := strings.Cut(v, "(")
		ids[k] = num
		names[k] = strings.TrimSuffix(name, ")")
	}
	if _, ok := ids["euid"]; !ok {
		ids["euid"] = ids["uid"]
	}
	out := map[string]any{}
	num := func(s string) any {
		if n, err := strconv.Atoi(s); err == nil {
			return n
		}
		return s
	}
	if ids["uid"] != "" {
		out["real_user_id"] = num(ids["uid"])
		out["effective_user_id"] = num(ids["euid"])
		out["real_group_id"] = num(ids["gid"])
		// Ansible reports os.getgid() here too.
		out["effective_group_id"] = num(ids["gid"])
	}
	user := names["uid"]
	for _, k := range []string{"LOGNAME", "USER", "LNAME", "USERNAME"} {
		if v, ok := env[k].(string); ok && v != "" {
			user = v
			break
		}
	}
	out["user_id"] = user
	if p := strings.Split(firstLine(passwd), ":"); len(p) >= 7 {
		out["user_uid"] = num(p[2])
		out["user_gid"] = num(p[3])
		out["user_gecos"] = p[4]
		out["user_dir"] = p[5]
		out["user_shell"] = p[6]
	}
	return out
}

// parseEnv reads env -0 output.
func parseEnv(s string) map[string]any {
	out := map[string]any{}
	for _, e := range strings.Split(s, "\x00") {
		if k, v, ok := strings.Cut(e, "="); ok && k != "" {
			out[k] = v
		}
	}
	return out
}

// dnsFacts parses resolv.conf as Ansible's DnsFactCollector.
func dnsFacts(s string) map[string]any {
	out := map[string]any{}
	for _, l := range lines(s) {
		if strings.HasPrefix(l, "#") || strings.HasPrefix(l, ";") {
			continue
		}
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "nameserver":
			ns, _ := out["nameservers"].([]any)
			out["nameservers"] = append(ns, f[1])
		case "domain":
			out["domain"] = f[1]
		case "search", "sortlist":
			l := make([]any, 0, len(f)-1)
			for _, x := range f[1:] {
				l = append(l, x)
			}
			out[f[0]] = l
		case "options":
			o := map[string]any{}
			for _, x := range f[1:] {
				if k, v, ok := strings.Cut(x, ":"); ok {
					o[k] = v
				} else {
					o[x] = true
				}
			}
			out["options"] = o
		}
	}
	return out
}

// cmdlineFacts parses /proc/cmdline into cmdline (last value wins) and
// proc_cmdline (repeated keys become lists).
func cmdlineFacts(s string) (map[string]any, map[string]any) {
	cmd, proc := map[string]any{}, map[string]any{}
	for _, w := range strings.Fields(s) {
		k, v, ok := strings.Cut(w, "=")
		var val any = true
		if ok {
			val = v
		}
		cmd[k] = val
		if prev, dup := proc[k]; dup {
			if l, isList := prev.([]any); isList {
				proc[k] = append(l, val)
			} else {
				proc[k] = []any{prev, val}
			}
		} else {
			proc[k] = val
		}
	}
	return cmd, proc
}

func selinuxFacts(enforce string) map[string]any {
	switch strings.TrimSpace(enforce) {
	case "1":
		return map[string]any{"status": "enabled", "mode": "enforcing"}
	case "0":
		return map[string]any{"status": "enabled", "mode": "permissive"}
	}
	return map[string]any{"status": "disabled"}
}

// sshKeyFacts: ssh_host_key_<type>_public and _keytype per host key file.
func sshKeyFacts(secs []section) map[string]any {
	out := map[string]any{}
	for _, s := range secs {
		p, ok := strings.CutPrefix(s.key, "sshkey:")
		if !ok {
			continue
		}
		typ := strings.TrimSuffix(strings.TrimPrefix(path.Base(p), "ssh_host_"), "_key.pub")
		f := strings.Fields(s.value)
		if len(f) < 2 {
			continue
		}
		out["ssh_host_key_"+typ+"_public"] = f[1]
		out["ssh_host_key_"+typ+"_public_keytype"] = f[0]
	}
	return out
}
