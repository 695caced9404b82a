package modules

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestPackageFacts reads the machine's real dpkg database through the
// real Conn (local and a test host) and compares with dpkg-query; the
// managers the machine lacks (rpm, apk, pacman) answer through stand-in
// commands that print their tools' formats.
func TestPackageFacts(t *testing.T) {
	sysNeedRoot(t, "dpkg-query")
	for tn, c := range sysTargets(t) {
		t.Run(tn, func(t *testing.T) {
			want := strings.Fields(sysSh(t, c, "dpkg-query -W -f='${Version} ${Architecture}' bash"))
			for _, check := range []bool{false, true} {
				res, trips := sysRun(t, c, PackageFacts{}, check, false, map[string]any{})
				sysExpect(t, "auto", res, false, false, "")
				if trips != 1 {
					t.Errorf("%d round trips, want 1", trips)
				}
				pkgs, _ := res.Facts["packages"].(map[string]any)
				bash, _ := pkgs["bash"].([]any)
				if len(bash) != 1 || len(want) != 2 {
					t.Fatalf("packages[bash] = %v (dpkg-query says %q)", pkgs["bash"], want)
				}
				got := bash[0].(map[string]any)
				if got["name"] != "bash" || got["version"] != want[0] || got["arch"] != want[1] || got["source"] != "apt" || got["category"] != "shells" {
					t.Errorf("packages[bash] = %v, want version %s arch %s", got, want[0], want[1])
				}
				if len(pkgs) < 50 {
					t.Errorf("only %d packages", len(pkgs))
				}
			}
			res, _ := sysRun(t, c, PackageFacts{}, false, false, map[string]any{"manager": "portage"})
			sysExpect(t, "portage", res, false, true, "Could not detect a supported package manager from the following list: ['portage']")
			if len(res.Warnings) != 1 {
				t.Errorf("warnings %q", res.Warnings)
			}
			res, _ = sysRun(t, c, PackageFacts{}, false, false, map[string]any{"manager": []any{"apt", "nosuch"}})
			sysExpect(t, "unsupported", res, false, true, "Unsupported package managers requested: nosuch")
		})
	}
}

// TestPackageFactsStandIns runs the rpm, apk and pacman readers against
// stand-ins of their commands, strategy first and all, and a manager that
// fails.
func TestPackageFactsStandIns(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	tools := map[string]string{
		"rpm": `case "$*" in -qa) echo bash-5.1-2.x86_64;; *) printf 'bash\t5.1\t2\t(none)\tx86_64\nkernel\t6.1\t1\t0\tx86_64\nkernel\t6.2\t1\t0\tx86_64\nopenssl\t3.0\t4\t1\tx86_64\n';; esac`,
		"apk": `printf 'WARNING: opening /x: No such file\nmusl-1.2.4-r2\nbusybox-1.36.1-r5\nodd\n'`,
		"pacman": `cat <<'E'
Name            : bash
Version         : 5.2.015-1
Architecture    : x86_64
Provides        : sh  shell=1
Depends On      : readline
                  glibc

Name            : zlib
Version         : 1:1.3-1
Architecture    : x86_64
Provides        : None

E`,
		"dpkg-query": `echo "dpkg: broken" >&2; exit 2`,
	}
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range tools {
		if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	c := &prefixConn{Conn: localConn(), prefix: "PATH=" + bin + ":$PATH"}
	run := func(raw map[string]any) Result {
		res, trips := sysRun(t, c, PackageFacts{}, false, false, raw)
		if trips != 1 {
			t.Errorf("%v: %d round trips", raw, trips)
		}
		return res
	}
	res := run(map[string]any{})
	sysExpect(t, "auto first", res, false, false, "")
	pkgs := res.Facts["packages"].(map[string]any)
	want := map[string]any{
		"bash":    []any{map[string]any{"name": "bash", "version": "5.1", "release": "2", "epoch": nil, "arch": "x86_64", "source": "rpm"}},
		"kernel":  []any{map[string]any{"name": "kernel", "version": "6.1", "release": "1", "epoch": 0, "arch": "x86_64", "source": "rpm"}, map[string]any{"name": "kernel", "version": "6.2", "release": "1", "epoch": 0, "arch": "x86_64", "source": "rpm"}},
		"openssl": []any{map[string]any{"name": "openssl", "version": "3.0", "release": "4", "epoch": 1, "arch": "x86_64", "source": "rpm"}},
	}
	if !reflect.DeepEqual(pkgs, want) {
		t.Errorf("rpm packages %v", pkgs)
	}

	res = run(map[string]any{"manager": []any{"apk", "apt", "pacman"}, "strategy": "all"})
	sysExpect(t, "all", res, false, false, "")
	pkgs = res.Facts["packages"].(map[string]any)
	for name, w := range map[string]any{
		"musl":    map[string]any{"name": "musl", "version": "1.2.4", "release": "r2", "source": "apk"},
		"busybox": map[string]any{"name": "busybox", "version": "1.36.1", "release": "r5", "source": "apk"},
		"odd":     map[string]any{"name": "odd", "version": "", "release": "", "source": "apk"},
		"bash":    map[string]any{"name": "bash", "version": "5.2.015-1", "arch": "x86_64", "provides": []any{"sh", "shell"}, "source": "pacman"},
		"zlib":    map[string]any{"name": "zlib", "version": "1:1.3-1", "arch": "x86_64", "provides": nil, "source": "pacman"},
	} {
		if got := pkgs[name]; !reflect.DeepEqual(got, []any{w}) {
			t.Errorf("packages[%s] = %v, want %v", name, got, w)
		}
	}
	if len(pkgs) != 5 {
		t.Errorf("packages %v", pkgs)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "Failed to retrieve packages with apt: dpkg: broken") {
		t.Errorf("warnings %q", res.Warnings)
	}
}
