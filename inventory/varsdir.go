package inventory

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// varsDir holds the group_vars/ and host_vars/ found in one directory,
// already parsed, for the groups and hosts the inventory knows.
type varsDir struct {
	dir    string
	groups map[string]map[string]any
	hosts  map[string]map[string]any
}

const maxVarsDirDepth = 32

// varsExts are the extensions a vars file may have (besides none), in the
// order Ansible looks for them.
func varsExts() []string { return []string{".yml", ".yaml", ".json"} }

// loadVarsDir reads dir/group_vars and dir/host_vars for the inventory's
// groups, hosts and the implicit localhost names.
func (inv *Inventory) loadVarsDir(dir string) (*varsDir, error) {
	vd := &varsDir{dir: dir, groups: map[string]map[string]any{}, hosts: map[string]map[string]any{}}
	groupNames := make([]string, 0, len(inv.groupOrder))
	for _, g := range inv.groupOrder {
		groupNames = append(groupNames, g.Name)
	}
	hostNames := make([]string, 0, len(inv.hostOrder)+len(inv.implicit))
	for _, h := range inv.hostOrder {
		hostNames = append(hostNames, h.Name)
	}
	for _, name := range localhostNames() {
		if _, ok := inv.implicit[name]; ok {
			hostNames = append(hostNames, name)
		}
	}
	var errs []error
	for _, sub := range []struct {
		name  string
		names []string
		into  map[string]map[string]any
	}{{"group_vars", groupNames, vd.groups}, {"host_vars", hostNames, vd.hosts}} {
		if err := inv.loadEntityVars(filepath.Join(dir, sub.name), sub.names, sub.into); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return vd, nil
}

// loadEntityVars fills into[name] for every name that has vars in dir, as
// Ansible's host_group_vars plugin finds them: "name", "name.yml",
// "name.yaml" or "name.json" (first found wins); a directory means all its
// vars files in lexical order, recursively.
func (inv *Inventory) loadEntityVars(dir string, names []string, into map[string]map[string]any) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read vars directory: %w", err)
	}
	present := make(map[string]bool, len(entries))
	for _, e := range entries {
		present[e.Name()] = true
	}
	var errs []error
	for _, name := range names {
		if name == "" || strings.ContainsRune(name, filepath.Separator) || name == "." || name == ".." {
			continue
		}
		files, err := varsFilesFor(dir, name, present)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var vars map[string]any
		for _, f := range files {
			data, err := inv.readFile(f)
			if err != nil {
				errs = append(errs, fmt.Errorf("read vars file: %w", err))
				continue
			}
			m, err := decodeVarsFile(data)
			if err != nil {
				errs = append(errs, fileError(f, err))
				continue
			}
			if vars == nil && len(m) > 0 {
				vars = map[string]any{}
			}
			for k, v := range m {
				vars[k] = v
			}
		}
		if vars != nil {
			into[name] = vars
		}
	}
	return errors.Join(errs...)
}

func varsFilesFor(dir, name string, present map[string]bool) ([]string, error) {
	for _, ext := range append([]string{""}, varsExts()...) {
		if !present[name+ext] {
			continue
		}
		full := filepath.Join(dir, name+ext)
		info, err := os.Stat(full) // follow symlinks
		if err != nil {
			return nil, fmt.Errorf("vars file: %w", err)
		}
		if info.IsDir() {
			return varsFilesIn(full, 0)
		}
		return []string{full}, nil
	}
	return nil, nil
}

// varsFilesIn lists the vars files under dir: sorted, hidden and *~ files
// skipped, subdirectories without an extension searched, files kept when
// they have no extension or a YAML/JSON one. depth guards symlink loops.
func varsFilesIn(dir string, depth int) ([]string, error) {
	if depth > maxVarsDirDepth {
		return nil, fmt.Errorf("vars directory %s: nested more than %d levels (a symlink loop?)", dir, maxVarsDirDepth)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read vars directory: %w", err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, ".") || strings.HasSuffix(n, "~") {
			continue
		}
		full := filepath.Join(dir, n)
		info, err := os.Stat(full)
		if err != nil {
			return nil, fmt.Errorf("vars file: %w", err)
		}
		ext := filepath.Ext(n)
		switch {
		case info.IsDir() && ext == "":
			sub, err := varsFilesIn(full, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, sub...)
		case info.Mode().IsRegular() && (ext == "" || contains(varsExts(), ext)):
			out = append(out, full)
		}
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
