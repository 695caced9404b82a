package modules

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// AptKey is the apt_key module: it adds a key to apt's keyring (from a
// file, inline data, a URL or a keyserver) or removes one, with apt-key
// and gpg on the target as Ansible's apt_key does. A key is identified by
// its id: 8 hex digits compare with the short ids of the keyring's keys,
// longer ones by their last 16 digits (the long id); without an id, the
// first key of file, data or url is meant.
//
// A call takes one round trip to list the keyring (and read the id of the
// key given) and, when something changes, one more to change it and list
// the keyring again.
type AptKey struct{}

var _ Module = AptKey{}

// Spec describes apt_key's arguments.
func (AptKey) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "id", Type: TypeStr},
			{Name: "url", Type: TypeStr},
			{Name: "data", Type: TypeStr},
			{Name: "file", Type: TypePath},
			{Name: "keyring", Type: TypePath},
			{Name: "validate_certs", Type: TypeBool, Default: true},
			{Name: "keyserver", Type: TypeStr},
			{Name: "state", Type: TypeStr, Default: "present", Choices: []string{"absent", "present"}},
		},
		CheckMode:         true,
		MutuallyExclusive: [][]string{{"data", "file", "keyserver", "url"}},
	}
}

// aptkeyParseID is Ansible's parse_key_id: the id without 0x, upper case,
// its last 8 digits (for apt-key del) and its last 16 (to compare with
// the listed long ids).
func aptkeyParseID(id string) (short, fp, full string, ok bool) {
	full = strings.ToUpper(id)
	full = strings.TrimPrefix(full, "0X")
	if !aptkeyHex(full) {
		return "", "", "", false
	}
	n := len(full)
	if n != 8 && n != 16 && n <= 16 {
		return "", "", "", false
	}
	short, fp = full[n-8:], full
	if n > 16 {
		fp = full[n-16:]
	}
	return short, fp, full, true
}

func aptkeyHex(s string) bool {
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return s != ""
}

// aptkeyParseKeys is Ansible's parse_output_for_keys: the ids of the pub
// and sub lines that are not expired, from apt-key's listing (`pub
// rsa4096/ID ...`) or gpg's colon format (`pub:-:...:ID:...`).
func aptkeyParseKeys(out string, short bool) []string {
	var found []string
	for _, line := range strings.Split(out, "\n") {
		if !(strings.HasPrefix(line, "pub") || strings.HasPrefix(line, "sub")) || strings.Contains(line, "expired") {
			continue
		}
		var code string
		tokens := strings.Fields(line)
		if len(tokens) > 1 && strings.Count(tokens[1], "/") == 1 {
			code = strings.SplitN(tokens[1], "/", 2)[1]
		} else if cols := strings.Split(line, ":"); len(cols) > 4 {
			code = cols[4]
		} else {
			continue
		}
		if short && len(code) > 8 {
			code = code[len(code)-8:]
		}
		found = append(found, code)
	}
	return found
}

// aptkeyCmd is the apt-key command with --keyring when one is given.
func aptkeyCmd(args Args) string {
	if args.Has("keyring") {
		var e expander
		return "apt-key --keyring " + e.Word(args.String("keyring"), false)
	}
	return "apt-key"
}

// aptkeyPrelude checks for the tools and defines _mdo_list, which prints
// the keyring's listing as the field KEY, or fails.
func aptkeyPrelude(args Args) string {
	return `export LANG=C LC_ALL=C LC_MESSAGES=C
for _mdo_b in apt-key gpg; do command -v $_mdo_b >/dev/null 2>&1 || { _mdo_f fail "Failed to find required executable \"$_mdo_b\" in paths: $PATH"; exit 0; }; done
_mdo_list() { _mdo_o=$(` + aptkeyCmd(args) + ` adv --list-public-keys --keyid-format=long 2>&1) || { _mdo_f fail "Unable to list public keys: $_mdo_o"; exit 0; }; _mdo_f "$1" "$_mdo_o"; }
`
}

// aptkeyFetch returns shell code downloading url into the file "$_mdo_t"
// with curl or wget, failing as Ansible's download_key does.
func aptkeyFetch(args Args) string {
	k, nc := "", ""
	if !args.Bool("validate_certs") {
		k, nc = " -k", " --no-check-certificate"
	}
	u := conn.Quote(args.String("url"))
	return `_mdo_t=$(mktemp) || { _mdo_f fail "mktemp failed"; exit 0; }
trap 'rm -f "$_mdo_t"' EXIT
if command -v curl >/dev/null 2>&1; then _mdo_o=$(curl -fsSL` + k + ` -o "$_mdo_t" -- ` + u + ` 2>&1)
elif command -v wget >/dev/null 2>&1; then _mdo_o=$(wget -q` + nc + ` -O "$_mdo_t" -- ` + u + ` 2>&1)
else _mdo_f fail "apt_key needs curl or wget on the target to download ` + strings.ReplaceAll(args.String("url"), `"`, "") + `"; exit 0; fi || { _mdo_f fail "Failed to download key at "` + u + `": $_mdo_o"; exit 0; }
`
}

// Run adds or removes the key.
func (AptKey) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	id, url, data, file, keyserver := args.String("id"), args.String("url"), args.String("data"), args.String("file"), args.String("keyserver")
	hasData := args.Has("data")
	if id == "" && keyserver != "" {
		return Result{Failed: true, Msg: "Missing key_id, required with keyserver."}, nil
	}

	// Round trip 1: the keyring's keys, and the id of the key given.
	var sc strings.Builder
	var stdin []byte
	sc.WriteString(aptkeyPrelude(args))
	if id == "" && (url != "" || file != "" || hasData) {
		src := ""
		switch {
		case url != "":
			sc.WriteString(aptkeyFetch(args))
			sc.WriteString("_mdo_f keydata \"$(base64 <\"$_mdo_t\" | tr -d '\\n')\"\n")
			src = `<"$_mdo_t"`
		case file != "":
			var e expander
			w := e.Word(file, true)
			sc.WriteString(e.Prelude())
			src = "<" + w
		default:
			stdin = []byte(data)
		}
		// gpg in a home of its own, so that reading a key file leaves no
		// ~/.gnupg behind.
		fmt.Fprintf(&sc, `_mdo_h=$(mktemp -d) || { _mdo_f fail "mktemp failed"; exit 0; }
_mdo_o=$(gpg --homedir "$_mdo_h" --batch --with-colons - %s 2>&1); _mdo_r=$?; rm -rf "$_mdo_h"
[ $_mdo_r -eq 0 ] || { _mdo_f fail "Unable to extract key from '%s': $_mdo_o"; exit 0; }
_mdo_f idout "$_mdo_o"
`, src, map[bool]string{true: "inline data", false: strings.ReplaceAll(file+url, "'", "")}[hasData])
	}
	sc.WriteString("_mdo_list before\n")
	f, res, err := runScript(ctx, env, "apt_key", sc.String(), stdin)
	if err != nil {
		return Result{}, err
	}
	if m, ok := f.get("fail"); ok {
		return Result{Failed: true, Msg: strings.TrimSpace(m)}, nil
	}
	before, ok := f.get("before")
	if !ok {
		return scriptFailure("apt_key", res), nil
	}
	if kd, ok := f.get("keydata"); ok {
		b, err := base64.StdEncoding.DecodeString(kd)
		if err != nil {
			return Result{Failed: true, Msg: "error getting key id from url: " + url}, nil
		}
		stdin, hasData = b, true
	} else if hasData {
		stdin = []byte(data)
	}
	if out, ok := f.get("idout"); ok {
		if keys := aptkeyParseKeys(out, false); len(keys) > 0 {
			id = keys[0]
		}
	}

	r := map[string]any{"id": id}
	short, fp, full, ok := aptkeyParseID(id)
	if !ok {
		return Result{Failed: true, Msg: "Invalid key_id", Values: r}, nil
	}
	r["short_id"], r["fp"], r["key_id"] = short, fp, full
	shortFormat := len(full) == 8
	keys := aptkeyParseKeys(before, shortFormat)
	r["before"] = aptkeyAny(keys)
	want := fp
	if shortFormat {
		want = short
	}
	state := args.String("state")
	present := contains(keys, want)
	if state == "present" && present || state == "absent" && !contains(keys, fp) {
		return Result{Values: r}, nil
	}
	if env.Check {
		return Result{Changed: true, Values: r}, nil
	}

	// Round trip 2: change the keyring and list it again.
	sc.Reset()
	sc.WriteString(aptkeyPrelude(args))
	cmd := aptkeyCmd(args)
	var send []byte
	switch {
	case state == "absent":
		// The short id: apt-key del of old apt versions wants 8 digits.
		fmt.Fprintf(&sc, "_mdo_o=$(%s del %s 2>&1) || { _mdo_f fail \"Unable to remove a key with id %s: $_mdo_o\"; exit 0; }\n", cmd, short, short)
	case file != "":
		var e expander
		w := e.Word(file, true)
		sc.WriteString(e.Prelude())
		fmt.Fprintf(&sc, "_mdo_o=$(%s add %s 2>&1) || { _mdo_f fail \"Unable to add a key from file %s: $_mdo_o\"; exit 0; }\n", cmd, w, strings.ReplaceAll(file, `"`, ""))
	case keyserver != "":
		ks := conn.Quote(keyserver)
		sc.WriteString(`_mdo_p=; for _mdo_v in HTTPS_PROXY https_proxy HTTP_PROXY http_proxy; do eval "_mdo_p=\${$_mdo_v-}"; [ -n "$_mdo_p" ] && break; done
_mdo_i=0; while :; do
  if [ -n "$_mdo_p" ]; then _mdo_o=$(` + cmd + ` adv --no-tty --keyserver ` + ks + ` --keyserver-options "http-proxy=$_mdo_p" --recv ` + full + ` 2>&1)
  else _mdo_o=$(` + cmd + ` adv --no-tty --keyserver ` + ks + ` --recv ` + full + ` 2>&1); fi && break
  _mdo_r=$?; _mdo_i=$((_mdo_i + 1))
  if [ $_mdo_i -ge 5 ]; then
    case $_mdo_r:$_mdo_o in 2:*"not found on keyserver"*) _mdo_f fail "Key ` + full + ` not found on keyserver "` + ks + `; exit 0 ;; esac
    _mdo_f fail "Error fetching key ` + full + ` from keyserver: "` + ks + `" (rc $_mdo_r): $_mdo_o"; exit 0
  fi
done
`)
	case hasData:
		send = stdin
		fmt.Fprintf(&sc, "_mdo_o=$(%s add - 2>&1) || { _mdo_f fail \"Unable to add a key from binary data: $_mdo_o\"; exit 0; }\n", cmd)
	case url != "":
		sc.WriteString(aptkeyFetch(args))
		fmt.Fprintf(&sc, "_mdo_o=$(%s add - <\"$_mdo_t\" 2>&1) || { _mdo_f fail \"Unable to add a key from binary data: $_mdo_o\"; exit 0; }\n", cmd)
	default:
		return Result{Failed: true, Msg: "No key to add ... how did i get here?!?!", Values: r}, nil
	}
	sc.WriteString("_mdo_list after\n")
	f, res, err = runScript(ctx, env, "apt_key", sc.String(), send)
	if err != nil {
		return Result{}, err
	}
	if m, ok := f.get("fail"); ok {
		return Result{Failed: true, Msg: strings.TrimSpace(m), Values: r}, nil
	}
	after, ok := f.get("after")
	if !ok {
		return scriptFailure("apt_key", res), nil
	}
	keys2 := aptkeyParseKeys(after, shortFormat)
	r["after"] = aptkeyAny(keys2)
	const noError = "apt-key did not return an error, but %s (check that the id is correct and *not* a subkey)"
	if state == "present" && !contains(keys2, want) {
		return Result{Failed: true, Msg: fmt.Sprintf(noError, "failed to add the key"), Values: r}, nil
	}
	if state == "absent" && contains(keys2, fp) {
		return Result{Failed: true, Msg: fmt.Sprintf(noError, "the key was not removed"), Values: r}, nil
	}
	return Result{Changed: true, Values: r}, nil
}

// aptkeyAny returns ids as a list of values.
func aptkeyAny(ids []string) []any {
	out := make([]any, len(ids))
	for i, s := range ids {
		out[i] = s
	}
	return out
}
