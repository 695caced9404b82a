package templates

import (
	"fmt"
	"net"
	"sort"
	"strings"

	"github.com/google/uuid"
)

// This file holds more Ansible and Jinja filters that public roles use:
// dict2items with key and value names, product, groupby, to_uuid,
// ternary with a none value and ipwrap.

// dict2itemsKV is dict2items(key_name=k, value_name=v).
func dict2itemsKV(keyName, valueName string, v any) ([]any, error) {
	l, err := dict2items(v)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(l))
	for i, e := range l {
		m := e.(map[string]any)
		out[i] = map[string]any{keyName: m["key"], valueName: m["value"]}
	}
	return out, nil
}

// product is Ansible's product filter, Python's itertools.product of the
// value and the lists given: every combination, as lists.
func product(args ...any) ([]any, error) {
	lists := make([][]any, 0, len(args))
	// The value comes last (piped); itertools.product takes it first.
	all := append([]any{args[len(args)-1]}, args[:len(args)-1]...)
	for _, a := range all {
		l, err := items("product", a)
		if err != nil {
			return nil, err
		}
		lists = append(lists, l)
	}
	out := []any{[]any{}}
	for _, l := range lists {
		var next []any
		for _, prefix := range out {
			for _, e := range l {
				p := append(append([]any(nil), prefix.([]any)...), e)
				next = append(next, p)
			}
		}
		out = next
	}
	if out == nil {
		out = []any{}
	}
	return out, nil
}

// groupby is Jinja's groupby filter: the items sorted by the (dotted)
// attribute and grouped by its value, strings compared without case, as
// Jinja 3 does by default. Each group is a mapping with grouper (the
// attribute of the group's first item) and list (its items), as Jinja's
// named tuple is read by attribute.
func groupby(attr string, v any) ([]any, error) {
	l, err := items("groupby", v)
	if err != nil {
		return nil, err
	}
	type entry struct {
		key, shown, item any
	}
	es := make([]entry, len(l))
	for i, e := range l {
		val, ok := attrOf(e, attr)
		if !ok {
			return nil, &undefinedError{path: fmt.Sprintf("[%d].%s", i, attr)}
		}
		key := val
		if s, isStr := val.(string); isStr {
			key = strings.ToLower(s)
		}
		es[i] = entry{key: key, shown: val, item: e}
	}
	var cmpErr error
	sort.SliceStable(es, func(i, j int) bool {
		c, err := pyCompare(es[i].key, es[j].key)
		if err != nil && cmpErr == nil {
			cmpErr = err
		}
		return c < 0
	})
	if cmpErr != nil {
		return nil, fmt.Errorf("groupby: %w", cmpErr)
	}
	out := []any{}
	for i := 0; i < len(es); {
		j := i
		var group []any
		for ; j < len(es) && pyEqual(es[j].key, es[i].key); j++ {
			group = append(group, es[j].item)
		}
		out = append(out, map[string]any{"grouper": es[i].shown, "list": group})
		i = j
	}
	return out, nil
}

// ansibleUUIDNamespace is the namespace of Ansible's to_uuid filter.
var ansibleUUIDNamespace = uuid.MustParse("361E6D51-FAEC-444A-9079-341386DA8E2E")

// toUUID is Ansible's to_uuid: the version 5 UUID of the text in
// Ansible's namespace, or in the namespace given.
func toUUID(args ...any) (string, error) {
	ns := ansibleUUIDNamespace
	if len(args) > 1 {
		var err error
		if ns, err = uuid.Parse(pyStr(args[0])); err != nil {
			return "", fmt.Errorf("to_uuid: %w", err)
		}
	}
	return uuid.NewSHA1(ns, []byte(pyStr(args[len(args)-1]))).String(), nil
}

// ternaryNone is ternary(true_val, false_val, none_val): none_val when
// the value is none.
func ternaryNone(t, f, none, cond any) any {
	if cond == nil {
		return none
	}
	return ternary(t, f, cond)
}

// ipwrap is ansible.utils' ipwrap: an IPv6 address or network in
// brackets ("[::1]", "[2001:db8::]/64"), anything else as it is; a list
// gives each item so.
func ipwrap(v any) any {
	if l, ok := v.([]any); ok {
		out := make([]any, len(l))
		for i, e := range l {
			out[i] = ipwrap(e)
		}
		return out
	}
	s, ok := v.(string)
	if !ok {
		return v
	}
	addr, prefix, hasPrefix := strings.Cut(s, "/")
	if ip := net.ParseIP(addr); ip == nil || ip.To4() != nil {
		return s
	}
	if hasPrefix {
		return "[" + addr + "]/" + prefix
	}
	return "[" + addr + "]"
}
