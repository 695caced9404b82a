package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/mdo-play/mdo-play/playbook"
)

// Drift detection (--detailed-exitcode): a run that otherwise succeeds
// exits 8 when a host changed, or with --check would change. The JSON recap
// names what changed, and the text output ends with one line naming the
// changed hosts, so a cron wrapper can alert with specifics.

// changedTasks records, per host, the names of the tasks and handlers whose
// result was changed, in the order they ran, each name once.
type changedTasks map[string][]string

// observe records e when it is a host result that the recap counts as
// changed: a changed one, or an ignored failure whose result says changed.
// A looped task is reported once per host by its EventHost summary, so
// items are not looked at.
func (c changedTasks) observe(e playbook.Event) {
	if e.Kind != playbook.EventHost {
		return
	}
	changed := e.Status == playbook.StatusChanged
	if e.Status == playbook.StatusFailed && e.Ignored {
		changed, _ = e.Result["changed"].(bool)
	}
	if !changed {
		return
	}
	for _, name := range c[e.Host] {
		if name == e.Task {
			return
		}
	}
	c[e.Host] = append(c[e.Host], e.Task)
}

// changedHosts returns the hosts of stats with at least one change, sorted.
func changedHosts(stats map[string]*playbook.HostStats) []string {
	hosts := []string{}
	for h, st := range stats {
		if st != nil && st.Changed > 0 {
			hosts = append(hosts, h)
		}
	}
	sort.Strings(hosts)
	return hosts
}

// maxDriftHosts bounds how many hosts the closing drift line names.
const maxDriftHosts = 10

// driftLine is the text output's closing line for --detailed-exitcode:
// which hosts changed (or would change, with --check).
func driftLine(hosts []string, check bool) string {
	verb := "changed"
	if check {
		verb = "would change"
	}
	noun := "hosts"
	if len(hosts) == 1 {
		noun = "host"
	}
	shown := hosts
	more := ""
	if len(hosts) > maxDriftHosts {
		shown = hosts[:maxDriftHosts]
		more = fmt.Sprintf(" and %d more", len(hosts)-maxDriftHosts)
	}
	return fmt.Sprintf("DRIFT: %d %s %s: %s%s", len(hosts), noun, verb, strings.Join(shown, ", "), more)
}
