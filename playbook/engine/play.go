package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/mdo-play/mdo-play/playbook"
	"github.com/mdo-play/mdo-play/templates"
)

// playCtx is the per-play state shared by the play's hosts (read-only while
// a task runs).
type playCtx struct {
	pb           *playbook.Playbook
	play         *playbook.Play
	playVars     map[string]any
	filesVars    map[string]any
	hosts        []*hostState
	playHosts    []any
	groups       map[string]any
	hostvars     map[string]any
	handlers     []*playbook.Task
	byName       map[string][]*playbook.Task // notify name or listen topic → handlers
	lane         lane                        // the linear walk (and --start-at-task until reached)
	allHosts     []any                       // ansible_play_hosts_all
	batch        []*hostState                // the hosts of the current serial batch
	free         bool                        // strategy: free
	aborted      bool                        // failure policy stopped the play
	quietAbort   bool                        // ... because every host failed (no banner)
	maxFailAbort bool                        // ... by max_fail_percentage
	ended        bool                        // meta: end_play
	endBatch     bool                        // meta: end_batch
	stopRun      bool                        // ... and the rest of the run
	lastTask     *playbook.Task              // last task banner shown (free strategy)
	invGen       int                         // the inventory generation groups reflects
	mu           sync.Mutex
}

func (st *state) play(ctx context.Context, pb *playbook.Playbook, play *playbook.Play) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	pc := &playCtx{pb: pb, play: play, lane: lane{startAt: st.Options.StartAtTask}}
	pc.playVars = make(map[string]any, len(play.Vars))
	for _, v := range play.Vars {
		pc.playVars[v.Name] = v.Value
	}
	// The hosts pattern and vars_files names may use play and extra vars.
	base := st.merge([]varLayer{{pc.playVars, true}, {st.Options.ExtraVars, true}})
	invHosts, err := st.selectHosts(play, base.m)
	if err != nil {
		return err
	}
	invHosts = sortHosts(invHosts, play.Order)
	names := make([]string, len(invHosts))
	for i, h := range invHosts {
		names[i] = h.Name
	}
	st.Sink.Emit(playbook.Event{Kind: playbook.EventPlay, Time: time.Now(), Play: play.Name, Pattern: play.Hosts, Pos: play.Pos, Hosts: names})
	if len(invHosts) == 0 {
		st.Sink.Emit(playbook.Event{Kind: playbook.EventNoHosts, Time: time.Now(), Play: play.Name, Pos: play.Pos})
		return nil
	}
	fv, err := st.loadVarsFiles(pb, play, base.m)
	if err != nil {
		return err
	}
	pc.filesVars = fv
	for _, ih := range invHosts {
		h, ok := st.hosts[ih.Name]
		if !ok {
			h = &hostState{host: ih, invVars: st.invHostVars(ih), setVars: map[string]any{}, notified: map[*playbook.Task]bool{}, invGen: st.invGen}
			st.hosts[ih.Name] = h
			st.order = append(st.order, ih.Name)
		} else if h.invGen != st.invGen {
			// add_host or group_by changed the inventory since.
			h.host, h.invVars, h.invGen = ih, st.invHostVars(ih), st.invGen
			h.dirty = true
		}
		h.ended = false
		pc.hosts = append(pc.hosts, h)
		pc.playHosts = append(pc.playHosts, ih.Name)
	}
	pc.groups, pc.invGen = st.groupsVar()
	pc.handlers = play.Handlers
	pc.byName = map[string][]*playbook.Task{}
	for _, h := range play.Handlers {
		if h.Name != "" {
			pc.byName[h.Name] = append(pc.byName[h.Name], h)
			if h.RoleName != "" {
				full := h.RoleName + " : " + h.Name
				pc.byName[full] = append(pc.byName[full], h)
			}
		}
		for _, l := range h.Listen {
			pc.byName[l] = append(pc.byName[l], h)
		}
	}
	serial, err := st.renderValue(play.Serial, base)
	if err != nil {
		return err
	}
	sizes, err := playbook.BatchSizes(serial, len(pc.hosts))
	if err != nil {
		return &playbook.Error{Pos: play.Serial.Pos, Msg: err.Error()}
	}
	strategy := play.Strategy
	if templates.IsTemplate(strategy) {
		if strategy, err = st.Templates.RenderString("", strategy, base.m); err != nil {
			return &playbook.Error{Pos: play.Pos, Msg: "strategy: " + err.Error()}
		}
	}
	pc.free = strategy == "free"
	return st.runBatches(ctx, pc, sizes)
}

// renderValue renders a keyword's value with vs.
func (st *state) renderValue(v playbook.Value, vs varSet) (any, error) {
	if !v.Set() || v.V == nil {
		return nil, nil
	}
	r, err := st.Templates.RenderValue(v.V, vs.m)
	if err != nil {
		return nil, &playbook.Error{Pos: v.Pos, Msg: vs.explain(err).Error()}
	}
	return r, nil
}

// alive returns the batch's hosts that have not failed or become unreachable.
func (pc *playCtx) alive() []*hostState {
	var out []*hostState
	for _, h := range pc.batch {
		if !h.failed && !h.unreachable && !h.ended {
			out = append(out, h)
		}
	}
	return out
}

// refreshHostvars rebuilds the shared hostvars map when a host's variables
// changed since the last task. It runs between tasks, never concurrently
// with them.
func (st *state) refreshHostvars(pc *playCtx) {
	dirty := pc.hostvars == nil
	for _, h := range st.hosts {
		if h.dirty || h.hostvars == nil {
			dirty = true
			break
		}
	}
	if !dirty {
		return
	}
	m := make(map[string]any, len(st.hosts))
	for name, h := range st.hosts {
		m[name] = h.hostvarsEntry()
	}
	pc.hostvars = m
}

// loadVarsFiles reads the play's vars_files (relative to the playbook).
// An entry that is a list names alternatives: the first that exists is used.
func (st *state) loadVarsFiles(pb *playbook.Playbook, play *playbook.Play, vars map[string]any) (map[string]any, error) {
	out := map[string]any{}
	for _, vf := range play.VarsFiles {
		var candidates []any
		if l, ok := vf.V.([]any); ok {
			candidates = l
		} else {
			candidates = []any{vf.V}
		}
		loaded := false
		var tried []string
		for _, c := range candidates {
			name, err := st.Templates.RenderString("", fmt.Sprint(c), vars)
			if err != nil {
				return nil, &playbook.Error{Pos: vf.Pos, Msg: fmt.Sprintf("vars_files: %v", err)}
			}
			path := name
			if !filepath.IsAbs(path) {
				path = filepath.Join(pb.Dir, path)
			}
			tried = append(tried, path)
			data, err := st.readFile(path)
			if os.IsNotExist(err) && len(candidates) > 1 {
				continue
			}
			if err != nil {
				return nil, &playbook.Error{Pos: vf.Pos, Msg: fmt.Sprintf("vars_files: %v", err)}
			}
			m, err := playbook.DecodeVarsFile(path, data)
			if err != nil {
				return nil, err
			}
			for k, v := range m {
				out[k] = v
			}
			loaded = true
			break
		}
		if !loaded {
			return nil, &playbook.Error{Pos: vf.Pos, Msg: fmt.Sprintf("vars_files: none of %v exists", tried)}
		}
	}
	return out, nil
}

func (st *state) readFile(path string) ([]byte, error) {
	if st.ReadFile != nil {
		return st.ReadFile(path)
	}
	return os.ReadFile(path)
}

// gatherFacts reports whether the play gathers facts first: gather_facts
// defaults to true, as in Ansible, when the setup module is available.
func (st *state) gatherFacts(pc *playCtx) bool {
	if !st.Registry.Has("setup") {
		return false
	}
	return st.boolKeyword(pc.play.GatherFacts, varSet{m: pc.playVars}, true)
}

// stopping reports whether end_play or end_batch has stopped the walk
// (set by a meta task, possibly in another host's lane).
func (pc *playCtx) stopping() bool {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	return pc.ended || pc.endBatch
}
