package modules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pmezard/go-difflib/difflib"
)

// sysDiffText renders diffs as unified diffs for golden files, with dir
// replaced by DIR.
func sysDiffText(ds []Diff, dir string) string {
	var b strings.Builder
	for _, d := range ds {
		text, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
			A: difflib.SplitLines(d.Before), B: difflib.SplitLines(d.After),
			FromFile: "before: " + d.BeforeHeader, ToFile: "after: " + d.AfterHeader, Context: 3,
		})
		b.WriteString(text)
	}
	if dir == "" {
		return b.String()
	}
	return strings.ReplaceAll(b.String(), dir, "DIR")
}

// TestCronEdit checks the crontab text the module writes, ported from the
// behaviour of Ansible's CronTab class and its integration target.
func TestCronEdit(t *testing.T) {
	job := func(name, j string) cronRequest {
		return cronRequest{name: name, job: j, jobGiven: true, present: true, minute: "*", hour: "*", day: "*", month: "*", weekday: "*"}
	}
	with := func(r cronRequest, f func(*cronRequest)) cronRequest { f(&r); return r }
	cases := []struct {
		name    string
		before  string
		r       cronRequest
		after   string
		changed bool
		fail    string
	}{
		{"add to empty", "", job("a", "ls"), "#Ansible: a\n* * * * * ls\n", true, ""},
		{"unchanged", "#Ansible: a\n* * * * * ls\n", job("a", "ls"), "#Ansible: a\n* * * * * ls\n", false, ""},
		{"append after other lines", "MAILTO=root\n# mine\n0 1 * * * x\n", job("a", "ls"), "MAILTO=root\n# mine\n0 1 * * * x\n#Ansible: a\n* * * * * ls\n", true, ""},
		{"update time", "#Ansible: a\n* * * * * ls\n#Ansible: b\n* * * * * b\n", with(job("a", "ls"), func(r *cronRequest) { r.minute, r.hour = "5", "2" }),
			"#Ansible: a\n5 2 * * * ls\n#Ansible: b\n* * * * * b\n", true, ""},
		{"adopt unmanaged identical line", "* * * * * ls\n", job("a", "ls"), "#Ansible: a\n* * * * * ls\n", true, ""},
		{"special time", "", with(job("r", "/bin/boot"), func(r *cronRequest) { r.special = "reboot" }), "#Ansible: r\n@reboot /bin/boot\n", true, ""},
		{"special time and fields", "", with(job("r", "x"), func(r *cronRequest) { r.special = "reboot"; r.hour = "1" }), "", false, "You must specify time and date fields or special time."},
		{"disabled", "", with(job("d", "x"), func(r *cronRequest) { r.disabled = true }), "#Ansible: d\n#* * * * * x\n", true, ""},
		{"cron file line has user", "", with(job("f", "x"), func(r *cronRequest) { r.cronFile, r.user = true, "www" }), "#Ansible: f\n* * * * * www x\n", true, ""},
		{"cron file needs user", "", with(job("f", "x"), func(r *cronRequest) { r.cronFile = true }), "", false, "To use cron_file=... parameter you must specify user=... as well"},
		{"job required", "", with(job("f", ""), func(r *cronRequest) { r.jobGiven = false }), "", false, "You must specify 'job' to install a new cron job or variable"},
		{"remove", "A=1\n#Ansible: a\n* * * * * ls\n#Ansible: b\n1 * * * * b\n", cronRequest{name: "a"}, "A=1\n#Ansible: b\n1 * * * * b\n", true, ""},
		{"remove missing", "A=1\n", cronRequest{name: "a"}, "A=1\n", false, ""},
		{"missing final newline", "#Ansible: a\n* * * * * ls", job("a", "ls"), "#Ansible: a\n* * * * * ls\n", true, ""},
		{"env first", "#Ansible: a\n* * * * * ls\n", cronRequest{name: "PATH", job: "/bin", jobGiven: true, present: true, env: true}, "PATH=\"/bin\"\n#Ansible: a\n* * * * * ls\n", true, ""},
		{"env unchanged", "PATH=\"/bin\"\n", cronRequest{name: "PATH", job: "/bin", jobGiven: true, present: true, env: true}, "PATH=\"/bin\"\n", false, ""},
		{"env update", "X=1\nPATH=\"/bin\"\n", cronRequest{name: "PATH", job: "/usr/bin", jobGiven: true, present: true, env: true}, "X=1\nPATH=\"/usr/bin\"\n", true, ""},
		{"env insertafter", "A=1\nB=2\n", cronRequest{name: "C", job: "3", jobGiven: true, present: true, env: true, insertAfter: "A"}, "A=1\nC=\"3\"\nB=2\n", true, ""},
		{"env insertbefore", "A=1\nB=2\n", cronRequest{name: "C", job: "3", jobGiven: true, present: true, env: true, insertBefore: "B"}, "A=1\nC=\"3\"\nB=2\n", true, ""},
		{"env insertafter missing", "A=1\n", cronRequest{name: "C", job: "3", jobGiven: true, present: true, env: true, insertAfter: "Z"}, "", false, "Variable named 'Z' not found."},
		{"env remove", "A=1\nB=2\n", cronRequest{name: "A", env: true}, "B=2\n", true, ""},
		{"insertafter without env", "", with(job("a", "x"), func(r *cronRequest) { r.insertAfter = "A" }), "", false, "Insertafter and insertbefore parameters are valid only with env=yes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lines, _ := cronLines(tc.before, false)
			o := cronEdit(lines, tc.before, tc.r)
			if o.failMsg != tc.fail {
				t.Fatalf("fail = %q, want %q", o.failMsg, tc.fail)
			}
			if tc.fail != "" {
				return
			}
			if got := cronRender(o.lines); got != tc.after || o.changed != tc.changed {
				t.Errorf("got changed=%v\n%q\nwant changed=%v\n%q", o.changed, got, tc.changed, tc.after)
			}
			// A second run on the result changes nothing.
			again := cronRender(o.lines)
			lines2, _ := cronLines(again, false)
			if o2 := cronEdit(lines2, again, tc.r); o2.changed {
				t.Errorf("second run changed: %q", cronRender(o2.lines))
			}
		})
	}
}

func TestCronHeader(t *testing.T) {
	in := "# DO NOT EDIT THIS FILE - edit the master and reinstall.\n# (/tmp/crontab.X installed on Mon Jan  1 00:00:00 2024)\n# (Cron version V5.0 -- $Id: crontab.c,v 2.13 1994/01/17 03:20:37 vixie Exp $)\n#Ansible: a\n* * * * * ls\n"
	lines, text := cronLines(in, true)
	if want := "#Ansible: a\n* * * * * ls\n"; text != want || cronRender(lines) != want {
		t.Errorf("header not stripped: %q / %q", text, cronRender(lines))
	}
}

// TestCronFile manages a cron_file locally (in a temp dir) and on a test
// host (under /srv).
func TestCronFile(t *testing.T) {
	for tn, c := range sysTargets(t) {
		t.Run(tn, func(t *testing.T) {
			dir := t.TempDir()
			if tn == "ssh" {
				dir = "/srv/" + sysUniq("cron")
				sysSh(t, c, "mkdir -p "+dir)
			}
			file := filepath.Join(dir, "mdo-job")
			add := map[string]any{"name": "backup", "job": "/usr/local/bin/backup", "hour": "2", "minute": "30", "user": "root", "cron_file": file}
			steps := []struct {
				what    string
				check   bool
				raw     map[string]any
				changed bool
				content string // "-" means no file
			}{
				{"add check", true, add, true, "-"},
				{"add", false, add, true, "#Ansible: backup\n30 2 * * * root /usr/local/bin/backup\n"},
				{"add again", false, add, false, "#Ansible: backup\n30 2 * * * root /usr/local/bin/backup\n"},
				{"env", false, map[string]any{"name": "MAILTO", "env": true, "job": "ops@example.com", "user": "root", "cron_file": file}, true,
					"MAILTO=\"ops@example.com\"\n#Ansible: backup\n30 2 * * * root /usr/local/bin/backup\n"},
				{"remove env", false, map[string]any{"name": "MAILTO", "env": true, "state": "absent", "cron_file": file}, true, "#Ansible: backup\n30 2 * * * root /usr/local/bin/backup\n"},
				{"change check", true, map[string]any{"name": "backup", "job": "/usr/local/bin/backup", "hour": "3", "minute": "30", "user": "root", "cron_file": file}, true,
					"#Ansible: backup\n30 2 * * * root /usr/local/bin/backup\n"},
				{"remove last job check", true, map[string]any{"name": "backup", "state": "absent", "cron_file": file}, true, "#Ansible: backup\n30 2 * * * root /usr/local/bin/backup\n"},
				{"remove last job", false, map[string]any{"name": "backup", "state": "absent", "cron_file": file}, true, "-"},
				{"remove again", false, map[string]any{"name": "backup", "state": "absent", "cron_file": file}, false, "-"},
			}
			for _, s := range steps {
				res, _ := sysRun(t, c, Cron{}, s.check, true, s.raw)
				sysExpect(t, s.what, res, s.changed, false, "")
				got := sysSh(t, c, "cat "+file+" 2>/dev/null || echo -")
				if strings.TrimSpace(got) == "-" {
					got = "-"
				}
				if got != s.content && !(s.content == "-" && got == "-") {
					t.Errorf("%s: file\n%q\nwant\n%q", s.what, got, s.content)
				}
				if s.what == "add" {
					if mode := strings.TrimSpace(sysSh(t, c, "stat -c %a "+file)); mode != "644" {
						t.Errorf("mode %s, want 644", mode)
					}
					if jobs, _ := res.Values["jobs"].([]string); len(jobs) != 1 || jobs[0] != "backup" {
						t.Errorf("jobs = %v", res.Values["jobs"])
					}
				}
				if tn == "local" && (s.what == "add" || s.what == "change check" || s.what == "remove last job") {
					golden(t, "cron/"+strings.ReplaceAll(s.what, " ", "_")+".diff", sysDiffText(res.Diff, dir))
				}
			}
		})
	}
}

// TestCronUser edits user crontabs through a fake crontab program that
// keeps one crontab per user in a directory, and fails clearly without
// crontab.
func TestCronUser(t *testing.T) {
	c := localConn()
	t.Run("no crontab", func(t *testing.T) {
		t.Setenv("PATH", t.TempDir()+":/usr/bin:/bin")
		if _, err := os.Stat("/usr/bin/crontab"); err == nil {
			t.Skip("crontab is installed here")
		}
		res, _ := sysRun(t, c, Cron{}, false, false, map[string]any{"name": "a", "job": "ls"})
		sysExpect(t, "no crontab", res, false, true, `Failed to find required executable "crontab"`)
	})
	dir := t.TempDir()
	tabs := filepath.Join(dir, "tabs")
	os.Mkdir(tabs, 0o755)
	os.Mkdir(filepath.Join(dir, "bin"), 0o755)
	fake := `#!/bin/sh
u=$(id -un)
if [ "$1" = -u ]; then u=$2; shift 2; fi
case $1 in
-l) [ -f ` + tabs + `/$u ] || { echo "no crontab for $u" >&2; exit 1; }
    printf '# DO NOT EDIT THIS FILE - edit the master and reinstall.\n# (/tmp/crontab.x installed on now)\n# (Cron version V5.0)\n'
    cat ` + tabs + `/$u ;;
-) cat > ` + tabs + `/$u ;;
esac
`
	if err := os.WriteFile(filepath.Join(dir, "bin", "crontab"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", filepath.Join(dir, "bin")+":"+os.Getenv("PATH"))
	steps := []struct {
		what    string
		check   bool
		raw     map[string]any
		changed bool
		user    string
		content string
	}{
		{"add check", true, map[string]any{"name": "a", "job": "ls", "user": "nobody"}, true, "nobody", ""},
		{"add", false, map[string]any{"name": "a", "job": "ls", "user": "nobody"}, true, "nobody", "#Ansible: a\n* * * * * ls\n"},
		{"add again", false, map[string]any{"name": "a", "job": "ls", "user": "nobody"}, false, "nobody", "#Ansible: a\n* * * * * ls\n"},
		{"own crontab", false, map[string]any{"name": "b", "special_time": "daily", "job": "date"}, true, "root", "#Ansible: b\n@daily date\n"},
		{"remove", false, map[string]any{"name": "a", "state": "absent", "user": "nobody"}, true, "nobody", ""},
	}
	for _, s := range steps {
		res, _ := sysRun(t, c, Cron{}, s.check, true, s.raw)
		sysExpect(t, s.what, res, s.changed, false, "")
		got, _ := os.ReadFile(filepath.Join(tabs, s.user))
		if string(got) != s.content {
			t.Errorf("%s: crontab of %s = %q, want %q", s.what, s.user, got, s.content)
		}
		if s.what == "add" {
			golden(t, "cron/user_add.diff", sysDiffText(res.Diff, ""))
		}
	}
}
