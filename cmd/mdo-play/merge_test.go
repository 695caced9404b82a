package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// mergeFixture runs the same playbook over six local hosts as three slices
// (--output json, one file each) and whole (text), in-process. The slices
// run one after the other, so their events' times order them and the merged
// output is the same every time.
type mergeFixture struct {
	dir     string
	slices  []string // s1.json ... s3.json
	whole   string   // text output of the unsliced run
	wholeRC int
}

func newMergeFixture(t *testing.T) *mergeFixture {
	t.Helper()
	dir := t.TempDir()
	inv := writeFile(t, dir, "hosts", "[web]\nh1\nh2\nh3\nh4\n[db]\nh5\nh6\n\n[all:vars]\nansible_connection=local\n")
	writeFile(t, dir, "inc.yml", "- name: Included task\n  debug: {msg: \"included on {{ .inventory_hostname }}\"}\n")
	pb := writeFile(t, dir, "site.yml", `- name: Web
  hosts: web
  gather_facts: false
  tasks:
    - name: Say hi
      command: echo hi
    - name: Loop
      debug: {msg: "{{ .item }}"}
      loop: [a, b]
    - name: Fail on h1
      command: "false"
      when: eq .inventory_hostname "h1"
    - name: Include for h2 and h4
      include_tasks: inc.yml
      when: or (eq .inventory_hostname "h2") (eq .inventory_hostname "h4")
- name: DB
  hosts: db
  gather_facts: false
  tasks:
    - name: Ping
      ping:
`)
	f := &mergeFixture{dir: dir}
	for k := 1; k <= 3; k++ {
		stdout, stderr, code := runCLI(t, map[string]string{}, "-i", inv, pb, "--slice", fmt.Sprintf("%d/3", k), "--output", "json", "-f", "1")
		if code != exitOK && code != exitHostFailed {
			t.Fatalf("slice %d: exit %d\n%s", k, code, stderr)
		}
		f.slices = append(f.slices, writeFile(t, dir, fmt.Sprintf("s%d.json", k), stdout))
	}
	f.whole, _, f.wholeRC = runCLI(t, map[string]string{}, "-i", inv, pb, "-f", "1")
	return f
}

func (f *mergeFixture) path(name string) string { return filepath.Join(f.dir, name) }

func TestMergeGolden(t *testing.T) {
	f := newMergeFixture(t)
	s1, s2, s3 := f.slices[0], f.slices[1], f.slices[2]
	s2data, err := os.ReadFile(s2)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(strings.TrimSuffix(string(s2data), "\n"), "\n")
	truncated := writeFile(t, f.dir, "s2-killed.json", strings.Join(lines[:len(lines)-1], ""))
	duplicate := writeFile(t, f.dir, "s2-again.json", string(s2data))
	otherCount := writeFile(t, f.dir, "other.json", strings.ReplaceAll(string(s2data), `"slice_count":3`, `"slice_count":4`))
	unsliced := writeFile(t, f.dir, "whole.json", regexp.MustCompile(`,"slice":\d+,"slice_count":\d+`).ReplaceAllString(string(s2data), ""))
	corrupt := writeFile(t, f.dir, "corrupt.json", lines[0]+"{\"event\": \n")
	empty := writeFile(t, f.dir, "empty.json", "")
	// Slice 2 again, but it could not start: its stream is an error and an
	// empty recap, still marked as slice 2/3.
	failedOut, _, failedCode := runCLI(t, map[string]string{}, "-i", f.path("nosuch-hosts"), f.path("site.yml"), "--slice", "2/3", "--output", "json")
	if failedCode != exitParse {
		t.Fatalf("run with a missing inventory: exit %d, want %d", failedCode, exitParse)
	}
	failed := writeFile(t, f.dir, "s2-failed.json", failedOut)
	// Slice 2 of an inventory with one more host: the split differs.
	otherInv := writeFile(t, f.dir, "hosts-more", "[web]\nh0\nh1\nh2\nh3\nh4\n[db]\nh5\nh6\n\n[all:vars]\nansible_connection=local\n")
	otherOut, _, _ := runCLI(t, map[string]string{}, "-i", otherInv, f.path("site.yml"), "--slice", "2/3", "--output", "json", "-f", "1")
	otherInvSlice := writeFile(t, f.dir, "s2-other-inventory.json", otherOut)

	tests := []struct {
		name string
		args []string
		code int
	}{
		// All three slices, given in any order: h1 failed.
		{"merge-all", []string{s3, s1, s2}, exitHostFailed},
		{"merge-all-json", []string{"--output", "json", s1, s2, s3}, exitHostFailed},
		{"merge-all-verbose", []string{s1, s2, s3, "-v"}, exitHostFailed},
		// A missing slice: the rest is merged, the gap reported, exit 1.
		{"merge-missing", []string{s1, s3}, exitGeneric},
		{"merge-missing-json", []string{"--output", "json", s1, s3}, exitGeneric},
		// A slice that could not start: its error, and the worst exit code.
		{"merge-slice-error", []string{s1, failed, s3}, exitParse},
		// A slice whose output is empty (its job died before it started).
		{"merge-empty", []string{s1, empty, s3}, exitGeneric},
		// A slice cut short (no recap): reported, its hosts not in the recap.
		{"merge-truncated", []string{s1, truncated, s3}, exitGeneric},
		// The same slice twice: not merged at all.
		{"merge-duplicate", []string{s1, s2, duplicate, s3}, exitUsage},
		{"merge-duplicate-json", []string{"--output", "json", s1, s2, duplicate, s3}, exitUsage},
		// Slices of different rollouts.
		{"merge-count-mismatch", []string{s1, otherCount, s3}, exitUsage},
		{"merge-mixed", []string{s1, unsliced}, exitUsage},
		{"merge-other-inventory", []string{s1, otherInvSlice, s3}, exitUsage},
		// Input that is not an event stream: where.
		{"merge-corrupt", []string{s1, corrupt}, exitParse},
		{"merge-not-found", []string{s1, f.path("nosuch.json")}, exitParse},
		{"merge-no-args", nil, exitUsage},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := runCLI(t, map[string]string{}, append([]string{"merge"}, tc.args...)...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\n%s", code, tc.code, stderr)
			}
			got := fmt.Sprintf("%s--- stderr\n%s--- exit %d\n", stdout, stderr, code)
			checkLocalGolden(t, filepath.Join("merge", tc.name+".golden"), scrub(got, f.dir))
		})
	}
}

// TestMergeEqualsWholeRun checks the merged slices against the same run
// unsliced: the same recap, the same host lines under each banner (in
// another order: the slices ran apart) and the same exit code.
func TestMergeEqualsWholeRun(t *testing.T) {
	f := newMergeFixture(t)
	merged, _, code := runCLI(t, map[string]string{}, append([]string{"merge"}, f.slices...)...)
	if code != f.wholeRC {
		t.Errorf("merge exit %d, the whole run's %d", code, f.wholeRC)
	}
	norm := func(out string) string {
		out = scrub(out, f.dir)
		// Per banner, the lines under it, sorted; a multi-line result
		// stays with its host line.
		var sections []string
		for _, sec := range regexp.MustCompile(`(?m)^\n`).Split(out, -1) {
			var entries []string
			for _, l := range strings.Split(strings.TrimSpace(sec), "\n") {
				if len(entries) > 0 && (strings.HasPrefix(l, " ") || l == "}") {
					entries[len(entries)-1] += "\n" + l
					continue
				}
				entries = append(entries, l)
			}
			if len(entries) > 1 {
				sort.Strings(entries[1:])
			}
			sections = append(sections, strings.Join(entries, "\n"))
		}
		return strings.Join(sections, "\n\n")
	}
	if got, want := norm(merged), norm(f.whole); got != want {
		t.Errorf("merged slices differ from the whole run:\n--- whole\n%s\n--- merged\n%s", want, got)
	}
	for _, h := range []string{"h1", "h2", "h3", "h4", "h5", "h6"} {
		if findRecap(merged, h) == "" {
			t.Errorf("no recap line for %s", h)
		}
	}
	wantRecap(t, merged, "h1", "failed=1")
}

func TestMergeReport(t *testing.T) {
	f := newMergeFixture(t)
	report := f.path("report.html")
	_, stderr, code := runCLI(t, map[string]string{}, append([]string{"merge", "--report", report}, f.slices...)...)
	if code != exitHostFailed {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	html := mustRead(t, report)
	for _, h := range []string{"h1", "h2", "h3", "h4", "h5", "h6"} {
		if !strings.Contains(html, ">"+h+"<") {
			t.Errorf("report lacks host %s", h)
		}
	}
	if n := strings.Count(html, `class="failure `); n != 1 {
		t.Errorf("report shows %d failures, want 1 (h1's)", n)
	}
	// One row per task, not one per slice.
	if n := strings.Count(html, "Say hi<span"); n != 1 {
		t.Errorf("task \"Say hi\" appears %d times in the report, want 1", n)
	}
}

func TestWorseExit(t *testing.T) {
	tests := []struct{ a, b, want int }{
		{exitOK, exitOK, exitOK},
		{exitOK, exitHostFailed, exitHostFailed},
		{exitUnreachable, exitHostFailed, exitUnreachable},
		{exitHostFailed, exitUnreachable, exitUnreachable},
		{exitUnreachable, exitGeneric, exitGeneric},
		{exitParse, exitUsage, exitParse},
		{exitInterrupted, exitParse, exitInterrupted},
		{exitInternal, exitInterrupted, exitInternal},
		{exitLocked, exitUnreachable, exitLocked},
		{exitChanged, exitOK, exitChanged},
		{exitChanged, exitHostFailed, exitHostFailed},
		{77, exitUnreachable, 77}, // unknown: ranks as a generic error
	}
	for _, tc := range tests {
		if got := worseExit(tc.a, tc.b); got != tc.want {
			t.Errorf("worseExit(%d, %d) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
