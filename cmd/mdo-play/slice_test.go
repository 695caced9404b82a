package main

import (
	"bufio"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

func TestResolveSlice(t *testing.T) {
	tests := []struct {
		name string
		flag string
		env  map[string]string
		k, n int
		err  string // a part of the error; "" for success
	}{
		{name: "not sliced", flag: ""},
		{name: "explicit", flag: "2/4", k: 2, n: 4},
		{name: "explicit, bad", flag: "5/4", err: "--slice must be K/N"},
		{name: "explicit ignores the engine", flag: "1/2", env: map[string]string{"SLURM_ARRAY_TASK_ID": "3"}, k: 1, n: 2},

		// Slurm array jobs: the task's position in the range.
		{name: "slurm 0-3, first", flag: "auto", env: slurm("0", "0", "3", "4", "1"), k: 1, n: 4},
		{name: "slurm 0-3, last", flag: "auto", env: slurm("3", "0", "3", "4", "1"), k: 4, n: 4},
		{name: "slurm 1-4 is relative to MIN", flag: "auto", env: slurm("1", "1", "4", "4", "1"), k: 1, n: 4},
		{name: "slurm 10-13", flag: "auto", env: slurm("12", "10", "13", "4", "1"), k: 3, n: 4},
		{name: "slurm with step 1-7:3", flag: "auto", env: slurm("4", "1", "7", "3", "3"), k: 2, n: 3},
		{name: "slurm with step, last", flag: "auto", env: slurm("7", "1", "7", "3", "3"), k: 3, n: 3},
		{name: "slurm without STEP (old Slurm)", flag: "auto", env: slurm("2", "0", "3", "4", ""), k: 3, n: 4},
		{name: "slurm single task", flag: "auto", env: slurm("5", "5", "5", "1", "1"), k: 1, n: 1},
		{name: "slurm auto/N agrees", flag: "auto/4", env: slurm("0", "0", "3", "4", "1"), k: 1, n: 4},
		{name: "slurm auto/N disagrees", flag: "auto/8", env: slurm("0", "0", "3", "4", "1"), err: "SLURM_ARRAY_TASK_ID says there are 4 slices, not 8"},
		{name: "slurm list 2,5,11", flag: "auto", env: slurm("5", "2", "11", "3", "1"), err: "not an evenly spaced range"},
		{name: "slurm id off the step", flag: "auto", env: slurm("2", "1", "7", "3", "3"), err: "not an evenly spaced range"},
		{name: "slurm missing COUNT", flag: "auto", env: map[string]string{"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_MAX": "3"}, err: "SLURM_ARRAY_TASK_COUNT is not"},
		{name: "slurm garbage", flag: "auto", env: slurm("x", "0", "3", "4", "1"), err: `SLURM_ARRAY_TASK_ID="x"`},
		{name: "slurm wins over gitlab (sbatch from a CI job)", flag: "auto", env: merged(slurm("1", "0", "1", "2", "1"), map[string]string{"CI_NODE_INDEX": "3", "CI_NODE_TOTAL": "5"}), k: 2, n: 2},

		// Kubernetes Indexed Job: 0-based index, count from auto/N or MDO_SLICE_COUNT.
		{name: "k8s auto/N", flag: "auto/8", env: map[string]string{"JOB_COMPLETION_INDEX": "0"}, k: 1, n: 8},
		{name: "k8s auto/N, last", flag: "auto/8", env: map[string]string{"JOB_COMPLETION_INDEX": "7"}, k: 8, n: 8},
		{name: "k8s MDO_SLICE_COUNT", flag: "auto", env: map[string]string{"JOB_COMPLETION_INDEX": "2", "MDO_SLICE_COUNT": "3"}, k: 3, n: 3},
		{name: "k8s auto/N wins over MDO_SLICE_COUNT", flag: "auto/4", env: map[string]string{"JOB_COMPLETION_INDEX": "2", "MDO_SLICE_COUNT": "3"}, k: 3, n: 4},
		{name: "k8s without a count", flag: "auto", env: map[string]string{"JOB_COMPLETION_INDEX": "2"}, err: "give it as --slice auto/N or MDO_SLICE_COUNT"},
		{name: "k8s index beyond count", flag: "auto/4", env: map[string]string{"JOB_COMPLETION_INDEX": "4"}, err: "JOB_COMPLETION_INDEX=4 is not below the number of slices, 4"},
		{name: "k8s bad count", flag: "auto", env: map[string]string{"JOB_COMPLETION_INDEX": "0", "MDO_SLICE_COUNT": "0"}, err: `MDO_SLICE_COUNT="0"`},
		{name: "k8s negative index", flag: "auto/4", env: map[string]string{"JOB_COMPLETION_INDEX": "-1"}, err: `JOB_COMPLETION_INDEX="-1"`},

		// GitLab parallel jobs: 1-based.
		{name: "gitlab first", flag: "auto", env: map[string]string{"CI_NODE_INDEX": "1", "CI_NODE_TOTAL": "3"}, k: 1, n: 3},
		{name: "gitlab last", flag: "auto", env: map[string]string{"CI_NODE_INDEX": "3", "CI_NODE_TOTAL": "3"}, k: 3, n: 3},
		{name: "gitlab index 0", flag: "auto", env: map[string]string{"CI_NODE_INDEX": "0", "CI_NODE_TOTAL": "3"}, err: `CI_NODE_INDEX="0"`},
		{name: "gitlab index beyond total", flag: "auto", env: map[string]string{"CI_NODE_INDEX": "4", "CI_NODE_TOTAL": "3"}, err: "greater than CI_NODE_TOTAL=3"},
		{name: "gitlab without total", flag: "auto", env: map[string]string{"CI_NODE_INDEX": "1"}, err: "CI_NODE_TOTAL is not"},
		// Every GitLab job has CI_NODE_TOTAL=1; only parallel ones have an index.
		{name: "gitlab job that is not parallel", flag: "auto", env: map[string]string{"CI_NODE_TOTAL": "1"}, err: "no workload manager's slice variables are set"},

		{name: "no engine", flag: "auto", err: "no workload manager's slice variables are set: expected SLURM_ARRAY_TASK_ID"},
		{name: "bad auto", flag: "auto4", err: "--slice must be K/N, auto or auto/N"},
		{name: "bad auto/N", flag: "auto/0", err: "--slice must be K/N, auto or auto/N"},
		{name: "auto/N not a number", flag: "auto/x", err: "--slice must be K/N, auto or auto/N"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := resolveSlice(tc.flag, func(k string) string { return tc.env[k] })
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				if code := exitCodeOf(err); code != exitUsage {
					t.Errorf("exit code %d, want %d", code, exitUsage)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.K != tc.k || s.N != tc.n {
				t.Errorf("slice %d/%d, want %d/%d", s.K, s.N, tc.k, tc.n)
			}
		})
	}
}

func slurm(id, lo, hi, count, step string) map[string]string {
	m := map[string]string{"SLURM_ARRAY_TASK_ID": id, "SLURM_ARRAY_TASK_MIN": lo, "SLURM_ARRAY_TASK_MAX": hi, "SLURM_ARRAY_TASK_COUNT": count}
	if step != "" {
		m["SLURM_ARRAY_TASK_STEP"] = step
	}
	return m
}

func merged(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// TestSliceAutoRun runs a playbook as slice auto of a Slurm array and of a
// Kubernetes Indexed Job: the run covers that slice's hosts, and every JSON
// event carries the slice; without an engine it is a usage error.
func TestSliceAutoRun(t *testing.T) {
	dir := t.TempDir()
	inv := writeFile(t, dir, "hosts", "[all]\nh1\nh2\nh3\nh4\nh5\n\n[all:vars]\nansible_connection=local\n")
	pb := writeFile(t, dir, "site.yml", "- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: {msg: hi}\n")
	tests := []struct {
		name  string
		flag  string
		env   map[string]string
		k, n  int
		hosts []string
	}{
		{name: "slurm", flag: "auto", env: slurm("1", "0", "1", "2", "1"), k: 2, n: 2, hosts: []string{"h2", "h4"}},
		{name: "kubernetes", flag: "auto/3", env: map[string]string{"JOB_COMPLETION_INDEX": "0"}, k: 1, n: 3, hosts: []string{"h1", "h4"}},
		{name: "gitlab", flag: "auto", env: map[string]string{"CI_NODE_INDEX": "3", "CI_NODE_TOTAL": "3"}, k: 3, n: 3, hosts: []string{"h3"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := runCLI(t, tc.env, "-i", inv, pb, "--slice", tc.flag, "--output", "json")
			if code != exitOK {
				t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
			}
			var recap jsonEvent
			sc := bufio.NewScanner(strings.NewReader(stdout))
			for sc.Scan() {
				var e jsonEvent
				if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
					t.Fatalf("%v: %s", err, sc.Text())
				}
				if e.Slice != tc.k || e.SliceCount != tc.n {
					t.Errorf("event %s carries slice %d/%d, want %d/%d", e.Event, e.Slice, e.SliceCount, tc.k, tc.n)
				}
				recap = e
			}
			if recap.Event != "recap" || recap.ExitCode == nil || *recap.ExitCode != 0 || recap.Stats == nil {
				t.Fatalf("last event %+v, want a recap with exit_code 0", recap)
			}
			var got []string
			for h := range *recap.Stats {
				got = append(got, h)
			}
			if strings.Join(sortedUnique(got), ",") != strings.Join(tc.hosts, ",") {
				t.Errorf("recap hosts %v, want %v", got, tc.hosts)
			}
		})
	}
	t.Run("no engine", func(t *testing.T) {
		stdout, stderr, code := runCLI(t, map[string]string{}, "-i", inv, filepath.Join(dir, "site.yml"), "--slice", "auto", "--output", "json")
		if code != exitUsage {
			t.Fatalf("exit %d, want %d", code, exitUsage)
		}
		if !strings.Contains(stderr, "ERROR! --slice auto: no workload manager's slice variables are set") {
			t.Errorf("stderr:\n%s", stderr)
		}
		if !strings.Contains(stdout, `"event":"error"`) || !strings.Contains(stdout, `"exit_code":5`) {
			t.Errorf("the JSON stream should end with an error and a recap with exit_code 5:\n%s", stdout)
		}
	})
}
