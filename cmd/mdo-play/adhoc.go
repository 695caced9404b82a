package main

import (
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/urfave/cli/v2"
	"gopkg.in/yaml.v3"

	"github.com/mdo-play/mdo-play/modules"
	"github.com/mdo-play/mdo-play/playbook"
)

// adhocFlags are the run flags that make sense for one module call, plus
// -m and -a.
func adhocFlags() []cli.Flag {
	keep := map[string]bool{
		"inventory": true, "limit": true, "extra-vars": true, "forks": true, "check": true, "diff": true,
		"connection": true, "user": true, "private-key": true, "become": true, "become-user": true,
		"become-method": true, "ask-become-pass": true, "ask-pass": true, "timeout": true, "verbose": true,
		"output": true, "slice": true, "vault-id": true, "vault-password-file": true, "ask-vault-pass": true,
	}
	var out []cli.Flag
	for _, f := range runFlags() {
		if keep[f.Names()[0]] {
			out = append(out, f)
		}
	}
	return append(out,
		&cli.StringFlag{Name: "module-name", Aliases: []string{"m"}, Value: "command", Usage: "module to run"},
		&cli.StringFlag{Name: "args", Aliases: []string{"a"}, Usage: "module arguments (free form or key=value)"},
	)
}

// adhocCmd runs one module on the hosts matching a pattern, like `ansible`.
func (a *app) adhocCmd(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageErr("adhoc takes exactly one host pattern: mdo-play adhoc PATTERN -m MODULE -a ARGS")
	}
	s, extra, loader, err := a.prepare(c)
	if err != nil {
		return err
	}
	reg := loader.Registry
	module := c.String("module-name")
	if !reg.Has(module) {
		return usageErr("unknown module %q", module)
	}
	var args any = c.String("args")
	if c.String("args") == "" {
		args = nil
	}
	// The ad-hoc call is a one-task play, loaded like any playbook so that
	// its arguments are checked the same way.
	src, err := yaml.Marshal([]map[string]any{{
		"name":         "Ansible Ad-Hoc",
		"hosts":        c.Args().First(),
		"gather_facts": false,
		"tasks":        []map[string]any{{module: args}},
	}})
	if err != nil {
		return withCode(exitInternal, err)
	}
	pb, err := loader.Parse("adhoc", src)
	if err != nil {
		return withCode(exitParse, fmt.Errorf("-m %s -a %q: %w", module, c.String("args"), err))
	}
	var sink playbook.Sink
	if c.String("output") == "text" {
		sink = &adhocSink{out: a.stdout, errOut: a.stderr, command: isCommandModule(module)}
	}
	return a.execute(c, s, loader, []*playbook.Playbook{pb}, extra, sink)
}

func isCommandModule(m string) bool {
	switch modules.Canonical(m) {
	case "command", "shell", "raw", "script":
		return true
	}
	return false
}

// adhocSink prints one result per host as the ansible command does:
// `h1 | CHANGED | rc=0 >>` and the output for command modules, `h1 | SUCCESS
// => {...}` for the others.
type adhocSink struct {
	mu      sync.Mutex
	out     io.Writer
	errOut  io.Writer
	command bool
}

func (s *adhocSink) Emit(e playbook.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch e.Kind {
	case playbook.EventWarning:
		fmt.Fprintf(s.errOut, "[WARNING]: %s\n", e.Msg)
	case playbook.EventHost:
		s.host(e)
	}
}

func (s *adhocSink) host(e playbook.Event) {
	r := e.Result
	status := map[playbook.Status]string{
		playbook.StatusOK: "SUCCESS", playbook.StatusChanged: "CHANGED", playbook.StatusFailed: "FAILED!",
		playbook.StatusSkipped: "SKIPPED", playbook.StatusUnreachable: "UNREACHABLE!",
	}[e.Status]
	if e.Status == playbook.StatusUnreachable || !s.command || e.Status == playbook.StatusSkipped || r["rc"] == nil {
		fmt.Fprintf(s.out, "%s | %s => %s\n", hostLabel(e), status, pyJSON(shown(r, false), true))
		return
	}
	if e.Status == playbook.StatusFailed {
		status = "FAILED"
	}
	// As Ansible's minimal callback: stdout, stderr and msg run together.
	var body strings.Builder
	for _, k := range []string{"stdout", "stderr", "msg"} {
		if v, ok := r[k].(string); ok {
			body.WriteString(v)
		}
	}
	fmt.Fprintf(s.out, "%s | %s | rc=%v >>\n%s\n", hostLabel(e), status, r["rc"], body.String())
}
