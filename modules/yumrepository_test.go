package modules

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/mdo-play/mdo-play/modules/conn"
)

func TestRawConfigParse(t *testing.T) {
	text := "# comment\n[b]\nKey = v1\n  cont\n\n  more\n; note\nother: x = y\n[DEFAULT]\nd = 1\n[a]\nz=\n"
	f, err := parseRawConfig(text, "f.repo")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := f.dump(), "[a]\nd = 1\nz = \n\n[b]\nd = 1\nkey = v1\ncont\n\nmore\nother = x = y\n\n"; got != want {
		t.Errorf("dump %q, want %q", got, want)
	}
	if got, want := f.write(), "[DEFAULT]\nd = 1\n\n[b]\nkey = v1\n\tcont\n\t\n\tmore\nother = x = y\n\n[a]\nz = \n\n"; got != want {
		t.Errorf("write %q, want %q", got, want)
	}
	for _, tc := range []struct{ text, want string }{
		{"k = v\n", "File contains no section headers."},
		{"[a]\n[a]\n", "section 'a' already exists"},
		{"[a]\nk=1\nK=2\n", "option 'k' in section 'a' already exists"},
		{"[a]\nnovalue\n", "Source contains parsing errors: 'f.repo'\n\t[line  2]: 'novalue\\n'"},
	} {
		if _, err := parseRawConfig(tc.text, "f.repo"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parse %q: %v, want %q", tc.text, err, tc.want)
		}
	}
}

// TestYumRepository writes repositories into a temporary reposdir, locally
// and over SSH, and checks the files against what ansible-core 2.14's
// module writes for the same arguments.
func TestYumRepository(t *testing.T) {
	for tn, c := range modsbTargets(t) {
		t.Run(tn, func(t *testing.T) {
			dir := t.TempDir()
			if tn == "ssh" {
				dir = "/srv/yumrepos"
				sysSh(t, c, "mkdir -p "+dir)
			}
			state := func() string {
				return sysSh(t, c, "cd "+conn.Quote(dir)+" && for f in *; do [ -e \"$f\" ] || continue; echo \"== $f $(stat -c %a \"$f\")\"; cat \"$f\"; done")
			}
			epel := map[string]any{"name": "epel", "description": "EPEL YUM repo", "baseurl": []any{"https://a/$releasever/", "https://b/"},
				"gpgcheck": true, "enabled": "no", "gpgkey": "https://k", "exclude": []any{"kernel*", "foo"}, "includepkgs": "a", "priority": 10,
				"sslverify": false, "module_hotfixes": true, "skip_if_unavailable": true, "proxy": "http://p:3128", "username": "u",
				"password": "secret", "repo_gpgcheck": false, "mirrorlist": "http://m", "metalink": "http://ml", "reposdir": dir, "file": "ext"}
			// ansible-core 2.14's file for epel
			epelText := "[epel]\nbaseurl = https://a/$releasever/\n\thttps://b/\nenabled = 0\nexclude = kernel* foo\ngpgcheck = 1\ngpgkey = https://k\n" +
				"includepkgs = a\nmetalink = http://ml\nmirrorlist = http://m\nmodule_hotfixes = 1\nname = EPEL YUM repo\npassword = secret\n" +
				"priority = 10\nproxy = http://p:3128\nrepo_gpgcheck = 0\nskip_if_unavailable = 1\nsslverify = 0\nusername = u\n\n"
			zz := map[string]any{"name": "zz", "description": "Z", "baseurl": "http://z", "reposdir": dir, "file": "ext"}
			zzText := "[zz]\nbaseurl = http://z\nname = Z\n\n"
			with := func(m map[string]any, kv ...any) map[string]any {
				out := map[string]any{}
				for k, v := range m {
					out[k] = v
				}
				for i := 0; i+1 < len(kv); i += 2 {
					out[kv[i].(string)] = kv[i+1]
				}
				return out
			}
			absent := func(n string) map[string]any {
				return map[string]any{"name": n, "state": "absent", "reposdir": dir, "file": "ext"}
			}
			hand := "# kept by hand\n[zz]\nname=Z\nbaseurl=http://z\n"
			steps := []modsbStep{
				{"check", true, epel, true, false, "", "", 1},
				{"add", false, epel, true, false, "", "== ext.repo 644\n" + epelText, 2},
				{"add again", false, epel, false, false, "", "== ext.repo 644\n" + epelText, 1},
				{"second repo", false, zz, true, false, "", "== ext.repo 644\n" + epelText + zzText, 2},
				{"mode", false, with(zz, "mode", "0600"), true, false, "", "== ext.repo 600\n" + epelText + zzText, 2},
				{"remove check", true, absent("epel"), true, false, "", "== ext.repo 600\n" + epelText + zzText, 1},
				{"remove", false, absent("epel"), true, false, "", "== ext.repo 600\n" + zzText, 2},
				{"remove again", false, absent("epel"), false, false, "", "== ext.repo 600\n" + zzText, 1},
				{"remove last", false, absent("zz"), true, false, "", "", 2},
				{"no description", false, with(zz, "description", nil), false, true, "Parameter 'description' is required.", "", 0},
				{"no url", false, with(zz, "baseurl", nil), false, true, "Parameter 'baseurl', 'metalink' or 'mirrorlist' is required.", "", 0},
				{"no reposdir", false, with(zz, "reposdir", dir+"/nope"), false, true, "Repo directory '" + dir + "/nope' does not exist.", "", 1},
			}
			res := modsbRunSteps(t, c, YumRepository{}, steps, state)
			d := res["add"].Diff
			if len(d) != 1 || d[0].Before != "" || !strings.Contains(d[0].After, "password = ********\n") || strings.Contains(d[0].After, "secret") {
				t.Errorf("add: diff %+v", d)
			}
			if v := res["add"].Values; v["repo"] != "epel" || v["state"] != "present" || v["dest"] != nil {
				t.Errorf("add: values %v", v)
			}
			// reposdir may be a link to the directory (os.path.isdir
			// follows links).
			sysSh(t, c, "ln -sfn "+conn.Quote(dir)+" "+conn.Quote(dir+"-link"))
			r, _ := sysRun(t, c, YumRepository{}, false, false, with(zz, "reposdir", dir+"-link"))
			sysExpect(t, "linked reposdir", r, true, false, "")
			if got := state(); got != "== ext.repo 644\n"+zzText {
				t.Errorf("linked reposdir: %q", got)
			}
			sysSh(t, c, "rm -f "+conn.Quote(dir+"-link")+" "+conn.Quote(dir+"/ext.repo"))
			// A file written by hand with the same settings is left alone,
			// comments and all.
			sysSh(t, c, "printf '%s' "+conn.Quote(hand)+" >"+conn.Quote(dir+"/ext.repo"))
			r, _ = sysRun(t, c, YumRepository{}, false, false, zz)
			sysExpect(t, "by hand", r, false, false, "")
			if got := state(); got != "== ext.repo 644\n"+hand {
				t.Errorf("by hand: %q", got)
			}
			r, _ = sysRun(t, c, YumRepository{}, false, false, with(zz, "enabled", true))
			sysExpect(t, "by hand, changed", r, true, false, "")
			if got := state(); got != "== ext.repo 644\n[zz]\nbaseurl = http://z\nenabled = 1\nname = Z\n\n" {
				t.Errorf("by hand, changed: %q", got)
			}
		})
	}
}

// TestYumRepositoryRecorded replays testdata/ansible/yum_repository.json,
// what ansible-core 2.14's yum_repository did (record_yum_repository.py):
// the same file content, changed on the first and second run, failure and
// message, locally and over SSH.
func TestYumRepositoryRecorded(t *testing.T) {
	data, err := os.ReadFile("testdata/ansible/yum_repository.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []recordedCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	for tn, c := range modsbTargets(t) {
		t.Run(tn, func(t *testing.T) {
			for i, rc := range cases {
				t.Run(rc.Name, func(t *testing.T) {
					dir := t.TempDir()
					if tn == "ssh" {
						dir = fmt.Sprintf("/srv/yumrec%d", i)
					}
					sysSh(t, c, "rm -rf "+dir+" && mkdir -p "+dir)
					p := dir + "/ext.repo"
					if rc.Init != nil {
						if err := c.Put(t.Context(), strings.NewReader(*rc.Init), p, 0o644); err != nil {
							t.Fatal(err)
						}
					}
					raw := map[string]any{"reposdir": dir, "file": "ext"}
					for k, v := range rc.Args {
						raw[k] = v
					}
					res, _ := sysRun(t, c, YumRepository{}, false, false, raw)
					if res.Failed != rc.Failed || res.Changed != rc.Changed || rc.Msg != "" && strings.ReplaceAll(res.Msg, dir, "DIR") != rc.Msg {
						t.Errorf("changed=%v failed=%v msg=%q, want changed=%v failed=%v msg=%q", res.Changed, res.Failed, res.Msg, rc.Changed, rc.Failed, rc.Msg)
					}
					got := sysSh(t, c, "cat "+p+" 2>/dev/null || echo MISSING")
					want := "MISSING\n"
					if rc.Content != nil {
						want = *rc.Content
					}
					if got != want {
						t.Errorf("content\n%s\nwant\n%s", got, want)
					}
					if rc.Failed {
						return
					}
					res, _ = sysRun(t, c, YumRepository{}, false, false, raw)
					if res.Changed != rc.Changed2 || res.Failed {
						t.Errorf("second run: changed=%v failed=%v %s, want changed=%v", res.Changed, res.Failed, res.Msg, rc.Changed2)
					}
				})
			}
		})
	}
}
