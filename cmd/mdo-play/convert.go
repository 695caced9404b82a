package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/pmezard/go-difflib/difflib"
	"github.com/urfave/cli/v2"

	"github.com/mdo-play/mdo-play/playbook/convert"
)

// exitLeftOver is convert's exit code when something was left for a human.
const exitLeftOver = 2

func convertFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "diff", Aliases: []string{"d"}, Usage: "print a unified diff of the changes (the default)"},
		&cli.BoolFlag{Name: "write", Aliases: []string{"w"}, Usage: "rewrite the files in place"},
		&cli.StringFlag{Name: "out", Usage: "write a converted copy of the whole tree to `DIR` (other files copied as they are)"},
	}
}

// convertArgs moves convert's flags before its paths, so that
// `mdo-play convert roles/web -w` works.
func convertArgs(args []string) []string {
	if len(args) < 2 {
		return args
	}
	return append([]string{args[0], args[1]}, reorderArgs(args[2:], convertFlags())...)
}

// convertCommand is `mdo-play convert [-d | -w | --out DIR] PATH...`: Jinja
// in playbooks, roles, vars files and templates to Go templates. Exit 0
// when everything converted, 2 when something was left for a human, 6 on
// unreadable input, 5 on bad options.
func (a *app) convertCommand() *cli.Command {
	return &cli.Command{
		Name:      "convert",
		Usage:     "convert Ansible content from Jinja2 to Go templates (docs/convert.md)",
		ArgsUsage: "PATH...",
		Flags:     convertFlags(),
		Action:    a.convertCmd,
		OnUsageError: func(c *cli.Context, err error, isSub bool) error {
			return withCode(exitUsage, err)
		},
	}
}

// convertJob is one file to convert: where it is read, its kind, and where
// --out writes it.
type convertJob struct {
	path string // as given, joined with its place in the tree
	kind convert.Kind
	out  string // destination under --out, or ""
	mode fs.FileMode
	link bool // a symbolic link: recreated under --out, never followed
}

func (a *app) convertCmd(c *cli.Context) error {
	if c.NArg() == 0 {
		return usageErr("no path given: usage: mdo-play convert [-d | -w | --out DIR] PATH...")
	}
	write, out := c.Bool("write"), c.String("out")
	n := 0
	for _, set := range []bool{c.Bool("diff"), write, out != ""} {
		if set {
			n++
		}
	}
	if n > 1 {
		return usageErr("-d, -w and --out are mutually exclusive")
	}
	paths := c.Args().Slice()
	if out != "" {
		absOut, _ := filepath.Abs(out)
		for _, p := range paths {
			if absP, _ := filepath.Abs(p); absP == absOut {
				return usageErr("--out %s is the tree being converted: give another directory", out)
			}
		}
	}
	var jobs []convertJob
	var unreadable []error
	for _, p := range paths {
		js, err := convertJobs(p, out, len(paths) > 1)
		if err != nil {
			unreadable = append(unreadable, err)
			continue
		}
		jobs = append(jobs, js...)
	}
	conv := convert.New()
	var problems []convert.Problem
	for _, j := range jobs {
		if err := a.ctx.Err(); err != nil {
			return err
		}
		probs, err := a.convertOne(conv, j, write)
		problems = append(problems, probs...)
		var pe *convert.ParseError
		switch {
		case errors.As(err, &pe):
			unreadable = append(unreadable, err)
		case err != nil:
			return withCode(exitGeneric, err) // could not write
		}
	}
	for _, p := range problems {
		fmt.Fprintln(a.stderr, p.String())
	}
	switch {
	case len(unreadable) > 0:
		return withCode(exitParse, errors.Join(unreadable...))
	case len(problems) > 0:
		fmt.Fprintf(a.stderr, "mdo-play convert: %d construct(s) left for a human, marked # mdo-convert:\n", len(problems))
		return &exitError{code: exitLeftOver, err: errSilent}
	}
	return nil
}

// convertJobs lists the files under path (a file or a tree). With --out,
// a single path's tree is copied to out itself, and several paths each to
// out/BASENAME.
func convertJobs(path, out string, several bool) ([]convertJob, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	root := out // where path's copy goes under --out
	if out != "" && (several || !fi.IsDir()) {
		root = filepath.Join(out, filepath.Base(filepath.Clean(path)))
	}
	dest := func(rel string) string {
		if out == "" {
			return ""
		}
		return filepath.Join(root, rel)
	}
	if !fi.IsDir() {
		return []convertJob{{path: path, kind: convert.Classify(filepath.Dir(path), filepath.Base(path)), out: dest("."), mode: fi.Mode()}}, nil
	}
	absOut := ""
	if out != "" {
		absOut, _ = filepath.Abs(out)
	}
	var jobs []convertJob
	// The trailing separator makes a symbolic link given as the root be
	// followed (links inside the tree are not).
	err = filepath.WalkDir(filepath.Clean(path)+string(filepath.Separator), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if abs, _ := filepath.Abs(p); absOut != "" && abs == absOut {
			return filepath.SkipDir // the copy being written inside the tree
		}
		rel, err := filepath.Rel(path, p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			if rel != "." && d.Name() == ".git" {
				return filepath.SkipDir
			}
			if out != "" {
				jobs = append(jobs, convertJob{path: p, out: dest(rel), mode: info.Mode()})
			}
		case d.Type()&fs.ModeSymlink != 0:
			if out != "" {
				jobs = append(jobs, convertJob{path: p, out: dest(rel), link: true})
			}
		case d.Type().IsRegular():
			jobs = append(jobs, convertJob{path: p, kind: convert.Classify(path, rel), out: dest(rel), mode: info.Mode()})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return jobs, nil
}

// convertOne converts (or, under --out, copies) one file and writes or
// shows the result. Input that cannot be read as what it should be is
// still copied under --out, so that the copy is complete.
func (a *app) convertOne(conv *convert.Converter, j convertJob, write bool) ([]convert.Problem, error) {
	switch {
	case j.link:
		target, err := os.Readlink(j.path)
		if err != nil {
			return nil, &convert.ParseError{File: j.path, Msg: "cannot read the link: " + err.Error()}
		}
		_ = os.Remove(j.out)
		return nil, os.Symlink(target, j.out)
	case j.mode.IsDir():
		return nil, os.MkdirAll(j.out, j.mode.Perm()|0o700)
	}
	src, err := os.ReadFile(j.path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, &convert.ParseError{File: j.path, Msg: "cannot read: " + err.Error()}
	}
	converted, probs, convErr := src, []convert.Problem(nil), error(nil)
	if j.kind != convert.Other {
		converted, probs, convErr = conv.File(j.path, j.kind, src)
		if convErr != nil {
			converted = src
		}
	}
	switch {
	case j.out != "":
		if err := os.MkdirAll(filepath.Dir(j.out), 0o755); err != nil {
			return probs, err
		}
		if err := writeAtomic(j.out, converted, j.mode.Perm()); err != nil {
			return probs, fmt.Errorf("write %s: %w", j.out, err)
		}
	case string(converted) == string(src):
	case write:
		if err := writeAtomic(j.path, converted, j.mode.Perm()); err != nil {
			return probs, fmt.Errorf("write %s: %w", j.path, err)
		}
	default:
		fmt.Fprint(a.stdout, fileDiff(j.path, string(src), string(converted)))
	}
	return probs, convErr
}

// fileDiff is the change to one file as gofmt -d shows it.
func fileDiff(path, before, after string) string {
	text, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A:        diffLines(before),
		B:        diffLines(after),
		FromFile: path + ".orig",
		ToFile:   path,
		Context:  3,
	})
	if err != nil || text == "" {
		return ""
	}
	return fmt.Sprintf("diff %s.orig %s\n%s", path, path, text)
}
