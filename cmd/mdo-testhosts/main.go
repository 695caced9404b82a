// Command mdo-testhosts starts real sshd test hosts (DESIGN §8) for
// `make demo` and the benchmark.
//
//	mdo-testhosts -n 3 -dir DIR            # print the inventory path, run until SIGINT/SIGTERM
//	mdo-testhosts -n 3 -dir DIR -- CMD...  # run CMD with MDO_TESTHOSTS_INVENTORY set, then stop
//	mdo-testhosts -root overlay ...        # each host gets a private writable root
//
// While hosts run, the harness accounts exist on the machine (see
// docs/testhosts.md); they are removed when the hosts stop.
// MDO_TESTHOSTS_PASSWORD carries their random password to CMD.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"github.com/mdo-play/mdo-play/modules/conn/sshtest"
)

func main() {
	os.Exit(run())
}

func run() int {
	fs := flag.NewFlagSet("mdo-testhosts", flag.ContinueOnError)
	n := fs.Int("n", 3, fmt.Sprintf("number of hosts (1..%d)", sshtest.MaxHosts))
	rootMode := fs.String("root", "shared", "what a host shares with the machine: shared (all but /srv) or overlay (nothing written: a private writable root)")
	dir := fs.String("dir", "", "directory for keys, configs and the inventory (default: a new temporary directory)")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return 5
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "mdo-testhosts-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "mdo-testhosts:", err)
			return 1
		}
		*dir = d
	}
	var root sshtest.Root
	switch *rootMode {
	case "shared":
		root = sshtest.RootShared
	case "overlay":
		root = sshtest.RootOverlay
	default:
		fmt.Fprintf(os.Stderr, "mdo-testhosts: -root %q: want shared or overlay\n", *rootMode)
		return 5
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c, err := sshtest.Start(ctx, sshtest.Options{N: *n, Dir: *dir, Root: root})
	if err != nil {
		fmt.Fprintln(os.Stderr, "mdo-testhosts:", err)
		return 1
	}
	defer func() {
		if err := c.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "mdo-testhosts:", err)
		}
	}()
	env := append(os.Environ(),
		"MDO_TESTHOSTS_INVENTORY="+c.Inventory,
		"MDO_TESTHOSTS_KNOWN_HOSTS="+c.KnownHosts,
		"MDO_TESTHOSTS_SSH_CONFIG="+c.SSHConfig,
		"MDO_TESTHOSTS_KEY="+c.ClientKey,
		"MDO_TESTHOSTS_PASSWORD="+c.SudoPassword(),
		fmt.Sprintf("MDO_TESTHOSTS_START_SECONDS=%.3f", c.StartTime.Seconds()))
	fmt.Fprintf(os.Stderr, "mdo-testhosts: %d hosts started in %.2fs\n", len(c.Hosts), c.StartTime.Seconds())
	if args := fs.Args(); len(args) > 0 {
		cmd := exec.CommandContext(ctx, args[0], args[1:]...)
		cmd.Stdin, cmd.Stdout, cmd.Stderr, cmd.Env = os.Stdin, os.Stdout, os.Stderr, env
		err := cmd.Run()
		var ee *exec.ExitError
		switch {
		case err == nil:
			return 0
		case errors.As(err, &ee):
			if ctx.Err() != nil {
				return 99
			}
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				return 128 + int(ws.Signal())
			}
			return ee.ExitCode()
		default:
			fmt.Fprintln(os.Stderr, "mdo-testhosts:", err)
			return 1
		}
	}
	fmt.Println(c.Inventory)
	for _, h := range c.Hosts {
		fmt.Fprintf(os.Stderr, "%s %s:%d\n", h.Name, h.Addr, h.Port)
	}
	fmt.Fprintf(os.Stderr, "known_hosts: %s\nssh_config: %s (ssh -F %s h1)\nstop with Ctrl-C\n", c.KnownHosts, c.SSHConfig, c.SSHConfig)
	<-ctx.Done()
	return 0
}
