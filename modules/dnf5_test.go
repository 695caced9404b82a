package modules

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestDnf5 checks that dnf5 is dnf's implementation (ansible-core's dnf5
// and dnf take the same yum/dnf argument spec, of which mdo-play accepts
// the same part) and runs it against stand-in rpm and dnf: on a dnf5
// system the dnf command is dnf5.
func TestDnf5(t *testing.T) {
	r := Builtin()
	m, err := r.Resolve("ansible.builtin.dnf5")
	if err != nil {
		t.Fatal(err)
	}
	if m != (Dnf{}) || !reflect.DeepEqual(m.Spec(), r.m["dnf"].Spec()) {
		t.Fatalf("dnf5 resolves to %T, not dnf's implementation", m)
	}
	dir := t.TempDir()
	installed, log := filepath.Join(dir, "installed"), filepath.Join(dir, "log")
	os.WriteFile(installed, []byte("a\n"), 0o644)
	modsbStandIns(t, map[string]string{
		"rpm": `for a; do p=$a; done; grep -qx -- "$p" ` + installed,
		"dnf": `echo "dnf $*" >>` + log + `
case " $* " in *" install "*) for a; do case $a in -*|install) ;; *) echo "$a" >>` + installed + ` ;; esac; done ;; esac`,
	})
	res, trips := sysRun(t, localConn(), m, false, false, map[string]any{"name": []any{"a", "b"}})
	sysExpect(t, "install", res, true, false, "")
	if got, _ := os.ReadFile(log); string(got) != "dnf -y install b\n" || trips != 1 {
		t.Errorf("commands %q, %d round trips", got, trips)
	}
	res, _ = sysRun(t, localConn(), m, false, false, map[string]any{"name": "b"})
	sysExpect(t, "again", res, false, false, "")
}
