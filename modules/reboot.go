package modules

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// WaitForConnection is the wait_for_connection action: it runs a no-op
// on the host until it answers or timeout seconds pass. The engine gives
// it a connection that reconnects after a failure (through the run's
// connection cache), so a host coming back is reached again.
type WaitForConnection struct{}

var _ Module = WaitForConnection{}

// Spec describes wait_for_connection's arguments.
func (WaitForConnection) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "timeout", Type: TypeInt, Default: 600},
			{Name: "delay", Type: TypeInt, Default: 0},
			{Name: "sleep", Type: TypeInt, Default: 1},
			{Name: "connect_timeout", Type: TypeInt, Default: 5},
		},
		CheckMode: true,
	}
}

// Reconnects asks the engine for a reconnecting connection.
func (WaitForConnection) Reconnects() bool { return true }

// Run waits for the connection.
func (WaitForConnection) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	if env.Check {
		return Result{Skipped: true}, nil
	}
	start := time.Now()
	if err := sleepCtx(ctx, time.Duration(args.Int("delay"))*time.Second); err != nil {
		return Result{}, err
	}
	timeout := time.Duration(args.Int("timeout")) * time.Second
	pause := time.Duration(max(args.Int("sleep"), 0)) * time.Second
	ct := time.Duration(max(args.Int("connect_timeout"), 1)) * time.Second
	// As Ansible's loop: try until the deadline, sleeping between tries.
	end := start.Add(timeout)
	var last error
	for time.Now().Before(end) {
		last = probe(ctx, env.Conn, ct, "true")
		if last == nil {
			return Result{Values: map[string]any{"elapsed": int(time.Since(start).Seconds())}}, nil
		}
		if ctx.Err() != nil {
			return Result{}, ctx.Err()
		}
		if err := sleepCtx(ctx, pause); err != nil {
			return Result{}, err
		}
	}
	msg := "timed out waiting for ping module test"
	if last != nil {
		msg += ": " + last.Error()
	}
	return Result{Failed: true, Msg: msg, Values: map[string]any{"elapsed": int(time.Since(start).Seconds())}}, nil
}

// probe runs script once within limit; any failure (transport or rc) is
// an error.
func probe(ctx context.Context, c conn.Conn, limit time.Duration, script string) error {
	pctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	res, err := c.Exec(pctx, conn.Command{Script: script})
	if err != nil {
		return err
	}
	if res.RC != 0 {
		return fmt.Errorf("rc %d: %s", res.RC, strings.TrimSpace(string(res.Stderr)))
	}
	return nil
}

// sleepCtx waits d, or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Reboot is the reboot action: it reads the boot id, runs the reboot
// command, waits (reconnecting, as wait_for_connection) until the boot id
// changes, then until test_command succeeds. In check mode it reports
// changed without rebooting.
type Reboot struct{}

var _ Module = Reboot{}

// Spec describes reboot's arguments.
func (Reboot) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "pre_reboot_delay", Type: TypeInt, Default: 0},
			{Name: "post_reboot_delay", Type: TypeInt, Default: 0},
			{Name: "reboot_timeout", Type: TypeInt, Default: 600},
			{Name: "connect_timeout", Type: TypeInt},
			{Name: "test_command", Type: TypeStr, Default: "whoami"},
			{Name: "msg", Type: TypeStr, Default: "Reboot initiated by Ansible"},
			{Name: "search_paths", Type: TypeList, Default: []any{"/sbin", "/bin", "/usr/sbin", "/usr/bin", "/usr/local/sbin"}},
			{Name: "boot_time_command", Type: TypeStr, Default: "cat /proc/sys/kernel/random/boot_id"},
			{Name: "reboot_command", Type: TypeStr},
		},
		CheckMode: true,
	}
}

// Reconnects asks the engine for a reconnecting connection.
func (Reboot) Reconnects() bool { return true }

// Run reboots the host and waits for it.
func (Reboot) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	if env.Check {
		return Result{Changed: true, Values: map[string]any{"elapsed": 0, "rebooted": true}}, nil
	}
	start := time.Now()
	ct := 10 * time.Second
	if args.Has("connect_timeout") {
		ct = time.Duration(max(args.Int("connect_timeout"), 1)) * time.Second
	}
	bootCmd := args.String("boot_time_command")
	before, err := env.Conn.Exec(ctx, conn.Command{Script: bootCmd})
	if err != nil {
		return Result{}, fmt.Errorf("reboot: %w", err)
	}
	if before.RC != 0 {
		return Result{Failed: true, Msg: fmt.Sprintf("failed to get boot time: %s, %s", strings.TrimSpace(string(before.Stdout)), strings.TrimSpace(string(before.Stderr))), Values: map[string]any{"rebooted": false}}, nil
	}
	cmd := args.String("reboot_command")
	if cmd == "" {
		var find strings.Builder
		find.WriteString("for d in")
		for _, p := range args.List("search_paths") {
			find.WriteString(" " + conn.Quote(fmt.Sprint(p)))
		}
		find.WriteString("; do [ -x \"$d/shutdown\" ] && { printf '%s' \"$d/shutdown\"; exit 0; }; done; exit 1")
		res, err := env.Conn.Exec(ctx, conn.Command{Script: find.String()})
		if err != nil {
			return Result{}, fmt.Errorf("reboot: %w", err)
		}
		if res.RC != 0 {
			return Result{Failed: true, Msg: fmt.Sprintf("Unable to find command \"shutdown\" in search paths: %v", args.List("search_paths")), Values: map[string]any{"rebooted": false}}, nil
		}
		cmd = fmt.Sprintf("%s -r %d %s", conn.Quote(string(res.Stdout)), args.Int("pre_reboot_delay")/60, conn.Quote(args.String("msg")))
	}
	res, err := env.Conn.Exec(ctx, conn.Command{Script: cmd})
	switch {
	case err != nil && !errors.Is(err, conn.ErrUnreachable):
		return Result{}, fmt.Errorf("reboot: %w", err)
	case err == nil && res.RC != 0:
		return Result{Failed: true, Msg: fmt.Sprintf("Reboot command failed. Error was: '%s, %s'", strings.TrimSpace(string(res.Stdout)), strings.TrimSpace(string(res.Stderr))), Values: map[string]any{"rebooted": false}}, nil
	}
	// A dropped connection is what a reboot does.
	timeout := time.Duration(args.Int("reboot_timeout")) * time.Second
	deadline := start.Add(timeout)
	retry := func(what string, check func() error) (Result, bool, error) {
		wait := 500 * time.Millisecond
		for {
			err := check()
			if err == nil {
				return Result{}, true, nil
			}
			if ctx.Err() != nil {
				return Result{}, false, ctx.Err()
			}
			if time.Now().Add(wait).After(deadline) {
				return Result{Failed: true, Msg: fmt.Sprintf("Timed out waiting for %s (timeout=%d)", what, args.Int("reboot_timeout")),
					Values: map[string]any{"rebooted": true, "elapsed": int(time.Since(start).Seconds())}}, false, nil
			}
			if err := sleepCtx(ctx, wait); err != nil {
				return Result{}, false, err
			}
			wait = min(wait*2, 12*time.Second)
		}
	}
	r, ok, err := retry("last boot time check", func() error {
		pctx, cancel := context.WithTimeout(ctx, ct)
		defer cancel()
		now, err := env.Conn.Exec(pctx, conn.Command{Script: bootCmd})
		if err != nil {
			return err
		}
		if now.RC != 0 || string(now.Stdout) == string(before.Stdout) {
			return errors.New("boot time has not changed")
		}
		return nil
	})
	if !ok {
		return r, err
	}
	if err := sleepCtx(ctx, time.Duration(args.Int("post_reboot_delay"))*time.Second); err != nil {
		return Result{}, err
	}
	r, ok, err = retry("post-reboot test command", func() error { return probe(ctx, env.Conn, ct, args.String("test_command")) })
	if !ok {
		return r, err
	}
	return Result{Changed: true, Values: map[string]any{"elapsed": int(time.Since(start).Seconds()), "rebooted": true}}, nil
}
