package modules

import (
	"bytes"
	"context"
	"encoding/pem"
	"fmt"
	"strconv"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// OpensslPrivatekey is community.crypto's openssl_privatekey: it keeps a
// private key file, generated on the target by its openssl CLI (the key
// never leaves the host but for return_content and the atomic write, which
// feeds it through the connection's stdin). The existing key is read in
// one exec and inspected by `openssl pkey` in a second (its passphrase on
// stdin); a new key costs one exec to generate and one to write.
type OpensslPrivatekey struct{}

var _ Module = OpensslPrivatekey{}

var privateKeyTypes = []string{"DSA", "ECC", "Ed25519", "Ed448", "RSA", "X25519", "X448"}

func eccCurveNames() []string {
	out := make([]string, len(eccCurves))
	for i, c := range eccCurves {
		out[i] = c.name
	}
	return out
}

// Spec describes openssl_privatekey's arguments.
func (OpensslPrivatekey) Spec() *Spec {
	return &Spec{
		Args: append(fileAttrArgs(),
			Arg{Name: "path", Type: TypePath, Required: true},
			Arg{Name: "state", Type: TypeStr, Default: "present", Choices: []string{"present", "absent"}},
			Arg{Name: "size", Type: TypeInt, Default: 4096},
			Arg{Name: "type", Type: TypeStr, Default: "RSA", Choices: privateKeyTypes},
			Arg{Name: "curve", Type: TypeStr, Choices: eccCurveNames()},
			Arg{Name: "force", Type: TypeBool, Default: false},
			Arg{Name: "passphrase", Type: TypeStr, NoLog: true},
			Arg{Name: "cipher", Type: TypeStr, Default: "auto"},
			Arg{Name: "format", Type: TypeStr, Default: "auto_ignore", Choices: []string{"pkcs1", "pkcs8", "raw", "auto", "auto_ignore"}},
			Arg{Name: "format_mismatch", Type: TypeStr, Default: "regenerate", Choices: []string{"regenerate", "convert"}},
			Arg{Name: "backup", Type: TypeBool, Default: false},
			Arg{Name: "return_content", Type: TypeBool, Default: false},
			Arg{Name: "regenerate", Type: TypeStr, Default: "full_idempotence",
				Choices: []string{"never", "fail", "partial_idempotence", "full_idempotence", "always"}},
			Arg{Name: "select_crypto_backend", Type: TypeStr, Default: "auto", Choices: []string{"auto", "cryptography"}},
		),
		CheckMode: true,
	}
}

// privateKeyGenCmd is the openssl command line printing a new key of the
// given type (PEM, PKCS#8 but for DSA).
func privateKeyGenCmd(typ string, size int, curve string) string {
	switch typ {
	case "RSA":
		return "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:" + strconv.Itoa(size)
	case "DSA":
		return "openssl dsaparam -noout -genkey " + strconv.Itoa(size)
	case "ECC":
		name := curve
		for _, c := range eccCurves {
			if c.name == curve {
				name = c.openssl
			}
		}
		return "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:" + conn.Quote(name) + " -pkeyopt ec_param_enc:named_curve"
	}
	return "openssl genpkey -algorithm " + typ
}

// keyWantedFormat is _get_wanted_format: the format a new key is written in.
func keyWantedFormat(format, typ string) string {
	if format != "auto" && format != "auto_ignore" {
		return format
	}
	switch typ {
	case "X25519", "X448", "Ed25519", "Ed448":
		return "pkcs8"
	}
	return "pkcs1"
}

// keyRewriteCmd is the `openssl pkey` that writes a key (on its stdin,
// decrypted with $P1 when inEncrypted) in the wanted format, encrypted
// with $P1 when encrypt.
func keyRewriteCmd(wanted, cipher string, inEncrypted, encrypt bool) string {
	cmd := "openssl pkey"
	if inEncrypted {
		cmd += " -passin env:P1"
	}
	if wanted == "pkcs1" {
		cmd += " -traditional"
	}
	if encrypt {
		cmd += " " + cipher + " -passout env:P1"
	}
	return cmd
}

// splitKeyOutput splits a generation script's output: the private key's
// PEM, then the public key's PEM.
func splitKeyOutput(out []byte) ([]byte, pubKey, error) {
	i := bytes.Index(out, []byte("-----BEGIN PUBLIC KEY-----"))
	if i < 0 {
		return nil, pubKey{}, fmt.Errorf("openssl printed no public key")
	}
	blk, _ := pem.Decode(out[i:])
	if blk == nil {
		return nil, pubKey{}, fmt.Errorf("openssl printed a bad public key")
	}
	pk, err := parsePubKey(blk.Bytes)
	return out[:i], pk, err
}

// inspectPrivateKey loads an existing key with the passphrase the task
// gives (nil: none) as cryptography's load_pem_private_key would: an
// encrypted key without a passphrase, or a passphrase for a plain key, do
// not load. ok is false when the key does not load.
func inspectPrivateKey(ctx context.Context, c conn.Conn, content []byte, pass *string) (pubKey, bool, error) {
	enc := privateKeyEncrypted(content)
	if enc != (pass != nil) || identifyPrivateKeyFormat(content) == "raw" {
		return pubKey{}, false, nil
	}
	secret := ""
	if pass != nil {
		secret = *pass
	}
	script := "openssl pkey -pubout"
	if enc {
		script += " -passin env:P1"
	}
	r, err := opensslRun(ctx, c, []string{secret}, script+" 2>&1", content)
	if err != nil {
		return pubKey{}, false, fmt.Errorf("inspect private key: %w", err)
	}
	if r.RC != 0 {
		return pubKey{}, false, nil
	}
	blk, _ := pem.Decode(r.Stdout)
	if blk == nil {
		return pubKey{}, false, nil
	}
	pk, err := parsePubKey(blk.Bytes)
	return pk, err == nil, nil
}

const (
	privateKeyPassMsg = "Unable to read the key. The key is protected with a another passphrase / no passphrase or broken." +
		" Will not proceed. To force regeneration, call the module with `generate`" +
		" set to `full_idempotence` or `always`, or with `force=true`."
	privateKeyTypeMsg = "Key has wrong type and/or size." +
		" Will not proceed. To force regeneration, call the module with `generate`" +
		" set to `partial_idempotence`, `full_idempotence` or `always`, or with `force=true`."
	privateKeyFormatMsg = "Key has wrong format." +
		" Will not proceed. To force regeneration, call the module with `generate`" +
		" set to `partial_idempotence`, `full_idempotence` or `always`, or with `force=true`." +
		" To convert the key, set `format_mismatch` to `convert`."
)

// Run keeps the private key.
func (OpensslPrivatekey) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	c := env.Conn
	typ, size, curve := args.String("type"), args.Int("size"), args.String("curve")
	if typ == "ECC" && curve == "" {
		return Result{Failed: true, Msg: "type is ECC but all of the following are missing: curve"}, nil
	}
	if args.String("format") == "raw" {
		return Result{Failed: true, Msg: `format "raw" is not supported by mdo-play's openssl_privatekey`}, nil
	}
	var pass *string
	if args.Has("passphrase") {
		p := args.String("passphrase")
		pass = &p
	}
	cipher, ok := opensslCipher(args.String("cipher"))
	if !ok {
		return Result{Failed: true, Msg: fmt.Sprintf("unknown cipher %q", args.String("cipher"))}, nil
	}
	st, fail, err := cryptoReadFile(ctx, c, args.String("path"))
	if fail != nil || err != nil {
		return derefResult(fail), err
	}
	values := map[string]any{"filename": st.Path, "type": typ, "size": size, "fingerprint": nil}
	if typ == "ECC" {
		values["curve"] = curve
	}
	if args.String("state") == "absent" {
		return cryptoAbsent(ctx, env, st, args, values)
	}

	var existing pubKey
	loaded := false
	if st.Exists {
		if existing, loaded, err = inspectPrivateKey(ctx, c, st.Content, pass); err != nil {
			return Result{}, err
		}
	}
	regen := args.String("regenerate")
	if args.Bool("force") {
		regen = "always"
	}
	wanted := keyWantedFormat(args.String("format"), typ)
	formatOK := args.String("format") == "auto_ignore" || identifyPrivateKeyFormat(st.Content) == wanted
	sizeTypeOK := existing.Type == typ
	switch typ {
	case "RSA", "DSA":
		sizeTypeOK = sizeTypeOK && existing.Size == size
	case "ECC":
		sizeTypeOK = sizeTypeOK && existing.Curve == curve
	}
	generate, convert := false, false
	switch {
	case regen == "always" || !st.Exists:
		generate = true
	case !loaded:
		if regen != "full_idempotence" {
			return Result{Failed: true, Msg: privateKeyPassMsg, Values: values}, nil
		}
		generate = true
	case regen != "never" && !sizeTypeOK:
		if regen == "fail" {
			return Result{Failed: true, Msg: privateKeyTypeMsg, Values: values}, nil
		}
		generate = true
	case args.String("format_mismatch") == "regenerate" && regen != "never" && !formatOK:
		if regen == "fail" {
			return Result{Failed: true, Msg: privateKeyFormatMsg, Values: values}, nil
		}
		generate = true
	case args.String("format_mismatch") == "convert" && !formatOK:
		convert = true
	}
	if loaded {
		values["fingerprint"] = fingerprints(existing.DER)
	}
	if !generate && !convert {
		return cryptoKeep(ctx, env, st, args, values, "privatekey")
	}
	if env.Check {
		return cryptoWouldWrite(st, args, values, "privatekey"), nil
	}
	secret := ""
	if pass != nil {
		secret = *pass
	}
	var script string
	var data []byte
	if generate {
		script = "set -e\n_mdo_k=$(" + privateKeyGenCmd(typ, size, curve) + " | " + keyRewriteCmd(wanted, cipher, false, pass != nil) + ")\n"
	} else {
		script = "set -e\n_mdo_k=$(" + keyRewriteCmd(wanted, cipher, pass != nil, pass != nil) + ")\n"
		data = st.Content
	}
	pubIn := ""
	if pass != nil {
		pubIn = " -passin env:P1"
	}
	script += "printf '%s\\n' \"$_mdo_k\"\nprintf '%s\\n' \"$_mdo_k\" | openssl pkey -pubout" + pubIn + "\n"
	r, err := opensslRun(ctx, c, []string{secret}, script, data)
	if err != nil {
		return Result{}, fmt.Errorf("generate private key: %w", err)
	}
	if r.RC != 0 {
		return Result{Failed: true, Msg: opensslMsg("openssl", r), Values: values}, nil
	}
	key, pk, err := splitKeyOutput(r.Stdout)
	if err != nil {
		return Result{Failed: true, Msg: err.Error(), Values: values}, nil
	}
	values["fingerprint"] = fingerprints(pk.DER)
	return cryptoWrite(ctx, c, st, key, args, "0600", values, "privatekey")
}

// derefResult returns *r, or a zero Result for nil.
func derefResult(r *Result) Result {
	if r == nil {
		return Result{}
	}
	return *r
}

// nilIfEmptyBytes is b as a string, or nil when b is empty (Ansible's None).
func nilIfEmptyBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}
