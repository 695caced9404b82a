package modules

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// AuthorizedKey is the authorized_key module: it adds or removes SSH public
// keys in a user's authorized_keys, keeping other lines and their order as
// Ansible does. One exec reads the account and the file; a change costs a
// second exec that creates ~/.ssh (manage_dir) and replaces the file
// atomically, mode 0600, owned by the user.
type AuthorizedKey struct{}

var _ Module = AuthorizedKey{}

// Spec describes authorized_key's arguments.
func (AuthorizedKey) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "user", Type: TypeStr, Required: true},
			{Name: "key", Type: TypeStr, Required: true},
			{Name: "path", Type: TypePath},
			{Name: "manage_dir", Type: TypeBool, Default: true},
			{Name: "state", Type: TypeStr, Default: "present", Choices: []string{"absent", "present"}},
			{Name: "key_options", Type: TypeStr},
			{Name: "exclusive", Type: TypeBool, Default: false},
			{Name: "validate_certs", Type: TypeBool, Default: true},
			{Name: "comment", Type: TypeStr},
			{Name: "follow", Type: TypeBool, Default: false},
		},
		CheckMode: true,
	}
}

// sshKeyTypes are the key types authorized_keys lines may carry.
var sshKeyTypes = map[string]bool{
	"ssh-rsa": true, "ssh-dss": true, "ssh-ed25519": true, "ssh-ed448": true,
	"ecdsa-sha2-nistp256": true, "ecdsa-sha2-nistp384": true, "ecdsa-sha2-nistp521": true,
	"sk-ecdsa-sha2-nistp256@openssh.com": true, "sk-ssh-ed25519@openssh.com": true,
	"ssh-rsa-cert-v01@openssh.com": true, "ssh-dss-cert-v01@openssh.com": true, "ssh-ed25519-cert-v01@openssh.com": true,
	"ecdsa-sha2-nistp256-cert-v01@openssh.com": true, "ecdsa-sha2-nistp384-cert-v01@openssh.com": true,
	"ecdsa-sha2-nistp521-cert-v01@openssh.com": true, "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com": true,
	"sk-ssh-ed25519-cert-v01@openssh.com": true,
}

// authKey is one parsed authorized_keys line. A line that is not a key
// (comment, blank, garbage) has only raw set and is written back as is.
type authKey struct {
	blob, typ, options, comment string
	raw                         string
	rank                        int
}

// line serializes the key as Ansible does: options, type, key, comment.
func (k authKey) line() string {
	if k.blob == "" {
		return k.raw
	}
	parts := []string{}
	for _, p := range []string{k.options, k.typ, k.blob, k.comment} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, " ")
}

// splitKeyLine splits a line into words; double-quoted parts (option
// values) keep their spaces.
func splitKeyLine(s string) []string {
	var out []string
	var cur strings.Builder
	quoted, in := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			quoted = !quoted
			cur.WriteByte(c)
			in = true
		case (c == ' ' || c == '\t') && !quoted:
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			if c == '\\' && quoted && i+1 < len(s) {
				cur.WriteByte(c)
				i++
				c = s[i]
			}
			cur.WriteByte(c)
			in = true
		}
	}
	if in {
		out = append(out, cur.String())
	}
	return out
}

// parseAuthKey parses one line; ok is false for lines that are not keys.
func parseAuthKey(line string) (authKey, bool) {
	l := strings.TrimSpace(line)
	if l == "" || strings.HasPrefix(l, "#") {
		return authKey{raw: line}, false
	}
	w := splitKeyLine(l)
	for i, t := range w {
		if sshKeyTypes[t] && i+1 < len(w) {
			return authKey{
				options: normalizeKeyOptions(strings.Join(w[:i], " ")),
				typ:     t, blob: w[i+1],
				comment: strings.Join(w[i+2:], " "),
				raw:     line,
			}, true
		}
	}
	return authKey{raw: line}, false
}

// normalizeKeyOptions rewrites an option list the way Ansible's
// parseoptions/serialize do: comma-separated, without spaces around.
func normalizeKeyOptions(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	var out []string
	var cur strings.Builder
	quoted := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			quoted = !quoted
			cur.WriteByte(c)
		case c == ',' && !quoted:
			if t := strings.TrimSpace(cur.String()); t != "" {
				out = append(out, t)
			}
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	if t := strings.TrimSpace(cur.String()); t != "" {
		out = append(out, t)
	}
	return strings.Join(out, ",")
}

// authKeysEdit applies the requested keys to the file's lines as Ansible's
// authorized_key does. It returns the new content and whether it changed,
// or an error message for an invalid key.
func authKeysEdit(existing string, keyArg string, present, exclusive bool, keyOptions, comment *string) (string, bool, string) {
	keys := map[string]authKey{} // by blob, or by raw line for non-keys
	rank := 0
	for _, l := range SplitLines(existing) {
		k, ok := parseAuthKey(l)
		k.rank = rank
		rank++
		if ok {
			keys[k.blob] = k
		} else {
			keys["\x00"+l] = k
		}
	}
	changed := false
	want := map[string]bool{}
	for _, l := range strings.Split(keyArg, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		k, ok := parseAuthKey(l)
		if !ok {
			return "", false, fmt.Sprintf("invalid key specified: %s", l)
		}
		if keyOptions != nil {
			k.options = normalizeKeyOptions(*keyOptions)
		}
		if comment != nil {
			k.comment = *comment
		}
		old, exists := keys[k.blob]
		matched := exists && old.typ == k.typ && old.options == k.options && old.comment == k.comment
		if present {
			want[k.blob] = true
			if exists && !matched {
				delete(keys, k.blob)
				changed = true
			}
			if !matched {
				k.rank = rank
				rank++
				keys[k.blob] = k
				changed = true
			}
		} else if exists {
			// Ansible removes a key only when it matches exactly; a key
			// with other options stays (that is its behaviour).
			if matched {
				delete(keys, k.blob)
				changed = true
			}
		}
	}
	if present && exclusive {
		for id := range keys {
			if !want[id] {
				delete(keys, id)
				changed = true
			}
		}
	}
	list := make([]authKey, 0, len(keys))
	for _, k := range keys {
		list = append(list, k)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].rank < list[j].rank })
	var b strings.Builder
	for _, k := range list {
		b.WriteString(k.line())
		b.WriteString("\n")
	}
	return b.String(), changed, ""
}

// Run adds or removes the keys.
func (AuthorizedKey) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	user := args.String("user")
	values := map[string]any{
		"user": user, "key": args.String("key"), "state": args.String("state"),
		"manage_dir": args.Bool("manage_dir"), "exclusive": args.Bool("exclusive"),
		"validate_certs": args.Bool("validate_certs"), "follow": args.Bool("follow"),
		"key_options": nilIfAbsent(args, "key_options"), "comment": nilIfAbsent(args, "comment"),
		"path": nilIfAbsent(args, "path"),
	}
	key := args.String("key")
	if strings.HasPrefix(key, "http://") || strings.HasPrefix(key, "https://") {
		// As Ansible does, the keys are fetched by the target.
		k := ""
		if !args.Bool("validate_certs") {
			k = " -k"
		}
		res, err := env.Conn.Exec(ctx, conn.Command{Script: fmt.Sprintf(`_mdo_url=%s
if command -v curl >/dev/null 2>&1; then exec curl -fsSL%s --max-time 30 "$_mdo_url"
elif command -v wget >/dev/null 2>&1; then exec wget -q -T 30 -O - "$_mdo_url"
else echo "authorized_key needs curl or wget on the target to fetch a key URL" >&2; exit 127; fi`, conn.Quote(key), k)})
		if err != nil {
			return Result{}, fmt.Errorf("authorized_key: fetch %s: %w", key, err)
		}
		if res.RC != 0 {
			return Result{Failed: true, Msg: fmt.Sprintf("Error getting key from: %s: %s", key, strings.TrimSpace(string(res.Stderr))), Values: values}, nil
		}
		key = string(res.Stdout)
	}
	var sc strings.Builder
	fmt.Fprintf(&sc, "_mdo_u=%s\n", conn.Quote(user))
	sc.WriteString("_mdo_p=$(getent passwd \"$_mdo_u\") || { _mdo_f nouser 1; exit 0; }\n_mdo_f passwd \"$_mdo_p\"\n")
	sc.WriteString("_mdo_h=${_mdo_p#*:*:*:*:*:}; _mdo_h=${_mdo_h%%:*}\n")
	if p := args.String("path"); p != "" {
		var e expander
		w := e.Word(p, true)
		sc.WriteString(e.Prelude())
		fmt.Fprintf(&sc, "_mdo_k=%s\n", w)
	} else {
		sc.WriteString("_mdo_k=$_mdo_h/.ssh/authorized_keys\n")
	}
	if args.Bool("follow") {
		sc.WriteString("_mdo_k=$(readlink -f -- \"$_mdo_k\" || echo \"$_mdo_k\")\n")
	}
	sc.WriteString(`_mdo_f keyfile "$_mdo_k"
if [ -f "$_mdo_k" ]; then printf 'content\0'; cat -- "$_mdo_k" || exit 1; printf '\0'; fi
_mdo_f end 1
`)
	f, res, err := runScript(ctx, env, "authorized_key", sc.String(), nil)
	if err != nil {
		return Result{}, err
	}
	if _, ok := f.get("nouser"); ok {
		return Result{Failed: true, Msg: fmt.Sprintf("Failed to lookup user %s: getpwnam(): name not found: '%s'", user, user), Values: values}, nil
	}
	if _, ok := f.get("end"); !ok {
		return scriptFailure("authorized_key", res), nil
	}
	pw := strings.Split(f.str("passwd"), ":")
	if len(pw) < 7 {
		return Result{Failed: true, Msg: "unexpected passwd entry " + f.str("passwd"), Values: values}, nil
	}
	keyfile := f.str("keyfile")
	values["keyfile"] = keyfile
	before := f.str("content")
	var opts, comment *string
	if args.Has("key_options") {
		s := args.String("key_options")
		opts = &s
	}
	if args.Has("comment") {
		s := args.String("comment")
		comment = &s
	}
	after, changed, bad := authKeysEdit(before, key, args.String("state") == "present", args.Bool("exclusive"), opts, comment)
	if bad != "" {
		return Result{Failed: true, Msg: bad, Values: values}, nil
	}
	r := Result{Changed: changed, Values: values}
	if env.Diff && changed {
		r.Diff = []Diff{{BeforeHeader: keyfile, AfterHeader: keyfile, Before: before, After: after}}
	}
	if !changed || env.Check {
		return r, nil
	}
	uid, _ := strconv.Atoi(pw[2])
	gid, _ := strconv.Atoi(pw[3])
	mkdir := ""
	if args.Bool("manage_dir") {
		mkdir = "0700"
	}
	if msg, err := sysWriteFile(ctx, env, keyfile, []byte(after), "0600", fmt.Sprintf("%d:%d", uid, gid), mkdir); err != nil {
		return Result{}, err
	} else if msg != "" {
		return Result{Failed: true, Msg: msg, Values: values}, nil
	}
	return r, nil
}

func nilIfAbsent(args Args, name string) any {
	if !args.Has(name) {
		return nil
	}
	return args[name]
}

// sysWriteFile replaces p with content (see sysWriteScript) in one exec
// and returns the remote message when that failed.
func sysWriteFile(ctx context.Context, env *Env, p string, content []byte, mode, owner, mkdirMode string) (string, error) {
	f, res, err := runScript(ctx, env, "write "+p, sysWriteScript(p, mode, owner, mkdirMode), content)
	if err != nil {
		return "", err
	}
	if msg, ok := f.get("werr"); ok {
		return msg, nil
	}
	if _, ok := f.get("written"); !ok {
		return fmt.Sprintf("write %s: %s", p, strings.TrimSpace(string(res.Stderr))), nil
	}
	return "", nil
}

// sysWriteScript returns shell code that writes its standard input to p
// atomically: when mkdirMode is set the parent directory is created with
// that mode and owner; a temporary file in the same directory gets the
// content, the mode and owner (mode "" keeps an existing file's mode and
// owner, 0644 for a new one), then is renamed over p. It prints the field
// written, or werr with the message and exits, leaving p untouched.
func sysWriteScript(p, mode, owner, mkdirMode string) string {
	var sc strings.Builder
	fmt.Fprintf(&sc, "_mdo_p=%s\n_mdo_d=%s\n", conn.Quote(p), conn.Quote(path.Dir(p)))
	sc.WriteString("_mdo_w() { _mdo_f werr \"$1\"; exit 0; }\n")
	if mkdirMode != "" {
		fmt.Fprintf(&sc, "if [ ! -d \"$_mdo_d\" ]; then _mdo_o=$(mkdir -m %s -- \"$_mdo_d\" 2>&1 && chown %s -- \"$_mdo_d\" 2>&1) || _mdo_w \"mkdir $_mdo_d: $_mdo_o\"; fi\n", mkdirMode, conn.Quote(owner))
	}
	sc.WriteString("_mdo_t=$(mktemp \"$_mdo_d/.mdo-tmp-XXXXXXXX\" 2>&1) || _mdo_w \"mktemp in $_mdo_d: $_mdo_t\"\ntrap 'rm -f \"$_mdo_t\"' EXIT\n")
	sc.WriteString("cat >\"$_mdo_t\" || _mdo_w \"write $_mdo_t\"\n")
	if mode == "" {
		sc.WriteString("if [ -e \"$_mdo_p\" ]; then _mdo_o=$(chmod --reference=\"$_mdo_p\" \"$_mdo_t\" 2>&1 && chown --reference=\"$_mdo_p\" \"$_mdo_t\" 2>&1); else _mdo_o=$(chmod 0644 \"$_mdo_t\" 2>&1); fi || _mdo_w \"chmod $_mdo_p: $_mdo_o\"\n")
	} else {
		fmt.Fprintf(&sc, "_mdo_o=$(chmod %s \"$_mdo_t\" 2>&1 && chown %s \"$_mdo_t\" 2>&1) || _mdo_w \"chmod/chown $_mdo_p: $_mdo_o\"\n", mode, conn.Quote(owner))
	}
	sc.WriteString("_mdo_o=$(mv -f \"$_mdo_t\" \"$_mdo_p\" 2>&1) || _mdo_w \"rename to $_mdo_p: $_mdo_o\"\n_mdo_f written 1\n")
	return sc.String()
}
