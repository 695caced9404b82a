package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/pmezard/go-difflib/difflib"

	"github.com/mdo-play/mdo-play/modules"
	"github.com/mdo-play/mdo-play/playbook"
	"github.com/mdo-play/mdo-play/templates/pyjson"
)

// textSink prints events in ansible-playbook's default layout.
type textSink struct {
	mu        sync.Mutex
	out       io.Writer // results
	errOut    io.Writer // warnings
	color     bool
	verbosity int
	width     int
}

var _ playbook.Sink = (*textSink)(nil)

// pyJSON encodes a result the way Ansible's callbacks print it:
// json.dumps(sort_keys=True) on one line, or with indent=4.
func pyJSON(v any, indent bool) string {
	o := pyjson.Options{}
	if indent {
		o.Indent = 4
	}
	return pyjson.String(v, o)
}

const (
	colorOK      = "\033[0;32m"
	colorChanged = "\033[0;33m"
	colorFailed  = "\033[0;31m"
	colorSkipped = "\033[0;36m"
	colorWarn    = "\033[1;35m"
	colorReset   = "\033[0m"
)

func (s *textSink) paint(color, text string) string {
	if !s.color {
		return text
	}
	return color + text + colorReset
}

// banner prints "\nTITLE ****" filled to the terminal width, as Ansible does.
func (s *textSink) banner(title string) {
	w := s.width
	if w <= 0 {
		w = 80
	}
	stars := w - len(title) - 1
	if stars < 3 {
		stars = 3
	}
	fmt.Fprintf(s.out, "\n%s %s\n", title, strings.Repeat("*", stars))
}

func (s *textSink) Emit(e playbook.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch e.Kind {
	case playbook.EventPlaybook:
		if s.verbosity > 0 {
			s.banner("PLAYBOOK: " + e.Playbook)
		}
	case playbook.EventPlay:
		name := e.Play
		if name == "" {
			name = e.Pattern // Ansible shows an unnamed play by its hosts pattern
		}
		s.banner("PLAY [" + name + "]")
	case playbook.EventIncluded:
		line := fmt.Sprintf("included: %s for %s", e.Msg, strings.Join(e.Hosts, ", "))
		if e.HasItem {
			line += fmt.Sprintf(" => (item=%s)", pyjson.Str(e.Item))
		}
		fmt.Fprintln(s.out, s.paint(colorSkipped, line))
	case playbook.EventRetry:
		fmt.Fprintln(s.out, s.paint(colorWarn, fmt.Sprintf("FAILED - RETRYING: [%s]: %s (%d retries left).", e.Host, e.Task, e.Retries)))
	case playbook.EventNoMoreHosts:
		s.banner("NO MORE HOSTS LEFT")
	case playbook.EventNoHosts:
		fmt.Fprintln(s.out, s.paint(colorSkipped, "skipping: no hosts matched"))
	case playbook.EventTask:
		s.banner("TASK [" + e.Task + "]")
		if s.verbosity > 1 && e.Pos.File != "" {
			fmt.Fprintf(s.out, "task path: %s\n", e.Pos)
		}
	case playbook.EventHandler:
		s.banner("RUNNING HANDLER [" + e.Task + "]")
	case playbook.EventWarning:
		fmt.Fprintln(s.errOut, s.paint(colorWarn, "[WARNING]: "+e.Msg))
	case playbook.EventItem:
		s.item(e)
	case playbook.EventHost:
		s.host(e)
	case playbook.EventRecap:
		s.recap(e.Stats)
	}
}

// shown returns the result as Ansible displays it: without the keys that
// the status line already says (and, for debug, without changed).
func shown(r map[string]any, debug bool) map[string]any {
	out := make(map[string]any, len(r))
	for k, v := range r {
		switch k {
		case "failed", "skipped", "warnings":
			continue
		}
		out[k] = v
	}
	if debug {
		delete(out, "changed")
	}
	return out
}

// warnings prints a result's warnings as Ansible does, on stderr.
func (s *textSink) warnings(r map[string]any) {
	switch w := r["warnings"].(type) {
	case []string:
		for _, m := range w {
			fmt.Fprintln(s.errOut, s.paint(colorWarn, "[WARNING]: "+m))
		}
	case []any:
		for _, m := range w {
			fmt.Fprintln(s.errOut, s.paint(colorWarn, fmt.Sprintf("[WARNING]: %v", m)))
		}
	}
}

func (s *textSink) diff(diffs []modules.Diff) {
	for _, d := range diffs {
		fmt.Fprint(s.out, unifiedDiff(d))
	}
}

// unifiedDiff renders one before/after pair like ansible-playbook --diff.
func unifiedDiff(d modules.Diff) string {
	if d.Before == d.After {
		return ""
	}
	before, after := d.BeforeHeader, d.AfterHeader
	if before == "" {
		before = "before"
	} else {
		before = "before: " + before
	}
	if after == "" {
		after = "after"
	} else {
		after = "after: " + after
	}
	text, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A:        diffLines(d.Before),
		B:        diffLines(d.After),
		FromFile: before,
		ToFile:   after,
		Context:  3,
	})
	if err != nil {
		return ""
	}
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	return text + "\n"
}

func (s *textSink) item(e playbook.Event) {
	label := pyjson.Str(e.Item)
	s.diff(e.Diff)
	res := shown(e.Result, e.Module == "debug")
	s.warnings(e.Result)
	switch e.Status {
	case playbook.StatusFailed:
		fmt.Fprintln(s.out, s.paint(colorFailed, fmt.Sprintf("failed: [%s] (item=%s) => %s", hostLabel(e), label, pyJSON(res, false))))
	case playbook.StatusSkipped:
		line := fmt.Sprintf("skipping: [%s] => (item=%s) ", hostLabel(e), label)
		if s.verbosity > 0 {
			line += " => " + pyJSON(res, false)
		}
		fmt.Fprintln(s.out, s.paint(colorSkipped, line))
	case playbook.StatusUnreachable:
		fmt.Fprintln(s.out, s.paint(colorFailed, fmt.Sprintf("fatal: [%s]: UNREACHABLE! (item=%s) => %s", hostLabel(e), label, pyJSON(res, false))))
	default:
		status, color := "ok", colorOK
		if e.Status == playbook.StatusChanged {
			status, color = "changed", colorChanged
		}
		line := fmt.Sprintf("%s: [%s] => (item=%s)", status, hostLabel(e), label)
		switch {
		case e.Verbose:
			// The loop variable (item, or loop_control.loop_var) is shown
			// only through its label.
			if lv, ok := res["ansible_loop_var"].(string); ok {
				delete(res, lv)
			}
			delete(res, "item")
			delete(res, "ansible_loop_var")
			line += " => " + pyJSON(res, true)
		case s.verbosity > 0:
			line += " => " + pyJSON(res, false)
		}
		fmt.Fprintln(s.out, s.paint(color, line))
	}
}

func (s *textSink) host(e playbook.Event) {
	if e.Loop {
		switch e.Status {
		case playbook.StatusSkipped:
			line := fmt.Sprintf("skipping: [%s]", hostLabel(e))
			if s.verbosity > 0 {
				line += ` => {"msg": "All items skipped"}`
			}
			fmt.Fprintln(s.out, s.paint(colorSkipped, line))
		case playbook.StatusFailed:
			if e.Ignored {
				fmt.Fprintln(s.out, s.paint(colorSkipped, "...ignoring"))
			}
		case playbook.StatusUnreachable:
			fmt.Fprintln(s.out, s.paint(colorFailed, fmt.Sprintf("fatal: [%s]: UNREACHABLE! => %s", hostLabel(e), pyJSON(shown(e.Result, false), false))))
		}
		return
	}
	s.diff(e.Diff)
	res := shown(e.Result, e.Module == "debug")
	s.warnings(e.Result)
	switch e.Status {
	case playbook.StatusFailed:
		fmt.Fprintln(s.out, s.paint(colorFailed, fmt.Sprintf("fatal: [%s]: FAILED! => %s", hostLabel(e), pyJSON(res, false))))
		if e.Ignored {
			fmt.Fprintln(s.out, s.paint(colorSkipped, "...ignoring"))
		}
	case playbook.StatusUnreachable:
		fmt.Fprintln(s.out, s.paint(colorFailed, fmt.Sprintf("fatal: [%s]: UNREACHABLE! => %s", hostLabel(e), pyJSON(res, false))))
		if e.Ignored {
			fmt.Fprintln(s.out, s.paint(colorSkipped, "...ignoring"))
		}
	case playbook.StatusSkipped:
		line := fmt.Sprintf("skipping: [%s]", hostLabel(e))
		if s.verbosity > 0 {
			line += " => " + pyJSON(res, false)
		}
		fmt.Fprintln(s.out, s.paint(colorSkipped, line))
	default:
		status, color := "ok", colorOK
		if e.Status == playbook.StatusChanged {
			status, color = "changed", colorChanged
		}
		line := fmt.Sprintf("%s: [%s]", status, hostLabel(e))
		switch {
		case e.Verbose:
			line += " => " + pyJSON(res, true)
		case e.Module == "setup" && s.verbosity < 3:
			// Facts are long; Ansible shows them only when asked for.
		case s.verbosity > 0:
			line += " => " + pyJSON(res, false)
		}
		fmt.Fprintln(s.out, s.paint(color, line))
	}
}

// recapLine formats one host's recap counters exactly like Ansible (without
// Ansible's trailing spaces).
func recapLine(host string, st *playbook.HostStats) string {
	line := fmt.Sprintf("%-26s : %s %s %s %s %s %s %s", host,
		counter("ok", st.OK), counter("changed", st.Changed), counter("unreachable", st.Unreachable),
		counter("failed", st.Failed), counter("skipped", st.Skipped), counter("rescued", st.Rescued),
		counter("ignored", st.Ignored))
	return strings.TrimRight(line, " ")
}

func counter(name string, n int) string { return fmt.Sprintf("%s=%-4d", name, n) }

func (s *textSink) recap(stats map[string]*playbook.HostStats) {
	s.banner("PLAY RECAP")
	hosts := make([]string, 0, len(stats))
	for h := range stats {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	for _, h := range hosts {
		st := stats[h]
		line := recapLine(h, st)
		if s.color {
			color := colorOK
			switch {
			case st.Failed > 0 || st.Unreachable > 0:
				color = colorFailed
			case st.Changed > 0:
				color = colorChanged
			}
			line = s.paint(color, line)
		}
		fmt.Fprintln(s.out, line)
	}
	fmt.Fprintln(s.out)
}

// hostLabel is "web1", or "web1 -> db1" for a delegated task.
func hostLabel(e playbook.Event) string {
	if e.Delegate != "" {
		return e.Host + " -> " + e.Delegate
	}
	return e.Host
}

// diffLines splits text into lines that keep their newline; a final newline
// does not start another (empty) line, and empty text has no lines.
func diffLines(s string) []string {
	if s == "" {
		return nil
	}
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if last := lines[len(lines)-1]; !strings.HasSuffix(last, "\n") {
		lines[len(lines)-1] = last + "\n\\ No newline at end of file\n"
	}
	return lines
}
