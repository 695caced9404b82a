// Package modules holds the Module interface, argument specs and validation,
// and the explicit registry of built-in modules (one file per module).
package modules

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// Module is one built-in module such as command, copy or debug.
//
// Run returns an error only when the module could not run because the
// transport broke (the error then wraps conn.ErrUnreachable) or ctx was
// cancelled; a module that ran with a bad outcome returns a Result with
// Failed set and a Msg. Run must not change anything on the target when
// env.Check is set; modules whose Spec says CheckMode false are never called
// in check mode (the engine skips them, as Ansible does).
//
// Modules are stateless and safe for concurrent use: one value serves every
// host and task.
type Module interface {
	Spec() *Spec
	Run(ctx context.Context, env *Env, args Args) (Result, error)
}

// Env is what a module call may use besides its arguments.
type Env struct {
	Conn  conn.Conn // the host's connection (ssh, local, possibly become-wrapped)
	Check bool      // --check: report what would change, change nothing
	Diff  bool      // --diff: fill Result.Diff
	Host  string    // inventory hostname
	Vars  Vars      // the host's variables as seen by this task
	Files Files     // controller-side file lookup for src-style arguments
}

// Vars gives controller-side modules (debug, set_fact, assert, template)
// access to the task's variables through the one templating engine.
type Vars interface {
	// Cond evaluates a bare pipeline (`eq .env "prod"`) to a boolean.
	Cond(expr string) (bool, error)
	// Lookup returns the value of a variable expression as written in
	// debug's var: a name (`app_port`), a dotted path (`result.stdout`) or a
	// pipeline (`.result.stdout | upper`).
	Lookup(expr string) (any, error)
	// Render renders text (a template file's content) with the task's variables.
	Render(name, text string) (string, error)
	// All returns the merged variables (read-only).
	All() map[string]any
}

// Files finds controller-side files named by a module's src-style argument.
type Files interface {
	// Find returns the path of name looked up in kind ("files" or
	// "templates") of the current role, then next to the task's file and
	// the playbook. Absolute names are returned as they are.
	Find(kind, name string) (string, error)
}

// FileReader is implemented by Files that read controller-side files
// themselves, decrypting vault-encrypted ones.
type FileReader interface {
	ReadFile(path string) ([]byte, error)
}

// ReadFile reads a controller-side file (a copy or template source, a
// script) through env.Files when it can read files, so that
// vault-encrypted sources are decrypted; otherwise from disk.
func (e *Env) ReadFile(path string) ([]byte, error) {
	if r, ok := e.Files.(FileReader); ok {
		return r.ReadFile(path)
	}
	return os.ReadFile(path)
}

// Result is the outcome of one module call on one host.
type Result struct {
	Changed  bool
	Failed   bool
	Skipped  bool
	Msg      string
	Values   map[string]any // module-specific result keys (rc, stdout, path, ...)
	Facts    map[string]any // variables set on the host (set_fact, setup)
	Diff     []Diff         // before/after for --diff
	Warnings []string
}

// Diff is one before/after pair shown by --diff as a unified diff.
type Diff struct {
	BeforeHeader string
	AfterHeader  string
	Before       string
	After        string
}

// Map returns the result as it is registered: Values plus changed, failed,
// msg, skipped (when set) and diff.
func (r Result) Map() map[string]any {
	m := make(map[string]any, len(r.Values)+4)
	for k, v := range r.Values {
		m[k] = v
	}
	m["changed"] = r.Changed
	m["failed"] = r.Failed
	if r.Msg != "" {
		m["msg"] = r.Msg
	}
	if r.Skipped {
		m["skipped"] = true
	}
	if len(r.Warnings) > 0 {
		m["warnings"] = r.Warnings
	}
	return m
}

// Registry maps module names to modules. It is built explicitly (see
// Builtin); there is no init-time registration. Names resolve as Ansible
// resolves them: a short name (`sysctl`), or a fully qualified one in the
// module's collection (`ansible.posix.sysctl`, `ansible.builtin.shell`).
type Registry struct {
	m map[string]Module
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{m: map[string]Module{}} }

// Register adds m under its short name (`sysctl`, not `ansible.posix.sysctl`).
func (r *Registry) Register(name string, m Module) { r.m[name] = m }

// ErrNotBuiltin is wrapped by Resolve's error for a module that exists in
// Ansible (the name is fully qualified, or it is a known collection's
// module) but is not built into mdo-play. ErrUnknownModule is wrapped when
// the name is no module at all.
var (
	ErrNotBuiltin    = errors.New("not built in")
	ErrUnknownModule = errors.New("unknown module")
)

// collectionPart is a namespace or collection name: a Python identifier.
var collectionPart = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// splitFQCN splits `ns.coll.module` into its collection and module name.
// ok is false for a short name. A module in a subdirectory of an old
// collection (`community.general.system.ufw`) keeps only its last part.
func splitFQCN(name string) (coll, mod string, ok bool) {
	parts := strings.Split(name, ".")
	if len(parts) < 3 || !collectionPart.MatchString(parts[0]) || !collectionPart.MatchString(parts[1]) {
		return "", name, false
	}
	return parts[0] + "." + parts[1], parts[len(parts)-1], true
}

// builtinCollection reports whether coll is ansible.builtin or its
// ansible.legacy alias, under which every short name Ansible knows resolves
// (its runtime redirects the modules that moved to other collections).
func builtinCollection(coll string) bool {
	return coll == "ansible.builtin" || coll == "ansible.legacy"
}

// CollectionOf returns the collection a module name belongs to in Ansible:
// the collection of a fully qualified name, or for a short name the first
// known collection holding it ("" when none does).
func CollectionOf(name string) string {
	if coll, _, ok := splitFQCN(name); ok {
		return coll
	}
	for _, c := range knownCollections {
		if inList(c.modules, name) {
			return c.name
		}
	}
	return ""
}

// collectionHas reports whether the known collection coll holds mod, and
// whether coll is a collection whose modules are known at all.
func collectionHas(coll, mod string) (has, known bool) {
	for _, c := range knownCollections {
		if c.name == coll {
			return inList(c.modules, mod), true
		}
	}
	return false, false
}

// inList reports whether word is one of the space-separated words of list.
func inList(list, word string) bool {
	for len(list) > 0 {
		w, rest, _ := strings.Cut(list, " ")
		if w == word {
			return true
		}
		list = rest
	}
	return false
}

// Canonical returns the short name of a module name: the collection prefix
// is removed when the name is in ansible.builtin (or ansible.legacy) or in
// the collection that holds the module; other names come back unchanged.
func Canonical(name string) string {
	coll, mod, ok := splitFQCN(name)
	if !ok {
		return name
	}
	if builtinCollection(coll) {
		return mod
	}
	if has, _ := collectionHas(coll, mod); has {
		return mod
	}
	return name
}

// Resolve finds the module a task names: `shell`, `ansible.builtin.shell`,
// `ansible.posix.sysctl` and `sysctl` all resolve when mdo-play has the
// module. A module Ansible has and mdo-play lacks is an error wrapping
// ErrNotBuiltin that names it and its collection (`module
// community.mysql.mysql_user (collection community.mysql) is not built
// in`); a name that is no module wraps ErrUnknownModule. Both suggest the
// nearest built-in name when one is close.
func (r *Registry) Resolve(name string) (Module, error) {
	coll, mod, fq := splitFQCN(name)
	if !fq {
		if m, ok := r.m[name]; ok {
			return m, nil
		}
		if c := CollectionOf(name); c != "" {
			return nil, fmt.Errorf("module %s (collection %s) is %w%s", c+"."+name, c, ErrNotBuiltin, r.suggest(name))
		}
		return nil, fmt.Errorf("%w %q%s", ErrUnknownModule, name, r.suggest(name))
	}
	m, have := r.m[mod]
	if builtinCollection(coll) {
		if have {
			return m, nil
		}
		if c := CollectionOf(mod); c != "" {
			return nil, fmt.Errorf("module %s (collection %s) is %w%s", c+"."+mod, c, ErrNotBuiltin, r.suggest(mod))
		}
		return nil, fmt.Errorf("module %s is %w: %s has no module %s%s", name, ErrNotBuiltin, coll, mod, r.suggest(mod))
	}
	has, known := collectionHas(coll, mod)
	switch {
	case has && have:
		return m, nil
	case known && !has && have:
		return nil, fmt.Errorf("module %s is %w: %s has no module %s (did you mean %q?)", name, ErrNotBuiltin, coll, mod, CollectionOf(mod)+"."+mod)
	case known && !has:
		return nil, fmt.Errorf("module %s is %w: %s has no module %s%s", name, ErrNotBuiltin, coll, mod, r.suggest(mod))
	}
	return nil, fmt.Errorf("module %s (collection %s) is %w%s", name, coll, ErrNotBuiltin, r.suggest(mod))
}

// suggest returns ` (did you mean "x"?)` for the built-in name nearest to
// name, or "" when none is close.
func (r *Registry) suggest(name string) string { return Suggest(name, r.Names()) }

// Suggest returns ` (did you mean "x"?)` for Nearest(s, candidates), or ""
// when none is close. It is the one "did you mean" of the loader, the
// registry and lint.
func Suggest(s string, candidates []string) string {
	best := Nearest(s, candidates)
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// Nearest returns the candidate nearest to s by edit distance, or "" when
// none is within a third of s's length (at least 2 edits).
func Nearest(s string, candidates []string) string {
	best, bestD := "", 1<<30
	for _, c := range candidates {
		if d := levenshtein(s, c); d < bestD {
			best, bestD = c, d
		}
	}
	if bestD > max(len(s)/3, 2) {
		return ""
	}
	return best
}

// levenshtein is the edit distance between a and b, in runes.
func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// Lookup finds a module by name as Resolve does; ok is false when Resolve
// fails.
func (r *Registry) Lookup(name string) (Module, bool) {
	m, err := r.Resolve(name)
	return m, err == nil
}

// Has reports whether name (short or fully qualified) is a built-in module.
func (r *Registry) Has(name string) bool {
	_, ok := r.Lookup(name)
	return ok
}

// Names returns the registered short names, sorted.
func (r *Registry) Names() []string {
	out := make([]string, 0, len(r.m))
	for k := range r.m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
