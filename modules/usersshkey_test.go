package modules

import (
	"fmt"
	"strings"
	"testing"
)

// TestUserSSHKey creates a real user with an SSH key on a test host (the
// real useradd and ssh-keygen) and checks that the key is kept, made in
// check mode only on paper, replaced with force, and made with a
// passphrase, type, size and comment.
func TestUserSSHKey(t *testing.T) {
	sysNeedRoot(t, "useradd", "ssh-keygen")
	c := sysSSH(t)
	usr := sysUniq("mdok")
	home := "/srv/home-" + usr
	t.Cleanup(func() {
		sysSh(t, localConn(), fmt.Sprintf("userdel -r %s >/dev/null 2>&1; groupdel %s >/dev/null 2>&1; true", usr, usr))
	})
	user := map[string]any{"name": usr, "home": home, "generate_ssh_key": true, "ssh_key_bits": 2048}
	state := func() string {
		return sysSh(t, c, "cd "+home+" 2>/dev/null || { echo nohome; exit 0; }; for f in .ssh .ssh/*; do [ -e \"$f\" ] && stat -c '%n %a %U' \"$f\"; done; true")
	}
	keys := fmt.Sprintf(".ssh 700 %s\n.ssh/id_rsa 600 %s\n.ssh/id_rsa.pub 644 %s\n", usr, usr, usr)
	steps := []struct {
		what            string
		check           bool
		raw             map[string]any
		changed, failed bool
		msg, state      string
	}{
		{"check new", true, user, true, false, "", "nohome\n"},
		{"create", false, user, true, false, "", keys},
		{"again", false, user, false, false, "", keys},
		{"force check", true, cryptoArgs(user, "force", true), true, false, "", keys},
		{"ed25519", false, cryptoArgs(user, "ssh_key_type", "ed25519", "ssh_key_bits", nil, "ssh_key_comment", "me@example", "ssh_key_passphrase", "s3cret"), true, false, "",
			fmt.Sprintf(".ssh 700 %s\n.ssh/id_ed25519 600 %s\n.ssh/id_ed25519.pub 644 %s\n.ssh/id_rsa 600 %s\n.ssh/id_rsa.pub 644 %s\n", usr, usr, usr, usr, usr)},
		{"bad type", false, cryptoArgs(user, "ssh_key_type", "nosuchtype", "ssh_key_file", "/srv/"+usr+"-bad"), false, true, "unknown key type nosuchtype", ""},
	}
	res := map[string]Result{}
	for _, s := range steps {
		r, _ := sysRun(t, c, User{}, s.check, false, s.raw)
		sysExpect(t, s.what, r, s.changed, s.failed, s.msg)
		if s.state != "" {
			if got := state(); got != s.state {
				t.Errorf("%s: state\n%s\nwant\n%s", s.what, got, s.state)
			}
		}
		res[s.what] = r
	}
	c1, c2 := res["create"].Values, res["again"].Values
	pub := strings.TrimSpace(sysSh(t, c, "cat "+home+"/.ssh/id_rsa.pub"))
	if c1["ssh_public_key"] != pub || c2["ssh_public_key"] != pub || c1["ssh_key_file"] != home+"/.ssh/id_rsa" {
		t.Errorf("values %v / %v, public key %q", c1, c2, pub)
	}
	if fp, _ := c2["ssh_fingerprint"].(string); !strings.HasPrefix(fp, "2048 SHA256:") || !strings.HasSuffix(fp, "(RSA)") || fp != c1["ssh_fingerprint"] {
		t.Errorf("fingerprints %q %q", c1["ssh_fingerprint"], fp)
	}
	if !strings.HasPrefix(pub, "ssh-rsa ") || !strings.Contains(pub, " ansible-generated on ") {
		t.Errorf("public key %q", pub)
	}
	if got := sysSh(t, c, "ssh-keygen -y -P s3cret -f "+home+"/.ssh/id_ed25519"); !strings.HasPrefix(got, "ssh-ed25519 ") {
		t.Errorf("ed25519 key with passphrase reads back as %q", got)
	}
	if pub := res["ed25519"].Values["ssh_public_key"]; pub == nil || !strings.HasSuffix(pub.(string), " me@example") {
		t.Errorf("ed25519 public key %v", pub)
	}
	if r, _ := sysRun(t, c, User{}, false, false, cryptoArgs(user, "ssh_key_passphrase", "wrong")); r.Changed || r.Failed {
		t.Errorf("an existing key was touched: %v %q", r.Changed, r.Msg)
	}
}
