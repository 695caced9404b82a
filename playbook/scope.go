package playbook

import "slices"

// scope is the chain of blocks around a task, up to the play. Keywords set
// on a block apply to every task inside it.
type scope struct {
	play    *Play
	parent  *scope
	block   *Task
	handler bool
}

func (s *scope) child(b *Task) *scope {
	return &scope{play: s.play, parent: s, block: b, handler: s.handler}
}

// blocks returns the enclosing blocks, outermost first.
func (s *scope) blocks() []*Task {
	var out []*Task
	for c := s; c != nil; c = c.parent {
		if c.block != nil {
			out = append(out, c.block)
		}
	}
	slices.Reverse(out)
	return out
}

// keyword returns the innermost value of a keyword that is set: the task's
// own, then its blocks' (inner first), then the play's.
func (s *scope) keyword(t *Task, get func(*Task) Value, play func(*Play) Value) Value {
	if t != nil {
		if v := get(t); v.Set() {
			return v
		}
	}
	for c := s; c != nil; c = c.parent {
		if c.block != nil {
			if v := get(c.block); v.Set() {
				return v
			}
		}
	}
	if play != nil && s.play != nil {
		return play(s.play)
	}
	return Value{}
}

// when returns every condition that applies to t, outermost first.
func (s *scope) when(t *Task) []Expr {
	var out []Expr
	for _, b := range s.blocks() {
		out = append(out, b.When...)
	}
	return append(out, t.When...)
}

// tags returns the union of the play's, the blocks' and the task's tags.
func (s *scope) tags(t *Task) []string {
	var out []string
	if s.play != nil {
		out = append(out, s.play.Tags...)
	}
	for _, b := range s.blocks() {
		out = append(out, b.Tags...)
	}
	return append(out, t.Tags...)
}

// TagsSelected applies --tags and --skip-tags to a task's tags, following
// Ansible: `always` runs unless skipped explicitly, `never` runs only when
// asked for, `all`, `tagged` and `untagged` are special.
func TagsSelected(tags, only, skip []string) bool {
	has := func(l []string, x string) bool { return slices.Contains(l, x) }
	if len(only) == 0 {
		only = []string{"all"}
	}
	run := false
	switch {
	case has(tags, "always") && !has(skip, "always"):
		run = true
	case has(only, "all") && !has(tags, "never"):
		run = true
	case has(only, "tagged") && len(tags) > 0 && !has(tags, "never"):
		run = true
	case has(only, "untagged") && len(tags) == 0:
		run = true
	default:
		for _, t := range tags {
			if has(only, t) {
				run = true
				break
			}
		}
	}
	if !run {
		return false
	}
	if has(skip, "all") && !(has(tags, "always") && !has(skip, "always")) {
		return false
	}
	if has(skip, "tagged") && len(tags) > 0 {
		return false
	}
	if has(skip, "untagged") && len(tags) == 0 {
		return false
	}
	for _, t := range tags {
		if has(skip, t) {
			return false
		}
	}
	return true
}
