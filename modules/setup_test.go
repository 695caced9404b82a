package modules

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
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
