// Package sshtest starts real OpenSSH test hosts (DESIGN §8) and an
// in-process SSH server with injectable faults, for integration tests,
// `make demo` and the benchmark.
package sshtest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
)

// Root says what a test host shares with the machine.
type Root int

const (
	// RootShared, the default, gives each host a private tmpfs on /srv and
	// shares everything else with the machine: /etc, the package database,
	// the users. It is enough for anything that writes only under /srv.
	RootShared Root = iota
	// RootOverlay gives each host a private writable root: an overlay of
	// the machine's / with a tmpfs upper layer, in the host's own mount
	// namespace (plus the private /srv). Packages installed, /etc edited and
	// files written anywhere stay inside that host and vanish when it stops;
	// the machine's files are never changed. The host also has its own
	// hostname (UTS namespace) and IPC. /proc, /dev and /sys are the
	// machine's (the kernel, sysctls and the network are shared); daemons
	// started on the host run in its PID namespace and are killed when it
	// stops. Each host's writes cost memory (tmpfs).
	RootOverlay
)

// MaxHosts bounds Options.N: 250 hosts per leased 127.X.Y range.
const MaxHosts = 10000

// hostsPerRange is how many hosts share one leased 127.X.Y range.
const hostsPerRange = 250

// Options configures Start.
type Options struct {
	// N is the number of hosts, 1..MaxHosts. Up to 250 hosts share one
	// 127.X.Y range; more lease further ranges.
	N int
	// Root chooses the hosts' file system view; default RootShared.
	Root Root
	// Dir receives keys, sshd configs and logs, known_hosts, ssh_config and
	// the inventory. It is created if missing.
	Dir string
	// SSHD is the sshd binary; default /usr/sbin/sshd.
	SSHD string
	// StartTimeout bounds the wait for each sshd to accept connections,
	// from its launch (a host waiting for a launch slot is not timed);
	// default 30s.
	StartTimeout time.Duration
	// Parallel bounds how many hosts are being launched at once; default
	// 16 per CPU. Launching is CPU-bound (fork, exec, mounts): far more in
	// flight only makes every one of them slower and time out.
	Parallel int
}

// Host is one running test host.
type Host struct {
	Name string // h1, h2, ...
	Addr string // its own loopback address, 127.X.Y.N
	Port int
	// HostKey is the host's public key, as recorded in Cluster.KnownHosts.
	HostKey ssh.PublicKey

	proc *proc // the running unshare+sshd, nil before the first launch
	log  string
}

// proc is one launch of a host's unshare+sshd.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has been waited for
	err  error         // the process's exit error, valid after done
}

// HostPort returns "Addr:Port".
func (h Host) HostPort() string { return net.JoinHostPort(h.Addr, strconv.Itoa(h.Port)) }

// Cluster is a set of running test hosts and the files describing them.
type Cluster struct {
	Hosts []*Host
	Dir   string
	// Inventory is an INI inventory with every host in group testhosts.
	Inventory string
	// KnownHosts lists every host's key under "[addr]:port".
	KnownHosts string
	// SSHConfig has a Host block per host name (HostName, Port, User root,
	// IdentityFile, UserKnownHostsFile), for `ssh -F` and ssh_config tests.
	SSHConfig string
	// ClientKey is the private key (unencrypted, OpenSSH format) accepted
	// for root, SudoUser and NoPassUser; ClientKey+".pub" holds its public key.
	ClientKey string
	// Signer is ClientKey, parsed.
	Signer ssh.Signer
	// Subnet is "127.X.Y": the first 250 hosts' addresses are Subnet.1 ..
	// Subnet.250 (h1..h250); further hosts are in further leased ranges.
	Subnet string
	// StartTime is how long Start took, from keys to every sshd listening.
	StartTime time.Duration

	root     Root
	leases   []*subnetLease
	accounts *accounts
	stopOnce sync.Once
	stopErr  error
}

// SudoPassword returns the login and sudo password of SudoUser (and the
// login password of NoPassUser and NoSudoUser): random, drawn when the
// harness accounts were created. It is "" for a nil cluster.
func (c *Cluster) SudoPassword() string {
	if c == nil || c.accounts == nil {
		return ""
	}
	return c.accounts.password
}

// Start generates keys and configs under o.Dir and starts o.N sshd
// processes in parallel, each in its own mount and PID namespace with a
// private tmpfs on /srv (and, with RootOverlay, a private root), and
// returns when all of them accept TCP connections. It creates the harness
// accounts (SudoUser, NoPassUser, NoSudoUser) unless another cluster on the
// machine already holds them. It needs root, unshare(1) and sshd.
func Start(ctx context.Context, o Options) (*Cluster, error) {
	began := time.Now()
	if o.N < 1 || o.N > MaxHosts {
		return nil, fmt.Errorf("start test hosts: n=%d out of range 1..%d", o.N, MaxHosts)
	}
	if o.Root != RootShared && o.Root != RootOverlay {
		return nil, fmt.Errorf("start test hosts: unknown root mode %d", o.Root)
	}
	if o.SSHD == "" {
		o.SSHD = "/usr/sbin/sshd"
	}
	if o.StartTimeout == 0 {
		o.StartTimeout = 30 * time.Second
	}
	if o.Parallel <= 0 {
		o.Parallel = 16 * runtime.NumCPU()
	}
	if err := Available(o.SSHD); err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, fmt.Errorf("start test hosts: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("start test hosts: %w", err)
	}
	// sshd's privilege separation directory; in RootShared mode the hosts
	// see the machine's /run.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		return nil, fmt.Errorf("start test hosts: %w", err)
	}
	c := &Cluster{Dir: dir, root: o.Root}
	acc, err := acquireAccounts(ctx, lockDir)
	if err != nil {
		return nil, fmt.Errorf("start test hosts: %w", err)
	}
	c.accounts = acc
	for range (o.N + hostsPerRange - 1) / hostsPerRange {
		lease, err := leaseSubnet()
		if err != nil {
			c.Stop()
			return nil, fmt.Errorf("start test hosts: %w", err)
		}
		c.leases = append(c.leases, lease)
	}
	c.Subnet = c.leases[0].subnet
	if err := c.writeFiles(o); err != nil {
		c.Stop()
		return nil, fmt.Errorf("start test hosts: %w", err)
	}
	errs := make([]error, len(c.Hosts))
	var wg sync.WaitGroup
	slots := make(chan struct{}, o.Parallel)
	for i, h := range c.Hosts {
		wg.Go(func() { errs[i] = c.startHost(ctx, o, h, slots) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		c.Stop()
		return nil, fmt.Errorf("start test hosts: %w", err)
	}
	// Ports are known only now: write the files that name them.
	if err := c.writeIndex(); err != nil {
		c.Stop()
		return nil, fmt.Errorf("start test hosts: %w", err)
	}
	c.StartTime = time.Since(began)
	return c, nil
}

// Available reports why test hosts cannot be started here, or nil.
func Available(sshd string) error {
	if sshd == "" {
		sshd = "/usr/sbin/sshd"
	}
	if os.Geteuid() != 0 {
		return errors.New("test hosts need root (unshare -m, sshd, useradd)")
	}
	for _, p := range []string{sshd, "unshare", "sudo", "useradd", "userdel", "chpasswd"} {
		if _, err := exec.LookPath(p); err != nil {
			return fmt.Errorf("test hosts need %s (apt-get install openssh-server sudo): %w", p, err)
		}
	}
	return nil
}

// writeFiles generates every key and config file and fills c.Hosts.
func (c *Cluster) writeFiles(o Options) error {
	c.ClientKey = filepath.Join(c.Dir, "id_ed25519")
	signer, err := writeKey(c.ClientKey, "mdo-testhosts client")
	if err != nil {
		return err
	}
	c.Signer = signer
	authLine := ssh.MarshalAuthorizedKey(signer.PublicKey())
	if err := os.WriteFile(c.ClientKey+".pub", authLine, 0o644); err != nil {
		return err
	}
	// sshd reads authorized keys as the logging-in user, who cannot enter
	// c.Dir (often a 0700 test temp dir): keep them in the leased subnet's
	// world-readable directory.
	authKeys := c.authorizedKeys()
	if err := os.WriteFile(authKeys, authLine, 0o644); err != nil {
		return err
	}
	for i := 1; i <= o.N; i++ {
		lease := c.leases[(i-1)/hostsPerRange]
		h := &Host{Name: "h" + strconv.Itoa(i), Addr: lease.subnet + "." + strconv.Itoa((i-1)%hostsPerRange+1)}
		hdir := filepath.Join(c.Dir, h.Name)
		if err := os.MkdirAll(hdir, 0o700); err != nil {
			return err
		}
		hk, err := writeKey(filepath.Join(hdir, "ssh_host_ed25519_key"), "root@"+h.Name)
		if err != nil {
			return err
		}
		h.HostKey = hk.PublicKey()
		h.log = filepath.Join(hdir, "sshd.log")
		c.Hosts = append(c.Hosts, h)
	}
	if err := os.WriteFile(filepath.Join(c.Dir, "fstab"), []byte(sharedFstab()), 0o600); err != nil {
		return err
	}
	c.KnownHosts = filepath.Join(c.Dir, "known_hosts")
	c.Inventory = filepath.Join(c.Dir, "inventory.ini")
	c.SSHConfig = filepath.Join(c.Dir, "ssh_config")
	return nil
}

// writeIndex writes known_hosts, the inventory and ssh_config once every
// host has its port.
func (c *Cluster) writeIndex() error {
	var known, inv, cfg strings.Builder
	inv.WriteString("[testhosts]\n")
	for _, h := range c.Hosts {
		fmt.Fprintf(&known, "[%s]:%d %s", h.Addr, h.Port, ssh.MarshalAuthorizedKey(h.HostKey))
		fmt.Fprintf(&inv, "%s ansible_host=%s ansible_port=%d ansible_user=root ansible_ssh_private_key_file=%s\n",
			h.Name, h.Addr, h.Port, c.ClientKey)
		fmt.Fprintf(&cfg, "Host %s\n  HostName %s\n  Port %d\n  User root\n  IdentityFile %s\n  IdentitiesOnly yes\n  UserKnownHostsFile %s\n  StrictHostKeyChecking yes\n\n",
			h.Name, h.Addr, h.Port, c.ClientKey, c.KnownHosts)
	}
	for path, s := range map[string]string{c.KnownHosts: known.String(), c.Inventory: inv.String(), c.SSHConfig: cfg.String()} {
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			return err
		}
	}
	return nil
}

// startHost starts h's sshd and waits until it accepts connections. A port
// taken between choosing and binding it is retried with a fresh one. slots
// bounds how many hosts are launching at once.
func (c *Cluster) startHost(ctx context.Context, o Options, h *Host, slots chan struct{}) error {
	select {
	case slots <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("%s: not launched: %w", h.Name, ctx.Err())
	}
	defer func() { <-slots }()
	ctx, cancel := context.WithTimeout(ctx, o.StartTimeout)
	defer cancel()
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort(h.Addr)
		if err != nil {
			return fmt.Errorf("%s: %w", h.Name, err)
		}
		h.Port = port
		hdir := filepath.Join(c.Dir, h.Name)
		cfgPath := filepath.Join(hdir, "sshd_config")
		if err := os.WriteFile(cfgPath, []byte(c.sshdConfig(h)), 0o600); err != nil {
			return fmt.Errorf("%s: %w", h.Name, err)
		}
		p, err := c.launch(o, h.log, cfgPath, hdir)
		if err != nil {
			return fmt.Errorf("%s: %w", h.Name, err)
		}
		h.proc = p
		err = waitListening(ctx, h, p)
		if err == nil {
			return nil
		}
		lastErr = fmt.Errorf("%s: %w", h.Name, err)
		h.kill()
		if ctx.Err() != nil {
			break
		}
	}
	return lastErr
}

// authorizedKeys is the file every host's sshd reads authorized keys from.
// sshd reads it as the logging-in user, who cannot enter c.Dir (often a
// 0700 test temp dir): it lives in the first leased range's
// world-readable directory.
func (c *Cluster) authorizedKeys() string {
	return filepath.Join(c.leases[0].dir, "authorized_keys")
}

func (c *Cluster) sshdConfig(h *Host) string {
	return fmt.Sprintf(`# generated by sshtest for %s
ListenAddress %s
Port %d
HostKey %s
PidFile none
AuthorizedKeysFile %s
StrictModes no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
UsePAM no
PrintMotd no
PrintLastLog no
UseDNS no
MaxStartups 200
LogLevel INFO
Subsystem sftp /usr/lib/openssh/sftp-server
`, h.Name, h.Addr, h.Port, filepath.Join(c.Dir, h.Name, "ssh_host_ed25519_key"),
		c.authorizedKeys())
}

// sharedScript prepares a RootShared host inside its new mount namespace
// and runs sshd: $0 is sshd, $1 its config, $2 the cluster's fstab (one
// mount(8) for every mount: each exec counts when 1000 hosts start).
const sharedScript = `set -e
mount -a -T "$2"
exec "$0" -D -e -f "$1"`

// sharedFstab lists the mounts of a RootShared host: a private /srv, and
// Debian's plain .bashrc over root's (whatever the machine's root has in
// its own must not reach the tests' shells).
func sharedFstab() string {
	tab := "mdo-srv /srv tmpfs mode=0755 0 0\n"
	if _, err := os.Stat("/root/.bashrc"); err == nil {
		tab += "/usr/share/base-files/dot.bashrc /root/.bashrc none bind 0 0\n"
	}
	return tab
}

// overlayScript prepares a RootOverlay host: $2 is an empty directory of
// the host's own, where a tmpfs takes the overlay's upper and work
// directories and the merged root; $3... are directories of the machine
// that stay shared (the cluster's files), bound at the same paths. The
// process then pivots into the merged root, so that nothing of the
// machine's root is reachable from the host except through /proc, /dev,
// /sys and those directories.
const overlayScript = `set -e
sshd=$0 cfg=$1 top=$2
shift 3
mount -t tmpfs -o mode=0755 mdo-root "$top"
mkdir "$top/upper" "$top/work" "$top/root"
mount -t overlay -o "lowerdir=/,upperdir=$top/upper,workdir=$top/work" mdo-overlay "$top/root"
r=$top/root
mount -t proc proc "$r/proc"
mount --rbind /dev "$r/dev"
mount --rbind /sys "$r/sys"
mount -t tmpfs -o mode=0755 mdo-srv "$r/srv"
for d in "$@"; do mkdir -p "$r$d"; mount --bind "$d" "$r$d"; done
mkdir -p "$r/run/sshd" "$r/.mdo-oldroot"
if [ -e /usr/share/base-files/dot.bashrc ]; then cp /usr/share/base-files/dot.bashrc "$r/root/.bashrc"; fi
cd "$r"
pivot_root . .mdo-oldroot
umount -l /.mdo-oldroot
rmdir /.mdo-oldroot
cd /
exec "$sshd" -D -e -f "$cfg"`

// launch starts sshd as PID 1 of fresh mount and PID namespaces: killing
// unshare (or the test process dying: Pdeathsig) kills every process of the
// host, including per-connection sshd children, their commands and any
// daemon started on the host.
func (c *Cluster) launch(o Options, logPath, cfgPath, hdir string) (*proc, error) {
	args := []string{"--mount", "--propagation", "private", "--pid", "--fork",
		"--mount-proc", "--kill-child", "/bin/sh", "-c"}
	switch c.root {
	case RootOverlay:
		top := filepath.Join(hdir, "root")
		if err := os.MkdirAll(top, 0o700); err != nil {
			return nil, err
		}
		// Own hostname and System V IPC too: a role that sets the
		// hostname must not rename the machine.
		args = append([]string{"--uts", "--ipc"}, args...)
		args = append(args, overlayScript, o.SSHD, cfgPath, top, c.Dir)
		for _, l := range c.leases {
			args = append(args, l.dir)
		}
	default:
		args = append(args, sharedScript, o.SSHD, cfgPath, filepath.Join(c.Dir, "fstab"))
	}
	cmd := exec.Command("unshare", args...)
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start sshd: %w", err)
	}
	// The child has its own copy of the log descriptor: with 1000 hosts,
	// keeping ours open would cost 1000 descriptors for nothing.
	logf.Close()
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// waitListening waits until h's sshd says in its log that it listens on
// h's address and port (it logs that after listen(2)), h's process exits,
// or ctx ends. Reading the log, not connecting, matters at scale: every
// connection costs sshd a fork and a re-exec, a good part of a host's
// start-up CPU. The poll interval grows from 10ms to 200ms.
func waitListening(ctx context.Context, h *Host, p *proc) error {
	want := []byte(fmt.Sprintf("Server listening on %s port %d.", h.Addr, h.Port))
	wait := 10 * time.Millisecond
	for {
		if b, err := os.ReadFile(h.log); err == nil && bytes.Contains(b, want) {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("sshd exited: %v: %s", p.err, tail(h.log))
		case <-ctx.Done():
			return fmt.Errorf("sshd not listening on %s: %w: %s", h.HostPort(), ctx.Err(), tail(h.log))
		case <-time.After(wait):
		}
		wait = min(2*wait, 200*time.Millisecond)
	}
}

// kill stops h's namespace and waits for it.
func (h *Host) kill() {
	p := h.proc
	if p == nil {
		return
	}
	select {
	case <-p.done:
		return
	default:
	}
	// Kill PID 1 of the namespace (unshare's only child): the kernel then
	// kills every other process in the namespace, and unshare exits once
	// they are all gone. unshare itself ignores SIGTERM.
	pid := p.cmd.Process.Pid
	children, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	killed := false
	for _, f := range strings.Fields(string(children)) {
		if cpid, err := strconv.Atoi(f); err == nil {
			killed = syscall.Kill(cpid, syscall.SIGKILL) == nil || killed
		}
	}
	if !killed {
		// Not forked yet, or already gone: --kill-child covers the rest.
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
	}
	<-p.done
}

// Authorize adds key to the authorized keys of root, SudoUser and
// NoPassUser on every host.
func (c *Cluster) Authorize(key ssh.PublicKey) error {
	f, err := os.OpenFile(c.authorizedKeys(), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("authorize key: %w", err)
	}
	if _, err := f.Write(ssh.MarshalAuthorizedKey(key)); err != nil {
		f.Close()
		return fmt.Errorf("authorize key: %w", err)
	}
	return f.Close()
}

// StopHost kills host i (0-based) and every process running on it, as if
// the machine had crashed. The rest of the cluster keeps running.
func (c *Cluster) StopHost(i int) {
	c.Hosts[i].kill()
}

// Stop kills exactly the processes Start started (and, through their PID
// namespaces, everything they spawned), releases the address ranges, and
// removes the harness accounts when no other cluster on the machine holds
// them. It is safe to call more than once.
func (c *Cluster) Stop() error {
	c.stopOnce.Do(func() {
		var wg sync.WaitGroup
		for _, h := range c.Hosts {
			wg.Go(h.kill)
		}
		wg.Wait()
		var errs []error
		for _, l := range c.leases {
			errs = append(errs, l.release())
		}
		errs = append(errs, c.accounts.release(context.Background(), lockDir))
		c.stopErr = errors.Join(errs...)
	})
	return c.stopErr
}

// writeKey generates an ed25519 key, writes it in OpenSSH format with mode
// 0600 and returns its signer.
func writeKey(path, comment string) (ssh.Signer, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	block, err := ssh.MarshalPrivateKey(priv, comment)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		return nil, err
	}
	return ssh.NewSignerFromKey(priv)
}

// freePort asks the kernel for an unused port on addr.
func freePort(addr string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(addr, "0"))
	if err != nil {
		return 0, fmt.Errorf("find free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tail returns the end of a log file, for error messages.
func tail(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > 2048 {
		_, _ = f.Seek(-2048, io.SeekEnd)
	}
	b, _ := io.ReadAll(f)
	return strings.TrimSpace(string(b))
}
