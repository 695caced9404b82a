// Package playbook loads playbooks into an immutable AST that keeps the
// file:line:col of every node and validates them against the module
// registry. It also defines the events a run reports (events.go), the
// vocabulary shared by the engine (package engine) and the output
// formatters. Running a playbook is package engine's job.
package playbook

import (
	"fmt"
)

// Pos is a position in a source file.
type Pos struct {
	File string
	Line int
	Col  int
}

func (p Pos) String() string {
	switch {
	case p.File == "":
		return fmt.Sprintf("%d:%d", p.Line, p.Col)
	case p.Line == 0:
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Error is an error about playbook content at a position.
type Error struct {
	Pos Pos
	Msg string
}

func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// Playbook is one loaded playbook file. The AST is never mutated after
// loading; the engine derives per-host values from it.
type Playbook struct {
	Path  string // as given
	Dir   string // directory of the file (playbook_dir)
	Plays []*Play
}

// Expr is a condition (bare template pipeline) with its position.
type Expr struct {
	Pos  Pos
	Text string
}

// Value is a raw (unrendered) YAML value with its position.
type Value struct {
	Pos Pos
	V   any // nil when not given
}

// Set reports whether the value was given in the source.
func (v Value) Set() bool { return v.Pos.Line != 0 }

// Play is one play of a playbook.
type Play struct {
	Pos               Pos
	Name              string
	Hosts             string // host pattern (a YAML list is joined with ",")
	Vars              []Var
	VarsFiles         []Value // strings (templates) or lists of alternatives
	GatherFacts       Value
	GatherSubset      Value
	Become            Value
	BecomeUser        Value
	BecomeMethod      Value
	BecomeFlags       Value
	RemoteUser        Value
	Connection        Value
	Environment       Value
	Serial            Value
	Strategy          string
	MaxFailPercentage Value
	AnyErrorsFatal    Value
	IgnoreErrors      Value
	IgnoreUnreachable Value
	Order             string
	CheckMode         Value
	Diff              Value
	NoLog             Value
	ForceHandlers     Value
	Collections       []string         // the collections keyword (see Task)
	ModuleDefaults    []map[string]any // module_defaults (see Task)
	Tags              []string
	PreTasks          []*Task
	Roles             []*Task // one block per role application (after dependencies)
	Tasks             []*Task
	PostTasks         []*Task
	Handlers          []*Task
}

// Var is one variable definition, kept in source order.
type Var struct {
	Pos   Pos
	Name  string
	Value any
}

// Task is a task, a handler or a block.
type Task struct {
	Pos  Pos
	Name string

	// Module call (empty for blocks).
	Module    string // canonical name (without ansible.builtin.)
	ModuleKey string // as written
	ModulePos Pos
	Args      map[string]any // raw args; free-form text under modules.RawParams
	ArgsPos   map[string]Pos // position of each argument key
	FreeForm  bool           // args were given as a string

	// Block.
	Block  []*Task
	Rescue []*Task
	Always []*Task
	// Role is set on the block that holds a role's tasks (and on each of
	// the role's handlers): its defaults and vars apply inside.
	Role *Role
	// Apply holds include_tasks' apply keywords (a block without tasks).
	Apply *Task
	// RoleName is the role a task comes from ("" outside roles); output
	// shows it as "role : task", as Ansible does.
	RoleName string

	When        []Expr
	Loop        Value // list, or a template string that evaluates to one
	LoopControl LoopControl
	// LoopWith names the lookup of a with_NAME loop (items, list, dict,
	// subelements, ...; short, without ansible.builtin.): the engine
	// turns the rendered Loop value into items as query("NAME") does.
	// Empty for loop.
	LoopWith string
	Register string
	Notify   []string
	Listen   []string
	Tags     []string
	Vars     []Var

	IgnoreErrors      Value
	IgnoreUnreachable Value
	FailedWhen        []Expr
	ChangedWhen       []Expr
	Environment       Value
	CheckMode         Value
	Diff              Value
	NoLog             Value
	Become            Value
	BecomeUser        Value
	BecomeMethod      Value
	BecomeFlags       Value
	RemoteUser        Value
	Connection        Value
	DelegateTo        Value
	// DelegateFacts (with DelegateTo) gives the facts the task sets to
	// the delegated host instead of the task's host.
	DelegateFacts Value
	// Collections are the collections short module names are searched
	// in (the collections keyword); ModuleDefaults the module_defaults
	// mappings (module short name or "group/NS.COLL.GROUP" to arguments).
	Collections    []string
	ModuleDefaults []map[string]any
	RunOnce        Value
	Throttle       Value
	Timeout        Value
	Retries        Value
	Delay          Value
	Until          []Expr
	AnyErrorsFatal Value
	// Async is the most seconds the task may run (async:); Poll how
	// often the engine checks on it (poll:, default 10; 0 starts it in
	// the background and moves on).
	Async Value
	Poll  Value
}

// LoopControl is a task's loop_control.
type LoopControl struct {
	LoopVar  string // default "item"
	IndexVar string
	Label    string // template
	Pause    Value
	Extended Value
}

// IsBlock reports whether t is a block.
func (t *Task) IsBlock() bool { return t.Module == "" }

// DisplayName is the name shown in output: the task's name, or the module
// as written when it has none.
func (t *Task) DisplayName() string {
	name := t.Name
	if name == "" {
		name = t.ModuleKey
	}
	if t.RoleName != "" {
		return t.RoleName + " : " + name
	}
	return name
}

// SetRole marks tasks (recursively) as coming from role name, keeping
// the role of a task that already has one: the loader does it for a
// role's tasks and handlers, the engine for tasks a role includes.
func SetRole(tasks []*Task, name string) {
	for _, t := range tasks {
		if t.RoleName == "" {
			t.RoleName = name
		}
		SetRole(t.Block, name)
		SetRole(t.Rescue, name)
		SetRole(t.Always, name)
	}
}

// Role is one application of a role.
type Role struct {
	Name     string
	Dir      string
	Defaults map[string]any // defaults/main.yml: the lowest precedence
	Vars     map[string]any // vars/main.yml: above play vars_files
}
