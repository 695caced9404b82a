package modules

import (
	"context"
	"fmt"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// Ping is the ping module: one round trip to the target's shell, returning
// ping: data. data "crash" fails, as in Ansible, for testing error paths.
type Ping struct{}

var _ Module = Ping{}

// Spec describes ping's arguments.
func (Ping) Spec() *Spec {
	return &Spec{Args: []Arg{{Name: "data", Type: TypeStr, Default: "pong"}}, CheckMode: true}
}

// Run pings.
func (Ping) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	data := args.String("data")
	if data == "crash" {
		return Result{Failed: true, Msg: "MODULE FAILURE\nSee stdout/stderr for the exact error", Values: map[string]any{
			"rc": 1, "module_stdout": "", "module_stderr": "Exception: boom",
		}}, nil
	}
	res, err := env.Conn.Exec(ctx, conn.Command{Script: "exit 0"})
	if err != nil {
		return Result{}, fmt.Errorf("ping: %w", err)
	}
	if res.RC != 0 {
		return Result{Failed: true, Msg: fmt.Sprintf("shell returned %d: %s", res.RC, res.Stderr)}, nil
	}
	return Result{Values: map[string]any{"ping": data}}, nil
}
