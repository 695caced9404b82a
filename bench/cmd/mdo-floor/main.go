// Command mdo-floor does the work of the benchmark runbook
// (bench/runbook/site.yml) the plainest way Go and SSH allow: one connection
// per host, one exec per task and the file writes over one SFTP session per
// host. It shows what the SSH protocol and sshd cost on this machine, the
// floor mdo-play is measured against.
//
//	mdo-floor -i inventory.ini -known-hosts FILE [-forks N] [-shell]
//
// With -shell it is the persistent-shell floor instead: one `sh` per host
// started once, fed each command framed on its stdin (evaluated in a
// subshell, stdin from /dev/null, the end marked by a random line with the
// exit status), so that a task costs neither a session nor an exec of sh.
//
// The inventory is the test-host harness's INI file (one host per line with
// ansible_host, ansible_port, ansible_user and ansible_ssh_private_key_file).
package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "mdo-floor:", err)
		stop()
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("mdo-floor", flag.ContinueOnError)
	inv := fs.String("i", "", "inventory (the harness's INI file)")
	known := fs.String("known-hosts", "", "known_hosts file")
	forks := fs.Int("forks", 20, "hosts run at once")
	persistent := fs.Bool("shell", false, "run commands in one long-lived sh per host")
	if err := fs.Parse(args); err != nil {
		return err
	}
	hosts, err := readInventory(*inv)
	if err != nil {
		return err
	}
	hkcb, err := knownhosts.New(*known)
	if err != nil {
		return fmt.Errorf("read known hosts: %w", err)
	}
	signers := map[string]ssh.Signer{}
	for _, h := range hosts {
		if _, ok := signers[h.key]; ok {
			continue
		}
		pem, err := os.ReadFile(h.key)
		if err != nil {
			return fmt.Errorf("read key: %w", err)
		}
		s, err := ssh.ParsePrivateKey(pem)
		if err != nil {
			return fmt.Errorf("parse key %s: %w", h.key, err)
		}
		signers[h.key] = s
	}
	sem := make(chan struct{}, max(*forks, 1))
	errs := make([]error, len(hosts))
	changed := make([]int, len(hosts))
	var wg sync.WaitGroup
	for i, h := range hosts {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			cfg := &ssh.ClientConfig{
				User:            h.user,
				Auth:            []ssh.AuthMethod{ssh.PublicKeys(signers[h.key])},
				HostKeyCallback: hkcb,
				Timeout:         10 * time.Second,
			}
			changed[i], errs[i] = runHost(ctx, h, cfg, *persistent)
			if errs[i] != nil {
				errs[i] = fmt.Errorf("%s: %w", h.name, errs[i])
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for i, h := range hosts {
		fmt.Printf("%s changed=%d\n", h.name, changed[i])
	}
	return nil
}

// host is one inventory line.
type host struct {
	name, addr, user, key string
	port                  int
}

func readInventory(path string) ([]host, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read inventory: %w", err)
	}
	defer f.Close()
	var hosts []host
	hostSection := true
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") || strings.HasPrefix(fields[0], ";") {
			continue
		}
		if strings.HasPrefix(fields[0], "[") {
			hostSection = !strings.Contains(fields[0], ":")
			continue
		}
		if !hostSection {
			continue
		}
		h := host{name: fields[0], addr: fields[0], user: "root", port: 22}
		for _, kv := range fields[1:] {
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "ansible_host":
				h.addr = v
			case "ansible_port":
				if h.port, err = strconv.Atoi(v); err != nil {
					return nil, fmt.Errorf("read inventory: host %s: bad port %q", h.name, v)
				}
			case "ansible_user":
				h.user = v
			case "ansible_ssh_private_key_file":
				h.key = v
			}
		}
		if h.key == "" {
			return nil, fmt.Errorf("read inventory: host %s has no ansible_ssh_private_key_file", h.name)
		}
		hosts = append(hosts, h)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read inventory: %w", err)
	}
	return hosts, nil
}

// target is one host's connection and SFTP session.
type target struct {
	c  *ssh.Client
	fs *sftp.Client
	sh *shell // the long-lived shell, with -shell
}

// shell is a long-lived sh on the host.
type shell struct {
	in  io.Writer
	out *bufio.Reader
	n   int
}

// startShell starts sh in a session of its own.
func startShell(c *ssh.Client) (*shell, error) {
	s, err := c.NewSession()
	if err != nil {
		return nil, fmt.Errorf("new session: %w", err)
	}
	in, err := s.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := s.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := s.Start("sh"); err != nil {
		return nil, fmt.Errorf("start sh: %w", err)
	}
	return &shell{in: in, out: bufio.NewReader(out)}, nil
}

// run sends cmd and reads its stdout up to the end marker.
func (sh *shell) run(cmd string) (string, error) {
	sh.n++
	mark := fmt.Sprintf("MDOFLOOR%d-%d", time.Now().UnixNano(), sh.n)
	frame := "(eval '" + strings.ReplaceAll(cmd, "'", `'\''`) + "') </dev/null\nprintf '\\n%s:%d\\n' " + mark + " $?\n"
	if _, err := io.WriteString(sh.in, frame); err != nil {
		return "", err
	}
	var b strings.Builder
	for {
		l, err := sh.out.ReadString('\n')
		if err != nil {
			return "", fmt.Errorf("%s: %w", cmd, err)
		}
		if rc, ok := strings.CutPrefix(l, mark+":"); ok {
			if rc = strings.TrimSpace(rc); rc != "0" {
				return "", fmt.Errorf("%s: exit %s", cmd, rc)
			}
			return strings.TrimSuffix(b.String(), "\n"), nil
		}
		b.WriteString(l)
	}
}

// exec runs one command in a new session (or the long-lived shell) and
// returns its stdout.
func (t *target) exec(ctx context.Context, cmd string) (string, error) {
	if t.sh != nil {
		return t.sh.run(cmd)
	}
	s, err := t.c.NewSession()
	if err != nil {
		return "", fmt.Errorf("new session: %w", err)
	}
	defer s.Close()
	stop := context.AfterFunc(ctx, func() { s.Close() })
	defer stop()
	out, err := s.Output(cmd)
	if err != nil {
		return "", fmt.Errorf("%s: %w", cmd, err)
	}
	return string(out), nil
}

// put writes content to path unless its sha256 and mode already match: one
// exec to compare, then SFTP. mode applies to new files and, when force is
// set, to existing ones.
func (t *target) put(ctx context.Context, path, content string, mode os.FileMode, force bool) (bool, error) {
	sum := sha256.Sum256([]byte(content))
	want := hex.EncodeToString(sum[:])
	out, err := t.exec(ctx, "if [ -e "+path+" ]; then stat -c %a "+path+"; sha256sum < "+path+"; fi")
	if err != nil {
		return false, err
	}
	cur := strings.Fields(out)
	if len(cur) >= 2 && cur[1] == want {
		if !force || cur[0] == strconv.FormatUint(uint64(mode), 8) {
			return false, nil
		}
		return true, t.fs.Chmod(path, mode)
	}
	f, err := t.fs.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		return false, fmt.Errorf("open %s: %w", path, err)
	}
	if _, err := io.WriteString(f, content); err != nil {
		f.Close()
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	if len(cur) == 0 || force {
		if err := f.Chmod(mode); err != nil {
			f.Close()
			return false, fmt.Errorf("chmod %s: %w", path, err)
		}
	}
	return true, f.Close()
}

// runHost does the runbook's 19 tasks and its handler on one host and
// returns how many changed something.
func runHost(ctx context.Context, h host, cfg *ssh.ClientConfig, persistent bool) (int, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", net.JoinHostPort(h.addr, strconv.Itoa(h.port)))
	if err != nil {
		return 0, fmt.Errorf("dial: %w", err)
	}
	cc, chans, reqs, err := ssh.NewClientConn(nc, nc.RemoteAddr().String(), cfg)
	if err != nil {
		nc.Close()
		return 0, fmt.Errorf("ssh handshake: %w", err)
	}
	t := &target{c: ssh.NewClient(cc, chans, reqs)}
	defer t.c.Close()
	if t.fs, err = sftp.NewClient(t.c); err != nil {
		return 0, fmt.Errorf("sftp: %w", err)
	}
	defer t.fs.Close()
	if persistent {
		if t.sh, err = startShell(t.c); err != nil {
			return 0, err
		}
	}

	name := h.name
	files := []struct {
		path, content string
		mode          os.FileMode
		force         bool // mode given in the task: enforce it on existing files
	}{
		{"/srv/app/VERSION", "1.4.2\n", 0o644, false},
		{"/srv/app/conf.d/limits.conf", "nofile=65536\nnproc=4096\n", 0o644, true},
		{"/srv/app/motd", "Welcome to " + name + "\n", 0o644, false},
		{"/srv/app/app.conf", "# shop configuration, managed by the runbook\n[server]\nname = shop\nhost = " + name + "\nport = 8080\nversion = 1.4.2\n", 0o644, true},
		{"/srv/app/conf.d/env", "APP_NAME=SHOP\nAPP_PORT=8080\nAPP_HOME=/srv/app\n", 0o644, false},
	}
	changed := 0
	for _, dir := range []struct {
		path string
		mode string
	}{{"/srv/app", "0755"}, {"/srv/app/conf.d", "0755"}, {"/srv/app/data", "0750"}} {
		if _, err := t.exec(ctx, "mkdir -p "+dir.path+" && chmod "+dir.mode+" "+dir.path); err != nil {
			return 0, err
		}
	}
	notify := false
	for i, f := range files {
		c, err := t.put(ctx, f.path, f.content, f.mode, f.force)
		if err != nil {
			return 0, err
		}
		if c {
			changed++
			notify = notify || i == 3
		}
	}
	for _, kv := range [][2]string{{"port", "8080"}, {"workers", "4"}, {"log", "/srv/app/data/app.log"}} {
		line := kv[0] + "=" + kv[1]
		cmd := fmt.Sprintf(`f=/srv/app/settings.ini; touch $f; if grep -q '^%s=' $f; then grep -qx '%s' $f || sed -i 's|^%s=.*|%s|' $f; else echo '%s' >> $f; fi`,
			kv[0], line, kv[0], line, line)
		if _, err := t.exec(ctx, cmd); err != nil {
			return 0, err
		}
	}
	cmds := []string{
		`f=/srv/app/hosts; grep -qx '# BEGIN ANSIBLE MANAGED BLOCK' $f 2>/dev/null || printf '%s\n' '# BEGIN ANSIBLE MANAGED BLOCK' '10.0.0.1 db1' '10.0.0.2 db2' '# END ANSIBLE MANAGED BLOCK' >> $f`,
		`[ -e /srv/app/data/initialized ] || touch /srv/app/data/initialized`,
		`[ -e /srv/app/data/VERSION.installed ] || cp /srv/app/VERSION /srv/app/data/VERSION.installed`,
		`wc -c < /srv/app/VERSION`,
		`ls /srv/app | wc -l`,
		`stat -c '%s %a' /srv/app/app.conf`,
		// debug runs on the controller only.
		`chmod 0600 /srv/app/motd`,
	}
	for _, cmd := range cmds {
		if _, err := t.exec(ctx, cmd); err != nil {
			return 0, err
		}
	}
	if notify {
		if _, err := t.exec(ctx, "touch /srv/app/data/restarted"); err != nil {
			return 0, err
		}
	}
	return changed, nil
}
