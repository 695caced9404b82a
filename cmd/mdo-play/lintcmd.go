package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/mdo-play/mdo-play/modules"
	"github.com/mdo-play/mdo-play/playbook"
	"github.com/mdo-play/mdo-play/playbook/lint"
	"github.com/mdo-play/mdo-play/templates"
)

// exitFindings is lint's exit code when it found something.
const exitFindings = 2

// lintFlags are the flags of `mdo-play lint`.
func lintFlags() []cli.Flag {
	return append([]cli.Flag{
		&cli.StringSliceFlag{Name: "inventory", Aliases: []string{"i"}, Usage: "inventory source whose variables count as defined (repeatable)"},
		&cli.StringSliceFlag{Name: "extra-vars", Aliases: []string{"e"}, Usage: "variables as key=value, JSON/YAML, or @file that count as defined (repeatable)"},
		&cli.StringSliceFlag{Name: "skip", Usage: "do not report `RULE` (repeatable, or comma-separated)"},
		&cli.StringFlag{Name: "output", Value: "text", Usage: "output format: text (file:line:col: rule: message) or json (an array of findings)"},
	}, vaultSecretFlags()...)
}

// lintArgs moves lint's flags before its playbooks, so that
// `mdo-play lint site.yml --skip name-missing` works.
func lintArgs(args []string) []string {
	if len(args) < 2 {
		return args
	}
	return append([]string{args[0], args[1]}, reorderArgs(args[2:], lintFlags())...)
}

// lintCommand is `mdo-play lint PLAYBOOK...`: static checks that connect
// nowhere. Exit 0 when clean, 2 with findings, 6 when a playbook is not
// YAML at all (or missing), 5 on bad options.
func (a *app) lintCommand() *cli.Command {
	return &cli.Command{
		Name:      "lint",
		Usage:     "check playbooks without connecting anywhere (rules: docs/lint.md)",
		ArgsUsage: "PLAYBOOK...",
		Flags:     lintFlags(),
		Action:    a.lintCmd,
		OnUsageError: func(c *cli.Context, err error, isSub bool) error {
			return withCode(exitUsage, err)
		},
	}
}

func (a *app) lintCmd(c *cli.Context) error {
	if c.NArg() == 0 {
		return usageErr("no playbook given: usage: mdo-play lint [options] PLAYBOOK...")
	}
	output := c.String("output")
	if output != "text" && output != "json" {
		return usageErr("--output must be text or json, got %q", output)
	}
	skip := splitList(c.StringSlice("skip"))
	for _, r := range skip {
		if !lint.KnownRule(r) {
			var ids []string
			for _, x := range lint.Rules() {
				ids = append(ids, x.ID)
			}
			return usageErr("--skip: unknown rule %q (rules: %s)", r, strings.Join(ids, ", "))
		}
	}
	s, err := a.settings(c)
	if err != nil {
		return err
	}
	extra, err := a.extraVars(c.StringSlice("extra-vars"), s.files)
	if err != nil {
		return err
	}
	var defined []string
	if len(s.inventory) > 0 {
		inv, err := a.loadInventory(s)
		if err != nil {
			return err
		}
		seen := map[string]bool{}
		for _, h := range inv.Hosts() {
			for k := range inv.HostVars(h) {
				if !seen[k] {
					seen[k] = true
					defined = append(defined, k)
				}
			}
		}
	}
	l := &lint.Linter{
		Loader:    &playbook.Loader{Registry: modules.Builtin(), RolesPath: s.rolesPath, ReadFile: s.files.ReadFile, Templates: templates.New(), NoNotifyCheck: true},
		ExtraVars: extra,
		Defined:   defined,
		Skip:      skip,
	}
	if wd, err := os.Getwd(); err == nil {
		l.BaseDir = wd
	}
	all := []lint.Finding{}
	var parseErrs []error
	for _, path := range c.Args().Slice() {
		fs, err := l.Lint(c.Context, path)
		if err != nil {
			var pe *lint.ParseError
			if !errors.As(err, &pe) {
				return withCode(exitGeneric, err)
			}
			if errors.Is(err, os.ErrNotExist) {
				err = fmt.Errorf("the playbook %s could not be found", path)
			}
			parseErrs = append(parseErrs, err)
			continue
		}
		all = append(all, fs...)
	}
	lint.Sort(all)
	if output == "json" {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(all); err != nil {
			return withCode(exitGeneric, fmt.Errorf("write findings: %w", err))
		}
	} else {
		for _, f := range all {
			fmt.Fprintln(a.stdout, f.String())
		}
	}
	if len(parseErrs) > 0 {
		return withCode(exitParse, errors.Join(parseErrs...))
	}
	if len(all) > 0 {
		return &exitError{code: exitFindings, err: errSilent}
	}
	return nil
}
