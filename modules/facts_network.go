package modules

// Network facts: interfaces, addresses and the default routes.

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// ifaceInfo is what the script reads of /sys/class/net/NAME.
type ifaceInfo struct {
	name, mac, typ string
	mtu            int
	active         bool
	promisc        bool
	ipv4           []map[string]any
	ipv6           []any
}

// networkFacts: interfaces, one fact per interface, all_ipv4_addresses,
// all_ipv6_addresses, default_ipv4 and default_ipv6, as Ansible's
// LinuxNetwork (from /proc and /sys, and `ip -o -4 addr` when present).
func networkFacts(secs []section, m map[string]string) map[string]any {
	ifs := map[string]*ifaceInfo{}
	var names []string
	for _, s := range secs {
		n, ok := strings.CutPrefix(s.key, "if:")
		if !ok {
			continue
		}
		f := strings.Fields(s.value)
		for len(f) < 5 {
			f = append(f, "")
		}
		ii := &ifaceInfo{name: n, mac: f[0], active: f[3] != "down"}
		ii.mtu, _ = strconv.Atoi(f[1])
		if fl, err := strconv.ParseUint(strings.TrimPrefix(f[4], "0x"), 16, 32); err == nil {
			ii.promisc = fl&0x100 != 0
		}
		switch {
		case len(f) > 5 && f[5] == "bridge":
			ii.typ = "bridge"
		case f[2] == "1":
			ii.typ = "ether"
		case f[2] == "772":
			ii.typ = "loopback"
		case f[2] == "512":
			ii.typ = "ppp"
		default:
			ii.typ = "unknown"
		}
		ifs[n] = ii
		names = append(names, n)
	}
	routes := parseRoutes(m["route"])
	if ip4, ok := m["ip4"]; ok {
		for _, l := range lines(ip4) {
			parseIPAddrLine(l, ifs)
		}
	} else {
		for _, a := range fibTrieLocal(m["fib_trie"]) {
			r, ok := routeFor(a, routes)
			if !ok {
				continue
			}
			ii := ifs[r.iface]
			if ii == nil {
				continue
			}
			prefix := bitsOf(r.mask)
			bcast := ""
			if ii.typ != "loopback" {
				bcast = ipString(r.dest | ^r.mask)
			}
			ii.ipv4 = append(ii.ipv4, ipv4Entry(a, prefix, bcast))
		}
	}
	for _, l := range lines(m["if_inet6"]) {
		f := strings.Fields(l)
		if len(f) < 6 || ifs[f[5]] == nil {
			continue
		}
		p, _ := strconv.ParseUint(f[2], 16, 8)
		ifs[f[5]].ipv6 = append(ifs[f[5]].ipv6, map[string]any{
			"address": ipv6String(f[0]), "prefix": strconv.Itoa(int(p)), "scope": ipv6Scope(f[3]),
		})
	}
	out := map[string]any{}
	all4, all6 := []any{}, []any{}
	ifaceList := []any{}
	for _, n := range names {
		ii := ifs[n]
		ifaceList = append(ifaceList, n)
		f := map[string]any{"device": n, "active": ii.active, "type": ii.typ, "mtu": ii.mtu, "promisc": ii.promisc}
		if ii.mac != "" && ii.mac != "00:00:00:00:00:00" {
			f["macaddress"] = ii.mac
		}
		if len(ii.ipv4) > 0 {
			f["ipv4"] = ii.ipv4[0]
			if len(ii.ipv4) > 1 {
				sec := make([]any, 0, len(ii.ipv4)-1)
				for _, a := range ii.ipv4[1:] {
					sec = append(sec, a)
				}
				f["ipv4_secondaries"] = sec
			}
			for _, a := range ii.ipv4 {
				if addr := a["address"].(string); !strings.HasPrefix(addr, "127.") {
					all4 = append(all4, addr)
				}
			}
		}
		if len(ii.ipv6) > 0 {
			f["ipv6"] = ii.ipv6
			for _, a := range ii.ipv6 {
				if addr := a.(map[string]any)["address"].(string); addr != "::1" {
					all6 = append(all6, addr)
				}
			}
		}
		out[strings.NewReplacer("-", "_", ":", "_", ".", "_").Replace(n)] = f
	}
	out["interfaces"] = ifaceList
	out["all_ipv4_addresses"] = all4
	out["all_ipv6_addresses"] = all6
	out["default_ipv4"] = map[string]any{}
	if r, ok := defaultRoute(routes); ok {
		if ii := ifs[r.iface]; ii != nil {
			d := map[string]any{"interface": r.iface, "gateway": ipString(r.gateway), "type": ii.typ, "mtu": ii.mtu}
			if ii.mac != "" && ii.mac != "00:00:00:00:00:00" {
				d["macaddress"] = ii.mac
			}
			if len(ii.ipv4) > 0 {
				for k, v := range ii.ipv4[0] {
					d[k] = v
				}
				d["alias"] = r.iface
				if l, ok := ii.ipv4[0]["label"].(string); ok {
					d["alias"] = l
				}
				delete(d, "label")
			}
			out["default_ipv4"] = d
		}
	}
	out["default_ipv6"] = map[string]any{}
	for _, l := range lines(m["ipv6_route"]) {
		f := strings.Fields(l)
		if len(f) < 10 || f[0] != strings.Repeat("0", 32) || f[1] != "00" || f[4] == strings.Repeat("0", 32) {
			continue
		}
		ii := ifs[f[9]]
		if ii == nil {
			continue
		}
		d := map[string]any{"interface": f[9], "gateway": ipv6String(f[4]), "type": ii.typ, "mtu": ii.mtu}
		if ii.mac != "" {
			d["macaddress"] = ii.mac
		}
		for _, a := range ii.ipv6 {
			if am := a.(map[string]any); am["scope"] == "global" {
				for k, v := range am {
					d[k] = v
				}
				break
			}
		}
		out["default_ipv6"] = d
		break
	}
	return out
}

// parseIPAddrLine reads one line of `ip -o -4 addr show`:
// "2: eth0    inet 10.0.0.5/24 brd 10.0.0.255 scope global eth0\ ...".
func parseIPAddrLine(l string, ifs map[string]*ifaceInfo) {
	l, _, _ = strings.Cut(l, `\`)
	f := strings.Fields(l)
	if len(f) < 4 || f[2] != "inet" {
		return
	}
	dev, _, _ := strings.Cut(f[1], "@")
	ii := ifs[dev]
	if ii == nil {
		return
	}
	addr, pfx, _ := strings.Cut(f[3], "/")
	prefix, err := strconv.Atoi(pfx)
	if err != nil {
		prefix = 32
	}
	bcast := ""
	for j := 4; j+1 < len(f); j++ {
		if f[j] == "brd" {
			bcast = f[j+1]
		}
	}
	e := ipv4Entry(addr, prefix, bcast)
	if label := f[len(f)-1]; label != dev && f[len(f)-2] != "scope" {
		e["label"] = label
	}
	ii.ipv4 = append(ii.ipv4, e)
}

func ipv4Entry(addr string, prefix int, bcast string) map[string]any {
	mask := uint32(0)
	if prefix > 0 {
		mask = ^uint32(0) << (32 - prefix)
	}
	return map[string]any{
		"address": addr, "broadcast": bcast, "netmask": ipString(mask),
		"network": ipString(ipValue(addr) & mask), "prefix": strconv.Itoa(prefix),
	}
}

// route is one /proc/net/route line, addresses in host order.
type route struct {
	iface               string
	dest, gateway, mask uint32
	metric              int
	flags               uint64
}

func parseRoutes(s string) []route {
	var out []route
	for i, l := range lines(s) {
		f := strings.Fields(l)
		if i == 0 || len(f) < 8 {
			continue
		}
		hex := func(x string) uint32 {
			n, _ := strconv.ParseUint(x, 16, 32)
			// /proc/net/route prints addresses in the kernel's (little-endian) byte order.
			return uint32(n)>>24 | uint32(n)>>8&0xff00 | uint32(n)<<8&0xff0000 | uint32(n)<<24
		}
		r := route{iface: f[0], dest: hex(f[1]), gateway: hex(f[2]), mask: hex(f[7])}
		r.flags, _ = strconv.ParseUint(f[3], 16, 32)
		r.metric, _ = strconv.Atoi(f[6])
		out = append(out, r)
	}
	return out
}

// defaultRoute is the up default route with the lowest metric.
func defaultRoute(rs []route) (route, bool) {
	var best route
	found := false
	for _, r := range rs {
		if r.dest == 0 && r.mask == 0 && r.flags&1 != 0 && (!found || r.metric < best.metric) {
			best, found = r, true
		}
	}
	return best, found
}

// routeFor is the most specific directly connected route holding addr.
func routeFor(addr string, rs []route) (route, bool) {
	a := ipValue(addr)
	var best route
	found := false
	for _, r := range rs {
		if r.gateway != 0 || r.mask == 0 || a&r.mask != r.dest {
			continue
		}
		if !found || r.mask > best.mask {
			best, found = r, true
		}
	}
	if !found && strings.HasPrefix(addr, "127.") {
		return route{iface: "lo", dest: ipValue("127.0.0.0"), mask: ipValue("255.0.0.0")}, true
	}
	return best, found
}

// fibTrieLocal lists the local addresses of /proc/net/fib_trie (the
// entries followed by "/32 host LOCAL").
func fibTrieLocal(s string) []string {
	var out []string
	seen := map[string]bool{}
	last := ""
	for _, l := range lines(s) {
		t := strings.TrimSpace(l)
		if a, ok := strings.CutPrefix(t, "|-- "); ok {
			last = a
			continue
		}
		if strings.HasPrefix(t, "/32 host LOCAL") && last != "" && !seen[last] {
			seen[last] = true
			out = append(out, last)
		}
	}
	return out
}

func bitsOf(mask uint32) int {
	n := 0
	for mask&0x80000000 != 0 {
		n++
		mask <<= 1
	}
	return n
}

func ipValue(s string) uint32 {
	var v uint32
	for i, p := range strings.SplitN(s, ".", 4) {
		n, _ := strconv.Atoi(p)
		v |= uint32(n&0xff) << (24 - 8*i)
	}
	return v
}

func ipString(v uint32) string {
	return fmt.Sprintf("%d.%d.%d.%d", v>>24, v>>16&0xff, v>>8&0xff, v&0xff)
}

// ipv6String formats 32 hex digits as an IPv6 address in its short form.
func ipv6String(h string) string {
	b, err := hexBytes(h)
	if err != nil || len(b) != 16 {
		return h
	}
	return netip.AddrFrom16([16]byte(b)).String()
}

func hexBytes(h string) ([]byte, error) {
	out := make([]byte, len(h)/2)
	for i := range out {
		n, err := strconv.ParseUint(h[2*i:2*i+2], 16, 8)
		if err != nil {
			return nil, err
		}
		out[i] = byte(n)
	}
	return out, nil
}

func ipv6Scope(hex string) string {
	switch hex {
	case "00":
		return "global"
	case "10":
		return "host"
	case "20":
		return "link"
	case "40":
		return "site"
	}
	return hex
}
