package modules

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// X509Certificate is community.crypto's x509_certificate with the
// selfsigned and ownca providers: it keeps a certificate made by the
// target's `openssl x509 -req` from a CSR, signed by the CSR's own key or
// by a CA certificate and key. The existing certificate, the CSR and the
// CA certificate are read and compared on the controller; the keys stay
// on the target (`openssl pkey -pubout` reads their public halves).
type X509Certificate struct {
	Now func() time.Time // the clock deciding expiry and validity
}

var _ Module = X509Certificate{}

// Spec describes x509_certificate's arguments.
func (X509Certificate) Spec() *Spec {
	return &Spec{
		Args: append(fileAttrArgs(),
			Arg{Name: "path", Type: TypePath, Required: true},
			Arg{Name: "state", Type: TypeStr, Default: "present", Choices: []string{"present", "absent"}},
			Arg{Name: "provider", Type: TypeStr, Choices: []string{"selfsigned", "ownca"}},
			Arg{Name: "csr_path", Type: TypePath},
			Arg{Name: "csr_content", Type: TypeStr},
			Arg{Name: "privatekey_path", Type: TypePath},
			Arg{Name: "privatekey_content", Type: TypeStr, NoLog: true},
			Arg{Name: "privatekey_passphrase", Type: TypeStr, NoLog: true},
			Arg{Name: "force", Type: TypeBool, Default: false},
			Arg{Name: "backup", Type: TypeBool, Default: false},
			Arg{Name: "return_content", Type: TypeBool, Default: false},
			Arg{Name: "ignore_timestamps", Type: TypeBool, Default: true},
			Arg{Name: "select_crypto_backend", Type: TypeStr, Default: "auto", Choices: []string{"auto", "cryptography"}},
			Arg{Name: "selfsigned_digest", Type: TypeStr, Default: "sha256"},
			Arg{Name: "selfsigned_version", Type: TypeInt, Default: 3},
			Arg{Name: "selfsigned_not_before", Aliases: []string{"selfsigned_notBefore"}, Type: TypeStr, Default: "+0s"},
			Arg{Name: "selfsigned_not_after", Aliases: []string{"selfsigned_notAfter"}, Type: TypeStr, Default: "+3650d"},
			Arg{Name: "selfsigned_create_subject_key_identifier", Type: TypeStr, Default: "create_if_not_provided",
				Choices: []string{"create_if_not_provided", "always_create", "never_create"}},
			Arg{Name: "ownca_path", Type: TypePath},
			Arg{Name: "ownca_content", Type: TypeStr},
			Arg{Name: "ownca_privatekey_path", Type: TypePath},
			Arg{Name: "ownca_privatekey_content", Type: TypeStr, NoLog: true},
			Arg{Name: "ownca_privatekey_passphrase", Type: TypeStr, NoLog: true},
			Arg{Name: "ownca_digest", Type: TypeStr, Default: "sha256"},
			Arg{Name: "ownca_version", Type: TypeInt, Default: 3},
			Arg{Name: "ownca_not_before", Type: TypeStr, Default: "+0s"},
			Arg{Name: "ownca_not_after", Type: TypeStr, Default: "+3650d"},
			Arg{Name: "ownca_create_subject_key_identifier", Type: TypeStr, Default: "create_if_not_provided",
				Choices: []string{"create_if_not_provided", "always_create", "never_create"}},
			Arg{Name: "ownca_create_authority_key_identifier", Type: TypeBool, Default: true},
		),
		CheckMode: true,
		MutuallyExclusive: [][]string{{"csr_path", "csr_content"}, {"privatekey_path", "privatekey_content"},
			{"ownca_path", "ownca_content"}, {"ownca_privatekey_path", "ownca_privatekey_content"}},
	}
}

var relTime = regexp.MustCompile(`^\+(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$`)

// certDays turns a not_after value into openssl's -days: a relative time
// (+[w]w[d]d[h]h[m]m[s]s, rounded up to whole days) or an ASN.1 time
// (YYYYMMDDHHMMSSZ).
func certDays(v string, now time.Time) (int, error) {
	var secs int64
	if m := relTime.FindStringSubmatch(v); m != nil && v != "+" {
		for i, mult := range []int64{7 * 86400, 86400, 3600, 60, 1} {
			if m[i+1] != "" {
				n, _ := strconv.ParseInt(m[i+1], 10, 64)
				secs += n * mult
			}
		}
	} else if t, err := time.Parse("20060102150405Z", v); err == nil {
		secs = int64(t.Sub(now).Seconds())
	} else {
		return 0, fmt.Errorf("The time spec %q for not_after is invalid", v)
	}
	if secs <= 0 {
		return 0, fmt.Errorf("not_after %q is not in the future", v)
	}
	return int((secs + 86399) / 86400), nil
}

// readPEMArg returns the PEM a *_path (read on the target) or *_content
// argument names; msg is a failure.
func readPEMArg(ctx context.Context, c conn.Conn, args Args, name, what string) ([]byte, string, error) {
	if args.Has(name + "_content") {
		return []byte(args.String(name + "_content")), "", nil
	}
	st, err := ReadFile(ctx, c, args.String(name+"_path"), ReadOptions{Content: true, MaxContent: -1, NoChecksum: true})
	if err != nil {
		r, err := FailResult(err, nil)
		return nil, r.Msg, err
	}
	if !st.Exists {
		return nil, fmt.Sprintf("The %s file %s does not exist", what, st.Path), nil
	}
	return st.Content, "", nil
}

// keyOption is the openssl option reading the key a *_path or *_content
// argument names (content arrives on stdin), and the stdin data.
func keyOption(args Args, name string) (string, []byte) {
	if args.Has(name + "_content") {
		return "/dev/stdin", []byte(args.String(name + "_content"))
	}
	return conn.Quote(args.String(name + "_path")), nil
}

// keyPublic is the public key of the private key a *_path or *_content
// argument names, read by `openssl pkey` on the target.
func keyPublic(ctx context.Context, c conn.Conn, args Args, name string) ([]byte, string, error) {
	opt, data := keyOption(args, name)
	pass := ""
	if args.Has(name + "_passphrase") {
		pass = " -passin env:P1"
	}
	r, err := opensslRun(ctx, c, []string{args.String(name + "_passphrase")}, "openssl pkey -in "+opt+pass+" -pubout", data)
	if err != nil {
		return nil, "", fmt.Errorf("read private key: %w", err)
	}
	if r.RC != 0 {
		return nil, opensslMsg("Error while loading the private key", r), nil
	}
	blk, _ := pem.Decode(r.Stdout)
	if blk == nil {
		return nil, "openssl printed no public key", nil
	}
	return blk.Bytes, "", nil
}

// firstPEM decodes the first block of type typ in b.
func firstPEM(b []byte, types ...string) *pem.Block {
	for _, blk := range pemBlocks(b) {
		for _, t := range types {
			if blk.Type == t {
				return blk
			}
		}
	}
	return nil
}

// certSKIAKI are the extensions the comparison leaves out: the module adds
// them itself.
var oidSKI, oidAKI = "2.5.29.14", "2.5.29.35"

// certMatches is the collection's needs_regeneration for the two
// providers: the certificate holds the CSR's subject, public key and
// extensions, the private key's public key (when given), is signed by
// the CA (ownca) or itself (selfsigned), and has not expired.
func certMatches(cert *x509.Certificate, csr *x509.CertificateRequest, keyPub []byte, ca *x509.Certificate, now time.Time) bool {
	if !bytes.Equal(cert.RawSubject, csr.RawSubject) || !bytes.Equal(cert.RawSubjectPublicKeyInfo, csr.RawSubjectPublicKeyInfo) {
		return false
	}
	if keyPub != nil && !bytes.Equal(cert.RawSubjectPublicKeyInfo, keyPub) {
		return false
	}
	exts := func(l []pkixExt) map[string]string {
		m := map[string]string{}
		for _, e := range l {
			if id := e.id; id != oidSKI && id != oidAKI {
				m[id] = fmt.Sprintf("%v %x", e.critical, e.value)
			}
		}
		return m
	}
	a, b := exts(extsOf(cert.Extensions)), exts(extsOf(csr.Extensions))
	if fmt.Sprint(a) != fmt.Sprint(b) {
		return false
	}
	if ca != nil {
		if !bytes.Equal(cert.RawIssuer, ca.RawSubject) || cert.CheckSignatureFrom(ca) != nil {
			return false
		}
	} else if cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature) != nil {
		return false
	}
	return now.Before(cert.NotAfter)
}

type pkixExt struct {
	id       string
	critical bool
	value    []byte
}

func extsOf(l []pkix.Extension) []pkixExt {
	out := make([]pkixExt, len(l))
	for i, e := range l {
		out[i] = pkixExt{e.Id.String(), e.Critical, e.Value}
	}
	return out
}

// Run keeps the certificate.
func (m X509Certificate) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	c := env.Conn
	now := time.Now
	if m.Now != nil {
		now = m.Now
	}
	st, fail, err := cryptoReadFile(ctx, c, args.String("path"))
	if fail != nil || err != nil {
		return derefResult(fail), err
	}
	values := map[string]any{"filename": st.Path}
	if args.String("state") == "absent" {
		return cryptoAbsent(ctx, env, st, args, values)
	}
	provider := args.String("provider")
	switch {
	case provider == "":
		return Result{Failed: true, Msg: "state is present but all of the following are missing: provider", Values: values}, nil
	case !args.Has("csr_path") && !args.Has("csr_content"):
		return Result{Failed: true, Msg: "one of csr_path, csr_content is required (mdo-play makes no certificate without a CSR)", Values: values}, nil
	case provider == "selfsigned" && !args.Has("privatekey_path") && !args.Has("privatekey_content"):
		return Result{Failed: true, Msg: "provider is selfsigned but any of the following are missing: privatekey_path, privatekey_content", Values: values}, nil
	case provider == "ownca" && !args.Has("ownca_path") && !args.Has("ownca_content"):
		return Result{Failed: true, Msg: "provider is ownca but any of the following are missing: ownca_path, ownca_content", Values: values}, nil
	case provider == "ownca" && !args.Has("ownca_privatekey_path") && !args.Has("ownca_privatekey_content"):
		return Result{Failed: true, Msg: "provider is ownca but any of the following are missing: ownca_privatekey_path, ownca_privatekey_content", Values: values}, nil
	}
	prefix := provider + "_"
	days, err := certDays(args.String(prefix+"not_after"), now())
	if err != nil {
		return Result{Failed: true, Msg: err.Error(), Values: values}, nil
	}
	csrPEM, msg, err := readPEMArg(ctx, c, args, "csr", "CSR")
	if msg != "" || err != nil {
		return Result{Failed: true, Msg: msg, Values: values}, err
	}
	blk := firstPEM(csrPEM, "CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST")
	var csr *x509.CertificateRequest
	if blk != nil {
		csr, err = x509.ParseCertificateRequest(blk.Bytes)
	}
	if blk == nil || err != nil {
		return Result{Failed: true, Msg: fmt.Sprintf("Error while loading CSR: %v", err), Values: values}, nil
	}
	var keyPub []byte
	if args.Has("privatekey_path") || args.Has("privatekey_content") {
		if keyPub, msg, err = keyPublic(ctx, c, args, "privatekey"); msg != "" || err != nil {
			return Result{Failed: true, Msg: msg, Values: values}, err
		}
	}
	var ca *x509.Certificate
	var caPEM []byte
	if provider == "ownca" {
		if caPEM, msg, err = readPEMArg(ctx, c, args, "ownca", "CA certificate"); msg != "" || err != nil {
			return Result{Failed: true, Msg: msg, Values: values}, err
		}
		if b := firstPEM(caPEM, "CERTIFICATE"); b != nil {
			ca, err = x509.ParseCertificate(b.Bytes)
		}
		if ca == nil || err != nil {
			return Result{Failed: true, Msg: fmt.Sprintf("Error while loading CA certificate: %v", err), Values: values}, nil
		}
	}
	if st.Exists && !args.Bool("force") {
		if b := firstPEM(st.Content, "CERTIFICATE"); b != nil {
			if cert, err := x509.ParseCertificate(b.Bytes); err == nil && certMatches(cert, csr, keyPub, ca, now()) {
				return cryptoKeep(ctx, env, st, args, values, "certificate")
			}
		}
	}
	if env.Check {
		return cryptoWouldWrite(st, args, values, "certificate"), nil
	}
	digest := args.String(prefix + "digest")
	if !opensslCipherName.MatchString(digest) {
		return Result{Failed: true, Msg: fmt.Sprintf("Unsupported digest %q", digest), Values: values}, nil
	}
	serial := make([]byte, 16)
	rand.Read(serial)
	serial[0] &= 0x7f
	ext := "[ext]\n"
	if args.String(prefix+"create_subject_key_identifier") != "never_create" {
		ext += "subjectKeyIdentifier = hash\n"
	}
	var secret, keyOpt string
	var data []byte
	if provider == "selfsigned" {
		secret = args.String("privatekey_passphrase")
		opt, d := keyOption(args, "privatekey")
		keyOpt, data = " -key "+opt, d
		if args.Has("privatekey_passphrase") {
			keyOpt += " -passin env:P1"
		}
	} else {
		secret = args.String("ownca_privatekey_passphrase")
		opt, d := keyOption(args, "ownca_privatekey")
		keyOpt, data = ` -CA "$_mdo_d/ca.pem" -CAkey `+opt, d
		if args.Has("ownca_privatekey_passphrase") {
			keyOpt += " -passin env:P1"
		}
		if args.Bool("ownca_create_authority_key_identifier") {
			ext += "authorityKeyIdentifier = keyid\n"
		}
	}
	signer := csr.RawSubjectPublicKeyInfo
	if ca != nil {
		signer = ca.RawSubjectPublicKeyInfo
	}
	if digestless(signer) {
		digest = ""
	} else {
		digest = " -" + digest
	}
	script := `set -e
_mdo_d=$(mktemp -d); trap 'rm -rf -- "$_mdo_d"' EXIT
printf '%s' "$MDO_CSR" >"$_mdo_d/req.csr"; printf '%s' "$MDO_CA" >"$_mdo_d/ca.pem"; printf '%s' "$MDO_EXT" >"$_mdo_d/ext.cnf"
openssl x509 -req -in "$_mdo_d/req.csr"` + keyOpt + digest + " -days " + strconv.Itoa(days) +
		" -set_serial 0x" + hex.EncodeToString(serial) +
		` -copy_extensions copyall -extfile "$_mdo_d/ext.cnf" -extensions ext 2>"$_mdo_d/err" || { cat "$_mdo_d/err" >&2; exit 1; }` + "\n"
	if bytes.ContainsAny([]byte(secret), "\n\r") {
		return Result{Failed: true, Msg: "passphrase must not contain a newline", Values: values}, nil
	}
	r, err := c.Exec(ctx, conn.Command{Script: "IFS= read -r P1; export P1\n" + script,
		Env:   map[string]string{"MDO_CSR": string(csrPEM), "MDO_CA": string(caPEM), "MDO_EXT": ext},
		Stdin: append([]byte(secret+"\n"), data...)})
	if err != nil {
		return Result{}, fmt.Errorf("make certificate: %w", err)
	}
	if r.RC != 0 {
		return Result{Failed: true, Msg: opensslMsg("openssl x509", r), Values: values}, nil
	}
	return cryptoWrite(ctx, c, st, r.Stdout, args, "", values, "certificate")
}

// digestless reports whether the signing key signs without a digest
// (Ed25519, Ed448), so openssl must get none.
func digestless(spki []byte) bool {
	k, err := parsePubKey(spki)
	return err == nil && (k.Type == "Ed25519" || k.Type == "Ed448")
}
