package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"
)

// exitLocked is the exit code of a run that did not start because another
// run holds its --lock file (docs/cron.md).
const exitLocked = 3

// lockPoll is how often a waiting run tries the lock again.
const lockPoll = 100 * time.Millisecond

// errLocked is wrapped by acquireLock's error when another run holds the
// lock.
var errLocked = errors.New("another run holds the lock")

// lockFlags are the run options of --lock.
func lockFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "lock", Usage: "take an exclusive lock on `FILE` for the whole run, so overlapping runs never run at once (exit 3 when held)"},
		&cli.DurationFlag{Name: "lock-wait", Usage: "how long to wait for --lock when another run holds it (0: do not wait)"},
	}
}

// runLock is an flock(2) lock held on a file for the life of a run. The
// kernel releases it when the process exits however it exits, so a crashed
// or killed run never leaves a stale lock behind. The descriptor is
// close-on-exec: commands a run starts do not inherit the lock.
type runLock struct {
	f *os.File
}

// acquireLock takes an exclusive lock on path (created 0644 if missing).
// When another process (or another descriptor in this one) holds it,
// acquireLock tries again until wait has passed, writing one notice to
// notice, then returns an error wrapping errLocked with exit code
// exitLocked that names the holder. wait 0 means one try. Cancelling ctx
// stops the wait with ctx's error.
func acquireLock(ctx context.Context, path string, wait time.Duration, notice io.Writer) (*runLock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, withCode(exitGeneric, fmt.Errorf("lock: %w", err))
	}
	ok, err := tryLock(f)
	if err == nil && !ok && wait > 0 {
		fmt.Fprintf(notice, "mdo-play: waiting up to %s for the lock %s (held by %s)\n", wait, path, lockHolder(path))
		ok, err = waitLock(ctx, f, wait)
	}
	if err != nil {
		f.Close()
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, withCode(exitGeneric, fmt.Errorf("lock %s: %w", path, err))
	}
	if !ok {
		f.Close()
		msg := fmt.Errorf("%w %s (held by %s); not starting", errLocked, path, lockHolder(path))
		if wait > 0 {
			msg = fmt.Errorf("%w %s (held by %s); gave up after waiting %s", errLocked, path, lockHolder(path), wait)
		}
		return nil, withCode(exitLocked, msg)
	}
	// Say who holds it, for the message of the run that finds it held.
	info := fmt.Sprintf("pid %d since %s\n", os.Getpid(), time.Now().Format(time.RFC3339))
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(info), 0)
	}
	return &runLock{f: f}, nil
}

// tryLock takes the lock without blocking and reports whether it got it.
func tryLock(f *os.File) (bool, error) {
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EWOULDBLOCK):
			return false, nil
		}
		return false, fmt.Errorf("flock: %w", err)
	}
}

// waitLock polls the lock until it is free, wait has passed or ctx is done.
// (A blocking flock cannot be given a deadline or be cancelled.)
func waitLock(ctx context.Context, f *os.File, wait time.Duration) (bool, error) {
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	tick := time.NewTicker(lockPoll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-deadline.C:
			return tryLock(f)
		case <-tick.C:
			if ok, err := tryLock(f); ok || err != nil {
				return ok, err
			}
		}
	}
}

// lockHolder is what the holder wrote in the lock file, or "another
// process" when it wrote nothing readable.
func lockHolder(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "another process"
	}
	s := strings.TrimSpace(string(bytes.ToValidUTF8(data, nil)))
	if s == "" || len(s) > 200 || strings.ContainsAny(s, "\n\r\033") {
		return "another process"
	}
	return s
}

// Release unlocks and closes the file; the file itself stays (removing it
// would let a waiting run and a new one lock two different files).
func (l *runLock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	if err != nil {
		return fmt.Errorf("release lock: %w", err)
	}
	return nil
}
