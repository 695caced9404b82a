package modules

import "errors"

// ErrUndefined is wrapped by Vars.Lookup and Vars.Cond errors that come from
// an undefined variable, so that debug can print "VARIABLE IS NOT
// DEFINED!" for those and fail on every other error, as Ansible does.
var ErrUndefined = errors.New("undefined variable")
