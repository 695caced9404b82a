package engine

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mdo-play/mdo-play/playbook"
)

// TestWithLoops runs each with_* loop and compares its items with what
// ansible-playbook 2.14 gives for the same task (recorded from a run:
// with_dict's order is the only difference, sorted here as our mappings
// keep no order).
func TestWithLoops(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"files/a.conf", "files/b.conf", "files/c.txt", "files/sub/d.conf", "vars/debian.yml"} {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name, loop string
		want       []any
	}{
		{"dict", `with_dict: {b: 2, a: 1}`, []any{map[string]any{"key": "a", "value": 1}, map[string]any{"key": "b", "value": 2}}},
		{"subelements", `with_subelements: ["{{ .users }}", keys]`, []any{
			[]any{map[string]any{"name": "alice"}, "k1"}, []any{map[string]any{"name": "alice"}, "k2"}, []any{map[string]any{"name": "bob"}, "k3"}}},
		{"subelements_skip_missing", `with_subelements: ["{{ .users }}", nokeys, {skip_missing: true}]`, nil},
		{"together", `with_together: [[1, 2, 3], [a, b]]`, []any{[]any{1, "a"}, []any{2, "b"}, []any{3, nil}}},
		{"nested", `with_nested: [[1, 2], [a, b]]`, []any{[]any{1, "a"}, []any{1, "b"}, []any{2, "a"}, []any{2, "b"}}},
		{"sequence", `with_sequence: start=4 end=16 stride=4 format=web%02d`, []any{"web04", "web08", "web12", "web16"}},
		{"sequence_count", `with_sequence: count=3`, []any{"1", "2", "3"}},
		{"sequence_shortcut", `with_sequence: 2-10/4`, []any{"2", "6", "10"}},
		{"lines", `with_lines: printf 'x\ny\n'`, []any{"x", "y"}},
		{"fileglob", `with_fileglob: "*.conf"`, []any{filepath.Join(dir, "files/a.conf"), filepath.Join(dir, "files/b.conf")}},
		{"fileglob_dir", `with_fileglob: "sub/*.conf"`, []any{filepath.Join(dir, "files/sub/d.conf")}},
		{"first_found", `with_first_found: [missing.yml, "vars/{{ .os }}.yml", vars/default.yml]`, []any{filepath.Join(dir, "vars/debian.yml")}},
		{"first_found_skip", `with_first_found: {files: [nope.yml], skip: true}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := `- hosts: all
  gather_facts: false
  vars:
    os: debian
    users:
      - {name: alice, keys: [k1, k2]}
      - {name: bob, keys: [k3]}
  tasks:
    - name: loop
      debug: {msg: x}
      ` + tc.loop + "\n"
			pb, in, reg, eng := loadLocal(t, src, hostsINI(1))
			pb.Dir = dir
			for _, p := range pb.Plays {
				for _, task := range p.Tasks {
					task.Pos.File = filepath.Join(dir, "site.yml")
				}
			}
			sink := &recordSink{}
			r := &Runner{Inventory: in, Registry: reg, Templates: eng, Connector: localConnector{}, Sink: sink}
			if _, err := r.Run(t.Context(), []*playbook.Playbook{pb}); err != nil {
				t.Fatal(err)
			}
			var got []any
			for _, e := range sink.events {
				if e.Kind == playbook.EventItem {
					got = append(got, e.Result["item"])
				}
			}
			if res := sink.hostResults("loop")["h1"]; res.Status == playbook.StatusFailed {
				t.Fatalf("failed: %v", res.Result)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("items\n got %#v\nwant %#v", got, tc.want)
			}
		})
	}
}

// TestWithLoopErrors: a with_* loop given what its lookup cannot use fails
// the task with the lookup's complaint.
func TestWithLoopErrors(t *testing.T) {
	for _, tc := range []struct{ loop, want string }{
		{`with_dict: [1, 2]`, "with_dict expects a dict"},
		{`with_together: []`, "with_together requires at least one element"},
		{`with_inventory_hostnames: "all[9]"`, "no hosts matched the subscripted pattern"},
		{`with_sequence: start=1`, "must specify count or end"},
		{`with_sequence: start=5 end=1`, "to count backwards make stride negative"},
		{`with_subelements: [[{a: 1}], b]`, `could not find 'b' key`},
		{`with_first_found: [nope.yml]`, "no file was found"},
	} {
		src := "- hosts: all\n  gather_facts: false\n  tasks:\n    - name: loop\n      debug: {msg: x}\n      " + tc.loop + "\n"
		sink, _, err := runLocal(t, src, 1, Options{})
		if err != nil {
			t.Fatal(err)
		}
		res := sink.hostResults("loop")["h1"]
		if msg, _ := res.Result["msg"].(string); res.Status != playbook.StatusFailed || !strings.Contains(msg, tc.want) {
			t.Errorf("%s: %s %q, want failed with %q", tc.loop, res.Status, msg, tc.want)
		}
	}
}

// TestLocalActionBlockNotifyMagic: local_action runs the module delegated
// to localhost; notify on a block applies to its tasks (a task's own
// notify wins); role_name, role_path, ansible_version and
// ansible_search_path are defined.
func TestLocalActionBlockNotifyMagic(t *testing.T) {
	src := `- hosts: all
  gather_facts: false
  tasks:
    - name: local
      local_action: command echo hi
    - name: local map
      local_action: {module: debug, msg: hello}
    - block:
        - name: in block
          command: "true"
          changed_when: true
        - name: own notify
          command: "true"
          changed_when: true
          notify: other
      notify: from block
    - name: magic
      debug:
        msg: "{{ .ansible_version.full }} {{ index .ansible_search_path 0 | base }} {{ .ansible_managed }}"
  handlers:
    - name: from block
      debug: {msg: block handler}
    - name: other
      debug: {msg: other handler}
`
	sink, stats, err := runLocal(t, src, 1, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s := stats["h1"]; s.Failed != 0 {
		t.Fatalf("recap %+v", s)
	}
	local := sink.hostResults("local")["h1"]
	if local.Delegate != "localhost" || local.Result["stdout"] != "hi" {
		t.Errorf("local_action: delegate %q result %v", local.Delegate, local.Result)
	}
	if m := sink.hostResults("local map")["h1"]; m.Result["msg"] != "hello" {
		t.Errorf("local_action mapping: %v", m.Result)
	}
	var handlers []string
	for _, e := range sink.events {
		if e.Kind == playbook.EventHandler {
			handlers = append(handlers, e.Task)
		}
	}
	if strings.Join(handlers, ",") != "from block,other" {
		t.Errorf("handlers run: %q, want from block,other", handlers)
	}
	if msg := sink.hostResults("magic")["h1"].Result["msg"]; !strings.HasPrefix(msg.(string), "2.14.18 ") || !strings.HasSuffix(msg.(string), " Ansible managed") {
		t.Errorf("magic: %q", msg)
	}
}

// TestRoleMagicVars: role_name and role_path inside a role, and the role
// directory first in ansible_search_path.
func TestRoleMagicVars(t *testing.T) {
	dir := t.TempDir()
	role := filepath.Join(dir, "roles", "web")
	if err := os.MkdirAll(filepath.Join(role, "tasks"), 0o755); err != nil {
		t.Fatal(err)
	}
	task := "- name: show\n  debug: {msg: \"{{ .role_name }} {{ .role_path }} {{ index .ansible_search_path 0 }}\"}\n"
	if err := os.WriteFile(filepath.Join(role, "tasks", "main.yml"), []byte(task), 0o644); err != nil {
		t.Fatal(err)
	}
	src := "- hosts: all\n  gather_facts: false\n  roles: [web]\n"
	if err := os.WriteFile(filepath.Join(dir, "site.yml"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	_, in, reg, eng := loadLocal(t, "- hosts: all\n  tasks: []\n", hostsINI(1))
	pb, err := (&playbook.Loader{Registry: reg, Templates: eng}).Load(filepath.Join(dir, "site.yml"))
	if err != nil {
		t.Fatal(err)
	}
	sink := &recordSink{}
	r := &Runner{Inventory: in, Registry: reg, Templates: eng, Connector: localConnector{}, Sink: sink}
	if _, err := r.Run(t.Context(), []*playbook.Playbook{pb}); err != nil {
		t.Fatal(err)
	}
	if got, want := sink.hostResults("web : show")["h1"].Result["msg"], "web "+role+" "+role; got != want {
		t.Errorf("msg %q, want %q", got, want)
	}
}

// TestWithAnyLookup: with_NAME loops over query("NAME", VALUE) for every
// lookup NAME (short or fully qualified); the items are those
// ansible-playbook 2.14 gives for the same tasks (recorded from a run
// over the same inventory), and for the community.general lookups
// cartesian and flattened those their code gives.
func TestWithAnyLookup(t *testing.T) {
	const inv = "[web]\nw1 ansible_connection=local\nw2 ansible_connection=local\nw3 ansible_connection=local\n[db]\nd1 ansible_connection=local\n"
	for _, tc := range []struct {
		name, loop string
		want       []any
	}{
		{"items flattens a templated list one level", `with_items: "{{ .lol }}"`, []any{1, 2, 3, []any{4}}},
		{"list keeps it", `with_list: "{{ .lol }}"`, []any{[]any{1, 2}, []any{3, []any{4}}}},
		{"items of a scalar", `with_items: "{{ .one }}"`, []any{"x"}},
		{"indexed_items", `with_indexed_items: [a, [b, c]]`, []any{[]any{0, "a"}, []any{1, "b"}, []any{2, "c"}}},
		{"inventory_hostnames", `with_inventory_hostnames: ["all:!db", "web[1:]"]`, []any{"w1", "w2", "w3"}},
		{"inventory_hostnames glob and intersection", `with_inventory_hostnames: "w*:&web"`, []any{"w1", "w2", "w3"}},
		{"inventory_hostnames subscript", `with_inventory_hostnames: "db:web[0]"`, []any{"d1", "w1"}},
		{"inventory_hostnames exclusion only", `with_inventory_hostnames: "!web"`, []any{"d1"}},
		{"FQCN dict", `with_ansible.builtin.dict: "{{ .users }}"`, []any{map[string]any{"key": "a", "value": 1}, map[string]any{"key": "b", "value": 2}}},
		{"random_choice of one", `with_random_choice: [x]`, []any{"x"}},
		{"cartesian", `with_community.general.cartesian: [[a, b], [1, [2]]]`, []any{[]any{"a", 1}, []any{"a", 2}, []any{"b", 1}, []any{"b", 2}}},
		{"flattened", `with_flattened: [[1, [2, [3]]], names, "None", 4]`, []any{1, 2, 3, "n1", "n2"}},
		{"sequence", `with_sequence: start=0 end=4 stride=2 format=%02x`, []any{"00", "02", "04"}},
		{"together", `with_together: ["{{ .names }}", [1]]`, []any{[]any{"n1", 1}, []any{"n2", nil}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := `- hosts: w1
  gather_facts: false
  vars:
    lol: [[1, 2], [3, [4]]]
    users: {b: 2, a: 1}
    one: x
    names: [n1, n2]
  tasks:
    - name: loop
      debug: {msg: x}
      ` + tc.loop + "\n"
			sink, _, err := runInventory(t, src, inv, Options{}, localConnector{})
			if err != nil {
				t.Fatal(err)
			}
			if res := sink.hostResults("loop")["w1"]; res.Status == playbook.StatusFailed {
				t.Fatalf("failed: %v", res.Result)
			}
			var got []any
			for _, e := range sink.events {
				if e.Kind == playbook.EventItem {
					got = append(got, e.Result["item"])
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("items\n got %#v\nwant %#v", got, tc.want)
			}
		})
	}
}
