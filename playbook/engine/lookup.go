package engine

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/mdo-play/mdo-play/templates/yaml11"
)

// The with_* loops: each turns the rendered value of its keyword into the
// loop's items as the Ansible lookup of the same name does
// (ansible/plugins/lookup/*.py). files finds controller files the way the
// task's src arguments are found; dir is the playbook's directory (with_lines
// runs its commands there).

func withItems(ctx context.Context, kind string, v any, files fileFinder, dir string) ([]any, error) {
	terms := listify(v)
	switch kind {
	case "fileglob":
		return withFileglob(terms, files)
	case "first_found":
		return withFirstFound(v, files)
	case "lines":
		return withLines(ctx, terms, dir)
	}
	return nil, fmt.Errorf("unknown loop with_%s", kind)
}

// engineLoops are the with_* loops the engine runs itself (they find
// controller files as the task's src is found); the others go to the
// template engine's lookup of the same name.
var engineLoops = map[string]bool{"fileglob": true, "first_found": true, "lines": true}

// listify is the lookup's terms: a list as it is, anything else a list of one.
func listify(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out
	}
	return []any{v}
}

// withFileglob: the controller files matching each pattern, looked for in
// the files/ directories of the search path (a pattern with a directory:
// in that directory as src files are found).
func withFileglob(terms []any, files fileFinder) ([]any, error) {
	var out []any
	for _, t := range terms {
		term := fmt.Sprint(t)
		base := filepath.Base(term)
		var dirs []string
		if base != term {
			if d, err := files.Find("files", filepath.Dir(term)); err == nil {
				dirs = append(dirs, d)
			}
		} else {
			for _, d := range files.dirs {
				dirs = append(dirs, filepath.Join(d, "files"), d)
			}
		}
		for _, d := range dirs {
			matches, err := filepath.Glob(filepath.Join(d, base))
			if err != nil {
				return nil, fmt.Errorf("with_fileglob %q: %v", term, err)
			}
			var found []any
			for _, m := range matches {
				if fi, err := os.Stat(m); err == nil && fi.Mode().IsRegular() {
					found = append(found, m)
				}
			}
			if len(found) > 0 {
				out = append(out, found...)
				break
			}
		}
	}
	return out, nil
}

// withFirstFound: the first of the named files that exists, as one item.
// The value is a list of names, or a mapping with files, paths and skip.
func withFirstFound(v any, files fileFinder) ([]any, error) {
	var names, paths []string
	skip := false
	add := func(dst *[]string, x any) {
		for _, e := range listify(x) {
			for _, s := range strings.FieldsFunc(fmt.Sprint(e), func(r rune) bool { return r == ',' || r == ';' }) {
				*dst = append(*dst, strings.TrimSpace(s))
			}
		}
	}
	for _, t := range listify(v) {
		m, ok := t.(map[string]any)
		if !ok {
			names = append(names, fmt.Sprint(t))
			continue
		}
		add(&names, m["files"])
		add(&paths, m["paths"])
		if s, ok := m["skip"]; ok {
			b, err := yaml11.Bool(s)
			if err != nil {
				return nil, fmt.Errorf("with_first_found: skip: %v", err)
			}
			skip = b
		}
	}
	var candidates []string
	if len(paths) == 0 {
		candidates = names
	} else {
		for _, p := range paths {
			for _, n := range names {
				candidates = append(candidates, filepath.Join(p, n))
			}
		}
	}
	for _, c := range candidates {
		if filepath.IsAbs(c) {
			if _, err := os.Stat(c); err == nil {
				return []any{c}, nil
			}
			continue
		}
		if p, err := files.Find("files", c); err == nil {
			return []any{p}, nil
		}
	}
	if skip {
		return nil, nil
	}
	return nil, fmt.Errorf("with_first_found: no file was found among %s", strings.Join(candidates, ", "))
}

// withLines: each line of each command's output (run on the controller
// with /bin/sh, in the playbook's directory) is an item.
func withLines(ctx context.Context, terms []any, dir string) ([]any, error) {
	var out []any
	for _, t := range terms {
		cmd := exec.CommandContext(ctx, "/bin/sh", "-c", fmt.Sprint(t))
		cmd.Dir = dir
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		b, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("with_lines: %s: %v %s", fmt.Sprint(t), err, strings.TrimSpace(stderr.String()))
		}
		for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
			if l != "" || len(b) > 0 {
				out = append(out, l)
			}
		}
	}
	return out, nil
}
