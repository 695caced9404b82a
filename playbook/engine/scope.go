package engine

import (
	"slices"

	"github.com/mdo-play/mdo-play/playbook"
)

// scope is the chain of blocks around a task, up to the play. Keywords set
// on a block apply to every task inside it.
type scope struct {
	play    *playbook.Play
	parent  *scope
	block   *playbook.Task
	handler bool
	lane    *lane // the walk this list belongs to; nil for gathering facts and handlers
}

func (s *scope) child(b *playbook.Task) *scope {
	return &scope{play: s.play, parent: s, block: b, handler: s.handler, lane: s.lane}
}

// lane is the state of one walk through a section's tasks: under the
// linear strategy the play's only walk, under free one walk per host, each
// in its own goroutine. Only that goroutine reads or writes it.
type lane struct {
	// forked: the goroutine already holds a fork slot (a free-strategy
	// host), so the tasks it runs take no other.
	forked bool
	// startAt is the --start-at-task name while it has not been reached.
	startAt string
}

// blocks returns the enclosing blocks, outermost first.
func (s *scope) blocks() []*playbook.Task {
	var out []*playbook.Task
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
func (s *scope) keyword(t *playbook.Task, get func(*playbook.Task) playbook.Value, play func(*playbook.Play) playbook.Value) playbook.Value {
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
	return playbook.Value{}
}

// when returns every condition that applies to t, outermost first.
func (s *scope) when(t *playbook.Task) []playbook.Expr {
	var out []playbook.Expr
	for _, b := range s.blocks() {
		out = append(out, b.When...)
	}
	return append(out, t.When...)
}

// tags returns the union of the play's, the blocks' and the task's tags.
func (s *scope) tags(t *playbook.Task) []string {
	var out []string
	if s.play != nil {
		out = append(out, s.play.Tags...)
	}
	for _, b := range s.blocks() {
		out = append(out, b.Tags...)
	}
	return append(out, t.Tags...)
}
