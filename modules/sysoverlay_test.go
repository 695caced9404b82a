package modules

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/mdo-play/mdo-play/modules/conn"
	"github.com/mdo-play/mdo-play/modules/conn/local"
	"github.com/mdo-play/mdo-play/modules/conn/sshtest"
)

// Helpers shared by the timezone, locale_gen, modprobe and ufw tests.

// modsbTargets returns the connections those tests run against: local
// (where the test keeps to a temporary directory and stand-ins, as the
// machine's /etc must not change), and unless -short an SSH test host
// whose root is a private overlay, where the module works on the real
// /etc and the real tools.
func modsbTargets(t *testing.T) map[string]conn.Conn {
	t.Helper()
	m := map[string]conn.Conn{"local": local.New()}
	if !testing.Short() {
		m["ssh"] = sysSSH(t, sshtest.RootOverlay)
	}
	return m
}

// modsbStandIns writes executable shell scripts named by the keys of
// progs into a new directory and puts it first on PATH for the test (the
// local connection runs with the test's environment). It returns the
// directory.
func modsbStandIns(t *testing.T, progs map[string]string) string {
	t.Helper()
	bin := t.TempDir()
	for n, body := range progs {
		if err := os.WriteFile(filepath.Join(bin, n), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", bin+":"+os.Getenv("PATH"))
	return bin
}

// TestModsbResolve checks that the four modules resolve by short name and
// by their community.general names.
func TestModsbResolve(t *testing.T) {
	r := Builtin()
	for _, want := range []struct {
		name string
		m    Module
	}{{"timezone", Timezone{}}, {"locale_gen", LocaleGen{}}, {"modprobe", Modprobe{}}, {"ufw", Ufw{}}} {
		for _, n := range []string{want.name, "community.general." + want.name} {
			m, err := r.Resolve(n)
			if err != nil || m != want.m {
				t.Errorf("Resolve(%q) = %T, %v; want %T", n, m, err, want.m)
			}
			if c := Canonical(n); c != want.name {
				t.Errorf("Canonical(%q) = %q", n, c)
			}
		}
	}
}
