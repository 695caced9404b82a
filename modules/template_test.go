package modules

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestTemplate ports the behaviour checks of Ansible's template
// integration target that apply to Go templates: rendering with the
// task's variables, idempotence, mode/owner kept or set, dest directories,
// newline_sequence, backup, validate and missing sources.
func TestTemplate(t *testing.T) {
	src := controllerTree(t, map[string]string{
		"app.conf.tmpl": "# {{ .app }} on {{ .inventory_hostname }}\nport = {{ .port }}\n{{ range .items }}item {{ . }}\n{{ end }}",
		"bad.tmpl":      "{{ .nope.deeper }}\n",
	})
	tmpl := filepath.Join(src, "app.conf.tmpl")
	rendered := "# demo on h1\nport = 8080\nitem a\nitem b\n"
	cases := []fileCase{
		{
			name: "render to a new file", args: map[string]any{"src": tmpl, "dest": "DIR/app.conf", "mode": "0640"},
			want: map[string]string{"app.conf": rendered}, calls: 2,
			check: func(t *testing.T, tg target, r Result) {
				sum, md5sum := sums([]byte(rendered))
				if r.Values["checksum"] != sum || r.Values["md5sum"] != md5sum || r.Values["mode"] != "0640" || r.Values["dest"] != tg.dir+"/app.conf" || r.Values["src"] != tmpl {
					t.Errorf("values = %v", r.Values)
				}
			},
		},
		{name: "unchanged costs one exec", files: map[string]string{"app.conf": rendered}, args: map[string]any{"src": tmpl, "dest": "DIR/app.conf"}, unchanged: true, calls: 1},
		{name: "changed file", files: map[string]string{"app.conf": "# demo on h1\nport = 80\n"}, args: map[string]any{"src": tmpl, "dest": "DIR/app.conf"}, want: map[string]string{"app.conf": rendered}},
		{name: "into a directory", files: map[string]string{"etc/": ""}, args: map[string]any{"src": tmpl, "dest": "DIR/etc"}, want: map[string]string{"etc/app.conf.tmpl": rendered}},
		{name: "newline_sequence", args: map[string]any{"src": tmpl, "dest": "DIR/crlf", "newline_sequence": `\r\n`}, want: map[string]string{"crlf": strings.ReplaceAll(rendered, "\n", "\r\n")}},
		{name: "backup", files: map[string]string{"app.conf": "old\n"}, args: map[string]any{"src": tmpl, "dest": "DIR/app.conf", "backup": true}, want: map[string]string{"app.conf": rendered}},
		{name: "validate fails", args: map[string]any{"src": tmpl, "dest": "DIR/app.conf", "validate": "grep -q nothing-like-this %s"}, failed: true, msg: "failed to validate", want: map[string]string{"app.conf": "<absent>"}},
		{name: "missing template", args: map[string]any{"src": "nope.tmpl", "dest": "DIR/x"}, failed: true, msg: "Could not find or access 'nope.tmpl' on the Ansible Controller."},
		{name: "undefined variable", args: map[string]any{"src": filepath.Join(src, "bad.tmpl"), "dest": "DIR/x"}, failed: true},
	}
	runFileCases(t, Template{}, "template.diff", cases)
}
