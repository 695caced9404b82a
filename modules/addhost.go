package modules

import (
	"context"
	"fmt"
	"strings"
)

// AddHost is the add_host action: it names a host (host:port accepted),
// its groups and variables. The engine adds them to the run's in-memory
// inventory, where later plays' host patterns find them, and reports
// changed when the host or a group membership is new (as Ansible's
// strategy does). It runs once per batch (BYPASS_HOST_LOOP).
type AddHost struct{}

var _ Module = AddHost{}

// Spec describes add_host's arguments: name and groups, any other
// argument is a host variable.
func (AddHost) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "name", Aliases: []string{"host", "hostname"}, Type: TypeStr, Required: true},
			{Name: "groups", Aliases: []string{"group", "groupname"}, Type: TypeRaw},
		},
		AnyArgs:    true,
		CheckMode:  true,
		Controller: true,
	}
}

// BypassHostLoop tells the engine to run add_host once for the batch.
func (AddHost) BypassHostLoop() bool { return true }

// Run returns the add_host result key the engine applies.
func (AddHost) Run(_ context.Context, _ *Env, args Args) (Result, error) {
	name := args.String("name")
	hostVars := map[string]any{}
	if h, port, ok := splitHostPort(name); ok {
		name = h
		hostVars["ansible_ssh_port"] = port
	}
	var groups []any
	add := func(g string) {
		g = strings.TrimSpace(g)
		for _, x := range groups {
			if x == g {
				return
			}
		}
		groups = append(groups, g)
	}
	switch g := args["groups"].(type) {
	case nil:
	case string:
		if g != "" {
			for _, s := range strings.Split(g, ",") {
				add(s)
			}
		}
	case []any:
		for _, s := range g {
			add(fmt.Sprint(s))
		}
	default:
		return Result{Failed: true, Msg: "Groups must be specified as a list."}, nil
	}
	if groups == nil {
		groups = []any{}
	}
	for k, v := range args {
		switch k {
		case "name", "groups", RawParams:
			continue
		}
		hostVars[k] = v
	}
	return Result{Values: map[string]any{"add_host": map[string]any{"host_name": name, "groups": groups, "host_vars": hostVars}}}, nil
}

// splitHostPort splits "host:port" (and "[v6]:port"); a bare IPv6 address
// has no port.
func splitHostPort(s string) (string, int, bool) {
	host, port := "", ""
	switch {
	case strings.HasPrefix(s, "["):
		h, rest, ok := strings.Cut(s[1:], "]")
		if !ok || !strings.HasPrefix(rest, ":") {
			return s, 0, false
		}
		host, port = h, rest[1:]
	case strings.Count(s, ":") == 1:
		host, port, _ = strings.Cut(s, ":")
	default:
		return s, 0, false
	}
	n := 0
	for _, r := range port {
		if r < '0' || r > '9' {
			return s, 0, false
		}
		n = n*10 + int(r-'0')
	}
	if port == "" || host == "" {
		return s, 0, false
	}
	return host, n, true
}

// GroupBy is the group_by action: the engine adds the host to the group
// named by key (spaces become dashes), made a child of parents (default
// all), for the rest of the run.
type GroupBy struct{}

var _ Module = GroupBy{}

// Spec describes group_by's arguments.
func (GroupBy) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "key", Type: TypeStr, Required: true},
			{Name: "parents", Type: TypeList, Default: []any{"all"}},
		},
		CheckMode:  true,
		Controller: true,
	}
}

// Run returns the add_group and parent_groups result keys the engine applies.
func (GroupBy) Run(_ context.Context, _ *Env, args Args) (Result, error) {
	parents := []any{}
	for _, p := range args.List("parents") {
		parents = append(parents, strings.ReplaceAll(fmt.Sprint(p), " ", "-"))
	}
	if len(parents) == 0 {
		parents = []any{"all"}
	}
	return Result{Values: map[string]any{"add_group": strings.ReplaceAll(args.String("key"), " ", "-"), "parent_groups": parents}}, nil
}
