package modules

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// aptkeyTestKey is a key made for the tests: its long id, fingerprint and
// exported forms.
type aptkeyTestKey struct {
	long, fpr       string
	armored, binary string // file paths
	armoredText     string
}

// aptkeyMakeKeys generates n ed25519 keys with gpg in a home of their own.
func aptkeyMakeKeys(t *testing.T, dir string, n int) []aptkeyTestKey {
	t.Helper()
	c := localConn()
	home := filepath.Join(dir, "gnupg")
	sysSh(t, c, "mkdir -m 700 "+conn.Quote(home))
	var keys []aptkeyTestKey
	for i := 0; i < n; i++ {
		uid := sysUniq("mdo-aptkey") + "@example.invalid"
		g := "gpg --homedir " + conn.Quote(home) + " --batch "
		sysSh(t, c, g+"--passphrase '' --quick-gen-key "+conn.Quote(uid)+" ed25519 sign never 2>/dev/null")
		var k aptkeyTestKey
		for _, line := range strings.Split(sysSh(t, c, g+"--with-colons --fingerprint --list-keys "+conn.Quote(uid)), "\n") {
			f := strings.Split(line, ":")
			switch {
			case f[0] == "pub" && len(f) > 4:
				k.long = f[4]
			case f[0] == "fpr" && len(f) > 9 && k.fpr == "":
				k.fpr = f[9]
			}
		}
		k.armored = filepath.Join(dir, uid+".asc")
		k.binary = filepath.Join(dir, uid+".gpg")
		sysSh(t, c, g+"--armor --export "+conn.Quote(uid)+" >"+conn.Quote(k.armored)+" && "+g+"--export "+conn.Quote(uid)+" >"+conn.Quote(k.binary))
		b, err := os.ReadFile(k.armored)
		if err != nil {
			t.Fatal(err)
		}
		k.armoredText = string(b)
		if len(k.long) != 16 || len(k.fpr) != 40 {
			t.Fatalf("key ids %q %q", k.long, k.fpr)
		}
		keys = append(keys, k)
	}
	return keys
}

// TestAptKey adds and removes locally generated keys in a keyring file
// of the test's own, through the real Conn (local and a test host), from
// a file, inline data, a URL on a local HTTP server and a stand-in HKP
// keyserver; with short, long and full ids; in check mode; and its errors.
func TestAptKey(t *testing.T) {
	sysNeedRoot(t, "apt-key", "gpg")
	dir := t.TempDir()
	keys := aptkeyMakeKeys(t, dir, 5)
	k1, k2, k3, k4, k5 := keys[0], keys[1], keys[2], keys[3], keys[4]
	k3bin, err := os.ReadFile(k3.binary)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/k3.gpg":
			w.Write(k3bin)
		case r.URL.Path == "/pks/lookup" && r.URL.Query().Get("op") == "get":
			if strings.HasSuffix(strings.ToUpper(r.URL.Query().Get("search")), k4.long) {
				w.Write([]byte(k4.armoredText))
				return
			}
			http.NotFound(w, r)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	for tn, c := range sysTargets(t) {
		t.Run(tn, func(t *testing.T) {
			ring := filepath.Join(t.TempDir(), "ring.gpg")
			args := func(kv ...any) map[string]any {
				m := map[string]any{"keyring": ring}
				for i := 0; i+1 < len(kv); i += 2 {
					m[kv[i].(string)] = kv[i+1]
				}
				return m
			}
			listed := func() string {
				out := sysSh(t, c, "apt-key --keyring "+conn.Quote(ring)+" adv --list-public-keys --keyid-format=long 2>/dev/null || true")
				return strings.Join(aptkeyParseKeys(out, false), " ")
			}
			steps := []struct {
				what    string
				check   bool
				raw     map[string]any
				changed bool
				keyring string // the long ids listed afterwards
			}{
				{"file check", true, args("file", k1.armored), true, ""},
				{"file", false, args("file", k1.armored), true, k1.long},
				{"file again", false, args("file", k1.armored), false, k1.long},
				{"short id", false, args("id", k1.long[8:], "file", k1.armored), false, k1.long},
				{"fingerprint", false, args("id", k1.fpr), false, k1.long},
				{"0x long id", false, args("id", "0x"+strings.ToLower(k1.long)), false, k1.long},
				{"data check", true, args("data", k2.armoredText), true, k1.long},
				{"data", false, args("data", k2.armoredText), true, k1.long + " " + k2.long},
				{"data again", false, args("data", k2.armoredText), false, k1.long + " " + k2.long},
				{"url", false, args("url", srv.URL+"/k3.gpg"), true, k1.long + " " + k2.long + " " + k3.long},
				{"url again", false, args("url", srv.URL+"/k3.gpg"), false, k1.long + " " + k2.long + " " + k3.long},
				{"url with id", false, args("id", k3.fpr, "url", srv.URL+"/missing"), false, k1.long + " " + k2.long + " " + k3.long},
				{"absent check", true, args("id", k2.long, "state", "absent"), true, k1.long + " " + k2.long + " " + k3.long},
				{"absent", false, args("id", k2.long, "state", "absent"), true, k1.long + " " + k3.long},
				{"absent again", false, args("id", k2.long, "state", "absent"), false, k1.long + " " + k3.long},
				{"absent short id", false, args("id", k3.long[8:], "state", "absent"), true, k1.long},
				{"keyserver", false, args("id", k4.long, "keyserver", "hkp://"+strings.TrimPrefix(srv.URL, "http://")), true, k1.long + " " + k4.long},
				{"keyserver again", false, args("id", k4.long, "keyserver", "hkp://"+strings.TrimPrefix(srv.URL, "http://")), false, k1.long + " " + k4.long},
			}
			for _, s := range steps {
				res, trips := sysRun(t, c, AptKey{}, s.check, false, s.raw)
				sysExpect(t, s.what, res, s.changed, false, "")
				if got := listed(); got != s.keyring {
					t.Errorf("%s: keyring holds %q, want %q", s.what, got, s.keyring)
				}
				if want := map[bool]int{true: 2, false: 1}[s.changed && !s.check]; trips != want {
					t.Errorf("%s: %d round trips, want %d", s.what, trips, want)
				}
				if s.what == "file" {
					want := map[string]any{"id": k1.long, "short_id": k1.long[8:], "fp": k1.long, "key_id": k1.long, "before": []any{}, "after": []any{k1.long}}
					if !reflect.DeepEqual(res.Values, want) {
						t.Errorf("values %v, want %v", res.Values, want)
					}
				}
			}

			for _, bad := range []struct {
				what string
				raw  map[string]any
				msg  string
			}{
				{"not hex", args("id", "XYZXYZXY"), "Invalid key_id"},
				{"bad length", args("id", "0123456789AB"), "Invalid key_id"},
				{"keyserver without id", args("keyserver", "hkp://127.0.0.1:1"), "Missing key_id, required with keyserver."},
				{"url 404", args("url", srv.URL+"/missing"), "Failed to download key at " + srv.URL + "/missing"},
				{"missing file", args("file", dir+"/nope.asc"), "Unable to extract key from '" + dir + "/nope.asc'"},
				{"id not in file", args("id", k5.long, "file", k1.armored), "apt-key did not return an error, but failed to add the key"},
				{"key not on keyserver", args("id", k5.long, "keyserver", "hkp://"+strings.TrimPrefix(srv.URL, "http://")), "from keyserver"},
			} {
				res, _ := sysRun(t, c, AptKey{}, false, false, bad.raw)
				sysExpect(t, bad.what, res, false, true, bad.msg)
			}
		})
	}
}
