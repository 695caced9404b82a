package sshtest

import (
	"context"
	"errors"
	"os"
	"testing"
)

// StartT starts n test hosts for a test or benchmark and stops them in
// t.Cleanup. When test hosts cannot run here it fails the test if the CI
// environment variable is set, and skips it otherwise.
func StartT(t testing.TB, n int) *Cluster {
	t.Helper()
	return StartTWith(t, Options{N: n})
}

// StartMain starts n test hosts for a whole test package, from TestMain.
// It returns the cluster, or the reason it could not start; hand both to
// Require in each test. Stop the cluster after m.Run.
func StartMain(n int) (*Cluster, error) {
	if err := Available(""); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "mdo-sshtest-")
	if err != nil {
		return nil, err
	}
	c, err := Start(context.Background(), Options{N: n, Dir: dir})
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return c, nil
}

// StopMain stops a cluster from StartMain and removes its directory.
func StopMain(c *Cluster) error {
	if c == nil {
		return nil
	}
	err := c.Stop()
	if rerr := os.RemoveAll(c.Dir); err == nil {
		err = rerr
	}
	return err
}

// Require returns c for a test, or fails (under CI) or skips the test with
// the reason StartMain gave.
func Require(t testing.TB, c *Cluster, err error) *Cluster {
	t.Helper()
	if c == nil || err != nil {
		if err == nil {
			err = errors.New("no cluster started")
		}
		unavailable(t, err)
	}
	return c
}

// unavailable fails under CI and skips elsewhere.
func unavailable(t testing.TB, err error) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("CI is set but test hosts are unavailable: %v", err)
	}
	t.Skipf("test hosts unavailable: %v", err)
}

// StartTWith is StartT with options; o.Dir defaults to a test temp dir.
func StartTWith(t testing.TB, o Options) *Cluster {
	t.Helper()
	if err := Available(o.SSHD); err != nil {
		unavailable(t, err)
	}
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	c, err := Start(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Error(err)
		}
	})
	return c
}
