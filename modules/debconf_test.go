package modules

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/mdo-play/mdo-play/modules/conn"
)

func TestDebconfParse(t *testing.T) {
	got := debconfParseShow("* tzdata/Areas: Etc\n  tzdata/Zones/Europe:\n* pw/q: (password omitted)\n  multi/q: a, b: c\nno colon\n")
	want := map[string]string{"tzdata/Areas": "Etc", "tzdata/Zones/Europe": "", "pw/q": "(password omitted)", "multi/q": "a, b: c"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("debconfParseShow = %v, want %v", got, want)
	}
	sel := "pkg\tpkg/other\tstring\tx\npkg\tpkg/pw\tpassword\ts3\tcret\n"
	for _, tc := range []struct {
		out, q, want string
		found        bool
	}{
		{sel, "pkg/pw", "s3", true},
		{sel, "pkg/none", "", false},
		// As Ansible: the first line of the package without a value ends
		// the search with an empty password.
		{"pkg\tpkg/a\tstring\n" + sel, "pkg/pw", "", true},
	} {
		if v, found := debconfPassword(tc.out, "pkg", tc.q, "password"); v != tc.want || found != tc.found {
			t.Errorf("debconfPassword(%q) = %q, %v; want %q, %v", tc.q, v, found, tc.want, tc.found)
		}
	}
}

// debconfTestDB points debconf on the local machine at a private copy of
// its database (DEBCONF_SYSTEMRC names a debconf.conf whose files are in
// a temporary directory), so the local runs leave the machine's answers
// alone. The SSH test host has a private overlay root and uses its real
// database.
func debconfTestDB(t *testing.T) {
	t.Helper()
	sysNeedRoot(t, "debconf-show", "debconf-set-selections", "debconf-get-selections")
	dir := t.TempDir()
	conf, err := os.ReadFile("/etc/debconf.conf")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "debconf.conf"), []byte(strings.ReplaceAll(string(conf), "/var/cache/debconf", dir)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"config.dat", "templates.dat", "passwords.dat"} {
		if b, err := os.ReadFile("/var/cache/debconf/" + n); err == nil {
			os.WriteFile(filepath.Join(dir, n), b, 0o600)
		}
	}
	t.Setenv("DEBCONF_SYSTEMRC", filepath.Join(dir, "debconf.conf"))
}

// TestDebconf sets answers of every kind through the real debconf tools,
// locally on a private copy of the database and over SSH on a test host
// with a private root, and checks them with debconf-show and
// debconf-get-selections.
func TestDebconf(t *testing.T) {
	debconfTestDB(t)
	hostile := `it's $(echo INJECTED) "q" ; ` + "`x` *"
	for tn, c := range modsbTargets(t) {
		t.Run(tn, func(t *testing.T) {
			pkg := sysUniq("mdo-debconf-")
			q := func(n string) string { return pkg + "/" + n }
			state := func() string {
				lines := strings.SplitAfter(sysSh(t, c, "debconf-show "+conn.Quote(pkg)), "\n")
				sort.Slice(lines, func(i, j int) bool { return strings.TrimLeft(lines[i], "* ") < strings.TrimLeft(lines[j], "* ") })
				show := strings.Join(lines, "")
				pw := sysSh(t, c, "debconf-get-selections | grep -F "+conn.Quote(q("pw"))+" | cut -f 4 || true")
				return show + "pw=" + pw
			}
			set := func(name, vtype string, value any) map[string]any {
				return map[string]any{"name": pkg, "question": q(name), "vtype": vtype, "value": value}
			}
			s1 := "* " + q("s") + ": first\n"
			s3 := "* " + q("b") + ": true\n" + s1
			pwState := func(show, pw string) string { return show + "pw=" + pw }
			sB := "* " + q("b") + ": true\n"
			sPw := "* " + q("pw") + ": (password omitted)\n"
			sS := "* " + q("s") + ": first\n"
			sM := "* " + q("m") + ": b, a\n" // a new question's list is not sorted
			sU := "  " + q("u") + ": unseen answer\n"
			sH := "* " + q("h") + ": " + hostile + "\n"
			steps := []modsbStep{
				{"query nothing", false, map[string]any{"name": pkg}, false, false, "", "pw=", 1},
				{"check", true, set("s", "select", "first"), true, false, "", "pw=", 1},
				{"set", false, set("s", "select", "first"), true, false, "", pwState(s1, ""), 2},
				{"set again", false, set("s", "select", "first"), false, false, "", pwState(s1, ""), 1},
				{"boolean True", false, set("b", "boolean", "True"), true, false, "", pwState(s3, ""), 2},
				{"boolean yes", false, set("b", "boolean", true), false, false, "", pwState(s3, ""), 1},
				{"password", false, set("pw", "password", "s3cret"), true, false, "", pwState(sB+sPw+sS, "s3cret\n"), 2},
				{"password again", false, set("pw", "password", "s3cret"), false, false, "", pwState(sB+sPw+sS, "s3cret\n"), 1},
				{"password changed", false, set("pw", "password", "other"), true, false, "", pwState(sB+sPw+sS, "other\n"), 2},
				{"multiselect list", false, set("m", "multiselect", []any{"b", "a"}), true, false, "", pwState(sB+sM+sPw+sS, "other\n"), 2},
				{"multiselect list again", false, set("m", "multiselect", []any{"a", "b"}), false, false, "", pwState(sB+sM+sPw+sS, "other\n"), 1},
				{"multiselect string", false, set("m", "multiselect", "b, a"), false, false, "", pwState(sB+sM+sPw+sS, "other\n"), 1},
				{"unseen", false, map[string]any{"name": pkg, "question": q("u"), "vtype": "string", "value": "unseen answer", "unseen": true}, true, false, "", pwState(sB+sM+sPw+sS+sU, "other\n"), 2},
				{"hostile", false, set("h", "string", hostile), true, false, "", pwState(sB+sH+sM+sPw+sS+sU, "other\n"), 2},
				{"hostile again", false, set("h", "string", hostile), false, false, "", pwState(sB+sH+sM+sPw+sS+sU, "other\n"), 1},
				{"not together", false, map[string]any{"name": pkg, "question": q("s")}, false, true, "parameters are required together: question, vtype, value", pwState(sB+sH+sM+sPw+sS+sU, "other\n"), 0},
			}
			res := modsbRunSteps(t, c, Debconf{}, steps, state)
			if got := res["set"].Values["previous"]; !reflect.DeepEqual(got, map[string]any{q("s"): ""}) {
				t.Errorf("set: previous = %v", got)
			}
			if got := res["set"].Values["current"]; !reflect.DeepEqual(got, map[string]any{q("s"): "first"}) {
				t.Errorf("set: current = %v", got)
			}
			if d := res["boolean True"].Diff; len(d) != 1 || !strings.Contains(d[0].After, `"`+q("b")+`": "true"`) || !strings.Contains(d[0].Before, `"`+q("b")+`": ""`) {
				t.Errorf("boolean diff = %+v", d)
			}
			if got := res["password changed"].Values["previous"]; !reflect.DeepEqual(got, map[string]any{q("pw"): "(password omitted)"}) {
				t.Errorf("password changed: previous = %v", got)
			}
			if got := res["multiselect list"].Values["current"]; !reflect.DeepEqual(got, map[string]any{q("m"): "b, a"}) {
				t.Errorf("multiselect: current = %v", got)
			}
			cur, _ := res["set again"].Values["current"].(map[string]any)
			if cur[q("s")] != "first" || len(cur) != 1 {
				t.Errorf("set again: current = %v", cur)
			}
		})
	}
}

// TestDebconfMissing checks the failure without debconf's tools.
func TestDebconfMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	res, _ := sysRun(t, localConn(), Debconf{}, false, false, map[string]any{"name": "x"})
	sysExpect(t, "missing", res, false, true, `Failed to find required executable "debconf-show"`)
}
