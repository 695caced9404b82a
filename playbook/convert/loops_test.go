package convert

import "testing"

// TestLoopsKeepTheirKeyword: a with_* loop keeps its keyword (the loader
// maps with_NAME to the lookup NAME); only the Jinja in its value is
// converted, and converting twice changes nothing.
func TestLoopsKeepTheirKeyword(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"with_flattened, nested, templated",
			"- name: a\n  debug: msg=x\n  with_flattened:\n    - '/usr/local/sbin'\n    - - /a\n      - [/b, \"{{ extra }}\"]\n    - \"{{ paths }}\"  # noqa\n    - 3\n  register: r\n",
			"- name: a\n  debug: msg=x\n  with_flattened:\n    - '/usr/local/sbin'\n    - - /a\n      - [/b, \"{{ .extra }}\"]\n    - \"{{ .paths }}\"  # noqa\n    - 3\n  register: r\n"},
		{"FQCN lookup",
			"- debug: msg=x\n  with_community.general.cartesian: [[a, b], \"{{ e }}\"]\n",
			"- debug: msg=x\n  with_community.general.cartesian: [[a, b], \"{{ .e }}\"]\n"},
		{"with_dict", "- debug: msg=x\n  with_dict: \"{{ users }}\"\n", "- debug: msg=x\n  with_dict: \"{{ .users }}\"\n"},
		{"with_indexed_items", "- debug: msg=x\n  with_indexed_items: [a, b]\n", "- debug: msg=x\n  with_indexed_items: [a, b]\n"},
		{"a statement", "- debug: msg=x\n  with_flattened: [\"{% if a %}b{% endif %}\"]\n", "- debug: msg=x\n  with_flattened: [\"{{ if .a }}b{{ end }}\"]\n"},
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
}
