package modules

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// KnownHosts is ansible.builtin.known_hosts: it adds or removes a host's
// key in a known_hosts file, a port of ansible-core's module. ssh-keygen
// on the target does the matching (`-F` finds the host, hashed or not;
// `-R` removes a whole host), so results and idempotency are Ansible's:
// a key of the same type that differs replaces the line found, the same
// key leaves the file alone. One exec reads the file, checks the key
// against the host and searches for it; a change costs one more.
type KnownHosts struct{}

var _ Module = KnownHosts{}

// Spec describes known_hosts's arguments.
func (KnownHosts) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "name", Aliases: []string{"host"}, Type: TypeStr, Required: true},
			{Name: "key", Type: TypeStr},
			{Name: "path", Type: TypePath, Default: "~/.ssh/known_hosts"},
			{Name: "hash_host", Type: TypeBool, Default: false},
			{Name: "state", Type: TypeStr, Default: "present", Choices: []string{"absent", "present"}},
		},
		CheckMode: true,
	}
}

// knownHostsComma is the module's test for a list of names.
var knownHostsComma = regexp.MustCompile(`\S+(\s+)?,(\s+)?`)

// knownHostsScript checks the key against the host ($_mdo_k, $_mdo_h)
// with ssh-keygen -F on a temporary file, then runs ssh-keygen -F on the
// known_hosts file ($_mdo_p) when it exists, and prints the answers as
// records after readScript's record of the file.
const knownHostsScript = `command -v ssh-keygen >/dev/null 2>&1 || { printf 'kh\0nokeygen\0'; exit 0; }
_mdo_t=$(mktemp -d 2>&1) || { printf 'kh\0tmp\0err\0%s\0' "$_mdo_t"; exit 0; }
trap 'rm -rf -- "$_mdo_t"' EXIT
if [ -n "$_mdo_k" ]; then
  printf '%s' "$_mdo_k" >"$_mdo_t/key"
  ssh-keygen -F "$_mdo_h" -f "$_mdo_t/key" >"$_mdo_t/o" 2>/dev/null
  [ -s "$_mdo_t/o" ] || { printf 'kh\0nomatch\0'; exit 0; }
fi
printf 'kh\0ok\0'
if [ -e "$_mdo_p" ]; then
  ssh-keygen -F "$_mdo_h" -f "$_mdo_p" >"$_mdo_t/o" 2>"$_mdo_t/e"
  printf 'rc\0%s\0out\0' $?
  cat "$_mdo_t/o"; printf '\0err\0'; cat "$_mdo_t/e"; printf '\0'
fi
`

// Run adds or removes the key.
func (KnownHosts) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	name, state := args.String("name"), args.String("state")
	host := strings.ToLower(name)
	key := args.String("key")
	values := map[string]any{"name": name, "key": nil, "path": args.String("path"), "hash_host": args.Bool("hash_host"), "state": state}
	if args.Has("key") {
		values["key"] = key
	}
	if key == "" && state != "absent" {
		return Result{Failed: true, Msg: "No key specified when adding a host", Values: values}, nil
	}
	if key != "" && args.Bool("hash_host") {
		var err error
		if key, err = hashHostKey(host, key); err != nil {
			return Result{Failed: true, Msg: err.Error(), Values: values}, nil
		}
	}
	if key != "" && !strings.HasSuffix(key, "\n") {
		key += "\n"
	}
	if key != "" && knownHostsComma.MatchString(host) {
		return Result{Failed: true, Msg: "Comma separated list of names is not supported. Please pass a single name to lookup in the known_hosts file.", Values: values}, nil
	}

	var e expander
	word := e.Word(args.String("path"), true)
	script := e.Prelude() + "printf 'umask\\0'; umask; printf '\\0'\n_mdo_p=" + word +
		"\n_mdo_h=" + conn.Quote(host) + "\n_mdo_k=" + conn.Quote(key) + "\n" +
		readScript(ReadOptions{Content: true, MaxContent: -1, NoChecksum: true, Follow: true}, false, false) + knownHostsScript
	res, err := env.Conn.Exec(ctx, conn.Command{Script: script})
	if err != nil {
		return Result{}, fmt.Errorf("known_hosts: %w", err)
	}
	recs, umask := parseRecords(res.Stdout)
	if len(recs) != 1 {
		return Result{Failed: true, Msg: fmt.Sprintf("known_hosts: unexpected output (rc %d): %s", res.RC, strings.TrimSpace(string(res.Stderr))), Values: values}, nil
	}
	rec := recs[0]
	st, err := rec.state(umask)
	if err != nil {
		return FailResult(err, values)
	}
	path := st.Path
	values["path"] = path
	switch rec["kh"] {
	case "ok":
	case "nokeygen":
		return Result{Failed: true, Msg: `Failed to find required executable "ssh-keygen"`, Values: values}, nil
	case "nomatch":
		return Result{Failed: true, Msg: "Host parameter does not match hashed host field in supplied key", Values: values}, nil
	default:
		return Result{Failed: true, Msg: fmt.Sprintf("known_hosts: %s (rc %d): %s", rec["err"], res.RC, strings.TrimSpace(string(res.Stderr))), Values: values}, nil
	}

	// search_for_host_key
	found, replace, foundLine := false, false, 0
	if rcs, ok := rec["rc"]; ok {
		rc, _ := strconv.Atoi(rcs)
		out, serr := rec["out"], rec["err"]
		switch {
		case out == "" && serr == "" && (rc == 0 || rc == 1):
		case rc != 0:
			return Result{Failed: true, Msg: fmt.Sprintf("ssh-keygen failed (rc=%d, stdout='%s',stderr='%s')", rc, out, serr), Values: values}, nil
		case key == "":
			found = true
		default:
			found, replace, foundLine = searchKnownHosts(out, key)
		}
	}

	// compute_diff
	var lines []string
	if st.Exists {
		lines = strings.SplitAfter(string(st.Content), "\n")
		if lines[len(lines)-1] == "" {
			lines = lines[:len(lines)-1]
		}
	}
	after := append([]string(nil), lines...)
	if (replace || state == "absent") && foundLine >= 1 && foundLine <= len(after) {
		after = append(after[:foundLine-1:foundLine-1], after[foundLine:]...)
	}
	if state == "present" && (replace || foundLine == 0) {
		// Unlike Ansible, a last line without its newline gets one
		// before the key is added after it.
		if n := len(after); n > 0 && !strings.HasSuffix(after[n-1], "\n") {
			after[n-1] += "\n"
		}
		after = append(after, key)
	}
	d := Diff{BeforeHeader: path, AfterHeader: path, Before: string(st.Content), After: strings.Join(after, "")}
	if !st.Exists {
		d.BeforeHeader = "/dev/null"
	}
	r := Result{Values: values}
	if state == "absent" && foundLine == 0 && key != "" {
		r.Values = mergeValues(values, FileValues("path", st))
		return r, nil
	}
	r.Changed = replace || (state == "present") != found
	if env.Diff {
		r.Diff = []Diff{d}
	}
	if env.Check {
		// Ansible's check mode returns changed and the diff only.
		r.Values = nil
		return r, nil
	}
	if !r.Changed {
		r.Values = mergeValues(values, FileValues("path", st))
		return r, nil
	}
	if found && key == "" && state == "absent" {
		script := "_mdo_f=" + conn.Quote(path) + "\nssh-keygen -R " + conn.Quote(host) + " -f \"$_mdo_f\" >/dev/null || exit\n" + statRecord(env.Conn, "_mdo_f")
		res, err := env.Conn.Exec(ctx, conn.Command{Script: script})
		if err != nil {
			return Result{}, fmt.Errorf("known_hosts: %w", err)
		}
		recs, _ := parseRecords(res.Stdout)
		if res.RC != 0 || len(recs) != 1 {
			return Result{Failed: true, Msg: strings.TrimSpace(string(res.Stderr)), Values: mergeValues(values, map[string]any{"rc": res.RC, "stderr": string(res.Stderr)})}, nil
		}
		after, err := namedState(ctx, env.Conn, recs[0], umask)
		if err != nil {
			return FailResult(err, values)
		}
		r.Values = mergeValues(values, FileValues("path", after))
		return r, nil
	}
	if st.Exists && !st.HasContent {
		return Result{Failed: true, Msg: fmt.Sprintf("Failed to read %s: not a readable regular file", path), Values: values}, nil
	}
	wr, err := WriteFile(ctx, env.Conn, []byte(d.After), WriteOptions{Before: st})
	if err != nil {
		if fe, ok := err.(*FileError); ok {
			return Result{Failed: true, Msg: fmt.Sprintf("Failed to write to file %s: %s", path, fe.Msg), Values: values}, nil
		}
		return Result{}, err
	}
	r.Values = mergeValues(values, FileValues("path", wr.After))
	return r, nil
}

// mergeValues returns a copy of a with b's keys added.
func mergeValues(a, b map[string]any) map[string]any {
	out := make(map[string]any, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// searchKnownHosts reads ssh-keygen -F's output for the host as
// search_for_host_key does: the line of an entry with the same key
// (found, no replace), or of the first entry of the same type with
// another key (replace), or none of the key's type (replace, no line).
func searchKnownHosts(out, key string) (found, replace bool, line int) {
	want, ok := normalizeKnownHostsKey(key)
	if !ok {
		return true, true, 0
	}
	foundLine := 0
	lineRe := regexp.MustCompile(`found: line (\d+)`)
	for _, l := range strings.Split(out, "\n") {
		if l == "" {
			continue
		}
		if l[0] == '#' {
			if m := lineRe.FindStringSubmatch(l); m != nil {
				foundLine, _ = strconv.Atoi(m[1])
			}
			continue
		}
		got, ok := normalizeKnownHostsKey(l)
		if !ok {
			continue
		}
		if strings.HasPrefix(want.host, "|1|") && strings.HasPrefix(got.host, "|1|") {
			want.host = got.host // do not change a host hash already there
		}
		if want == got {
			return true, false, foundLine
		}
		if want.typ == got.typ {
			return true, true, foundLine
		}
	}
	return true, true, 0
}

type knownHostsKey struct{ options, host, typ, key string }

// normalizeKnownHostsKey splits a known_hosts line or a user's key into
// its marker, host, type and key fields, dropping a trailing comment.
func normalizeKnownHostsKey(s string) (knownHostsKey, bool) {
	f := strings.Fields(s)
	var k knownHostsKey
	if len(f) > 0 && strings.HasPrefix(f[0], "@") {
		k.options, f = f[0], f[1:]
	}
	if len(f) < 3 {
		return k, false
	}
	k.host, k.typ, k.key = f[0], f[1], f[2]
	return k, true
}

// hashHostKey replaces the host field of key with |1|salt|hash as
// ssh-keygen -H writes it (HMAC-SHA1 of the host under a random salt).
func hashHostKey(host, key string) (string, error) {
	salt := make([]byte, 20)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	m := hmac.New(sha1.New, salt)
	m.Write([]byte(host))
	parts := strings.Fields(key)
	i := 0
	if len(parts) > 0 && strings.HasPrefix(parts[0], "@") {
		i = 1
	}
	if len(parts) <= i {
		return "", fmt.Errorf("key has no host field: %q", key)
	}
	parts[i] = "|1|" + base64.StdEncoding.EncodeToString(salt) + "|" + base64.StdEncoding.EncodeToString(m.Sum(nil))
	return strings.Join(parts, " "), nil
}
