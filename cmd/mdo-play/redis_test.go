package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mdo-play/mdo-play/modules/conn/sshtest"
)

// TestRedisClusterRunbook runs examples/redis-cluster.yml on three test
// hosts (one primary, two replicas, each bound to its own address), checks
// that a second run changes nothing, rolls a restart through the nodes, and
// then breaks the second node's configuration: the rollout must stop there
// and leave the third node untouched.
func TestRedisClusterRunbook(t *testing.T) {
	if testing.Short() {
		t.Skip("installs redis-server from Debian's packages")
	}
	c := sshtest.StartT(t, 3)
	root := repoRoot(t)
	data, err := os.ReadFile(c.Inventory)
	if err != nil {
		t.Fatal(err)
	}
	inv := filepath.Join(t.TempDir(), "redis.ini")
	if err := os.WriteFile(inv, []byte(strings.Replace(string(data), "[testhosts]", "[redis]", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"HOME": t.TempDir(), "MDO_KNOWN_HOSTS_FILE": c.KnownHosts}
	play := func(want int, args ...string) string {
		t.Helper()
		full := append([]string{"-i", inv}, args...)
		if args[0] == "adhoc" {
			full = append([]string{"adhoc", "-i", inv}, args[1:]...)
		}
		stdout, stderr, code := runCLI(t, env, full...)
		if code != want {
			t.Fatalf("mdo-play %s: exit %d, want %d\n%s\n%s", strings.Join(args, " "), code, want, stdout, stderr)
		}
		return stdout
	}
	cluster := filepath.Join(root, "examples/redis-cluster.yml")
	restart := filepath.Join(root, "examples/redis-rolling-restart.yml")

	play(0, cluster)
	if out := play(0, cluster); regexp.MustCompile(`changed=[1-9]`).MatchString(out) {
		t.Errorf("second run of the cluster runbook changed something:\n%s", out)
	}
	play(0, restart)
	out := play(2, restart, "-e", "break_node=h2")
	if !strings.Contains(out, "NO MORE HOSTS LEFT") || strings.Contains(out, "[h3]") {
		t.Errorf("the rollout did not stop at h2 before touching h3:\n%s", out)
	}
	counts := play(0, "adhoc", "redis", "-m", "shell", "-a", "echo restarts=$(wc -l < /srv/redis/restarts)")
	for host, want := range map[string]string{"h1": "restarts=2", "h2": "restarts=2", "h3": "restarts=1"} {
		if !regexp.MustCompile(host + ` \| CHANGED \| rc=0 >>\n` + want + `\n`).MatchString(counts) {
			t.Errorf("%s: want %s:\n%s", host, want, counts)
		}
	}
	// The untouched replica still runs as a replica.
	got := play(0, "adhoc", "h3", "-m", "shell", "-a", "redis-cli -h $(grep ^bind /srv/redis/redis.conf | cut -d' ' -f2) info replication")
	if !strings.Contains(got, "role:slave") {
		t.Errorf("h3 is not a working replica any more:\n%s", got)
	}
}
