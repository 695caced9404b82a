package modules

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestResolve checks how module names resolve: short names, ansible.builtin
// and ansible.legacy, the collection that really holds a module, and the
// errors for a module Ansible has and mdo-play lacks.
func TestResolve(t *testing.T) {
	r := Builtin()
	cases := []struct {
		name    string
		want    string // the short name it resolves to; "" for an error
		errIs   error
		errText string
	}{
		{"shell", "shell", nil, ""},
		{"ansible.builtin.shell", "shell", nil, ""},
		{"ansible.legacy.copy", "copy", nil, ""},
		{"ansible.posix.sysctl", "sysctl", nil, ""},
		{"ansible.posix.authorized_key", "authorized_key", nil, ""},
		{"ansible.builtin.sysctl", "sysctl", nil, ""}, // ansible-core's runtime redirects it
		{"sysctl", "sysctl", nil, ""},
		{"community.mysql.mysql_role", "", ErrNotBuiltin, "module community.mysql.mysql_role (collection community.mysql) is not built in"},
		{"community.mysql.mysql_user", "mysql_user", nil, ""},
		{"community.mysql.mysql_query", "mysql_query", nil, ""},
		{"mysql_role", "", ErrNotBuiltin, "module community.mysql.mysql_role (collection community.mysql) is not built in"},
		{"mysql_db", "mysql_db", nil, ""},
		{"ansible.builtin.mysql_role", "", ErrNotBuiltin, "module community.mysql.mysql_role (collection community.mysql) is not built in"},
		{"ansible.builtin.mysql_variables", "mysql_variables", nil, ""},
		{"community.general.mysql_user", "", ErrNotBuiltin, `community.general has no module mysql_user (did you mean "community.mysql.mysql_user"?)`},
		{"fortinet.fortios.fortios_system_global", "", ErrNotBuiltin, "module fortinet.fortios.fortios_system_global (collection fortinet.fortios) is not built in"},
		{"community.general.sysctl", "", ErrNotBuiltin, `community.general has no module sysctl (did you mean "ansible.posix.sysctl"?)`},
		{"ansible.posix.shel", "", ErrNotBuiltin, `ansible.posix has no module shel (did you mean "shell"?)`},
		{"ansible.builtin.cpoy", "", ErrNotBuiltin, `ansible.builtin has no module cpoy (did you mean "copy"?)`},
		{"cpoy", "", ErrUnknownModule, `unknown module "cpoy" (did you mean "copy"?)`},
		{"frobnicate", "", ErrUnknownModule, `unknown module "frobnicate"`},
		{"2.8.17", "", ErrUnknownModule, `unknown module "2.8.17"`},
		{"community.general.make", "make", nil, ""},
		{"community.general.git_config", "git_config", nil, ""},
		{"community.general.npm", "npm", nil, ""},
		{"community.general.gem", "gem", nil, ""},
		{"community.general.capabilities", "capabilities", nil, ""},
		{"ansible.posix.patch", "patch", nil, ""},
		{"community.general.htpasswd", "htpasswd", nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := r.Resolve(tc.name)
			if tc.want != "" {
				if err != nil {
					t.Fatalf("Resolve(%q): %v", tc.name, err)
				}
				if want, _ := r.Lookup(tc.want); fmt.Sprintf("%T", m) != fmt.Sprintf("%T", want) {
					t.Errorf("Resolve(%q) = %T, want %s's module", tc.name, m, tc.want)
				}
				if c := Canonical(tc.name); c != tc.want {
					t.Errorf("Canonical(%q) = %q, want %q", tc.name, c, tc.want)
				}
				return
			}
			if err == nil || !errors.Is(err, tc.errIs) || !strings.Contains(err.Error(), tc.errText) {
				t.Fatalf("Resolve(%q) = %v, want an error wrapping %v containing %q", tc.name, err, tc.errIs, tc.errText)
			}
			if r.Has(tc.name) {
				t.Errorf("Has(%q) = true", tc.name)
			}
		})
	}
	if c := Canonical("community.general.sysctl"); c != "community.general.sysctl" {
		t.Errorf("Canonical of a module outside its collection = %q, want it unchanged", c)
	}
}

// TestCollectionsMatchAnsible checks, against the installed ansible, that
// each built-in module's short name routes to the collection mdo-play says
// it belongs to (ansible-core's runtime redirects for moved modules).
func TestCollectionsMatchAnsible(t *testing.T) {
	py := `
import sys, yaml, os
import ansible
d = os.path.dirname(ansible.__file__)
red = yaml.safe_load(open(os.path.join(d, 'config', 'ansible_builtin_runtime.yml')))['plugin_routing']['modules']
for n in sys.argv[1:]:
    if os.path.exists(os.path.join(d, 'modules', n + '.py')):
        print(n, 'ansible.builtin')
    else:
        print(n, red.get(n, {}).get('redirect', '?').rsplit('.', 1)[0])
`
	if _, err := exec.LookPath("ansible-playbook"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("needs ansible-core")
		}
		t.Skip("needs ansible-core")
	}
	names := Builtin().Names()
	out, err := exec.Command("/usr/bin/python3", append([]string{"-c", py}, names...)...).Output()
	if err != nil {
		t.Fatalf("python: %v", err)
	}
	// Modules of later ansible-core releases (gencollections.py adds
	// them), which the installed 2.14 does not route.
	later := map[string]bool{"deb822_repository": true, "dnf5": true, "mount_facts": true}
	// Collection modules that were never in ansible-core have no short-name
	// route there; mdo-play resolves them by their collection's name.
	notRouted := map[string]string{"x509_certificate": "community.crypto", "openssl_csr_pipe": "community.crypto"}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		n, coll, _ := strings.Cut(line, " ")
		if later[n] && coll == "?" {
			coll = "ansible.builtin"
		}
		if notRouted[n] != "" && coll == "?" {
			coll = notRouted[n]
		}
		if got := CollectionOf(n); got != coll {
			t.Errorf("CollectionOf(%q) = %q, ansible routes it to %q", n, got, coll)
		}
		if !Builtin().Has(coll + "." + n) {
			t.Errorf("%s.%s does not resolve", coll, n)
		}
	}
}
