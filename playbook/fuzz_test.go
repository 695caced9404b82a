package playbook

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/mdo-play/mdo-play/modules"
)

// FuzzLoad feeds arbitrary text to the playbook loader: no input may panic
// or hang it, every error must carry a position (file:line:col), and a
// playbook that loads must have plays that name their hosts. Included
// files are served from memory so that a fuzzed path never reaches the
// file system (/dev/zero would block). Seeds live under
// testdata/fuzz/FuzzLoad as well as below.
func FuzzLoad(f *testing.F) {
	for _, s := range []string{
		"- hosts: all\n  tasks:\n    - debug: msg=hi\n",
		"- hosts: web\n  vars: {a: 1}\n  tasks:\n    - name: x\n      command: echo {{ .a }}\n      when: eq .a 1\n      loop: [1, 2]\n",
		"- hosts: all\n  tasks:\n    - block:\n        - shell: 'true'\n      rescue:\n        - fail: msg=x\n      always:\n        - debug: var=x\n",
		"- hosts: all\n  tasks:\n    - include_tasks: inc.yml\n    - import_tasks: inc.yml\n",
		"- import_playbook: other.yml\n",
		"- hosts: all\n  roles: [r1, {role: r2, vars: {x: 1}}]\n",
		"- hosts: all\n  handlers:\n    - name: h\n      listen: l\n      debug: msg=x\n  tasks:\n    - copy: {content: x, dest: /tmp/x}\n      notify: l\n",
		"a: &a [*a, *a]\nb: &b [*a, *a]\n",
		"- hosts: all\n\ttasks: []\n",
		"- hosts: all\n  tasks:\n    - name: a\n      name: b\n",
		"- hosts: all\n  tasks: 3\n",
		"- hosts: all\n  tasks:\n    - debug: msg={{ x | default(1) }}\n",
		"- [[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]\n",
		"",
		"---\n...\n---\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		files := map[string]string{
			"/fuzz/inc.yml":   "- debug: msg=inc\n",
			"/fuzz/other.yml": "- hosts: all\n  tasks: []\n",
		}
		l := &Loader{Registry: modules.Builtin(), RolesPath: []string{}, ReadFile: func(path string) ([]byte, error) {
			if s, ok := files[path]; ok {
				return []byte(s), nil
			}
			return nil, fmt.Errorf("open %s: fuzz: no such file", path)
		}}
		pb, err := l.Parse("/fuzz/pb.yml", []byte(data))
		if err != nil {
			for _, e := range unjoin(err) {
				var pe *Error
				if !errors.As(e, &pe) && !strings.Contains(e.Error(), "pb.yml:") {
					t.Fatalf("error without a position: %v", e)
				}
			}
			return
		}
		for _, p := range pb.Plays {
			if p == nil {
				t.Fatal("nil play in a loaded playbook")
			}
		}
	})
}

// unjoin flattens errors.Join trees into their leaves.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, unjoin(e)...)
		}
		return out
	}
	return []error{err}
}
