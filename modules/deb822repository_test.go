package modules

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/mdo-play/mdo-play/modules/conn"
)

func TestDeb822Render(t *testing.T) {
	args, err := Deb822Repository{}.Spec().Normalize(map[string]any{
		"name": "Docker CE", "uris": "https://download.docker.com/linux/debian", "suites": []any{"bookworm"},
		"components": "stable", "architectures": []any{"amd64", "arm64"}, "enabled": true, "trusted": "no",
		"date_max_future": 10, "signed_by": "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nabc\n-----END PGP PUBLIC KEY BLOCK-----\n",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "Architectures: amd64 arm64\nComponents: stable\nDate-Max-Future: 10\nEnabled: yes\nX-Repolib-Name: Docker CE\n" +
		"Signed-By:\n    -----BEGIN PGP PUBLIC KEY BLOCK-----\n    .\n    abc\n    -----END PGP PUBLIC KEY BLOCK-----\n" +
		"Suites: bookworm\nTrusted: no\nTypes: deb\nURIs: https://download.docker.com/linux/debian\n"
	if got := deb822Render(args, args.String("signed_by")); got != want {
		t.Errorf("render:\n%s\nwant:\n%s", got, want)
	}
	if got := deb822Slug("Docker CE_x.y"); got != "docker-ce-xy" {
		t.Errorf("slug %q", got)
	}
}

// TestDeb822Repository runs the module through real Conns in a root of the
// test's own (the module's root prefix), with signed_by as a file:// URL
// fetched by curl on the target, a path and an inline key.
func TestDeb822Repository(t *testing.T) {
	sysNeedRoot(t, "curl")
	for tn, c := range sysTargets(t) {
		t.Run(tn, func(t *testing.T) {
			root := t.TempDir()
			if tn == "ssh" {
				root = "/srv/" + sysUniq("deb822")
			}
			key := "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEYCQjIxYJ\n-----END PGP PUBLIC KEY BLOCK-----\n"
			sysSh(t, c, "mkdir -p "+root+"/etc/apt/sources.list.d "+root+"/src && printf '%s' "+conn.Quote(key)+" >"+root+"/src/docker.asc")
			m := Deb822Repository{root: root}
			dest := root + "/etc/apt/sources.list.d/docker.sources"
			kf := root + "/etc/apt/keyrings/docker.asc"
			base := map[string]any{"name": "docker", "types": "deb", "uris": "https://download.docker.com/linux/debian",
				"suites": "bookworm", "components": []any{"stable"}, "signed_by": "file://" + root + "/src/docker.asc"}
			with := func(extra map[string]any) map[string]any {
				r := map[string]any{}
				for k, v := range base {
					r[k] = v
				}
				for k, v := range extra {
					r[k] = v
				}
				return r
			}
			steps := []struct {
				what    string
				check   bool
				raw     map[string]any
				changed bool
				failed  bool
				msg     string
				sh      string // a check on the target, printing "ok"
			}{
				{"check mode changes nothing", true, base, true, false, "", "[ ! -e " + dest + " ] && [ ! -e " + kf + " ] && echo ok"},
				{"created", false, base, true, false, "",
					"[ \"$(cat " + dest + ")\" = " + conn.Quote("Components: stable\nX-Repolib-Name: docker\nSigned-By: "+kf+"\nSuites: bookworm\nTypes: deb\nURIs: https://download.docker.com/linux/debian") + " ] && " +
						"cmp -s " + kf + " " + root + "/src/docker.asc && [ $(stat -c %a " + kf + ") = 644 ] && [ $(stat -c %a " + dest + ") = 644 ] && [ $(stat -c %a " + root + "/etc/apt/keyrings) = 755 ] && echo ok"},
				{"second run ok", false, base, false, false, "", "echo ok"},
				{"second run in check mode ok", true, base, false, false, "", "echo ok"},
				{"mode", false, with(map[string]any{"mode": "0600"}), true, false, "", "[ $(stat -c %a " + dest + ") = 600 ] && echo ok"},
				{"mode again", false, with(map[string]any{"mode": "u=rw"}), false, false, "", "echo ok"},
				{"changed field in check mode", true, with(map[string]any{"enabled": false, "mode": "0600"}), true, false, "", "! grep -q Enabled " + dest + " && echo ok"},
				{"changed field", false, with(map[string]any{"enabled": false, "mode": "0600"}), true, false, "", "grep -qx 'Enabled: no' " + dest + " && [ $(stat -c %a " + dest + ") = 600 ] && echo ok"},
				{"signed_by a path", false, with(map[string]any{"signed_by": root + "/src/docker.asc", "mode": "0600"}), true, false, "", "grep -qx 'Signed-By: " + root + "/src/docker.asc' " + dest + " && echo ok"},
				{"inline key", false, with(map[string]any{"signed_by": key, "mode": "0600"}), true, false, "", "grep -qx '    mDMEYCQjIxYJ' " + dest + " && grep -qx '    [.]' " + dest + " && echo ok"},
				{"unreachable key URL", false, with(map[string]any{"signed_by": "file://" + root + "/nothere"}), false, true, "Could not fetch signed_by key", "echo ok"},
				{"hostile values", false, with(map[string]any{"suites": "$(echo INJECTED) `x` it's \"q\" a;b", "mode": "0600"}), true, false, "", "grep -qxF 'Suites: $(echo INJECTED) `x` it'\\''s \"q\" a;b' " + dest + " && echo ok"},
				{"bad types", false, with(map[string]any{"types": "rpm"}), false, true, "value of types must be one or more of: deb, deb-src", "echo ok"},
				{"absent in check mode", true, map[string]any{"name": "docker", "state": "absent"}, true, false, "", "[ -e " + dest + " ] && [ -e " + kf + " ] && echo ok"},
				{"absent removes", false, map[string]any{"name": "docker", "state": "absent"}, true, false, "", "[ ! -e " + dest + " ] && [ ! -e " + kf + " ] && echo ok"},
				{"absent again", false, map[string]any{"name": "docker", "state": "absent"}, false, false, "", "echo ok"},
			}
			for _, s := range steps {
				res, calls := sysRun(t, c, m, s.check, false, s.raw)
				sysExpect(t, s.what, res, s.changed, s.failed, s.msg)
				if calls != 1 && s.what != "bad types" {
					t.Errorf("%s: %d round trips, want 1", s.what, calls)
				}
				if out := strings.TrimSpace(sysSh(t, c, s.sh+" || true")); out != "ok" {
					t.Errorf("%s: %s did not hold", s.what, s.sh)
				}
				switch s.what {
				case "created":
					if res.Values["dest"] != dest || res.Values["key_filename"] != kf || !strings.HasPrefix(res.Values["repo"].(string), "Components: stable\n") {
						t.Errorf("created: values %v", res.Values)
					}
				case "inline key":
					if res.Values["key_filename"] != nil {
						t.Errorf("inline key: key_filename %v, want none", res.Values["key_filename"])
					}
				case "absent removes":
					if res.Values["repo"] != nil || res.Values["key_filename"] != filepath.Join(root, "etc/apt/keyrings/docker.gpg") {
						t.Errorf("absent: values %v", res.Values)
					}
				}
			}
			if tn == "ssh" {
				sysSh(t, c, "rm -rf "+root)
			}
		})
	}
}
