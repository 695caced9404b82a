package inventory

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"sort"
	"strings"
	"time"

	"github.com/mdo-play/mdo-play/templates/pyjson"
)

// runScript loads an executable (dynamic) inventory: "path --list" prints
// JSON groups (each {hosts, vars, children}, a bare list of hosts, or a
// mapping of vars for a host named like the group) and optionally
// _meta.hostvars; without _meta, "path --host H" is run for each host.
func (inv *Inventory) runScript(ctx context.Context, path string, timeout time.Duration) error {
	out, err := execScript(ctx, timeout, path, "--list")
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	groups, err := orderedObject(dec)
	if err != nil {
		return fmt.Errorf("inventory script %s --list: parse output as a JSON object: %w", path, err)
	}

	var (
		meta     map[string]any
		hasMeta  bool
		scripted []*Host
		seen     = map[*Host]bool{}
	)
	for _, kv := range groups {
		if kv.key == "_meta" {
			m, ok := kv.val.(map[string]any)
			if !ok {
				return fmt.Errorf("inventory script %s --list: _meta: expected an object", path)
			}
			if hv, ok := m["hostvars"]; ok {
				meta, ok = hv.(map[string]any)
				if !ok {
					return fmt.Errorf("inventory script %s --list: _meta.hostvars: expected an object", path)
				}
				hasMeta = true
			}
			continue
		}
		hosts, err := inv.scriptGroup(path, kv.key, kv.val)
		if err != nil {
			return fmt.Errorf("inventory script %s --list: %w", path, err)
		}
		for _, h := range hosts {
			if !seen[h] {
				seen[h] = true
				scripted = append(scripted, h)
			}
		}
	}

	for _, h := range scripted {
		var vars any
		if hasMeta {
			vars = meta[h.Name]
		} else {
			out, err := execScript(ctx, timeout, path, "--host", h.Name)
			if err != nil {
				return err
			}
			if err := decodeJSON(out, &vars); err != nil {
				return fmt.Errorf("inventory script %s --host %s: parse output as JSON: %w", path, h.Name, err)
			}
		}
		if vars == nil {
			continue
		}
		m, ok := vars.(map[string]any)
		if !ok {
			return fmt.Errorf("inventory script %s: vars of host %q: expected an object", path, h.Name)
		}
		for k, v := range m {
			h.setVar(k, v)
		}
	}
	return nil
}

// scriptGroup adds one group of a script's --list output.
func (inv *Inventory) scriptGroup(path, name string, data any) ([]*Host, error) {
	g := inv.addGroup(name)
	obj, isObj := data.(map[string]any)
	if !isObj {
		obj = map[string]any{"hosts": data}
	} else if _, h := obj["hosts"]; !h {
		_, v := obj["vars"]
		_, c := obj["children"]
		if !v && !c {
			obj = map[string]any{"hosts": []any{name}, "vars": obj}
		}
	}
	var hosts []*Host
	if hv, ok := obj["hosts"]; ok {
		list, ok := hv.([]any)
		if !ok {
			return nil, fmt.Errorf("group %q: hosts: expected a list of host names", name)
		}
		for _, x := range list {
			s, ok := x.(string)
			if !ok || s == "" {
				return nil, fmt.Errorf("group %q: hosts: expected host names, got %v", name, x)
			}
			hosts = append(hosts, inv.addHost(s, g))
		}
	}
	if vv, ok := obj["vars"]; ok {
		vars, ok := vv.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("group %q: vars: expected an object", name)
		}
		for k, v := range vars {
			if err := setGroupVar(g, k, v); err != nil {
				return nil, err
			}
		}
	}
	if cv, ok := obj["children"]; ok {
		var names []string
		switch c := cv.(type) {
		case []any:
			for _, x := range c {
				s, ok := x.(string)
				if !ok {
					return nil, fmt.Errorf("group %q: children: expected group names, got %v", name, x)
				}
				names = append(names, s)
			}
		case map[string]any:
			for k := range c {
				names = append(names, k)
			}
			sort.Strings(names)
		default:
			return nil, fmt.Errorf("group %q: children: expected a list of group names", name)
		}
		for _, cn := range names {
			if err := inv.linkChild(g, inv.addGroup(cn)); err != nil {
				return nil, err
			}
		}
	}
	return hosts, nil
}

// execScript runs path with args and returns its stdout; errors carry the
// exit status and stderr.
func execScript(ctx context.Context, timeout time.Duration, path string, args ...string) ([]byte, error) {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, path, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = time.Second // do not wait forever on grandchildren holding the pipes
	err := cmd.Run()
	if ctxErr := ctx.Err(); ctxErr != nil && err != nil {
		if errors.Is(ctxErr, context.DeadlineExceeded) {
			return nil, fmt.Errorf("inventory script %s %s: timed out after %s", path, strings.Join(args, " "), timeout)
		}
		return nil, fmt.Errorf("inventory script %s %s: %w", path, strings.Join(args, " "), ctxErr)
	}
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			return nil, fmt.Errorf("inventory script %s %s: %w", path, strings.Join(args, " "), err)
		}
		return nil, fmt.Errorf("inventory script %s %s: %w: %s", path, strings.Join(args, " "), err, msg)
	}
	return stdout.Bytes(), nil
}

type jsonKV struct {
	key string
	val any
}

// orderedObject decodes a JSON object keeping its key order (group order
// in a script's output is inventory order).
func orderedObject(dec *json.Decoder) ([]jsonKV, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("expected an object, got %v", tok)
	}
	var out []jsonKV
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("expected a key, got %v", tok)
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		out = append(out, jsonKV{key, pyjson.Numbers(v)})
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	return out, nil
}

func decodeJSON(data []byte, v *any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	*v = pyjson.Numbers(*v)
	return nil
}
