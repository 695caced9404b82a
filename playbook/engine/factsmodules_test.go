package engine

import (
	"fmt"
	"os/exec"
	"testing"
)

// TestFactsModulesVariables: package_facts' and service_facts' facts
// land in ansible_facts and as the variables packages and services (not
// ansible_packages), as Ansible injects a module's facts; clear_facts
// removes them. The modules read this machine's dpkg database and sysv
// services.
func TestFactsModulesVariables(t *testing.T) {
	for _, tool := range []string{"dpkg-query", "service"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skip("needs " + tool)
		}
	}
	src := `- hosts: all
  gather_facts: false
  tasks:
    - package_facts:
    - ansible.builtin.service_facts:
    - name: vars
      debug:
        msg: '{{ (index (index .packages "bash") 0).source }} {{ (index (index .ansible_facts.packages "bash") 0).name }} {{ gt (len .services) 0 }} {{ eq (len .services) (len .ansible_facts.services) }} {{ hasKey . "ansible_packages" }}'
    - meta: clear_facts
    - name: cleared
      debug:
        msg: '{{ hasKey . "packages" }} {{ hasKey . "services" }}'
`
	sink, stats, err := runLocal(t, src, 1, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s := stats["h1"]; s.Failed != 0 {
		t.Fatalf("stats %+v; events %v", s, sink.events)
	}
	for task, want := range map[string]string{"vars": "apt bash true true false", "cleared": "false false"} {
		if got := fmt.Sprint(sink.hostResults(task)["h1"].Result["msg"]); got != want {
			t.Errorf("%s: msg %q, want %q", task, got, want)
		}
	}
}
