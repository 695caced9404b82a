package playbook

import (
	"strings"
	"testing"

	"github.com/mdo-play/mdo-play/modules"
)

func loader() *Loader { return &Loader{Registry: modules.Builtin()} }

func TestLoadErrors(t *testing.T) {
	cases := []struct {
		name, src string
		want      []string // each must appear in the error, in order
	}{
		{"empty", ``, []string{"pb.yml:1:1: playbook is empty"}},
		{"not a list", "hosts: all\n", []string{"pb.yml:1:1: a playbook must be a list of plays, got a mapping"}},
		{"play not a mapping", "- foo\n", []string{"pb.yml:1:3: a play must be a mapping"}},
		{"no hosts", "- name: x\n  tasks: []\n", []string{`pb.yml:1:3: play "x" has no hosts`}},
		{"unknown play key", "- hosts: all\n  taks: []\n", []string{`pb.yml:2:3: unknown play keyword "taks" (did you mean "tasks"?)`}},
		{"unknown module", "- hosts: all\n  tasks:\n    - shel: ls\n", []string{`pb.yml:3:7: unknown module "shel" (did you mean "shell"?)`}},
		{"unknown arg", "- hosts: all\n  tasks:\n    - stat:\n        pth: /x\n", []string{`pb.yml:4:9: module stat: unsupported argument "pth" (did you mean "path"?)`, "valid arguments: "}},
		{"two modules", "- hosts: all\n  tasks:\n    - command: ls\n      shell: ls\n", []string{`pb.yml:4:7: conflicting action statements: command, shell`}},
		{"no module", "- hosts: all\n  tasks:\n    - name: nothing\n", []string{`pb.yml:3:7: task "nothing" has no module`}},
		{"loop not a list", "- hosts: all\n  tasks:\n    - debug: msg=x\n      loop: 3\n", []string{`pb.yml:4:13: loop must be a list or a template that evaluates to one, got an integer`}},
		{"bad bool arg", "- hosts: all\n  tasks:\n    - stat:\n        path: /x\n        follow: maybe\n", []string{`pb.yml:5:9: module stat: argument "follow": expected a boolean`}},
		{"kv on non free-form", "- hosts: all\n  tasks:\n    - stat: just words\n", []string{`pb.yml:3:13: module stat takes key=value arguments`}},
		{"listen on task", "- hosts: all\n  tasks:\n    - debug: msg=x\n      listen: y\n", []string{`pb.yml:4:7: listen is valid only on handlers`}},
		{"duplicate key", "- hosts: all\n  hosts: web\n", []string{`pb.yml:2:3: duplicate key "hosts" (first defined at line 1)`}},
		{"bad var name", "- hosts: all\n  vars:\n    bad-name: 1\n", []string{`pb.yml:3:5: invalid variable name "bad-name"`}},
		{"tabs", "- hosts: all\n\ttasks: []\n", []string{"pb.yml:2:1: invalid YAML", "tab character"}},
		{"rescue without block", "- hosts: all\n  tasks:\n    - debug: msg=x\n      rescue: []\n", []string{"rescue and always need a block"}},
		{"all errors at once", "- hosts: all\n  taks: []\n  tasks:\n    - shel: ls\n", []string{`pb.yml:2:3: unknown play keyword`, `pb.yml:4:7: unknown module "shel"`}},
		{"unknown lookup", "- hosts: all\n  tasks:\n    - debug: msg=x\n      with_itemz: [1]\n", []string{`pb.yml:4:7: with_itemz: unknown lookup plugin "itemz" (did you mean "items"?)`}},
		{"unknown FQCN lookup", "- hosts: all\n  tasks:\n    - debug: msg=x\n      with_community.general.filetree: /x\n", []string{`pb.yml:4:7: with_community.general.filetree: unknown lookup plugin "community.general.filetree"`}},
		{"with_ without a value", "- hosts: all\n  tasks:\n    - debug: msg=x\n      with_items:\n", []string{`pb.yml:4:7: you must specify a value when using with_items`}},
		{"module_defaults unknown module", "- hosts: all\n  module_defaults:\n    debgu: {msg: x}\n  tasks: []\n", []string{`pb.yml:3:5: Could not resolve action debgu in module_defaults (did you mean "debug"?)`}},
		{"module_defaults unknown group", "- hosts: all\n  tasks:\n    - debug: msg=x\n      module_defaults: {group/nosuch: {}}\n", []string{`pb.yml:4:25: Error loading module_defaults: could not resolve the module_defaults group ansible.builtin.nosuch`}},
		{"module_defaults not a mapping", "- hosts: all\n  module_defaults: [x]\n  tasks: []\n", []string{`pb.yml:2:21: The field 'module_defaults' is supposed to be a dictionary`}},
		{"collections not names", "- hosts: all\n  collections: [community]\n  tasks: []\n", []string{`pb.yml:2:16: collections: "community" is not a collection name`}},
		{"two loops", "- hosts: all\n  tasks:\n    - debug: msg=x\n      loop: [1]\n      with_dict: {a: 1}\n", []string{`pb.yml:5:7: a task has only one loop`}},
		{"with_ on a block", "- hosts: all\n  tasks:\n    - block: []\n      with_items: [1]\n", []string{`pb.yml:4:7: "with_items" is not valid on a block`}},
		{"anchor bomb", bomb(), []string{"document too large after expanding aliases"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loader().Parse("pb.yml", []byte(tc.src))
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			msg := err.Error()
			rest := msg
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("error %q does not contain %q (in order)", msg, w)
				}
				rest = rest[i+len(w):]
			}
		})
	}
}

// bomb is a "billion laughs" document made of YAML aliases.
func bomb() string {
	var b strings.Builder
	b.WriteString("- hosts: all\n  vars:\n    a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		b.WriteString("    a" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [")
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + string(rune('0'+i-1)))
		}
		b.WriteString("]\n")
	}
	return b.String()
}

func TestLoadForms(t *testing.T) {
	src := `- name: forms
  hosts: web:&prod
  vars:
    enabled: yes
    mode: 0644
  tasks:
    - ansible.builtin.command: chdir=/tmp creates=/x echo a=b "c d"
      when: yes
    - copy_me:
      debug: msg="hello world" verbosity=1
      tags: a,b
    - shell:
        cmd: echo hi
      args:
        chdir: /tmp
      with_items:
        - [1, 2]
        - 3
`
	src = strings.Replace(src, "    - copy_me:\n", "    - name: kv\n", 1)
	pb, err := loader().Parse("pb.yml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	play := pb.Plays[0]
	if play.Hosts != "web:&prod" {
		t.Errorf("hosts = %q", play.Hosts)
	}
	if v := play.Vars[0].Value; v != true {
		t.Errorf("yes read as %#v, want true (YAML 1.1)", v)
	}
	if v := play.Vars[1].Value; v != 420 {
		t.Errorf("0644 read as %#v, want octal 420", v)
	}
	cmd := play.Tasks[0]
	if cmd.Module != "command" || cmd.ModuleKey != "ansible.builtin.command" {
		t.Errorf("module %q key %q", cmd.Module, cmd.ModuleKey)
	}
	if cmd.Args["chdir"] != "/tmp" || cmd.Args["creates"] != "/x" || cmd.Args[modules.RawParams] != `echo a=b "c d"` {
		t.Errorf("free-form args = %#v", cmd.Args)
	}
	if cmd.When[0].Text != "true" || cmd.When[0].Pos.Line != 8 {
		t.Errorf("when = %#v", cmd.When)
	}
	kv := play.Tasks[1]
	if kv.Args["msg"] != "hello world" || kv.Args["verbosity"] != "1" {
		t.Errorf("k=v args = %#v", kv.Args)
	}
	if strings.Join(kv.Tags, "|") != "a|b" {
		t.Errorf("tags = %q", kv.Tags)
	}
	sh := play.Tasks[2]
	if sh.Args["cmd"] != "echo hi" || sh.Args["chdir"] != "/tmp" {
		t.Errorf("args: merged = %#v", sh.Args)
	}
	if items, _ := sh.Loop.V.([]any); len(items) != 2 || sh.LoopWith != "items" {
		t.Errorf("with_items is the items lookup over the value as written: %q %#v", sh.LoopWith, sh.Loop.V)
	}
	if sh.Pos.String() != "pb.yml:12:7" {
		t.Errorf("task position %s", sh.Pos)
	}
}

func TestTagsSelected(t *testing.T) {
	cases := []struct {
		tags, only, skip []string
		want             bool
	}{
		{nil, nil, nil, true},
		{[]string{"a"}, nil, nil, true},
		{[]string{"never"}, nil, nil, false},
		{[]string{"never", "debug"}, []string{"debug"}, nil, true},
		{[]string{"a"}, []string{"b"}, nil, false},
		{[]string{"always"}, []string{"b"}, nil, true},
		{[]string{"always"}, []string{"b"}, []string{"always"}, false},
		{[]string{"a"}, nil, []string{"a"}, false},
		{nil, []string{"untagged"}, nil, true},
		{[]string{"a"}, []string{"untagged"}, nil, false},
		{[]string{"a"}, []string{"tagged"}, nil, true},
		{nil, []string{"tagged"}, nil, false},
		{[]string{"a", "b"}, []string{"b"}, []string{"a"}, false},
	}
	for _, tc := range cases {
		if got := TagsSelected(tc.tags, tc.only, tc.skip); got != tc.want {
			t.Errorf("TagsSelected(%q, only %q, skip %q) = %v, want %v", tc.tags, tc.only, tc.skip, got, tc.want)
		}
	}
}

// TestEmptyVarsFile: a vars file that is empty, only comments or only
// "---" holds no variables, as Ansible loads it; one holding a list is an
// error naming the file and position.
func TestEmptyVarsFile(t *testing.T) {
	for _, src := range []string{"", "\n", "# only a comment\n", "---\n", "---\n# c\n", "~\n", "---\n...\n"} {
		v, err := DecodeVarsFile("v.yml", []byte(src))
		if err != nil || v == nil || len(v) != 0 {
			t.Errorf("%q: %v %v, want an empty mapping", src, v, err)
		}
	}
	if _, err := DecodeVarsFile("v.yml", []byte("# c\n- a\n")); err == nil || !strings.Contains(err.Error(), "v.yml:2:1: a vars file must hold a mapping") {
		t.Errorf("list: %v", err)
	}
}

// TestIncludeVarsKV: include_vars' free-form text gives up every
// key=value (Ansible's parse_kv without check_raw); a bare file name stays
// the free-form argument.
func TestIncludeVarsKV(t *testing.T) {
	pb, err := loader().Parse("pb.yml", []byte("- hosts: all\n  tasks:\n    - include_vars: file=a.yml name=x\n    - include_vars: dir=vars depth=1\n    - include_vars: b.yml\n"))
	if err != nil {
		t.Fatal(err)
	}
	ts := pb.Plays[0].Tasks
	if ts[0].Args["file"] != "a.yml" || ts[0].Args["name"] != "x" || ts[0].Args[modules.RawParams] != nil {
		t.Errorf("file= name=: %#v", ts[0].Args)
	}
	if ts[1].Args["dir"] != "vars" || ts[1].Args["depth"] != "1" {
		t.Errorf("dir= depth=: %#v", ts[1].Args)
	}
	if ts[2].Args[modules.RawParams] != "b.yml" {
		t.Errorf("bare name: %#v", ts[2].Args)
	}
}

// TestModuleDefaultsKeys: module_defaults keys are stored as the module's
// short name (FQCN or not); groups as group/NS.COLL.NAME.
func TestModuleDefaultsKeys(t *testing.T) {
	pb, err := loader().Parse("pb.yml", []byte("- hosts: all\n  module_defaults:\n    - ansible.builtin.debug: {msg: a}\n      group/community.general.proxmox: {api_host: x}\n    - group/testgroup: {}\n  tasks: []\n"))
	if err != nil {
		t.Fatal(err)
	}
	md := pb.Plays[0].ModuleDefaults
	if len(md) != 2 || md[0]["debug"] == nil || md[0]["group/community.general.proxmox"] == nil || md[1]["group/ansible.builtin.testgroup"] == nil {
		t.Errorf("module_defaults = %#v", md)
	}
}
