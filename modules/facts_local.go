package modules

// Local facts (fact_path): *.fact files on the target, JSON or INI, executable ones run, as ansible_local.

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// localFactPath is fact_path, Ansible's /etc/ansible/facts.d by default.
func localFactPath(args Args) string {
	if fp := strings.TrimSuffix(args.String("fact_path"), "/"); fp != "" {
		return fp
	}
	return "/etc/ansible/facts.d"
}

// localFactsScript prints, for each DIR/*.fact in name order, the
// sections local:NAME (the file's content, or an executable's output),
// and for an executable localrc:NAME and localerr:NAME. An executable
// runs under coreutils' timeout of gather_timeout seconds.
func localFactsScript(dir string, timeout int) string {
	to := ""
	if timeout > 0 {
		to = fmt.Sprintf("timeout %d ", timeout)
	}
	return fmt.Sprintf(`for _lf in %s/*.fact; do
  [ -e "$_lf" ] || continue
  _lb=${_lf##*/}; _lb=${_lb%%.fact}
  if [ -x "$_lf" ]; then
    _le=$(mktemp); _lo=$(%s"$_lf" 2>"$_le" </dev/null); _lrc=$?
    printf 'localrc:%%s\0%%s\0' "$_lb" "$_lrc"; printf 'localerr:%%s\0' "$_lb"; cat "$_le"; printf '\0'; rm -f "$_le"
    printf 'local:%%s\0%%s\0' "$_lb" "$_lo"
  else _f "local:$_lb" "$_lf"; fi
done
`, conn.Quote(strings.TrimSuffix(dir, "/")), to)
}

// localFacts is Ansible's LocalFactCollector over the script's sections:
// each fact is JSON, else INI (sections of lower-cased options), else an
// error string; a failed executable gives Ansible's failure string. Each
// failure is also a warning.
func localFacts(secs []section, dir string) (map[string]any, []string) {
	local := map[string]any{}
	var warnings []string
	rc, errs := map[string]string{}, map[string]string{}
	for _, s := range secs {
		if n, ok := strings.CutPrefix(s.key, "localrc:"); ok {
			rc[n] = s.value
		} else if n, ok := strings.CutPrefix(s.key, "localerr:"); ok {
			errs[n] = s.value
		}
	}
	for _, s := range secs {
		name, ok := strings.CutPrefix(s.key, "local:")
		if !ok {
			continue
		}
		if r, ok := rc[name]; ok && r != "0" {
			msg := fmt.Sprintf("Failure executing fact script (%s), rc: %s, err: %s", dir+"/"+name+".fact", r, errs[name])
			if r == "124" {
				msg = fmt.Sprintf("Failure executing fact script (%s), rc: %s, err: timed out (gather_timeout)", dir+"/"+name+".fact", r)
			}
			local[name] = msg
			warnings = append(warnings, msg)
			continue
		}
		var v any
		if err := json.Unmarshal([]byte(s.value), &v); err == nil {
			local[name] = v
			continue
		}
		if ini, ok := parseFactINI(s.value); ok {
			local[name] = ini
			continue
		}
		msg := "error loading facts as JSON or ini - please check content: " + dir + "/" + name + ".fact"
		local[name] = msg
		warnings = append(warnings, msg)
	}
	return local, warnings
}

// parseFactINI reads INI as Python's ConfigParser does for local facts:
// [section] headers, key = value or key: value options (names lower-cased),
// # and ; comment lines, indented continuation lines. Text before the
// first section is an error.
func parseFactINI(s string) (map[string]any, bool) {
	out := map[string]any{}
	var cur map[string]any
	lastKey := ""
	for _, line := range strings.Split(s, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "#") || strings.HasPrefix(t, ";") {
			continue
		}
		if cur != nil && lastKey != "" && (line[0] == ' ' || line[0] == '\t') {
			cur[lastKey] = cur[lastKey].(string) + "\n" + t
			continue
		}
		if strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]") {
			name := t[1 : len(t)-1]
			if _, dup := out[name]; dup {
				return nil, false
			}
			cur = map[string]any{}
			out[name] = cur
			lastKey = ""
			continue
		}
		if cur == nil {
			return nil, false
		}
		i := strings.IndexAny(t, "=:")
		if i <= 0 {
			return nil, false
		}
		lastKey = strings.ToLower(strings.TrimSpace(t[:i]))
		cur[lastKey] = strings.TrimSpace(t[i+1:])
	}
	return out, true
}
