package modules

import (
	"regexp"
	"strings"
	"testing"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// Public host keys for the known_hosts tests (made with ssh-keygen).
const (
	khEd1   = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEgV4lHJ46tPa5OM//HQQE8KNe/gTDUtYVedCSmtFc1j"
	khEd2   = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINRMI7qw9+3IwaOfpP9WKtwbTvldjPUp5ZklxptEllbR"
	khEcdsa = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBFO25y8OaH03Q4p8Okwev5jGvx3/XEk1wshIzD+UuG3o/BsbOn5U65G8pDY5/yl06m0Of8S6FO8+puOWOdRYp0s="
)

// TestKnownHosts replays a sequence that was run with ansible-core 2.14's
// known_hosts module on the same keys: the changed flags, messages and the
// file after each step are the ones it gave.
func TestKnownHosts(t *testing.T) {
	for _, tm := range fileTargets(t) {
		t.Run(tm.name, func(t *testing.T) {
			tg := tm.mk(t)
			kh := "DIR/ssh/known_hosts"
			sh(t, tg.c, "mkdir "+conn.Quote(tg.dir+"/ssh"))
			ex1, ex2, ex3 := "example.com "+khEd1, "example.com "+khEd2, "example.com "+khEcdsa
			other := "other.host " + khEd1
			hashed := regexp.MustCompile(`(?m)^\|1\|[A-Za-z0-9+/=]{28}\|[A-Za-z0-9+/=]{28} ` + regexp.QuoteMeta(khEd1) + `$`)
			steps := []struct {
				what            string
				check           bool
				args            map[string]any
				changed, failed bool
				msg             string
				file            string // the file afterwards; "-" absent, "~re" a pattern
				trips           int
			}{
				{what: "add, check mode", check: true, args: map[string]any{"name": "example.com", "key": ex1}, changed: true, file: "-", trips: 1},
				{what: "add", args: map[string]any{"name": "example.com", "key": ex1}, changed: true, file: ex1 + "\n", trips: 2},
				{what: "add again", args: map[string]any{"name": "example.com", "key": ex1}, file: ex1 + "\n", trips: 1},
				{what: "another key of the type, check mode", check: true, args: map[string]any{"name": "example.com", "key": ex2}, changed: true, file: ex1 + "\n", trips: 1},
				{what: "another key of the type replaces it", args: map[string]any{"name": "example.com", "key": ex2}, changed: true, file: ex2 + "\n", trips: 2},
				{what: "another type is added", args: map[string]any{"name": "example.com", "key": ex3}, changed: true, file: ex2 + "\n" + ex3 + "\n", trips: 2},
				{what: "another type again", args: map[string]any{"name": "example.com", "key": ex3}, file: ex2 + "\n" + ex3 + "\n", trips: 1},
				{what: "another host", args: map[string]any{"name": "other.host", "key": other}, changed: true, file: ex2 + "\n" + ex3 + "\n" + other + "\n", trips: 2},
				{what: "name in capitals", args: map[string]any{"name": "Other.HOST", "key": other}, file: ex2 + "\n" + ex3 + "\n" + other + "\n", trips: 1},
				{what: "remove a key", args: map[string]any{"name": "example.com", "key": ex2, "state": "absent"}, changed: true, file: ex3 + "\n" + other + "\n", trips: 2},
				{what: "remove the key again", args: map[string]any{"name": "example.com", "key": ex2, "state": "absent"}, file: ex3 + "\n" + other + "\n", trips: 1},
				{what: "remove the host, check mode", check: true, args: map[string]any{"name": "example.com", "state": "absent"}, changed: true, file: ex3 + "\n" + other + "\n", trips: 1},
				{what: "remove the host", args: map[string]any{"name": "example.com", "state": "absent"}, changed: true, file: other + "\n", trips: 2},
				{what: "remove the host again", args: map[string]any{"name": "example.com", "state": "absent"}, file: other + "\n", trips: 1},
				{what: "hashed", args: map[string]any{"name": "hashed.example", "key": "hashed.example " + khEd1, "hash_host": true}, changed: true, file: "~" + hashed.String(), trips: 2},
				{what: "hashed again", args: map[string]any{"name": "hashed.example", "key": "hashed.example " + khEd1, "hash_host": "yes"}, file: "~" + hashed.String(), trips: 1},
				{what: "key of another host", args: map[string]any{"name": "foo", "key": "bar " + khEd1}, failed: true, msg: "Host parameter does not match hashed host field in supplied key", file: "~" + hashed.String(), trips: 1},
				{what: "comma", args: map[string]any{"name": "a,b", "key": "a " + khEd1}, failed: true, msg: "Comma separated list of names is not supported. Please pass a single name to lookup in the known_hosts file.", file: "~" + hashed.String(), trips: 0},
				{what: "no key", args: map[string]any{"name": "foo"}, failed: true, msg: "No key specified when adding a host", file: "~" + hashed.String(), trips: 0},
			}
			for _, s := range steps {
				raw := map[string]any{"path": kh}
				for k, v := range s.args {
					raw[k] = v
				}
				r, trips := runOn(t, tg, KnownHosts{}, Env{Check: s.check, Diff: true}, raw)
				if r.Changed != s.changed || r.Failed != s.failed || r.Msg != s.msg || trips != s.trips {
					t.Errorf("%s: changed=%v failed=%v msg=%q trips=%d, want %v %v %q %d", s.what, r.Changed, r.Failed, r.Msg, trips, s.changed, s.failed, s.msg, s.trips)
				}
				got := strings.TrimSpace(sh(t, tg.c, "cat "+conn.Quote(tg.dir+"/ssh/known_hosts")+" 2>/dev/null || echo -"))
				switch {
				case strings.HasPrefix(s.file, "~"):
					if !regexp.MustCompile(s.file[1:]).MatchString(got) || strings.Count(got, "\n") != strings.Count(other, "\n")+1 {
						t.Errorf("%s: file\n%s\nwant a line matching %s after %s", s.what, got, s.file[1:], other)
					}
				case got != strings.TrimSpace(s.file):
					t.Errorf("%s: file\n%s\nwant\n%s", s.what, got, s.file)
				}
				// Removing a whole host shows no change in the diff: Ansible's
				// compute_diff knows no line for it.
				if s.changed && !s.failed && s.args["key"] != nil && (len(r.Diff) != 1 || r.Diff[0].After == r.Diff[0].Before) {
					t.Errorf("%s: diff %+v", s.what, r.Diff)
				}
				if !s.check && !s.failed && (r.Values["state"] != "file" || r.Values["mode"] != "0644" || r.Values["name"] != s.args["name"]) {
					t.Errorf("%s: values %v, want the path's info (state file, mode 0644) and the name", s.what, r.Values)
				}
			}
			// ssh-keygen -R leaves the old file beside it, as with Ansible.
			if got := sh(t, tg.c, "ls "+conn.Quote(tg.dir+"/ssh")); got != "known_hosts\nknown_hosts.old\n" {
				t.Errorf("files left: %q", got)
			}
		})
	}
}

// TestKnownHostsDiff checks the --diff of a replaced key and of a new
// file, as compute_diff makes them.
func TestKnownHostsDiff(t *testing.T) {
	tg := fileTargets(t)[0].mk(t)
	r, _ := runOn(t, tg, KnownHosts{}, Env{Check: true, Diff: true}, map[string]any{"path": "DIR/kh", "name": "example.com", "key": "example.com " + khEd1})
	if len(r.Diff) != 1 || r.Diff[0].BeforeHeader != "/dev/null" || r.Diff[0].Before != "" || r.Diff[0].After != "example.com "+khEd1+"\n" {
		t.Errorf("new file diff %+v", r.Diff)
	}
	setup(t, tg, map[string]string{"kh": "# c\nexample.com " + khEd1 + "\nother " + khEd2})
	r, _ = runOn(t, tg, KnownHosts{}, Env{Diff: true}, map[string]any{"path": "DIR/kh", "name": "example.com", "key": "example.com " + khEd2})
	want := "# c\nother " + khEd2 + "\nexample.com " + khEd2 + "\n"
	if !r.Changed || len(r.Diff) != 1 || mask(r.Diff[0].BeforeHeader, tg.dir) != "DIR/kh" || r.Diff[0].After != want {
		t.Errorf("replace diff %+v", r.Diff)
	}
	if got := sh(t, tg.c, "cat "+conn.Quote(tg.dir+"/kh")); got != want {
		t.Errorf("file %q, want %q", got, want)
	}
}
