package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestLockHelperProcess is not a test: it is the other process of the lock
// tests. It takes the lock named by MDO_LOCK_HELPER, says "locked" on stdout
// and holds the lock until its stdin closes.
func TestLockHelperProcess(t *testing.T) {
	path := os.Getenv("MDO_LOCK_HELPER")
	if path == "" {
		t.Skip("helper process only")
	}
	l, err := acquireLock(context.Background(), path, 0, io.Discard)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("locked")
	_, _ = io.Copy(io.Discard, os.Stdin)
	_ = l.Release()
	os.Exit(0)
}

// lockHolderProcess starts a process holding the lock on path and returns
// once it holds it; closing the returned writer makes it release and exit.
func lockHolderProcess(t *testing.T, path string) (*exec.Cmd, io.WriteCloser) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockHelperProcess$")
	cmd.Env = append(os.Environ(), "MDO_LOCK_HELPER="+path)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "locked" {
		t.Fatalf("helper did not take the lock: %q %v", line, err)
	}
	return cmd, stdin
}

func TestLockHeldByAnotherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "site.lock")
	cmd, release := lockHolderProcess(t, path)

	_, err := acquireLock(context.Background(), path, 0, io.Discard)
	if !errors.Is(err, errLocked) {
		t.Fatalf("got %v, want errLocked", err)
	}
	if code := exitCodeOf(err); code != exitLocked {
		t.Errorf("exit code %d, want %d", code, exitLocked)
	}
	if want := fmt.Sprintf("held by pid %d since ", cmd.Process.Pid); !strings.Contains(err.Error(), want) {
		t.Errorf("message %q does not name the holder (%q)", err, want)
	}

	// A run that may wait gets the lock once the holder is done. The
	// holder lets go only after the waiting run has said it waits.
	notice := &noticeWriter{said: make(chan struct{})}
	got := make(chan error, 1)
	go func() {
		l, err := acquireLock(context.Background(), path, time.Minute, notice)
		if err == nil {
			err = l.Release()
		}
		got <- err
	}()
	select {
	case <-notice.said:
	case err := <-got:
		t.Fatalf("the second run did not wait: %v", err)
	}
	release.Close()
	if err := <-got; err != nil {
		t.Fatalf("waiting run: %v", err)
	}
	if !strings.Contains(notice.String(), "waiting up to 1m0s for the lock "+path) {
		t.Errorf("no waiting notice: %q", notice.String())
	}
}

func TestLockReleasedWhenHolderIsKilled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "site.lock")
	cmd, _ := lockHolderProcess(t, path)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	l, err := acquireLock(context.Background(), path, 0, io.Discard)
	if err != nil {
		t.Fatalf("lock of a killed process not released: %v", err)
	}
	l.Release()
}

func TestLockNeverTwiceAtOnce(t *testing.T) {
	// Goroutines stand for runs: each takes the lock (waiting as long as
	// needed), records that it is inside, and leaves. Two inside at once
	// would be a broken lock.
	path := filepath.Join(t.TempDir(), "site.lock")
	var inside, most atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l, err := acquireLock(context.Background(), path, time.Minute, io.Discard)
			if err != nil {
				errs <- err
				return
			}
			n := inside.Add(1)
			for {
				m := most.Load()
				if n <= m || most.CompareAndSwap(m, n) {
					break
				}
			}
			inside.Add(-1)
			errs <- l.Release()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if most.Load() != 1 {
		t.Errorf("%d runs held the lock at once", most.Load())
	}
}

func TestLockWaitGivesUpAndCancels(t *testing.T) {
	path := filepath.Join(t.TempDir(), "site.lock")
	held, err := acquireLock(context.Background(), path, 0, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()
	for _, tc := range []struct {
		name     string
		wait     time.Duration
		cancel   bool
		wantCode int
		wantMsg  string
	}{
		{name: "no wait", wantCode: exitLocked, wantMsg: "not starting"},
		{name: "wait runs out", wait: 3 * lockPoll, wantCode: exitLocked, wantMsg: "gave up after waiting 300ms"},
		{name: "interrupted", wait: time.Hour, cancel: true, wantCode: exitInterrupted, wantMsg: "context canceled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.cancel {
				cancel()
			}
			_, err := acquireLock(ctx, path, tc.wait, io.Discard)
			if err == nil {
				t.Fatal("got the lock another descriptor holds")
			}
			if code := exitCodeOf(err); code != tc.wantCode {
				t.Errorf("exit code %d, want %d (%v)", code, tc.wantCode, err)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("message %q, want it to contain %q", err, tc.wantMsg)
			}
		})
	}
}

func TestLockErrors(t *testing.T) {
	_, err := acquireLock(context.Background(), filepath.Join(t.TempDir(), "no", "such", "dir", "x.lock"), 0, io.Discard)
	if err == nil || errors.Is(err, errLocked) || exitCodeOf(err) != exitGeneric {
		t.Errorf("lock in a missing directory: %v (code %d)", err, exitCodeOf(err))
	}
	var nilLock *runLock
	if err := nilLock.Release(); err != nil {
		t.Errorf("Release of no lock: %v", err)
	}
}

// noticeWriter records what is written and closes said on the first write.
type noticeWriter struct {
	mu   sync.Mutex
	b    strings.Builder
	said chan struct{}
	once sync.Once
}

func (w *noticeWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.once.Do(func() { close(w.said) })
	return w.b.Write(p)
}

func (w *noticeWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}
