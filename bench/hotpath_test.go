package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/mdo-play/mdo-play/inventory"
	"github.com/mdo-play/mdo-play/modules"
	"github.com/mdo-play/mdo-play/modules/conn"
	"github.com/mdo-play/mdo-play/modules/conn/local"
	"github.com/mdo-play/mdo-play/playbook"
	"github.com/mdo-play/mdo-play/playbook/engine"
	"github.com/mdo-play/mdo-play/templates"
)

// templateVars looks like one host's variables during a task: inventory
// vars, play vars, a registered result and the magic variables.
func templateVars(hosts int) map[string]any {
	names := make([]string, hosts)
	hostvars := map[string]any{}
	for i := range names {
		names[i] = fmt.Sprintf("h%d", i+1)
		hostvars[names[i]] = map[string]any{"ansible_host": fmt.Sprintf("10.0.%d.%d", i/250, i%250+1)}
	}
	return map[string]any{
		"inventory_hostname": "h1",
		"app_name":           "shop",
		"app_port":           8080,
		"app_version":        "1.4.2",
		"features":           []any{"auth", "search", "cart"},
		"conf":               map[string]any{"stat": map[string]any{"exists": true, "size": 142, "mode": "0644"}},
		"groups":             map[string]any{"all": names, "web": names[:len(names)/2]},
		"hostvars":           hostvars,
	}
}

const appConf = `# {{ .app_name }} configuration, managed by the runbook
[server]
name = {{ .app_name }}
host = {{ .inventory_hostname }}
port = {{ .app_port }}
version = {{ .app_version | default "dev" }}
features = {{ join "," .features }}
{{- range $h := index .groups "web" }}
upstream = {{ (index $.hostvars $h).ansible_host }}:{{ $.app_port }}
{{- end }}
`

// BenchmarkTemplate renders the strings a task renders per host: a
// template file, a one-action typed value, an argument string and a
// condition, with a warm cache (the steady state of a run).
func BenchmarkTemplate(b *testing.B) {
	e := templates.New()
	vars := templateVars(50)
	cases := []struct {
		name string
		run  func() (any, error)
		want string
	}{
		{"file", func() (any, error) { return e.RenderString("app.conf", appConf, vars) }, "upstream = 10.0.0.25:8080"},
		{"typed", func() (any, error) { return e.Render("{{ .app_port }}", vars) }, "8080"},
		{"arg", func() (any, error) { return e.Render("/srv/{{ .app_name }}/{{ .inventory_hostname }}.conf", vars) }, "/srv/shop/h1.conf"},
		{"cond", func() (any, error) {
			return e.Cond(`and .conf.stat.exists (gt .conf.stat.size 100) (eq .app_name "shop")`, vars)
		}, "true"},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			got, err := c.run()
			if err != nil {
				b.Fatal(err)
			}
			if s := fmt.Sprint(got); !strings.Contains(s, c.want) {
				b.Fatalf("rendered %q, want it to contain %q", s, c.want)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := c.run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkTemplateParallel is BenchmarkTemplate/file from every core, as
// forks render concurrently.
func BenchmarkTemplateParallel(b *testing.B) {
	e := templates.New()
	vars := templateVars(50)
	if _, err := e.RenderString("app.conf", appConf, vars); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := e.RenderString("app.conf", appConf, vars); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// mergePlaybook exercises variable merge and rendering: inventory group and
// host vars, play vars, task vars, set_fact and register, every task
// rendering templates that reach through several layers.
const mergePlaybook = `- name: merge
  hosts: all
  gather_facts: false
  connection: local
  vars:
    app_name: shop
    url: "http://{{ .inventory_hostname }}:{{ .app_port }}/{{ .app_name }}"
  tasks:
    - name: fact
      set_fact:
        tier: "{{ .role }}-{{ .app_name }}"
    - name: show
      debug: {msg: "{{ .url }} {{ .tier }} {{ .region }}"}
      vars:
        region: "{{ .dc | upper }}"
    - name: conditional
      debug: {msg: "{{ .tier }}"}
      when: eq .role "web"
    - name: register
      set_fact: {count: "{{ len (index .groups \"all\") }}"}
      register: r
    - name: use register
      assert:
        that: [ "eq .r.changed false", "gt (len .url) 10" ]
`

// countSink counts host results by status.
type countSink struct {
	mu     sync.Mutex
	status map[playbook.Status]int
}

func (s *countSink) Emit(e playbook.Event) {
	if e.Kind != playbook.EventHost {
		return
	}
	s.mu.Lock()
	s.status[e.Status]++
	s.mu.Unlock()
}

// localConnector opens local connections only.
type localConnector struct{}

func (localConnector) Connect(context.Context, engine.ConnectSpec) (conn.Conn, error) {
	return local.New(), nil
}
func (localConnector) Become(c conn.Conn, _ engine.BecomeSpec) (conn.Conn, error) { return c, nil }

// writeInventory writes an INI inventory of n local hosts in two groups
// with group and host variables.
func writeInventory(tb testing.TB, dir string, n int) string {
	tb.Helper()
	var inv strings.Builder
	inv.WriteString("[web]\n")
	for i := 1; i <= n; i++ {
		if i == n/2+1 {
			inv.WriteString("[db]\n")
		}
		fmt.Fprintf(&inv, "h%d ansible_connection=local app_port=%d\n", i, 8000+i)
	}
	inv.WriteString("[web:vars]\nrole=web\n[db:vars]\nrole=db\n[all:vars]\ndc=fra1\n")
	path := filepath.Join(dir, "inventory.ini")
	if err := os.WriteFile(path, []byte(inv.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

// BenchmarkVarMerge runs mergePlaybook through the public playbook API
// against n local hosts; the host results are counted so a broken merge
// fails the benchmark.
func BenchmarkVarMerge(b *testing.B) {
	for _, n := range []int{10, 200} {
		b.Run(fmt.Sprintf("hosts=%d", n), func(b *testing.B) {
			dir := b.TempDir()
			ctx := context.Background()
			inv, err := inventory.Load(ctx, []string{writeInventory(b, dir, n)}, inventory.Options{})
			if err != nil {
				b.Fatal(err)
			}
			reg := modules.Builtin()
			ld := &playbook.Loader{Registry: reg}
			pb, err := ld.Parse(filepath.Join(dir, "merge.yml"), []byte(mergePlaybook))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				sink := &countSink{status: map[playbook.Status]int{}}
				r := &engine.Runner{Inventory: inv, Registry: reg, Templates: templates.New(), Connector: localConnector{},
					Sink: sink, Loader: ld, Options: engine.Options{Forks: runtime.GOMAXPROCS(0) * 4}}
				stats, err := r.Run(ctx, []*playbook.Playbook{pb})
				if err != nil {
					b.Fatal(err)
				}
				if len(stats) != n || sink.status[playbook.StatusFailed] != 0 || sink.status[playbook.StatusSkipped] != n-n/2 {
					b.Fatalf("hosts=%d results=%v", len(stats), sink.status)
				}
			}
		})
	}
}

// BenchmarkJSONEvents runs a built mdo-play with --output json against 200
// local hosts and a playbook of cheap tasks, so the run's time is mostly
// the engine and the event formatter.
func BenchmarkJSONEvents(b *testing.B) {
	dir := b.TempDir()
	bin := filepath.Join(dir, "mdo-play")
	build := exec.Command("go", "build", "-o", bin, "github.com/mdo-play/mdo-play/cmd/mdo-play")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("build mdo-play: %v\n%s", err, out)
	}
	const hosts = 200
	inv := writeInventory(b, dir, hosts)
	pbPath := filepath.Join(dir, "events.yml")
	var pb strings.Builder
	pb.WriteString("- hosts: all\n  gather_facts: false\n  tasks:\n")
	for i := range 10 {
		fmt.Fprintf(&pb, "    - name: task %d\n      debug: {msg: \"{{ .inventory_hostname }} {{ .role }} %d\"}\n", i, i)
	}
	if err := os.WriteFile(pbPath, []byte(pb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	for _, format := range []string{"json", "text"} {
		b.Run(format, func(b *testing.B) {
			for b.Loop() {
				var out bytes.Buffer
				cmd := exec.Command(bin, "-i", inv, "-f", "50", "--output", format, pbPath)
				cmd.Stdout, cmd.Stderr = &out, &out
				if err := cmd.Run(); err != nil {
					b.Fatalf("mdo-play: %v\n%s", err, out.Bytes())
				}
				// 10 results per host plus play, tasks and recap.
				if lines := bytes.Count(out.Bytes(), []byte("\n")); lines < 10*hosts {
					b.Fatalf("%d output lines, want at least %d", lines, 10*hosts)
				}
			}
		})
	}
}
