package sshtest

import (
	"context"
	"os"
	"testing"
)

// StartT starts n test hosts for a test or benchmark and stops them in
// t.Cleanup. When test hosts cannot run here it fails the test if the CI
// environment variable is set, and skips it otherwise.
func StartT(t testing.TB, n int) *Cluster {
	t.Helper()
	if err := Available(""); err != nil {
		unavailable(t, err)
	}
	c, err := Start(context.Background(), Options{N: n, Dir: t.TempDir()})
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

// unavailable fails under CI and skips elsewhere.
func unavailable(t testing.TB, err error) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("CI is set but test hosts are unavailable: %v", err)
	}
	t.Skipf("test hosts unavailable: %v", err)
}
