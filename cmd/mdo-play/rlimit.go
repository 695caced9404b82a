package main

import (
	"fmt"
	"io"
	"syscall"
)

// raiseOpenFiles raises the soft limit on open files (RLIMIT_NOFILE) to the
// hard limit: every host in flight holds a TCP connection and, under
// become, a few pipes, so -f 200 over 1000 hosts needs far more than the
// usual soft limit of 1024. (Go's runtime also raises it at start on Linux;
// doing it here makes it explicit and visible.) With -v it says what the
// limit is; a failure is only reported, the run goes on.
func raiseOpenFiles(stderr io.Writer, verbosity int) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		if verbosity > 0 {
			fmt.Fprintf(stderr, "open files limit (RLIMIT_NOFILE): cannot read it: %v\n", err)
		}
		return
	}
	raised := lim.Cur < lim.Max
	if raised {
		want := syscall.Rlimit{Cur: lim.Max, Max: lim.Max}
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
			if verbosity > 0 {
				fmt.Fprintf(stderr, "open files limit (RLIMIT_NOFILE): %d, could not raise it to the hard limit %d: %v\n", lim.Cur, lim.Max, err)
			}
			return
		}
	}
	if verbosity > 0 {
		how := "already at the hard limit"
		if raised {
			how = fmt.Sprintf("soft limit raised from %d to the hard limit", lim.Cur)
		}
		fmt.Fprintf(stderr, "open files limit (RLIMIT_NOFILE): %d (%s)\n", lim.Max, how)
	}
}
