package modules

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/mdo-play/mdo-play/templates/yaml11"
)

// IncludeVars is the include_vars module: variables loaded on the
// controller from a YAML/JSON file (`file` or free form) or from every
// .yml/.yaml/.json file of a directory (`dir`, sorted, later files win),
// returned as facts, optionally under one name. Relative paths are found
// through Env.Files ("vars" of the current role, then next to the task's
// file and the playbook). hash_behaviour merge merges each loaded mapping
// recursively into the variable of the same name, as Ansible's
// combine_vars does (lists are replaced).
type IncludeVars struct{}

var _ Module = IncludeVars{}

// includeVarsExtensions are the file extensions loaded by default.
var includeVarsExtensions = []any{"yaml", "yml", "json"}

// Spec describes include_vars' arguments.
func (IncludeVars) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "file", Type: TypePath},
			{Name: "dir", Type: TypePath},
			{Name: "name", Type: TypeStr},
			{Name: "depth", Type: TypeInt, Default: 0},
			{Name: "files_matching", Type: TypeStr},
			{Name: "ignore_files", Type: TypeList},
			{Name: "extensions", Type: TypeList},
			{Name: "ignore_unknown_extensions", Type: TypeBool, Default: false},
			{Name: "hash_behaviour", Type: TypeStr, Choices: []string{"replace", "merge"}},
		},
		FreeForm:          true,
		CheckMode:         true,
		Controller:        true,
		MutuallyExclusive: [][]string{{"file", "dir"}, {"file", "files_matching"}, {"file", "ignore_files"}, {"file", "depth"}},
	}
}

// Run loads the variables.
func (IncludeVars) Run(_ context.Context, env *Env, args Args) (Result, error) {
	file := args.String("file")
	if raw, ok := args[RawParams].(string); ok && file == "" {
		file = strings.TrimSpace(raw)
	}
	dir := args.String("dir")
	if file != "" && dir != "" {
		return ivFail("You are mixing file only and dir only arguments, these are incompatible", nil), nil
	}
	if file == "" && dir == "" {
		return ivFail("one of file, dir or a free-form file name is required", nil), nil
	}
	vars := map[string]any{}
	var included []any
	if dir != "" {
		found, err := ivFind(env, dir)
		if err != nil {
			return ivFail(fmt.Sprintf("%s directory does not exist", dir), nil), nil
		}
		st, err := os.Stat(found)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return ivFail(fmt.Sprintf("%s directory does not exist", found), nil), nil
		case err != nil:
			return ivFail(err.Error(), nil), nil
		case !st.IsDir():
			return ivFail(fmt.Sprintf("%s is not a directory", found), nil), nil
		}
		files, msg := ivDirFiles(found, args)
		if msg != "" {
			return ivFail(msg, nil), nil
		}
		for _, f := range files {
			m, err := loadVarsFile(f, env.ReadFile)
			if err != nil {
				return ivFail(err.Error(), included), nil
			}
			for k, v := range m {
				vars[k] = v
			}
			included = append(included, f)
		}
	} else {
		found, err := ivFind(env, file)
		if err != nil {
			return ivFail(fmt.Sprintf("Could not find or access '%s': %v", file, err), nil), nil
		}
		m, err := loadVarsFile(found, env.ReadFile)
		if err != nil {
			return ivFail(err.Error(), nil), nil
		}
		vars = m
		included = append(included, found)
	}
	if name := args.String("name"); name != "" {
		vars = map[string]any{name: vars}
	}
	if args.String("hash_behaviour") == "merge" && env.Vars != nil {
		all := env.Vars.All()
		for k, v := range vars {
			vars[k] = mergeHash(all[k], v)
		}
	}
	if included == nil {
		included = []any{}
	}
	return Result{
		Facts:  vars,
		Values: map[string]any{"ansible_facts": vars, "ansible_included_var_files": included},
	}, nil
}

func ivFail(msg string, included []any) Result {
	if included == nil {
		included = []any{}
	}
	return Result{Failed: true, Msg: msg, Values: map[string]any{
		"message": msg, "ansible_facts": map[string]any{}, "ansible_included_var_files": included,
	}}
}

func ivFind(env *Env, name string) (string, error) {
	if filepath.IsAbs(name) || env.Files == nil {
		return name, nil
	}
	return env.Files.Find("vars", name)
}

// ivDirFiles lists the files include_vars loads from dir, as Ansible walks
// it: directories sorted by path (depth counts the directories visited, as
// in Ansible), files sorted within each, filtered by files_matching,
// ignore_files (regular expressions anchored at the end of the name) and
// extensions. A file with another extension is an error unless
// ignore_unknown_extensions is set.
func ivDirFiles(dir string, args Args) ([]string, string) {
	var match *regexp.Regexp
	if p := args.String("files_matching"); p != "" {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, fmt.Sprintf("files_matching: invalid regular expression %q: %v", p, err)
		}
		match = re
	}
	var ignore []*regexp.Regexp
	for _, p := range args.Strings("ignore_files") {
		re, err := regexp.Compile("(?:" + p + ")$")
		if err != nil {
			return nil, fmt.Sprintf("Invalid regular expression: %s", p)
		}
		ignore = append(ignore, re)
	}
	exts := args.Strings("extensions")
	if !args.Has("extensions") {
		exts = nil
		for _, e := range includeVarsExtensions {
			exts = append(exts, e.(string))
		}
	}
	type dirFiles struct {
		root  string
		files []string
	}
	var walked []dirFiles
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // unreadable entries are skipped, as os.walk does
		}
		if d.IsDir() {
			walked = append(walked, dirFiles{root: p})
			return nil
		}
		for i := len(walked) - 1; i >= 0; i-- {
			if walked[i].root == filepath.Dir(p) {
				walked[i].files = append(walked[i].files, d.Name())
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, err.Error()
	}
	sort.Slice(walked, func(i, j int) bool { return walked[i].root < walked[j].root })
	depth := args.Int("depth")
	var out []string
	for i, w := range walked {
		if depth != 0 && i >= depth {
			break
		}
		sort.Strings(w.files)
		for _, name := range w.files {
			if match != nil && !match.MatchString(name) {
				continue
			}
			ignored := false
			for _, re := range ignore {
				if re.MatchString(name) {
					ignored = true
					break
				}
			}
			if ignored {
				continue
			}
			ext := strings.TrimPrefix(filepath.Ext(name), ".")
			if filepath.Ext(name) == "" || !contains(exts, ext) {
				if args.Bool("ignore_unknown_extensions") {
					continue
				}
				return nil, fmt.Sprintf("%s does not have a valid extension: %s", filepath.Join(w.root, name), strings.Join(exts, ", "))
			}
			out = append(out, filepath.Join(w.root, name))
		}
	}
	return out, ""
}

// LoadVarsFile reads a YAML or JSON variables file into a mapping, reading
// scalars as Ansible's YAML 1.1 loader does (unquoted yes/no/on/off are
// booleans). An empty file gives an empty mapping; a file whose top level
// is not a mapping is an error. Errors name the file, and the line for
// YAML syntax errors.
func LoadVarsFile(path string) (map[string]any, error) {
	return loadVarsFile(path, os.ReadFile)
}

// loadVarsFile is LoadVarsFile reading through read (the run's reader,
// which decrypts vault-encrypted files and inline !vault values).
func loadVarsFile(path string, read func(string) ([]byte, error)) (map[string]any, error) {
	data, err := read(path)
	if err != nil {
		return nil, fmt.Errorf("read vars file: %w", err)
	}
	if strings.HasPrefix(string(data), "$ANSIBLE_VAULT;") {
		return nil, fmt.Errorf("%s is vault-encrypted: give a password with --vault-password-file, --vault-id or --ask-vault-pass", path)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, varsYAMLError(path, err)
	}
	// Repeated keys: the last wins, as PyYAML (and include_vars) reads them.
	var errs []error
	d := yaml11.Decoder{LastKeyWins: true, Errorf: func(n *yaml.Node, msg string) {
		errs = append(errs, fmt.Errorf("%s:%d:%d: %s", path, n.Line, n.Column, msg))
	}}
	v := d.Value(&doc)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	switch x := v.(type) {
	case nil:
		return map[string]any{}, nil
	case map[string]any:
		return x, nil
	}
	return nil, fmt.Errorf("%s must be stored as a dictionary/hash", path)
}

// varsYAMLError turns yaml.v3's "yaml: line 3: msg" into "file:3: msg".
func varsYAMLError(file string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if i := strings.Index(rest, ":"); i > 0 {
			if _, err := strconv.Atoi(rest[:i]); err == nil {
				return fmt.Errorf("%s:%s: invalid YAML:%s", file, rest[:i], rest[i+1:])
			}
		}
	}
	return fmt.Errorf("%s: invalid YAML: %s", file, msg)
}

// mergeHash is Ansible's merge_hash: two mappings merge key by key,
// recursively, b winning; anything else is b.
func mergeHash(a, b any) any {
	am, ok1 := a.(map[string]any)
	bm, ok2 := b.(map[string]any)
	if !ok1 || !ok2 {
		return b
	}
	out := make(map[string]any, len(am)+len(bm))
	for k, v := range am {
		out[k] = v
	}
	for k, v := range bm {
		out[k] = mergeHash(am[k], v)
	}
	return out
}
