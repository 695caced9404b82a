package modules

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mdo-play/mdo-play/modules/conn"

	"github.com/mdo-play/mdo-play/templates/pyre"
)

// Shell safety (issue 7): every path and value a module hands to a remote
// shell must arrive exactly as given. The names below are used as file
// names and as values through every module that takes paths or values, on
// each target (local, and an sshd test host), and the test checks the exact
// bytes on the target. A name that a shell expanded, split or globbed would
// leave a different file behind.

// hostileNames are valid file names (no "/" and no NUL) that break naive
// quoting.
var hostileNames = []struct{ label, s string }{
	{"spaces", "a b  c"},
	{"single-quote", "it's"},
	{"double-quote", `say "hi"`},
	{"command-substitution", "$(echo INJECTED)"},
	{"backticks", "`echo INJECTED`"},
	{"newline", "line1\nline2"},
	{"trailing-newline", "trail\n"},
	{"non-utf8", "caf\xe9\xff"},
	{"leading-dash", "-rf"},
	{"metachars", "a;b&c|d>e<f*g?h[i]~j{k}!l#m"},
	// Unset variables stay as written, as in Ansible (os.path.expandvars).
	{"variables", "$MDO_UNSET_VAR${MDO_UNSET_TOO}x"},
	{"backslashes", `back\slash\n`},
	{"tab", "tab\there"},
}

// shellSafetyNotApplicable lists the registered modules the test does not
// drive, and why. A module missing from both this list and the cases below
// fails TestShellSafetyCoversEveryModule.
var shellSafetyNotApplicable = map[string]string{
	"assert":          "controller only",
	"debug":           "controller only",
	"fail":            "controller only",
	"set_fact":        "controller only",
	"include_vars":    "controller only (reads controller files)",
	"ping":            "takes no path or value to the target",
	"setup":           "takes no path or value to the target",
	"raw":             "the free-form text is a shell command by definition",
	"script":          "the free-form text is a shell command line by definition",
	"uri":             "URL, body and credentials go on stdin (uri_test.go); needs an HTTP server",
	"get_url":         "needs an HTTP server",
	"unarchive":       "needs archives with hostile member names; not staged yet",
	"hostname":        "changes the machine's name; covered by the canary test in check mode",
	"apt":             "covered by the canary test in check mode",
	"dnf":             "not installed on the test hosts",
	"yum":             "not installed on the test hosts",
	"package":         "covered by the canary test in check mode (as apt)",
	"service":         "covered by the canary test",
	"systemd":         "covered by the canary test",
	"systemd_service": "covered by the canary test",
	"user":            "covered by the canary test in check mode",
	"group":           "covered by the canary test in check mode",
	"alternatives":    "driven with the real update-alternatives in test directories (alternatives_test.go); hostile names not staged yet",
	"apt_repository":  "needs apt sources of its own (aptrepository_test.go); hostile names not staged yet",
	"git":             "needs a repository named by the hostile name; not staged yet",
	"pip":             "needs a virtualenv and wheels named by the hostile name; not staged yet",
	"seboolean":       "SELinux is absent on the test hosts (selinux_test.go)",
	"selinux":         "SELinux is absent on the test hosts; configfile is covered in selinux_test.go",

	// issue 12's modules
	"deb822_repository": "writes fixed paths under /etc/apt (the name is slugged to [a-z0-9-]); hostile field values: TestDeb822Repository",
	"pacman":            "not on the test hosts; a hostile name against a stand-in pacman: TestPacman",
	"zypper":            "not on the test hosts; tested against a stand-in zypper: TestZypper (names go to zypper quoted, as words)",
	"apk":               "not on the test hosts; a hostile name against a stand-in apk: TestApk",
	"pkgng":             "not on the test hosts; tested against a stand-in pkg: TestPkgng (names go to pkg quoted, as words)",
	"package_facts":     "takes no path or value to the target (manager names are chosen from a fixed list)",
	"service_facts":     "takes no path or value to the target",
	"apt_key":           "ids are hex digits; the keyring, file and url arguments are quoted words (aptkey_test.go); hostile names not staged yet",
	"timezone":          "a zone must name a file under /usr/share/zoneinfo ('..' refused) before it reaches a command, and goes to it quoted (timezone_test.go); hostile names not staged yet",
	"locale_gen":        "a locale must be listed in the target's supported locales before it reaches a command, and goes to it quoted (localegen_test.go); hostile names not staged yet",
	"modprobe":          "needs a kernel module of the hostile name (stand-in modprobe only, modprobe_test.go); names and params go to it quoted; not staged yet",
	"iptables":          "every argument goes to iptables as a quoted word (quoteWords); runs only in a private netns (iptables_test.go); hostile values not staged yet",
	"ufw":               "every argument goes to ufw as a quoted word (quoteWords); runs only in a private netns (ufw_test.go); hostile values not staged yet",
	"debconf":           "the package name goes to debconf-show quoted and the answer on stdin; a hostile answer is set and read back in TestDebconf",
	"dpkg_selections":   "the name goes to dpkg quoted and on stdin; a hostile name is refused by dpkg, unchanged, in TestDpkgSelections",
	"rpm_key":           "rpm is not on the test hosts; a key file with a hostile name is read and imported through a stand-in rpm in TestRpmKey",
	"dnf5":              "dnf's implementation; not installed on the test hosts",
	"sysvinit":          "needs an init script of the hostile name under /etc/init.d; the name, runlevels and shlex-split arguments go to commands quoted (TestSysvinit); not staged yet",

	// engine actions (issue 12)
	"pause":                  "controller only",
	"add_host":               "controller only (the engine changes the in-memory inventory)",
	"group_by":               "controller only (the engine changes the in-memory inventory)",
	"set_stats":              "controller only",
	"validate_argument_spec": "controller only",
	"gather_facts":           "setup under another name: takes no path or value to the target",
	"async_status":           "hostile job ids and command arguments through StartAsync and async_status: TestAsyncJobs",
	"wait_for_connection":    "takes no path or value to the target",
	"reboot":                 "its commands are shell text by definition (test_command, reboot_command, boot_time_command); search_paths and msg go quoted (TestRebootReconnects in playbook/engine)",

	// community.mysql: SQL and the password travel on stdin; needs a MariaDB server
	"mysql_user":        "needs a MariaDB server: hostile user names, hosts and passwords in TestMysqlHostile (mysqlhostile_test.go)",
	"mysql_db":          "needs a MariaDB server: hostile database names and dump/import paths in TestMysqlHostile; dump_extra_args is shell text by definition, as in the collection",
	"mysql_query":       "needs a MariaDB server: hostile query arguments and login in TestMysqlHostile",
	"mysql_variables":   "needs a MariaDB server: the name must match [0-9A-Za-z_.]+; hostile values in TestMysqlHostile",
	"mysql_replication": "needs a MariaDB server: hostile primary host, user and password in TestMysqlHostile",

	// community.crypto (issue 12)
	"openssl_csr_pipe": "openssl_csr's code without the file: the key path and subject go the same way, driven with hostile values in the openssl_csr case",
}

// shellSafetyModules are the modules TestShellSafety drives with hostile
// names and values.
var shellSafetyModules = []string{
	"copy", "template", "file", "stat", "command", "shell", "lineinfile", "blockinfile", "replace",
	"authorized_key", "wait_for", "fetch", "sysctl", "cron", "ini_file", "pam_limits", "mount", "getent",
	"find", "yum_repository",
	"find", "slurp", "tempfile", "known_hosts", "assemble", "acl", "archive",
	"make", "git_config", "npm", "gem", "capabilities", "patch", "htpasswd",
	"openssl_privatekey",
	"openssl_dhparam",
	"openssl_csr",
	"x509_certificate",
	"pamd",
}

func TestShellSafetyCoversEveryModule(t *testing.T) {
	covered := map[string]bool{}
	for _, m := range shellSafetyModules {
		covered[m] = true
	}
	for _, name := range Builtin().Names() {
		if !covered[name] && shellSafetyNotApplicable[name] == "" {
			t.Errorf("module %s takes no part in the shell-safety test: add cases to shellsafety_test.go or say why in shellSafetyNotApplicable", name)
		}
	}
}

// safetyRun normalizes raw for the registered module name and runs it on c.
func safetyRun(t *testing.T, c conn.Conn, name string, raw map[string]any) Result {
	t.Helper()
	m, ok := Builtin().Lookup(name)
	if !ok {
		t.Fatalf("no module %s", name)
	}
	args, err := m.Spec().Normalize(raw)
	if err != nil {
		t.Fatalf("%s: normalize %q: %v", name, raw, err)
	}
	res, err := m.Run(context.Background(), &Env{Conn: c, Host: "h1", Vars: fakeVars{vars: map[string]any{}}}, args)
	if err != nil {
		t.Fatalf("%s %q: %v", name, raw, err)
	}
	return res
}

// envExec runs script with the given variables in its environment, so that
// the test's own checks need no quoting.
func envExec(t *testing.T, c conn.Conn, script string, env map[string]string) string {
	t.Helper()
	res, err := c.Exec(context.Background(), conn.Command{Script: script, Env: env})
	if err != nil {
		t.Fatal(err)
	}
	if res.RC != 0 {
		t.Fatalf("%s: rc %d: %s", script, res.RC, res.Stderr)
	}
	return string(res.Stdout)
}

// safetyList returns the exact names in dir on the target.
func safetyList(t *testing.T, c conn.Conn, dir string) []string {
	t.Helper()
	out := envExec(t, c, `find "$D" -mindepth 1 -maxdepth 1 -printf '%f\0' | LC_ALL=C sort -z`, map[string]string{"D": dir})
	if out == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(out, "\x00"), "\x00")
}

// readExact returns the exact content of path on the target.
func readExact(t *testing.T, c conn.Conn, path string) string {
	t.Helper()
	var b bytes.Buffer
	if err := c.Get(context.Background(), path, &b); err != nil {
		t.Fatalf("read %q: %v", path, err)
	}
	return b.String()
}

func wantNames(t *testing.T, c conn.Conn, dir string, want ...string) {
	t.Helper()
	got := safetyList(t, c, dir)
	if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
		t.Errorf("directory holds %q, want exactly %q", got, want)
	}
}

func wantContent(t *testing.T, c conn.Conn, path, want string) {
	t.Helper()
	if got := readExact(t, c, path); got != want {
		t.Errorf("%q holds %q, want %q", path, got, want)
	}
}

func wantOK(t *testing.T, res Result) {
	t.Helper()
	if res.Failed {
		t.Fatalf("failed: %s %v", res.Msg, res.Values)
	}
}

// oneLine is v without newlines, for values that are single lines by nature.
func oneLine(v string) string { return strings.ReplaceAll(v, "\n", "_") }

func TestShellSafety(t *testing.T) {
	for _, tm := range fileTargets(t) {
		t.Run(tm.name, func(t *testing.T) {
			for _, hn := range hostileNames {
				t.Run(hn.label, func(t *testing.T) {
					name := hn.s
					for _, mod := range shellSafetyModules {
						t.Run(mod, func(t *testing.T) {
							tg := tm.mk(t)
							shellSafetyCase(t, tg, mod, name)
						})
					}
				})
			}
		})
	}
}

// shellSafetyCase drives module mod with name as file name and value in
// the fresh directory tg.dir and checks the exact result.
func shellSafetyCase(t *testing.T, tg target, mod, name string) {
	c, dir := tg.c, tg.dir
	p := dir + "/" + name
	ctx := context.Background()
	put := func(path, content string) {
		t.Helper()
		if err := c.Put(ctx, strings.NewReader(content), path, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	switch mod {
	case "copy":
		res := safetyRun(t, c, "copy", map[string]any{"content": name, "dest": p})
		wantOK(t, res)
		wantNames(t, c, dir, name)
		wantContent(t, c, p, name)
		if res = safetyRun(t, c, "copy", map[string]any{"content": name, "dest": p}); res.Changed {
			t.Error("second copy of the same content changed the file")
		}
		src := filepath.Join(t.TempDir(), "src")
		if err := os.WriteFile(src, []byte(name+"2"), 0o644); err != nil {
			t.Fatal(err)
		}
		wantOK(t, safetyRun(t, c, "copy", map[string]any{"src": src, "dest": p, "backup": true}))
		wantContent(t, c, p, name+"2")
		if got := safetyList(t, c, dir); len(got) != 2 {
			t.Errorf("after copy with backup: %q, want the file and one backup", got)
		}
	case "template":
		src := filepath.Join(t.TempDir(), "t.tmpl")
		if err := os.WriteFile(src, []byte(name), 0o644); err != nil {
			t.Fatal(err)
		}
		wantOK(t, safetyRun(t, c, "template", map[string]any{"src": src, "dest": p}))
		wantNames(t, c, dir, name)
		wantContent(t, c, p, name)
	case "file":
		wantOK(t, safetyRun(t, c, "file", map[string]any{"path": p, "state": "touch", "mode": "0600"}))
		wantNames(t, c, dir, name)
		if fi, err := c.Stat(ctx, p); err != nil || fi.Mode.Perm() != 0o600 || !fi.Mode.IsRegular() {
			t.Errorf("touched file: %v %v", fi.Mode, err)
		}
		link := dir + "/l" + name
		wantOK(t, safetyRun(t, c, "file", map[string]any{"path": link, "src": p, "state": "link"}))
		if got := envExec(t, c, `readlink -- "$L"`, map[string]string{"L": link}); got != p+"\n" {
			t.Errorf("link points to %q, want %q", got, p+"\n")
		}
		sub := dir + "/d" + name
		wantOK(t, safetyRun(t, c, "file", map[string]any{"path": sub + "/" + name, "state": "directory"}))
		wantNames(t, c, sub, name)
		wantOK(t, safetyRun(t, c, "file", map[string]any{"path": sub, "state": "absent"}))
		wantOK(t, safetyRun(t, c, "file", map[string]any{"path": link, "state": "absent"}))
		wantNames(t, c, dir, name)
	case "stat":
		put(p, name)
		res := safetyRun(t, c, "stat", map[string]any{"path": p})
		wantOK(t, res)
		st, _ := res.Values["stat"].(map[string]any)
		if st["exists"] != true || fmt.Sprint(st["size"]) != fmt.Sprint(len(name)) {
			t.Errorf("stat of %q: %v", p, st)
		}
		if got, _ := st["path"].(string); got != p {
			t.Errorf("stat path %q, want %q", got, p)
		}
		res = safetyRun(t, c, "stat", map[string]any{"path": p + "x"})
		if st, _ := res.Values["stat"].(map[string]any); st["exists"] != false {
			t.Errorf("stat of a missing file: %v", st)
		}
	case "command":
		res := safetyRun(t, c, "command", map[string]any{"argv": []any{"printf", "%s.", name}})
		wantOK(t, res)
		if got := res.Values["stdout"]; got != name+"." {
			t.Errorf("argv printf: stdout %q, want %q", got, name+".")
		}
		envExec(t, c, `mkdir -- "$P"`, map[string]string{"P": p})
		res = safetyRun(t, c, "command", map[string]any{"argv": []any{"pwd", "-P"}, "chdir": p})
		wantOK(t, res)
		if got := res.Values["stdout"]; got != strings.TrimRight(p, "\n") {
			t.Errorf("chdir: pwd %q, want %q", got, p)
		}
		res = safetyRun(t, c, "command", map[string]any{RawParams: "false", "creates": p})
		if res.Failed || res.Changed {
			t.Errorf("creates=%q (exists) still ran the command: %+v", p, res)
		}
		res = safetyRun(t, c, "command", map[string]any{RawParams: "false", "removes": p + "x"})
		if res.Failed || res.Changed {
			t.Errorf("removes=%q (missing) still ran the command: %+v", p+"x", res)
		}
		wantNames(t, c, dir, name)
	case "shell":
		res := safetyRun(t, c, "shell", map[string]any{RawParams: "cat; printf .", "stdin": name})
		wantOK(t, res)
		if got := res.Values["stdout"]; got != name+"\n." {
			t.Errorf("stdin: stdout %q, want %q", got, name+"\n.")
		}
		envExec(t, c, `mkdir -- "$P"`, map[string]string{"P": p})
		res = safetyRun(t, c, "shell", map[string]any{RawParams: "pwd -P; touch made", "chdir": p})
		wantOK(t, res)
		if got := res.Values["stdout"]; got != strings.TrimRight(p, "\n") {
			t.Errorf("chdir: pwd %q, want %q", got, p)
		}
		wantNames(t, c, p, "made")
	case "lineinfile":
		line := oneLine(name)
		wantOK(t, safetyRun(t, c, "lineinfile", map[string]any{"path": p, "line": line, "create": true}))
		wantNames(t, c, dir, name)
		wantContent(t, c, p, line+"\n")
		// RE2 takes only valid UTF-8 patterns: match the line's valid prefix.
		valid, _, _ := strings.Cut(line, "\xe9")
		wantOK(t, safetyRun(t, c, "lineinfile", map[string]any{"path": p, "regexp": "^" + regexp.QuoteMeta(valid), "line": line + "2"}))
		wantContent(t, c, p, line+"2\n")
	case "blockinfile":
		wantOK(t, safetyRun(t, c, "blockinfile", map[string]any{"path": p, "block": name, "create": true}))
		wantNames(t, c, dir, name)
		body := strings.TrimSuffix(name, "\n")
		wantContent(t, c, p, "# BEGIN ANSIBLE MANAGED BLOCK\n"+body+"\n# END ANSIBLE MANAGED BLOCK\n")
	case "replace":
		put(p, "before KEY after\n")
		// A backslash or $ in a replacement is syntax (\1, ${1}); escape it
		// as Python's re.escape would for a literal replacement.
		repl := strings.NewReplacer(`\`, `\\`).Replace(oneLine(name))
		wantOK(t, safetyRun(t, c, "replace", map[string]any{"path": p, "regexp": "KEY", "replace": repl}))
		wantNames(t, c, dir, name)
		wantContent(t, c, p, "before "+oneLine(name)+" after\n")
	case "authorized_key":
		key := "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOv6bJ1Cq6jz8mGHRXFZQUOq2Yv4m5z0fC0kGkZl6Xy1"
		comment := oneLine(name)
		wantOK(t, safetyRun(t, c, "authorized_key", map[string]any{"user": "root", "key": key + " " + comment, "path": p, "manage_dir": false}))
		wantNames(t, c, dir, name)
		// Like Ansible, the key's fields are split at blanks and joined with one space.
		wantContent(t, c, p, key+" "+strings.Join(strings.Fields(comment), " ")+"\n")
	case "wait_for":
		put(p, "x "+name+" y")
		wantOK(t, safetyRun(t, c, "wait_for", map[string]any{"path": p, "state": "present", "timeout": 5}))
		wantOK(t, safetyRun(t, c, "wait_for", map[string]any{"path": p, "search_regex": regexp.QuoteMeta(oneLine(name)[:1]), "timeout": 5}))
		res := safetyRun(t, c, "wait_for", map[string]any{"path": p + "x", "state": "absent", "timeout": 5})
		wantOK(t, res)
	case "fetch":
		put(p, name)
		local := t.TempDir()
		wantOK(t, safetyRun(t, c, "fetch", map[string]any{"src": p, "dest": local + "/", "flat": true}))
		got, err := os.ReadFile(filepath.Join(local, name))
		if err != nil || string(got) != name {
			t.Errorf("fetched %q, %v; want %q", got, err, name)
		}
	case "sysctl":
		value := oneLine(name)
		wantOK(t, safetyRun(t, c, "sysctl", map[string]any{"name": "mdo.test.key", "value": value, "sysctl_file": p, "reload": false}))
		wantNames(t, c, dir, name)
		wantContent(t, c, p, "mdo.test.key="+strings.TrimSpace(value)+"\n")
	case "cron":
		job := oneLine(name)
		wantOK(t, safetyRun(t, c, "cron", map[string]any{"name": job, "job": "echo " + job, "cron_file": p, "user": "root"}))
		wantNames(t, c, dir, name)
		wantContent(t, c, p, "#Ansible: "+job+"\n* * * * * root echo "+job+"\n")
	case "ini_file":
		value := oneLine(name)
		wantOK(t, safetyRun(t, c, "ini_file", map[string]any{"path": p, "section": "s", "option": "k", "value": value}))
		wantNames(t, c, dir, name)
		wantContent(t, c, p, "\n[s]\nk = "+value+"\n")
	case "yum_repository":
		value := oneLine(name)
		raw := map[string]any{"name": "r", "description": value, "baseurl": []any{"http://x/" + value}, "file": name, "reposdir": dir}
		wantOK(t, safetyRun(t, c, "yum_repository", raw))
		wantNames(t, c, dir, name+".repo")
		wantContent(t, c, p+".repo", "[r]\nbaseurl = http://x/"+value+"\nname = "+value+"\n\n")
		if res := safetyRun(t, c, "yum_repository", raw); res.Changed || res.Failed {
			t.Errorf("second yum_repository run: changed=%v failed=%v %s", res.Changed, res.Failed, res.Msg)
		}
	case "pam_limits":
		comment := oneLine(name)
		wantOK(t, safetyRun(t, c, "pam_limits", map[string]any{"dest": p, "domain": "mdo", "limit_type": "soft", "limit_item": "nofile", "value": "1", "comment": comment}))
		wantNames(t, c, dir, name)
		wantContent(t, c, p, "mdo\tsoft\tnofile\t1\t#"+comment+"\n")
	case "mount":
		mp := "/mnt/" + oneLine(name)
		wantOK(t, safetyRun(t, c, "mount", map[string]any{"fstab": p, "path": mp, "src": "x" + oneLine(name), "fstype": "tmpfs", "state": "present"}))
		wantNames(t, c, dir, name)
		wantContent(t, c, p, fstabEscape("x"+oneLine(name))+" "+fstabEscape(mp)+" tmpfs defaults 0 0\n")
	case "getent":
		res := safetyRun(t, c, "getent", map[string]any{"database": "passwd", "key": name})
		if !res.Failed || res.Msg != "One or more supplied key could not be found in the database." {
			t.Errorf("getent of a hostile key: failed=%v msg=%q", res.Failed, res.Msg)
		}
		wantNames(t, c, dir)
	case "find":
		sub := dir + "/d" + name
		envExec(t, c, `mkdir -- "$D"`, map[string]string{"D": sub})
		put(sub+"/"+name, name)
		raw := map[string]any{"paths": []any{sub}, "patterns": []any{regexp.QuoteMeta(name)}, "use_regex": true, "get_checksum": true}
		if utf8.ValidString(name) {
			raw["contains"], raw["read_whole_file"] = regexp.QuoteMeta(name), true
		}
		res := safetyRun(t, c, "find", raw)
		wantOK(t, res)
		files, _ := res.Values["files"].([]any)
		sum := sha1.Sum([]byte(name))
		if len(files) != 1 || files[0].(map[string]any)["path"] != sub+"/"+name || files[0].(map[string]any)["checksum"] != hex.EncodeToString(sum[:]) {
			t.Errorf("find in %q: %v", sub, res.Values)
		}
		wantNames(t, c, dir, "d"+name)
	case "slurp":
		put(p, name)
		res := safetyRun(t, c, "slurp", map[string]any{"src": p})
		wantOK(t, res)
		if got, err := base64.StdEncoding.DecodeString(fmt.Sprint(res.Values["content"])); err != nil || string(got) != name || res.Values["source"] != p {
			t.Errorf("slurp: content %q (%v), source %q; want %q from %q", got, err, res.Values["source"], name, p)
		}
	case "tempfile":
		res := safetyRun(t, c, "tempfile", map[string]any{"path": dir, "prefix": name, "suffix": name, "state": "directory"})
		if res.Failed || !res.Changed {
			t.Fatalf("tempfile: failed=%v msg=%q", res.Failed, res.Msg)
		}
		got := safetyList(t, c, dir)
		if len(got) != 1 || res.Values["path"] != dir+"/"+got[0] || !strings.HasPrefix(got[0], name) || !strings.HasSuffix(got[0], name) || len(got[0]) != 2*len(name)+8 {
			t.Errorf("tempfile made %q (path %q), want one directory named %q + 8 characters + itself", got, res.Values["path"], name)
		}
	case "known_hosts":
		line := "example.com " + khEd1
		for i, want := range []bool{true, false} {
			res := safetyRun(t, c, "known_hosts", map[string]any{"path": p, "name": "example.com", "key": line})
			if res.Failed || res.Changed != want {
				t.Errorf("known_hosts run %d: changed=%v failed=%v msg=%q", i+1, res.Changed, res.Failed, res.Msg)
			}
		}
		wantNames(t, c, dir, name)
		wantContent(t, c, p, line+"\n")
	case "assemble":
		sub := dir + "/d" + name
		envExec(t, c, `mkdir -- "$D"`, map[string]string{"D": sub})
		put(sub+"/"+name, name)
		put(sub+"/"+name+"2", name)
		res := safetyRun(t, c, "assemble", map[string]any{"src": sub, "dest": p, "delimiter": "#"})
		wantOK(t, res)
		sep := "#\n"
		if !strings.HasSuffix(name, "\n") {
			sep = "\n" + sep
		}
		wantContent(t, c, p, name+sep+name)
	case "acl":
		put(p, name)
		res := safetyRun(t, c, "acl", map[string]any{"path": p, "entry": "u:nobody:r", "state": "present"})
		if res.Failed || !res.Changed {
			t.Fatalf("acl: failed=%v msg=%q", res.Failed, res.Msg)
		}
		wantNames(t, c, dir, name)
		if out := envExec(t, c, `getfacl --omit-header --absolute-names -- "$P"`, map[string]string{"P": p}); !strings.Contains(out, "user:nobody:r--") {
			t.Errorf("acl of %q: %s", p, out)
		}
	case "archive":
		put(p, name)
		// Ansible's paths are globs when they hold * or ?: they match the name itself.
		res := safetyRun(t, c, "archive", map[string]any{"path": []any{p}, "dest": p + ".tar", "format": "tar"})
		if res.Failed || !res.Changed || res.Values["dest"] != p+".tar" {
			t.Fatalf("archive: failed=%v msg=%q values %v", res.Failed, res.Msg, res.Values)
		}
		if got := envExec(t, c, `tar -xOf "$P.tar"`, map[string]string{"P": p}); got != name {
			t.Errorf("archived content %q, want %q", got, name)
		}
	case "make":
		// chdir named by the name; file and a params value holding it
		// unless it has a $, which make itself expands (as under Ansible).
		mf, v := "Makefile", name
		if strings.Contains(name, "$") {
			v = "plain"
		} else {
			mf = name
		}
		envExec(t, c, `mkdir -- "$P" && printf 'all:\n\t@printf %%s "$$V" >made\n' >"$P/$N"`, map[string]string{"P": p, "N": mf})
		res := safetyRun(t, c, "make", map[string]any{"chdir": p, "file": p + "/" + mf, "params": map[string]any{"V": v}})
		if res.Failed || !res.Changed {
			t.Fatalf("make: failed=%v msg=%q values %v", res.Failed, res.Msg, res.Values)
		}
		if got := safetyList(t, c, p); len(got) != 2 {
			t.Errorf("make in %q left %q, want the makefile and made", p, got)
		}
		wantContent(t, c, p+"/made", v)
	case "git_config":
		// The file scope's path and the value (one line: git lists values
		// one per line) are the name; a second run finds it set.
		value := oneLine(name)
		raw := map[string]any{"name": "mdo.key", "value": value, "scope": "file", "file": p}
		for i, want := range []bool{true, false} {
			res := safetyRun(t, c, "git_config", raw)
			if res.Failed || res.Changed != want {
				t.Fatalf("git_config run %d: changed=%v failed=%v msg=%q", i+1, res.Changed, res.Failed, res.Msg)
			}
		}
		wantNames(t, c, dir, name)
		res := safetyRun(t, c, "git_config", map[string]any{"name": "mdo.key", "scope": "file", "file": p})
		if res.Values["config_value"] != value {
			t.Errorf("git_config read back %q, want %q", res.Values["config_value"], value)
		}
	case "npm":
		// path named by the name: created as the collection does, and
		// listed there (no registry needed: nothing to uninstall).
		res := safetyRun(t, c, "npm", map[string]any{"name": "mdo-a", "path": p, "state": "absent"})
		if res.Failed || res.Changed {
			t.Fatalf("npm: changed=%v failed=%v msg=%q", res.Changed, res.Failed, res.Msg)
		}
		wantNames(t, c, dir, name)
	case "gem":
		// install_dir (GEM_HOME) named by the name: listed, nothing to
		// remove, nothing made but at most that directory.
		res := safetyRun(t, c, "gem", map[string]any{"name": "mdo-x", "state": "absent", "user_install": false, "install_dir": p})
		if res.Failed || res.Changed {
			t.Fatalf("gem: changed=%v failed=%v msg=%q", res.Changed, res.Failed, res.Msg)
		}
		if got := safetyList(t, c, dir); len(got) > 1 || len(got) == 1 && got[0] != name {
			t.Errorf("gem with install_dir %q left %q", p, got)
		}
	case "capabilities":
		if strings.TrimSpace(p) != p {
			return // the collection strips the path: another file
		}
		envExec(t, c, `cp /bin/true "$P"`, map[string]string{"P": p})
		for i, want := range []bool{true, false} {
			res := safetyRun(t, c, "capabilities", map[string]any{"path": p, "capability": "cap_net_raw=ep"})
			if res.Failed || res.Changed != want {
				t.Fatalf("capabilities run %d: changed=%v failed=%v msg=%q", i+1, res.Changed, res.Failed, res.Msg)
			}
		}
		wantNames(t, c, dir, name)
		if got := envExec(t, c, `getcap -- "$P"`, map[string]string{"P": p}); got != p+" cap_net_raw=ep\n" {
			t.Errorf("getcap %q", got)
		}
	case "patch":
		// dest and a remote src named by the name (a patch with a
		// dest ignores the file names in its headers).
		put(p, "a\nb\nc\n")
		put(p+".patch", patchOne)
		for i, want := range []bool{true, false} {
			res := safetyRun(t, c, "patch", map[string]any{"src": p + ".patch", "remote_src": true, "dest": p})
			if res.Failed || res.Changed != want {
				t.Fatalf("patch run %d: changed=%v failed=%v msg=%q", i+1, res.Changed, res.Failed, res.Msg)
			}
		}
		wantContent(t, c, p, "a\nB\nc\n")
		if got := safetyList(t, c, dir); len(got) != 2 {
			t.Errorf("patch left %q", got)
		}
	case "htpasswd":
		// path, user name and password named by the name (the user on
		// one line: the file is one user per line).
		user, pw := oneLine(name), name
		for i, want := range []bool{true, false} {
			res := safetyRun(t, c, "htpasswd", map[string]any{"path": p, "name": user, "password": pw})
			if res.Failed || res.Changed != want {
				t.Fatalf("htpasswd run %d: changed=%v failed=%v msg=%q", i+1, res.Changed, res.Failed, res.Msg)
			}
		}
		wantNames(t, c, dir, name)
		if got := readExact(t, c, p); !strings.HasPrefix(got, user+":$apr1$") || strings.Count(got, "\n") != 1 {
			t.Errorf("htpasswd file %q", got)
		}
	case "openssl_privatekey":
		res := safetyRun(t, c, "openssl_privatekey", map[string]any{"path": p, "type": "Ed25519", "passphrase": oneLine(name), "mode": "0640"})
		if res.Failed || !res.Changed || res.Values["filename"] != p {
			t.Fatalf("openssl_privatekey: failed=%v msg=%q values %v", res.Failed, res.Msg, res.Values)
		}
		wantNames(t, c, dir, name)
		if got := envExec(t, c, `openssl pkey -in "$P" -passin env:K -noout -text | head -n1`, map[string]string{"P": p, "K": oneLine(name)}); got != "ED25519 Private-Key:\n" {
			t.Errorf("key read back as %q", got)
		}
		if res = safetyRun(t, c, "openssl_privatekey", map[string]any{"path": p, "state": "absent"}); !res.Changed {
			t.Errorf("openssl_privatekey absent: %v %q", res.Values, res.Msg)
		}
		wantNames(t, c, dir)
	case "openssl_dhparam":
		res := safetyRun(t, c, "openssl_dhparam", map[string]any{"path": p, "size": 512})
		if res.Failed || !res.Changed || res.Values["filename"] != p {
			t.Fatalf("openssl_dhparam: failed=%v msg=%q values %v", res.Failed, res.Msg, res.Values)
		}
		wantNames(t, c, dir, name)
		if res = safetyRun(t, c, "openssl_dhparam", map[string]any{"path": p, "size": 512}); res.Changed || res.Failed {
			t.Errorf("openssl_dhparam again: changed=%v %q", res.Changed, res.Msg)
		}
	case "openssl_csr":
		wantOK(t, safetyRun(t, c, "openssl_privatekey", map[string]any{"path": p, "type": "Ed25519"}))
		cn := oneLine(name)
		if !utf8.ValidString(cn) {
			cn = "not-utf8" // openssl req takes UTF-8 subjects only
		}
		args := map[string]any{"path": p + ".csr", "privatekey_path": p, "common_name": cn, "use_common_name_for_san": false}
		res := safetyRun(t, c, "openssl_csr", args)
		if res.Failed || !res.Changed || res.Values["filename"] != p+".csr" {
			t.Fatalf("openssl_csr: failed=%v msg=%q values %v", res.Failed, res.Msg, res.Values)
		}
		wantNames(t, c, dir, name, name+".csr")
		blk, _ := pem.Decode([]byte(readExact(t, c, p+".csr")))
		if blk == nil {
			t.Fatal("no CSR written")
		}
		if csr, err := x509.ParseCertificateRequest(blk.Bytes); err != nil || csr.Subject.CommonName != cn {
			t.Errorf("CSR subject %v (%v), want CN %q", csr.Subject, err, cn)
		}
		if res = safetyRun(t, c, "openssl_csr", args); res.Changed || res.Failed {
			t.Errorf("openssl_csr again: changed=%v %q", res.Changed, res.Msg)
		}
	case "x509_certificate":
		wantOK(t, safetyRun(t, c, "openssl_privatekey", map[string]any{"path": p, "type": "ECC", "curve": "secp256r1"}))
		wantOK(t, safetyRun(t, c, "openssl_csr", map[string]any{"path": p + ".csr", "privatekey_path": p, "common_name": "ca"}))
		args := map[string]any{"path": p + ".crt", "provider": "selfsigned", "csr_path": p + ".csr", "privatekey_path": p}
		res := safetyRun(t, c, "x509_certificate", args)
		if res.Failed || !res.Changed || res.Values["filename"] != p+".crt" {
			t.Fatalf("x509_certificate: failed=%v msg=%q values %v", res.Failed, res.Msg, res.Values)
		}
		wantNames(t, c, dir, name, name+".crt", name+".csr")
		if res = safetyRun(t, c, "x509_certificate", args); res.Changed || res.Failed {
			t.Errorf("x509_certificate again: changed=%v %q", res.Changed, res.Msg)
		}
		leaf := map[string]any{"path": p + ".leaf", "provider": "ownca", "csr_path": p + ".csr", "ownca_path": p + ".crt", "ownca_privatekey_path": p}
		if res = safetyRun(t, c, "x509_certificate", leaf); res.Failed || !res.Changed {
			t.Fatalf("x509_certificate ownca: failed=%v msg=%q", res.Failed, res.Msg)
		}
		if got := envExec(t, c, `openssl x509 -in "$P.leaf" -noout -issuer`, map[string]string{"P": p}); got != "issuer=CN = ca\n" {
			t.Errorf("ownca certificate issuer %q", got)
		}
	case "pamd":
		put(p, "auth required pam_env.so\nauth sufficient pam_unix.so\n")
		value := oneLine(name)
		res := safetyRun(t, c, "pamd", map[string]any{"name": name, "path": dir, "type": "auth", "control": "sufficient",
			"module_path": "pam_unix.so", "module_arguments": []any{"x=" + value}, "state": "args_present"})
		if res.Failed || !res.Changed {
			t.Fatalf("pamd: failed=%v msg=%q", res.Failed, res.Msg)
		}
		wantNames(t, c, dir, name)
		if got := readExact(t, c, p); !strings.HasSuffix(got, "auth       sufficient pam_unix.so "+strings.Join(pamdArgs([]string{"x=" + value}), " ")+"\n") {
			t.Errorf("pamd wrote %q", got)
		}
	default:
		t.Fatalf("no case for %s", mod)
	}
}

// TestShellSafetyCanary passes values with command substitutions to the
// modules that drive system tools (package managers, init systems,
// account tools), in check mode where they would change the machine. Each
// value would create the canary file if it reached a shell unquoted.
func TestShellSafetyCanary(t *testing.T) {
	for _, tm := range fileTargets(t) {
		t.Run(tm.name, func(t *testing.T) {
			tg := tm.mk(t)
			canary := tg.dir + "/canary"
			evil := []string{
				"x$(touch " + canary + ")",
				"x`touch " + canary + "`",
				"x;touch " + canary,
				"x' ; touch " + canary + " ; '",
				"x\" ; touch " + canary + " ; \"",
				"x\ntouch " + canary,
			}
			cases := []struct {
				mod   string
				check bool
				args  func(v string) map[string]any
			}{
				{"apt", true, func(v string) map[string]any { return map[string]any{"name": v, "state": "present"} }},
				{"package", true, func(v string) map[string]any { return map[string]any{"name": v, "state": "present"} }},
				{"service", true, func(v string) map[string]any { return map[string]any{"name": v, "state": "started"} }},
				{"systemd", true, func(v string) map[string]any { return map[string]any{"name": v, "state": "restarted"} }},
				{"user", true, func(v string) map[string]any { return map[string]any{"name": v, "comment": v, "home": v} }},
				{"group", true, func(v string) map[string]any { return map[string]any{"name": v} }},
				{"hostname", true, func(v string) map[string]any { return map[string]any{"name": v} }},
				{"cron", true, func(v string) map[string]any { return map[string]any{"name": "n", "job": "true", "user": v} }},
			}
			for _, tc := range cases {
				for i, v := range evil {
					t.Run(fmt.Sprintf("%s/%d", tc.mod, i), func(t *testing.T) {
						m, ok := Builtin().Lookup(tc.mod)
						if !ok {
							t.Skipf("no module %s", tc.mod)
						}
						args, err := m.Spec().Normalize(tc.args(v))
						if err != nil {
							return // refused before reaching the target: safe
						}
						_, _ = m.Run(context.Background(), &Env{Conn: tg.c, Check: tc.check, Host: "h1", Vars: fakeVars{vars: map[string]any{}}}, args)
						if got := safetyList(t, tg.c, tg.dir); len(got) != 0 {
							t.Fatalf("%s with %q ran a command on the target: %q", tc.mod, v, got)
						}
					})
				}
			}
		})
	}
}

// TestPyTemplateDollar: in Ansible a '$' in a replacement is literal; only
// Go's braced references to groups of the pattern are expanded.
func TestPyTemplateDollar(t *testing.T) {
	re := regexp.MustCompile(`^(?P<key>\w+)=(.*)$`)
	cases := []struct{ repl, want string }{
		{`PATH=$PATH:/opt`, `PATH=$PATH:/opt`},
		{`price $5 $`, `price $5 $`},
		{`${1}=${2}!`, `a=b!`},
		{`${key}-\1-\g<key>`, `a-a-a`},
		{`${nosuch} ${9} ${`, `${nosuch} ${9} ${`},
		{`$$`, `$$`},
	}
	for _, tc := range cases {
		t.Run(tc.repl, func(t *testing.T) {
			got := re.ReplaceAllString("a=b", pyre.Expand(tc.repl, re, true))
			if got != tc.want {
				t.Errorf("replace with %q: %q, want %q", tc.repl, got, tc.want)
			}
		})
	}
}
