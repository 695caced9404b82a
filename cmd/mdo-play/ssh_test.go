package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mdo-play/mdo-play/modules/conn/sshtest"
)

// sshInventory writes an inventory with the hosts and variables of
// testdata/inventories/local.ini, reached over SSH on the test hosts.
func sshInventory(t *testing.T, c *sshtest.Cluster) string {
	t.Helper()
	host := func(i int) string {
		h := c.Hosts[i]
		return fmt.Sprintf("ansible_host=%s ansible_port=%d", h.Addr, h.Port)
	}
	inv := fmt.Sprintf(`[web]
web1 http_port=8080 %s
web2 http_port=8081 %s

[db]
db1 %s

[web:vars]
role=frontend

[all:vars]
ansible_user=root
ansible_ssh_private_key_file=%s
ansible_ssh_known_hosts_file=%s
env=test
`, host(0), host(1), host(2), c.ClientKey, c.KnownHosts)
	path := filepath.Join(t.TempDir(), "ssh.ini")
	if err := os.WriteFile(path, []byte(inv), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestGoldenOverSSH runs the end-to-end cases against real sshd test hosts
// and expects exactly the output of the local runs.
func TestGoldenOverSSH(t *testing.T) {
	c := sshtest.StartT(t, 3)
	root := repoRoot(t)
	inv := sshInventory(t, c)
	local := filepath.Join(root, "testdata/inventories/local.ini")
	n := 0
	for _, tc := range goldenCases(root, inv) {
		if !tc.ssh {
			continue
		}
		n++
		t.Run(tc.name, func(t *testing.T) {
			runGolden(t, tc, root, map[string]string{inv: local})
		})
	}
	if n < 10 {
		t.Fatalf("only %d cases ran over SSH", n)
	}
	if strings.Contains(inv, "local") {
		t.Fatal("the SSH inventory must not be the local one")
	}
}
