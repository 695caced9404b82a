package ssh_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	xssh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/mdo-play/mdo-play/modules/conn"
	"github.com/mdo-play/mdo-play/modules/conn/conntest"
	"github.com/mdo-play/mdo-play/modules/conn/ssh"
	"github.com/mdo-play/mdo-play/modules/conn/sshtest"
)

// One cluster of real sshd hosts for the whole package.
var (
	cluster    *sshtest.Cluster
	clusterErr error
)

func TestMain(m *testing.M) {
	cluster, clusterErr = sshtest.StartMain(3)
	code := m.Run()
	if err := sshtest.StopMain(cluster); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}

func hosts(t *testing.T) *sshtest.Cluster { return sshtest.Require(t, cluster, clusterErr) }

// rootOpts are options for root on host i, with the cluster's key and
// known_hosts and no ssh_config.
func rootOpts(t *testing.T, c *sshtest.Cluster, i int) ssh.Options {
	h := c.Hosts[i]
	return ssh.Options{
		Alias: h.Name, Host: h.Addr, Port: h.Port, User: "root",
		IdentityFiles:   []string{c.ClientKey},
		HomeDir:         t.TempDir(),
		SSHConfigFiles:  []string{},
		KnownHostsFiles: []string{c.KnownHosts},
	}
}

func dial(t *testing.T, o ssh.Options) *ssh.Client {
	t.Helper()
	cl, err := ssh.Dial(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}

func run(t *testing.T, c conn.Conn, script string) string {
	t.Helper()
	res, err := c.Exec(context.Background(), conn.Command{Script: script})
	if err != nil {
		t.Fatal(err)
	}
	if res.RC != 0 {
		t.Fatalf("%q: rc %d: %s", script, res.RC, res.Stderr)
	}
	return string(res.Stdout)
}

func TestConformance(t *testing.T) {
	c := hosts(t)
	for _, mode := range []struct {
		name string
		mode ssh.ExecMode
		env  bool // wrapped by conn.WithEnv, which keeps the capabilities
		caps []conntest.Capability
	}{
		{"persistent shell", ssh.PersistentShell, false, []conntest.Capability{conntest.FileWriter, conntest.Shells}},
		{"session per command", ssh.SessionPerCommand, false, []conntest.Capability{conntest.FileWriter}},
		// environment: used to hide the SFTP writer (issue 15).
		{"persistent shell with environment", ssh.PersistentShell, true, []conntest.Capability{conntest.FileWriter, conntest.Shells}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			conntest.Run(t, func(t *testing.T) (conn.Conn, string) {
				o := rootOpts(t, c, 0)
				o.ExecMode = mode.mode
				var cl conn.Conn = dial(t, o)
				if mode.env {
					cl = conn.WithEnv(cl, map[string]string{"MDO_CONNTEST": "1"})
				}
				dir := strings.TrimSpace(run(t, cl, "mktemp -d /srv/conntest.XXXXXX"))
				t.Cleanup(func() {
					if cl, err := ssh.Dial(context.Background(), rootOpts(t, c, 0)); err == nil {
						cl.Exec(context.Background(), conn.Command{Script: "rm -rf " + conn.Quote(dir)})
						cl.Close()
					}
				})
				return cl, dir
			}, mode.caps...)
		})
	}
}

func TestHostKeys(t *testing.T) {
	c := hosts(t)
	h := c.Hosts[1]
	t.Run("unknown refused under strict", func(t *testing.T) {
		o := rootOpts(t, c, 1)
		o.KnownHostsFiles = []string{filepath.Join(t.TempDir(), "known_hosts")}
		_, err := ssh.Dial(context.Background(), o)
		if !errors.Is(err, ssh.ErrHostKeyUnknown) || !errors.Is(err, conn.ErrUnreachable) {
			t.Fatalf("err = %v, want ErrHostKeyUnknown and ErrUnreachable", err)
		}
		for _, want := range []string{h.Name, xssh.FingerprintSHA256(h.HostKey), "ssh-ed25519", o.KnownHostsFiles[0], "ssh-keyscan"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error lacks %q: %v", want, err)
			}
		}
	})
	t.Run("accept-new records and strict then accepts", func(t *testing.T) {
		home := t.TempDir()
		o := rootOpts(t, c, 1)
		o.HomeDir = home
		o.KnownHostsFiles = nil // default: HOME/.ssh/known_hosts, dir missing
		o.HostKeyPolicy, o.PolicySet = ssh.AcceptNew, true
		run(t, dial(t, o), "true")
		kh := filepath.Join(home, ".ssh", "known_hosts")
		b, err := os.ReadFile(kh)
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("[%s]:%d %s", h.Addr, h.Port, xssh.MarshalAuthorizedKey(h.HostKey))
		if string(b) != want {
			t.Errorf("known_hosts = %q, want %q", b, want)
		}
		if st, _ := os.Stat(filepath.Dir(kh)); st == nil || st.Mode().Perm() != 0o700 {
			t.Errorf("~/.ssh not created 0700: %v", st)
		}
		o.HostKeyPolicy = ssh.Strict
		run(t, dial(t, o), "true")
	})
	t.Run("accept-new from many goroutines", func(t *testing.T) {
		kh := filepath.Join(t.TempDir(), "known_hosts")
		shared := ssh.NewKnownHosts()
		var wg sync.WaitGroup
		errs := make(chan error, 30)
		for i := range 30 {
			wg.Go(func() {
				o := rootOpts(t, c, i%3)
				o.KnownHostsFiles, o.KnownHosts = []string{kh}, shared
				o.HostKeyPolicy, o.PolicySet = ssh.AcceptNew, true
				cl, err := ssh.Dial(context.Background(), o)
				if err != nil {
					errs <- err
					return
				}
				cl.Close()
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		b, _ := os.ReadFile(kh)
		if lines := strings.Split(strings.TrimSpace(string(b)), "\n"); len(lines) != 3 {
			t.Errorf("known_hosts has %d lines, want one per host:\n%s", len(lines), b)
		}
	})
	t.Run("changed key refused", func(t *testing.T) {
		kh := filepath.Join(t.TempDir(), "known_hosts")
		// h1's key recorded for h2's address, on line 2.
		line := fmt.Sprintf("# comment\n[%s]:%d %s", h.Addr, h.Port, xssh.MarshalAuthorizedKey(c.Hosts[0].HostKey))
		if err := os.WriteFile(kh, []byte(line), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, p := range []ssh.HostKeyPolicy{ssh.Strict, ssh.AcceptNew} {
			o := rootOpts(t, c, 1)
			o.KnownHostsFiles = []string{kh}
			o.HostKeyPolicy, o.PolicySet = p, true
			_, err := ssh.Dial(context.Background(), o)
			if !errors.Is(err, ssh.ErrHostKeyChanged) {
				t.Fatalf("%v: err = %v, want ErrHostKeyChanged", p, err)
			}
			for _, want := range []string{h.Name, xssh.FingerprintSHA256(h.HostKey), kh + ":2"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("%v: error lacks %q: %v", p, want, err)
				}
			}
		}
		o := rootOpts(t, c, 1)
		o.KnownHostsFiles = []string{kh}
		o.HostKeyPolicy, o.PolicySet = ssh.Off, true
		run(t, dial(t, o), "true")
	})
	t.Run("ssh_config StrictHostKeyChecking unless policy set", func(t *testing.T) {
		home := t.TempDir()
		cfg := filepath.Join(home, "config")
		os.WriteFile(cfg, []byte("Host *\n  StrictHostKeyChecking accept-new\n"), 0o600)
		o := rootOpts(t, c, 1)
		o.SSHConfigFiles = []string{cfg}
		o.KnownHostsFiles = []string{filepath.Join(home, "kh")}
		o.PolicySet = true // explicit strict wins
		if _, err := ssh.Dial(context.Background(), o); !errors.Is(err, ssh.ErrHostKeyUnknown) {
			t.Fatalf("explicit strict: %v", err)
		}
		o.PolicySet = false
		run(t, dial(t, o), "true")
	})
}

func TestParsePolicy(t *testing.T) {
	tests := []struct {
		in   string
		want ssh.HostKeyPolicy
		err  bool
	}{
		{"strict", ssh.Strict, false}, {"yes", ssh.Strict, false}, {"accept-new", ssh.AcceptNew, false},
		{"off", ssh.Off, false}, {"no", ssh.Off, false}, {"False", ssh.Off, false}, {"maybe", ssh.Strict, true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ssh.ParsePolicy(tc.in)
			if (err != nil) != tc.err || got != tc.want {
				t.Errorf("ParsePolicy(%q) = %v, %v", tc.in, got, err)
			}
		})
	}
}

func TestSSHConfig(t *testing.T) {
	c := hosts(t)
	h := c.Hosts[2]
	home := t.TempDir()
	cfg := filepath.Join(home, ".ssh", "config")
	os.MkdirAll(filepath.Dir(cfg), 0o700)
	os.WriteFile(cfg, []byte(fmt.Sprintf(`Host web*
  HostName %s
  Port %d
  User %s
  IdentityFile %s
  UserKnownHostsFile %s
  ConnectTimeout 5
  ServerAliveInterval 30
`, h.Addr, h.Port, sshtest.SudoUser, c.ClientKey, c.KnownHosts)), 0o600)
	tests := []struct {
		name string
		o    ssh.Options
		user string
	}{
		{"all from config", ssh.Options{Alias: "web1", HomeDir: home}, sshtest.SudoUser},
		{"explicit user wins", ssh.Options{Alias: "web1", HomeDir: home, User: "root"}, "root"},
		{"explicit key files too", ssh.Options{Alias: "webx", HomeDir: home, IdentityFiles: []string{"/nonexistent"}}, sshtest.SudoUser},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.SSHConfigFiles = nil // default: HomeDir/.ssh/config
			got := strings.TrimSpace(run(t, dial(t, tc.o), "id -un; echo $SSH_CONNECTION"))
			lines := strings.Split(got, "\n")
			if lines[0] != tc.user {
				t.Errorf("user %q, want %q", lines[0], tc.user)
			}
			if f := strings.Fields(lines[len(lines)-1]); len(f) != 4 || f[2] != h.Addr {
				t.Errorf("connected to %v, want %s", f, h.Addr)
			}
		})
	}
	t.Run("ProxyCommand", func(t *testing.T) {
		// A relay written in bash: the SSH connection goes through the
		// command's stdin and stdout, and %h/%p are the target's.
		dir := t.TempDir()
		marker := filepath.Join(dir, "used")
		p := filepath.Join(dir, "config")
		os.WriteFile(p, []byte(fmt.Sprintf(`Host viacmd
  HostName %s
  Port %d
  User root
  IdentityFile %s
  UserKnownHostsFile %s
  ProxyCommand bash -c 'echo %%h:%%p > %s; exec 3<>/dev/tcp/%%h/%%p; cat <&3 & exec cat >&3'
`, h.Addr, h.Port, c.ClientKey, c.KnownHosts, marker)), 0o600)
		cl := dial(t, ssh.Options{Alias: "viacmd", SSHConfigFiles: []string{p}})
		if got := strings.Fields(run(t, cl, "echo $SSH_CONNECTION")); len(got) != 4 || got[2] != h.Addr {
			t.Errorf("landed on %v, want %s", got, h.Addr)
		}
		if data, err := os.ReadFile(marker); err != nil || strings.TrimSpace(string(data)) != h.HostPort() {
			t.Errorf("ProxyCommand not used (marker %q, %v)", data, err)
		}
		both := filepath.Join(dir, "both")
		os.WriteFile(both, []byte("Host x\n  ProxyCommand true\n  ProxyJump y\n"), 0o600)
		if _, err := ssh.Dial(context.Background(), ssh.Options{Alias: "x", SSHConfigFiles: []string{both}}); err == nil || !strings.Contains(err.Error(), "both ProxyCommand and ProxyJump") {
			t.Errorf("ProxyCommand with ProxyJump: err = %v", err)
		}
	})
}

func TestProxyJump(t *testing.T) {
	c := hosts(t)
	signer := c.Signer
	jump, err := sshtest.StartFault(sshtest.FaultOptions{User: "jumper", AuthorizedKey: signer.PublicKey()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { jump.Close() })
	dir := t.TempDir()
	kh := filepath.Join(dir, "known_hosts")
	khData, _ := os.ReadFile(c.KnownHosts)
	os.WriteFile(kh, append(khData, jump.KnownHostsLine()...), 0o600)
	cfg := filepath.Join(dir, "config")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`Host bastion
  HostName %s
  Port %d
  User jumper
Host inner
  HostName %s
  Port %d
  User root
Host one
  HostName %s
  Port %d
  ProxyJump bastion
Host two
  HostName %s
  Port %d
  ProxyJump bastion,inner
Host *
  IdentityFile %s
  UserKnownHostsFile %s
`, jump.Host(), jump.Port(), c.Hosts[1].Addr, c.Hosts[1].Port,
		c.Hosts[0].Addr, c.Hosts[0].Port, c.Hosts[2].Addr, c.Hosts[2].Port, c.ClientKey, kh)), 0o600)

	tests := []struct {
		alias    string
		target   *sshtest.Host
		forwards []string // what the bastion must have forwarded
	}{
		{"one", c.Hosts[0], []string{c.Hosts[0].HostPort()}},
		{"two", c.Hosts[2], []string{c.Hosts[0].HostPort(), c.Hosts[1].HostPort()}},
	}
	for _, tc := range tests {
		t.Run(tc.alias, func(t *testing.T) {
			cl := dial(t, ssh.Options{Alias: tc.alias, User: "root", SSHConfigFiles: []string{cfg}})
			got := strings.Fields(run(t, cl, "echo $SSH_CONNECTION"))
			if len(got) != 4 || got[2] != tc.target.Addr {
				t.Errorf("landed on %v, want %s", got, tc.target.Addr)
			}
			if fw := jump.Forwards(); strings.Join(fw, " ") != strings.Join(tc.forwards, " ") {
				t.Errorf("bastion forwarded to %v, want %v", fw, tc.forwards)
			}
			if err := cl.Put(context.Background(), strings.NewReader("via jump"), "/srv/jumped", 0o600); err != nil {
				t.Error(err)
			}
		})
	}
	t.Run("jump host key checked", func(t *testing.T) {
		o := ssh.Options{Alias: "one", User: "root", SSHConfigFiles: []string{cfg}, KnownHostsFiles: []string{c.KnownHosts}}
		_, err := ssh.Dial(context.Background(), o)
		if !errors.Is(err, ssh.ErrHostKeyUnknown) || !strings.Contains(err.Error(), "jump host bastion") {
			t.Errorf("err = %v, want the bastion's unknown key", err)
		}
	})
}

// startAgent serves an in-process ssh-agent holding keys on a unix socket.
func startAgent(t *testing.T, keys ...any) string {
	t.Helper()
	kr := agent.NewKeyring()
	for _, k := range keys {
		if err := kr.Add(agent.AddedKey{PrivateKey: k}); err != nil {
			t.Fatal(err)
		}
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			nc, err := l.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { agent.ServeAgent(kr, nc); nc.Close() })
		}
	})
	return sock
}

func TestAuth(t *testing.T) {
	c := hosts(t)
	clientPriv := readKey(t, c.ClientKey)
	_, encPriv, _ := ed25519.GenerateKey(rand.Reader)
	encSigner, _ := xssh.NewSignerFromKey(encPriv)
	if err := c.Authorize(encSigner.PublicKey()); err != nil {
		t.Fatal(err)
	}
	block, err := xssh.MarshalPrivateKeyWithPassphrase(encPriv, "enc", []byte("s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	encFile := filepath.Join(t.TempDir(), "id_enc")
	os.WriteFile(encFile, pem.EncodeToMemory(block), 0o600)

	base := func(t *testing.T, user string) ssh.Options {
		o := rootOpts(t, c, 0)
		o.User, o.IdentityFiles = user, nil
		return o
	}
	tests := []struct {
		name    string
		opts    func(t *testing.T) ssh.Options
		user    string
		errWant []string // empty: success
	}{
		{"agent", func(t *testing.T) ssh.Options {
			o := base(t, "root")
			o.AgentSocket = startAgent(t, clientPriv)
			return o
		}, "root", nil},
		{"default identity in home", func(t *testing.T) ssh.Options {
			o := base(t, "root")
			os.MkdirAll(filepath.Join(o.HomeDir, ".ssh"), 0o700)
			b, _ := os.ReadFile(c.ClientKey)
			os.WriteFile(filepath.Join(o.HomeDir, ".ssh", "id_ed25519"), b, 0o600)
			return o
		}, "root", nil},
		{"encrypted key with passphrase", func(t *testing.T) ssh.Options {
			o := base(t, "root")
			o.IdentityFiles = []string{encFile}
			o.Passphrase = func(f string) ([]byte, error) { return []byte("s3cret"), nil }
			return o
		}, "root", nil},
		{"encrypted key without passphrase", func(t *testing.T) ssh.Options {
			o := base(t, "root")
			o.IdentityFiles = []string{encFile}
			return o
		}, "", []string{"encrypted", encFile}},
		{"password", func(t *testing.T) ssh.Options {
			o := base(t, sshtest.SudoUser)
			o.Password = c.SudoPassword()
			return o
		}, sshtest.SudoUser, nil},
		{"wrong password", func(t *testing.T) ssh.Options {
			o := base(t, sshtest.SudoUser)
			o.Password = "wrong"
			return o
		}, "", []string{"password", sshtest.SudoUser + "@"}},
		{"nothing to offer", func(t *testing.T) ssh.Options {
			return base(t, "root")
		}, "", []string{"refused every credential"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cl, err := ssh.Dial(context.Background(), tc.opts(t))
			if len(tc.errWant) > 0 {
				if !errors.Is(err, ssh.ErrAuth) || !errors.Is(err, conn.ErrUnreachable) {
					t.Fatalf("err = %v, want ErrAuth", err)
				}
				for _, w := range tc.errWant {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error lacks %q: %v", w, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			if got := strings.TrimSpace(run(t, cl, "id -un")); got != tc.user {
				t.Errorf("logged in as %q, want %q", got, tc.user)
			}
		})
	}
}

func readKey(t *testing.T, file string) any {
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	k, err := xssh.ParseRawPrivateKey(b)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestHostDiesMidCommand(t *testing.T) {
	c := sshtest.StartT(t, 1)
	o := ssh.Options{Alias: "h1", Host: c.Hosts[0].Addr, Port: c.Hosts[0].Port, User: "root",
		IdentityFiles: []string{c.ClientKey}, KnownHostsFiles: []string{c.KnownHosts}, SSHConfigFiles: []string{}}
	cl := dial(t, o)
	done := make(chan error, 1)
	go func() {
		_, err := cl.Exec(context.Background(), conn.Command{Script: "echo started; sleep 30"})
		done <- err
	}()
	// Wait until the command runs, then crash the host.
	if !waitFor(5*time.Second, func() bool {
		res, err := cl.Exec(context.Background(), conn.Command{Script: "pgrep -f 'sleep 30'"})
		return err == nil && res.RC == 0
	}) {
		t.Fatal("command never started")
	}
	c.StopHost(0)
	select {
	case err := <-done:
		if !errors.Is(err, conn.ErrUnreachable) {
			t.Errorf("Exec on a killed host: %v, want ErrUnreachable", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Exec did not return after the host died")
	}
	if _, err := cl.Stat(context.Background(), "/"); !errors.Is(err, conn.ErrUnreachable) {
		t.Errorf("Stat after the host died: %v, want ErrUnreachable", err)
	}
	if _, err := ssh.Dial(context.Background(), o); !errors.Is(err, conn.ErrUnreachable) {
		t.Errorf("Dial of a dead host: %v", err)
	}
}

func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			return false
		case <-tick.C:
		}
	}
	return true
}

// faultOpts returns options for a FaultServer with the client's own key.
func fault(t *testing.T, fo sshtest.FaultOptions) (*sshtest.FaultServer, ssh.Options) {
	t.Helper()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, _ := xssh.NewSignerFromKey(priv)
	block, _ := xssh.MarshalPrivateKey(priv, "")
	dir := t.TempDir()
	key := filepath.Join(dir, "id")
	os.WriteFile(key, pem.EncodeToMemory(block), 0o600)
	fo.AuthorizedKey = signer.PublicKey()
	s, err := sshtest.StartFault(fo)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	kh := filepath.Join(dir, "known_hosts")
	os.WriteFile(kh, []byte(s.KnownHostsLine()), 0o600)
	return s, ssh.Options{Alias: "faulty", Host: s.Host(), Port: s.Port(), User: "test",
		IdentityFiles: []string{key}, KnownHostsFiles: []string{kh}, SSHConfigFiles: []string{},
		ConnectTimeout: 2 * time.Second, ConnectRetries: -1}
}

func TestFaults(t *testing.T) {
	ctx := context.Background()
	t.Run("working fault server", func(t *testing.T) {
		_, o := fault(t, sshtest.FaultOptions{})
		if got := run(t, dial(t, o), "echo hi"); got != "hi\n" {
			t.Errorf("got %q", got)
		}
	})
	t.Run("auth refused", func(t *testing.T) {
		_, o := fault(t, sshtest.FaultOptions{RefuseAuth: true})
		o.Password = "pw"
		_, err := ssh.Dial(ctx, o)
		if !errors.Is(err, ssh.ErrAuth) || !errors.Is(err, conn.ErrUnreachable) {
			t.Fatalf("err = %v", err)
		}
		for _, w := range []string{"publickey", "password", o.IdentityFiles[0]} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error lacks %q: %v", w, err)
			}
		}
	})
	t.Run("host key changes between connects", func(t *testing.T) {
		_, o := fault(t, sshtest.FaultOptions{RotateHostKey: true})
		o.KnownHostsFiles = []string{filepath.Join(t.TempDir(), "kh")}
		o.HostKeyPolicy, o.PolicySet = ssh.AcceptNew, true
		dial(t, o)
		_, err := ssh.Dial(ctx, o)
		if !errors.Is(err, ssh.ErrHostKeyChanged) {
			t.Fatalf("second connect: %v, want ErrHostKeyChanged", err)
		}
		if !strings.Contains(err.Error(), o.KnownHostsFiles[0]+":1") {
			t.Errorf("error does not name the file and line: %v", err)
		}
	})
	t.Run("dropped mid-command", func(t *testing.T) {
		_, o := fault(t, sshtest.FaultOptions{DropMidExec: true})
		_, err := dial(t, o).Exec(ctx, conn.Command{Script: "echo never"})
		if !errors.Is(err, conn.ErrUnreachable) {
			t.Errorf("err = %v, want ErrUnreachable", err)
		}
	})
	t.Run("dropped mid-upload", func(t *testing.T) {
		_, o := fault(t, sshtest.FaultOptions{DropUploadAfter: 256 << 10})
		dir := t.TempDir()
		dst := filepath.Join(dir, "big")
		err := dial(t, o).Put(ctx, bytes.NewReader(make([]byte, 4<<20)), dst, 0o644)
		if !errors.Is(err, conn.ErrUnreachable) {
			t.Errorf("err = %v, want ErrUnreachable", err)
		}
		if _, err := os.Stat(dst); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("destination exists after a dropped upload: %v", err)
		}
		// The next write to dst reuses the temporary file's name and
		// leaves nothing behind.
		_, o = fault(t, sshtest.FaultOptions{})
		if err := dial(t, o).Put(ctx, strings.NewReader("new\n"), dst, 0o644); err != nil {
			t.Fatal(err)
		}
		if got := dirNames(t, dir); len(got) != 1 || got[0] != "big" {
			t.Errorf("after the next write the directory holds %q, want only big", got)
		}
	})
	t.Run("never answers handshake", func(t *testing.T) {
		_, o := fault(t, sshtest.FaultOptions{NoHandshake: true})
		o.ConnectTimeout = 500 * time.Millisecond
		o.ConnectRetries = -1 // a timeout is retried otherwise (TestHandshakeTimeout)
		start := time.Now()
		_, err := ssh.Dial(ctx, o)
		if took := time.Since(start); took > 3*time.Second {
			t.Errorf("Dial took %v with a 500ms connect timeout", took)
		}
		if !errors.Is(err, conn.ErrUnreachable) || !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("err = %v, want ErrUnreachable and a timeout", err)
		}
	})
	t.Run("keepalives unanswered", func(t *testing.T) {
		_, o := fault(t, sshtest.FaultOptions{IgnoreKeepalives: true})
		o.ServerAliveInterval = 100 * time.Millisecond
		start := time.Now()
		_, err := dial(t, o).Exec(ctx, conn.Command{Script: "sleep 20"})
		if !errors.Is(err, conn.ErrUnreachable) || !strings.Contains(err.Error(), "keepalive") {
			t.Errorf("err = %v, want ErrUnreachable naming keepalives", err)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("dead connection noticed after %v", took)
		}
	})
	t.Run("refused port retried", func(t *testing.T) {
		l, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := l.Addr().(*net.TCPAddr)
		l.Close()
		_, o := fault(t, sshtest.FaultOptions{})
		o.Port, o.ConnectRetries = addr.Port, 2
		_, err := ssh.Dial(ctx, o)
		if !errors.Is(err, conn.ErrUnreachable) || !strings.Contains(err.Error(), "after 3 attempts") {
			t.Errorf("err = %v, want 3 attempts", err)
		}
	})
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestPutLeftover: a write replaces whatever an earlier write left at its
// temporary name (a partial file, a link planted there) without following
// it, and leaves only the destination behind.
func TestPutLeftover(t *testing.T) {
	ctx := context.Background()
	_, o := fault(t, sshtest.FaultOptions{})
	cl := dial(t, o)
	long := strings.Repeat("x", 250)
	tests := []struct {
		name, base string
		leftover   func(t *testing.T, tmp, victim string)
	}{
		{"no leftover", "app.conf", nil},
		{"partial file", "app.conf", func(t *testing.T, tmp, _ string) {
			if err := os.WriteFile(tmp, []byte("partial"), 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{"link to another file", "app.conf", func(t *testing.T, tmp, victim string) {
			if err := os.Symlink(victim, tmp); err != nil {
				t.Fatal(err)
			}
		}},
		{"name too long for a suffix", long, func(t *testing.T, tmp, _ string) {
			if err := os.WriteFile(tmp, []byte("partial"), 0o600); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		for _, put := range []string{"Put", "PutFile"} {
			t.Run(tt.name+"/"+put, func(t *testing.T) {
				dir, other := t.TempDir(), t.TempDir()
				dst := filepath.Join(dir, tt.base)
				victim := filepath.Join(other, "victim")
				if err := os.WriteFile(victim, []byte("keep"), 0o644); err != nil {
					t.Fatal(err)
				}
				tmp := ssh.TempPath(dst)
				if filepath.Dir(tmp) != dir || len(filepath.Base(tmp)) > 255 {
					t.Fatalf("TempPath(%q) = %q", dst, tmp)
				}
				if tt.leftover != nil {
					tt.leftover(t, tmp, victim)
				}
				var err error
				if put == "Put" {
					err = cl.Put(ctx, strings.NewReader("new\n"), dst, 0o640)
				} else {
					_, err = cl.PutFile(ctx, strings.NewReader("new\n"), dst, 0o640, -1, -1)
				}
				if err != nil {
					t.Fatal(err)
				}
				if got, _ := os.ReadFile(dst); string(got) != "new\n" {
					t.Errorf("destination holds %q", got)
				}
				if fi, err := os.Stat(dst); err != nil || fi.Mode().Perm() != 0o640 {
					t.Errorf("destination mode: %v %v", fi.Mode(), err)
				}
				if got, _ := os.ReadFile(victim); string(got) != "keep" {
					t.Errorf("the link's target was written: %q", got)
				}
				if got := dirNames(t, dir); len(got) != 1 || got[0] != tt.base {
					t.Errorf("directory holds %q, want only %s", got, tt.base)
				}
			})
		}
	}
}

// TestSSHConfigAliasAsHost: the name given as ansible_host (Options.Host)
// is looked up in ssh_config as OpenSSH looks up the name on its command
// line: the matching blocks give HostName, Port, User, IdentityFile and
// ProxyJump; explicit Port and User win; the inventory name's own block
// does not apply; a jump host is asked for the resolved HostName
// (issue 11).
func TestSSHConfigAliasAsHost(t *testing.T) {
	c := hosts(t)
	h, behind := c.Hosts[2], c.Hosts[1]
	jump, err := sshtest.StartFault(sshtest.FaultOptions{User: "jumper", AuthorizedKey: c.Signer.PublicKey()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { jump.Close() })
	dir := t.TempDir()
	kh := filepath.Join(dir, "known_hosts")
	khData, _ := os.ReadFile(c.KnownHosts)
	os.WriteFile(kh, append(khData, jump.KnownHostsLine()...), 0o600)
	cfg := filepath.Join(dir, "config")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`Host web1
  HostName 192.0.2.1
  Port 1
  User nobody
Host web-alias
  HostName %s
  Port %d
  User %s
Host web-badport
  HostName %s
  Port 1
Host web-*
  HostName 192.0.2.1
Host bastion
  HostName %s
  Port %d
  User jumper
Host behind-alias
  HostName %s
  Port %d
  User root
  ProxyJump bastion
Host *
  IdentityFile %s
  UserKnownHostsFile %s
`, h.Addr, h.Port, sshtest.SudoUser, h.Addr, jump.Host(), jump.Port(), behind.Addr, behind.Port, c.ClientKey, kh)), 0o600)
	tests := []struct {
		name     string
		o        ssh.Options
		user     string
		target   *sshtest.Host
		forwards []string
	}{
		{"alias block applies, not the inventory name's", ssh.Options{Alias: "web1", Host: "web-alias"}, sshtest.SudoUser, h, nil},
		{"explicit user wins", ssh.Options{Alias: "web1", Host: "web-alias", User: "root"}, "root", h, nil},
		{"explicit port wins, the first HostName found wins", ssh.Options{Alias: "web1", Host: "web-badport", Port: h.Port, User: "root"}, "root", h, nil},
		{"proxy jump asks for the resolved HostName", ssh.Options{Alias: "web1", Host: "behind-alias"}, "root", behind, []string{behind.HostPort()}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.SSHConfigFiles = []string{cfg}
			tc.o.HomeDir = dir
			tc.o.ConnectRetries = -1
			cl, err := ssh.Dial(context.Background(), tc.o)
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			got := strings.Fields(run(t, cl, "id -un; echo $SSH_CONNECTION"))
			if len(got) != 5 || got[0] != tc.user || got[3] != tc.target.Addr || got[4] != fmt.Sprint(tc.target.Port) {
				t.Errorf("logged in as/at %v, want %s at %s", got, tc.user, tc.target.HostPort())
			}
			if tc.forwards != nil {
				if fw := jump.Forwards(); strings.Join(fw, " ") != strings.Join(tc.forwards, " ") {
					t.Errorf("bastion forwarded to %v, want %v", fw, tc.forwards)
				}
			}
		})
	}
}
