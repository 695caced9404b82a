// Package modules holds the Module interface, argument specs and validation,
// and the explicit registry of built-in modules (one file per module).
package modules

import (
	"context"
	"os"
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
// Builtin); there is no init-time registration.
type Registry struct {
	m map[string]Module
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{m: map[string]Module{}} }

// Register adds m under name (without the ansible.builtin. prefix).
func (r *Registry) Register(name string, m Module) { r.m[name] = m }

// Prefixes that may stand before a module name, as in Ansible's FQCNs.
var fqcnPrefixes = []string{"ansible.builtin.", "ansible.legacy."}

// Canonical strips a known collection prefix from a module name.
func Canonical(name string) string {
	for _, p := range fqcnPrefixes {
		if strings.HasPrefix(name, p) {
			return strings.TrimPrefix(name, p)
		}
	}
	return name
}

// Lookup finds a module by name; `ansible.builtin.shell` finds `shell`.
func (r *Registry) Lookup(name string) (Module, bool) {
	m, ok := r.m[Canonical(name)]
	return m, ok
}

// Has reports whether name (with or without prefix) is a module.
func (r *Registry) Has(name string) bool {
	_, ok := r.Lookup(name)
	return ok
}

// Names returns the registered names, sorted.
func (r *Registry) Names() []string {
	out := make([]string, 0, len(r.m))
	for k := range r.m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
