package modules

import (
	"context"
	"time"
)

// Shell is the shell module: it runs a command string through /bin/sh (or
// executable) on the target. Check mode is handled as in Command.
type Shell struct {
	// Now is the clock for start, end and delta; nil means time.Now.
	Now func() time.Time
}

var _ Module = Shell{}

// Spec describes shell's arguments.
func (Shell) Spec() *Spec {
	return &Spec{Args: commandArgs(), FreeForm: true, CheckMode: true}
}

// Run runs the command string.
func (m Shell) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	return runCommand(ctx, env, args, true, m.Now)
}
