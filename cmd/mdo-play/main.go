// Command mdo-play runs Ansible-style playbooks over SSH without agents.
// This package is the only place that reads flags and the environment; it
// wires the inventory, the playbook engine, connections and the output
// formatters, and decides the exit code.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// Exit codes (DESIGN §6).
const (
	exitOK          = 0
	exitGeneric     = 1
	exitHostFailed  = 2
	exitUnreachable = 4
	exitUsage       = 5
	exitParse       = 6
	exitChanged     = 8 // --detailed-exitcode: changes made or pending, nothing else wrong
	exitInterrupted = 99
	exitInternal    = 250
)

func main() {
	ctx, stop := signalContext()
	defer stop()
	code := run(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// signalContext returns a context cancelled by the first SIGINT or SIGTERM;
// a second signal exits at once.
func signalContext() (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case <-ch:
			cancel()
		case <-done:
			return
		}
		select {
		case <-ch:
			fmt.Fprintln(os.Stderr, "mdo-play: interrupted twice, exiting now")
			os.Exit(exitInterrupted)
		case <-done:
		}
	}()
	var once bool
	return ctx, func() {
		if !once {
			once = true
			signal.Stop(ch)
			close(done)
			cancel()
		}
	}
}

// run is main without the process: it takes the arguments, standard streams
// and environment, and returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "mdo-play: internal error: %v\n%s", r, debug.Stack())
			code = exitInternal
		}
	}()
	a := &app{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}
	return a.main(args)
}
