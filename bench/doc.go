// Package bench holds mdo-play's benchmark: `make bench` (cmd/mdo-bench,
// the floor program cmd/mdo-floor and the runbooks under runbook/), and a
// `go test -bench` suite over the controller's hot paths, so that
// regressions in template rendering, variable merge, event formatting and
// the per-host SSH run show up as numbers.
package bench
