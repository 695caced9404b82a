package modules

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// standIn installs testdata/standins/TOOL as DIR/bin/TOOL with an empty
// state directory DIR/state, and returns c with that bin first on PATH and
// PMDIR set. The stand-ins emulate the query formats of package managers
// the test machines lack; the modules' real scripts run against them.
func standIn(t *testing.T, tool string) (dir string, prefix string) {
	t.Helper()
	dir = t.TempDir()
	src, err := os.ReadFile(filepath.Join("testdata", "standins", tool))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "state"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bin", tool), src, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir, "export PATH=" + dir + "/bin:$PATH PMDIR=" + dir + "/state"
}

// standInState writes the stand-in's state files.
func standInState(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, "state", name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func standInRead(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "state", name))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}

// standInStep is one call of a package-manager module against its stand-in
// and what it must do.
type standInStep struct {
	what      string
	check     bool
	raw       map[string]any
	changed   bool
	failed    bool
	msg       string
	packages  []any             // nil: not checked
	installed string            // the stand-in's installed list after the step; "": not checked
	logHas    string            // a command the stand-in ran during this step
	setup     map[string]string // stand-in state files written before the step
}

// standInRun says how runStandInSteps calls the module.
type standInRun struct {
	module  Module
	calls   int                      // the round trips a step may take (0: not checked)
	exact   bool                     // exactly calls, not at most
	prepare func(raw map[string]any) // adjusts a step's arguments before it runs
}

// runStandInSteps runs each step through sysRun and checks its result, its
// round trips, what the stand-in has installed (nothing changes in check
// mode or without a change) and what it ran.
func runStandInSteps(t *testing.T, pc conn.Conn, dir string, r standInRun, steps []standInStep) {
	t.Helper()
	for _, s := range steps {
		standInState(t, dir, s.setup)
		if r.prepare != nil {
			r.prepare(s.raw)
		}
		before := standInRead(t, dir, "installed")
		logBefore := len(standInRead(t, dir, "log"))
		res, calls := sysRun(t, pc, r.module, s.check, false, s.raw)
		sysExpect(t, s.what, res, s.changed, s.failed, s.msg)
		if r.calls > 0 && (calls > r.calls || r.exact && calls != r.calls) {
			t.Errorf("%s: %d round trips, want %d", s.what, calls, r.calls)
		}
		if s.packages != nil && !reflect.DeepEqual(res.Values["packages"], s.packages) {
			t.Errorf("%s: packages %v, want %v", s.what, res.Values["packages"], s.packages)
		}
		after := standInRead(t, dir, "installed")
		if s.installed != "" && after != s.installed {
			t.Errorf("%s: installed %q, want %q", s.what, after, s.installed)
		}
		if (s.check || !s.changed) && after != before {
			t.Errorf("%s: installed changed from %q to %q", s.what, before, after)
		}
		if log := standInRead(t, dir, "log")[logBefore:]; s.logHas != "" && !strings.Contains("\n"+log, "\n"+s.logHas+"\n") {
			t.Errorf("%s: the stand-in never ran %q; it ran:\n%s", s.what, s.logHas, log)
		}
	}
}

// TestPacman runs the pacman module's real scripts, locally and over SSH,
// against the pacman stand-in (pacman itself cannot run here).
func TestPacman(t *testing.T) {
	for tn, c := range sysTargets(t) {
		t.Run(tn, func(t *testing.T) {
			dir, prefix := standIn(t, "pacman")
			pc := &prefixConn{Conn: c, prefix: prefix}
			pkgFile := filepath.Join(dir, "foo-2.0-1-x86_64.pkg.tar.zst")
			if err := os.WriteFile(pkgFile, []byte("foo 2.0-1\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			standInState(t, dir, map[string]string{
				"installed": "glibc 2.38-1\nold 1.0-1\n",
				"db":        "core glibc 2.38-1\nextra nginx 1.24-1\nextra old 1.1-1\nextra xorg-server 21-1\nextra xorg-xinit 1.4-1\n",
				"groups":    "xorg xorg-server\nxorg xorg-xinit\n",
				"upgrades":  "old 1.0-1 -> 1.1-1\n",
			})
			steps := []standInStep{
				{what: "install check", check: true, raw: map[string]any{"name": "nginx"}, changed: true, msg: "Would have installed 1 packages", packages: []any{"nginx"}, installed: "glibc 2.38-1\nold 1.0-1\n"},
				{what: "install", raw: map[string]any{"name": []any{"nginx"}}, changed: true, msg: "Installed 1 package(s)", packages: []any{"nginx"}, installed: "glibc 2.38-1\nnginx 1.24-1\nold 1.0-1\n", logHas: "--noconfirm --noprogressbar --needed --sync nginx"},
				{what: "install again", raw: map[string]any{"pkg": "nginx", "state": "installed"}, msg: "package(s) already installed", packages: []any{}},
				{what: "group", raw: map[string]any{"name": "xorg"}, changed: true, packages: []any{"xorg-server", "xorg-xinit"}},
				{what: "present keeps an old version", raw: map[string]any{"name": "old"}, msg: "package(s) already installed"},
				{what: "latest upgrades it", raw: map[string]any{"name": "old", "state": "latest", "extra_args": "--overwrite '*'"}, changed: true, packages: []any{"old"}, logHas: "--noconfirm --noprogressbar --needed --overwrite * --sync old"},
				{what: "latest again", raw: map[string]any{"name": "old", "state": "latest"}, msg: "package(s) already installed"},
				{what: "package file", raw: map[string]any{"name": pkgFile}, changed: true, packages: []any{"foo"}, logHas: "--noconfirm --noprogressbar --needed --upgrade " + pkgFile},
				{what: "package file again", raw: map[string]any{"name": pkgFile}, msg: "package(s) already installed"},
				{what: "unknown", raw: map[string]any{"name": "nosuch"}, failed: true, msg: "Failed to list package nosuch"},
				{what: "hostile name", raw: map[string]any{"name": "it's $(echo X) `y`"}, failed: true, msg: "Failed to list package it's $(echo X) `y`"},
				{what: "remove check", check: true, raw: map[string]any{"name": "nginx", "state": "absent"}, changed: true, msg: "Would have removed 1 packages", packages: []any{"nginx-1.24-1"}},
				{what: "remove", raw: map[string]any{"name": []any{"nginx", "nosuch"}, "state": "removed", "force": true, "remove_nosave": true}, changed: true, msg: "Removed 1 package(s)", packages: []any{"nginx-1.24-1"}, logHas: "--remove --noconfirm --noprogressbar --nodeps --nodeps --nosave nginx"},
				{what: "remove again", raw: map[string]any{"name": "nginx", "state": "absent"}, msg: "package(s) already absent", packages: []any{}},
				{what: "upgrade check", check: true, raw: map[string]any{"upgrade": true}, changed: true, msg: "1 packages would have been upgraded", packages: []any{"glibc"}, setup: map[string]string{"upgrades": "glibc 2.38-1 -> 2.39-1\nlinux 6.1-1 -> 6.2-1 [ignored]\n"}},
				{what: "upgrade", raw: map[string]any{"upgrade": true}, changed: true, msg: "System upgraded", logHas: "--sync --sysupgrade --quiet --noconfirm"},
				{what: "upgrade again", raw: map[string]any{"upgrade": true}, msg: "Nothing to upgrade", packages: []any{}},
				{what: "update_cache unchanged", raw: map[string]any{"update_cache": true}, msg: "Updated package db", logHas: "--sync --refresh"},
				{what: "update_cache check", check: true, raw: map[string]any{"update-cache": true}, changed: true, msg: "Would have updated the package db"},
				{what: "update_cache new db", raw: map[string]any{"update_cache": true, "name": "vim"}, changed: true, msg: "Updated package db\nInstalled 1 package(s)", packages: []any{"vim"}, setup: map[string]string{"db.new": "extra vim 9.0-1\n"}},
				{what: "reason refused", raw: map[string]any{"name": "vim", "reason": "explicit"}, failed: true, msg: "reason/reason_for are not supported"},
			}
			runStandInSteps(t, pc, dir, standInRun{module: Pacman{}, calls: 0, exact: false, prepare: nil}, steps)
			if got := standInRead(t, dir, "installed"); got != "foo 2.0-1\nglibc 2.39-1\nold 1.1-1\nvim 9.0-1\nxorg-server 21-1\nxorg-xinit 1.4-1\n" {
				t.Errorf("installed at the end:\n%s", got)
			}
		})
	}
}

// TestPkgSpecs checks that the other OS families' package modules refuse
// bad arguments before anything runs, as Ansible's argument specs do.
func TestPkgSpecs(t *testing.T) {
	cases := []struct {
		name string
		m    Module
		raw  map[string]any
		want string
	}{
		{"pacman nothing", Pacman{}, map[string]any{"state": "present"}, "one of the following is required: name, update_cache, upgrade"},
		{"pacman exclusive", Pacman{}, map[string]any{"name": "x", "upgrade": true}, "mutually exclusive: name|upgrade"},
		{"pacman state", Pacman{}, map[string]any{"name": "x", "state": "newest"}, `value "newest" is not one of`},
		{"zypper name", Zypper{}, map[string]any{"state": "latest"}, `missing required argument "name"`},
		{"zypper type", Zypper{}, map[string]any{"name": "x", "type": "rpm"}, `value "rpm" is not one of`},
		{"apk exclusive", Apk{}, map[string]any{"name": "x", "upgrade": true}, "mutually exclusive: name|upgrade"},
		{"pkgng name", Pkgng{}, map[string]any{"state": "latest"}, `missing required argument "name"`},
		{"pkgng exclusive", Pkgng{}, map[string]any{"name": "x", "jail": "a", "chroot": "/b"}, "mutually exclusive"},
		{"deb822 name", Deb822Repository{}, map[string]any{"uris": "http://x"}, `missing required argument "name"`},
		{"deb822 state", Deb822Repository{}, map[string]any{"name": "x", "state": "enabled"}, `value "enabled" is not one of`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.m.Spec().Normalize(tc.raw)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Normalize(%v) = %v, want an error containing %q", tc.raw, err, tc.want)
			}
		})
	}
}
