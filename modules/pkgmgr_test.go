package modules

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// buildDeb builds a minimal architecture-independent package named name
// with one file under /usr/share/doc/name and returns the .deb's path.
func buildDeb(t *testing.T, name, version string) string {
	t.Helper()
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	for _, d := range []string{"DEBIAN", "usr/share/doc/" + name} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	control := "Package: " + name + "\nVersion: " + version + "\nArchitecture: all\nMaintainer: mdo <mdo@example.com>\nDescription: mdo-play test package\n"
	if err := os.WriteFile(filepath.Join(root, "DEBIAN/control"), []byte(control), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "usr/share/doc", name, "README"), []byte("test\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	deb := filepath.Join(dir, name+".deb")
	if out, err := exec.Command("dpkg-deb", "--root-owner-group", "-b", root, deb).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb: %v: %s", err, out)
	}
	return deb
}

// dpkgStatus returns dpkg's status abbreviation for name ("" when unknown).
func dpkgStatus(t *testing.T, c conn.Conn, name string) string {
	t.Helper()
	return strings.TrimSpace(sysSh(t, c, "dpkg-query -W -f='${db:Status-Abbrev}' "+conn.Quote(name)+" 2>/dev/null || true"))
}

// TestAptDeb installs and removes a locally built package through apt's
// deb and name arguments, locally and over SSH (the dpkg database is the
// machine's in both cases).
func TestAptDeb(t *testing.T) {
	sysNeedRoot(t, "dpkg-deb", "apt-get")
	for tn, c := range sysTargets(t) {
		t.Run(tn, func(t *testing.T) {
			name := sysUniq("mdo-test-")
			deb := buildDeb(t, name, "1.0-1")
			t.Cleanup(func() { exec.Command("dpkg", "-P", name).Run() })
			steps := []struct {
				what     string
				check    bool
				raw      map[string]any
				changed  bool
				failed   bool
				msg      string
				wantStat string // dpkg status afterwards ("" not installed)
			}{
				{"deb check", true, map[string]any{"deb": deb}, true, false, "", ""},
				{"deb", false, map[string]any{"deb": deb}, true, false, "", "ii"},
				{"deb again", false, map[string]any{"deb": deb}, false, false, "", "ii"},
				{"present by name", false, map[string]any{"name": name}, false, false, "", "ii"},
				{"absent check", true, map[string]any{"name": name, "state": "absent"}, true, false, "", "ii"},
				{"absent", false, map[string]any{"name": name, "state": "absent", "purge": true}, true, false, "", ""},
				{"absent again", false, map[string]any{"name": []any{name}, "state": "absent", "purge": "yes"}, false, false, "", ""},
				{"not available", false, map[string]any{"name": name}, false, true, "No package matching '" + name + "' is available", ""},
				{"missing deb", false, map[string]any{"deb": "/nonexistent/x.deb"}, false, true, "not found", ""},
				{"deb absent", false, map[string]any{"deb": deb, "state": "absent"}, false, true, "deb only supports state=present", ""},
				{"bad name", false, map[string]any{"name": "-oFoo=1"}, false, true, "invalid package spec: -oFoo=1", ""},
			}
			for _, s := range steps {
				res, trips := sysRun(t, c, Apt{}, s.check, false, s.raw)
				sysExpect(t, s.what, res, s.changed, s.failed, s.msg)
				if !res.Failed && trips != 1 {
					t.Errorf("%s: %d round trips, want 1", s.what, trips)
				}
				if got := dpkgStatus(t, c, name); !strings.HasPrefix(got, s.wantStat) || (s.wantStat == "" && strings.HasPrefix(got, "ii")) {
					t.Errorf("%s: dpkg status %q, want %q", s.what, got, s.wantStat)
				}
				if s.what == "deb" {
					if _, ok := res.Values["stdout"].(string); !ok {
						t.Errorf("deb: no stdout in %v", res.Values)
					}
				}
			}
		})
	}
}

// TestAptRepoPackage installs a tiny real package from Debian's repository
// on a test host and removes it again.
func TestAptRepoPackage(t *testing.T) {
	if testing.Short() {
		t.Skip("installs a package from the network")
	}
	sysNeedRoot(t, "apt-get")
	c := sysSSH(t)
	const pkg = "hello"
	if dpkgStatus(t, c, pkg) == "ii" {
		t.Skip("hello is already installed on this machine")
	}
	t.Cleanup(func() { exec.Command("dpkg", "-P", pkg).Run() })
	steps := []struct {
		what    string
		check   bool
		raw     map[string]any
		changed bool
	}{
		{"update cache still valid", false, map[string]any{"update_cache": true, "cache_valid_time": 86400 * 365 * 30}, false},
		{"install check", true, map[string]any{"name": pkg}, true},
		{"install", false, map[string]any{"name": pkg, "install_recommends": false}, true},
		{"install again", false, map[string]any{"name": pkg}, false},
		{"latest", false, map[string]any{"name": pkg, "state": "latest"}, false},
		{"package module", false, map[string]any{"name": pkg, "state": "present"}, false},
		{"remove", false, map[string]any{"name": pkg, "state": "absent"}, true},
		{"remove again", false, map[string]any{"name": pkg, "state": "absent"}, false},
	}
	for _, s := range steps {
		var m Module = Apt{}
		if s.what == "package module" {
			m = Package{}
		}
		res, _ := sysRun(t, c, m, s.check, false, s.raw)
		sysExpect(t, s.what, res, s.changed, false, "")
		if s.what == "update cache still valid" && res.Values["cache_updated"] != false {
			t.Errorf("cache_updated = %v, want false", res.Values["cache_updated"])
		}
		if s.what == "package module" {
			if f, _ := res.Values["ansible_facts"].(map[string]any); f["pkg_mgr"] != "apt" {
				t.Errorf("package chose %v, want apt", res.Values["ansible_facts"])
			}
		}
	}
	if got := dpkgStatus(t, c, pkg); got != "rc" && got != "" {
		t.Errorf("after remove: dpkg status %q", got)
	}
}

// TestRPMCommands runs dnf and yum against fake rpm, dnf and yum programs
// that log their arguments, to check the commands the modules build.
func TestRPMCommands(t *testing.T) {
	dir := t.TempDir()
	installed := filepath.Join(dir, "installed") // one package per line
	updates := filepath.Join(dir, "updates")     // packages with an update
	log := filepath.Join(dir, "log")
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, "bin", name), []byte("#!/bin/sh\n"+body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	write("rpm", `for a; do p=$a; done; grep -qx -- "$p" `+installed+"\n")
	mgr := `echo "$(basename "$0") $*" >> ` + log + `
for a; do p=$a; done
case " $* " in
*" check-update "*) grep -qx -- "$p" ` + updates + ` && exit 100; exit 0 ;;
*" install "*) for a; do case $a in -*|install) ;; *) echo "$a" >> ` + installed + ` ;; esac; done ;;
esac
echo done
`
	write("dnf", mgr)
	t.Setenv("PATH", filepath.Join(dir, "bin")+":"+os.Getenv("PATH"))
	cases := []struct {
		name      string
		m         Module
		yum       bool // a fake yum exists too
		check     bool
		raw       map[string]any
		installed string
		updates   string
		changed   bool
		cmds      []string
		results   []string
	}{
		{"install missing", Dnf{}, false, false, map[string]any{"name": []any{"a", "b"}}, "a\n", "", true,
			[]string{"dnf -y install b"}, []string{"Installed: b"}},
		{"all present", Dnf{}, false, false, map[string]any{"name": "a", "state": "installed"}, "a\n", "", false, nil, []string{}},
		{"latest", Dnf{}, false, false, map[string]any{"name": "a,c,d", "state": "latest"}, "a\nd\n", "a\n", true,
			[]string{"dnf -q check-update a", "dnf -q check-update d", "dnf -y install c", "dnf -y upgrade a"}, []string{"Installed: a", "Installed: c"}},
		{"remove", Dnf{}, false, false, map[string]any{"name": []any{"a", "c"}, "state": "absent", "autoremove": true}, "a\n", "", true,
			[]string{"dnf -y --setopt=clean_requirements_on_remove=1 remove a"}, []string{"Removed: a"}},
		{"check mode runs nothing", Dnf{}, false, true, map[string]any{"name": "b"}, "", "", true, nil, []string{"Installed: b"}},
		{"repos and gpg", Dnf{}, false, false, map[string]any{"name": "b", "enablerepo": "epel", "disable_gpg_check": true}, "", "", true,
			[]string{"dnf -y --nogpgcheck --enablerepo=epel install b"}, []string{"Installed: b"}},
		{"update cache", Dnf{}, false, false, map[string]any{"update_cache": true}, "", "", false, []string{"dnf -y makecache"}, []string{}},
		{"yum falls back to dnf", Yum{}, false, false, map[string]any{"name": "b"}, "", "", true, []string{"dnf -y install b"}, []string{"Installed: b"}},
		{"yum", Yum{}, true, false, map[string]any{"name": "b"}, "", "", true, []string{"yum -y install b"}, []string{"Installed: b"}},
		{"package use dnf", Package{}, false, false, map[string]any{"name": "b", "state": "present", "use": "dnf"}, "", "", true,
			[]string{"dnf -y install b"}, []string{"Installed: b"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for f, s := range map[string]string{installed: tc.installed, updates: tc.updates, log: ""} {
				if err := os.WriteFile(f, []byte(s), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			os.Remove(filepath.Join(dir, "bin", "yum"))
			if tc.yum {
				write("yum", mgr)
			}
			res, trips := sysRun(t, localConn(), tc.m, tc.check, false, tc.raw)
			if res.Failed || res.Changed != tc.changed {
				t.Fatalf("changed=%v failed=%v msg=%q, want changed=%v", res.Changed, res.Failed, res.Msg, tc.changed)
			}
			if trips != 1 {
				t.Errorf("%d round trips, want 1", trips)
			}
			b, _ := os.ReadFile(log)
			var cmds []string
			for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
				if l != "" {
					cmds = append(cmds, l)
				}
			}
			if !reflect.DeepEqual(cmds, tc.cmds) {
				t.Errorf("commands:\n got %q\nwant %q", cmds, tc.cmds)
			}
			if got := res.Values["results"]; !reflect.DeepEqual(got, tc.results) {
				t.Errorf("results = %#v, want %#v", got, tc.results)
			}
		})
	}
}

// TestPassThroughArgs: arguments Ansible's package, service and apt accept
// are accepted here too; package refuses the rpm-only ones on an apt host
// as Ansible's apt module does.
func TestPassThroughArgs(t *testing.T) {
	for _, tc := range []struct {
		m   Module
		raw map[string]any
	}{
		{Package{}, map[string]any{"name": "x", "state": "present", "allow_downgrade": true, "enablerepo": "epel", "disablerepo": "*"}},
		{Service{}, map[string]any{"name": "x", "daemon_reload": true}},
		{Apt{}, map[string]any{"name": "x", "policy_rc_d": 101}},
	} {
		if _, err := tc.m.Spec().Normalize(tc.raw); err != nil {
			t.Errorf("%T %v: %v", tc.m, tc.raw, err)
		}
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		return
	}
	res, _ := sysRun(t, localConn(), Package{}, true, false, map[string]any{"name": "mdo-no-such-pkg", "state": "present", "enablerepo": "epel"})
	sysExpect(t, "enablerepo on apt", res, false, true, "Unsupported parameters for (apt) module: enablerepo")
}
