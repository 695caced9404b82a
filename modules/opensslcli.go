package modules

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha3"
	"crypto/sha512"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"hash"
	"math/big"
	"regexp"
	"strings"

	"golang.org/x/crypto/blake2b"
	"golang.org/x/crypto/blake2s"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// This file holds what the community.crypto modules (openssl_privatekey,
// openssl_csr, x509_certificate, openssl_dhparam) share: running the
// target's openssl CLI with secrets on stdin, and reading public keys and
// PEM files on the controller.

// opensslRun runs script on the target with stdin holding, in order, one
// line per secret (read into $P1, $P2, ... and exported, so openssl reads
// them with -passin env:P1 and never sees them in its argv), then data.
// A secret containing a newline is refused.
func opensslRun(ctx context.Context, c conn.Conn, secrets []string, script string, data []byte) (conn.ExecResult, error) {
	var pre strings.Builder
	var in []byte
	for i, s := range secrets {
		if strings.ContainsAny(s, "\n\r") {
			return conn.ExecResult{RC: 1, Stderr: []byte("passphrase must not contain a newline")}, nil
		}
		fmt.Fprintf(&pre, "IFS= read -r P%d; export P%d\n", i+1, i+1)
		in = append(in, s...)
		in = append(in, '\n')
	}
	in = append(in, data...)
	return c.Exec(ctx, conn.Command{Script: pre.String() + script, Stdin: in})
}

// opensslMsg is the message of a failed openssl run: its stderr's first
// lines, without openssl's internal error-stack noise when there is more.
func opensslMsg(what string, r conn.ExecResult) string {
	msg := strings.TrimSpace(string(r.Stderr))
	if msg == "" {
		msg = strings.TrimSpace(string(r.Stdout))
	}
	return fmt.Sprintf("%s: %s", what, msg)
}

// pemBlocks decodes every PEM block in b, in order.
func pemBlocks(b []byte) []*pem.Block {
	var out []*pem.Block
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return out
		}
		out = append(out, blk)
	}
}

// identifyPrivateKeyFormat is community.crypto's
// identify_private_key_format: pkcs8, pkcs1, unknown-pem or raw.
func identifyPrivateKeyFormat(content []byte) string {
	first, _, _ := strings.Cut(string(content), "\n")
	first = strings.TrimRight(first, "\r")
	const start, end = "-----BEGIN ", "-----"
	if strings.HasPrefix(first, start) && strings.HasSuffix(first, end) && len(first) > len(start)+len(end) {
		name := first[len(start) : len(first)-len(end)]
		switch {
		case name == "PRIVATE KEY" || name == "ENCRYPTED PRIVATE KEY":
			return "pkcs8"
		case len(name) > len(" PRIVATE KEY") && strings.HasSuffix(name, " PRIVATE KEY"):
			return "pkcs1"
		}
		return "unknown-pem"
	}
	return "raw"
}

// privateKeyEncrypted reports whether a PEM private key is protected by a
// passphrase (PKCS#8 ENCRYPTED PRIVATE KEY, or a traditional key with a
// Proc-Type: 4,ENCRYPTED header).
func privateKeyEncrypted(content []byte) bool {
	for _, b := range pemBlocks(content) {
		if b.Type == "ENCRYPTED PRIVATE KEY" || strings.Contains(b.Headers["Proc-Type"], "ENCRYPTED") {
			return true
		}
	}
	return false
}

// Public key algorithm and curve OIDs (RFC 3279, 5480, 8410; brainpool RFC 5639).
var (
	oidRSA     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidDSA     = asn1.ObjectIdentifier{1, 2, 840, 10040, 4, 1}
	oidEC      = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidX25519  = asn1.ObjectIdentifier{1, 3, 101, 110}
	oidX448    = asn1.ObjectIdentifier{1, 3, 101, 111}
	oidEd25519 = asn1.ObjectIdentifier{1, 3, 101, 112}
	oidEd448   = asn1.ObjectIdentifier{1, 3, 101, 113}
)

// eccCurves are the curves openssl_privatekey accepts: its name, the name
// openssl's CLI knows it by, and its OID.
var eccCurves = []struct {
	name, openssl string
	oid           asn1.ObjectIdentifier
	bits          int
}{
	{"secp224r1", "secp224r1", asn1.ObjectIdentifier{1, 3, 132, 0, 33}, 224},
	{"secp256k1", "secp256k1", asn1.ObjectIdentifier{1, 3, 132, 0, 10}, 256},
	{"secp256r1", "prime256v1", asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}, 256},
	{"secp384r1", "secp384r1", asn1.ObjectIdentifier{1, 3, 132, 0, 34}, 384},
	{"secp521r1", "secp521r1", asn1.ObjectIdentifier{1, 3, 132, 0, 35}, 521},
	{"secp192r1", "prime192v1", asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 1}, 192},
	{"brainpoolP256r1", "brainpoolP256r1", asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, 7}, 256},
	{"brainpoolP384r1", "brainpoolP384r1", asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, 11}, 384},
	{"brainpoolP512r1", "brainpoolP512r1", asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, 13}, 512},
	{"sect163k1", "sect163k1", asn1.ObjectIdentifier{1, 3, 132, 0, 1}, 163},
	{"sect163r2", "sect163r2", asn1.ObjectIdentifier{1, 3, 132, 0, 15}, 163},
	{"sect233k1", "sect233k1", asn1.ObjectIdentifier{1, 3, 132, 0, 26}, 233},
	{"sect233r1", "sect233r1", asn1.ObjectIdentifier{1, 3, 132, 0, 27}, 233},
	{"sect283k1", "sect283k1", asn1.ObjectIdentifier{1, 3, 132, 0, 16}, 283},
	{"sect283r1", "sect283r1", asn1.ObjectIdentifier{1, 3, 132, 0, 17}, 283},
	{"sect409k1", "sect409k1", asn1.ObjectIdentifier{1, 3, 132, 0, 36}, 409},
	{"sect409r1", "sect409r1", asn1.ObjectIdentifier{1, 3, 132, 0, 37}, 409},
	{"sect571k1", "sect571k1", asn1.ObjectIdentifier{1, 3, 132, 0, 38}, 571},
	{"sect571r1", "sect571r1", asn1.ObjectIdentifier{1, 3, 132, 0, 39}, 571},
}

// pubKey is what the modules compare about a public key.
type pubKey struct {
	Type  string // RSA, DSA, ECC, Ed25519, Ed448, X25519, X448
	Size  int    // bits
	Curve string // ECC only: the collection's curve name ("" when unknown)
	DER   []byte // SubjectPublicKeyInfo
}

// parsePubKey reads a DER SubjectPublicKeyInfo.
func parsePubKey(der []byte) (pubKey, error) {
	var spki struct {
		Alg struct {
			Algorithm  asn1.ObjectIdentifier
			Parameters asn1.RawValue `asn1:"optional"`
		}
		Key asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &spki); err != nil {
		return pubKey{}, fmt.Errorf("parse public key: %w", err)
	}
	k := pubKey{DER: der}
	a := spki.Alg.Algorithm
	switch {
	case a.Equal(oidRSA):
		var rsa struct{ N, E *big.Int }
		if _, err := asn1.Unmarshal(spki.Key.Bytes, &rsa); err != nil {
			return pubKey{}, fmt.Errorf("parse RSA public key: %w", err)
		}
		k.Type, k.Size = "RSA", rsa.N.BitLen()
	case a.Equal(oidDSA):
		var p struct{ P, Q, G *big.Int }
		if _, err := asn1.Unmarshal(spki.Alg.Parameters.FullBytes, &p); err != nil {
			return pubKey{}, fmt.Errorf("parse DSA parameters: %w", err)
		}
		k.Type, k.Size = "DSA", p.P.BitLen()
	case a.Equal(oidEC):
		var curve asn1.ObjectIdentifier
		if _, err := asn1.Unmarshal(spki.Alg.Parameters.FullBytes, &curve); err != nil {
			return pubKey{}, fmt.Errorf("parse EC curve: %w", err)
		}
		k.Type = "ECC"
		for _, c := range eccCurves {
			if c.oid.Equal(curve) {
				k.Curve, k.Size = c.name, c.bits
			}
		}
	case a.Equal(oidEd25519):
		k.Type, k.Size = "Ed25519", 256
	case a.Equal(oidEd448):
		k.Type, k.Size = "Ed448", 456
	case a.Equal(oidX25519):
		k.Type, k.Size = "X25519", 256
	case a.Equal(oidX448):
		k.Type, k.Size = "X448", 448
	default:
		return pubKey{}, fmt.Errorf("unsupported public key algorithm %v", a)
	}
	return k, nil
}

// fingerprints is community.crypto's get_fingerprint_of_bytes: the
// colon-separated hex digest of b for each of Python's
// hashlib.algorithms_guaranteed (shake digests are 32 bytes long).
func fingerprints(b []byte) map[string]any {
	hashes := map[string]func() hash.Hash{
		"md5": md5.New, "sha1": sha1.New, "sha224": sha256.New224, "sha256": sha256.New,
		"sha384": sha512.New384, "sha512": sha512.New,
		"sha3_224": func() hash.Hash { return sha3.New224() }, "sha3_256": func() hash.Hash { return sha3.New256() },
		"sha3_384": func() hash.Hash { return sha3.New384() }, "sha3_512": func() hash.Hash { return sha3.New512() },
		"blake2b": func() hash.Hash { h, _ := blake2b.New512(nil); return h },
		"blake2s": func() hash.Hash { h, _ := blake2s.New256(nil); return h },
	}
	out := make(map[string]any, len(hashes)+2)
	for name, f := range hashes {
		h := f()
		h.Write(b)
		out[name] = colonHex(h.Sum(nil))
	}
	out["shake_128"] = colonHex(sha3.SumSHAKE128(b, 32))
	out["shake_256"] = colonHex(sha3.SumSHAKE256(b, 32))
	return out
}

// colonHex formats b as lower-case hex pairs joined by colons.
func colonHex(b []byte) string {
	h := hex.EncodeToString(b)
	parts := make([]string, 0, len(b))
	for i := 0; i < len(h); i += 2 {
		parts = append(parts, h[i:i+2])
	}
	return strings.Join(parts, ":")
}

// opensslCipher is the openssl option for a cipher argument: "auto" is
// AES-256 (cryptography's BestAvailableEncryption), other values must be
// a cipher name openssl knows (aes256, des3, ...).
var opensslCipherName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]*$`)

func opensslCipher(c string) (string, bool) {
	if c == "" || c == "auto" {
		return "-aes256", true
	}
	if !opensslCipherName.MatchString(c) {
		return "", false
	}
	return "-" + c, true
}

// cryptoReadFile reads the file a crypto module keeps, content included
// (however large). A directory or other non-file is a failed Result.
func cryptoReadFile(ctx context.Context, c conn.Conn, p string) (FileState, *Result, error) {
	st, err := ReadFile(ctx, c, p, ReadOptions{Content: true, MaxContent: -1, NoChecksum: true})
	if err != nil {
		r, err := FailResult(err, map[string]any{"filename": p})
		return st, &r, err
	}
	if st.Exists && st.Type != TypeFile && st.Type != TypeLink {
		return st, &Result{Failed: true, Msg: fmt.Sprintf("Path %s is a %s, not a file", st.Path, st.Type), Values: map[string]any{"filename": p}}, nil
	}
	return st, nil, nil
}

// cryptoWrite writes content over st atomically, as community.crypto's
// write_file does: the mode argument, or defaultMode when it is not given
// ("" keeps an existing file's mode), owner and group, and a backup when
// asked for. It returns the changed result: values gain backup_file and,
// with return_content, the content under contentKey.
func cryptoWrite(ctx context.Context, c conn.Conn, st FileState, content []byte, args Args, defaultMode string, values map[string]any, contentKey string) (Result, error) {
	a := attrsOf(args)
	if a.Mode == "" {
		a.Mode = defaultMode
	}
	wr, err := WriteFile(ctx, c, content, WriteOptions{Before: st, Attrs: a, Backup: args.Bool("backup")})
	if err != nil {
		return FailResult(err, values)
	}
	if wr.BackupFile != "" {
		values["backup_file"] = wr.BackupFile
	}
	if args.Bool("return_content") {
		values[contentKey] = string(content)
	}
	return Result{Changed: true, Values: values}, nil
}

// cryptoKeep is the result for a file that stays: its mode, owner and
// group arguments applied (cryptoAttrs) and, with return_content, its
// content under contentKey.
func cryptoKeep(ctx context.Context, env *Env, st FileState, args Args, values map[string]any, contentKey string) (Result, error) {
	changed, err := cryptoAttrs(ctx, env, st, args)
	if err != nil {
		return FailResult(err, values)
	}
	if args.Bool("return_content") {
		values[contentKey] = string(st.Content)
	}
	return Result{Changed: changed, Values: values}, nil
}

// cryptoWouldWrite is check mode's result for a file that would be
// written: changed, and with return_content the current content (None
// when there is none) under contentKey.
func cryptoWouldWrite(st FileState, args Args, values map[string]any, contentKey string) Result {
	if args.Bool("return_content") {
		values[contentKey] = nilIfEmptyBytes(st.Content)
	}
	return Result{Changed: true, Values: values}
}

// cryptoAttrs gives a kept file its mode, owner and group arguments (Ansible's
// set_fs_attributes_if_different) and reports whether anything changed; in
// check mode it only reports.
func cryptoAttrs(ctx context.Context, env *Env, st FileState, args Args) (bool, error) {
	plan, err := PlanAttrs(st, attrsOf(args))
	if err != nil || !plan.Changed || env.Check {
		return plan.Changed, err
	}
	_, err = SetAttrs(ctx, env.Conn, st, plan, false)
	return true, err
}

// cryptoAbsent is state=absent for the file a crypto module keeps: ok
// when it is not there, else removed (backed up first with backup; not
// in check mode) and changed.
func cryptoAbsent(ctx context.Context, env *Env, st FileState, args Args, values map[string]any) (Result, error) {
	if !st.Exists {
		return Result{Values: values}, nil
	}
	if !env.Check {
		bf, err := cryptoRemove(ctx, env.Conn, st, args.Bool("backup"))
		if err != nil {
			return FailResult(err, values)
		}
		if bf != "" {
			values["backup_file"] = bf
		}
	}
	return Result{Changed: true, Values: values}, nil
}

// cryptoRemove removes the file a crypto module keeps (state=absent),
// backing it up first when asked for; it returns the backup's path.
func cryptoRemove(ctx context.Context, c conn.Conn, st FileState, backup bool) (string, error) {
	var bf string
	if backup {
		var err error
		if bf, err = Backup(ctx, c, st.Path); err != nil {
			return "", err
		}
	}
	r, err := c.Exec(ctx, conn.Command{Script: "rm -f -- " + conn.Quote(st.Path)})
	if err != nil {
		return bf, fmt.Errorf("remove %s: %w", st.Path, err)
	}
	if r.RC != 0 {
		return bf, &FileError{Op: "remove", Path: st.Path, Msg: strings.TrimSpace(string(r.Stderr))}
	}
	return bf, nil
}
