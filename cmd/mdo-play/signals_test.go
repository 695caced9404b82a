package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildBinary builds mdo-play into a temporary directory for the tests
// that need a real process (signals).
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "mdo-play")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestSignals interrupts a run in the middle of a long command, with SIGINT
// and with SIGTERM: the command is killed, no further task starts, the
// recap is printed and the exit code is 99. Two SIGINTs in a row exit at
// once with 99.
func TestSignals(t *testing.T) {
	bin := buildBinary(t)
	for _, tc := range []struct {
		name string
		sig  []syscall.Signal
	}{
		{"SIGINT", []syscall.Signal{syscall.SIGINT}},
		{"SIGTERM", []syscall.Signal{syscall.SIGTERM}},
		{"SIGINT twice", []syscall.Signal{syscall.SIGINT, syscall.SIGINT}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmp := t.TempDir()
			started := filepath.Join(tmp, "started")
			pidFile := filepath.Join(tmp, "pid")
			next := filepath.Join(tmp, "next-task-ran")
			// The long task records its pid: the test checks it is gone.
			pb := writeFile(t, tmp, "pb.yml", fmt.Sprintf(`- hosts: all
  gather_facts: false
  tasks:
    - name: long
      shell: 'echo $$ > %s; touch %s; exec sleep 3600'
    - name: next
      command: touch %s
`, pidFile, started, next))
			cmd := exec.Command(bin, "-i", "a,b,", "-c", "local", pb)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			cmd.Env = append(os.Environ(), "HOME="+tmp)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = cmd.Process.Kill() })
			if !waitFile(started, 20*time.Second) {
				t.Fatalf("the long task never started\n%s\n%s", stdout.String(), stderr.String())
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			start := time.Now()
			for _, s := range tc.sig {
				if err := cmd.Process.Signal(s); err != nil {
					t.Fatal(err)
				}
			}
			select {
			case <-done:
			case <-time.After(15 * time.Second):
				t.Fatalf("still running 15s after %v\n%s\n%s", tc.sig, stdout.String(), stderr.String())
			}
			took := time.Since(start)
			if code := cmd.ProcessState.ExitCode(); code != exitInterrupted {
				t.Errorf("exit %d, want %d\n%s\n%s", code, exitInterrupted, stdout.String(), stderr.String())
			}
			if _, err := os.Stat(next); err == nil {
				t.Error("a task started after the interrupt")
			}
			if len(tc.sig) == 2 {
				if took > 2*time.Second {
					t.Errorf("a second SIGINT took %v to exit", took)
				}
				return
			}
			if !strings.Contains(stdout.String(), "PLAY RECAP") {
				t.Errorf("no recap after %v:\n%s\n%s", tc.sig, stdout.String(), stderr.String())
			}
			pid, _ := os.ReadFile(pidFile)
			n, err := strconv.Atoi(strings.TrimSpace(string(pid)))
			if err != nil {
				t.Fatalf("pid file: %q", pid)
			}
			if syscall.Kill(n, 0) == nil {
				if b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", n)); bytes.Contains(b, []byte("sleep")) {
					t.Errorf("the interrupted command (pid %d) still runs", n)
					_ = syscall.Kill(n, syscall.SIGKILL)
				}
			}
		})
	}
}
