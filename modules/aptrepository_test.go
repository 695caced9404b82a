package modules

import (
	"strings"
	"testing"

	"github.com/mdo-play/mdo-play/modules/conn"
)

func TestAptSources(t *testing.T) {
	cases := []struct{ line, file string }{
		{"deb http://dl.google.com/linux/chrome/deb/ stable main", "dl_google_com_linux_chrome_deb.list"},
		{"deb [arch=amd64 signed-by=/k.gpg] https://user:pw@download.docker.com/linux/debian bookworm stable", "download_docker_com_linux_debian.list"},
		{"deb-src  file:/srv/repo ./", "file_srv_repo.list"},
	}
	for _, tc := range cases {
		if got := aptSuggestFilename(aptParse(tc.line).source); got != tc.file {
			t.Errorf("%q: file %q, want %q", tc.line, got, tc.file)
		}
	}
	s := aptParse("#deb  http://x  y main   # mine")
	if !s.valid || s.enabled || s.source != "deb http://x y main" || s.comment != "mine" || s.render() != "# deb http://x y main # mine\n" {
		t.Errorf("parse %+v", s)
	}
}

// TestAptRepository adds and removes repositories in apt sources of its
// own (APT_CONFIG points apt at a directory of the test), and updates the
// cache from a local flat repository, through a real Conn.
func TestAptRepository(t *testing.T) {
	sysNeedRoot(t, "apt-get")
	for tn, c := range sysTargets(t) {
		t.Run(tn, func(t *testing.T) {
			dir := t.TempDir()
			if tn == "ssh" {
				dir = "/srv/" + sysUniq("aptrepo")
			}
			sysSh(t, c, "mkdir -p "+dir+"/etc/sources.list.d "+dir+"/etc/apt.conf.d "+dir+"/lists/partial "+dir+"/cache/archives/partial "+dir+"/state "+dir+"/repo "+dir+"/repo2 "+dir+"/repo3 && : >"+dir+"/repo/Packages && : >"+dir+"/repo2/Packages && : >"+dir+"/repo3/Packages && "+
				"printf 'Dir::Etc \""+dir+"/etc\";\\nDir::State \""+dir+"/state\";\\nDir::State::Lists \""+dir+"/lists\";\\nDir::Cache \""+dir+"/cache\";\\n' >"+dir+"/apt.conf && "+
				"printf '# main\\ndeb [trusted=yes] file:"+dir+"/repo ./\\n#deb [trusted=yes] file:"+dir+"/repo2 ./\\n' >"+dir+"/etc/sources.list")
			ac := &prefixConn{Conn: c, prefix: "export APT_CONFIG=" + dir + "/apt.conf"}
			good := "deb [trusted=yes] file:" + dir + "/repo3 ./"
			newFile := dir + "/etc/sources.list.d/" + aptSuggestFilename(good)
			steps := []struct {
				what    string
				check   bool
				raw     map[string]any
				changed bool
				failed  bool
				msg     string
				sh      string // a check on the result, printing "ok"
			}{
				{"add check", true, map[string]any{"repo": good}, true, false, "", "[ ! -e " + newFile + " ] && echo ok"},
				{"add", false, map[string]any{"repo": good, "mode": "0600"}, true, false, "", "[ \"$(cat " + newFile + ")\" = " + conn.Quote(good) + " ] && [ $(stat -c %a " + newFile + ") = 600 ] && ls " + dir + "/lists | grep -q Packages && echo ok"},
				{"add again", false, map[string]any{"repo": good}, false, false, "", "echo ok"},
				{"already in sources.list", false, map[string]any{"repo": "deb  [trusted=yes] file:" + dir + "/repo ./"}, false, false, "", "echo ok"},
				{"enable a disabled line", false, map[string]any{"repo": "deb [trusted=yes] file:" + dir + "/repo2 ./"}, true, false, "",
					"[ \"$(cat " + dir + "/etc/sources.list)\" = \"$(printf '# main\\ndeb [trusted=yes] file:" + dir + "/repo ./\\ndeb [trusted=yes] file:" + dir + "/repo2 ./')\" ] && echo ok"},
				{"filename", false, map[string]any{"repo": "deb http://x.example.org/ stable main", "filename": "mine", "update_cache": "no"}, true, false, "", "[ -f " + dir + "/etc/sources.list.d/mine.list ] && echo ok"},
				{"absent removes the file", false, map[string]any{"repo": "deb http://x.example.org/ stable main", "state": "absent", "update_cache": false}, true, false, "", "[ ! -e " + dir + "/etc/sources.list.d/mine.list ] && echo ok"},
				{"absent again", false, map[string]any{"repo": "deb http://x.example.org/ stable main", "state": "absent"}, false, false, "", "echo ok"},
				{"failed update puts files back", false, map[string]any{"repo": "deb [trusted=yes] file:" + dir + "/nothere ./", "filename": "bad", "update_cache_retries": 1}, false, true, "Failed to update apt cache: E: Failed to fetch", "[ ! -e " + dir + "/etc/sources.list.d/bad.list ] && echo ok"},
				{"invalid", false, map[string]any{"repo": "http://x stable"}, false, true, "Invalid repository string: http://x stable", "echo ok"},
			}
			for _, s := range steps {
				res, _ := sysRun(t, ac, AptRepository{}, s.check, true, s.raw)
				sysExpect(t, s.what, res, s.changed, s.failed, s.msg)
				if out := strings.TrimSpace(sysSh(t, c, s.sh+" || true")); out != "ok" {
					t.Errorf("%s: %s did not hold", s.what, s.sh)
				}
				if s.what == "enable a disabled line" && tn == "local" {
					golden(t, "apt_repository/enable.diff", sysDiffText(res.Diff, dir))
				}
			}
		})
	}
}
