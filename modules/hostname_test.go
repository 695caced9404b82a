package modules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHostnameFake sets hostnames through fake hostname and hostnamectl
// programs (changing the machine's name is not allowed here: test hosts
// share it) and a hostname file in a temp dir.
func TestHostnameFake(t *testing.T) {
	dir := t.TempDir()
	bin, state := filepath.Join(dir, "bin"), filepath.Join(dir, "state")
	etc := filepath.Join(dir, "etc")
	for _, d := range []string{bin, etc} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	log := filepath.Join(dir, "log")
	fake := map[string]string{
		"hostname": `case $1 in "") cat ` + state + ` ;; -f) cat ` + state + ` ;; *) echo "hostname $*" >>` + log + `; echo "$1" >` + state + ` ;; esac`,
		"hostnamectl": `echo "hostnamectl $*" >>` + log + `
for a; do n=$a; done
case "$*" in *--transient*set-hostname*) echo "$n" >` + state + ` ;; *--static*set-hostname*) echo "$n" >` + state + `.static ;; *--static*) cat ` + state + `.static ;; *) cat ` + state + ` ;; esac`,
	}
	for n, body := range fake {
		if err := os.WriteFile(filepath.Join(bin, n), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", bin+":"+os.Getenv("PATH"))
	reset := func() {
		os.WriteFile(state, []byte("old\n"), 0o644)
		os.WriteFile(state+".static", []byte("old\n"), 0o644)
		os.WriteFile(filepath.Join(etc, "hostname"), []byte("old\n"), 0o644)
		os.WriteFile(log, nil, 0o644)
	}
	m := Hostname{etc: etc}
	cases := []struct {
		name  string
		use   string
		check bool
		log   string
		file  string
	}{
		{"debian", "debian", false, "hostname web1.example.com\n", "web1.example.com\n"},
		{"auto picks the file", "", false, "hostname web1.example.com\n", "web1.example.com\n"},
		{"systemd", "systemd", false, "hostnamectl --transient status\nhostnamectl --static status\nhostnamectl --transient set-hostname web1.example.com\nhostnamectl --pretty --static set-hostname web1.example.com\n", "old\n"},
		{"generic", "generic", false, "hostname web1.example.com\n", "old\n"},
		{"check", "debian", true, "", "old\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			reset()
			raw := map[string]any{"name": "web1.example.com"}
			if tc.use != "" {
				raw["use"] = tc.use
			}
			res, trips := sysRun(t, localConn(), m, tc.check, true, raw)
			sysExpect(t, "first", res, true, false, "")
			if trips != 1 {
				t.Errorf("%d round trips", trips)
			}
			if got, _ := os.ReadFile(log); strings.ReplaceAll(string(got), "hostnamectl --transient status\nhostnamectl --static status\n", "") != strings.ReplaceAll(tc.log, "hostnamectl --transient status\nhostnamectl --static status\n", "") {
				t.Errorf("commands %q, want %q", got, tc.log)
			}
			if got, _ := os.ReadFile(filepath.Join(etc, "hostname")); string(got) != tc.file {
				t.Errorf("hostname file %q, want %q", got, tc.file)
			}
			f, _ := res.Values["ansible_facts"].(map[string]any)
			if f["ansible_hostname"] != "web1" || f["ansible_nodename"] != "web1.example.com" {
				t.Errorf("facts %v", f)
			}
			if tc.name == "debian" {
				golden(t, "hostname/debian.diff", sysDiffText(res.Diff, ""))
			}
			if tc.check {
				return
			}
			again, _ := sysRun(t, localConn(), m, false, false, raw)
			sysExpect(t, "second", again, false, false, "")
		})
	}
}

// TestHostnameReal runs hostname against the real machine, locally and
// over SSH, only in ways that cannot change it: the current name, and
// another name in check mode.
func TestHostnameReal(t *testing.T) {
	for tn, c := range sysTargets(t) {
		t.Run(tn, func(t *testing.T) {
			cur := strings.TrimSpace(sysSh(t, c, "hostname"))
			res, _ := sysRun(t, c, Hostname{}, false, false, map[string]any{"name": cur, "use": "generic"})
			sysExpect(t, "same name", res, false, false, "")
			res, _ = sysRun(t, c, Hostname{}, true, true, map[string]any{"name": "mdo-other-name"})
			sysExpect(t, "check", res, true, false, "")
			if len(res.Diff) != 1 || res.Diff[0].Before != "hostname = "+cur+"\n" {
				t.Errorf("diff %+v", res.Diff)
			}
			if now := strings.TrimSpace(sysSh(t, c, "hostname")); now != cur {
				t.Fatalf("check mode changed the hostname to %q", now)
			}
			res, _ = sysRun(t, c, Hostname{}, false, false, map[string]any{"name": "bad name"})
			sysExpect(t, "bad", res, false, true, "invalid hostname")
		})
	}
}
