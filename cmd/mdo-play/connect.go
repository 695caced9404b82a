package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/mdo-play/mdo-play/modules/conn"
	"github.com/mdo-play/mdo-play/modules/conn/become"
	"github.com/mdo-play/mdo-play/modules/conn/local"
	"github.com/mdo-play/mdo-play/modules/conn/ssh"
	"github.com/mdo-play/mdo-play/playbook/engine"
)

// connector opens local and SSH connections with the settings from flags,
// mdo.yml and the environment, overridden per host by inventory variables.
type connector struct {
	home           string
	agent          string
	privateKey     string
	password       string
	becomePassword string
	timeout        time.Duration
	policy         ssh.HostKeyPolicy
	policySet      bool
	knownHostsFile string
	knownHosts     *ssh.KnownHosts
	handshakes     *ssh.HandshakeLimit
	passphrase     func(file string) ([]byte, error)
}

// handshakesAtOnce is how many SSH handshakes run at once in one run: many
// more (-f 200) slow the targets (and test hosts sharing one machine)
// down until handshakes time out, while a handshake takes a few round
// trips, so this many keep a large fleet connecting quickly.
const handshakesAtOnce = 32

var _ engine.Connector = (*connector)(nil)

func (a *app) connector(c *cli.Context, s *settings) (*connector, error) {
	cn := &connector{
		home:       a.homeDir(),
		agent:      a.getenv("SSH_AUTH_SOCK"),
		privateKey: s.privateKey,
		timeout:    time.Duration(s.timeout) * time.Second,
		knownHosts: ssh.NewKnownHosts(),
		handshakes: ssh.NewHandshakeLimit(handshakesAtOnce),
	}
	if s.cfg.KnownHostsFile != "" {
		cn.knownHostsFile = expandHome(s.cfg.KnownHostsFile, cn.home)
	}
	if s.hostKeys != "" {
		p, err := ssh.ParsePolicy(s.hostKeys)
		if err != nil {
			return nil, usageErr("host key checking: %v", err)
		}
		cn.policy, cn.policySet = p, true
	}
	tty, isTTY := a.stdin.(*os.File)
	isTTY = isTTY && term.IsTerminal(int(tty.Fd()))
	if c.Bool("ask-pass") {
		pw, err := a.prompt(tty, isTTY, "SSH password: ")
		if err != nil {
			return nil, usageErr("--ask-pass: %v", err)
		}
		cn.password = pw
		s.mask.add(pw)
	}
	if c.Bool("ask-become-pass") {
		pw, err := a.prompt(tty, isTTY, "BECOME password: ")
		if err != nil {
			return nil, usageErr("--ask-become-pass: %v", err)
		}
		cn.becomePassword = pw
		s.mask.add(pw)
	}
	if isTTY {
		var mu sync.Mutex
		cache := map[string][]byte{}
		cn.passphrase = func(file string) ([]byte, error) {
			mu.Lock()
			defer mu.Unlock()
			if p, ok := cache[file]; ok {
				return p, nil
			}
			pw, err := a.prompt(tty, true, fmt.Sprintf("Enter passphrase for key '%s': ", file))
			if err != nil {
				return nil, err
			}
			cache[file] = []byte(pw)
			return cache[file], nil
		}
	}
	return cn, nil
}

// prompt reads a secret from the terminal without echo. Without a terminal
// it fails instead of hanging a cron job.
func (a *app) prompt(tty *os.File, isTTY bool, label string) (string, error) {
	if !isTTY {
		return "", fmt.Errorf("cannot prompt for a password: standard input is not a terminal")
	}
	fmt.Fprint(a.stderr, label)
	pw, err := term.ReadPassword(int(tty.Fd()))
	fmt.Fprintln(a.stderr)
	if err != nil && err != io.EOF {
		return "", err
	}
	return string(pw), nil
}

func (cn *connector) Connect(ctx context.Context, spec engine.ConnectSpec) (conn.Conn, error) {
	if spec.Connection == "local" {
		return local.New(), nil
	}
	v := spec.Vars
	o := ssh.Options{
		Alias:          spec.Host,
		Host:           str(v, "ansible_host", "ansible_ssh_host"),
		User:           spec.User,
		Password:       cn.password,
		AgentSocket:    cn.agent,
		HomeDir:        cn.home,
		KnownHosts:     cn.knownHosts,
		Passphrase:     cn.passphrase,
		HostKeyPolicy:  cn.policy,
		PolicySet:      cn.policySet,
		ConnectTimeout: cn.timeout,
		Handshakes:     cn.handshakes,
	}
	if p := str(v, "ansible_port", "ansible_ssh_port"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil {
			return nil, fmt.Errorf("%w: host %s: ansible_port %q is not a number", conn.ErrUnreachable, spec.Host, p)
		}
		o.Port = n
	}
	if pw := str(v, "ansible_password", "ansible_ssh_pass", "ansible_ssh_password"); pw != "" {
		o.Password = pw
	}
	if k := str(v, "ansible_ssh_private_key_file", "ansible_private_key_file"); k != "" {
		o.IdentityFiles = []string{expandHome(k, cn.home)}
	} else if cn.privateKey != "" {
		o.IdentityFiles = []string{expandHome(cn.privateKey, cn.home)}
	}
	if hk := str(v, "ansible_host_key_checking", "ansible_ssh_host_key_checking"); hk != "" {
		p, err := ssh.ParsePolicy(hk)
		if err != nil {
			return nil, fmt.Errorf("%w: host %s: %v", conn.ErrUnreachable, spec.Host, err)
		}
		o.HostKeyPolicy, o.PolicySet = p, true
	}
	if cn.knownHostsFile != "" {
		o.KnownHostsFiles = []string{cn.knownHostsFile}
	}
	if kh := str(v, "ansible_ssh_known_hosts_file", "ansible_known_hosts_file"); kh != "" {
		o.KnownHostsFiles = []string{expandHome(kh, cn.home)}
	}
	c, err := ssh.Dial(ctx, o)
	if err != nil {
		return nil, err // not a typed nil *ssh.Client in the interface
	}
	return c, nil
}

func (cn *connector) Become(c conn.Conn, spec engine.BecomeSpec) (conn.Conn, error) {
	pw := spec.Password
	if pw == "" {
		pw = cn.becomePassword
	}
	return become.Wrap(c, become.Options{Method: spec.Method, User: spec.User, Password: pw, Flags: spec.Flags, Timeout: cn.timeout}), nil
}

// str returns the first of keys set in v, formatted as a string.
func str(v map[string]any, keys ...string) string {
	for _, k := range keys {
		if x, ok := v[k]; ok && x != nil {
			return fmt.Sprint(x)
		}
	}
	return ""
}

func expandHome(p, home string) string {
	if p == "~" {
		return home
	}
	if strings.HasPrefix(p, "~/") {
		return home + p[1:]
	}
	return p
}
