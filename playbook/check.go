package playbook

import (
	"fmt"
	"strings"

	"github.com/mdo-play/mdo-play/modules"
	"github.com/mdo-play/mdo-play/templates"
	"github.com/mdo-play/mdo-play/templates/yaml11"
)

// Load-time checks of values that are only used when a task runs: keyword
// scalars of the wrong type and template syntax are reported with their
// positions before any host is touched, like unknown keys.

// boolKeywords and intKeywords are checked when given as literals.
func (p *parser) checkBool(name string, v Value) {
	if !v.Set() || v.V == nil || isTemplateValue(v.V) {
		return
	}
	if _, err := yaml11.Bool(v.V); err != nil {
		p.d.errs = append(p.d.errs, &Error{Pos: v.Pos, Msg: fmt.Sprintf("%s: %v", name, err)})
	}
}

func (p *parser) checkInt(name string, v Value) {
	if !v.Set() || v.V == nil || isTemplateValue(v.V) {
		return
	}
	if n, err := modules.Convert(modules.TypeInt, v.V); err != nil || n.(int) < 0 {
		p.d.errs = append(p.d.errs, &Error{Pos: v.Pos, Msg: fmt.Sprintf("%s: expected a whole number of at least 0, got %s %v", name, modules.TypeName(v.V), v.V)})
	}
}

func isTemplateValue(v any) bool {
	s, ok := v.(string)
	return ok && strings.Contains(s, "{{")
}

// checkTemplates parses every template string inside v.
func (p *parser) checkTemplates(pos Pos, what string, v any) {
	if p.l.Templates == nil {
		return
	}
	switch x := v.(type) {
	case string:
		if err := p.l.Templates.Check(x); err != nil {
			p.d.errs = append(p.d.errs, &Error{Pos: pos, Msg: fmt.Sprintf("%s: %v", what, err)})
		}
	case []any:
		for _, e := range x {
			p.checkTemplates(pos, what, e)
		}
	case map[string]any:
		for k, e := range x {
			p.checkTemplates(pos, what, k)
			p.checkTemplates(pos, what, e)
		}
	}
}

func (p *parser) checkConds(what string, exprs []Expr) {
	if p.l.Templates == nil {
		return
	}
	for _, e := range exprs {
		if err := p.l.Templates.CheckCond(e.Text); err != nil {
			p.d.errs = append(p.d.errs, &Error{Pos: e.Pos, Msg: fmt.Sprintf("%s: %v", what, err)})
		}
	}
}

func (p *parser) checkVars(vars []Var) {
	for _, v := range vars {
		p.checkTemplates(v.Pos, fmt.Sprintf("variable %q", v.Name), v.Value)
	}
}

// checkPlay checks a play's keyword values and templates.
func (p *parser) checkPlay(play *Play) {
	for name, v := range map[string]Value{
		"gather_facts": play.GatherFacts, "become": play.Become, "any_errors_fatal": play.AnyErrorsFatal,
		"ignore_errors": play.IgnoreErrors, "ignore_unreachable": play.IgnoreUnreachable, "check_mode": play.CheckMode,
		"diff": play.Diff, "no_log": play.NoLog, "force_handlers": play.ForceHandlers,
	} {
		p.checkBool(name, v)
	}
	if v := play.MaxFailPercentage; v.Set() && v.V != nil && !isTemplateValue(v.V) {
		ok := false
		switch x := v.V.(type) {
		case int:
			ok = x >= 0 && x <= 100
		case float64:
			ok = x >= 0 && x <= 100
		case string:
			var f float64
			_, err := fmt.Sscanf(strings.TrimSuffix(x, "%"), "%g", &f)
			ok = err == nil && f >= 0 && f <= 100
		}
		if !ok {
			p.d.errs = append(p.d.errs, &Error{Pos: v.Pos, Msg: fmt.Sprintf("max_fail_percentage: expected a number from 0 to 100, got %s %v", modules.TypeName(v.V), v.V)})
		}
	}
	if v := play.Serial; v.Set() && v.V != nil && !templates.ContainsTemplate(v.V) {
		if _, err := BatchSizes(v.V, 100); err != nil {
			p.d.errs = append(p.d.errs, &Error{Pos: v.Pos, Msg: err.Error()})
		}
	}
	p.checkTemplates(play.Pos, "hosts", play.Hosts)
	p.checkTemplates(play.Pos, "play name", play.Name)
	p.checkVars(play.Vars)
}

// checkTask checks a task's keyword values, conditions and templates.
func (p *parser) checkTask(t *Task) {
	for name, v := range map[string]Value{
		"ignore_errors": t.IgnoreErrors, "ignore_unreachable": t.IgnoreUnreachable, "check_mode": t.CheckMode,
		"diff": t.Diff, "no_log": t.NoLog, "become": t.Become, "run_once": t.RunOnce, "any_errors_fatal": t.AnyErrorsFatal,
	} {
		p.checkBool(name, v)
	}
	for name, v := range map[string]Value{"throttle": t.Throttle, "timeout": t.Timeout, "retries": t.Retries, "delay": t.Delay, "async": t.Async, "poll": t.Poll} {
		p.checkInt(name, v)
	}
	p.checkConds("when", t.When)
	p.checkConds("failed_when", t.FailedWhen)
	p.checkConds("changed_when", t.ChangedWhen)
	p.checkConds("until", t.Until)
	p.checkVars(t.Vars)
	p.checkTemplates(t.Pos, "name", t.Name)
	if t.Loop.Set() {
		p.checkTemplates(t.Loop.Pos, "loop", t.Loop.V)
	}
	if t.Module == "" || t.Module == "meta" {
		return
	}
	var spec *modules.Spec
	if m, ok := p.l.Registry.Lookup(t.Module); ok {
		spec = m.Spec()
	}
	for k, v := range t.Args {
		pos := t.ArgsPos[k]
		if spec != nil {
			if a, ok := spec.Arg(k); ok && a.Raw {
				if t.Module == "assert" && a.Name == "that" {
					p.checkConds("assert that", rawConds(pos, v))
				}
				continue
			}
		}
		p.checkTemplates(pos, ArgName(k), v)
	}
}

// rawConds turns assert's that (a string or a list) into conditions.
func rawConds(pos Pos, v any) []Expr {
	switch x := v.(type) {
	case string:
		return []Expr{{Pos: pos, Text: x}}
	case []any:
		var out []Expr
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, Expr{Pos: pos, Text: s})
			}
		}
		return out
	}
	return nil
}

// checkNotify reports notify names that match no handler of the play (by
// name, "role : name" or listen topic). Ansible stops the run with "The
// requested handler ... was not found" when such a task changes; we say it
// before anything runs. Templated names are checked when they are rendered.
func (p *parser) checkNotify(play *Play) {
	known := map[string]bool{}
	var names []string
	for _, h := range play.Handlers {
		for _, n := range append([]string{h.Name}, h.Listen...) {
			if n != "" && !known[n] {
				known[n] = true
				names = append(names, n)
			}
		}
		if h.Name != "" && h.RoleName != "" {
			known[h.RoleName+" : "+h.Name] = true
		}
	}
	var walk func([]*Task)
	walk = func(ts []*Task) {
		for _, t := range ts {
			for _, n := range t.Notify {
				if !known[n] && !strings.Contains(n, "{{") {
					p.d.errs = append(p.d.errs, &Error{Pos: t.Pos, Msg: fmt.Sprintf("notify: no handler named %q in this play%s", n, suggest(n, names))})
				}
			}
			walk(t.Block)
			walk(t.Rescue)
			walk(t.Always)
		}
	}
	for _, section := range [][]*Task{play.PreTasks, play.Roles, play.Tasks, play.PostTasks, play.Handlers} {
		walk(section)
	}
}

// ArgName names a module argument in messages; the free form (`command: ls
// -l`) is not an argument the user wrote by name.
func ArgName(k string) string {
	if k == modules.RawParams {
		return "free-form arguments"
	}
	return fmt.Sprintf("argument %q", k)
}
