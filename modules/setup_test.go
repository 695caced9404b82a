package modules

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mdo-play/mdo-play/modules/conn"
	"github.com/mdo-play/mdo-play/modules/conn/ssh"
)

// setupKeys are the facts issue 5 requires of a full gather.
var setupKeys = []string{"os_family", "distribution", "distribution_version", "distribution_major_version",
	"distribution_release", "hostname", "fqdn", "nodename", "domain", "architecture", "machine", "kernel",
	"kernel_version", "system", "default_ipv4", "all_ipv4_addresses", "memtotal_mb", "memfree_mb",
	"swaptotal_mb", "processor_vcpus", "processor_cores", "processor_count", "processor", "pkg_mgr",
	"service_mgr", "user_id", "user_uid", "user_gid", "user_dir", "user_shell", "env", "date_time",
	"gather_subset", "module_setup"}

func runSetup(t *testing.T, c conn.Conn, raw map[string]any) (Result, int) {
	t.Helper()
	args, err := Setup{}.Spec().Normalize(raw)
	if err != nil {
		t.Fatal(err)
	}
	cc := &countingConn{Conn: c}
	res, err := Setup{}.Run(context.Background(), &Env{Conn: cc, Host: "h1"}, args)
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed {
		t.Fatalf("setup failed: %s", res.Msg)
	}
	return res, int(cc.calls.Load())
}

func TestSetupLocal(t *testing.T) {
	before := time.Now().Unix()
	res, _ := call(t, Setup{}, Env{}, map[string]any{})
	after := time.Now().Unix()
	f := res.Facts
	for _, k := range setupKeys {
		if _, ok := f[k]; !ok {
			t.Errorf("fact %s missing", k)
		}
	}
	if !reflect.DeepEqual(res.Values["ansible_facts"], f) {
		t.Error("Values[ansible_facts] differs from Facts")
	}
	host, _ := os.Hostname()
	osrel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	want := map[string]any{
		"system":       "Linux",
		"nodename":     host,
		"hostname":     strings.SplitN(host, ".", 2)[0],
		"kernel":       strings.TrimSpace(string(osrel)),
		"user_uid":     os.Getuid(),
		"user_gid":     os.Getgid(),
		"real_user_id": os.Getuid(),
		"module_setup": true,
	}
	if runtime.GOARCH == "amd64" {
		want["architecture"], want["machine"] = "x86_64", "x86_64"
	}
	for k, v := range want {
		if !reflect.DeepEqual(f[k], v) {
			t.Errorf("%s = %#v, want %#v", k, f[k], v)
		}
	}
	if env, _ := f["env"].(map[string]any); env["PATH"] != os.Getenv("PATH") {
		t.Errorf("env PATH = %v, want %q", env["PATH"], os.Getenv("PATH"))
	}
	dt, _ := f["date_time"].(map[string]any)
	epoch, err := strconv.ParseInt(dt["epoch"].(string), 10, 64)
	if err != nil || epoch < before || epoch > after {
		t.Errorf("date_time.epoch %v not within [%d, %d]", dt["epoch"], before, after)
	}
	if u := time.Unix(epoch, 0).UTC().Format("2006-01-02T15:04:05Z"); dt["iso8601"] != u {
		t.Errorf("date_time.iso8601 %v, want %s", dt["iso8601"], u)
	}
	if n, _ := f["memtotal_mb"].(int); n <= 0 {
		t.Errorf("memtotal_mb = %v", f["memtotal_mb"])
	}
	if n, _ := f["processor_vcpus"].(int); n <= 0 {
		t.Errorf("processor_vcpus = %v", f["processor_vcpus"])
	}
	for _, a := range f["all_ipv4_addresses"].([]any) {
		if strings.HasPrefix(a.(string), "127.") {
			t.Errorf("all_ipv4_addresses holds loopback %v", a)
		}
	}
	if r, ok := defaultRoute(parseRoutes(readFile(t, "/proc/net/route"))); ok {
		d := f["default_ipv4"].(map[string]any)
		if d["interface"] != r.iface || d["gateway"] != ipString(r.gateway) {
			t.Errorf("default_ipv4 %v, want interface %s gateway %s", d, r.iface, ipString(r.gateway))
		}
		if d["address"] == nil || !contains(toStrings(f["all_ipv4_addresses"]), d["address"].(string)) {
			t.Errorf("default_ipv4.address %v not in all_ipv4_addresses %v", d["address"], f["all_ipv4_addresses"])
		}
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Skip(err)
	}
	return string(b)
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

// TestSetupSSH gathers facts from a test host in one round trip; the host
// shares this machine's kernel and /etc, so the facts agree with local ones.
func TestSetupSSH(t *testing.T) {
	c := hostsOrSkip(t)
	h := c.Hosts[0]
	cl, err := ssh.Dial(context.Background(), ssh.Options{
		Alias: h.Name, Host: h.Addr, Port: h.Port, User: "root",
		IdentityFiles: []string{c.ClientKey}, HomeDir: t.TempDir(),
		SSHConfigFiles: []string{}, KnownHostsFiles: []string{c.KnownHosts},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	remote, trips := runSetup(t, cl, map[string]any{})
	if trips != 1 {
		t.Errorf("setup over ssh took %d round trips, want 1", trips)
	}
	local, _ := call(t, Setup{}, Env{}, map[string]any{})
	for _, k := range []string{"os_family", "distribution", "distribution_version", "distribution_release",
		"kernel", "architecture", "nodename", "pkg_mgr", "memtotal_mb", "processor_vcpus", "all_ipv4_addresses"} {
		if !reflect.DeepEqual(remote.Facts[k], local.Facts[k]) {
			t.Errorf("%s: ssh %#v, local %#v", k, remote.Facts[k], local.Facts[k])
		}
	}
	if remote.Facts["user_id"] != "root" || remote.Facts["user_uid"] != 0 || remote.Facts["user_dir"] != "/root" {
		t.Errorf("user facts over ssh: %v %v %v", remote.Facts["user_id"], remote.Facts["user_uid"], remote.Facts["user_dir"])
	}
	if env, _ := remote.Facts["env"].(map[string]any); env["HOME"] != "/root" {
		t.Errorf("env HOME over ssh = %v", env["HOME"])
	}
}

// TestSetupMatchesAnsible compares the facts with `ansible -m setup` on
// this machine when ansible-core is installed.
func TestSetupMatchesAnsible(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	if _, err := exec.LookPath("ansible"); err != nil {
		t.Skip("ansible not installed")
	}
	out, err := exec.Command("ansible", "-i", "localhost,", "-c", "local", "-m", "setup", "localhost").Output()
	if err != nil {
		t.Skipf("ansible: %v", err)
	}
	s := string(out)
	s = s[strings.Index(s, "{"):]
	var ans struct {
		Facts map[string]any `json:"ansible_facts"`
	}
	if err := json.Unmarshal([]byte(s), &ans); err != nil {
		t.Fatal(err)
	}
	res, _ := call(t, Setup{}, Env{}, map[string]any{})
	// Values that do not change between the two runs.
	keys := []string{"os_family", "distribution", "distribution_version", "distribution_major_version",
		"distribution_minor_version", "distribution_release", "distribution_file_path", "distribution_file_variety",
		"hostname", "fqdn", "nodename", "domain", "architecture", "machine", "kernel", "kernel_version", "system",
		"default_ipv4", "default_ipv6", "all_ipv4_addresses", "all_ipv6_addresses", "memtotal_mb", "swaptotal_mb",
		"processor_vcpus", "processor_cores", "processor_count", "processor_threads_per_core", "processor_nproc",
		"processor", "pkg_mgr", "service_mgr", "user_id", "user_uid", "user_gid", "user_dir", "user_shell",
		"user_gecos", "real_user_id", "effective_user_id", "userspace_bits", "userspace_architecture",
		"machine_id", "dns", "cmdline", "proc_cmdline", "apparmor", "fips", "ssh_host_key_ed25519_public",
		"product_name", "bios_vendor", "form_factor"}
	for _, k := range keys {
		got := res.Facts[k]
		want, ok := ans.Facts["ansible_"+k]
		if !ok {
			continue
		}
		// JSON numbers are float64; compare through JSON.
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(want)
		var g, w any
		json.Unmarshal(gj, &g)
		json.Unmarshal(wj, &w)
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s:\n mdo     %s\n ansible %s", k, gj, wj)
		}
	}
	dt := ans.Facts["ansible_date_time"].(map[string]any)
	var want []string
	for k := range dt {
		want = append(want, k)
	}
	var got []string
	for k := range res.Facts["date_time"].(map[string]any) {
		got = append(got, k)
	}
	sort.Strings(want)
	sort.Strings(got)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("date_time keys %v, ansible %v", got, want)
	}
}

func TestSetupSubsetAndFilter(t *testing.T) {
	tests := []struct {
		name      string
		raw       map[string]any
		have, not []string
		only      bool // have lists every fact (besides gather_subset, module_setup)
		failMsg   string
	}{
		{name: "min", raw: map[string]any{"gather_subset": "min"},
			have: []string{"distribution", "os_family", "pkg_mgr", "service_mgr", "date_time", "env", "user_id", "hostname", "fqdn"},
			not:  []string{"memtotal_mb", "processor", "default_ipv4", "interfaces"}},
		{name: "not all", raw: map[string]any{"gather_subset": []any{"!all"}},
			have: []string{"distribution", "kernel"}, not: []string{"memtotal_mb", "default_ipv4"}},
		{name: "network only", raw: map[string]any{"gather_subset": []any{"!all", "network"}},
			have: []string{"default_ipv4", "all_ipv4_addresses", "interfaces", "distribution"}, not: []string{"memtotal_mb"}},
		{name: "hardware only", raw: map[string]any{"gather_subset": "!all,hardware"},
			have: []string{"memtotal_mb", "processor_vcpus"}, not: []string{"default_ipv4"}},
		{name: "not min keeps network", raw: map[string]any{"gather_subset": []any{"all", "!min", "!hardware"}},
			have: []string{"default_ipv4"}, not: []string{"memtotal_mb", "distribution", "env"}},
		{name: "filter", raw: map[string]any{"filter": []any{"distribution_maj*", "ansible_distribution_rel*"}},
			have: []string{"distribution_major_version", "distribution_release"}, only: true},
		{name: "filter with prefix, list", raw: map[string]any{"filter": []any{"ansible_mem*", "kernel"}},
			have: []string{"memtotal_mb", "memfree_mb", "memory_mb", "kernel"}, only: true},
		{name: "bad subset", raw: map[string]any{"gather_subset": "nope"}, failMsg: "Bad subset 'nope' given to Ansible"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, cc := call(t, Setup{}, Env{}, tt.raw)
			trips := cc.calls.Load()
			if tt.failMsg != "" {
				if !res.Failed || !strings.Contains(res.Msg, tt.failMsg) {
					t.Fatalf("failed=%v msg %q, want %q", res.Failed, res.Msg, tt.failMsg)
				}
				if trips != 0 {
					t.Errorf("bad subset ran %d commands", trips)
				}
				return
			}
			if trips != 1 {
				t.Errorf("%d round trips, want 1", trips)
			}
			for _, k := range tt.have {
				if _, ok := res.Facts[k]; !ok {
					t.Errorf("fact %s missing", k)
				}
			}
			for _, k := range tt.not {
				if _, ok := res.Facts[k]; ok {
					t.Errorf("fact %s present", k)
				}
			}
			if tt.only {
				var got []string
				for k := range res.Facts {
					if k != "gather_subset" && k != "module_setup" {
						got = append(got, k)
					}
				}
				want := append([]string(nil), tt.have...)
				sort.Strings(got)
				sort.Strings(want)
				if !reflect.DeepEqual(got, want) {
					t.Errorf("facts %v, want %v", got, want)
				}
			}
		})
	}
}

func TestSetupSpec(t *testing.T) {
	s := Setup{}.Spec()
	if !s.CheckMode || s.Controller {
		t.Errorf("CheckMode=%v Controller=%v, want true, false", s.CheckMode, s.Controller)
	}
	if _, ok := Builtin().Lookup("ansible.builtin.setup"); !ok {
		t.Error("setup is not registered")
	}
}

// TestDistributionFacts feeds the release files of several distributions
// (as the script reports them) through the port of Ansible's
// DistributionFiles; expectations are what ansible-core 2.14 reports there.
func TestDistributionFacts(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  map[string]any
	}{
		{"debian 12", map[string]string{
			"os-release":               "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\n",
			"file:/etc/debian_version": "12.7\n"},
			map[string]any{"distribution": "Debian", "os_family": "Debian", "distribution_version": "12.7",
				"distribution_major_version": "12", "distribution_minor_version": "7", "distribution_release": "bookworm"}},
		{"ubuntu 22.04", map[string]string{
			"os-release":               "PRETTY_NAME=\"Ubuntu 22.04.4 LTS\"\nNAME=\"Ubuntu\"\nVERSION_ID=\"22.04\"\nVERSION=\"22.04.4 LTS (Jammy Jellyfish)\"\nVERSION_CODENAME=jammy\nID=ubuntu\nID_LIKE=debian\nUBUNTU_CODENAME=jammy\n",
			"file:/etc/debian_version": "bookworm/sid\n", "file:/etc/lsb-release": "DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=22.04\n"},
			map[string]any{"distribution": "Ubuntu", "os_family": "Debian", "distribution_version": "22.04",
				"distribution_major_version": "22", "distribution_release": "jammy"}},
		{"rocky 9", map[string]string{
			"os-release":               "NAME=\"Rocky Linux\"\nVERSION=\"9.3 (Blue Onyx)\"\nID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.3\"\n",
			"file:/etc/redhat-release": "Rocky Linux release 9.3 (Blue Onyx)\n"},
			map[string]any{"distribution": "Rocky", "os_family": "RedHat", "distribution_version": "9.3",
				"distribution_major_version": "9", "distribution_release": "Blue Onyx", "distribution_file_variety": "RedHat"}},
		{"rhel 8", map[string]string{
			"os-release":               "NAME=\"Red Hat Enterprise Linux\"\nVERSION=\"8.9 (Ootpa)\"\nID=\"rhel\"\nVERSION_ID=\"8.9\"\n",
			"file:/etc/redhat-release": "Red Hat Enterprise Linux release 8.9 (Ootpa)\n"},
			map[string]any{"distribution": "RedHat", "os_family": "RedHat", "distribution_version": "8.9",
				"distribution_major_version": "8", "distribution_release": "Ootpa"}},
		{"fedora", map[string]string{
			"os-release":               "NAME=\"Fedora Linux\"\nVERSION=\"39 (Container Image)\"\nID=fedora\nVERSION_ID=39\nVERSION_CODENAME=\"\"\n",
			"file:/etc/redhat-release": "Fedora release 39 (Thirty Nine)\n"},
			map[string]any{"distribution": "Fedora", "os_family": "RedHat", "distribution_version": "39",
				"distribution_major_version": "39", "distribution_release": ""}},
		{"alpine", map[string]string{
			"os-release":               "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.19.1\nPRETTY_NAME=\"Alpine Linux v3.19\"\n",
			"file:/etc/alpine-release": "3.19.1\n"},
			map[string]any{"distribution": "Alpine", "os_family": "Alpine", "distribution_version": "3.19.1",
				"distribution_major_version": "3", "distribution_release": "NA"}},
		{"arch", map[string]string{
			"os-release":             "NAME=\"Arch Linux\"\nPRETTY_NAME=\"Arch Linux\"\nID=arch\nBUILD_ID=rolling\n",
			"file:/etc/arch-release": ""},
			map[string]any{"distribution": "Archlinux", "os_family": "Archlinux", "distribution_version": "NA",
				"distribution_major_version": "NA", "distribution_release": "NA"}},
		{"opensuse leap", map[string]string{
			"os-release": "NAME=\"openSUSE Leap\"\nVERSION=\"15.5\"\nID=\"opensuse-leap\"\nID_LIKE=\"suse opensuse\"\nVERSION_ID=\"15.5\"\n"},
			map[string]any{"distribution": "openSUSE Leap", "os_family": "Suse", "distribution_version": "15.5",
				"distribution_major_version": "15", "distribution_release": "5"}},
		{"amazon 2023", map[string]string{
			"os-release": "NAME=\"Amazon Linux\"\nVERSION=\"2023\"\nID=\"amzn\"\nID_LIKE=\"fedora\"\nVERSION_ID=\"2023\"\n"},
			map[string]any{"distribution": "Amazon", "os_family": "RedHat", "distribution_version": "2023",
				"distribution_major_version": "2023", "distribution_minor_version": "NA"}},
		{"unknown", map[string]string{
			"os-release": "NAME=\"Foo OS\"\nID=foo\nVERSION=\"1 (x)\"\nVERSION_ID=1\n"},
			map[string]any{"distribution": "Foo OS", "os_family": "Foo OS", "distribution_version": "1",
				"distribution_file_variety": "NA"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := distributionFacts(tt.files)
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %#v, want %#v (all: %v)", k, got[k], v, got)
				}
			}
		})
	}
}

func TestPkgMgr(t *testing.T) {
	tests := []struct {
		found, family, dist, major, want string
	}{
		{"/usr/bin/apt-get\n", "Debian", "Debian", "12", "apt"},
		{"/usr/bin/yum\n/usr/bin/apt-get\n", "Debian", "Ubuntu", "22", "apt"},
		{"/usr/bin/yum\n/usr/bin/dnf\n", "RedHat", "Rocky", "9", "dnf"},
		{"/usr/bin/yum\n", "RedHat", "CentOS", "7", "yum"},
		{"/usr/bin/yum\n/usr/bin/dnf\n", "RedHat", "Fedora", "22", "yum"},
		{"/usr/bin/yum\n/usr/bin/dnf\n/run/ostree-booted\n", "RedHat", "Fedora", "39", "atomic_container"},
		{"/sbin/apk\n", "Alpine", "Alpine", "3", "apk"},
		{"/usr/bin/pacman\n", "Archlinux", "Archlinux", "NA", "pacman"},
		{"/usr/bin/zypper\n", "Suse", "openSUSE Leap", "15", "zypper"},
		{"", "Foo", "Foo", "1", "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.dist+" "+tt.want, func(t *testing.T) {
			if got := pkgMgr(tt.found, tt.family, tt.dist, tt.major); got != tt.want {
				t.Errorf("pkgMgr = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestServiceMgr(t *testing.T) {
	tests := []struct{ name, proc1, probes, want string }{
		{"systemd pid 1", "systemd\n", "systemd\nsysvinit\n", "systemd"},
		{"openrc-init", "openrc-init", "", "openrc"},
		{"container shell", "bash", "sysvinit\n", "sysvinit"},
		{"init with systemd dirs", "init", "init_link /lib/systemd/systemd\nsystemd\n", "systemd"},
		{"init link only", "", "init_link /lib/systemd/systemd\nsysvinit\n", "systemd"},
		{"openrc", "init", "openrc\nsysvinit\n", "openrc"},
		{"custom", "process_api", "", "process_api"},
		{"nothing", "", "", "service"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := serviceMgr(tt.proc1, tt.probes, true); got != tt.want {
				t.Errorf("serviceMgr = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestNetworkFactsWithoutIP parses a host without the ip tool: addresses
// come from /proc/net/fib_trie, prefixes from /proc/net/route.
func TestNetworkFactsWithoutIP(t *testing.T) {
	route := "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n" +
		"eth0\t00000000\t010200C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n" +
		"eth1\t00000000\t0101A8C0\t0003\t0\t0\t200\t00000000\t0\t0\t0\n" +
		"eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n" +
		"eth1\t0000A8C0\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n"
	trie := `Main:
  +-- 0.0.0.0/0 3 0 5
     |-- 0.0.0.0
        /0 universe UNICAST
     +-- 127.0.0.0/8 2 0 2
           |-- 127.0.0.1
              /32 host LOCAL
     +-- 192.0.2.0/24 2 0 2
           |-- 192.0.2.0
              /24 link UNICAST
           |-- 192.0.2.2
              /32 host LOCAL
        |-- 192.0.2.255
           /32 link BROADCAST
     |-- 192.168.7.9
        /32 host LOCAL
Local:
     |-- 192.0.2.2
        /32 host LOCAL
`
	secs := []section{
		{"route", route}, {"fib_trie", trie},
		{"if:eth0", "02:00:00:00:00:01 1500 1 up 0x1003 "},
		{"if:eth1", "02:00:00:00:00:02 9000 1 down 0x1102 "},
		{"if:lo", "00:00:00:00:00:00 65536 772 unknown 0x9 "},
		{"if_inet6", "fd000000000000000000000000000002 02 40 00 80     eth0\n00000000000000000000000000000001 03 80 10 80       lo\n"},
	}
	m := map[string]string{}
	for _, s := range secs {
		m[s.key] = s.value
	}
	got := networkFacts(secs, m)
	want := map[string]any{
		"address": "192.0.2.2", "alias": "eth0", "broadcast": "192.0.2.255", "gateway": "192.0.2.1",
		"interface": "eth0", "macaddress": "02:00:00:00:00:01", "mtu": 1500, "netmask": "255.255.255.0",
		"network": "192.0.2.0", "prefix": "24", "type": "ether",
	}
	if !reflect.DeepEqual(got["default_ipv4"], want) {
		t.Errorf("default_ipv4\n got %v\nwant %v", got["default_ipv4"], want)
	}
	if all := got["all_ipv4_addresses"]; !reflect.DeepEqual(all, []any{"192.0.2.2", "192.168.7.9"}) {
		t.Errorf("all_ipv4_addresses %v", all)
	}
	if all6 := got["all_ipv6_addresses"]; !reflect.DeepEqual(all6, []any{"fd00::2"}) {
		t.Errorf("all_ipv6_addresses %v", all6)
	}
	eth1 := got["eth1"].(map[string]any)
	if eth1["active"] != false || eth1["promisc"] != true || eth1["mtu"] != 9000 ||
		eth1["ipv4"].(map[string]any)["netmask"] != "255.255.0.0" {
		t.Errorf("eth1 %v", eth1)
	}
	lo := got["lo"].(map[string]any)
	if _, ok := lo["macaddress"]; ok || lo["type"] != "loopback" || lo["ipv4"].(map[string]any)["broadcast"] != "" {
		t.Errorf("lo %v", lo)
	}
}

func TestParseIPAddrLine(t *testing.T) {
	ifs := map[string]*ifaceInfo{"eth0": {name: "eth0"}}
	for _, l := range []string{
		`2: eth0    inet 10.0.0.5/24 brd 10.0.0.255 scope global eth0\       valid_lft forever preferred_lft forever`,
		`2: eth0    inet 10.0.0.6/24 brd 10.0.0.255 scope global secondary eth0:1\       valid_lft forever`,
		`3: wg0    inet 10.9.0.1/32 scope global wg0\       valid_lft forever`,
	} {
		parseIPAddrLine(l, ifs)
	}
	got := ifs["eth0"].ipv4
	if len(got) != 2 || got[0]["address"] != "10.0.0.5" || got[0]["broadcast"] != "10.0.0.255" ||
		got[0]["network"] != "10.0.0.0" || got[1]["label"] != "eth0:1" {
		t.Errorf("eth0 ipv4 %v", got)
	}
}

func TestCPUFacts(t *testing.T) {
	two := "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Xeon\nphysical id\t: 0\nsiblings\t: 4\ncore id\t: 0\ncpu cores\t: 2\n" +
		"processor\t: 1\nvendor_id\t: GenuineIntel\nmodel name\t: Xeon\nphysical id\t: 0\nsiblings\t: 4\ncore id\t: 0\ncpu cores\t: 2\n" +
		"processor\t: 2\nvendor_id\t: GenuineIntel\nmodel name\t: Xeon\nphysical id\t: 1\nsiblings\t: 4\ncore id\t: 1\ncpu cores\t: 2\n" +
		"processor\t: 3\nvendor_id\t: GenuineIntel\nmodel name\t: Xeon\nphysical id\t: 1\nsiblings\t: 4\ncore id\t: 1\ncpu cores\t: 2\n"
	arm := "processor\t: 0\nBogoMIPS\t: 48.00\nprocessor\t: 1\nBogoMIPS\t: 48.00\n"
	tests := []struct {
		name, info, arch string
		want             map[string]any
	}{
		{"two sockets ht", two, "x86_64", map[string]any{"processor_count": 2, "processor_cores": 2,
			"processor_threads_per_core": 2, "processor_vcpus": 8, "processor_nproc": 4}},
		{"arm", arm, "aarch64", map[string]any{"processor_count": 2, "processor_cores": 1,
			"processor_threads_per_core": 1, "processor_vcpus": 2, "processor": []any{"0", "1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := cpuFacts(tt.info, tt.arch)
			for k, v := range tt.want {
				if !reflect.DeepEqual(got[k], v) {
					t.Errorf("%s = %v, want %v", k, got[k], v)
				}
			}
		})
	}
}

func TestDateTimeFacts(t *testing.T) {
	tests := []struct{ name, in, tz, dst, iso string }{
		{"utc", "2024 05 06 07 08 09 1714979289 123456789 Monday 1 19 UTC +0000\nUTC +0000\nUTC +0000\n", "UTC", "UTC", "2024-05-06T07:08:09Z"},
		{"berlin", "2024 05 06 09 08 09 1714979289 123456789 Monday 1 19 CEST +0200\nCET +0100\nCEST +0200\n", "CEST", "CEST", "2024-05-06T07:08:09Z"},
		{"sydney", "2024 05 06 17 08 09 1714979289 5 Monday 1 19 AEST +1000\nAEDT +1100\nAEST +1000\n", "AEST", "AEDT", "2024-05-06T07:08:09Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := dateTimeFacts(tt.in)
			if got["tz"] != tt.tz || got["tz_dst"] != tt.dst || got["iso8601"] != tt.iso {
				t.Errorf("tz %v tz_dst %v iso8601 %v, want %s %s %s", got["tz"], got["tz_dst"], got["iso8601"], tt.tz, tt.dst, tt.iso)
			}
		})
	}
	if got := dateTimeFacts("2024 05 06 07 08 09 1714979289 000123456 Monday 1 19 UTC +0000\n"); got["iso8601_micro"] != "2024-05-06T07:08:09.000123Z" || got["iso8601_basic"] != "20240506T070809000123" {
		t.Errorf("micro %v basic %v", got["iso8601_micro"], got["iso8601_basic"])
	}
}

func TestFactSections(t *testing.T) {
	out := []byte("a\x00one\x00b\x00\x00env\x00HOME=/root\x00X=a=b\nc\x00")
	secs := factSections(out)
	if len(secs) != 3 || secs[0] != (section{"a", "one"}) || secs[1] != (section{"b", ""}) {
		t.Fatalf("sections %q", secs)
	}
	env := parseEnv(secs[2].value)
	if !reflect.DeepEqual(env, map[string]any{"HOME": "/root", "X": "a=b\nc"}) {
		t.Errorf("env %v", env)
	}
}

// TestSetupLocalFacts reads local facts from fact_path: JSON, INI, an
// executable's JSON output, a failing executable, bad content and an
// executable that outlives gather_timeout; the result is compared with
// ansible-core's when it is installed.
func TestSetupLocalFacts(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"a.fact": `{"k": [1, "x"], "n": {"m": true}}`,
		"b.fact": "# c\n[Main]\nKey = v1\nother: v2\n[second]\nx=1\n",
		"e.fact": "not json or ini",
	}
	for n, c := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	scripts := map[string]string{
		"c.fact": "#!/bin/sh\necho '{\"ran\": \"yes\"}'\n",
		"d.fact": "#!/bin/sh\necho oops >&2\nexit 3\n",
	}
	for n, c := range scripts {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(c), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	res, _ := call(t, Setup{}, Env{}, map[string]any{"gather_subset": "!all,local", "fact_path": dir})
	local, _ := res.Facts["local"].(map[string]any)
	want := map[string]any{
		"a": map[string]any{"k": []any{float64(1), "x"}, "n": map[string]any{"m": true}},
		"b": map[string]any{"Main": map[string]any{"key": "v1", "other": "v2"}, "second": map[string]any{"x": "1"}},
		"c": map[string]any{"ran": "yes"},
		"d": "Failure executing fact script (" + dir + "/d.fact), rc: 3, err: oops\n",
		"e": "error loading facts as JSON or ini - please check content: " + dir + "/e.fact",
	}
	if !reflect.DeepEqual(local, want) {
		t.Errorf("ansible_local = %#v\nwant %#v", local, want)
	}
	if len(res.Warnings) != 2 {
		t.Errorf("warnings %q, want the two failures", res.Warnings)
	}
	if _, err := exec.LookPath("ansible"); err == nil && !testing.Short() {
		out, err := exec.Command("ansible", "-i", "localhost,", "-c", "local", "-m", "setup", "-a", "gather_subset=!all,local fact_path="+dir, "localhost").Output()
		if err == nil {
			s := string(out)
			var ans struct {
				Facts map[string]any `json:"ansible_facts"`
			}
			if json.Unmarshal([]byte(s[strings.Index(s, "{"):]), &ans) == nil {
				if !reflect.DeepEqual(ans.Facts["ansible_local"], any(want)) {
					t.Errorf("ansible-core's ansible_local = %#v, want %#v", ans.Facts["ansible_local"], want)
				}
			}
		}
	}
	// An executable fact that outlives gather_timeout is stopped.
	if err := os.WriteFile(filepath.Join(dir, "f.fact"), []byte("#!/bin/sh\nexec sleep 30\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res, _ = call(t, Setup{}, Env{}, map[string]any{"gather_subset": "local", "fact_path": dir, "gather_timeout": 1})
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("gather took %v despite gather_timeout 1", d)
	}
	if msg, _ := res.Facts["local"].(map[string]any)["f"].(string); !strings.Contains(msg, "rc: 124") {
		t.Errorf("timed-out fact = %q", msg)
	}
}
