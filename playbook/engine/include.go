package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/mdo-play/mdo-play/playbook"
)

// includeInstance is one file included for a set of hosts (with one loop item).
type includeInstance struct {
	path    string
	item    any
	hasItem bool
	hosts   []*hostState
}

// runInclude runs include_tasks: per host (and loop item) the file name is
// rendered, hosts that include the same file with the same item run its
// tasks together, and the tasks are loaded when first needed.
func (st *state) runInclude(ctx context.Context, pc *playCtx, hosts []*hostState, t *playbook.Task, sc *scope) []*hostState {
	st.banner(pc, t, playbook.EventTask)
	var (
		order  []string
		insts  = map[string]*includeInstance{}
		failed []*hostState
	)
	loopVar := t.LoopControl.LoopVar
	if loopVar == "" {
		loopVar = "item"
	}
	fail := func(h *hostState, msg string) {
		st.Sink.Emit(playbook.Event{Kind: playbook.EventHost, Time: time.Now(), Play: pc.play.Name, Task: t.DisplayName(), Pos: t.Pos, Module: t.Module,
			Host: h.name(), Status: playbook.StatusFailed, Result: map[string]any{"failed": true, "changed": false, "msg": msg}})
		h.stats.Failed++
		failed = append(failed, h)
	}
	for _, h := range hosts {
		vs := st.taskVars(pc, h, sc, t)
		items, hasItems := []any{nil}, t.Loop.Set()
		if hasItems {
			var err error
			if items, err = st.loopItems(ctx, pc, t, sc, vs); err != nil {
				fail(h, taskError(t, err))
				continue
			}
		}
		skipped := true
		var ferr error
		for i, item := range items {
			ivs := vs
			if hasItems {
				ivs = st.withItem(vs, loopVar, item, t.LoopControl.IndexVar, i, nil)
			}
			ok, err := st.conds(sc.when(t), ivs)
			if err != nil {
				ferr = err
				break
			}
			if !ok {
				continue
			}
			skipped = false
			file, err := st.Templates.RenderString("", fmt.Sprint(t.Args["file"]), ivs.m)
			if err != nil {
				ferr = ivs.explain(err)
				break
			}
			if !filepath.IsAbs(file) {
				dir, _ := t.Args["dir"].(string)
				file = filepath.Join(dir, file)
			}
			key := file
			if hasItems {
				b, _ := json.Marshal(item)
				key += "\x00" + string(b)
			}
			in, ok := insts[key]
			if !ok {
				in = &includeInstance{path: file, item: item, hasItem: hasItems}
				insts[key] = in
				order = append(order, key)
			}
			in.hosts = append(in.hosts, h)
		}
		switch {
		case ferr != nil:
			fail(h, taskError(t, ferr))
		case skipped:
			st.Sink.Emit(playbook.Event{Kind: playbook.EventHost, Time: time.Now(), Play: pc.play.Name, Task: t.DisplayName(), Pos: t.Pos, Module: t.Module,
				Host: h.name(), Status: playbook.StatusSkipped, Result: map[string]any{"changed": false, "skipped": true, "skip_reason": "Conditional result was False"}})
			h.stats.Skipped++
		}
	}
	for _, key := range order {
		in := insts[key]
		if _, err := st.includeTasks(in.path, t.RoleName); err != nil {
			continue // reported as the hosts' failure below
		}
		names := make([]string, len(in.hosts))
		for i, h := range in.hosts {
			names[i] = h.name()
			h.stats.OK++ // Ansible counts each (host, item) include as ok
		}
		st.Sink.Emit(playbook.Event{Kind: playbook.EventIncluded, Time: time.Now(), Play: pc.play.Name, Task: t.DisplayName(), Pos: t.Pos,
			Msg: in.path, Hosts: names, Item: in.item, HasItem: in.hasItem})
	}
	down := toSet(failed)
	for _, key := range order {
		in := insts[key]
		tasks, err := st.includeTasks(in.path, t.RoleName)
		if err != nil {
			for _, h := range in.hosts {
				if !down[h] {
					fail(h, taskError(t, err))
					down[h] = true
				}
			}
			continue
		}
		blk := &playbook.Task{Pos: t.Pos}
		if t.Apply != nil {
			cp := *t.Apply
			blk = &cp
		}
		blk.Block = tasks
		blk.Vars = append(append([]playbook.Var{}, blk.Vars...), t.Vars...)
		if in.hasItem {
			blk.Vars = append(blk.Vars, playbook.Var{Pos: t.Pos, Name: loopVar, Value: in.item})
		}
		run := without(in.hosts, func(h *hostState) bool { return down[h] || h.unreachable })
		for _, h := range st.runList(ctx, pc, run, []*playbook.Task{blk}, sc) {
			down[h] = true
			failed = append(failed, h)
		}
	}
	return unique(failed)
}

// includeTasks loads (once per run) the tasks of an included file. Tasks
// included from a role's task belong to that role, as in Ansible: their
// output names carry the "role : " prefix.
func (st *state) includeTasks(path, role string) ([]*playbook.Task, error) {
	st.includeMu.Lock()
	defer st.includeMu.Unlock()
	if e, ok := st.includes[path]; ok {
		return e.tasks, e.err
	}
	if st.Loader == nil {
		return nil, fmt.Errorf("include_tasks %s: no loader", path)
	}
	if _, err := os.Stat(path); err != nil {
		err = fmt.Errorf("could not find or access %s", path)
		st.includes[path] = includeEntry{nil, err}
		return nil, err
	}
	tasks, err := st.Loader.LoadTasks(path)
	if err != nil {
		err = fmt.Errorf("include_tasks %s: %w", path, err)
	}
	if role != "" {
		playbook.SetRole(tasks, role)
	}
	st.includes[path] = includeEntry{tasks, err}
	return tasks, err
}

type includeEntry struct {
	tasks []*playbook.Task
	err   error
}
