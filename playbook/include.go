package playbook

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/mdo-play/mdo-play/modules"
	"github.com/mdo-play/mdo-play/templates/yaml11"
)

// Actions the engine handles itself rather than a module.
var engineActions = map[string]bool{
	"include_tasks": true, "import_tasks": true, "include_role": true, "import_role": true, "meta": true,
}

// metaActions are the meta: actions the engine knows.
var metaActions = []string{"flush_handlers", "end_play", "end_host", "end_batch", "clear_host_errors", "noop", "refresh_inventory", "clear_facts", "reset_connection"}

// importPlaybook loads the plays of `- import_playbook: file.yml`.
func (p *parser) importPlaybook(n *yaml.Node) []*Play {
	var file string
	var fn *yaml.Node
	p.d.mapping(n, func(k string, kn, vn *yaml.Node) {
		switch k {
		case "import_playbook", "ansible.builtin.import_playbook":
			file, fn = p.str(vn), vn
		case "name", "vars", "tags", "when":
			// Accepted; vars/tags/when on import_playbook are not applied.
		default:
			p.d.errorf(kn, "unknown import_playbook keyword %q", k)
		}
	})
	if file == "" {
		p.d.errorf(n, "import_playbook needs a file name")
		return nil
	}
	sub, root := p.open(p.relPath(file), "import_playbook", fn)
	if sub == nil {
		return nil
	}
	if root == nil || root.Kind != yaml.SequenceNode {
		if root == nil {
			root = &yaml.Node{Line: 1, Column: 1}
		}
		sub.d.errorf(root, "a playbook must be a list of plays, got a %s", yaml11.KindName(root))
		p.d.errs = append(p.d.errs, sub.d.errs...)
		return nil
	}
	var plays []*Play
	for _, c := range root.Content {
		plays = append(plays, sub.playOrImport(resolve(c))...)
	}
	p.d.errs = append(p.d.errs, sub.d.errs...)
	return plays
}

// playOrImport parses a play, or the plays an import_playbook entry brings.
func (p *parser) playOrImport(n *yaml.Node) []*Play {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i].Value; k == "import_playbook" || k == "ansible.builtin.import_playbook" {
				return p.importPlaybook(n)
			}
		}
	}
	if play := p.play(n); play != nil {
		return []*Play{play}
	}
	return nil
}

// sub returns a parser for another file that shares this one's settings.
func (p *parser) sub(path string) *parser {
	return &parser{l: p.l, d: &decoder{file: path}, pbDir: p.pbDir, stack: append(append([]string{}, p.stack...), path), roles: p.roles, handlers: p.handlers}
}

func (p *parser) inStack(path string) bool {
	for _, s := range p.stack {
		if s == path {
			return true
		}
	}
	return false
}

// relPath resolves a file named in the current file, relative to its
// directory.
func (p *parser) relPath(name string) string {
	if filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(filepath.Dir(p.d.file), name)
}

// open reads and parses another file named at node at (by what: an import
// or include) and returns a parser for it and its root node (nil for an
// empty file). A nil parser means the error is already recorded.
func (p *parser) open(path, what string, at *yaml.Node) (*parser, *yaml.Node) {
	prefix := ""
	if what != "" {
		prefix = what + ": "
	}
	if p.inStack(path) {
		p.d.errorf(at, "%s%s includes itself", prefix, path)
		return nil, nil
	}
	data, err := p.l.readFile(path)
	if err != nil {
		p.d.errorf(at, "%s%v", prefix, err)
		return nil, nil
	}
	doc, err := parseYAML(path, data)
	if err != nil {
		p.d.errs = append(p.d.errs, err)
		return nil, nil
	}
	root := resolve(doc)
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return p.sub(path), nil
		}
		root = resolve(root.Content[0])
	}
	return p.sub(path), root
}

// taskFile parses a file holding a list of tasks.
func (p *parser) taskFile(path string, handler bool, at *yaml.Node) []*Task {
	sub, root := p.open(path, "", at)
	if sub == nil || root == nil {
		return nil
	}
	tasks := sub.tasks(root, handler)
	p.d.errs = append(p.d.errs, sub.d.errs...)
	return tasks
}

// action handles a task whose action is one the engine runs itself.
func (p *parser) action(t *Task, k string, kn, vn *yaml.Node, handler bool) {
	t.ModuleKey = k
	t.ModulePos = p.d.pos(kn)
	switch modules.Canonical(k) {
	case "meta":
		name := p.str(vn)
		ok := false
		for _, m := range metaActions {
			ok = ok || m == name
		}
		if !ok {
			p.d.errorf(vn, "unknown meta action %q%s (valid: %s)", name, suggest(name, metaActions), strings.Join(metaActions, ", "))
		}
		t.Module = "meta"
		t.Args = map[string]any{modules.RawParams: name}
	case "import_tasks":
		file := p.str(vn)
		if strings.Contains(file, "{{") {
			p.d.errorf(vn, "import_tasks is static: its file name cannot be a template (use include_tasks)")
			return
		}
		t.Module, t.ModuleKey = "", ""
		t.Block = p.taskFile(p.relPath(file), handler, vn)
		if t.Block == nil {
			t.Block = []*Task{}
		}
	case "include_tasks":
		t.Module = "include_tasks"
		t.Args = map[string]any{}
		switch vn.Kind {
		case yaml.ScalarNode:
			t.Args["file"] = vn.Value
		case yaml.MappingNode:
			p.d.mapping(vn, func(k string, kn, v *yaml.Node) {
				switch k {
				case "file", "_raw_params":
					t.Args["file"] = p.str(v)
				case "apply":
					t.Apply = p.task(resolve(v), handler, true)
				default:
					p.d.errorf(kn, "include_tasks: unsupported argument %q (valid: file, apply)", k)
				}
			})
		default:
			p.d.errorf(vn, "include_tasks takes a file name or a mapping with file and apply")
		}
		if f, _ := t.Args["file"].(string); f == "" {
			p.d.errorf(vn, "include_tasks needs a file")
		} else if !strings.Contains(f, "{{") {
			t.Args["file"] = p.relPath(f)
		} else {
			t.Args["dir"] = filepath.Dir(p.d.file)
		}
	case "import_role", "include_role":
		// Both are resolved when the playbook is loaded: the role's tasks
		// become a block that inherits the task's when, tags and vars.
		t.Module, t.ModuleKey = "", ""
		var name, tasksFrom string
		if vn.Kind != yaml.MappingNode {
			p.d.errorf(vn, "%s takes a mapping with name", k)
			return
		}
		p.d.mapping(vn, func(k2 string, kn, v *yaml.Node) {
			switch k2 {
			case "name":
				name = p.str(v)
			case "tasks_from":
				tasksFrom = p.str(v)
			case "vars_from", "defaults_from", "handlers_from", "allow_duplicates", "public", "apply", "rolespec_validate":
			default:
				p.d.errorf(kn, "%s: unsupported argument %q (valid: name, tasks_from)", k, k2)
			}
		})
		blocks := p.role(name, tasksFrom, nil, vn, false)
		t.Block = blocks
		if t.Block == nil {
			t.Block = []*Task{}
		}
	}
}

// roleEntries parses a play's roles: list into blocks.
func (p *parser) roleEntries(n *yaml.Node) []*Task {
	n = resolve(n)
	if n.Kind != yaml.SequenceNode {
		p.d.errorf(n, "roles must be a list, got a %s", yaml11.KindName(n))
		return nil
	}
	var out []*Task
	for _, c := range n.Content {
		c = resolve(c)
		if c.Kind == yaml.ScalarNode {
			out = append(out, p.role(c.Value, "", nil, c, true)...)
			continue
		}
		if c.Kind != yaml.MappingNode {
			p.d.errorf(c, "a role entry must be a name or a mapping, got a %s", yaml11.KindName(c))
			continue
		}
		// A mapping: role/name, keywords (when, tags, vars, become...) and
		// any other key is a role parameter.
		wrap := &Task{Pos: p.d.pos(c)}
		var name string
		params := map[string]any{}
		var vars []Var
		p.d.mapping(c, func(k string, kn, vn *yaml.Node) {
			vn = resolve(vn)
			switch k {
			case "role", "name":
				name = p.str(vn)
			case "when":
				wrap.When = p.exprs(vn)
			case "tags":
				wrap.Tags = p.tags(vn)
			case "vars":
				vars = append(vars, p.vars(vn)...)
			case "become":
				wrap.Become = p.value(vn)
			case "become_user":
				wrap.BecomeUser = p.value(vn)
			case "environment":
				wrap.Environment = p.value(vn)
			case "ignore_errors":
				wrap.IgnoreErrors = p.value(vn)
			case "delegate_to":
				wrap.DelegateTo = p.value(vn)
			default:
				params[k] = p.d.value(vn)
				vars = append(vars, Var{Pos: p.d.pos(kn), Name: k, Value: params[k]})
			}
		})
		if name == "" {
			p.d.errorf(c, "a role entry needs role: NAME")
			continue
		}
		blocks := p.role(name, "", params, c, true)
		if blocks == nil {
			continue
		}
		wrap.Vars = vars
		wrap.Block = blocks
		out = append(out, wrap)
	}
	return out
}

// roleFile returns dir/sub/main.yml (or main.yaml, main) if it exists.
func roleFile(dir, sub, base string) string {
	if base == "" {
		base = "main"
	}
	for _, name := range []string{base + ".yml", base + ".yaml", base} {
		p := filepath.Join(dir, sub, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	return ""
}

// findRole looks for a role directory.
func (p *parser) findRole(name string) (string, []string) {
	if filepath.IsAbs(name) {
		return name, []string{name}
	}
	var dirs []string
	dirs = append(dirs, filepath.Join(filepath.Dir(p.d.file), "roles", name))
	if p.pbDir != "" {
		dirs = append(dirs, filepath.Join(p.pbDir, "roles", name))
	}
	for _, rp := range p.l.RolesPath {
		dirs = append(dirs, filepath.Join(rp, name))
	}
	if p.pbDir != "" {
		dirs = append(dirs, filepath.Join(p.pbDir, name))
	}
	for _, d := range dirs {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			abs, _ := filepath.Abs(d)
			return abs, dirs
		}
	}
	return "", dirs
}

// role loads a role's dependencies and tasks as blocks, and collects its
// handlers. dedupe applies Ansible's rule that a role listed twice with the
// same parameters runs once.
func (p *parser) role(name, tasksFrom string, params map[string]any, at *yaml.Node, dedupe bool) []*Task {
	if name == "" {
		p.d.errorf(at, "role name missing")
		return nil
	}
	dir, tried := p.findRole(name)
	if dir == "" {
		p.d.errorf(at, "role %q not found (looked in %s)", name, strings.Join(tried, ", "))
		return nil
	}
	key := dir + "\x00" + tasksFrom
	if params != nil {
		b, _ := json.Marshal(params)
		key += "\x00" + string(b)
	}
	if dedupe {
		if (*p.roles)[key] {
			return nil
		}
		(*p.roles)[key] = true
	}
	if p.inStack(dir) {
		p.d.errorf(at, "role %q depends on itself", name)
		return nil
	}
	r := &Role{Name: filepath.Base(dir), Dir: dir, Defaults: map[string]any{}, Vars: map[string]any{}}
	sub := p.sub(dir)
	for _, part := range []struct {
		dir  string
		into map[string]any
	}{{"defaults", r.Defaults}, {"vars", r.Vars}} {
		if f := roleFile(dir, part.dir, "main"); f != "" {
			data, err := p.l.readFile(f)
			if err != nil {
				p.d.errorf(at, "role %s: %v", name, err)
				continue
			}
			m, err := DecodeVarsFile(f, data)
			if err != nil {
				p.d.errs = append(p.d.errs, err)
				continue
			}
			for k, v := range m {
				part.into[k] = v
			}
		}
	}
	var out []*Task
	if f := roleFile(dir, "meta", "main"); f != "" {
		out = append(out, sub.roleDeps(f)...)
	}
	var tasks []*Task
	if f := roleFile(dir, "tasks", tasksFrom); f != "" {
		tasks = sub.taskFile(f, false, at)
	} else if tasksFrom != "" {
		p.d.errorf(at, "role %s: no tasks/%s.yml", name, tasksFrom)
	}
	if f := roleFile(dir, "handlers", "main"); f != "" && !(*p.roles)["handlers\x00"+dir] {
		// A role's handlers exist once per play, however often it is applied.
		(*p.roles)["handlers\x00"+dir] = true
		hs := sub.taskFile(f, true, at)
		for _, h := range hs {
			h.Role = r
		}
		SetRole(hs, r.Name)
		*p.handlers = append(*p.handlers, hs...)
	}
	p.d.errs = append(p.d.errs, sub.d.errs...)
	if tasks == nil {
		tasks = []*Task{}
	}
	if v := p.roleArgSpec(dir, tasksFrom, name, params, at); v != nil {
		tasks = append([]*Task{v}, tasks...)
	}
	SetRole(tasks, r.Name)
	return append(out, &Task{Pos: p.d.pos(at), Block: tasks, Role: r})
}

// roleEntryKeys are keywords of a role entry that are not task keywords
// (so not role parameters either).
var roleEntryKeys = map[string]bool{
	"collections": true, "port": true, "debugger": true, "module_defaults": true, "public": true,
	"allow_duplicates": true, "role": true, "name": true,
}

// roleArgSpec returns the task Ansible puts first in a role whose
// meta/argument_specs.yml (or meta/main.yml's argument_specs) has a spec
// for the entry point (tasks_from, default main): validate_argument_spec
// of the role's parameters and variables, tagged always. nil without one.
func (p *parser) roleArgSpec(dir, tasksFrom, name string, params map[string]any, at *yaml.Node) *Task {
	specs := map[string]any{}
	for _, f := range []string{roleFile(dir, "meta", "argument_specs"), roleFile(dir, "meta", "main")} {
		if f == "" {
			continue
		}
		data, err := p.l.readFile(f)
		if err != nil {
			p.d.errorf(at, "role %s: %v", name, err)
			return nil
		}
		m, err := DecodeVarsFile(f, data)
		if err != nil {
			p.d.errs = append(p.d.errs, err)
			return nil
		}
		if s, ok := m["argument_specs"].(map[string]any); ok {
			specs = s
			break
		}
		if filepath.Base(filepath.Dir(f)) == "meta" && strings.HasPrefix(filepath.Base(f), "argument_specs") {
			break // the file exists: meta/main.yml is not read (Ansible's rule)
		}
	}
	entry := strings.TrimSuffix(strings.TrimSuffix(tasksFrom, ".yml"), ".yaml")
	if entry == "" {
		entry = "main"
	}
	spec, ok := specs[entry].(map[string]any)
	if !ok {
		return nil
	}
	title := fmt.Sprintf("Validating arguments against arg spec '%s'", entry)
	if d, ok := spec["short_description"].(string); ok {
		title += " - " + d
	}
	opts, _ := spec["options"].(map[string]any)
	if opts == nil {
		opts = map[string]any{}
	}
	// Role parameters, not the keywords a role entry may also carry.
	provided := map[string]any{}
	for k, v := range params {
		if isTaskKey(k) || roleEntryKeys[k] {
			continue
		}
		provided[k] = v
	}
	pos := p.d.pos(at)
	return &Task{Pos: pos, Name: title, Module: "validate_argument_spec", ModuleKey: "ansible.builtin.validate_argument_spec", ModulePos: pos,
		Args: map[string]any{
			"argument_spec":      opts,
			"provided_arguments": provided,
			"validate_args_context": map[string]any{
				"type": "role", "name": filepath.Base(dir), "argument_spec_name": entry, "path": dir,
			},
		},
		ArgsPos: map[string]Pos{},
		Tags:    []string{"always"},
	}
}

// roleDeps loads the dependencies listed in a role's meta/main.yml.
func (p *parser) roleDeps(path string) []*Task {
	data, err := p.l.readFile(path)
	if err != nil {
		p.d.errs = append(p.d.errs, &Error{Pos: Pos{File: path}, Msg: err.Error()})
		return nil
	}
	doc, err := parseYAML(path, data)
	if err != nil {
		p.d.errs = append(p.d.errs, err)
		return nil
	}
	sub := &parser{l: p.l, d: &decoder{file: path}, pbDir: p.pbDir, stack: p.stack, roles: p.roles, handlers: p.handlers}
	root := resolve(doc)
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return nil
		}
		root = resolve(root.Content[0])
	}
	var out []*Task
	if root.Kind == yaml.MappingNode {
		sub.d.mapping(root, func(k string, kn, vn *yaml.Node) {
			if k == "dependencies" {
				out = sub.roleEntries(vn)
			}
		})
	}
	p.d.errs = append(p.d.errs, sub.d.errs...)
	return out
}

// LoadTasks parses a task file at run time (include_tasks).
func (l *Loader) LoadTasks(path string) ([]*Task, error) {
	roles := map[string]bool{}
	var handlers []*Task
	p := &parser{l: l, d: &decoder{file: path}, roles: &roles, handlers: &handlers}
	tasks := p.taskFile(path, false, &yaml.Node{Line: 1, Column: 1})
	if len(p.d.errs) > 0 {
		return nil, errors.Join(p.d.errs...)
	}
	return tasks, nil
}
