package inventory

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// DefaultExecTimeout bounds one run of an executable inventory when
// Options.ExecTimeout is zero.
const DefaultExecTimeout = 60 * time.Second

// Options tune Load.
type Options struct {
	// ReadFile reads inventory and vars files; default os.ReadFile. Vault
	// decryption plugs in here.
	ReadFile func(path string) ([]byte, error)
	// ExecTimeout bounds each run of an executable inventory (--list or
	// --host H); zero means DefaultExecTimeout.
	ExecTimeout time.Duration
}

// Load reads every source into one inventory. A source is a file (INI,
// YAML/JSON, or an executable printing JSON), a directory of such files
// (hidden files and Ansible's ignored extensions skipped), or a
// comma-separated host list such as "h1,h2," (a string with a comma that is
// not an existing path). group_vars/ and host_vars/ next to each source are
// loaded too.
func Load(ctx context.Context, sources []string, opts Options) (*Inventory, error) {
	if opts.ReadFile == nil {
		opts.ReadFile = os.ReadFile
	}
	if opts.ExecTimeout == 0 {
		opts.ExecTimeout = DefaultExecTimeout
	}
	inv := newInventory(opts.ReadFile)
	var varsDirs []string
	for _, src := range sources {
		if strings.Contains(src, ",") {
			if _, err := os.Stat(src); errors.Is(err, fs.ErrNotExist) {
				inv.parseHostList(src)
				continue
			}
		}
		info, err := os.Stat(src)
		if err != nil {
			return nil, fmt.Errorf("inventory source: %w", err)
		}
		if info.IsDir() {
			if err := inv.loadDir(ctx, src, opts, map[string]bool{}); err != nil {
				return nil, err
			}
			varsDirs = append(varsDirs, src)
			continue
		}
		if err := inv.loadFile(ctx, src, info, opts); err != nil {
			return nil, err
		}
		varsDirs = append(varsDirs, filepath.Dir(src))
	}
	inv.finish()
	seen := map[string]bool{}
	for _, d := range varsDirs {
		key := cleanAbs(d)
		if seen[key] {
			continue
		}
		seen[key] = true
		vd, err := inv.loadVarsDir(d)
		if err != nil {
			return nil, err
		}
		inv.invDirs = append(inv.invDirs, vd)
	}
	return inv, nil
}

// AddVarsDir loads group_vars/ and host_vars/ from dir (the playbook's
// directory); they take precedence over those next to the inventory, and
// over earlier AddVarsDir directories. Call it before the inventory is
// shared between goroutines. Adding the same directory twice is a no-op.
func (inv *Inventory) AddVarsDir(dir string) error {
	key := cleanAbs(dir)
	for _, d := range inv.playDirs {
		if cleanAbs(d.dir) == key {
			return nil
		}
	}
	vd, err := inv.loadVarsDir(dir)
	if err != nil {
		return err
	}
	inv.playDirs = append(inv.playDirs, vd)
	return nil
}

func cleanAbs(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return filepath.Clean(p)
}

func dirOf(p string) string { return filepath.Dir(p) }

// parseHostList adds "h1,h2:2222," hosts to ungrouped.
func (inv *Inventory) parseHostList(src string) {
	for _, h := range strings.Split(src, ",") {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		name, port, ok := parseAddress(h, false)
		if !ok {
			name, port = h, 0
		}
		if _, exists := inv.hosts[name]; exists {
			continue
		}
		inv.addHostPort(name, inv.ungrouped, port)
	}
}

// ignoredInDir reports whether a directory entry is skipped as an inventory
// source, as Ansible's INVENTORY_IGNORE_EXTS and fixed names decide.
func ignoredInDir(name string) bool {
	if strings.HasPrefix(name, ".") {
		return true
	}
	switch name {
	case "host_vars", "group_vars", "vars_plugins":
		return true
	}
	for _, ext := range []string{".pyc", ".pyo", ".swp", ".bak", "~", ".rpm", ".md", ".txt", ".rst", ".orig", ".ini", ".cfg", ".retry"} {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}

// loadDir loads every usable entry of dir, in sorted order, recursively;
// seen holds the real paths of directories already visited (symlink loops).
func (inv *Inventory) loadDir(ctx context.Context, dir string, opts Options, seen map[string]bool) error {
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		if seen[real] {
			return nil
		}
		seen[real] = true
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("inventory directory: %w", err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	for _, name := range names {
		if ignoredInDir(name) {
			continue
		}
		full := filepath.Join(dir, name)
		info, err := os.Stat(full)
		if err != nil {
			return fmt.Errorf("inventory source: %w", err)
		}
		if info.IsDir() {
			if err := inv.loadDir(ctx, full, opts, seen); err != nil {
				return err
			}
			continue
		}
		if err := inv.loadFile(ctx, full, info, opts); err != nil {
			return err
		}
	}
	return nil
}

// loadFile picks the parser for one file: executable with a #! line →
// script; .yml/.yaml/.json → YAML; no extension → YAML when it reads as a
// mapping of group definitions, INI otherwise; anything else → INI.
func (inv *Inventory) loadFile(ctx context.Context, path string, info fs.FileInfo, opts Options) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("inventory source: %w", err)
	}
	inv.current = abs
	defer func() { inv.current = "" }()
	if info.Mode()&0o111 != 0 && hasShebang(path) {
		return inv.runScript(ctx, abs, opts.ExecTimeout)
	}
	data, err := opts.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read inventory: %w", err)
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yml", ".yaml", ".json":
		return inv.parseYAML(path, data)
	case "":
		if looksLikeYAMLInventory(data) {
			return inv.parseYAML(path, data)
		}
	}
	return inv.parseINI(path, data)
}

func hasShebang(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	buf := make([]byte, 2)
	n, _ := f.Read(buf)
	return bytes.Equal(buf[:n], []byte("#!"))
}

// looksLikeYAMLInventory reports whether an extension-less file is a YAML
// inventory: a mapping whose values are all mappings or empty. (Ansible
// tries YAML first and falls back to INI; this avoids reading an INI file
// of "host:port" lines as an empty YAML inventory.)
func looksLikeYAMLInventory(data []byte) bool {
	root, err := parseYAMLDoc(data)
	if err != nil || root == nil || root.Kind != yaml.MappingNode || len(root.Content) == 0 {
		return false
	}
	for i := 1; i < len(root.Content); i += 2 {
		v := deref(root.Content[i])
		if v == nil || (v.Kind != yaml.MappingNode && !isNull(v)) {
			return false
		}
	}
	return true
}
