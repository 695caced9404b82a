package modules

import (
	"context"
	"fmt"
	"strings"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// Raw is the raw module: the free-form string goes to the target's shell as
// it is (or to `executable -c`), with no preparation. As in Ansible it is
// skipped in check mode, and its result has rc, stdout and stderr (not
// stripped) but no cmd, start, end or delta.
type Raw struct{}

var _ Module = Raw{}

// Spec describes raw's arguments.
func (Raw) Spec() *Spec {
	return &Spec{Args: []Arg{{Name: "executable", Type: TypeStr}}, FreeForm: true}
}

// Run runs the string.
func (Raw) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	var script string
	if v, ok := args[RawParams]; ok && v != nil {
		script = fmt.Sprint(v)
	}
	if strings.TrimSpace(script) == "" {
		return Result{Failed: true, Msg: "no command given"}, nil
	}
	if exe := args.String("executable"); exe != "" {
		// As Ansible: the executable is shell text, the command one word.
		script = exe + " -c " + conn.Quote(script)
	}
	res, err := env.Conn.Exec(ctx, conn.Command{Script: script})
	if err != nil {
		return Result{}, fmt.Errorf("run raw command: %w", err)
	}
	r := Result{Changed: true, Values: outputValues(res.RC, string(res.Stdout), string(res.Stderr))}
	if res.RC != 0 {
		r.Failed = true
		r.Msg = "non-zero return code"
	}
	return r, nil
}
