package modules

import (
	"context"
	"math"
	"time"

	"github.com/mdo-play/mdo-play/templates/pyjson"
)

// Pause is the pause action: it waits minutes or seconds on the
// controller, or, given a way to ask (RunWith; the command line has one
// when stdin and stdout are a terminal), for the operator's answer to a
// prompt. Without one it behaves as Ansible does when stdin is not
// interactive: a prompt without a time is shown as a warning and the
// play goes on at once (user_input is empty). The
// engine runs it once per batch (Ansible's BYPASS_HOST_LOOP) and gives
// its result to every host.
type Pause struct {
	Now func() time.Time // nil: time.Now
}

var _ Module = Pause{}

// Spec describes pause's arguments (Ansible's action plugin's spec).
func (Pause) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "minutes", Type: TypeInt},
			{Name: "seconds", Type: TypeInt},
			{Name: "prompt", Type: TypeStr},
			{Name: "echo", Type: TypeBool, Default: true},
		},
		MutuallyExclusive: [][]string{{"minutes", "seconds"}},
		CheckMode:         true,
		Controller:        true,
	}
}

// BypassHostLoop tells the engine to run pause once for the batch.
func (Pause) BypassHostLoop() bool { return true }

// Run waits, cancellable through ctx; a prompt without a time is not
// answered (no terminal).
func (m Pause) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	return m.RunWith(ctx, env, args, nil)
}

// Ask asks the operator: text is the prompt (without the task name and
// the trailing colon), echo whether the answer is shown as typed.
type Ask func(ctx context.Context, text string, echo bool) (string, error)

// RunWith is Run with a way to ask the operator (nil: none, as when
// stdin is not a terminal): a prompt without a time waits for the
// answer, which becomes user_input, as Ansible's pause reads it.
func (m Pause) RunWith(ctx context.Context, _ *Env, args Args, ask Ask) (Result, error) {
	now := m.Now
	if now == nil {
		now = time.Now
	}
	echo := !args.Has("echo") || args.Bool("echo")
	values := map[string]any{"rc": 0, "stderr": "", "stdout": "", "start": nil, "stop": nil, "delta": nil, "echo": echo, "user_input": ""}
	unit, seconds, timed := "minutes", 0, false
	switch {
	case args.Has("minutes"):
		seconds, timed = args.Int("minutes")*60, true
	case args.Has("seconds"):
		seconds, timed, unit = args.Int("seconds"), true, "seconds"
	}
	var res Result
	start := now()
	values["start"] = PyTime(start)
	if timed {
		if seconds < 1 {
			seconds = 1
		}
		t := time.NewTimer(time.Duration(seconds) * time.Second)
		select {
		case <-ctx.Done():
			t.Stop()
			return Result{}, ctx.Err()
		case <-t.C:
		}
	} else if ask != nil {
		text := "Press enter to continue, Ctrl+C to interrupt"
		if p := args.String("prompt"); p != "" {
			text = p
		}
		if !echo {
			text += " (output is hidden)"
		}
		in, err := ask(ctx, text, echo)
		if err != nil {
			return Result{}, err
		}
		values["user_input"] = in
	} else {
		res.Warnings = append(res.Warnings, "Not waiting for response to prompt as stdin is not interactive")
	}
	stop := now()
	d := stop.Sub(start).Seconds()
	values["stop"] = PyTime(stop)
	values["delta"] = int(d)
	if unit == "minutes" {
		d /= 60
	}
	values["stdout"] = "Paused for " + pyjson.Float(math.Round(d*100)/100) + " " + unit
	res.Values = values
	return res, nil
}
