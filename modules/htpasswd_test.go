package modules

import (
	"context"
	"os/exec"
	"strings"
	"testing"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// htpasswdCheck asks the real htpasswd (apache2-utils) whether pw is
// user's password in file: the password goes on stdin.
func htpasswdCheck(t *testing.T, c conn.Conn, file, user, pw string) bool {
	t.Helper()
	res, err := c.Exec(context.Background(), conn.Command{Script: "htpasswd -v -i " + conn.Quote(file) + " " + conn.Quote(user), Stdin: []byte(pw)})
	if err != nil {
		t.Fatal(err)
	}
	return res.RC == 0
}

// TestHtpasswd runs the module locally and over SSH and checks every hash
// it writes with the real `htpasswd -v`; hashes the real htpasswd wrote
// are recognised (second run ok). Also check mode, file attributes,
// removal and the collection's messages.
func TestHtpasswd(t *testing.T) {
	if _, err := exec.LookPath("htpasswd"); err != nil {
		sysUnavailable(t, "needs htpasswd (apache2-utils)")
	}
	m := fileAttrs{Htpasswd{}, []string{"path"}}
	for _, tm := range fileTargets(t) {
		t.Run(tm.name, func(t *testing.T) {
			tg := tm.mk(t)
			d := tg.dir
			f := d + "/sub/users"
			state := func() string {
				return sh(t, tg.c, "[ -f "+f+" ] && { stat -c %a "+f+"; cut -d: -f1 "+f+"; }; true")
			}
			a := func(kv ...any) map[string]any {
				r := map[string]any{"path": f}
				for i := 0; i+1 < len(kv); i += 2 {
					r[kv[i].(string)] = kv[i+1]
				}
				return r
			}
			steps := []modsbStep{
				{"check", true, a("name", "alice", "password", "pw1"), true, false, "Create " + f, "", 1},
				{"create", false, a("name", "alice", "password", "pw1"), true, false, "Created " + f + " and added alice", "644\nalice\n", 2},
				{"again", false, a("username", "alice", "password", "pw1"), false, false, "alice already present", "644\nalice\n", 1},
				{"bcrypt", false, a("name", "bob", "password", "pw2", "hash_scheme", "bcrypt"), true, false, "Add/update bob", "644\nalice\nbob\n", 2},
				{"bcrypt again", false, a("name", "bob", "password", "pw2"), false, false, "bob already present", "644\nalice\nbob\n", 1},
				{"sha1", false, a("name", "carol", "password", "pw3", "crypt_scheme", "ldap_sha1"), true, false, "", "644\nalice\nbob\ncarol\n", 2},
				{"md5_crypt", false, a("name", "dave", "password", "pw4", "hash_scheme", "md5_crypt"), true, false, "", "644\nalice\nbob\ncarol\ndave\n", 2},
				{"new password check", true, a("name", "alice", "password", "new"), true, false, "Add/update alice", "644\nalice\nbob\ncarol\ndave\n", 1},
				{"new password", false, a("name", "alice", "password", "new"), true, false, "Add/update alice", "644\nalice\nbob\ncarol\ndave\n", 2},
				{"mode", false, a("name", "alice", "password", "new", "mode", "0640"), true, false, "alice already present and ownership, perms or SE linux context changed", "640\nalice\nbob\ncarol\ndave\n", 2},
				{"absent check", true, a("name", "bob", "state", "absent"), true, false, "Remove bob", "640\nalice\nbob\ncarol\ndave\n", 1},
				{"absent", false, a("name", "bob", "state", "absent"), true, false, "Remove bob", "640\nalice\ncarol\ndave\n", 2},
				{"absent again", false, a("name", "bob", "state", "absent"), false, false, "bob not present", "640\nalice\ncarol\ndave\n", 1},
				{"no create", false, a("path", d+"/none", "name", "x", "password", "p", "create", false), false, true, "Destination " + d + "/none does not exist", "640\nalice\ncarol\ndave\n", 1},
				{"absent no file", false, a("path", d+"/none", "name", "x", "state", "absent"), false, false, "x not present", "640\nalice\ncarol\ndave\n", 1},
				{"no password", false, a("name", "x"), false, true, "secret must be unicode or bytes, not None", "640\nalice\ncarol\ndave\n", 0},
				{"des_crypt", false, a("name", "x", "password", "p", "hash_scheme", "des_crypt"), false, true, "hash_scheme des_crypt is not supported", "640\nalice\ncarol\ndave\n", 0},
			}
			res := modsbRunSteps(t, tg.c, m, steps, state)
			if w := res["absent no file"].Warnings; len(w) != 1 || w[0] != d+"/none does not exist" {
				t.Errorf("warnings %q", w)
			}
			for _, up := range [][2]string{{"alice", "new"}, {"carol", "pw3"}, {"dave", "pw4"}} {
				if !htpasswdCheck(t, tg.c, f, up[0], up[1]) {
					t.Errorf("htpasswd -v rejects %s's password", up[0])
				}
			}
			if htpasswdCheck(t, tg.c, f, "alice", "pw1") {
				t.Error("htpasswd -v accepts alice's old password")
			}
			line := func(u string) string {
				return sh(t, tg.c, "grep '^"+u+":' "+f)
			}
			if l := line("alice"); !strings.HasPrefix(l, "alice:$apr1$") {
				t.Errorf("alice %q", l)
			}
			if l := line("carol"); !strings.HasPrefix(l, "carol:{SHA}") {
				t.Errorf("carol %q", l)
			}
			if l := line("dave"); !strings.HasPrefix(l, "dave:$1$") {
				t.Errorf("dave %q", l)
			}

			// bcrypt checked by htpasswd -v before bob's removal is not
			// possible now: add him again and check.
			r, _ := sysRun(t, tg.c, m, false, false, a("name", "bob", "password", "pw2", "hash_scheme", "bcrypt"))
			sysExpect(t, "bob again", r, true, false, "Add/update bob")
			if l := line("bob"); !strings.HasPrefix(l, "bob:$2b$12$") || !htpasswdCheck(t, tg.c, f, "bob", "pw2") {
				t.Errorf("bob %q not accepted by htpasswd -v", l)
			}

			// Entries the real htpasswd wrote (MD5 and bcrypt) are recognised;
			// a blank line is dropped when the file is written.
			g := d + "/real"
			res2, err := tg.c.Exec(context.Background(), conn.Command{Script: "htpasswd -c -i -m " + g + " frank && htpasswd -i -B " + g + " grace <<'EOF'\npwG\nEOF\necho >>" + g, Stdin: []byte("pwF")})
			if err != nil || res2.RC != 0 {
				t.Fatalf("htpasswd: %v %s", err, res2.Stderr)
			}
			for _, up := range [][2]string{{"frank", "pwF"}, {"grace", "pwG"}} {
				r, _ := sysRun(t, tg.c, m, false, false, map[string]any{"path": g, "name": up[0], "password": up[1]})
				sysExpect(t, up[0]+" written by htpasswd", r, false, false, up[0]+" already present")
			}
			r, _ = sysRun(t, tg.c, m, false, false, map[string]any{"path": g, "name": "heidi", "password": "pwH", "hash_scheme": "plaintext"})
			sysExpect(t, "plaintext", r, true, false, "Add/update heidi")
			if got := sh(t, tg.c, "cut -d: -f1 "+g+"; grep heidi "+g); got != "frank\ngrace\nheidi\nheidi:pwH\n" {
				t.Errorf("file written by htpasswd, then the module: %q", got)
			}
		})
	}
}
