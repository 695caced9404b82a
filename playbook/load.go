package playbook

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/mdo-play/mdo-play/modules"
	"github.com/mdo-play/mdo-play/templates"
	"github.com/mdo-play/mdo-play/templates/yaml11"
)

// Loader reads and validates playbooks.
type Loader struct {
	Registry *modules.Registry
	// ReadFile reads a file; nil means os.ReadFile. Vault decryption plugs in here.
	ReadFile func(path string) ([]byte, error)
	// RolesPath lists directories searched for roles after roles/ next to
	// the playbook.
	RolesPath []string
	// Templates, when set, checks the syntax of every template and
	// condition at load time (the same engine then renders them, parsed).
	Templates *templates.Engine
	// NoNotifyCheck leaves notify names that match no handler to the
	// caller (lint reports them with its own rule); runs reject them.
	NoNotifyCheck bool
}

func (l *Loader) readFile(path string) ([]byte, error) {
	if l.ReadFile != nil {
		return l.ReadFile(path)
	}
	return os.ReadFile(path)
}

// Load reads, parses and validates the playbook at path. All errors found in
// the file are returned at once (errors.Join of *Error values).
func (l *Loader) Load(path string) (*Playbook, error) {
	data, err := l.readFile(path)
	if err != nil {
		return nil, fmt.Errorf("read playbook: %w", err)
	}
	return l.Parse(path, data)
}

// Parse parses and validates playbook source text; file names it in errors.
func (l *Loader) Parse(file string, data []byte) (*Playbook, error) {
	doc, err := parseYAML(file, data)
	if err != nil {
		return nil, err
	}
	dir, _ := filepath.Abs(filepath.Dir(file))
	pb := &Playbook{Path: file, Dir: dir}
	roles := map[string]bool{}
	var handlers []*Task
	p := &parser{l: l, d: &decoder{file: file}, pbDir: dir, stack: []string{file}, roles: &roles, handlers: &handlers}
	root := doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	root = resolve(root)
	switch {
	case root.Kind == 0 || root.Kind == yaml.DocumentNode:
		p.d.errs = append(p.d.errs, &Error{Pos: Pos{File: file, Line: 1, Col: 1}, Msg: "playbook is empty: expected a list of plays"})
	case root.Kind != yaml.SequenceNode:
		p.d.errorf(root, "a playbook must be a list of plays, got a %s", yaml11.KindName(root))
	default:
		for _, n := range root.Content {
			pb.Plays = append(pb.Plays, p.playOrImport(resolve(n))...)
		}
	}
	if len(p.d.errs) > 0 {
		sortErrors(p.d.errs)
		return nil, errors.Join(p.d.errs...)
	}
	return pb, nil
}

// sortErrors orders positioned errors by file, line and column (the checks
// run in no particular order); others keep their place at the end.
func sortErrors(errs []error) {
	pos := func(e error) (Pos, bool) {
		var pe *Error
		if errors.As(e, &pe) {
			return pe.Pos, true
		}
		return Pos{}, false
	}
	sort.SliceStable(errs, func(i, j int) bool {
		a, aok := pos(errs[i])
		b, bok := pos(errs[j])
		if !aok || !bok {
			return aok && !bok
		}
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}

type parser struct {
	l     *Loader
	d     *decoder
	pbDir string   // the playbook's directory (roles/ is looked up there)
	stack []string // files being parsed, against include cycles
	// Per play: roles already applied (dedupe) and handlers that roles bring.
	roles    *map[string]bool
	handlers *[]*Task
}

var playKeys = []string{
	"name", "hosts", "vars", "vars_files", "gather_facts", "gather_subset", "gather_timeout",
	"become", "become_user", "become_method", "become_flags", "remote_user", "connection",
	"serial", "strategy", "max_fail_percentage", "any_errors_fatal", "order", "environment",
	"pre_tasks", "tasks", "post_tasks", "handlers", "tags", "ignore_errors", "ignore_unreachable",
	"check_mode", "diff", "no_log", "force_handlers", "roles", "collections", "module_defaults",
}

var taskKeys = []string{
	"name", "when", "loop", "with_items", "with_list", "with_dict", "with_subelements", "with_together",
	"with_nested", "with_sequence", "with_fileglob", "with_lines", "with_first_found", "local_action", "action",
	"loop_control", "register", "notify", "tags",
	"vars", "args", "ignore_errors", "ignore_unreachable", "failed_when", "changed_when",
	"environment", "check_mode", "diff", "no_log", "become", "become_user", "become_method",
	"become_flags", "remote_user", "connection", "delegate_to", "delegate_facts", "collections", "module_defaults", "run_once", "throttle", "timeout",
	"retries", "until", "delay", "any_errors_fatal", "block", "rescue", "always", "async", "poll",
}

// Keys accepted on blocks (besides block/rescue/always).
var blockKeys = map[string]bool{
	"name": true, "when": true, "tags": true, "vars": true, "ignore_errors": true, "ignore_unreachable": true,
	"environment": true, "check_mode": true, "diff": true, "no_log": true, "become": true, "become_user": true,
	"become_method": true, "become_flags": true, "remote_user": true, "connection": true, "delegate_to": true,
	"delegate_facts": true, "collections": true, "module_defaults": true,
	"run_once": true, "throttle": true, "timeout": true, "any_errors_fatal": true, "notify": true,
	"block": true, "rescue": true, "always": true,
}

// Keys that are recognised but belong to a later part of the product.
var laterKeys = map[string]string{
	"import_playbook": "import_playbook",
}

func (p *parser) play(n *yaml.Node) *Play {
	if n.Kind != yaml.MappingNode {
		p.d.errorf(n, "a play must be a mapping with hosts and tasks, got a %s", yaml11.KindName(n))
		return nil
	}
	play := &Play{Pos: p.d.pos(n)}
	hasHosts := false
	roles := map[string]bool{}
	var roleHandlers []*Task
	p.roles, p.handlers = &roles, &roleHandlers
	p.d.mapping(n, func(k string, kn, vn *yaml.Node) {
		vn = resolve(vn)
		switch k {
		case "name":
			play.Name = p.str(vn)
		case "hosts":
			hasHosts = true
			play.Hosts = p.pattern(vn)
		case "vars":
			play.Vars = p.vars(vn)
		case "vars_files":
			if vn.Kind != yaml.SequenceNode {
				p.d.errorf(vn, "vars_files must be a list of file names, got a %s", yaml11.KindName(vn))
				return
			}
			for _, c := range vn.Content {
				play.VarsFiles = append(play.VarsFiles, p.value(c))
			}
		case "gather_facts":
			play.GatherFacts = p.value(vn)
		case "gather_subset":
			play.GatherSubset = p.value(vn)
		case "gather_timeout":
			// Accepted for compatibility; facts are gathered by one script.
		case "become":
			play.Become = p.value(vn)
		case "become_user":
			play.BecomeUser = p.value(vn)
		case "become_method":
			play.BecomeMethod = p.value(vn)
		case "become_flags":
			play.BecomeFlags = p.value(vn)
		case "remote_user":
			play.RemoteUser = p.value(vn)
		case "connection":
			play.Connection = p.value(vn)
		case "environment":
			play.Environment = p.value(vn)
		case "serial":
			play.Serial = p.value(vn)
		case "strategy":
			play.Strategy = p.str(vn)
			if play.Strategy != "linear" && play.Strategy != "free" && !strings.Contains(play.Strategy, "{{") {
				p.d.errorf(vn, "unknown strategy %q: expected linear or free", play.Strategy)
			}
		case "max_fail_percentage":
			play.MaxFailPercentage = p.value(vn)
		case "any_errors_fatal":
			play.AnyErrorsFatal = p.value(vn)
		case "ignore_errors":
			play.IgnoreErrors = p.value(vn)
		case "ignore_unreachable":
			play.IgnoreUnreachable = p.value(vn)
		case "order":
			play.Order = p.str(vn)
			switch play.Order {
			case "inventory", "reverse_inventory", "sorted", "reverse_sorted", "shuffle":
			default:
				p.d.errorf(vn, "unknown order %q: expected inventory, reverse_inventory, sorted, reverse_sorted or shuffle", play.Order)
			}
		case "check_mode":
			play.CheckMode = p.value(vn)
		case "diff":
			play.Diff = p.value(vn)
		case "no_log":
			play.NoLog = p.value(vn)
		case "force_handlers":
			play.ForceHandlers = p.value(vn)
		case "collections":
			play.Collections = p.collections(vn)
		case "module_defaults":
			play.ModuleDefaults = p.moduleDefaults(vn)
		case "tags":
			play.Tags = p.tags(vn)
		case "pre_tasks":
			play.PreTasks = p.tasks(vn, false)
		case "tasks":
			play.Tasks = p.tasks(vn, false)
		case "post_tasks":
			play.PostTasks = p.tasks(vn, false)
		case "handlers":
			play.Handlers = p.tasks(vn, true)
		case "roles":
			play.Roles = p.roleEntries(vn)
		default:
			if later, ok := laterKeys[k]; ok {
				p.d.errorf(kn, "%s is allowed only as an entry of the playbook's top-level list, not inside a play", later)
				return
			}
			p.d.errorf(kn, "unknown play keyword %q%s", k, suggest(k, playKeys))
		}
	})
	if !hasHosts {
		p.d.errorf(n, "play %s has no hosts: every play needs a hosts pattern", QuoteName(play.Name))
	}
	// Handlers of roles come before the play's own, as in Ansible.
	play.Handlers = append(roleHandlers, play.Handlers...)
	p.checkPlay(play)
	if !p.l.NoNotifyCheck {
		p.checkNotify(play)
	}
	return play
}

// QuoteName quotes a task or play name for messages ("(unnamed)" when empty).
func QuoteName(s string) string {
	if s == "" {
		return "(unnamed)"
	}
	return fmt.Sprintf("%q", s)
}

func (p *parser) value(n *yaml.Node) Value {
	return Value{Pos: p.d.pos(n), V: p.d.value(n)}
}

func (p *parser) str(n *yaml.Node) string {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode {
		p.d.errorf(n, "expected a string, got a %s", yaml11.KindName(n))
		return ""
	}
	if n.ShortTag() == "!!null" {
		return ""
	}
	return n.Value
}

func (p *parser) pattern(n *yaml.Node) string {
	n = resolve(n)
	if n.Kind == yaml.SequenceNode {
		var parts []string
		for _, c := range n.Content {
			parts = append(parts, p.str(c))
		}
		return strings.Join(parts, ",")
	}
	s := p.str(n)
	if s == "" {
		p.d.errorf(n, "hosts must not be empty")
	}
	return s
}

func (p *parser) strList(n *yaml.Node) []string {
	n = resolve(n)
	if n.Kind == yaml.SequenceNode {
		out := make([]string, 0, len(n.Content))
		for _, c := range n.Content {
			out = append(out, p.str(c))
		}
		return out
	}
	if s := p.str(n); s != "" {
		return []string{s}
	}
	return nil
}

func (p *parser) tags(n *yaml.Node) []string {
	var out []string
	for _, t := range p.strList(n) {
		for _, s := range strings.Split(t, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

func (p *parser) vars(n *yaml.Node) []Var {
	n = resolve(n)
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		p.d.errorf(n, "vars must be a mapping of names to values, got a %s", yaml11.KindName(n))
		return nil
	}
	var out []Var
	p.d.mapping(n, func(k string, kn, vn *yaml.Node) {
		if !ValidVarName(k) {
			p.d.errorf(kn, "invalid variable name %q: use letters, digits and underscores, not starting with a digit", k)
			return
		}
		out = append(out, Var{Pos: p.d.pos(kn), Name: k, Value: p.d.value(vn)})
	})
	return out
}

// ValidVarName reports whether s can name a variable.
func ValidVarName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

func (p *parser) exprs(n *yaml.Node) []Expr {
	n = resolve(n)
	var nodes []*yaml.Node
	if n.Kind == yaml.SequenceNode {
		nodes = n.Content
	} else {
		nodes = []*yaml.Node{n}
	}
	var out []Expr
	for _, c := range nodes {
		c = resolve(c)
		if c.Kind != yaml.ScalarNode {
			p.d.errorf(c, "a condition must be a string (a template pipeline such as `eq .env \"prod\"`), got a %s", yaml11.KindName(c))
			continue
		}
		text := c.Value
		if v, err := yaml11.Scalar(c); err == nil {
			if b, ok := v.(bool); ok {
				text = fmt.Sprint(b)
			}
		}
		if c.ShortTag() == "!!null" {
			continue
		}
		out = append(out, Expr{Pos: p.d.pos(c), Text: text})
	}
	return out
}

func (p *parser) tasks(n *yaml.Node, handlers bool) []*Task {
	n = resolve(n)
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		p.d.errorf(n, "expected a list of tasks, got a %s", yaml11.KindName(n))
		return nil
	}
	out := make([]*Task, 0, len(n.Content))
	for _, c := range n.Content {
		if t := p.task(resolve(c), handlers, false); t != nil {
			out = append(out, t)
		}
	}
	return out
}

func (p *parser) task(n *yaml.Node, handler, applyOnly bool) *Task {
	if n.Kind != yaml.MappingNode {
		p.d.errorf(n, "a task must be a mapping with a module, got a %s", yaml11.KindName(n))
		return nil
	}
	t := &Task{Pos: p.d.pos(n)}
	isBlock, hasRescue := false, false
	for i := 0; i+1 < len(n.Content); i += 2 {
		switch n.Content[i].Value {
		case "block":
			isBlock = true
		case "rescue", "always":
			hasRescue = true
		}
	}
	var argsNode *yaml.Node // the `args:` keyword
	var modNodes, actionNodes [][2]*yaml.Node
	var unknown [][2]*yaml.Node
	p.d.mapping(n, func(k string, kn, vn *yaml.Node) {
		vn = resolve(vn)
		if isBlock && !blockKeys[k] && isTaskKey(k) {
			p.d.errorf(kn, "%q is not valid on a block", k)
			return
		}
		if lk, ok := strings.CutPrefix(k, "with_"); ok && k != "with_" {
			// with_NAME loops over query('NAME', VALUE) for any lookup
			// NAME, as Ansible's task loader turns it into loop_with.
			if !templates.IsLookup(lk) {
				p.d.errorf(kn, "%s: unknown lookup plugin %q%s (with_NAME loops over the lookup NAME; lookups: %s)",
					k, lk, suggest(lk, templates.LookupNames()), strings.Join(templates.LookupNames(), ", "))
				return
			}
			k = "with"
		}
		switch k {
		case "name":
			t.Name = p.str(vn)
		case "when":
			t.When = p.exprs(vn)
		case "loop", "with":
			if t.Loop.Set() {
				p.d.errorf(kn, "a task has only one loop (loop or one with_* keyword)")
				return
			}
			t.Loop = p.value(vn)
			if k == "loop" {
				if vn.Kind == yaml.MappingNode || vn.Kind == yaml.ScalarNode && !strings.Contains(vn.Value, "{{") && vn.ShortTag() != "!!null" {
					p.d.errorf(vn, "%s must be a list or a template that evaluates to one, got %s", k, withArticle(kindOf(vn)))
				}
				return
			}
			if vn.Kind == yaml.ScalarNode && vn.ShortTag() == "!!null" {
				p.d.errorf(kn, "you must specify a value when using %s", kn.Value)
				return
			}
			t.LoopWith = templates.LookupName(strings.TrimPrefix(kn.Value, "with_"))
			if (t.LoopWith == "items" || t.LoopWith == "list") && vn.Kind == yaml.MappingNode {
				p.d.errorf(vn, "%s must be a list or a template that evaluates to one, got %s", kn.Value, withArticle(kindOf(vn)))
			}
		case "local_action", "action":
			// The module and its arguments as one value: "copy src=a
			// dest=b", or a mapping with module: and the arguments.
			// local_action runs it on the controller (delegate_to:
			// localhost).
			if k == "local_action" {
				t.DelegateTo = Value{Pos: p.d.pos(kn), V: "localhost"}
			}
			mk, mv := p.actionModule(kn, vn)
			switch {
			case mk == nil:
			case !p.l.Registry.Has(mk.Value):
				p.d.errorf(mk, "%s: unknown module %q%s", k, mk.Value, suggest(mk.Value, p.l.Registry.Names()))
			default:
				modNodes = append(modNodes, [2]*yaml.Node{mk, mv})
			}
		case "loop_control":
			t.LoopControl = p.loopControl(vn)
		case "register":
			t.Register = p.str(vn)
			if !ValidVarName(t.Register) {
				p.d.errorf(vn, "invalid register name %q: use letters, digits and underscores", t.Register)
			}
		case "notify":
			t.Notify = p.strList(vn)
		case "listen":
			if !handler {
				p.d.errorf(kn, "listen is valid only on handlers")
				return
			}
			t.Listen = p.strList(vn)
		case "tags":
			t.Tags = p.tags(vn)
		case "vars":
			t.Vars = p.vars(vn)
		case "args":
			argsNode = vn
		case "ignore_errors":
			t.IgnoreErrors = p.value(vn)
		case "ignore_unreachable":
			t.IgnoreUnreachable = p.value(vn)
		case "failed_when":
			t.FailedWhen = p.exprs(vn)
		case "changed_when":
			t.ChangedWhen = p.exprs(vn)
		case "until":
			t.Until = p.exprs(vn)
		case "environment":
			t.Environment = p.value(vn)
		case "check_mode":
			t.CheckMode = p.value(vn)
		case "diff":
			t.Diff = p.value(vn)
		case "no_log":
			t.NoLog = p.value(vn)
		case "become":
			t.Become = p.value(vn)
		case "become_user":
			t.BecomeUser = p.value(vn)
		case "become_method":
			t.BecomeMethod = p.value(vn)
		case "become_flags":
			t.BecomeFlags = p.value(vn)
		case "remote_user":
			t.RemoteUser = p.value(vn)
		case "connection":
			t.Connection = p.value(vn)
		case "delegate_to":
			t.DelegateTo = p.value(vn)
		case "delegate_facts":
			t.DelegateFacts = p.value(vn)
		case "collections":
			t.Collections = p.collections(vn)
		case "module_defaults":
			t.ModuleDefaults = p.moduleDefaults(vn)
		case "run_once":
			t.RunOnce = p.value(vn)
		case "throttle":
			t.Throttle = p.value(vn)
		case "timeout":
			t.Timeout = p.value(vn)
		case "retries":
			t.Retries = p.value(vn)
		case "delay":
			t.Delay = p.value(vn)
		case "any_errors_fatal":
			t.AnyErrorsFatal = p.value(vn)
		case "async":
			t.Async = p.value(vn)
		case "poll":
			t.Poll = p.value(vn)
		case "block":
			t.Block = p.tasks(vn, handler)
		case "rescue":
			t.Rescue = p.tasks(vn, handler)
		case "always":
			t.Always = p.tasks(vn, handler)
		default:
			if engineActions[modules.Canonical(k)] {
				actionNodes = append(actionNodes, [2]*yaml.Node{kn, vn})
				return
			}
			if p.l.Registry.Has(k) {
				modNodes = append(modNodes, [2]*yaml.Node{kn, vn})
				return
			}
			unknown = append(unknown, [2]*yaml.Node{kn, vn})
		}
	})
	for _, u := range unknown {
		k := u[0].Value
		if _, err := p.l.Registry.Resolve(k); errors.Is(err, modules.ErrNotBuiltin) {
			p.d.errorf(u[0], "%v", err)
			continue
		}
		if later, ok := laterKeys[k]; ok {
			p.d.errorf(u[0], "%s is allowed only as an entry of the playbook's top-level list, not in a task list (use import_tasks or include_tasks)", later)
			continue
		}
		if len(modNodes)+len(actionNodes) == 0 && len(unknown) == 1 && !isBlock {
			p.d.errorf(u[0], "unknown module %q%s", k, suggest(k, append(p.l.Registry.Names(), taskKeys...)))
			continue
		}
		p.d.errorf(u[0], "unknown task keyword %q%s", k, suggest(k, append(append([]string{}, taskKeys...), p.l.Registry.Names()...)))
	}
	if isBlock {
		p.checkTask(t)
		if len(modNodes) > 0 {
			p.d.errorf(modNodes[0][0], "a block cannot also call a module (%s)", modNodes[0][0].Value)
		}
		return t
	}
	if hasRescue {
		p.d.errorf(n, "rescue and always need a block")
	}
	if applyOnly {
		if len(modNodes)+len(actionNodes) > 0 {
			p.d.errorf(n, "apply takes keywords only, not a module")
		}
		return t
	}
	if len(actionNodes) > 0 {
		if len(actionNodes)+len(modNodes) > 1 {
			all := append(actionNodes, modNodes...)
			var names []string
			for _, m := range all {
				names = append(names, m[0].Value)
			}
			p.d.errorf(all[1][0], "conflicting action statements: %s (a task calls exactly one module)", strings.Join(names, ", "))
			return nil
		}
		p.action(t, actionNodes[0][0].Value, actionNodes[0][0], resolve(actionNodes[0][1]), handler)
		p.checkTask(t)
		return t
	}
	switch {
	case len(modNodes) > 1:
		var names []string
		for _, m := range modNodes {
			names = append(names, m[0].Value)
		}
		p.d.errorf(modNodes[1][0], "conflicting action statements: %s (a task calls exactly one module)", strings.Join(names, ", "))
		return nil
	case len(modNodes) == 0:
		if len(unknown) == 0 && !applyOnly {
			p.d.errorf(n, "task %s has no module: expected one of %s, ...", QuoteName(t.Name), "command, shell, copy, debug")
		}
		return nil
	}
	kn, vn := modNodes[0][0], resolve(modNodes[0][1])
	t.ModuleKey = kn.Value
	t.Module = modules.Canonical(kn.Value)
	t.ModulePos = p.d.pos(kn)
	p.moduleArgs(t, vn, argsNode)
	p.checkTask(t)
	return t
}

// actionModule splits the value of action/local_action into a module key
// node and its arguments node, as if they had been written as
// `module: args`; nil when the value names no module (the error is
// recorded).
func (p *parser) actionModule(kn, vn *yaml.Node) (*yaml.Node, *yaml.Node) {
	at := func(n *yaml.Node, v string) *yaml.Node {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v, Line: n.Line, Column: n.Column}
	}
	switch vn.Kind {
	case yaml.ScalarNode:
		name, rest, _ := strings.Cut(strings.TrimSpace(vn.Value), " ")
		if name == "" {
			break
		}
		args := at(vn, strings.TrimSpace(rest))
		if args.Value == "" {
			args = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: vn.Line, Column: vn.Column}
		}
		return at(vn, name), args
	case yaml.MappingNode:
		var name *yaml.Node
		args := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: vn.Line, Column: vn.Column}
		for i := 0; i+1 < len(vn.Content); i += 2 {
			if vn.Content[i].Value == "module" {
				name = vn.Content[i+1]
				continue
			}
			args.Content = append(args.Content, vn.Content[i], vn.Content[i+1])
		}
		if name == nil || name.Value == "" {
			break
		}
		return at(name, name.Value), args
	}
	p.d.errorf(vn, "%s needs a module: `%s: MODULE ARGS` or a mapping with module:", kn.Value, kn.Value)
	return nil, nil
}

func isTaskKey(k string) bool {
	if strings.HasPrefix(k, "with_") {
		return true
	}
	for _, x := range taskKeys {
		if x == k {
			return true
		}
	}
	return k == "listen"
}

func kindOf(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		switch n.ShortTag() {
		case "!!int":
			return "integer"
		case "!!float":
			return "float"
		case "!!bool":
			return "boolean"
		}
	}
	return yaml11.KindName(n)
}

func (p *parser) loopControl(n *yaml.Node) LoopControl {
	var lc LoopControl
	if n.Kind != yaml.MappingNode {
		p.d.errorf(n, "loop_control must be a mapping, got a %s", yaml11.KindName(n))
		return lc
	}
	keys := []string{"loop_var", "index_var", "label", "pause", "extended"}
	p.d.mapping(n, func(k string, kn, vn *yaml.Node) {
		switch k {
		case "loop_var":
			lc.LoopVar = p.str(vn)
		case "index_var":
			lc.IndexVar = p.str(vn)
		case "label":
			lc.Label = p.str(vn)
		case "pause":
			lc.Pause = p.value(vn)
		case "extended":
			lc.Extended = p.value(vn)
		default:
			p.d.errorf(kn, "unknown loop_control keyword %q%s", k, suggest(k, keys))
		}
	})
	return lc
}

// freeFormKeys are the k=v keys Ansible takes from a free-form command string.
var freeFormKeys = []string{"chdir", "creates", "removes", "executable", "stdin", "stdin_add_newline", "strip_empty_ends", "warn"}

// rawParamModules are Ansible's MODULE_REQUIRE_ARGS: their free-form text
// gives up only the freeFormKeys.
var rawParamModules = map[string]bool{"command": true, "shell": true, "raw": true, "script": true}

func (p *parser) moduleArgs(t *Task, vn, argsNode *yaml.Node) {
	m, _ := p.l.Registry.Lookup(t.Module)
	spec := m.Spec()
	t.Args = map[string]any{}
	t.ArgsPos = map[string]Pos{}
	addMap := func(n *yaml.Node) {
		p.d.mapping(n, func(k string, kn, vn *yaml.Node) {
			t.Args[k] = p.d.value(vn)
			t.ArgsPos[k] = p.d.pos(kn)
		})
	}
	switch {
	case vn.Kind == yaml.MappingNode:
		addMap(vn)
	case vn.Kind == yaml.ScalarNode && vn.ShortTag() == "!!null":
	case vn.Kind == yaml.ScalarNode:
		t.FreeForm = true
		if spec.FreeForm {
			keys := freeFormKeys
			if !rawParamModules[t.Module] {
				// Ansible's parse_kv takes every key=value out of the
				// text except for the command family (check_raw):
				// include_vars file=x name=y.
				keys = spec.ValidNames()
			}
			raw, kv, err := modules.SplitFreeForm(vn.Value, keys)
			if err != nil {
				p.d.errorf(vn, "module %s: %v", t.ModuleKey, err)
				return
			}
			for k, v := range kv {
				t.Args[k] = v
				t.ArgsPos[k] = p.d.pos(vn)
			}
			if raw != "" {
				t.Args[modules.RawParams] = raw
				t.ArgsPos[modules.RawParams] = p.d.pos(vn)
			}
		} else {
			kv, err := modules.ParseKV(vn.Value)
			if err != nil {
				p.d.errorf(vn, "module %s takes key=value arguments or a mapping: %v", t.ModuleKey, err)
				return
			}
			for k, v := range kv {
				t.Args[k] = v
				t.ArgsPos[k] = p.d.pos(vn)
			}
		}
	default:
		p.d.errorf(vn, "arguments of module %s must be a mapping or a string, got a %s", t.ModuleKey, yaml11.KindName(vn))
		return
	}
	if argsNode != nil {
		if argsNode.Kind != yaml.MappingNode {
			p.d.errorf(argsNode, "args must be a mapping, got a %s", yaml11.KindName(argsNode))
		} else {
			addMap(argsNode)
		}
	}
	p.checkArgs(t, spec)
}

// checkArgs reports unknown argument names and literal values of the wrong type.
func (p *parser) checkArgs(t *Task, spec *modules.Spec) {
	keys := make([]string, 0, len(t.Args))
	for k := range t.Args {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := t.ArgsPos[keys[i]], t.ArgsPos[keys[j]]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return keys[i] < keys[j]
	})
	for _, k := range keys {
		pos := t.ArgsPos[k]
		if k == modules.RawParams {
			if !spec.FreeForm {
				p.d.errs = append(p.d.errs, &Error{Pos: pos, Msg: fmt.Sprintf("module %s does not take a free-form argument", t.ModuleKey)})
			}
			continue
		}
		a, ok := spec.Arg(k)
		if !ok && spec.AnyArgs {
			continue
		}
		if !ok {
			p.d.errs = append(p.d.errs, &Error{Pos: pos, Msg: fmt.Sprintf("module %s: unsupported argument %q%s (valid arguments: %s)",
				t.ModuleKey, k, suggest(k, spec.ValidNames()), strings.Join(spec.ValidNames(), ", "))})
			continue
		}
		v := t.Args[k]
		if s, ok := v.(string); ok && strings.Contains(s, "{{") || a.Raw {
			continue
		}
		cv, err := modules.Convert(a.Type, v)
		if err != nil {
			p.d.errs = append(p.d.errs, &Error{Pos: pos, Msg: fmt.Sprintf("module %s: argument %q: %v", t.ModuleKey, k, err)})
			continue
		}
		if len(a.Choices) > 0 && cv != nil {
			ok := false
			for _, c := range a.Choices {
				if c == fmt.Sprint(cv) {
					ok = true
				}
			}
			if !ok {
				p.d.errs = append(p.d.errs, &Error{Pos: pos, Msg: fmt.Sprintf("module %s: argument %q: value %q is not one of %s", t.ModuleKey, k, fmt.Sprint(cv), strings.Join(a.Choices, ", "))})
			}
		}
	}
}

// withArticle prefixes a kind name with "a" or "an".
func withArticle(s string) string {
	if s != "" && strings.ContainsRune("aeiou", rune(s[0])) {
		return "an " + s
	}
	return "a " + s
}

// collections reads the collections keyword: a list of collection names
// (NS.COLL). Short module names resolve to mdo-play's module of that name
// whatever the list says; the names are checked, as Ansible validates
// them.
func (p *parser) collections(n *yaml.Node) []string {
	n = resolve(n)
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return nil
	}
	if n.Kind != yaml.SequenceNode && n.Kind != yaml.ScalarNode {
		p.d.errorf(n, "collections must be a list of collection names, got a %s", yaml11.KindName(n))
		return nil
	}
	var out []string
	for _, c := range p.strList(n) {
		if strings.Count(c, ".") != 1 || strings.HasPrefix(c, ".") || strings.HasSuffix(c, ".") {
			p.d.errorf(n, "collections: %q is not a collection name (expected NAMESPACE.COLLECTION)", c)
			continue
		}
		out = append(out, c)
	}
	return out
}

// moduleDefaults reads module_defaults: a mapping (or list of mappings)
// from module names (short or fully qualified) or "group/NAME" action
// groups to argument mappings (or templates giving one). Keys are stored
// as the module's short name, and groups as group/NS.COLL.NAME, as
// Ansible resolves them when it loads the play.
func (p *parser) moduleDefaults(n *yaml.Node) []map[string]any {
	n = resolve(n)
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return nil
	}
	nodes := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		nodes = n.Content
	}
	var out []map[string]any
	for _, m := range nodes {
		m = resolve(m)
		if m.Kind != yaml.MappingNode {
			p.d.errorf(m, "The field 'module_defaults' is supposed to be a dictionary or list of dictionaries, the keys of which must be static action, module, or group names. Only the values may contain templates. For example: {'ping': \"{{ ping_defaults }}\"}")
			continue
		}
		d := map[string]any{}
		p.d.mapping(m, func(k string, kn, vn *yaml.Node) {
			if g, ok := strings.CutPrefix(k, "group/"); ok {
				if strings.Count(g, ".") < 2 {
					g = "ansible.builtin." + g
				}
				// ansible.builtin's only action group is testgroup (of
				// test collections); other collections' groups hold
				// no module mdo-play has, so they apply to none.
				if strings.HasPrefix(g, "ansible.builtin.") && g != "ansible.builtin.testgroup" {
					p.d.errorf(kn, "Error loading module_defaults: could not resolve the module_defaults group %s", g)
					return
				}
				d["group/"+g] = p.d.value(vn)
				return
			}
			if _, err := p.l.Registry.Resolve(k); errors.Is(err, modules.ErrUnknownModule) {
				p.d.errorf(kn, "Could not resolve action %s in module_defaults%s", k, suggest(k, p.l.Registry.Names()))
				return
			}
			d[modules.Canonical(k)] = p.d.value(vn)
		})
		out = append(out, d)
	}
	return out
}
