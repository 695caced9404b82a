package playbook

import (
	"context"
	"fmt"
	"os"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// hostConn returns the connection a task uses on h: the host's connection
// (opened once per run and connection settings), wrapped for become and the
// task's environment.
func (st *run) hostConn(ctx context.Context, h *hostState, t *Task, sc *scope, vs varSet) (conn.Conn, string, error) {
	target, cvars := h.name(), vs.m
	delegate, err := st.evalString(sc.keyword(t, func(t *Task) Value { return t.DelegateTo }, nil), vs)
	if err != nil {
		return nil, "", err
	}
	if delegate != "" && delegate != h.name() {
		// The task runs on another host, with that host's connection
		// variables and the delegating host's other variables.
		target = delegate
		cvars = map[string]any{}
		if ih, ok := st.Inventory.Host(delegate); ok {
			cvars = st.Inventory.HostVars(ih)
		}
	} else {
		delegate = ""
	}
	c, err := st.openConn(ctx, target, t, sc, vs, cvars)
	return c, delegate, err
}

// openConn opens (or reuses) the connection to target and wraps it for
// become and environment; cvars are the target's connection variables.
func (st *run) openConn(ctx context.Context, target string, t *Task, sc *scope, vs varSet, cvars map[string]any) (conn.Conn, error) {
	connection, _ := cvars["ansible_connection"].(string)
	if connection == "" {
		s, err := st.evalString(sc.keyword(t, func(t *Task) Value { return t.Connection }, func(p *Play) Value { return p.Connection }), vs)
		if err != nil {
			return nil, err
		}
		connection = s
	}
	if connection == "" {
		connection = st.Options.Connection
	}
	if connection == "" {
		connection = "ssh"
	}
	switch connection {
	case "ssh", "local", "paramiko", "smart":
	default:
		return nil, fmt.Errorf("unknown connection type %q: expected ssh or local", connection)
	}
	if connection == "paramiko" || connection == "smart" {
		connection = "ssh"
	}
	user, _ := cvars["ansible_user"].(string)
	if user == "" {
		s, err := st.evalString(sc.keyword(t, func(t *Task) Value { return t.RemoteUser }, func(p *Play) Value { return p.RemoteUser }), vs)
		if err != nil {
			return nil, err
		}
		user = s
	}
	if user == "" {
		user = st.Options.RemoteUser
	}
	c, err := st.connect(ctx, ConnectSpec{Host: target, Connection: connection, User: user, Vars: cvars})
	if err != nil {
		return nil, err
	}

	become := st.Options.Become
	if v := sc.keyword(t, func(t *Task) Value { return t.Become }, func(p *Play) Value { return p.Become }); v.Set() {
		b, err := st.evalBool(v, vs, become)
		if err != nil {
			return nil, err
		}
		become = b
	}
	if b, ok := vs.m["ansible_become"]; ok {
		if x, err := parseBoolAny(b); err == nil {
			become = x
		}
	}
	if become {
		spec := BecomeSpec{Method: "sudo", User: "root"}
		if st.Options.BecomeMethod != "" {
			spec.Method = st.Options.BecomeMethod
		}
		if st.Options.BecomeUser != "" {
			spec.User = st.Options.BecomeUser
		}
		// Each setting: the keyword (task, block, play), then the
		// connection variables, which win as in Ansible.
		for _, f := range []struct {
			dst  *string
			get  func(*Task) Value
			play func(*Play) Value
			vars []string
		}{
			{&spec.Method, func(t *Task) Value { return t.BecomeMethod }, func(p *Play) Value { return p.BecomeMethod }, []string{"ansible_become_method"}},
			{&spec.User, func(t *Task) Value { return t.BecomeUser }, func(p *Play) Value { return p.BecomeUser }, []string{"ansible_become_user"}},
			{&spec.Flags, func(t *Task) Value { return t.BecomeFlags }, func(p *Play) Value { return p.BecomeFlags }, []string{"ansible_become_flags"}},
			{&spec.Password, nil, nil, []string{"ansible_become_password", "ansible_become_pass"}},
		} {
			if f.get != nil {
				s, err := st.evalString(sc.keyword(t, f.get, f.play), vs)
				if err != nil {
					return nil, err
				}
				if s != "" {
					*f.dst = s
				}
			}
			for _, k := range f.vars {
				if s, ok := vs.m[k].(string); ok && s != "" {
					*f.dst = s
					break
				}
			}
		}
		c, err = st.become(c, target+"\x00"+connection+"\x00"+user, spec)
		if err != nil {
			return nil, err
		}
	}

	envs := st.environment(sc, t)
	if len(envs) > 0 {
		env := map[string]string{}
		for _, ev := range envs {
			r, err := st.Templates.RenderValue(ev.V, vs.m)
			if err != nil {
				return nil, &Error{Pos: ev.Pos, Msg: "environment: " + vs.explain(err).Error()}
			}
			m, ok := r.(map[string]any)
			if !ok {
				if r == nil {
					continue
				}
				return nil, &Error{Pos: ev.Pos, Msg: fmt.Sprintf("environment must be a mapping, got %T", r)}
			}
			for k, v := range m {
				env[k] = fmt.Sprint(v)
			}
		}
		if len(env) > 0 {
			c = conn.WithEnv(c, env)
		}
	}
	return c, nil
}

// become returns the become connection for spec over c, the connection
// opened under connKey: one per (connection, method, user, flags,
// password) for the whole run, so that its privilege check runs once and
// its long-lived shells serve every task; it is closed with the
// connections at the end of the run.
func (st *run) become(c conn.Conn, connKey string, spec BecomeSpec) (conn.Conn, error) {
	key := "become\x00" + connKey + "\x00" + spec.Method + "\x00" + spec.User + "\x00" + spec.Flags + "\x00" + spec.Password
	st.connsMu.Lock()
	e, ok := st.conns[key]
	if !ok {
		e = &connEntry{}
		st.conns[key] = e
	}
	st.connsMu.Unlock()
	e.once.Do(func() { e.c, e.err = st.Connector.Become(c, spec) })
	return e.c, e.err
}

func parseBoolAny(v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		switch x {
		case "yes", "true", "True", "on", "1":
			return true, nil
		case "no", "false", "False", "off", "0":
			return false, nil
		}
	}
	return false, fmt.Errorf("not a boolean: %v", v)
}

// environment returns the environment keywords that apply, outermost first.
func (st *run) environment(sc *scope, t *Task) []Value {
	var out []Value
	if sc.play != nil && sc.play.Environment.Set() {
		out = append(out, sc.play.Environment)
	}
	for _, b := range sc.blocks() {
		if b.Environment.Set() {
			out = append(out, b.Environment)
		}
	}
	if t.Environment.Set() {
		out = append(out, t.Environment)
	}
	return out
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
