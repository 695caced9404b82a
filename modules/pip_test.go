package modules

import (
	"archive/zip"
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestPipNames(t *testing.T) {
	got := pipRecoverNames([]string{"django>1.11.1", "<1.11.3", "ipaddress", "simpleproject>1.1.0", "<2.0.0", "req[a", "b]>=1"})
	want := []string{"django>1.11.1,<1.11.3", "ipaddress", "simpleproject>1.1.0,<2.0.0", "req[a,b]>=1"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("pipRecoverNames = %q, want %q", got, want)
	}
	cases := []struct {
		req, version string
		plain, ok    bool
	}{
		{"Foo_Bar", "1.0", true, true},
		{"foo>=1.2,<2", "1.10", true, true},
		{"foo>=1.2,<2", "2.0", true, false},
		{"foo==1.*", "1.4", true, true},
		{"foo~=1.4.2", "1.4.9", true, true},
		{"foo~=1.4.2", "1.5", true, false},
		{"foo!=1.0", "1.0.0", true, false},
		{"git+https://x/y.git", "", false, false},
		{"./local", "", false, false},
	}
	for _, tc := range cases {
		r := pipParse(tc.req)
		if r.plain != tc.plain || (r.plain && r.satisfiedBy(tc.version) != tc.ok) {
			t.Errorf("%q with %s: plain=%v satisfied=%v, want %v %v", tc.req, tc.version, r.plain, r.satisfiedBy(tc.version), tc.plain, tc.ok)
		}
	}
	if r := pipParse("Foo.Bar"); r.name != "foo-bar" {
		t.Errorf("canonical name %q", r.name)
	}
}

// demoWheel builds a minimal pure-Python wheel of mdo-demo at version.
func demoWheel(t *testing.T, version string) []byte {
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	info := "mdo_demo-" + version + ".dist-info/"
	files := [][2]string{
		{"mdo_demo/__init__.py", "VERSION = '" + version + "'\n"},
		{info + "METADATA", "Metadata-Version: 2.1\nName: mdo-demo\nVersion: " + version + "\n"},
		{info + "WHEEL", "Wheel-Version: 1.0\nGenerator: mdo\nRoot-Is-Purelib: true\nTag: py3-none-any\n"},
	}
	var record strings.Builder
	for _, f := range files {
		w, _ := z.Create(f[0])
		w.Write([]byte(f[1]))
		record.WriteString(f[0] + ",,\n")
	}
	record.WriteString(info + "RECORD,,\n")
	w, _ := z.Create(info + "RECORD")
	w.Write([]byte(record.String()))
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestPip installs a local wheel into a virtualenv the module creates
// (python3 -m venv), through a real Conn: a test host, or the local
// connection in short mode (each pip run costs seconds, so one target).
func TestPip(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		sysUnavailable(t, "needs python3")
	}
	if err := exec.Command("/usr/bin/python3", "-c", "import venv, ensurepip").Run(); err != nil {
		sysUnavailable(t, "needs python3-venv")
	}
	targets := sysTargets(t)
	if _, ok := targets["ssh"]; ok {
		delete(targets, "local")
	}
	for tn, c := range targets {
		t.Run(tn, func(t *testing.T) {
			dir := t.TempDir()
			if tn == "ssh" {
				dir = "/srv/" + sysUniq("pip")
			}
			wheels := filepath.Join(dir, "wheels")
			sysSh(t, c, "mkdir -p "+wheels)
			for _, v := range []string{"1.0", "2.0"} {
				if err := c.Put(context.Background(), bytes.NewReader(demoWheel(t, v)), wheels+"/mdo_demo-"+v+"-py3-none-any.whl", 0o644); err != nil {
					t.Fatal(err)
				}
			}
			venv := filepath.Join(dir, "venv")
			find := "--no-index --find-links " + wheels
			args := func(kv ...any) map[string]any {
				m := map[string]any{"virtualenv": venv, "virtualenv_command": "/usr/bin/python3 -m venv"}
				for i := 0; i+1 < len(kv); i += 2 {
					m[kv[i].(string)] = kv[i+1]
				}
				return m
			}
			steps := []struct {
				what    string
				check   bool
				raw     map[string]any
				changed bool
				failed  bool
				msg     string
				trips   int    // 0: not checked
				version string // installed afterwards; "-" none
			}{
				{"check without venv", true, args("name", "mdo-demo", "version", "1.0", "extra_args", find), true, false, "", 1, ""},
				{"install", false, args("name", "mdo-demo", "version", "1.0", "extra_args", find), true, false, "", 2, "1.0"},
				{"install again", false, args("name", "mdo-demo", "version", "1.0", "extra_args", find), false, false, "", 2, "1.0"},
				{"present, pip not run", false, args("name", []any{"mdo_demo"}), false, false, "", 1, "1.0"},
				{"check newer", true, args("name", "mdo-demo>=2"), true, false, "", 1, "1.0"},
				{"check present", true, args("name", "mdo-demo<2"), false, false, "", 1, "1.0"},
				{"latest", false, args("name", "mdo-demo", "state", "latest", "extra_args", find), true, false, "", 2, "2.0"},
				{"absent", false, args("name", "mdo-demo", "state", "absent"), true, false, "", 2, "-"},
				{"absent again", false, args("name", "mdo-demo", "state", "absent"), false, false, "", 1, "-"},
				{"version with latest", false, args("name", "mdo-demo", "state", "latest", "version", "1"), false, true, "version is incompatible with state=latest", 0, ""},
				{"version conflict", false, args("name", "mdo-demo==1", "version", "1"), false, true, "The 'version' argument conflicts", 0, ""},
				{"not found", false, args("name", "mdo-nothing", "extra_args", find), false, true, "No matching distribution", 0, ""},
			}
			for _, s := range steps {
				res, trips := sysRun(t, c, Pip{}, s.check, false, s.raw)
				sysExpect(t, s.what, res, s.changed, s.failed, s.msg)
				if s.trips != 0 && trips != s.trips {
					t.Errorf("%s: %d round trips, want %d", s.what, trips, s.trips)
				}
				if s.version == "" {
					continue
				}
				got := strings.TrimSpace(sysSh(t, c, venv+"/bin/python -c 'import mdo_demo; print(mdo_demo.VERSION)' 2>/dev/null || echo -"))
				if got != s.version {
					t.Errorf("%s: installed %s, want %s", s.what, got, s.version)
				}
			}
			res, _ := sysRun(t, c, Pip{}, false, false, args("name", "mdo-demo", "extra_args", find))
			cmd, _ := res.Values["cmd"].([]any)
			if len(cmd) == 0 || cmd[0] != venv+"/bin/pip3" || res.Values["virtualenv"] != venv || res.Values["state"] != "present" {
				t.Errorf("result values %v", res.Values)
			}
		})
	}
}
