package modules

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// cryptoNeedOpenssl skips (fails under CI) when the openssl CLI is missing.
func cryptoNeedOpenssl(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		sysUnavailable(t, "needs openssl")
	}
}

// cryptoStep is one run of a crypto module in a step table: its
// arguments, the expected outcome and the file's state afterwards as the
// test's state function prints it.
type cryptoStep struct {
	what            string
	check           bool
	raw             map[string]any
	changed, failed bool
	msg             string
	state           string
}

// cryptoRunSteps runs the steps in order on c and checks each; it returns
// the results by step name.
func cryptoRunSteps(t *testing.T, c conn.Conn, m Module, steps []cryptoStep, state func() string) map[string]Result {
	t.Helper()
	out := map[string]Result{}
	for _, s := range steps {
		res, _ := sysRun(t, c, m, s.check, false, s.raw)
		sysExpect(t, s.what, res, s.changed, s.failed, s.msg)
		if got := state(); got != s.state {
			t.Errorf("%s: state\n%s\nwant\n%s", s.what, got, s.state)
		}
		out[s.what] = res
	}
	return out
}

// cryptoArgs returns a copy of base with the key-value pairs kv added.
func cryptoArgs(base map[string]any, kv ...any) map[string]any {
	r := make(map[string]any, len(base)+len(kv)/2)
	for k, v := range base {
		r[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		r[kv[i].(string)] = kv[i+1]
	}
	return r
}

// TestOpensslPrivatekey generates, keeps, converts, re-encrypts and
// removes keys with the real openssl CLI, locally and over SSH. The state
// is the file's mode, its PEM header and the key as `openssl pkey` reads
// it (type, bits), so a regeneration of the same type shows in the
// fingerprints compared between steps.
func TestOpensslPrivatekey(t *testing.T) {
	cryptoNeedOpenssl(t)
	for tn, c := range sysTargets(t) {
		t.Run(tn, func(t *testing.T) {
			dir := t.TempDir()
			p := dir + "/key.pem"
			state := func() string {
				return sysSh(t, c, "f="+conn.Quote(p)+`
[ -e "$f" ] || { echo absent; exit 0; }
stat -c %a "$f"; head -n1 "$f"; grep -c ENCRYPTED "$f"
openssl pkey -in "$f" -passin pass:s3cret -noout -text 2>/dev/null | head -n1 | sed 's/ *$//'`)
			}
			rsa := map[string]any{"path": p, "size": 2048}
			plain := "600\n-----BEGIN RSA PRIVATE KEY-----\n0\nPrivate-Key: (2048 bit, 2 primes)\n"
			plain640 := "640\n-----BEGIN RSA PRIVATE KEY-----\n0\nPrivate-Key: (2048 bit, 2 primes)\n"
			// a conversion rewrites the file with the default mode, as write_file does
			pkcs8 := "600\n-----BEGIN PRIVATE KEY-----\n0\nPrivate-Key: (2048 bit, 2 primes)\n"
			enc := "600\n-----BEGIN RSA PRIVATE KEY-----\n1\nPrivate-Key: (2048 bit, 2 primes)\n"
			ec := "600\n-----BEGIN EC PRIVATE KEY-----\n0\nPrivate-Key: (256 bit)\n"
			ed := "600\n-----BEGIN PRIVATE KEY-----\n0\nED25519 Private-Key:\n"
			m := OpensslPrivatekey{}
			steps := []cryptoStep{
				{"check new", true, rsa, true, false, "", "absent\n"},
				{"create", false, rsa, true, false, "", plain},
				{"again", false, rsa, false, false, "", plain},
				{"check bigger", true, cryptoArgs(rsa, "size", 3072), true, false, "", plain},
				{"bigger refused", false, cryptoArgs(rsa, "size", 3072, "regenerate", "fail"), false, true, "Key has wrong type and/or size.", plain},
				{"mode", false, cryptoArgs(rsa, "mode", "0640"), true, false, "", plain640},
				{"convert", false, cryptoArgs(rsa, "format", "pkcs8", "format_mismatch", "convert"), true, false, "", pkcs8},
				{"converted again", false, cryptoArgs(rsa, "format", "pkcs8", "format_mismatch", "convert"), false, false, "", pkcs8},
				{"format refused", false, cryptoArgs(rsa, "format", "pkcs1", "regenerate", "fail"), false, true, "Key has wrong format.", pkcs8},
				{"passphrase refused", false, cryptoArgs(rsa, "passphrase", "s3cret", "regenerate", "partial_idempotence"), false, true, "Unable to read the key. The key is protected with a another passphrase / no passphrase or broken.", pkcs8},
				{"passphrase", false, cryptoArgs(rsa, "passphrase", "s3cret", "format", "pkcs1", "mode", "0600"), true, false, "", enc},
				{"passphrase again", false, cryptoArgs(rsa, "passphrase", "s3cret"), false, false, "", enc},
				{"passphrase wrong never", false, cryptoArgs(rsa, "passphrase", "other", "regenerate", "never"), false, true, "Unable to read the key.", enc},
				{"ecc no curve", false, map[string]any{"path": p, "type": "ECC"}, false, true, "type is ECC but all of the following are missing: curve", enc},
				{"ecc", false, map[string]any{"path": p, "type": "ECC", "curve": "secp256r1"}, true, false, "", ec},
				{"ecc again", false, map[string]any{"path": p, "type": "ECC", "curve": "secp256r1"}, false, false, "", ec},
				{"ed25519", false, map[string]any{"path": p, "type": "Ed25519", "return_content": true}, true, false, "", ed},
				{"ed25519 again", false, map[string]any{"path": p, "type": "Ed25519", "return_content": true}, false, false, "", ed},
				{"bad cipher", false, cryptoArgs(rsa, "passphrase", "x", "cipher", "nosuchcipher", "force", true), false, true, "openssl", ed},
				{"absent check", true, map[string]any{"path": p, "state": "absent"}, true, false, "", ed},
				{"absent", false, map[string]any{"path": p, "state": "absent", "backup": true}, true, false, "", "absent\n"},
				{"absent again", false, map[string]any{"path": p, "state": "absent"}, false, false, "", "absent\n"},
			}
			res := cryptoRunSteps(t, c, m, steps, state)
			fp := func(step string) string {
				f, _ := res[step].Values["fingerprint"].(map[string]any)
				s, _ := f["sha256"].(string)
				return s
			}
			if fp("create") == "" || fp("create") != fp("again") || fp("again") != fp("convert") || fp("convert") != fp("mode") {
				t.Errorf("the key changed while kept: %q %q %q %q", fp("create"), fp("again"), fp("mode"), fp("convert"))
			}
			if fp("passphrase") == fp("convert") || fp("passphrase") != fp("passphrase again") {
				t.Errorf("passphrase fingerprints %q %q (before %q)", fp("passphrase"), fp("passphrase again"), fp("convert"))
			}
			if f, _ := res["check new"].Values["fingerprint"].(map[string]any); f != nil {
				t.Errorf("check mode fingerprint %v", f)
			}
			if got := res["ed25519 again"].Values["privatekey"]; got == nil || !strings.HasPrefix(got.(string), "-----BEGIN PRIVATE KEY-----") || got != res["ed25519"].Values["privatekey"] {
				t.Errorf("privatekey %v, want the file's content", got)
			}
			if f, _ := res["ecc again"].Values["fingerprint"].(map[string]any); len(f) != 14 || res["ecc again"].Values["curve"] != "secp256r1" {
				t.Errorf("ecc values %v", res["ecc again"].Values)
			}
			bf, _ := res["absent"].Values["backup_file"].(string)
			if !strings.HasPrefix(bf, p+".") || sysSh(t, c, "head -n1 "+conn.Quote(bf)) != "-----BEGIN PRIVATE KEY-----\n" {
				t.Errorf("backup %q", bf)
			}
		})
	}
}

// TestOpensslPrivatekeyFingerprint checks the fingerprint against
// openssl's own digest of the public key (SubjectPublicKeyInfo DER).
func TestOpensslPrivatekeyFingerprint(t *testing.T) {
	cryptoNeedOpenssl(t)
	c := localConn()
	p := t.TempDir() + "/k"
	res, _ := sysRun(t, c, OpensslPrivatekey{}, false, false, map[string]any{"path": p, "type": "Ed25519"})
	sysExpect(t, "create", res, true, false, "")
	want := sysSh(t, c, "openssl pkey -in "+conn.Quote(p)+" -pubout -outform DER | openssl dgst -sha256 -c | sed 's/.*= //'")
	f, _ := res.Values["fingerprint"].(map[string]any)
	if got := f["sha256"]; got != strings.TrimSpace(want) {
		t.Errorf("sha256 %v, want %s", got, want)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatal(err)
	}
}

// TestCryptoResolve checks that the community.crypto modules resolve by
// short name and by their collection's name.
func TestCryptoResolve(t *testing.T) {
	r := Builtin()
	for _, want := range []struct {
		name string
		m    Module
	}{{"openssl_privatekey", OpensslPrivatekey{}}, {"openssl_dhparam", OpensslDhparam{}}, {"openssl_csr", OpensslCsr{}}, {"openssl_csr_pipe", OpensslCsrPipe{}}} {
		for _, n := range []string{want.name, "community.crypto." + want.name} {
			if m, err := r.Resolve(n); err != nil || m != want.m {
				t.Errorf("Resolve(%q) = %T, %v; want %T", n, m, err, want.m)
			}
			if c := Canonical(n); c != want.name {
				t.Errorf("Canonical(%q) = %q", n, c)
			}
		}
	}
	// modules with a clock field are not comparable: compare their types
	for n, want := range map[string]string{"x509_certificate": "modules.X509Certificate", "community.crypto.x509_certificate": "modules.X509Certificate",
		"pamd": "modules.Pamd", "community.general.pamd": "modules.Pamd"} {
		if m, err := r.Resolve(n); err != nil || fmt.Sprintf("%T", m) != want {
			t.Errorf("Resolve(%q) = %T, %v; want %s", n, m, err, want)
		}
	}
}
