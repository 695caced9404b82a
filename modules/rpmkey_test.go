package modules

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// rpmStandIn is a stand-in rpm for Debian test hosts, which have no rpm
// database: it keeps each imported key as db/gpg-pubkey-SHORTID.asc and
// answers the four commands rpm_key runs (`-q gpg-pubkey`, the same with
// `--qf %{description}`, `--import FILE`, `--erase --allmatches NAME`).
func rpmStandIn(db string) string {
	return `db=` + conn.Quote(db) + `
mkdir -p "$db"
set -- "$@" "" "" ""
case $1 in
-q) [ "$2" = gpg-pubkey ] || exit 2
  ls "$db"/gpg-pubkey-*.asc >/dev/null 2>&1 || { echo "package gpg-pubkey is not installed"; exit 1; }
  if [ "$3" = --qf ]; then cat "$db"/gpg-pubkey-*.asc; else for f in "$db"/gpg-pubkey-*.asc; do basename "$f" .asc; done; fi ;;
--import) h=$(mktemp -d)
  id=$(gpg --homedir "$h" --batch --with-colons "$2" 2>/dev/null | awk -F: '/^pub:/ { print tolower(substr($5, 9)); exit }'); rm -rf "$h"
  [ -n "$id" ] || { echo "error: $2: import read failed(2)." >&2; exit 1; }
  cp "$2" "$db/gpg-pubkey-$id.asc" ;;
--erase) [ "$2" = --allmatches ] || exit 2
  [ -f "$db/$3.asc" ] || { echo "error: package $3 is not installed" >&2; exit 1; }
  rm "$db/$3.asc" ;;
*) echo "stand-in rpm: unexpected $*" >&2; exit 2 ;;
esac`
}

func TestRpmKeyHelpers(t *testing.T) {
	for _, tc := range []struct {
		s    string
		isID bool
	}{{"0xDEADBEEF", true}, {"deadbeef", true}, {"DEADBEEF12", true}, {"deadbee", false}, {"/etc/x", false}, {"deadbeef/file", true}} {
		if got := rpmkeyIDRe.MatchString(tc.s); got != tc.isID {
			t.Errorf("is key id %q = %v", tc.s, got)
		}
	}
	if got := rpmkeyNormalize(" 0xdeadBEEF "); got != "DEADBEEF" {
		t.Errorf("normalize = %q", got)
	}
	listing := "pub:-:255:22:9A7A62EBBC0176AD:1796459373:::-:\nuid:::::::::x:\nsub:-:255:18:048D314E19FCA6AD:1796459373::::\nfpr\n"
	for id, want := range map[string]bool{"9A7A62EBBC0176AD": true, "BC0176AD": true, "19FCA6AD": true, "DEADBEEF": false} {
		if got := rpmkeyImported(listing, id); got != want {
			t.Errorf("imported %s = %v", id, got)
		}
	}
	if got := rpmkeyPySet([]string{"A", "B"}); got != "{'A', 'B'}" {
		t.Errorf("pyset = %s", got)
	}
}

// TestRpmKey imports and removes keys through a stand-in rpm (the test
// hosts are Debian) and the real gpg, from a file, from a URL served by
// the test and by key id, locally and over SSH on a test host with a
// private overlay root (where the stand-in is installed as
// /usr/local/bin/rpm).
func TestRpmKey(t *testing.T) {
	sysNeedRoot(t, "gpg")
	one, err := os.ReadFile("testdata/rpmkey/one.asc")
	if err != nil {
		t.Fatal(err)
	}
	two, err := os.ReadFile("testdata/rpmkey/two.asc")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/two.asc":
			w.Write(two)
		case "/notakey":
			w.Write([]byte("hello\n"))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	localDB := t.TempDir()
	modsbStandIns(t, map[string]string{"rpm": rpmStandIn(localDB)})
	const oneID, twoID = "126D88DE", "BC0176AD"
	const twoFP, twoSubFP = "574E 68C5 DB94 C2AA 811D  45BE 9A7A 62EB BC01 76AD", "1D83CA40FF8894C5EB0F8800048D314E19FCA6AD"
	for tn, c := range modsbTargets(t) {
		t.Run(tn, func(t *testing.T) {
			db, dir := localDB, t.TempDir()
			if tn == "ssh" {
				db, dir = "/var/lib/mdo-rpm-stand-in", "/srv/rpmkey"
				sysSh(t, c, "mkdir -p /srv/rpmkey && cat >/usr/local/bin/rpm <<'EOF'\n#!/bin/sh\n"+rpmStandIn(db)+"\nEOF\nchmod 755 /usr/local/bin/rpm")
			}
			hostile := dir + "/it's $(echo x) key.asc"
			for p, b := range map[string][]byte{dir + "/one.asc": one, hostile: two} {
				if err := c.Put(t.Context(), strings.NewReader(string(b)), p, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			state := func() string {
				return sysSh(t, c, "ls "+conn.Quote(db)+" 2>/dev/null | tr '\\n' ' '")
			}
			file := func(p string, more ...string) map[string]any {
				m := map[string]any{"key": p}
				for i := 0; i+1 < len(more); i += 2 {
					m[more[i]] = more[i+1]
				}
				return m
			}
			oneF := "gpg-pubkey-" + strings.ToLower(oneID) + ".asc "
			twoF := "gpg-pubkey-" + strings.ToLower(twoID) + ".asc "
			steps := []modsbStep{
				{"check", true, file(dir + "/one.asc"), true, false, "", "", 1},
				{"import file", false, file(dir + "/one.asc"), true, false, "", oneF, 2},
				{"import again", false, file(dir + "/one.asc"), false, false, "", oneF, 1},
				{"present by id", false, file("0x" + strings.ToLower(oneID)), false, false, "", oneF, 1},
				{"missing by id", false, file(twoID), false, true, "When importing a key, a valid file must be given", oneF, 1},
				{"not a key", false, file(dir + "/nothing"), false, true, "Not a valid key " + dir + "/nothing", oneF, 1},
				{"fingerprint mismatch", false, map[string]any{"key": hostile, "fingerprint": []any{"DEAD BEEF"}}, false, true,
					"The specified fingerprint, '{'DEADBEEF'}', does not match any key fingerprints in '{'1D83CA40FF8894C5EB0F8800048D314E19FCA6AD', '574E68C5DB94C2AA811D45BE9A7A62EBBC0176AD'}'", oneF, 1},
				{"url check", true, map[string]any{"key": srv.URL + "/two.asc", "fingerprint": []any{twoFP, twoSubFP}}, true, false, "", oneF, 1},
				{"url", false, map[string]any{"key": srv.URL + "/two.asc", "fingerprint": []any{twoFP, twoSubFP}}, true, false, "", oneF + twoF, 2},
				{"hostile file present", false, file(hostile), false, false, "", oneF + twoF, 1},
				{"url not found", false, file(srv.URL + "/missing"), false, true, "failed to fetch key at " + srv.URL + "/missing , error was: ", oneF + twoF, 1},
				{"url not a key", false, file(srv.URL + "/notakey"), false, true, "Not a public key: " + srv.URL + "/notakey", oneF + twoF, 1},
				{"absent check", true, file(oneID, "state", "absent"), true, false, "", oneF + twoF, 1},
				{"absent", false, file(oneID, "state", "absent"), true, false, "", twoF, 2},
				{"absent again", false, file(oneID, "state", "absent"), false, false, "", twoF, 1},
				{"absent by file", false, file(hostile, "state", "absent"), true, false, "", "", 2},
			}
			modsbRunSteps(t, c, RpmKey{}, steps, state)
		})
	}
}

// TestRpmKeyMissingRpm checks the failure without rpm.
func TestRpmKeyMissingRpm(t *testing.T) {
	bin := t.TempDir()
	os.Symlink("/bin/sh", filepath.Join(bin, "sh"))
	t.Setenv("PATH", bin)
	res, _ := sysRun(t, localConn(), RpmKey{}, false, false, map[string]any{"key": "DEADBEEF"})
	sysExpect(t, "missing", res, false, true, `Failed to find required executable "rpm"`)
}
