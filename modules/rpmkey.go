package modules

import (
	"context"
	"encoding/base64"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// RpmKey is the rpm_key module (ansible.builtin.rpm_key): it imports a
// GPG key into the rpm database or removes one, as ansible-core's module
// does with rpm and gpg on the target. key is a URL (downloaded on the
// target with curl or wget), a key id (8 or more hex digits, `0x`
// allowed) or a file on the target. A key counts as imported when the id
// (the file's primary key id, or the id given) occurs in a key id of the
// public keys `rpm -q gpg-pubkey --qf %{description}` prints; with
// fingerprint, every fingerprint given must be one of the file's (primary
// key or subkey) before it is imported.
//
// One round trip reads the database (and the key's id and fingerprints);
// a change costs one more. gpg runs in a temporary home, so nothing is left
// in ~/.gnupg.
type RpmKey struct{}

var _ Module = RpmKey{}

// Spec describes rpm_key's arguments.
func (RpmKey) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "state", Type: TypeStr, Default: "present", Choices: []string{"absent", "present"}},
			{Name: "key", Type: TypeStr, Required: true},
			{Name: "fingerprint", Type: TypeList},
			{Name: "validate_certs", Type: TypeBool, Default: true},
		},
		CheckMode: true,
	}
}

// rpmkeyIDRe is the module's is_keyid (re.match: a prefix match).
var rpmkeyIDRe = regexp.MustCompile(`^(?i)(0x)?[0-9a-f]{8}`)

// rpmkeyNormalize is the module's normalize_keyid.
func rpmkeyNormalize(id string) string {
	id = strings.ToUpper(strings.TrimSpace(id))
	return strings.TrimPrefix(id, "0X")
}

// rpmkeyImported is the module's is_key_imported over gpg's colon listing
// of the imported keys: some line's fifth field contains id.
func rpmkeyImported(listing, id string) bool {
	for _, line := range strings.Split(listing, "\n") {
		if f := strings.Split(line, ":"); len(f) > 4 && strings.Contains(f[4], id) {
			return true
		}
	}
	return false
}

// rpmkeyFirstPub returns the key id of the first pub line, as getkeyid.
func rpmkeyFirstPub(listing string) (string, bool) {
	for _, line := range strings.Split(listing, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "pub:") {
			if f := strings.Split(line, ":"); len(f) > 4 {
				return f[4], true
			}
		}
	}
	return "", false
}

// rpmkeyFingerprints returns the fingerprints of the fpr lines, sorted.
func rpmkeyFingerprints(listing string) []string {
	seen := map[string]bool{}
	var out []string
	for _, line := range strings.Split(listing, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "fpr:") {
			if f := strings.Split(line, ":"); len(f) > 9 && !seen[f[9]] {
				seen[f[9]] = true
				out = append(out, f[9])
			}
		}
	}
	sort.Strings(out)
	return out
}

// rpmkeyPySet renders strings as Python prints a set of them (sorted here).
func rpmkeyPySet(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = "'" + v + "'"
	}
	return "{" + strings.Join(q, ", ") + "}"
}

// Run imports or removes the key.
func (RpmKey) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	key, state := args.String("key"), args.String("state")
	var wantFP []string
	for _, f := range args.Strings("fingerprint") {
		wantFP = append(wantFP, strings.ToUpper(strings.ReplaceAll(f, " ", "")))
	}
	isURL := strings.Contains(key, "://")
	isID := !isURL && rpmkeyIDRe.MatchString(key)

	var sc strings.Builder
	sc.WriteString(`export LANG=C LC_ALL=C LC_MESSAGES=C
command -v rpm >/dev/null 2>&1 || { _mdo_f fail "Failed to find required executable \"rpm\" in paths: $PATH"; exit 0; }
if command -v gpg >/dev/null 2>&1; then _mdo_g=gpg; elif command -v gpg2 >/dev/null 2>&1; then _mdo_g=gpg2
else _mdo_f fail "Failed to find required executable \"gpg2\" in paths: $PATH"; exit 0; fi
_mdo_h=$(mktemp -d) || { _mdo_f fail "mktemp failed"; exit 0; }
_mdo_t=
trap 'rm -rf "$_mdo_h" ${_mdo_t:+"$_mdo_t"}' EXIT
_mdo_gpg() { "$_mdo_g" --homedir "$_mdo_h" --no-tty --batch --with-colons --fixed-list-mode "$@"; }
_mdo_run() { _mdo_o=$("$@" 2>"$_mdo_h/err") || { _mdo_f fail "$(cat "$_mdo_h/err")"; exit 0; }; }
`)
	fmt.Fprintf(&sc, "_mdo_k=%s\n", conn.Quote(key))
	switch {
	case isURL:
		k, nc := "", ""
		if !args.Bool("validate_certs") {
			k, nc = " -k", " --no-check-certificate"
		}
		sc.WriteString(`_mdo_t=$(mktemp) || { _mdo_f fail "mktemp failed"; exit 0; }
if command -v curl >/dev/null 2>&1; then _mdo_o=$(curl -fsSL` + k + ` -o "$_mdo_t" -- "$_mdo_k" 2>&1)
elif command -v wget >/dev/null 2>&1; then _mdo_o=$(wget -q` + nc + ` -O "$_mdo_t" -- "$_mdo_k" 2>&1)
else _mdo_o="rpm_key needs curl or wget on the target to download the key"; false; fi || { _mdo_f fail "failed to fetch key at $_mdo_k , error was: $_mdo_o"; exit 0; }
sed -n '/-----BEGIN PGP PUBLIC KEY BLOCK-----/,/-----END PGP PUBLIC KEY BLOCK-----/p' "$_mdo_t" | grep -q -- '-----END PGP PUBLIC KEY BLOCK-----' || { _mdo_f fail "Not a public key: $_mdo_k"; exit 0; }
_mdo_f keydata "$(base64 <"$_mdo_t" | tr -d '\n')"
_mdo_f file "$_mdo_t"
`)
	case isID:
	default:
		sc.WriteString(`[ -f "$_mdo_k" ] || { _mdo_f fail "Not a valid key $_mdo_k"; exit 0; }
_mdo_t=
_mdo_f file "$_mdo_k"
`)
	}
	if !isID {
		src := `"$_mdo_k"`
		if isURL {
			src = `"$_mdo_t"`
		}
		sc.WriteString("_mdo_run _mdo_gpg " + src + "\n_mdo_f keyinfo \"$_mdo_o\"\n")
		if len(wantFP) > 0 {
			sc.WriteString("_mdo_run _mdo_gpg --import --import-options show-only --dry-run " + src + "\n_mdo_f fprinfo \"$_mdo_o\"\n")
		}
	}
	sc.WriteString(`if rpm -q gpg-pubkey >/dev/null 2>&1; then
  _mdo_o=$(rpm -q gpg-pubkey --qf "%{description}" 2>"$_mdo_h/err" | _mdo_gpg - 2>>"$_mdo_h/err") || { _mdo_f fail "$(cat "$_mdo_h/err")"; exit 0; }
  _mdo_f imported "$_mdo_o"
fi
_mdo_f end 1
`)
	f, res, err := runScript(ctx, env, "rpm_key", sc.String(), nil)
	if err != nil {
		return Result{}, err
	}
	if m, ok := f.get("fail"); ok {
		return Result{Failed: true, Msg: m}, nil
	}
	if _, ok := f.get("end"); !ok {
		return scriptFailure("rpm_key", res), nil
	}
	keyid := key
	if !isID {
		id, ok := rpmkeyFirstPub(f.str("keyinfo"))
		if !ok {
			return Result{Failed: true, Msg: "Unexpected gpg output"}, nil
		}
		keyid = id
	}
	keyid = rpmkeyNormalize(keyid)
	imported := false
	if listing, ok := f.get("imported"); ok {
		imported = rpmkeyImported(listing, keyid)
	}

	var script string
	var stdin []byte
	switch {
	case state == "present" && imported, state == "absent" && !imported:
		return Result{}, nil
	case state == "present":
		if isID {
			return Result{Failed: true, Msg: "When importing a key, a valid file must be given"}, nil
		}
		if len(wantFP) > 0 {
			have := rpmkeyFingerprints(f.str("fprinfo"))
			if len(have) == 0 {
				return Result{Failed: true, Msg: "Unexpected gpg output"}, nil
			}
			sort.Strings(wantFP)
			for _, w := range wantFP {
				if !contains(have, w) {
					return Result{Failed: true, Msg: fmt.Sprintf("The specified fingerprint, '%s', does not match any key fingerprints in '%s'", rpmkeyPySet(wantFP), rpmkeyPySet(have))}, nil
				}
			}
		}
		if isURL {
			b, err := base64.StdEncoding.DecodeString(f.str("keydata"))
			if err != nil {
				return Result{Failed: true, Msg: "Not a public key: " + key}, nil
			}
			stdin = b
			script = `_mdo_t=$(mktemp) || { _mdo_f fail "mktemp failed"; exit 0; }
trap 'rm -f "$_mdo_t"' EXIT
cat >"$_mdo_t"
_mdo_o=$(rpm --import "$_mdo_t" 2>&1 >/dev/null) || { _mdo_f fail "$_mdo_o"; exit 0; }
`
		} else {
			script = "_mdo_o=$(rpm --import " + conn.Quote(f.str("file")) + " 2>&1 >/dev/null) || { _mdo_f fail \"$_mdo_o\"; exit 0; }\n"
		}
	default:
		short := keyid
		if len(short) > 8 {
			short = short[len(short)-8:]
		}
		script = "_mdo_o=$(rpm --erase --allmatches " + conn.Quote("gpg-pubkey-"+strings.ToLower(short)) + " 2>&1 >/dev/null) || { _mdo_f fail \"$_mdo_o\"; exit 0; }\n"
	}
	if env.Check {
		return Result{Changed: true}, nil
	}
	f, res, err = runScript(ctx, env, "rpm_key", "export LANG=C LC_ALL=C LC_MESSAGES=C\n"+script+"_mdo_f end 1\n", stdin)
	if err != nil {
		return Result{}, err
	}
	if m, ok := f.get("fail"); ok {
		return Result{Failed: true, Msg: m}, nil
	}
	if _, ok := f.get("end"); !ok {
		return scriptFailure("rpm_key", res), nil
	}
	return Result{Changed: true}, nil
}
