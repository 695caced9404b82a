package engine

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/mdo-play/mdo-play/modules"
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
	case "dict":
		return withDict(terms)
	case "together":
		return withTogether(terms)
	case "nested":
		return withNested(terms)
	case "subelements":
		return withSubelements(v)
	case "sequence":
		return withSequence(terms)
	case "fileglob":
		return withFileglob(terms, files)
	case "first_found":
		return withFirstFound(v, files)
	case "lines":
		return withLines(ctx, terms, dir)
	}
	return nil, fmt.Errorf("unknown loop with_%s", kind)
}

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

// withDict: one {key, value} item per entry (sorted by key: our mappings
// keep no order).
func withDict(terms []any) ([]any, error) {
	var out []any
	for _, t := range terms {
		m, ok := t.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("with_dict expects a mapping, got %s", modules.TypeName(t))
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out = append(out, map[string]any{"key": k, "value": m[k]})
		}
	}
	return out, nil
}

// flatten is LookupBase._flatten: one level of lists spliced in.
func flatten(terms []any) []any {
	var out []any
	for _, t := range terms {
		if l, ok := t.([]any); ok {
			out = append(out, l...)
		} else {
			out = append(out, t)
		}
	}
	return out
}

// withTogether zips the lists, the shorter ones padded with null.
func withTogether(terms []any) ([]any, error) {
	if len(terms) == 0 {
		return nil, fmt.Errorf("with_together requires at least one element in each list")
	}
	n := 0
	for _, t := range terms {
		n = max(n, len(listify(t)))
	}
	out := make([]any, n)
	for i := range n {
		row := make([]any, len(terms))
		for j, t := range terms {
			if l := listify(t); i < len(l) {
				row[j] = l[i]
			}
		}
		out[i] = flatten(row)
	}
	return out, nil
}

// withNested is the cartesian product of the lists, in order.
func withNested(terms []any) ([]any, error) {
	if len(terms) == 0 {
		return nil, fmt.Errorf("with_nested requires at least one element in the nested list")
	}
	result := listify(terms[0])
	for _, t := range terms[1:] {
		var next []any
		for _, x := range result {
			for _, y := range listify(t) {
				next = append(next, flatten([]any{x, y}))
			}
		}
		result = next
	}
	out := make([]any, len(result))
	for i, x := range result {
		out[i] = flatten(listify(x))
	}
	return out, nil
}

// withSubelements: [list, "key.path"(, {skip_missing: bool})] gives one
// [element, subelement] item per entry of each element's list; the
// element is given without that key, as Ansible pops it.
func withSubelements(v any) ([]any, error) {
	terms, ok := v.([]any)
	if !ok || len(terms) < 2 || len(terms) > 3 {
		return nil, fmt.Errorf("with_subelements expects a list of two or three items: a list or mapping, the subkey, and optionally {skip_missing: true}")
	}
	key, ok := terms[1].(string)
	if !ok {
		return nil, fmt.Errorf("with_subelements: the second item must be a string naming the subkey, got %s", modules.TypeName(terms[1]))
	}
	var elements []any
	switch x := terms[0].(type) {
	case []any:
		elements = x
	case map[string]any:
		if s, ok := x["skipped"]; ok && s != false {
			return nil, nil
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			elements = append(elements, x[k])
		}
	default:
		return nil, fmt.Errorf("with_subelements: the first item must be a list or a mapping, got %s", modules.TypeName(terms[0]))
	}
	skipMissing := false
	if len(terms) == 3 {
		flags, ok := terms[2].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("with_subelements: the optional third item must be a mapping with skip_missing")
		}
		for k, fv := range flags {
			if k != "skip_missing" {
				return nil, fmt.Errorf("with_subelements: unknown flag %q (valid: skip_missing)", k)
			}
			b, err := yaml11.Bool(fv)
			skipMissing = err == nil && b
		}
	}
	path := strings.Split(key, ".")
	var out []any
	for _, e := range elements {
		elem, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("with_subelements expects mappings in the list, got %s %v", modules.TypeName(e), e)
		}
		if s, ok := elem["skipped"]; ok && s != false {
			continue
		}
		item0 := deepCopyMap(elem)
		cur := item0
		var sub []any
		for i, k := range path {
			val, ok := cur[k]
			if !ok {
				if skipMissing {
					break
				}
				return nil, fmt.Errorf("with_subelements: could not find %q key in iterated item %v", k, cur)
			}
			if i < len(path)-1 {
				next, ok := val.(map[string]any)
				if !ok {
					if skipMissing {
						break
					}
					return nil, fmt.Errorf("with_subelements: the key %s should point to a mapping, got %v", k, val)
				}
				cur = next
				continue
			}
			l, ok := val.([]any)
			if !ok {
				return nil, fmt.Errorf("with_subelements: the key %s should point to a list, got %v", k, val)
			}
			sub = l
			delete(cur, k)
		}
		for _, s := range sub {
			out = append(out, []any{item0, s})
		}
	}
	return out, nil
}

func deepCopyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok {
			v = deepCopyMap(sub)
		}
		out[k] = v
	}
	return out
}

// Python's int(x, 0) for with_sequence's numbers.
func seqInt(name, s string) (int, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 0, 64)
	if err != nil {
		return 0, fmt.Errorf("with_sequence: can't parse %s=%s as integer", name, s)
	}
	return int(n), nil
}

var seqShortcut = regexp.MustCompile(`(?i)^(?:(0?x?[0-9a-f]+)-)?(0?x?[0-9a-f]+)(?:/(0?x?[0-9a-f]+))?(?::(.+))?$`)

// withSequence: "start=1 end=10 stride=2 format=web%02d", "count=3", or
// the shortcut "[start-]end[/stride][:format]"; items are strings.
func withSequence(terms []any) ([]any, error) {
	var out []any
	for _, t := range terms {
		term := strings.TrimSpace(fmt.Sprint(t))
		start, stride, format := 1, 1, "%d"
		var end, count *int
		if m := seqShortcut.FindStringSubmatch(term); m != nil {
			if m[1] != "" {
				n, err := seqInt("start", m[1])
				if err != nil {
					return nil, err
				}
				start = n
			}
			n, err := seqInt("end", m[2])
			if err != nil {
				return nil, err
			}
			end = &n
			if m[3] != "" {
				if stride, err = seqInt("stride", m[3]); err != nil {
					return nil, err
				}
			}
			if m[4] != "" {
				format = m[4]
			}
		} else {
			kv, err := modules.ParseKV(term)
			if err != nil {
				return nil, fmt.Errorf("with_sequence: %v", err)
			}
			for k, v := range kv {
				s := fmt.Sprint(v)
				switch k {
				case "start":
					if start, err = seqInt(k, s); err != nil {
						return nil, err
					}
				case "end", "count":
					n, err := seqInt(k, s)
					if err != nil {
						return nil, err
					}
					if k == "end" {
						end = &n
					} else {
						count = &n
					}
				case "stride":
					if stride, err = seqInt(k, s); err != nil {
						return nil, err
					}
				case "format":
					format = s
				default:
					return nil, fmt.Errorf("with_sequence: unrecognized argument %q", k)
				}
			}
		}
		switch {
		case end == nil && count == nil:
			return nil, fmt.Errorf("with_sequence: must specify count or end")
		case end != nil && count != nil:
			return nil, fmt.Errorf("with_sequence: can't specify both count and end")
		case count != nil:
			if *count == 0 {
				continue
			}
			e := start + *count*stride - 1
			end = &e
		}
		if stride > 0 && *end < start {
			return nil, fmt.Errorf("with_sequence: to count backwards make stride negative")
		}
		if stride < 0 && *end > start {
			return nil, fmt.Errorf("with_sequence: to count forward don't make stride negative")
		}
		if strings.Count(format, "%") != 1 {
			return nil, fmt.Errorf("with_sequence: bad formatting string: %s", format)
		}
		switch {
		case stride > 0:
			for i := start; i <= *end; i += stride {
				out = append(out, fmt.Sprintf(format, i))
			}
		case stride < 0:
			for i := start; i >= *end; i += stride {
				out = append(out, fmt.Sprintf(format, i))
			}
		}
	}
	return out, nil
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
