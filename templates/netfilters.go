package templates

import (
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/jmespath/go-jmespath"
)

// This file holds Ansible filters from collections that real roles use
// often: ansible.utils' ipaddr, ipv4 and ipv6 (the common queries),
// community.general's json_query, and ansible-core's subelements and
// urlsplit.

// ipaddrFunc returns the filter ipaddr (version 0), ipv4 or ipv6 with
// ansible.utils' meaning for a string (or a list of strings): the value
// when it is a valid address or network (of that version), false when it
// is not; with a query, that part of it. A list gives the valid items (or
// their parts). Queries: "" (the value), address, network, netmask,
// hostmask, prefix, host, host/prefix, address/prefix, broadcast, net,
// cidr, size, public, private, version.
func ipaddrFunc(version int) func(args ...any) (any, error) {
	name := "ipaddr"
	if version != 0 {
		name = "ipv" + strconv.Itoa(version)
	}
	return func(args ...any) (any, error) {
		if len(args) == 0 || len(args) > 2 {
			return nil, fmt.Errorf("%s: wrong number of arguments", name)
		}
		v := args[len(args)-1]
		query := ""
		if len(args) == 2 {
			query = pyStr(args[0])
		}
		if l, ok := v.([]any); ok {
			var out []any
			for _, e := range l {
				r, err := ipQuery(name, version, e, query)
				if err != nil {
					return nil, err
				}
				if r != false {
					out = append(out, r)
				}
			}
			if out == nil {
				out = []any{}
			}
			return out, nil
		}
		return ipQuery(name, version, v, query)
	}
}

// ipQuery answers one query for one value, or false.
func ipQuery(name string, version int, v any, query string) (any, error) {
	s, ok := v.(string)
	if !ok {
		return false, nil
	}
	s = strings.TrimSpace(s)
	var ip net.IP
	var ipnet *net.IPNet
	isNet := strings.Contains(s, "/")
	if isNet {
		var err error
		if ip, ipnet, err = net.ParseCIDR(s); err != nil {
			return false, nil
		}
	} else {
		if ip = net.ParseIP(s); ip == nil {
			return false, nil
		}
		bits := 128
		if ip.To4() != nil {
			bits = 32
		}
		ipnet = &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)}
	}
	ver := 6
	if ip.To4() != nil {
		ver = 4
		ip = ip.To4()
	}
	if version != 0 && ver != version {
		return false, nil
	}
	ones, bits := ipnet.Mask.Size()
	network := ipnet.IP.Mask(ipnet.Mask)
	size := uint64(1)
	if bits-ones < 64 {
		size = uint64(1) << uint(bits-ones)
	}
	switch query {
	case "":
		return s, nil
	case "address":
		// netaddr: a network's own address is no host address.
		if isNet && size > 1 && ip.Equal(network) {
			return false, nil
		}
		return ip.String(), nil
	case "network":
		return network.String(), nil
	case "netmask":
		return net.IP(ipnet.Mask).String(), nil
	case "prefix":
		return ones, nil
	case "host":
		if size == 1 || !ip.Equal(network) || !isNet {
			return ip.String() + "/" + strconv.Itoa(ones), nil
		}
		return false, nil
	case "host/prefix", "address/prefix":
		if isNet && size > 2 && (ip.Equal(network) || ip.Equal(broadcastOf(network, ipnet.Mask))) {
			return false, nil
		}
		return ip.String() + "/" + strconv.Itoa(ones), nil
	case "cidr":
		return network.String() + "/" + strconv.Itoa(ones), nil
	case "hostmask":
		m := make(net.IP, len(ipnet.Mask))
		for i := range ipnet.Mask {
			m[i] = ^ipnet.Mask[i]
		}
		return m.String(), nil
	case "net":
		if size > 1 && ip.Equal(network) {
			return network.String() + "/" + strconv.Itoa(ones), nil
		}
		return false, nil
	case "broadcast":
		if size <= 2 {
			return nil, nil
		}
		return broadcastOf(network, ipnet.Mask).String(), nil
	case "size":
		return size, nil
	case "version":
		return ver, nil
	case "public", "private":
		private := ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsUnspecified()
		if private == (query == "private") {
			return s, nil
		}
		return false, nil
	}
	return nil, fmt.Errorf("%s: unknown filter type: %s", name, query)
}

// broadcastOf is the last address of a network.
func broadcastOf(network net.IP, mask net.IPMask) net.IP {
	b := make(net.IP, len(network))
	for i := range network {
		b[i] = network[i] | ^mask[i]
	}
	return b
}

// subelements is Ansible's subelements filter (ansible-core
// plugins/filter/core.py): the pairs (element, value) for each value of
// the list at the (dotted) key of each element of obj.
func subelements(key any, skipMissing any, obj any) ([]any, error) {
	var elems []any
	switch o := obj.(type) {
	case []any:
		elems = o
	case map[string]any:
		var err error
		if elems, err = dictValues(o); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("obj must be a list of dicts or a nested dict")
	}
	var path []any
	switch k := key.(type) {
	case string:
		for _, p := range strings.Split(k, ".") {
			path = append(path, p)
		}
	case []any:
		path = k
	default:
		return nil, fmt.Errorf("subelements must be a list or a string")
	}
	out := []any{}
	for _, e := range elems {
		values := e
		missing := false
		for _, p := range path {
			m, ok := values.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("the key %v should point to a dictionary, got '%s'", p, pyStr(values))
			}
			next, found := m[pyStr(p)]
			if !found {
				if truthy(skipMissing) {
					missing = true
					break
				}
				return nil, fmt.Errorf("could not find '%v' key in iterated item %s", p, pyStr(values))
			}
			values = next
		}
		if missing {
			continue
		}
		l, ok := values.([]any)
		if !ok {
			return nil, fmt.Errorf("the key '%s' should point to a list, got %s", pyStr(key), pyStr(values))
		}
		for _, v := range l {
			out = append(out, []any{e, v})
		}
	}
	return out, nil
}

// urlsplit is Ansible's urlsplit filter: the parts of a URL as Python's
// urllib.parse.urlsplit gives them, or one part.
func urlsplit(args ...any) (any, error) {
	if len(args) == 0 || len(args) > 2 {
		return nil, fmt.Errorf("urlsplit: wrong number of arguments")
	}
	raw := pyStr(args[len(args)-1])
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("urlsplit: %w", err)
	}
	var port any
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil {
			return nil, fmt.Errorf("urlsplit: port could not be cast to integer value as %q", p)
		}
		port = n
	}
	var user, pass, host any
	if u.User != nil {
		user = u.User.Username()
		if p, ok := u.User.Password(); ok {
			pass = p
		}
	}
	if h := u.Hostname(); h != "" {
		host = strings.ToLower(h)
	}
	path := u.EscapedPath()
	if u.Opaque != "" {
		path = u.Opaque
	}
	parts := map[string]any{
		"scheme": strings.ToLower(u.Scheme), "netloc": u.Host, "path": path, "query": u.RawQuery,
		"fragment": u.EscapedFragment(), "username": user, "password": pass, "hostname": host, "port": port,
	}
	if u.User != nil {
		parts["netloc"] = u.User.String() + "@" + u.Host
	}
	if len(args) == 1 || pyStr(args[0]) == "" {
		return parts, nil
	}
	q := pyStr(args[0])
	if v, ok := parts[q]; ok {
		return v, nil
	}
	return nil, fmt.Errorf("urlsplit: unknown URL component: %s", q)
}

// jsonQuery is community.general's json_query: the JMESPath expression
// applied to the data.
func jsonQuery(expr any, data any) (any, error) {
	// go-jmespath compares numbers as float64: give it JSON's types.
	b, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("json_query: %w", err)
	}
	var in any
	if err := json.Unmarshal(b, &in); err != nil {
		return nil, fmt.Errorf("json_query: %w", err)
	}
	out, err := jmespath.Search(pyStr(expr), in)
	if err != nil {
		return nil, fmt.Errorf("JMESPathError in json_query filter plugin:\n%w", err)
	}
	return intsBack(out), nil
}

// intsBack turns the whole float64 numbers of JSON data back into ints,
// as Python's json keeps them.
func intsBack(v any) any {
	switch x := v.(type) {
	case float64:
		if x == float64(int64(x)) && x < 1e15 && x > -1e15 {
			return int(x)
		}
	case []any:
		for i := range x {
			x[i] = intsBack(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = intsBack(x[k])
		}
	}
	return v
}
