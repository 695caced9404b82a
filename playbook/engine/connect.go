package engine

import (
	"context"
	"fmt"

	"github.com/mdo-play/mdo-play/modules/conn"
	"github.com/mdo-play/mdo-play/playbook"
	"github.com/mdo-play/mdo-play/templates/yaml11"
)

// connSettings says how a task reaches its host: every connection keyword
// and variable of the task, rendered for one host (and loop item).
type connSettings struct {
	target     string         // the host the task runs on
	delegate   string         // delegate_to host; "" when the task runs on its own host
	vars       map[string]any // the target's connection variables
	connection string         // ssh or local
	user       string
	become     *BecomeSpec // nil without become
	env        map[string]string
}

// resolveConn renders the connection keywords of t for h: delegate_to,
// connection, remote_user, become and its settings, environment.
func (st *state) resolveConn(h *hostState, t *playbook.Task, sc *scope, vs varSet) (*connSettings, error) {
	cs := &connSettings{target: h.name(), vars: vs.m}
	delegate, err := st.evalString(sc.keyword(t, func(t *playbook.Task) playbook.Value { return t.DelegateTo }, nil), vs)
	if err != nil {
		return nil, err
	}
	if delegate != "" && delegate != h.name() {
		// The task runs on another host, with that host's connection
		// variables and the delegating host's other variables.
		cs.target, cs.delegate = delegate, delegate
		cs.vars = map[string]any{}
		if ih, ok := st.invHost(delegate); ok {
			cs.vars = st.invHostVars(ih)
		}
	}
	cvars := cs.vars
	connection, _ := cvars["ansible_connection"].(string)
	if connection == "" {
		s, err := st.evalString(sc.keyword(t, func(t *playbook.Task) playbook.Value { return t.Connection }, func(p *playbook.Play) playbook.Value { return p.Connection }), vs)
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
	cs.connection = connection
	user, _ := cvars["ansible_user"].(string)
	if user == "" {
		s, err := st.evalString(sc.keyword(t, func(t *playbook.Task) playbook.Value { return t.RemoteUser }, func(p *playbook.Play) playbook.Value { return p.RemoteUser }), vs)
		if err != nil {
			return nil, err
		}
		user = s
	}
	if user == "" {
		user = st.Options.RemoteUser
	}
	cs.user = user

	become := st.Options.Become
	if v := sc.keyword(t, func(t *playbook.Task) playbook.Value { return t.Become }, func(p *playbook.Play) playbook.Value { return p.Become }); v.Set() {
		b, err := st.evalBool(v, vs, become)
		if err != nil {
			return nil, err
		}
		become = b
	}
	if b, ok := vs.m["ansible_become"]; ok {
		x, err := yaml11.Bool(b)
		if err != nil {
			return nil, fmt.Errorf("variable ansible_become (%s): %w", st.varOrigin(h, "ansible_become"), err)
		}
		become = x
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
			get  func(*playbook.Task) playbook.Value
			play func(*playbook.Play) playbook.Value
			vars []string
		}{
			{&spec.Method, func(t *playbook.Task) playbook.Value { return t.BecomeMethod }, func(p *playbook.Play) playbook.Value { return p.BecomeMethod }, []string{"ansible_become_method"}},
			{&spec.User, func(t *playbook.Task) playbook.Value { return t.BecomeUser }, func(p *playbook.Play) playbook.Value { return p.BecomeUser }, []string{"ansible_become_user"}},
			{&spec.Flags, func(t *playbook.Task) playbook.Value { return t.BecomeFlags }, func(p *playbook.Play) playbook.Value { return p.BecomeFlags }, []string{"ansible_become_flags"}},
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
		cs.become = &spec
	}

	for _, ev := range st.environment(sc, t) {
		r, err := st.Templates.RenderValue(ev.V, vs.m)
		if err != nil {
			return nil, &playbook.Error{Pos: ev.Pos, Msg: "environment: " + vs.explain(err).Error()}
		}
		m, ok := r.(map[string]any)
		if !ok {
			if r == nil {
				continue
			}
			return nil, &playbook.Error{Pos: ev.Pos, Msg: fmt.Sprintf("environment must be a mapping, got %T", r)}
		}
		if cs.env == nil {
			cs.env = map[string]string{}
		}
		for k, v := range m {
			cs.env[k] = fmt.Sprint(v)
		}
	}
	return cs, nil
}

// openConn opens (or reuses) the connection cs describes and wraps it for
// become and environment.
func (st *state) openConn(ctx context.Context, cs *connSettings) (conn.Conn, error) {
	c, err := st.connect(ctx, ConnectSpec{Host: cs.target, Connection: cs.connection, User: cs.user, Vars: cs.vars})
	if err != nil {
		return nil, err
	}
	if cs.become != nil {
		c, err = st.become(c, cs.target+"\x00"+cs.connection+"\x00"+cs.user, *cs.become)
		if err != nil {
			return nil, err
		}
	}
	if len(cs.env) > 0 {
		c = conn.WithEnv(c, cs.env)
	}
	return c, nil
}

// become returns the become connection for spec over c, the connection
// opened under connKey: one per (connection, method, user, flags,
// password) for the whole run, so that its privilege check runs once and
// its long-lived shells serve every task; it is closed with the
// connections at the end of the run.
func (st *state) become(c conn.Conn, connKey string, spec BecomeSpec) (conn.Conn, error) {
	key := "become\x00" + connKey + "\x00" + spec.Method + "\x00" + spec.User + "\x00" + spec.Flags + "\x00" + spec.Password
	return st.cachedConn(key, func() (conn.Conn, error) { return st.Connector.Become(c, spec) })
}

// environment returns the environment keywords that apply, outermost first.
func (st *state) environment(sc *scope, t *playbook.Task) []playbook.Value {
	var out []playbook.Value
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
