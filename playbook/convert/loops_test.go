package convert

import "testing"

// TestRewriteLoops: with_flattened (a lookup mdo-play has no loop for)
// becomes loop: with the flatten filter, converted; ansible-playbook and
// mdo-play loop over the same items (checked by hand for the first two
// cases: /usr/local/sbin /a /b E /p1 /p2 /p3 3, then x-E-y 1 2 true).
func TestRewriteLoops(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"block list, nested, templated",
			"- name: a\n  debug: msg=x\n  with_flattened:\n    - '/usr/local/sbin'\n    - - /a\n      - [/b, \"{{ extra }}\"]\n    - \"{{ paths }}\"  # noqa\n    - 3\n  register: r\n",
			"- name: a\n  debug: msg=x\n  loop: '{{ list \"/usr/local/sbin\" (list \"/a\" (list \"/b\" .extra)) .paths 3 | flatten }}'\n  register: r\n"},
		{"flow list, FQCN lookup, text around a template",
			"- debug: msg=x\n  with_community.general.flattened: [\"x-{{ e }}-y\", [1, [2]], true, null]\n",
			"- debug: msg=x\n  loop: '{{ list (print \"x-\" (string .e) \"-y\") (list 1 (list 2)) true nil | flatten }}'\n"},
		{"a quote in a string",
			"- debug: msg=x\n  with_flattened: [\"it's\"]\n",
			"- debug: msg=x\n  loop: \"{{ list \\\"it's\\\" | flatten }}\"\n"},
		{"last key of the task, in a block",
			"- block:\n    - debug: msg=x\n      with_flattened:\n        - [a]\n- debug: msg=y\n",
			"- block:\n    - debug: msg=x\n      loop: '{{ list (list \"a\") | flatten }}'\n- debug: msg=y\n"},
		// Not rewritten: left for the loader to report.
		{"a backslash", "- debug: msg=x\n  with_flattened: ['a\\b']\n", "- debug: msg=x\n  with_flattened: ['a\\b']\n"},
		{"a block scalar", "- debug: msg=x\n  with_flattened:\n    - |\n      a\n", "- debug: msg=x\n  with_flattened:\n    - |\n      a\n"},
		{"a statement", "- debug: msg=x\n  with_flattened: [\"{% if a %}b{% endif %}\"]\n", "- debug: msg=x\n  with_flattened: [\"{{ if .a }}b{{ end }}\"]\n"},
		{"a loop too", "- debug: msg=x\n  loop: [1]\n  with_flattened: [a]\n", "- debug: msg=x\n  loop: [1]\n  with_flattened: [a]\n"},
	}
	c := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := c.File("t.yml", Tasks, []byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tt.want {
				t.Errorf("got\n%s\nwant\n%s", out, tt.want)
			}
			again, _, err := c.File("t.yml", Tasks, out)
			if err != nil || string(again) != string(out) {
				t.Errorf("second run changed it: %v\n%s", err, again)
			}
		})
	}
	// Variables files are data: a key named with_flattened stays.
	in := "with_flattened: [a]\n"
	if out, _, _ := c.File("v.yml", Vars, []byte(in)); string(out) != in {
		t.Errorf("vars file changed: %s", out)
	}
}
