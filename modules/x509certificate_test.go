package modules

import (
	"strings"
	"testing"
	"time"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// TestX509Certificate makes a self-signed CA and a certificate signed by
// it with the real openssl CLI, locally and over SSH, and checks when
// they are kept and when remade. The state is what `openssl x509` and
// `openssl verify` read back.
func TestX509Certificate(t *testing.T) {
	cryptoNeedOpenssl(t)
	for tn, c := range sysTargets(t) {
		t.Run(tn, func(t *testing.T) {
			d := t.TempDir()
			q := func(n string) string { return conn.Quote(d + "/" + n) }
			sysSh(t, c, "set -e; for k in ca leaf; do openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "+d+"/$k.key; done\n"+
				"openssl req -new -key "+q("ca.key")+" -subj /CN=Test-CA -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign -out "+q("ca.csr")+"\n"+
				"openssl req -new -key "+q("leaf.key")+" -subj /CN=leaf.example -addext subjectAltName=DNS:leaf.example -out "+q("leaf.csr")+"\n"+
				"openssl req -new -key "+q("leaf.key")+" -subj /CN=leaf.example -addext subjectAltName=DNS:other.example -out "+q("leaf2.csr"))
			state := func(name string) func() string {
				return func() string {
					return sysSh(t, c, "f="+q(name)+`
[ -e "$f" ] || { echo absent; exit 0; }
openssl x509 -in "$f" -noout -subject -issuer -ext subjectAltName,basicConstraints 2>&1 | sed 's/ *$//'
openssl verify -CAfile `+q("ca.pem")+` "$f" 2>&1 | sed 's/.*: //'`)
				}
			}
			ca := map[string]any{"path": d + "/ca.pem", "provider": "selfsigned", "csr_path": d + "/ca.csr", "privatekey_path": d + "/ca.key"}
			caState := "subject=CN = Test-CA\nissuer=CN = Test-CA\nX509v3 Basic Constraints: critical\n    CA:TRUE\nOK\n"
			m := X509Certificate{Now: time.Now}
			cryptoRunSteps(t, c, m, []cryptoStep{
				{"ca check", true, ca, true, false, "", "absent\n"},
				{"ca", false, ca, true, false, "", caState},
				{"ca again", false, ca, false, false, "", caState},
				{"no provider", false, map[string]any{"path": d + "/ca.pem", "csr_path": d + "/ca.csr"}, false, true, "state is present but all of the following are missing: provider", caState},
				{"bad not_after", false, cryptoArgs(ca, "selfsigned_not_after", "tomorrow"), false, true, `The time spec "tomorrow" for not_after is invalid`, caState},
				{"missing csr", false, cryptoArgs(ca, "csr_path", d+"/nocsr"), false, true, "The CSR file " + d + "/nocsr does not exist", caState},
			}, state("ca.pem"))
			caPEM := sysSh(t, c, "cat "+q("ca.pem"))
			expired := X509Certificate{Now: func() time.Time { return time.Now().AddDate(11, 0, 0) }}
			res, _ := sysRun(t, c, expired, false, false, ca)
			sysExpect(t, "ca expired", res, true, false, "")
			if sysSh(t, c, "cat "+q("ca.pem")) == caPEM {
				t.Error("an expired certificate was kept")
			}
			leaf := map[string]any{"path": d + "/leaf.pem", "provider": "ownca", "csr_path": d + "/leaf.csr",
				"ownca_path": d + "/ca.pem", "ownca_privatekey_path": d + "/ca.key", "ownca_not_after": "+30d", "return_content": true}
			leafState := "subject=CN = leaf.example\nissuer=CN = Test-CA\nX509v3 Subject Alternative Name:\n    DNS:leaf.example\nOK\n"
			leaf2State := strings.Replace(leafState, "DNS:leaf.example", "DNS:other.example", 1)
			r := cryptoRunSteps(t, c, m, []cryptoStep{
				{"leaf check", true, leaf, true, false, "", "absent\n"},
				{"leaf", false, leaf, true, false, "", leafState},
				{"leaf again", false, leaf, false, false, "", leafState},
				{"leaf with key", false, cryptoArgs(leaf, "privatekey_path", d+"/leaf.key"), false, false, "", leafState},
				{"leaf wrong key", true, cryptoArgs(leaf, "privatekey_path", d+"/ca.key"), true, false, "", leafState},
				{"leaf new csr check", true, cryptoArgs(leaf, "csr_path", d+"/leaf2.csr"), true, false, "", leafState},
				{"leaf new csr", false, cryptoArgs(leaf, "csr_path", d+"/leaf2.csr"), true, false, "", leaf2State},
				{"no ca key", false, cryptoArgs(leaf, "ownca_privatekey_path", nil), false, true, "provider is ownca but any of the following are missing: ownca_privatekey_path, ownca_privatekey_content", leaf2State},
			}, state("leaf.pem"))
			if got, _ := r["leaf again"].Values["certificate"].(string); got != r["leaf"].Values["certificate"] || !strings.HasPrefix(got, "-----BEGIN CERTIFICATE-----") {
				t.Errorf("certificate %q", got)
			}
			// A new CA key and certificate: the leaf no longer verifies and is remade.
			sysSh(t, c, "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "+q("ca.key"))
			res, _ = sysRun(t, c, m, false, false, cryptoArgs(ca, "force", true))
			sysExpect(t, "new ca", res, true, false, "")
			cryptoRunSteps(t, c, m, []cryptoStep{
				{"leaf after new ca", false, cryptoArgs(leaf, "csr_path", d+"/leaf2.csr"), true, false, "", leaf2State},
				{"leaf absent", false, map[string]any{"path": d + "/leaf.pem", "state": "absent"}, true, false, "", "absent\n"},
			}, state("leaf.pem"))
		})
	}
}

// TestX509CertificateDays checks the not_after forms.
func TestX509CertificateDays(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want int
	}{{"+3650d", 3650}, {"+1w", 7}, {"+1h", 1}, {"+2w3d", 17}, {"20260111000000Z", 10}} {
		if got, err := certDays(tc.in, now); err != nil || got != tc.want {
			t.Errorf("certDays(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"+", "+0s", "20250101000000Z", "soon"} {
		if _, err := certDays(bad, now); err == nil {
			t.Errorf("certDays(%q) accepted", bad)
		}
	}
}
