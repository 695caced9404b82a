package inventory

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// writeFiles creates files (path → content; a "+x " prefix makes it
// executable) under a temp dir and returns the dir.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		mode := os.FileMode(0o644)
		if strings.HasPrefix(content, "+x ") {
			mode, content = 0o755, strings.TrimPrefix(content, "+x ")
		}
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestINIValues(t *testing.T) {
	dir := writeFiles(t, map[string]string{"hosts": `
h1 i=42 neg=-3 f=1.5 e=1e3 t=True fa=False n=None lower=true s='quoted str' d="{'a': [1, (2, 3)]}" z=080 hex=0x1F str=hello#comment
h2:2222 ansible_host=10.0.0.2
[g:vars]
gi = 7
gs = some text ; not a comment
gq = '7'
[g]
h1
`})
	inv := loadT(t, filepath.Join(dir, "hosts"))
	h1, _ := inv.Host("h1")
	g, _ := inv.Group("g")
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"int", h1.OwnVars()["i"], 42},
		{"negative", h1.OwnVars()["neg"], -3},
		{"float", h1.OwnVars()["f"], 1.5},
		{"exponent", h1.OwnVars()["e"], 1000.0},
		{"True", h1.OwnVars()["t"], true},
		{"False", h1.OwnVars()["fa"], false},
		{"None", h1.OwnVars()["n"], nil},
		{"lowercase true stays a string", h1.OwnVars()["lower"], "true"},
		{"shell quotes removed", h1.OwnVars()["s"], "quoted str"},
		{"dict with tuple", h1.OwnVars()["d"], map[string]any{"a": []any{1, []any{2, 3}}}},
		{"leading zero stays a string", h1.OwnVars()["z"], "080"},
		{"hex", h1.OwnVars()["hex"], 31},
		{"# starts a comment", h1.OwnVars()["str"], "hello"},
		{"group var int", g.Vars["gi"], 7},
		{"group var rest of line", g.Vars["gs"], "some text ; not a comment"},
		{"group var quoted", g.Vars["gq"], "7"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !reflect.DeepEqual(tc.got, tc.want) {
				t.Errorf("got %#v, want %#v", tc.got, tc.want)
			}
		})
	}
	h2, _ := inv.Host("h2")
	if h2.OwnVars()["ansible_port"] != 2222 {
		t.Errorf("h2 ansible_port = %#v, want 2222", h2.OwnVars()["ansible_port"])
	}
}

func TestHostRanges(t *testing.T) {
	tests := []struct {
		entry string
		want  []string
		port  int
	}{
		{"web[01:03]", []string{"web01", "web02", "web03"}, 0},
		{"web[1:9:3]", []string{"web1", "web4", "web7"}, 0},
		{"db-[a:c]", []string{"db-a", "db-b", "db-c"}, 0},
		{"r[1:2]-[a:b].example.com:2200", []string{"r1-a.example.com", "r1-b.example.com", "r2-a.example.com", "r2-b.example.com"}, 2200},
		{"10.0.0.[1:2]", []string{"10.0.0.1", "10.0.0.2"}, 0},
		{"[fe80::1]:22", []string{"fe80::1"}, 22},
		{"fe80::1", []string{"fe80::1"}, 0},
		{"web[:2]", []string{"web0", "web1", "web2"}, 0},
		{"plain.example.com", []string{"plain.example.com"}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.entry, func(t *testing.T) {
			got, port, err := expandHostPattern(tc.entry)
			if err != nil {
				t.Fatalf("expandHostPattern(%q): %v", tc.entry, err)
			}
			if !reflect.DeepEqual(got, tc.want) || port != tc.port {
				t.Errorf("expandHostPattern(%q) = %v, %d; want %v, %d", tc.entry, got, port, tc.want, tc.port)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name  string
		file  string
		data  string
		error string
	}{
		{"bad range", "hosts.ini", "[web]\nok\n\n\n\n\nweb[01:x]\n", `hosts.ini:7: invalid range "web[01:x]": expected [start:end] with two numbers or two letters, got [01:x]`},
		{"range lengths", "hosts.ini", "web[01:100]\n", `hosts.ini:1: invalid range "web[01:100]": expected start and end of equal length in [01:100]`},
		{"range no end", "hosts.ini", "web[1:]\n", `hosts.ini:1: invalid range "web[1:]": expected [start:end]: missing end in [1:]`},
		{"range too big", "hosts.ini", "web[0:99999999999]\n", `expands to more than`},
		{"unknown section type", "hosts.ini", "[web:kids]\n", `hosts.ini:1: section [web:kids] has unknown type "kids"`},
		{"section with space", "hosts.ini", "[web servers]\n", `hosts.ini:1: invalid section "[web servers]"`},
		{"host var without =", "hosts.ini", "[web]\nw1 port\n", `hosts.ini:2: expected key=value host variable, got "port"`},
		{"vars without =", "hosts.ini", "[web]\nw1\n[web:vars]\njunk\n", `hosts.ini:4: expected key=value, got "junk"`},
		{"vars for undefined group", "hosts.ini", "[ghost:vars]\na=1\n", `hosts.ini:1: section [ghost:vars] is for undefined group "ghost"`},
		{"unclosed quote", "hosts.ini", "w1 a='x\n", `hosts.ini:1: host definition "w1 a='x": no closing quotation`},
		{"trailing colon", "hosts.ini", "w1:\n", `hosts.ini:1: invalid host "w1:"`},
		{"yaml in ini", "hosts.ini", "---\n", `hosts.ini:1: invalid host "---"`},
		{"child loop", "hosts.ini", "[a:children]\nb\n[b:children]\na\n", `hosts.ini:4: adding group "a" as a child of "b" creates a loop`},
		{"bad children name", "hosts.ini", "[a:children]\nb c\n", `hosts.ini:2: expected a group name, got "b c"`},
		{"bad priority", "hosts.ini", "[a]\n[a:vars]\nansible_group_priority=high\n", `hosts.ini:3: group "a": ansible_group_priority`},
		{"yaml syntax", "hosts.yml", "all:\n  hosts: [\n", `hosts.yml:2: did not find expected node content`},
		{"yaml not a mapping", "hosts.yml", "- a\n- b\n", `hosts.yml:1: expected a mapping of groups, got a list`},
		{"yaml hosts list", "hosts.yml", "all:\n  hosts:\n    - a\n", `hosts.yml:3: invalid "hosts" entry for group "all": expected a mapping, got a list`},
		{"yaml host vars list", "hosts.yml", "all:\n  hosts:\n    a: [1]\n", `hosts.yml:3: host "a": expected a mapping of host vars or nothing, got a list`},
		{"yaml bad range", "hosts.yml", "web:\n  hosts:\n    w[1:b]:\n", `hosts.yml:3: invalid range "w[1:b]"`},
		{"group_vars not a mapping", "group_vars/all.yml", "- 1\n", `group_vars/all.yml:1: expected a mapping of variables, got a list`},
		{"host_vars bad yaml", "host_vars/w1.yml", "a: [\n", `host_vars/w1.yml:1: did not find expected node content`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{tc.file: tc.data}
			src := tc.file
			if strings.Contains(tc.file, "/") {
				files["hosts.ini"] = "w1\n"
				src = "hosts.ini"
			}
			dir := writeFiles(t, files)
			t.Chdir(dir)
			_, err := Load(context.Background(), []string{src}, Options{})
			if err == nil || !strings.Contains(err.Error(), tc.error) {
				t.Fatalf("Load error = %v, want it to contain %q", err, tc.error)
			}
		})
	}
}

func TestINIUndefinedChildIsCreated(t *testing.T) {
	dir := writeFiles(t, map[string]string{"hosts": "[prod:children]\nweb\nlater\n[later]\nl1\n[later:vars]\nx=1\n"})
	inv := loadT(t, filepath.Join(dir, "hosts"))
	web, ok := inv.Group("web")
	if !ok || len(web.Hosts) != 0 {
		t.Fatalf("group web = %v, %v; want an empty group", web, ok)
	}
	prod, _ := inv.Group("prod")
	if got := groupNames(prod.Children); !reflect.DeepEqual(got, []string{"web", "later"}) {
		t.Errorf("prod children = %v", got)
	}
}

func groupNames(gs []*Group) []string {
	var out []string
	for _, g := range gs {
		out = append(out, g.Name)
	}
	return out
}

func TestGroupNamesAndGroups(t *testing.T) {
	inv := loadT(t, "testdata/patterns/hosts")
	tests := []struct {
		host string
		want []string
	}{
		{"web1.example.com", []string{"db", "prod", "web"}},
		{"app2", []string{"app", "stage"}},
		{"solo", []string{"ungrouped"}},
	}
	for _, tc := range tests {
		t.Run(tc.host, func(t *testing.T) {
			h, _ := inv.Host(tc.host)
			if got := inv.GroupNames(h); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("GroupNames(%s) = %v, want %v", tc.host, got, tc.want)
			}
		})
	}
	groups := inv.Groups()
	want := map[string][]string{
		"all":       {"solo", "app1", "app2", "web4.example.com", "web1.example.com", "web2.example.com", "web3.example.com", "db1.example.com", "db2.example.com"},
		"ungrouped": {"solo"},
		"web":       {"web1.example.com", "web2.example.com", "web3.example.com", "web4.example.com"},
		"db":        {"db1.example.com", "db2.example.com", "web1.example.com"},
		"app":       {"app1", "app2"},
		"prod":      {"web1.example.com", "web2.example.com", "web3.example.com", "web4.example.com", "db1.example.com", "db2.example.com"},
		"stage":     {"app2", "web4.example.com"},
	}
	if !reflect.DeepEqual(groups, want) {
		t.Errorf("Groups() = %v\nwant %v", groups, want)
	}
	if got := names(inv.Hosts()); !reflect.DeepEqual(got, want["all"]) {
		t.Errorf("Hosts() = %v", got)
	}
}

// TestMergeOrder checks HostVars against Ansible's precedence; the
// expectations are what ansible-inventory --host prints for the same files.
func TestMergeOrder(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"inv/hosts": `
[child]
h1 own=host
[parent:children]
child
[zz]
h1
[aa]
h1
[aa:vars]
ansible_group_priority=10
[all:vars]
all_inline=1
x=all_inline
[parent:vars]
x=parent_inline
y=parent_inline
[child:vars]
x=child_inline
[zz:vars]
z=zz
[aa:vars]
z=aa
`,
		"inv/group_vars/all.yml":       "x: inv_all_file\nall_file: 1\n",
		"inv/group_vars/parent.yml":    "y: inv_parent_file\n",
		"inv/host_vars/h1/10-a.yml":    "own: inv_hostvars_a\nlist: [1]\n",
		"inv/host_vars/h1/20-b.yaml":   "list: [2]\n",
		"inv/host_vars/h1/.hidden.yml": "list: [hidden]\n",
		"play/group_vars/parent.yaml":  "y: play_parent_file\n",
		"play/host_vars/h1.json":       `{"play": true}`,
	})
	inv := loadT(t, filepath.Join(dir, "inv/hosts"))
	if err := inv.AddVarsDir(filepath.Join(dir, "play")); err != nil {
		t.Fatal(err)
	}
	h, _ := inv.Host("h1")
	got := inv.HostVars(h)
	want := map[string]any{
		"all_inline": 1,
		// group_vars/all beats every group's inline vars, as in Ansible.
		"x":        "inv_all_file",
		"all_file": 1,
		"y":        "play_parent_file",
		// zz and aa have the same depth; aa's priority 10 sorts it last.
		"z":              "aa",
		"own":            "inv_hostvars_a",
		"list":           []any{2},
		"play":           true,
		"inventory_file": filepath.Join(dir, "inv/hosts"),
		"inventory_dir":  filepath.Join(dir, "inv"),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("HostVars = %v\nwant %v", got, want)
	}
	got["list"].([]any)[0] = "mutated"
	if again := inv.HostVars(h); again["list"].([]any)[0] != 2 {
		t.Errorf("HostVars result shares nested values with the inventory")
	}
}

func TestReadFileHook(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"hosts":              "ENCRYPTED",
		"group_vars/all.yml": "ENCRYPTED",
	})
	plain := map[string]string{
		filepath.Join(dir, "hosts"):              "[web]\nw1\n",
		filepath.Join(dir, "group_vars/all.yml"): "secret: s3cret\n",
	}
	read := func(p string) ([]byte, error) {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		if string(data) == "ENCRYPTED" {
			return []byte(plain[p]), nil
		}
		return data, nil
	}
	inv, err := Load(context.Background(), []string{filepath.Join(dir, "hosts")}, Options{ReadFile: read})
	if err != nil {
		t.Fatal(err)
	}
	h, ok := inv.Host("w1")
	if !ok {
		t.Fatal("w1 not loaded through ReadFile")
	}
	if got := inv.HostVars(h)["secret"]; got != "s3cret" {
		t.Errorf("secret = %v, want s3cret", got)
	}
}

func TestScriptSource(t *testing.T) {
	tests := []struct {
		name    string
		script  string
		timeout time.Duration
		err     string
		check   func(t *testing.T, inv *Inventory)
	}{
		{
			name:   "host calls without _meta",
			script: "+x #!/bin/sh\ncase \"$1\" in --list) echo '{\"g\": [\"a\", \"b\"]}';; --host) echo \"{\\\"me\\\": \\\"$2\\\"}\";; esac\n",
			check: func(t *testing.T, inv *Inventory) {
				b, _ := inv.Host("b")
				if got := inv.HostVars(b)["me"]; got != "b" {
					t.Errorf("b me = %v, want b", got)
				}
			},
		},
		{
			name:   "failure carries stderr",
			script: "+x #!/bin/sh\necho 'cannot reach the API' >&2\nexit 3\n",
			err:    "exit status 3: cannot reach the API",
		},
		{
			name:   "bad json",
			script: "+x #!/bin/sh\necho 'not json'\n",
			err:    "parse output as a JSON object",
		},
		{
			name:   "bad hosts",
			script: "+x #!/bin/sh\necho '{\"g\": {\"hosts\": \"a\"}}'\n",
			err:    `group "g": hosts: expected a list of host names`,
		},
		{
			name:    "timeout",
			script:  "+x #!/bin/sh\nexec sleep 5\n",
			timeout: 100 * time.Millisecond,
			err:     "timed out after 100ms",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{"inv.sh": tc.script})
			inv, err := Load(context.Background(), []string{filepath.Join(dir, "inv.sh")}, Options{ExecTimeout: tc.timeout})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Load error = %v, want it to contain %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, inv)
		})
	}
}

func TestDirectorySource(t *testing.T) {
	inv := loadT(t, "testdata/dir")
	for _, name := range []string{"w1", "w2", "w3", "y1", "d1"} {
		if _, ok := inv.Host(name); !ok {
			t.Errorf("host %s missing", name)
		}
	}
	// *.ini, *~, *.bak and hidden files are ignored in a directory, as in Ansible.
	for _, name := range []string{"ignored", "bak", "x"} {
		if _, ok := inv.Group(name); ok {
			t.Errorf("group %s from an ignored file was loaded", name)
		}
	}
	w1, _ := inv.Host("w1")
	vars := inv.HostVars(w1)
	if vars["hv"] != "hostvars_noext" || vars["gv"] != "gvdir_b" || vars["ga"] != 1 {
		t.Errorf("w1 vars = %v", vars)
	}
}

func TestDirectorySymlinkLoop(t *testing.T) {
	dir := writeFiles(t, map[string]string{"inv/hosts": "[web]\nw1\n"})
	if err := os.Symlink("..", filepath.Join(dir, "inv", "loop")); err != nil {
		t.Skip("symlinks unsupported:", err)
	}
	inv := loadT(t, filepath.Join(dir, "inv"))
	if got := names(inv.Hosts()); !reflect.DeepEqual(got, []string{"w1"}) {
		t.Errorf("hosts = %v, want [w1]", got)
	}
}

func TestMultipleSources(t *testing.T) {
	inv := loadT(t, "testdata/ini/hosts", "testdata/yaml/hosts.yml", "extra1,extra2")
	web, _ := inv.Group("web")
	if got := names(web.Hosts); !reflect.DeepEqual(got[len(got)-2:], []string{"w1", "w2"}) {
		t.Errorf("web hosts = %v, want the YAML hosts appended", got)
	}
	if _, ok := inv.Host("extra2"); !ok {
		t.Errorf("host list source not merged")
	}
	if _, err := Load(context.Background(), []string{"testdata/nosuch"}, Options{}); err == nil {
		t.Errorf("missing source loaded without error")
	}
}
