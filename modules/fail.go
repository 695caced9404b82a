package modules

import "context"

// Fail is the fail module: it fails the host with msg. It runs on the
// controller.
type Fail struct{}

var _ Module = Fail{}

// Spec describes fail's arguments.
func (Fail) Spec() *Spec {
	return &Spec{
		Args:       []Arg{{Name: "msg", Type: TypeRaw, Default: "Failed as requested from task"}},
		CheckMode:  true,
		Controller: true,
	}
}

// Run fails.
func (Fail) Run(_ context.Context, _ *Env, args Args) (Result, error) {
	return messageResult(args["msg"], true), nil
}
