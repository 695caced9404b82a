package main

import (
	"bytes"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestRaiseOpenFiles lowers the soft limit, then checks that it is raised
// to the hard limit and that -v says so (and that without -v nothing is
// printed).
func TestRaiseOpenFiles(t *testing.T) {
	var orig syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &orig); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Setrlimit(syscall.RLIMIT_NOFILE, &orig) })
	if orig.Max < 600 {
		t.Skipf("hard limit %d too low to test", orig.Max)
	}
	for _, verbosity := range []int{0, 1} {
		low := syscall.Rlimit{Cur: 512, Max: orig.Max}
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		raiseOpenFiles(&out, verbosity)
		var now syscall.Rlimit
		if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &now); err != nil {
			t.Fatal(err)
		}
		if now.Cur != orig.Max {
			t.Errorf("-v=%d: soft limit %d after raising, want the hard limit %d", verbosity, now.Cur, orig.Max)
		}
		want := "soft limit raised from 512 to the hard limit"
		if verbosity == 0 && out.Len() != 0 {
			t.Errorf("without -v it printed %q", out.String())
		}
		if verbosity == 1 && (!strings.Contains(out.String(), want) || !strings.Contains(out.String(), strconv.FormatUint(orig.Max, 10))) {
			t.Errorf("-v printed %q, want %q and the limit", out.String(), want)
		}
	}
}
