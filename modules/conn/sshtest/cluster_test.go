package sshtest

import (
	"bytes"
	"context"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// run executes cmd on h as user over a plain x/crypto client that checks
// the cluster's known_hosts.
func run(t *testing.T, c *Cluster, h *Host, user, cmd string) string {
	t.Helper()
	hk, err := knownhosts.New(c.KnownHosts)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := ssh.Dial("tcp", h.HostPort(), &ssh.ClientConfig{
		User: user, Auth: []ssh.AuthMethod{ssh.PublicKeys(c.Signer)},
		HostKeyCallback: hk, Timeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatalf("dial %s as %s: %v", h.Name, user, err)
	}
	defer cl.Close()
	s, err := cl.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var stderr bytes.Buffer
	s.Stderr = &stderr
	out, err := s.Output(cmd)
	if err != nil {
		t.Fatalf("%s on %s: %v: %s", cmd, h.Name, err, stderr.String())
	}
	return string(out)
}

func TestCluster(t *testing.T) {
	c := StartT(t, 3)
	for _, f := range []string{c.Inventory, c.KnownHosts, c.SSHConfig, c.ClientKey} {
		if _, err := os.Stat(f); err != nil {
			t.Fatal(err)
		}
	}
	inv, _ := os.ReadFile(c.Inventory)
	if !strings.Contains(string(inv), "h3 ansible_host="+c.Subnet+".3 ") {
		t.Errorf("inventory lacks h3:\n%s", inv)
	}
	t.Run("users", func(t *testing.T) {
		for _, u := range []string{"root", SudoUser, NoPassUser, NoSudoUser} {
			if got := strings.TrimSpace(run(t, c, c.Hosts[0], u, "id -un")); got != u {
				t.Errorf("logged in as %q, want %q", got, u)
			}
		}
		if got := run(t, c, c.Hosts[0], NoPassUser, "sudo -n id -u"); strings.TrimSpace(got) != "0" {
			t.Errorf("sudo -n id -u as %s = %q", NoPassUser, got)
		}
	})
	t.Run("private srv", func(t *testing.T) {
		run(t, c, c.Hosts[0], "root", "echo one > /srv/marker")
		if got := run(t, c, c.Hosts[1], "root", "ls -A /srv"); got != "" {
			t.Errorf("h2's /srv shows %q written on h1", got)
		}
	})
	t.Run("plain bashrc", func(t *testing.T) {
		want, err := os.ReadFile("/usr/share/base-files/dot.bashrc")
		if err != nil {
			t.Skip(err)
		}
		if got := run(t, c, c.Hosts[2], "root", "cat /root/.bashrc"); got != string(want) {
			t.Errorf("/root/.bashrc on the test host is not Debian's dot.bashrc")
		}
	})
	t.Run("own address", func(t *testing.T) {
		got := run(t, c, c.Hosts[1], "root", "echo $SSH_CONNECTION")
		if f := strings.Fields(got); len(f) != 4 || f[2] != c.Hosts[1].Addr {
			t.Errorf("SSH_CONNECTION = %q, want server address %s", got, c.Hosts[1].Addr)
		}
	})
	t.Run("stop", func(t *testing.T) {
		if err := c.Stop(); err != nil {
			t.Fatal(err)
		}
		for _, h := range c.Hosts {
			nc, err := net.DialTimeout("tcp", h.HostPort(), time.Second)
			if err == nil {
				nc.Close()
				t.Errorf("%s still accepts connections after Stop", h.Name)
			}
		}
	})
}

func TestParallelStartsDoNotCollide(t *testing.T) {
	if err := Available(""); err != nil {
		unavailable(t, err)
	}
	ctx := context.Background()
	type res struct {
		c   *Cluster
		err error
	}
	ch := make(chan res, 2)
	for range 2 {
		go func() {
			c, err := Start(ctx, Options{N: 2, Dir: t.TempDir()})
			ch <- res{c, err}
		}()
	}
	seen := map[string]bool{}
	for range 2 {
		r := <-ch
		if r.err != nil {
			t.Fatal(r.err)
		}
		t.Cleanup(func() { r.c.Stop() })
		if seen[r.c.Subnet] {
			t.Errorf("two clusters got subnet %s", r.c.Subnet)
		}
		seen[r.c.Subnet] = true
	}
}

// TestManyHostsAddresses: beyond 250 hosts, each further 250 take the next
// leased range; every host has its own address. (Starting that many is
// make scale's job; this checks the layout without root.)
func TestManyHostsAddresses(t *testing.T) {
	dir := t.TempDir()
	c := &Cluster{Dir: dir, leases: []*subnetLease{{subnet: "127.201.7", dir: dir}, {subnet: "127.201.9", dir: dir}}}
	if err := c.writeFiles(Options{N: 251}); err != nil {
		t.Fatal(err)
	}
	want := map[int]string{0: "127.201.7.1", 249: "127.201.7.250", 250: "127.201.9.1"}
	for i, addr := range want {
		if got := c.Hosts[i].Addr; got != addr {
			t.Errorf("%s: address %s, want %s", c.Hosts[i].Name, got, addr)
		}
	}
	seen := map[string]bool{}
	for _, h := range c.Hosts {
		if seen[h.Addr] || seen[h.Name] {
			t.Errorf("%s %s given twice", h.Name, h.Addr)
		}
		seen[h.Addr], seen[h.Name] = true, true
	}
	if _, err := Start(context.Background(), Options{N: MaxHosts + 1, Dir: dir}); err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Errorf("N=%d: %v, want out of range", MaxHosts+1, err)
	}
}
