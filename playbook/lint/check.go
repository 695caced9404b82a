package lint

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/mdo-play/mdo-play/modules"
	"github.com/mdo-play/mdo-play/playbook"
	"github.com/mdo-play/mdo-play/templates"
)

// magicVars are the variables the engine (and Ansible) define for every
// host; every ansible_* name counts as defined too (facts, connection
// variables, loop and failure information).
var magicVars = []string{
	"inventory_hostname", "inventory_hostname_short", "group_names", "groups", "hostvars",
	"play_hosts", "playbook_dir", "omit", "role_path", "role_name", "role_names",
	"inventory_dir", "inventory_file",
}

// scope is the set of variables defined around a task: the play's, then
// those of the enclosing blocks, includes and the task itself.
type scope struct {
	parent  *scope
	names   map[string]bool
	roleDir string // the innermost role, for template lookups
	taskDir string // directory of the file holding the task
}

func (s *scope) child(names ...string) *scope {
	c := &scope{parent: s, names: map[string]bool{}, roleDir: s.roleDir, taskDir: s.taskDir}
	for _, n := range names {
		c.names[n] = true
	}
	return c
}

func (s *scope) has(name string) bool {
	for c := s; c != nil; c = c.parent {
		if c.names[name] {
			return true
		}
	}
	return false
}

// playState is what the checks of one play share.
type playState struct {
	pb      *playbook.Playbook
	play    *playbook.Play
	open    bool // some definitions cannot be known: no var-undefined
	notify  []notification
	dynamic bool // a templated notify: any handler may be meant
}

type notification struct {
	name string
	pos  playbook.Pos
}

// playbook runs every check on a loaded playbook.
func (c *checker) playbook(ctx context.Context, pb *playbook.Playbook) {
	global := &scope{names: map[string]bool{}}
	for _, n := range magicVars {
		global.names[n] = true
	}
	for k := range c.l.ExtraVars {
		global.names[k] = true
	}
	for _, n := range c.l.Defined {
		global.names[n] = true
	}
	open := c.varsDirs(pb.Dir, global)
	// Facts set by one task (register, set_fact, include_vars) stay for the
	// host in later plays: they are defined playbook-wide.
	for _, play := range pb.Plays {
		c.eachTask(allTasks(play), func(t *playbook.Task) {
			if c.taskDefs(t, global) {
				open = true
			}
		})
	}
	handlerNotified := map[*playbook.Task]bool{}
	var states []*playState
	for _, play := range pb.Plays {
		if ctx.Err() != nil {
			return
		}
		ps := &playState{pb: pb, play: play, open: open}
		sc := c.playScope(ps, global)
		c.playChecks(ps, sc)
		for _, list := range [][]*playbook.Task{play.PreTasks, play.Roles, play.Tasks, play.PostTasks, play.Handlers} {
			c.tasks(ps, list, sc)
		}
		for _, h := range c.handlersNotified(ps) {
			handlerNotified[h] = true
		}
		states = append(states, ps)
	}
	for _, ps := range states {
		c.handlerChecks(ps, handlerNotified)
	}
}

func allTasks(play *playbook.Play) []*playbook.Task {
	var out []*playbook.Task
	for _, l := range [][]*playbook.Task{play.PreTasks, play.Roles, play.Tasks, play.PostTasks, play.Handlers} {
		out = append(out, l...)
	}
	return out
}

// eachTask calls f for every task in tasks, recursing into blocks and
// include_tasks files whose name is not a template.
func (c *checker) eachTask(tasks []*playbook.Task, f func(*playbook.Task)) {
	for _, t := range tasks {
		f(t)
		for _, l := range [][]*playbook.Task{t.Block, t.Rescue, t.Always} {
			c.eachTask(l, f)
		}
		if t.Module == "include_tasks" {
			if in := c.include(t); in != nil {
				c.eachTask(in.tasks, f)
			}
		}
	}
}

// include loads the file of an include_tasks task once; nil when its name
// is a template or it is being loaded (a cycle).
func (c *checker) include(t *playbook.Task) *include {
	file, _ := t.Args["file"].(string)
	if file == "" || strings.Contains(file, "{{") {
		return nil
	}
	if in, ok := c.includes[file]; ok {
		return in
	}
	c.includes[file] = nil
	if _, err := os.Stat(file); err != nil {
		c.add(t.ModulePos, RuleLoadError, "include_tasks: %v", err)
		in := &include{err: err}
		c.includes[file] = in
		return in
	}
	tasks, err := c.l.Loader.LoadTasks(file)
	in := &include{tasks: tasks, err: err}
	if err != nil {
		c.loadErrors(file, err)
	}
	c.includes[file] = in
	return in
}

// taskDefs adds the variables a task sets for the host (register,
// set_fact, include_vars, add_host's host variables, the facts of
// package_facts and service_facts) to
// sc; it reports whether some cannot be known.
func (c *checker) taskDefs(t *playbook.Task, sc *scope) bool {
	if t.Register != "" {
		sc.names[t.Register] = true
	}
	switch t.Module {
	case "package_facts":
		sc.names["packages"] = true
	case "service_facts":
		sc.names["services"] = true
	case "set_fact":
		for k := range t.Args {
			if k != "cacheable" && k != modules.RawParams {
				sc.names[k] = true
			}
		}
	case "add_host":
		// Its other arguments are the new host's variables.
		for k := range t.Args {
			switch k {
			case "name", "host", "hostname", "groups", "group", "groupname", modules.RawParams:
			default:
				sc.names[k] = true
			}
		}
	case "include_vars":
		if name, ok := t.Args["name"].(string); ok && name != "" {
			sc.names[name] = true
			return false
		}
		file, _ := t.Args["file"].(string)
		if file == "" {
			file, _ = t.Args[modules.RawParams].(string)
		}
		if file == "" || strings.Contains(file, "{{") {
			return true
		}
		dir := filepath.Dir(t.Pos.File)
		for _, p := range []string{file, filepath.Join(dir, file), filepath.Join(dir, "..", "vars", file), filepath.Join(dir, "vars", file)} {
			if filepath.IsAbs(file) && p != file {
				continue
			}
			if keys, err := c.varsFileKeys(p); err == nil {
				for _, k := range keys {
					sc.names[k] = true
				}
				return false
			}
		}
		return true
	}
	return false
}

// varsFileKeys returns the top-level keys of a vars file.
func (c *checker) varsFileKeys(path string) ([]string, error) {
	data, err := c.l.readFile(path)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := yaml.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys, nil
}

// varsDirs adds the variables of group_vars/ and host_vars/ under dir to
// sc; it reports whether a file there could not be read.
func (c *checker) varsDirs(dir string, sc *scope) bool {
	open := false
	for _, sub := range []string{"group_vars", "host_vars"} {
		root := filepath.Join(dir, sub)
		if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
			continue
		}
		_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".") {
				return nil
			}
			switch filepath.Ext(p) {
			case ".yml", ".yaml", ".json", "":
			default:
				return nil
			}
			keys, err := c.varsFileKeys(p)
			if err != nil {
				open = true
				return nil
			}
			for _, k := range keys {
				sc.names[k] = true
			}
			return nil
		})
	}
	return open
}

// playScope builds the variables of a play: its vars, vars_files and the
// defaults and vars of every role it applies.
func (c *checker) playScope(ps *playState, global *scope) *scope {
	sc := global.child()
	sc.taskDir = ps.pb.Dir
	values := map[string]any{}
	for k, v := range c.l.ExtraVars {
		values[k] = v
	}
	for _, v := range ps.play.Vars {
		sc.names[v.Name] = true
		if _, ok := values[v.Name]; !ok {
			values[v.Name] = v.Value
		}
	}
	for _, vf := range ps.play.VarsFiles {
		candidates, ok := vf.V.([]any)
		if !ok {
			candidates = []any{vf.V}
		}
		loaded := false
		for _, cand := range candidates {
			name, err := c.eng.RenderString("", fmt.Sprint(cand), values)
			if err != nil {
				continue
			}
			if !filepath.IsAbs(name) {
				name = filepath.Join(ps.pb.Dir, name)
			}
			keys, err := c.varsFileKeys(name)
			if err != nil {
				continue
			}
			for _, k := range keys {
				sc.names[k] = true
			}
			loaded = true
			break
		}
		if !loaded {
			ps.open = true
		}
	}
	c.eachTask(allTasks(ps.play), func(t *playbook.Task) {
		if t.Role == nil {
			return
		}
		for k := range t.Role.Defaults {
			sc.names[k] = true
		}
		for k := range t.Role.Vars {
			sc.names[k] = true
		}
	})
	return sc
}

// playChecks checks the templates of a play's own keywords.
func (c *checker) playChecks(ps *playState, sc *scope) {
	p := ps.play
	c.text(ps, c.keyPos(p.Pos, "name"), p.Name, sc)
	c.text(ps, c.keyPos(p.Pos, "hosts"), p.Hosts, sc)
	for _, v := range p.Vars {
		c.varValue(ps, v, sc)
	}
	for _, v := range p.VarsFiles {
		c.value(ps, v, sc)
	}
	for _, v := range []playbook.Value{p.GatherFacts, p.GatherSubset, p.Become, p.BecomeUser, p.BecomeMethod, p.BecomeFlags,
		p.RemoteUser, p.Connection, p.Environment, p.Serial, p.MaxFailPercentage, p.AnyErrorsFatal, p.IgnoreErrors,
		p.IgnoreUnreachable, p.CheckMode, p.Diff, p.NoLog, p.ForceHandlers} {
		c.value(ps, v, sc)
	}
}

// tasks checks a list of tasks in scope sc.
func (c *checker) tasks(ps *playState, tasks []*playbook.Task, sc *scope) {
	for _, t := range tasks {
		c.task(ps, t, sc)
	}
}

func (c *checker) task(ps *playState, t *playbook.Task, outer *scope) {
	sc := outer.child()
	sc.taskDir = filepath.Dir(t.Pos.File)
	if t.Role != nil {
		sc.roleDir = t.Role.Dir
	}
	for _, v := range t.Vars {
		sc.names[v.Name] = true
	}
	if t.Loop.Set() {
		lv := t.LoopControl.LoopVar
		if lv == "" {
			lv = "item"
		}
		sc.names[lv] = true
		if t.LoopControl.IndexVar != "" {
			sc.names[t.LoopControl.IndexVar] = true
		}
	}
	for _, n := range t.Notify {
		pos := c.notifyPos(t, n)
		ps.notify = append(ps.notify, notification{name: n, pos: pos})
		if strings.Contains(n, "{{") {
			ps.dynamic = true
			c.text(ps, pos, n, sc)
		}
	}
	if t.Name != "" {
		c.text(ps, c.keyPos(t.Pos, "name"), t.Name, sc)
	} else if !t.IsBlock() && !c.skipped(RuleNameMissing) {
		c.add(t.Pos, RuleNameMissing, "%s has no name: add name: to say what it does", what(t))
	}
	for _, v := range t.Vars {
		c.varValue(ps, v, sc)
	}
	c.conds(ps, t.When, sc)
	c.conds(ps, t.FailedWhen, sc)
	c.conds(ps, t.ChangedWhen, sc)
	c.conds(ps, t.Until, sc)
	c.value(ps, t.Loop, sc)
	if t.LoopControl.Label != "" {
		c.text(ps, c.keyPos(c.keyPos(t.Pos, "loop_control"), "label"), t.LoopControl.Label, sc)
	}
	for _, v := range []playbook.Value{t.IgnoreErrors, t.IgnoreUnreachable, t.Environment, t.CheckMode, t.Diff, t.NoLog,
		t.Become, t.BecomeUser, t.BecomeMethod, t.BecomeFlags, t.RemoteUser, t.Connection, t.DelegateTo, t.RunOnce,
		t.Throttle, t.Timeout, t.Retries, t.Delay, t.AnyErrorsFatal, t.LoopControl.Pause, t.LoopControl.Extended, t.Async, t.Poll} {
		c.value(ps, v, sc)
	}
	if t.IsBlock() {
		for _, l := range [][]*playbook.Task{t.Block, t.Rescue, t.Always} {
			c.tasks(ps, l, sc)
		}
		return
	}
	c.args(ps, t, sc)
	c.commandModule(t)
	c.riskyOctal(t)
	if t.Module == "include_tasks" {
		in := c.include(t)
		if in != nil {
			c.tasks(ps, in.tasks, sc)
		}
		if file, _ := t.Args["file"].(string); in == nil && strings.Contains(file, "{{") || in != nil && in.err != nil {
			// A file named by a template ("setup-{{ os }}.yml", a loop's
			// item), or one that does not load (already reported): its
			// notifications are unknown, as with a templated notify, so
			// any handler may be notified.
			ps.dynamic = true
		}
	}
}

func what(t *playbook.Task) string {
	return fmt.Sprintf("task (%s)", t.ModuleKey)
}

// notifyPos returns the position of name in the task's notify list.
func (c *checker) notifyPos(t *playbook.Task, name string) playbook.Pos {
	n := c.keyValue(t.Pos, "notify")
	if n == nil {
		return t.Pos
	}
	at := func(n *yaml.Node) playbook.Pos { return playbook.Pos{File: t.Pos.File, Line: n.Line, Col: n.Column} }
	if n.Kind == yaml.SequenceNode {
		for _, item := range n.Content {
			if item.Value == name {
				return at(item)
			}
		}
	}
	return at(n)
}

// args checks the templates in a module's arguments.
func (c *checker) args(ps *playState, t *playbook.Task, sc *scope) {
	keys := make([]string, 0, len(t.Args))
	for k := range t.Args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		pos, ok := t.ArgsPos[k]
		if !ok {
			pos = t.ModulePos
		}
		v := t.Args[k]
		switch {
		case t.Module == "debug" && k == "var":
			// debug prints VARIABLE IS NOT DEFINED! instead of failing.
			continue
		case t.Module == "assert" && k == "that":
			c.assertThat(ps, pos, v, sc)
			continue
		case t.Module == "include_tasks", t.Module == "meta":
			continue
		}
		if n := c.valueNode(pos); n != nil {
			c.node(ps, pos.File, n, sc)
		} else if n := c.nodeAt(pos); n != nil && t.FreeForm && n.Kind == yaml.ScalarNode {
			c.node(ps, pos.File, n, sc)
		} else {
			c.raw(ps, pos, v, sc)
		}
		if t.Module == "template" && k == "src" {
			if s, ok := v.(string); ok && !strings.Contains(s, "{{") {
				c.templateFile(ps, s, sc)
			}
		}
	}
}

// assertThat checks assert's that: a condition or a list of them.
func (c *checker) assertThat(ps *playState, pos playbook.Pos, v any, sc *scope) {
	n := c.valueNode(pos)
	if n != nil && n.Kind == yaml.SequenceNode {
		for _, item := range n.Content {
			if item.Kind == yaml.ScalarNode {
				c.cond(ps, playbook.Expr{Pos: playbook.Pos{File: pos.File, Line: item.Line, Col: item.Column}, Text: item.Value}, sc)
			}
		}
		return
	}
	if n != nil && n.Kind == yaml.ScalarNode {
		pos = playbook.Pos{File: pos.File, Line: n.Line, Col: n.Column}
	}
	switch x := v.(type) {
	case string:
		c.cond(ps, playbook.Expr{Pos: pos, Text: x}, sc)
	case []any:
		for _, e := range x {
			if s, ok := e.(string); ok {
				c.cond(ps, playbook.Expr{Pos: pos, Text: s}, sc)
			}
		}
	}
}

// templateFile checks the template file a template task renders.
func (c *checker) templateFile(ps *playState, src string, sc *scope) {
	var dirs []string
	if sc.roleDir != "" {
		dirs = append(dirs, sc.roleDir)
	}
	dirs = append(dirs, sc.taskDir, ps.pb.Dir)
	path := ""
	if filepath.IsAbs(src) {
		path = src
	} else {
		for _, d := range dirs {
			for _, p := range []string{filepath.Join(d, "templates", src), filepath.Join(d, src)} {
				if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
					path = p
					break
				}
			}
			if path != "" {
				break
			}
		}
	}
	if path == "" {
		return
	}
	data, err := c.l.readFile(path)
	if err != nil {
		return
	}
	c.check(ps, playbook.Pos{File: path, Line: 1, Col: 1}, string(data), false, true, sc)
}

// varValue checks the templates in a variable's definition.
func (c *checker) varValue(ps *playState, v playbook.Var, sc *scope) {
	if n := c.valueNode(v.Pos); n != nil {
		c.node(ps, v.Pos.File, n, sc)
		return
	}
	c.raw(ps, v.Pos, v.Value, sc)
}

// value checks the templates in a keyword's value.
func (c *checker) value(ps *playState, v playbook.Value, sc *scope) {
	if !v.Set() {
		return
	}
	if n := c.nodeAt(v.Pos); n != nil {
		c.node(ps, v.Pos.File, n, sc)
		return
	}
	c.raw(ps, v.Pos, v.V, sc)
}

// node checks every string in a YAML node, each at its own position.
func (c *checker) node(ps *playState, file string, n *yaml.Node, sc *scope) {
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias != nil {
			c.node(ps, file, n.Alias, sc)
		}
	case yaml.SequenceNode, yaml.MappingNode:
		for _, e := range n.Content {
			c.node(ps, file, e, sc)
		}
	case yaml.ScalarNode:
		if n.ShortTag() != "!!str" {
			return
		}
		pos := playbook.Pos{File: file, Line: n.Line, Col: n.Column}
		if n.Style&yaml.LiteralStyle != 0 {
			if !strings.Contains(n.Value, "{{") && !strings.Contains(n.Value, "{%") {
				return
			}
			c.check(ps, pos, n.Value, false, false, sc, literalBlock(c.source(file), n))
			return
		}
		c.text(ps, pos, n.Value, sc)
	}
}

// literalBlock maps a line of a literal block scalar to its position.
func literalBlock(src *source, n *yaml.Node) func(line, col int) (int, int) {
	return func(line, col int) (int, int) {
		l := n.Line + line
		indent := 0
		if src != nil && l-1 < len(src.lines) {
			s := src.lines[l-1]
			indent = len(s) - len(strings.TrimLeft(s, " "))
		}
		return l, indent + col
	}
}

// raw checks every string in a decoded value, all at pos.
func (c *checker) raw(ps *playState, pos playbook.Pos, v any, sc *scope) {
	switch x := v.(type) {
	case string:
		c.text(ps, pos, x, sc)
	case []any:
		for _, e := range x {
			c.raw(ps, pos, e, sc)
		}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			c.text(ps, pos, k, sc)
			c.raw(ps, pos, x[k], sc)
		}
	}
}

func (c *checker) conds(ps *playState, es []playbook.Expr, sc *scope) {
	for _, e := range es {
		c.cond(ps, e, sc)
	}
}

// cond checks a condition: a bare pipeline.
func (c *checker) cond(ps *playState, e playbook.Expr, sc *scope) {
	if strings.Contains(e.Text, "{{") {
		msg := fmt.Sprintf("condition %q contains {{ }}: write the bare pipeline without braces", short(e.Text))
		if _, err := c.eng.Cond(e.Text, map[string]any{}); err != nil {
			var te *templates.Error
			if errors.As(err, &te) && strings.Contains(te.Err.Error(), "contains {{ }}") {
				msg = te.Err.Error()
			}
		}
		c.add(e.Pos, RuleWhenBraces, "%s", msg)
		return
	}
	c.check(ps, e.Pos, e.Text, true, false, sc)
}

// text checks a string that may be a template.
func (c *checker) text(ps *playState, pos playbook.Pos, s string, sc *scope) {
	if !strings.Contains(s, "{{") && !strings.Contains(s, "{%") {
		return
	}
	c.check(ps, pos, s, false, false, sc)
}

// check parses a template (or condition) and reports its syntax errors and
// undefined variables. inFile says pos is the start of a template file, so
// uses are reported at their own line and column; at maps lines of a
// literal block to file positions.
func (c *checker) check(ps *playState, pos playbook.Pos, s string, cond, inFile bool, sc *scope, at ...func(line, col int) (int, int)) {
	uses, err := unguarded(c.eng.Analyze(s, cond))
	if err != nil {
		uses = c.syntax(pos, s, cond, inFile, err)
		if uses == nil {
			return
		}
	}
	if ps.open {
		return
	}
	for _, u := range uses {
		if sc.has(u.Name) || strings.HasPrefix(u.Name, "ansible_") {
			continue
		}
		upos := pos
		switch {
		case inFile:
			upos.Line, upos.Col = lineCol(s, u.Offset)
		case len(at) > 0:
			l, col := lineCol(s, u.Offset)
			upos.Line, upos.Col = at[0](l, col)
		}
		c.add(upos, RuleVarUndefined, "variable %q is used but defined nowhere (vars, vars_files, roles, inventory, register, set_fact, -e): define it, or guard the use with default or hasKey", u.Name)
	}
}

// syntax reports a template that does not parse: Jinja when the templates
// engine recognises it, a syntax error otherwise. When the engine accepts
// what this package's function list does not, it returns the uses found
// without checking function names.
func (c *checker) syntax(pos playbook.Pos, s string, cond, inFile bool, perr error) []templates.Use {
	var err error
	if cond {
		_, err = c.eng.Cond(s, map[string]any{})
	} else {
		_, err = c.eng.RenderString("", s, map[string]any{})
	}
	var te *templates.Error
	errors.As(err, &te)
	switch {
	case te != nil && te.Hint != "":
		what := "template"
		if cond {
			what = "condition"
		}
		c.add(c.inside(pos, te, inFile), RuleJinjaSyntax, "%s %q is written in Jinja: write %s", what, short(s), te.Hint)
		return nil
	case te != nil && te.Undefined == "" && strings.Contains(te.Err.Error(), parseMsg(perr)):
		c.add(c.inside(pos, te, inFile), RuleTemplateSyntax, "%s", te.Err.Error())
		return nil
	}
	uses, err2 := unguarded(templates.AnalyzeSyntax(s, cond))
	if err2 != nil {
		c.add(pos, RuleTemplateSyntax, "%s", parseMsg(err2))
		return nil
	}
	return uses
}

// inside returns the position of a template error inside a template file.
func (c *checker) inside(pos playbook.Pos, te *templates.Error, inFile bool) playbook.Pos {
	if inFile && te.Line > 0 {
		pos.Line = te.Line
		pos.Col = 1
		if te.Col > 0 {
			pos.Col = te.Col
		}
	}
	return pos
}

// parseMsg strips text/template's "template: NAME:LINE: " prefix.
func parseMsg(err error) string {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "template: ")
	if i := strings.Index(msg, ": "); i >= 0 && strings.HasPrefix(msg, "t:") {
		msg = msg[i+2:]
	}
	return msg
}

func short(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + " ..."
	}
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}
