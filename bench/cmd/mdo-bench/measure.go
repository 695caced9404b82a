package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// sample is one measured run of a controller.
type sample struct {
	Wall   time.Duration
	CPU    time.Duration // user+sys of the process and all it waited for, plus reaped orphans
	MaxRSS int64         // bytes: ru_maxrss of the process and its waited-for descendants
	Output string        // stdout and stderr, for the recap and error messages
	// ForksPerHost is the machine's process creations during the run
	// (/proc/stat "processes") divided by the host count: the test hosts'
	// sshd, shells and commands, the controller's own, and whatever else
	// the machine started meanwhile (noise on a shared machine).
	ForksPerHost float64
}

// forks returns the number of processes created since boot.
func forks() int64 {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "processes "); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	return 0
}

// becomeSubreaper makes orphaned descendants (ansible's ssh ControlMaster
// processes, which daemonise) our children, so that their CPU time can be
// collected with wait4 and counted as controller CPU.
func becomeSubreaper() error {
	const prSetChildSubreaper = 36
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); errno != 0 {
		return fmt.Errorf("prctl(PR_SET_CHILD_SUBREAPER): %w", errno)
	}
	return nil
}

// children lists the pids of our direct children, from every thread.
func children() map[int]bool {
	pids := map[int]bool{}
	tasks, _ := filepath.Glob("/proc/self/task/*/children")
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil {
				pids[pid] = true
			}
		}
	}
	return pids
}

// measure runs cmd to completion and returns its wall time, CPU and peak
// RSS. Before reaping orphans it calls cleanup (which should make them
// exit); orphans still alive after grace are killed. A non-zero exit is an
// error carrying the output's tail.
func measure(ctx context.Context, cmd *exec.Cmd, cleanup func(), grace time.Duration, hosts int) (sample, error) {
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	before := children()
	forks0 := forks()
	start := time.Now()
	runErr := cmd.Run()
	s := sample{Wall: time.Since(start), Output: out.String()}
	s.ForksPerHost = float64(forks()-forks0) / float64(max(hosts, 1))
	if ps := cmd.ProcessState; ps != nil {
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			s.CPU = rusageCPU(ru)
			s.MaxRSS = ru.Maxrss * 1024
		}
	}
	if cleanup != nil {
		cleanup()
	}
	s.CPU += reapOrphans(before, grace)
	if runErr != nil {
		return s, fmt.Errorf("%s: %w\n%s", filepath.Base(cmd.Path), runErr, tailLines(s.Output, 30))
	}
	if ctx.Err() != nil {
		return s, ctx.Err()
	}
	return s, nil
}

// reapOrphans waits for every child that appeared since before (orphans
// re-parented to us) and returns their CPU time. A child that has not
// exited within grace is killed: it descends from a process we started.
func reapOrphans(before map[int]bool, grace time.Duration) time.Duration {
	var total time.Duration
	deadline := time.Now().Add(grace)
	for pid := range children() {
		if before[pid] {
			continue
		}
		done := make(chan time.Duration, 1)
		go func() {
			var ws syscall.WaitStatus
			var ru syscall.Rusage
			if _, err := syscall.Wait4(pid, &ws, 0, &ru); err != nil {
				done <- 0
				return
			}
			done <- rusageCPU(&ru)
		}()
		t := time.NewTimer(time.Until(deadline))
		select {
		case d := <-done:
			total += d
		case <-t.C:
			_ = syscall.Kill(pid, syscall.SIGKILL)
			total += <-done
		}
		t.Stop()
	}
	return total
}

func rusageCPU(ru *syscall.Rusage) time.Duration {
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
