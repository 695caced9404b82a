package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/mdo-play/mdo-play/inventory"
)

// sliceSpec is the slice a run covers: the K-th (1-based) of N slices of the
// inventory's hosts, and where K and N came from. N 0 means no slicing.
type sliceSpec struct {
	K, N   int
	Source string // "--slice", or the engine's variables (for -v and errors)
}

// resolveSlice reads --slice: "K/N", "auto" or "auto/N". auto takes the
// slice from the engine that started the process, through getenv:
//
//   - Slurm array job: SLURM_ARRAY_TASK_ID, with SLURM_ARRAY_TASK_MIN,
//     _MAX, _STEP and _COUNT (the task's position in an evenly spaced range);
//   - Kubernetes Indexed Job: JOB_COMPLETION_INDEX (0-based), with the count
//     from auto/N or MDO_SLICE_COUNT;
//   - GitLab parallel job: CI_NODE_INDEX (1-based) and CI_NODE_TOTAL.
//
// They are tried in that order: sbatch passes the submitter's environment on
// to the job, so a Slurm task started from a CI job also carries the CI
// job's variables, and the innermost engine is the one that sliced it. A
// count given as auto/N must agree with the engine's.
func resolveSlice(flag string, getenv func(string) string) (sliceSpec, error) {
	if flag == "" {
		return sliceSpec{}, nil
	}
	rest, auto := strings.CutPrefix(flag, "auto")
	if !auto {
		k, n, err := parseSlice(flag)
		return sliceSpec{K: k, N: n, Source: "--slice"}, err
	}
	want := 0 // the count given as auto/N
	if rest != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(rest, "/"))
		if !strings.HasPrefix(rest, "/") || err != nil || n < 1 || strconv.Itoa(n) != rest[1:] {
			return sliceSpec{}, usageErr("--slice must be K/N, auto or auto/N with N >= 1, got %q", flag)
		}
		want = n
	}
	s, err := engineSlice(getenv, want)
	if err != nil {
		return sliceSpec{}, withCode(exitUsage, fmt.Errorf("--slice %s: %w", flag, err))
	}
	if want != 0 && s.N != want {
		return sliceSpec{}, usageErr("--slice %s: %s says there are %d slices, not %d", flag, s.Source, s.N, want)
	}
	return s, nil
}

// engineSlice finds the slice in the variables of a workload manager;
// countFlag is N of auto/N (0 when not given).
func engineSlice(getenv func(string) string, countFlag int) (sliceSpec, error) {
	if id := getenv("SLURM_ARRAY_TASK_ID"); id != "" {
		return slurmSlice(getenv)
	}
	if idx := getenv("JOB_COMPLETION_INDEX"); idx != "" {
		src := "JOB_COMPLETION_INDEX"
		i, err := envInt(src, idx, 0)
		if err != nil {
			return sliceSpec{}, err
		}
		n := countFlag
		if n == 0 {
			c := getenv("MDO_SLICE_COUNT")
			if c == "" {
				return sliceSpec{}, fmt.Errorf("JOB_COMPLETION_INDEX=%s is set but not the number of slices: give it as --slice auto/N or MDO_SLICE_COUNT (the Job's completions)", idx)
			}
			if n, err = envInt("MDO_SLICE_COUNT", c, 1); err != nil {
				return sliceSpec{}, err
			}
			src += " and MDO_SLICE_COUNT"
		}
		if i >= n {
			return sliceSpec{}, fmt.Errorf("JOB_COMPLETION_INDEX=%d is not below the number of slices, %d", i, n)
		}
		return sliceSpec{K: i + 1, N: n, Source: src}, nil
	}
	if idx := getenv("CI_NODE_INDEX"); idx != "" {
		i, err := envInt("CI_NODE_INDEX", idx, 1)
		if err != nil {
			return sliceSpec{}, err
		}
		total := getenv("CI_NODE_TOTAL")
		if total == "" {
			return sliceSpec{}, fmt.Errorf("CI_NODE_INDEX=%s is set but CI_NODE_TOTAL is not", idx)
		}
		n, err := envInt("CI_NODE_TOTAL", total, 1)
		if err != nil {
			return sliceSpec{}, err
		}
		if i > n {
			return sliceSpec{}, fmt.Errorf("CI_NODE_INDEX=%d is greater than CI_NODE_TOTAL=%d", i, n)
		}
		return sliceSpec{K: i, N: n, Source: "CI_NODE_INDEX and CI_NODE_TOTAL"}, nil
	}
	return sliceSpec{}, fmt.Errorf("no workload manager's slice variables are set: " +
		"expected SLURM_ARRAY_TASK_ID (Slurm array job), JOB_COMPLETION_INDEX (Kubernetes Indexed Job) " +
		"or CI_NODE_INDEX (GitLab parallel job); outside of those give --slice K/N")
}

// slurmSlice maps an array task to its slice. The array must be an evenly
// spaced range (--array=0-3, --array=1-7:3): then task ID is slice
// (ID-MIN)/STEP+1 of COUNT. A list such as --array=2,5,11 has no position
// that the variables tell.
func slurmSlice(getenv func(string) string) (sliceSpec, error) {
	var v [5]int
	for i, name := range []string{"SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_MAX", "SLURM_ARRAY_TASK_COUNT", "SLURM_ARRAY_TASK_STEP"} {
		s := getenv(name)
		if s == "" && name == "SLURM_ARRAY_TASK_STEP" {
			s = "1" // Slurm before 17.11 does not set it
		}
		if s == "" {
			return sliceSpec{}, fmt.Errorf("SLURM_ARRAY_TASK_ID is set but %s is not", name)
		}
		min := 0
		if name == "SLURM_ARRAY_TASK_COUNT" || name == "SLURM_ARRAY_TASK_STEP" {
			min = 1
		}
		n, err := envInt(name, s, min)
		if err != nil {
			return sliceSpec{}, err
		}
		v[i] = n
	}
	id, lo, hi, count, step := v[0], v[1], v[2], v[3], v[4]
	if hi < lo || (hi-lo)%step != 0 || (hi-lo)/step+1 != count || id < lo || id > hi || (id-lo)%step != 0 {
		return sliceSpec{}, fmt.Errorf("the Slurm array is not an evenly spaced range (task %d of %d tasks from %d to %d, step %d), so the task's slice is unknown: submit it as --array=0-%d, or give --slice K/N", id, count, lo, hi, step, count-1)
	}
	return sliceSpec{K: (id-lo)/step + 1, N: count, Source: "SLURM_ARRAY_TASK_ID"}, nil
}

// envInt parses the decimal integer value of variable name, at least min.
func envInt(name, value string, min int) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(value))
	if err != nil || n < min {
		return 0, fmt.Errorf("%s=%q: expected a whole number of at least %d", name, value, min)
	}
	return n, nil
}

// inventoryDigest identifies what a run was sliced from: a hash of the
// inventory's host names in inventory order. Slices cut from inventories
// that differ in hosts or order may run a host twice or not at all, and
// mdo-play merge refuses them by this digest.
func inventoryDigest(hosts []*inventory.Host) string {
	h := sha256.New()
	for _, host := range hosts {
		h.Write([]byte(host.Name))
		h.Write([]byte{0})
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))[:16]
}
