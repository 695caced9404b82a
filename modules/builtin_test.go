package modules

import (
	"sort"
	"testing"

	"github.com/mdo-play/mdo-play/modules/conn"
	"github.com/mdo-play/mdo-play/modules/conn/local"
)

func localConn() conn.Conn { return local.New() }

func TestBuiltin(t *testing.T) {
	r := Builtin()
	// Every module of the product, sorted; a module added to Builtin must be
	// added here too.
	want := []string{"acl", "add_host", "alternatives", "apk", "apt", "apt_key", "apt_repository", "archive", "assemble", "assert",
		"async_status", "authorized_key", "blockinfile", "capabilities", "command", "copy", "cron", "deb822_repository", "debconf", "debug", "dnf",
		"dnf5", "dpkg_selections", "fail", "fetch", "file", "find", "gather_facts", "gem", "get_url", "getent", "git", "git_config",
		"group", "group_by", "hostname", "htpasswd", "include_vars", "ini_file", "iptables", "known_hosts", "lineinfile", "locale_gen", "make", "modprobe",
		"mount", "mysql_db", "mysql_query", "mysql_replication", "mysql_user", "mysql_variables", "npm", "package", "package_facts", "pacman", "pam_limits",
		"patch", "pause", "ping", "pip", "pkgng", "raw", "reboot", "replace", "rpm_key", "script", "seboolean",
		"selinux", "service", "service_facts", "set_fact", "set_stats", "setup", "shell", "slurp", "stat", "sysctl",
		"systemd", "systemd_service", "sysvinit", "tempfile", "template", "timezone", "ufw", "unarchive", "uri", "user",
		"validate_argument_spec", "wait_for", "wait_for_connection", "yum", "yum_repository", "zypper"}
	want = append(want, "openssl_privatekey") // issue 12, community.crypto
	want = append(want, "openssl_dhparam")
	want = append(want, "openssl_csr")
	want = append(want, "x509_certificate")
	want = append(want, "pamd")
	want = append(want, "openssl_csr_pipe")
	sort.Strings(want)
	got := r.Names()
	if len(got) != len(want) {
		t.Fatalf("names = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("names = %v, want %v", got, want)
		}
	}
	controller := map[string]bool{"assert": true, "debug": true, "fail": true, "set_fact": true, "include_vars": true,
		"pause": true, "add_host": true, "group_by": true, "set_stats": true, "validate_argument_spec": true}
	for _, name := range want {
		t.Run(name, func(t *testing.T) {
			m, ok := r.Lookup("ansible.builtin." + name)
			if !ok {
				t.Fatalf("ansible.builtin.%s not found", name)
			}
			s := m.Spec()
			seen := map[string]bool{}
			for _, n := range s.ValidNames() {
				if seen[n] {
					t.Errorf("argument name %q used twice", n)
				}
				seen[n] = true
			}
			if s.Controller != controller[name] {
				t.Errorf("Controller = %v, want %v", s.Controller, controller[name])
			}
			for _, a := range s.Args {
				if a.Default != nil {
					if _, err := Convert(a.Type, a.Default); err != nil {
						t.Errorf("default of %s does not fit its type: %v", a.Name, err)
					}
				}
			}
		})
	}
}

func TestSplitShlex(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		err  bool
	}{
		{in: "echo hello  world", want: []string{"echo", "hello", "world"}},
		{in: `a 'b c' "d e"`, want: []string{"a", "b c", "d e"}},
		{in: `"a\"b" 'a\b' "a\b" a\ b \n`, want: []string{`a"b`, `a\b`, `a\b`, "a b", "n"}},
		{in: `'' ""`, want: []string{"", ""}},
		{in: `x'y'"z"`, want: []string{"xyz"}},
		{in: "a#b #c", want: []string{"a#b", "#c"}},
		{in: "'open", err: true},
		{in: `trail\`, err: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := SplitShlex(tt.in)
			if (err != nil) != tt.err {
				t.Fatalf("err = %v, want error %v", err, tt.err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("got %q, want %q", got, tt.want)
				}
			}
		})
	}
}

func TestSplitLinesAndPyFormats(t *testing.T) {
	lines := SplitLines("a\r\nb\rc\n\nd\u2028e\n")
	want := []string{"a", "b", "c", "", "d", "e"}
	if len(lines) != len(want) {
		t.Fatalf("SplitLines = %q, want %q", lines, want)
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Errorf("SplitLines = %q, want %q", lines, want)
		}
	}
	if got := SplitLines(""); got == nil || len(got) != 0 {
		t.Errorf("SplitLines(\"\") = %#v, want an empty list", got)
	}
	deltas := map[string]string{
		"0:00:00":                 PyDelta(0),
		"0:00:01.500000":          PyDelta(1500e6),
		"1 day, 1:01:01":          PyDelta((86400 + 3661) * 1e9),
		"-1 day, 23:59:59.999999": PyDelta(-1000),
	}
	for want, got := range deltas {
		if got != want {
			t.Errorf("PyDelta = %q, want %q", got, want)
		}
	}
}
