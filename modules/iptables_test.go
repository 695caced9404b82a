package modules

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/mdo-play/mdo-play/modules/conn"
	"github.com/mdo-play/mdo-play/modules/conn/sshtest"
)

// TestIptablesRule checks construct_rule's port against rules that
// ansible-core 2.14's construct_rule built from the same arguments.
func TestIptablesRule(t *testing.T) {
	for _, tc := range []struct{ args, want string }{
		{"{\"protocol\": \"tcp\", \"destination_port\": \"22\", \"jump\": \"ACCEPT\", \"comment\": \"allow ssh\"}", "[\"-p\",\"tcp\",\"-j\",\"ACCEPT\",\"--destination-port\",\"22\",\"-m\",\"comment\",\"--comment\",\"allow ssh\"]"},
		{"{\"wait\": \"5\", \"protocol\": \"!udp\", \"source\": \"10.0.0.0/8\", \"destination\": \"!192.168.1.1\", \"match\": [\"tcp\", \"conntrack\"], \"ctstate\": [\"NEW\", \"ESTABLISHED\"], \"syn\": \"negate\", \"in_interface\": \"eth0\", \"out_interface\": \"!lo\", \"jump\": \"DROP\"}", "[\"-w\",\"5\",\"!\",\"-p\",\"udp\",\"-s\",\"10.0.0.0/8\",\"!\",\"-d\",\"192.168.1.1\",\"-m\",\"tcp\",\"-m\",\"conntrack\",\"-j\",\"DROP\",\"-i\",\"eth0\",\"!\",\"-o\",\"lo\",\"!\",\"--syn\",\"--ctstate\",\"NEW,ESTABLISHED\"]"},
		{"{\"ctstate\": [\"RELATED\", \"ESTABLISHED\"], \"jump\": \"ACCEPT\"}", "[\"-j\",\"ACCEPT\",\"-m\",\"conntrack\",\"--ctstate\",\"RELATED,ESTABLISHED\"]"},
		{"{\"match\": [\"state\"], \"ctstate\": [\"NEW\"]}", "[\"-m\",\"state\",\"--state\",\"NEW\"]"},
		{"{\"protocol\": \"tcp\", \"destination_ports\": [\"80\", \"443\", \"8000:8080\"], \"tcp_flags\": {\"flags\": [\"SYN\", \"ACK\"], \"flags_set\": [\"SYN\"]}, \"limit\": \"5/s\", \"limit_burst\": \"10\", \"jump\": \"ACCEPT\"}", "[\"-p\",\"tcp\",\"--tcp-flags\",\"SYN,ACK\",\"SYN\",\"-j\",\"ACCEPT\",\"-m\",\"multiport\",\"--dports\",\"80,443,8000:8080\",\"-m\",\"limit\",\"--limit\",\"5/s\",\"--limit-burst\",\"10\"]"},
		{"{\"src_range\": \"10.0.0.1-10.0.0.9\", \"match_set\": \"myset\", \"match_set_flags\": \"src\", \"uid_owner\": \"!1000\", \"gid_owner\": \"0\", \"reject_with\": \"tcp-reset\", \"protocol\": \"tcp\"}", "[\"-p\",\"tcp\",\"-m\",\"iprange\",\"--src-range\",\"10.0.0.1-10.0.0.9\",\"-m\",\"set\",\"--match-set\",\"myset\",\"src\",\"-m\",\"owner\",\"!\",\"--uid-owner\",\"1000\",\"-m\",\"owner\",\"--gid-owner\",\"0\",\"-j\",\"REJECT\",\"--reject-with\",\"tcp-reset\"]"},
		{"{\"ip_version\": \"ipv6\", \"protocol\": \"icmpv6\", \"icmp_type\": \"echo-request\", \"jump\": \"ACCEPT\", \"syn\": \"match\"}", "[\"-p\",\"icmpv6\",\"-j\",\"ACCEPT\",\"--syn\",\"--icmpv6-type\",\"echo-request\"]"},
		{"{\"protocol\": \"tcp\", \"destination_port\": \"80\", \"jump\": \"REDIRECT\", \"to_ports\": \"8080\", \"log_prefix\": \"x\", \"log_level\": \"4\", \"to_destination\": \"1.2.3.4:80\", \"to_source\": \"5.6.7.8\", \"goto\": \"X\", \"fragment\": \"!\", \"set_counters\": \"1 2\", \"source_port\": \"1000\", \"set_dscp_mark\": \"8\"}", "[\"-p\",\"tcp\",\"-j\",\"REDIRECT\",\"--log-prefix\",\"x\",\"--log-level\",\"4\",\"--to-destination\",\"1.2.3.4:80\",\"--to-source\",\"5.6.7.8\",\"-g\",\"X\",\"!\",\"-f\",\"\",\"-c\",\"1 2\",\"--source-port\",\"1000\",\"--destination-port\",\"80\",\"--to-ports\",\"8080\",\"--set-dscp\",\"8\"]"},
		{"{\"jump\": \"TEE\", \"gateway\": \"10.0.0.1\"}", "[\"-j\",\"TEE\",\"--gateway\",\"10.0.0.1\"]"},
	} {
		var raw map[string]any
		if err := json.Unmarshal([]byte(tc.args), &raw); err != nil {
			t.Fatal(err)
		}
		raw["chain"] = "INPUT"
		args, err := Iptables{}.Spec().Normalize(raw)
		if err != nil {
			t.Fatalf("%s: %v", tc.args, err)
		}
		got, _ := json.Marshal(iptablesRule(args, args.String("jump"), args.String("wait")))
		if string(got) != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.args, got, tc.want)
		}
	}
}

// iptablesTargets returns connections whose scripts run in a private
// network namespace, so the real iptables changes only that namespace's
// tables: locally one held by an `unshare -n` process, on the SSH test
// host (a private overlay root) one made with `ip netns add`.
func iptablesTargets(t *testing.T) map[string]conn.Conn {
	t.Helper()
	sysNeedRoot(t, "iptables", "unshare", "nsenter")
	pid := ufwHolder(t, "true", "-n")
	m := map[string]conn.Conn{"local": ufwSandboxConn{localConn(), fmt.Sprintf("-t %d -n", pid)}}
	if !testing.Short() {
		c := sysSSH(t, sshtest.RootOverlay)
		sysSh(t, c, "ip netns add mdo-ipt")
		m["ssh"] = ufwSandboxConn{c, "--net=/run/netns/mdo-ipt"}
	}
	return m
}

// TestIptables drives the real iptables through rules, insertion,
// removal, chains, policies and flushes, each step checked against
// `iptables -S` afterwards.
func TestIptables(t *testing.T) {
	for name, c := range iptablesTargets(t) {
		t.Run(name, func(t *testing.T) {
			state := func() string {
				return strings.TrimSpace(sysSh(t, c, "PATH=$PATH:/usr/sbin:/sbin; iptables -S; iptables -t nat -S PREROUTING"))
			}
			base := "-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT"
			nat := "\n-P PREROUTING ACCEPT"
			ssh := map[string]any{"chain": "INPUT", "protocol": "tcp", "destination_port": "22", "jump": "ACCEPT", "comment": "allow ssh", "wait": "5"}
			sshRule := `-A INPUT -p tcp -m tcp --dport 22 -m comment --comment "allow ssh" -j ACCEPT`
			est := map[string]any{"chain": "INPUT", "ctstate": []any{"ESTABLISHED", "RELATED"}, "jump": "ACCEPT", "action": "insert", "rule_num": "1"}
			estRule := "-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"
			with := func(m map[string]any, kv ...any) map[string]any {
				out := map[string]any{}
				for k, v := range m {
					out[k] = v
				}
				for i := 0; i+1 < len(kv); i += 2 {
					out[kv[i].(string)] = kv[i+1]
				}
				return out
			}
			steps := []modsbStep{
				{what: "append, check mode", check: true, raw: ssh, changed: true, state: base + nat, trips: 1},
				{what: "append", raw: ssh, changed: true, state: base + "\n" + sshRule + nat, trips: 2},
				{what: "append again", raw: ssh, state: base + "\n" + sshRule + nat, trips: 1},
				{what: "insert first", raw: est, changed: true, state: base + "\n" + estRule + "\n" + sshRule + nat, trips: 2},
				{what: "insert again", raw: est, state: base + "\n" + estRule + "\n" + sshRule + nat, trips: 1},
				{what: "remove, check mode", check: true, raw: with(ssh, "state", "absent"), changed: true, state: base + "\n" + estRule + "\n" + sshRule + nat, trips: 1},
				{what: "remove", raw: with(ssh, "state", "absent"), changed: true, state: base + "\n" + estRule + nat, trips: 2},
				{what: "remove again", raw: with(ssh, "state", "absent"), state: base + "\n" + estRule + nat, trips: 1},
				{what: "nat redirect", raw: map[string]any{"table": "nat", "chain": "PREROUTING", "protocol": "tcp", "destination_port": "80", "jump": "REDIRECT", "to_ports": "8080"}, changed: true,
					state: base + "\n" + estRule + nat + "\n-A PREROUTING -p tcp -m tcp --dport 80 -j REDIRECT --to-ports 8080", trips: 2},
				{what: "flush nat", raw: map[string]any{"table": "nat", "flush": true}, changed: true, state: base + "\n" + estRule + nat, trips: 1},
				{what: "policy, check mode", check: true, raw: map[string]any{"chain": "FORWARD", "policy": "DROP"}, changed: true, state: base + "\n" + estRule + nat, trips: 1},
				{what: "policy", raw: map[string]any{"chain": "FORWARD", "policy": "DROP"}, changed: true, state: strings.Replace(base, "FORWARD ACCEPT", "FORWARD DROP", 1) + "\n" + estRule + nat, trips: 2},
				{what: "policy again", raw: map[string]any{"chain": "FORWARD", "policy": "DROP"}, state: strings.Replace(base, "FORWARD ACCEPT", "FORWARD DROP", 1) + "\n" + estRule + nat, trips: 1},
				{what: "policy back", raw: map[string]any{"chain": "FORWARD", "policy": "ACCEPT"}, changed: true, state: base + "\n" + estRule + nat, trips: 2},
				{what: "rule in a missing chain", raw: map[string]any{"chain": "MDO", "jump": "RETURN"}, failed: true, msg: "No chain/target/match by that name", state: base + "\n" + estRule + nat, trips: 2},
				{what: "chain management", raw: map[string]any{"chain": "MDO", "jump": "RETURN", "chain_management": true}, changed: true, state: base + "\n-N MDO\n" + estRule + "\n-A MDO -j RETURN" + nat, trips: 2},
				{what: "flush the chain", raw: map[string]any{"chain": "MDO", "flush": true}, changed: true, state: base + "\n-N MDO\n" + estRule + nat, trips: 1},
				{what: "delete the chain, check mode", check: true, raw: map[string]any{"chain": "MDO", "state": "absent", "chain_management": true}, changed: true, state: base + "\n-N MDO\n" + estRule + nat, trips: 1},
				{what: "delete the chain", raw: map[string]any{"chain": "MDO", "state": "absent", "chain_management": true}, changed: true, state: base + "\n" + estRule + nat, trips: 2},
				{what: "delete the chain again", raw: map[string]any{"chain": "MDO", "state": "absent", "chain_management": true}, state: base + "\n" + estRule + nat, trips: 1},
				{what: "flush the filter table", raw: map[string]any{"flush": true}, changed: true, state: base + nat, trips: 1},
				{what: "no chain", raw: map[string]any{"jump": "ACCEPT"}, failed: true, msg: "Either chain or flush parameter must be specified.", state: base + nat, trips: 0},
				{what: "log with another jump", raw: map[string]any{"chain": "INPUT", "jump": "ACCEPT", "log_prefix": "x"}, failed: true, msg: "Logging options can only be used with the LOG jump target.", state: base + nat, trips: 0},
				{what: "tee without gateway", raw: map[string]any{"chain": "INPUT", "jump": "TEE"}, failed: true, msg: "jump is TEE but all of the following are missing: gateway", state: base + nat, trips: 0},
				{what: "log jump implied", raw: map[string]any{"chain": "INPUT", "log_prefix": "mdo: ", "log_level": "info"}, changed: true, state: base + "\n-A INPUT -j LOG --log-prefix \"mdo: \" --log-level 6" + nat, trips: 2},
			}
			res := modsbRunSteps(t, c, Iptables{}, steps, state)
			if r := res["append"]; r.Values["rule"] != "-w 5 -p tcp -j ACCEPT --destination-port 22 -m comment --comment allow ssh" || r.Values["chain"] != "INPUT" || r.Values["table"] != "filter" {
				t.Errorf("append values %v", r.Values)
			}
		})
	}
}
