package engine

import (
	"strings"
	"testing"

	"github.com/mdo-play/mdo-play/playbook"
)

// TestDelegateFactsModuleDefaults runs real plays: delegate_facts gives
// set_fact's facts to the delegated host (without it they stay on the
// task's host); module_defaults apply per module (short or fully
// qualified key), inner levels win, the task's own arguments win over
// them, omit drops one; collections is accepted on plays, blocks and
// tasks.
func TestDelegateFactsModuleDefaults(t *testing.T) {
	src := `- hosts: h1
  gather_facts: false
  collections: [community.general]
  module_defaults:
    debug: {msg: from play}
    ansible.builtin.command: {chdir: /}
  tasks:
    - name: delegated
      set_fact: {given: yes}
      delegate_to: h2
      delegate_facts: true
    - name: not delegated facts
      set_fact: {kept: yes}
      delegate_to: h2
    - name: gather for h2
      setup: {gather_subset: [min]}
      delegate_to: h2
      delegate_facts: true
    - name: facts
      debug: {msg: "{{ hasKey .hostvars.h2 \"ansible_facts\" }} {{ .ansible_facts | d \"none\" }}"}
    - name: show
      debug: {msg: "{{ .hostvars.h2.given | d \"none\" }} {{ .given | d \"none\" }} {{ .kept | d \"none\" }} {{ .hostvars.h2.kept | d \"none\" }}"}
    - name: play default
      debug:
    - block:
        - name: block default
          debug:
        - name: task default
          debug:
          module_defaults: {debug: {msg: "from {{ .where }}"}}
          vars: {where: task}
        - name: own argument
          debug: {msg: own}
        - name: omitted
          debug:
          module_defaults: {debug: {msg: "{{ .omit }}"}}
      module_defaults: [{ansible.builtin.debug: {msg: from block}}]
      collections: [ansible.posix]
    - name: pwd
      command: pwd
      collections: [ansible.builtin]
`
	sink, _, err := runLocal(t, src, 2, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for task, want := range map[string]string{
		"show":          "true none true none",
		"facts":         "true none",
		"play default":  "from play",
		"block default": "from block",
		"task default":  "from task",
		"own argument":  "own",
		"omitted":       "Hello world!",
	} {
		res := sink.hostResults(task)["h1"]
		if msg, _ := res.Result["msg"].(string); msg != want || res.Status == playbook.StatusFailed {
			t.Errorf("%s: %s %q, want %q", task, res.Status, msg, want)
		}
	}
	if out, _ := sink.hostResults("pwd")["h1"].Result["stdout"].(string); strings.TrimSpace(out) != "/" {
		t.Errorf("command's module_defaults chdir: %q", out)
	}
}
