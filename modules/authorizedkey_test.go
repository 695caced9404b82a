package modules

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
)

const (
	keyA = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGkE5Fv0dZ0nmdoAAAAAAAAAAAAAAAAAAAAAAAAAAAAA alice@example"
	keyB = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCmdoBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB bob@example"
)

func TestAuthKeysEdit(t *testing.T) {
	str := func(s string) *string { return &s }
	cases := []struct {
		name      string
		before    string
		key       string
		present   bool
		exclusive bool
		opts      *string
		comment   *string
		after     string
		changed   bool
		bad       string
	}{
		{"add to empty", "", keyA, true, false, nil, nil, keyA + "\n", true, ""},
		{"already there", "# mine\n" + keyA + "\n", keyA, true, false, nil, nil, "# mine\n" + keyA + "\n", false, ""},
		{"append keeps order", keyB + "\n# c\n", keyA, true, false, nil, nil, keyB + "\n# c\n" + keyA + "\n", true, ""},
		{"two keys at once", "", keyA + "\n" + keyB + "\n", true, false, nil, nil, keyA + "\n" + keyB + "\n", true, ""},
		{"options replace the line", keyA + "\n" + keyB + "\n", keyA, true, false, str(`no-pty, from="10.0.0.1"`), nil,
			keyB + "\n" + `no-pty,from="10.0.0.1" ` + keyA + "\n", true, ""},
		{"options unchanged", `no-pty,from="10.0.0.1" ` + keyA + "\n", keyA, true, false, str(`no-pty,from="10.0.0.1"`), nil,
			`no-pty,from="10.0.0.1" ` + keyA + "\n", false, ""},
		{"comment", keyA + "\n", keyA, true, false, nil, str("deploy"), strings.TrimSuffix(keyA, " alice@example") + " deploy\n", true, ""},
		{"exclusive", keyB + "\n# c\n" + keyA + "\n", keyA, true, true, nil, nil, keyA + "\n", true, ""},
		{"absent", keyB + "\n" + keyA + "\n", keyA, false, false, nil, nil, keyB + "\n", true, ""},
		{"absent again", keyB + "\n", keyA, false, false, nil, nil, keyB + "\n", false, ""},
		{"invalid", "", "not a key", true, false, nil, nil, "", false, "invalid key specified: not a key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			after, changed, bad := authKeysEdit(tc.before, tc.key, tc.present, tc.exclusive, tc.opts, tc.comment)
			if bad != tc.bad {
				t.Fatalf("bad = %q, want %q", bad, tc.bad)
			}
			if tc.bad != "" {
				return
			}
			if after != tc.after || changed != tc.changed {
				t.Errorf("got changed=%v\n%s\nwant changed=%v\n%s", changed, after, tc.changed, tc.after)
			}
			if _, again, _ := authKeysEdit(after, tc.key, tc.present, tc.exclusive, tc.opts, tc.comment); again {
				t.Error("second run changed")
			}
		})
	}
}

// TestAuthorizedKey writes keys through the real Conn: locally for root
// into a temp dir (path), and on a test host for a fresh user whose home
// is under /srv (manage_dir creates ~/.ssh).
func TestAuthorizedKey(t *testing.T) {
	sysNeedRoot(t, "useradd")
	for tn, c := range sysTargets(t) {
		t.Run(tn, func(t *testing.T) {
			user, file, base := "root", "", map[string]any{}
			if tn == "local" {
				dir := t.TempDir()
				file = filepath.Join(dir, "ssh", "authorized_keys")
				base["path"] = file
			} else {
				user = sysUniq("mdok")
				sysSh(t, c, "useradd -m -d /srv/"+user+" "+user)
				t.Cleanup(func() { sysSh(t, localConn(), "userdel "+user+" >/dev/null 2>&1; true") })
				file = "/srv/" + user + "/.ssh/authorized_keys"
			}
			args := func(kv ...any) map[string]any {
				m := map[string]any{"user": user}
				for k, v := range base {
					m[k] = v
				}
				for i := 0; i+1 < len(kv); i += 2 {
					m[kv[i].(string)] = kv[i+1]
				}
				return m
			}
			steps := []struct {
				what    string
				check   bool
				raw     map[string]any
				changed bool
				failed  bool
				msg     string
				content string // "-": no file
			}{
				{"add check", true, args("key", keyA), true, false, "", "-"},
				{"add", false, args("key", keyA), true, false, "", keyA + "\n"},
				{"add again", false, args("key", keyA), false, false, "", keyA + "\n"},
				{"second key exclusive", false, args("key", keyB, "exclusive", true), true, false, "", keyB + "\n"},
				{"remove", false, args("key", keyB, "state", "absent"), true, false, "", ""},
				{"unknown user", false, map[string]any{"user": "mdo-no-such-user", "key": keyA}, false, true, "Failed to lookup user mdo-no-such-user", ""},
			}
			for _, s := range steps {
				res, trips := sysRun(t, c, AuthorizedKey{}, s.check, true, s.raw)
				sysExpect(t, s.what, res, s.changed, s.failed, s.msg)
				if s.failed {
					continue
				}
				want := 1
				if s.changed && !s.check {
					want = 2
				}
				if trips != want {
					t.Errorf("%s: %d round trips, want %d", s.what, trips, want)
				}
				if res.Values["keyfile"] != file {
					t.Errorf("%s: keyfile %v, want %s", s.what, res.Values["keyfile"], file)
				}
				got := sysSh(t, c, "cat "+file+" 2>/dev/null || echo -")
				if s.content == "-" {
					s.content = "-\n"
				}
				if got != s.content {
					t.Errorf("%s: file %q, want %q", s.what, got, s.content)
				}
				if s.what == "add" {
					st := strings.Fields(sysSh(t, c, "stat -c '%a %U' "+file+" "+filepath.Dir(file)))
					if strings.Join(st, " ") != "600 "+user+" 700 "+user {
						t.Errorf("modes/owners %v, want 600/700 owned by %s", st, user)
					}
				}
			}
		})
	}
}

// TestAuthorizedKeyURL fetches the keys from a URL on the target, as
// Ansible does (key: https://github.com/user.keys).
func TestAuthorizedKeyURL(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/me.keys" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintln(w, keyA)
	}))
	t.Cleanup(srv.Close)
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "authorized_keys")
	c := localConn()
	res, _ := sysRun(t, c, AuthorizedKey{}, false, false, map[string]any{"user": me.Username, "path": file, "key": srv.URL + "/me.keys"})
	sysExpect(t, "from URL", res, true, false, "")
	if got := sysSh(t, c, "cat "+file); got != keyA+"\n" {
		t.Errorf("file %q, want the fetched key", got)
	}
	res, _ = sysRun(t, c, AuthorizedKey{}, false, false, map[string]any{"user": me.Username, "path": file, "key": srv.URL + "/nope"})
	sysExpect(t, "bad URL", res, false, true, "Error getting key from: "+srv.URL+"/nope")
}
