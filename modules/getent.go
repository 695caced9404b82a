package modules

import (
	"context"
	"strings"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// Getent is the getent module: it runs getent(1) on the target and sets
// the fact getent_DATABASE, a mapping from each record's first field to
// its other fields (a list of such lists when a key repeats), as Ansible
// does. It changes nothing.
type Getent struct{}

var _ Module = Getent{}

// Spec describes getent's arguments.
func (Getent) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "database", Type: TypeStr, Required: true},
			{Name: "key", Type: TypeStr},
			{Name: "service", Type: TypeStr},
			{Name: "split", Type: TypeStr},
			{Name: "fail_key", Type: TypeBool, Default: true},
		},
		CheckMode: true,
	}
}

// Run looks the key (or the whole database) up.
func (Getent) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	db := args.String("database")
	// Options before "--", so that a key with a leading dash is a key.
	cmd := "getent"
	if args.Has("service") {
		cmd += " -s " + conn.Quote(args.String("service"))
	}
	cmd += " -- " + conn.Quote(db)
	if args.Has("key") {
		cmd += " " + conn.Quote(args.String("key"))
	}
	res, err := env.Conn.Exec(ctx, conn.Command{Script: cmd})
	if err != nil {
		return Result{}, err
	}
	split, hasSplit := args.String("split"), args.Has("split")
	if !hasSplit && contains([]string{"passwd", "shadow", "group", "gshadow"}, db) {
		split, hasSplit = ":", true
	}
	tree := "getent_" + db
	records := map[string]any{}
	switch res.RC {
	case 0:
		seen := map[string]int{}
		for _, line := range SplitLines(string(res.Stdout)) {
			var rec []string
			if hasSplit && split != "" {
				rec = strings.Split(line, split)
			} else {
				rec = strings.Fields(line)
			}
			if len(rec) == 0 {
				continue // Python's split() of a blank line
			}
			rest := make([]any, 0, len(rec)-1)
			for _, f := range rec[1:] {
				rest = append(rest, f)
			}
			k := rec[0]
			switch seen[k] {
			case 0:
				records[k] = rest
			case 1:
				records[k] = []any{records[k], rest}
			default:
				records[k] = append(records[k].([]any), rest)
			}
			seen[k]++
		}
		return Result{Facts: map[string]any{tree: records}}, nil
	case 1:
		return Result{Failed: true, Msg: "Missing arguments, or database unknown."}, nil
	case 2:
		msg := "One or more supplied key could not be found in the database."
		if !args.Bool("fail_key") {
			records[args.String("key")] = nil
			return Result{Msg: msg, Facts: map[string]any{tree: records}}, nil
		}
		return Result{Failed: true, Msg: msg}, nil
	case 3:
		return Result{Failed: true, Msg: "Enumeration not supported on this database."}, nil
	case 127:
		return Result{Failed: true, Msg: "Failed to find required executable \"getent\" in paths: " + strings.TrimSpace(string(res.Stderr))}, nil
	}
	return Result{Failed: true, Msg: "Unexpected failure!"}, nil
}
