package modules

import (
	"strings"
	"testing"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// TestOpensslCsr makes, keeps and remakes CSRs with the real openssl CLI,
// locally and over SSH. The state is openssl's own reading of the CSR
// (subject and requested extensions) and whether it was signed by the key.
func TestOpensslCsr(t *testing.T) {
	cryptoNeedOpenssl(t)
	for tn, c := range sysTargets(t) {
		t.Run(tn, func(t *testing.T) {
			dir := t.TempDir()
			key, key2, p := dir+"/key.pem", dir+"/key2.pem", dir+"/req.csr"
			sysSh(t, c, "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "+conn.Quote(key)+
				" && openssl genpkey -algorithm ED25519 -out "+conn.Quote(key2)+" 2>/dev/null")
			state := func() string {
				return sysSh(t, c, "f="+conn.Quote(p)+`
[ -e "$f" ] || { echo absent; exit 0; }
stat -c %a "$f"
openssl req -in "$f" -noout -verify -text 2>&1 | grep -E '^subject|verify|Subject:|DNS:|Digital|TLS|CA:|X509v3' | sed 's/^ *//; s/ *$//'`)
			}
			base := map[string]any{"path": p, "privatekey_path": key, "common_name": "www.example.org",
				"subject_alt_name": []any{"DNS:www.example.org", "DNS:example.org", "IP:192.0.2.1"},
				"key_usage":        []any{"digitalSignature", "Key Encipherment"}, "key_usage_critical": true,
				"extended_key_usage": []any{"serverAuth"}, "basic_constraints": []any{"CA:FALSE"}}
			made := "644\nCertificate request self-signature verify OK\nSubject: CN = www.example.org\n" +
				"X509v3 Subject Alternative Name:\nDNS:example.org, DNS:www.example.org, IP Address:192.0.2.1\nX509v3 Key Usage: critical\n" +
				"Digital Signature, Key Encipherment\nX509v3 Extended Key Usage:\nTLS Web Server Authentication\nX509v3 Basic Constraints:\nCA:FALSE\n"
			org := strings.Replace(strings.ReplaceAll(made, "CN = www.example.org", "CN = www.example.org, O = Example $Co #1"), "644", "600", 1)
			ed := "600\nCertificate request self-signature verify OK\nSubject: CN = ed.example.org\nX509v3 Subject Alternative Name:\nDNS:ed.example.org\n"
			m := OpensslCsr{}
			steps := []cryptoStep{
				{"check new", true, base, true, false, "", "absent\n"},
				{"create", false, cryptoArgs(base, "mode", "0644"), true, false, "", made},
				{"again", false, base, false, false, "", made},
				{"san order", false, cryptoArgs(base, "subject_alt_name", []any{"IP:192.0.2.1", "DNS:example.org", "DNS:www.example.org"}), false, false, "", made},
				{"check org", true, cryptoArgs(base, "organization_name", "Example $Co #1"), true, false, "", made},
				{"org", false, cryptoArgs(base, "subject", map[string]any{"O": "Example $Co #1"}, "mode", "0600"), true, false, "", org},
				{"org again", false, cryptoArgs(base, "subject", map[string]any{"O": "Example $Co #1"}), false, false, "", org},
				{"unknown key usage", false, cryptoArgs(base, "key_usage", []any{"sign everything"}), false, true, `Unknown key usage "sign everything"`, org},
				{"no key", false, map[string]any{"path": p}, false, true, "state is present but any of the following are missing: privatekey_path, privatekey_content", org},
				{"missing key", false, map[string]any{"path": p, "privatekey_path": dir + "/nokey"}, false, true, "Error while loading the private key", org},
				{"other key", false, map[string]any{"path": p, "privatekey_path": key2, "CN": "ed.example.org"}, true, false, "", ed},
				{"other key again", false, map[string]any{"path": p, "privatekey_path": key2, "CN": "ed.example.org"}, false, false, "", ed},
				{"key content", false, map[string]any{"path": p, "privatekey_content": sysSh(t, c, "cat "+conn.Quote(key2)), "CN": "ed.example.org"}, false, false, "", ed},
				{"force", false, map[string]any{"path": p, "privatekey_path": key2, "CN": "ed.example.org", "force": true, "return_content": true}, true, false, "", ed},
				{"absent", false, map[string]any{"path": p, "state": "absent"}, true, false, "", "absent\n"},
				{"absent again", false, map[string]any{"path": p, "state": "absent"}, false, false, "", "absent\n"},
			}
			res := cryptoRunSteps(t, c, m, steps, state)
			if csr, _ := res["force"].Values["csr"].(string); !strings.HasPrefix(csr, "-----BEGIN CERTIFICATE REQUEST-----") {
				t.Errorf("csr %q", csr)
			}
		})
	}
}

// TestOpensslCsrPipe makes a CSR from nothing, keeps it when it is given
// back as content, and remakes it for another subject, locally and over
// SSH with the real openssl CLI.
func TestOpensslCsrPipe(t *testing.T) {
	cryptoNeedOpenssl(t)
	for tn, c := range sysTargets(t) {
		t.Run(tn, func(t *testing.T) {
			key := t.TempDir() + "/key.pem"
			sysSh(t, c, "openssl genpkey -algorithm ED25519 -out "+conn.Quote(key))
			args := map[string]any{"privatekey_path": key, "common_name": "pipe.example"}
			res, _ := sysRun(t, c, OpensslCsrPipe{}, false, false, args)
			sysExpect(t, "new", res, true, false, "")
			csr, _ := res.Values["csr"].(string)
			if got := sysSh(t, c, "printf '%s' "+conn.Quote(csr)+" | openssl req -noout -verify -subject 2>&1"); got != "Certificate request self-signature verify OK\nsubject=CN = pipe.example\n" {
				t.Errorf("openssl reads the CSR as %q", got)
			}
			res, _ = sysRun(t, c, OpensslCsrPipe{}, false, false, cryptoArgs(args, "content", csr))
			sysExpect(t, "kept", res, false, false, "")
			if res.Values["csr"] != csr {
				t.Errorf("kept csr %v", res.Values["csr"])
			}
			res, _ = sysRun(t, c, OpensslCsrPipe{}, true, false, cryptoArgs(args, "content", csr, "common_name", "other.example"))
			sysExpect(t, "check other", res, true, false, "")
			res, _ = sysRun(t, c, OpensslCsrPipe{}, false, false, cryptoArgs(args, "content", csr, "common_name", "other.example"))
			sysExpect(t, "other", res, true, false, "")
			if res.Values["csr"] == csr || res.Values["csr"] == nil {
				t.Errorf("csr not remade: %v", res.Values["csr"])
			}
			res, _ = sysRun(t, c, OpensslCsrPipe{}, false, false, map[string]any{"common_name": "x"})
			sysExpect(t, "no key", res, false, true, "one of the following is required: privatekey_path, privatekey_content")
		})
	}
}
