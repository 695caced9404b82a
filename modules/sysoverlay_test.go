package modules

import (
	"os"
	"path/filepath"
	"strings"
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

// TestModsbSpecs checks that bad arguments of the four modules are refused
// by Normalize, before anything runs.
func TestModsbSpecs(t *testing.T) {
	cases := []struct {
		name string
		m    Module
		raw  map[string]any
		want string
	}{
		{"timezone nothing", Timezone{}, map[string]any{}, "one of the following is required: hwclock, name"},
		{"timezone hwclock", Timezone{}, map[string]any{"hwclock": "utc"}, `argument "hwclock": value "utc" is not one of`},
		{"locale_gen name", LocaleGen{}, map[string]any{"state": "present"}, `missing required argument "name"`},
		{"locale_gen state", LocaleGen{}, map[string]any{"name": "C.UTF-8", "state": "installed"}, `argument "state": value "installed" is not one of`},
		{"modprobe persistent", Modprobe{}, map[string]any{"name": "dummy", "persistent": "yes"}, `argument "persistent": value "yes" is not one of`},
		{"ufw nothing", Ufw{}, map[string]any{"port": "22"}, "one of the following is required: state, default, rule, logging"},
		{"ufw exclusive", Ufw{}, map[string]any{"rule": "allow", "app": "OpenSSH", "proto": "tcp"}, "mutually exclusive: name|proto"},
		{"ufw insert", Ufw{}, map[string]any{"rule": "allow", "insert": "first"}, `argument "insert": expected an integer`},
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

// modsbStep is one run of a module in a step table: the arguments, the
// expected outcome, the target's state afterwards (as the test's state
// function prints it) and the round trips it may take.
type modsbStep struct {
	what            string
	check           bool
	raw             map[string]any
	changed, failed bool
	msg             string
	state           string
	trips           int
}

// modsbRunSteps runs the steps in order through c (with --diff) and
// checks each; it returns the results by step name for further checks.
func modsbRunSteps(t *testing.T, c conn.Conn, m Module, steps []modsbStep, state func() string) map[string]Result {
	t.Helper()
	out := map[string]Result{}
	for _, s := range steps {
		res, trips := sysRun(t, c, m, s.check, true, s.raw)
		sysExpect(t, s.what, res, s.changed, s.failed, s.msg)
		if trips != s.trips {
			t.Errorf("%s: %d round trips, want %d", s.what, trips, s.trips)
		}
		if got := state(); got != s.state {
			t.Errorf("%s: state\n%s\nwant\n%s", s.what, got, s.state)
		}
		out[s.what] = res
	}
	return out
}
