package ssh

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/kevinburke/ssh_config"
)

// Options says how to reach one host. Explicit fields (from inventory
// variables and flags) win over ~/.ssh/config, which wins over defaults.
// The caller passes in everything taken from the environment (home
// directory, agent socket): this package reads no environment variables.
type Options struct {
	// Alias is the inventory hostname, used in messages, and the name
	// given to ssh when Host is empty.
	Alias string
	// Host is ansible_host: the name given to ssh, as OpenSSH takes it.
	// It is matched against ssh_config's Host patterns, and the matching
	// blocks' HostName (default: Host itself), Port, User, IdentityFile
	// and ProxyJump apply. Empty means Alias.
	//
	// Port and User are ansible_port and ansible_user: when set they win
	// over ssh_config's; zero/empty means ssh_config's Port/User, then 22
	// and the local user.
	Host string
	Port int
	User string

	// Password enables password and keyboard-interactive authentication.
	Password string
	// IdentityFiles are explicit private keys, tried before ssh_config's
	// IdentityFile entries.
	IdentityFiles []string
	// Passphrase is asked for the passphrase of an encrypted key; nil means
	// encrypted keys are skipped (the auth error says so).
	Passphrase func(file string) ([]byte, error)
	// AgentSocket is the ssh-agent socket (SSH_AUTH_SOCK); "" means no agent.
	AgentSocket string

	// HomeDir locates ~/.ssh/config, ~/.ssh/known_hosts and the default
	// identities; "~" in paths expands to it.
	HomeDir string
	// SSHConfigFiles default to HomeDir/.ssh/config and /etc/ssh/ssh_config;
	// missing files are ignored. Set to an empty non-nil slice for none.
	SSHConfigFiles []string
	// KnownHostsFiles override ssh_config's UserKnownHostsFile (default
	// HomeDir/.ssh/known_hosts). The first file receives accept-new keys.
	KnownHostsFiles []string
	// KnownHosts caches known_hosts files and serialises writes to them;
	// share one value between all the Dials of a run. nil: a private one.
	KnownHosts *KnownHosts
	// HostKeyPolicy applies when PolicySet, or when ssh_config has no
	// StrictHostKeyChecking for the host.
	HostKeyPolicy HostKeyPolicy
	PolicySet     bool

	// ConnectTimeout bounds the TCP connect and the server's banner of
	// each hop, as OpenSSH's ConnectTimeout does; default ssh_config's
	// ConnectTimeout, then 10s. The key exchange and authentication after
	// the banner are bounded by HandshakeIdle instead.
	ConnectTimeout time.Duration
	// HandshakeIdle is how long the server may stay silent during the key
	// exchange and authentication; default 60s.
	HandshakeIdle time.Duration
	// Handshakes paces handshakes among the Dials that share it; nil
	// means no limit.
	Handshakes *HandshakeLimit
	// ConnectRetries is how many times a refused, reset, dropped or
	// timed-out connect is retried with backoff (never auth or host key
	// failures); 0 means 3, negative means none.
	ConnectRetries int
	// ServerAliveInterval is the keepalive period; after 3 unanswered
	// keepalives the connection is declared dead. Default ssh_config's
	// ServerAliveInterval, then 15s; negative disables keepalives.
	ServerAliveInterval time.Duration
	// MaxSessions caps concurrent channels (commands plus SFTP) on the
	// connection, as sshd refuses more than its MaxSessions (default 10).
	// 0 means 10.
	MaxSessions int
	// ExecMode says how commands run: in long-lived shells (the default)
	// or in a new session each.
	ExecMode ExecMode
}

// endpoint is one hop (or the target), fully resolved.
type endpoint struct {
	alias          string
	host           string
	port           int
	user           string
	identityFiles  []string
	identitiesOnly bool
	hostKey        hostKeyTarget
	connectTimeout time.Duration
	aliveInterval  time.Duration
	jumps          []endpoint // only on the target: the hops, first first
	proxyCommand   string     // ssh_config ProxyCommand, expanded; "" for none
}

func (e endpoint) hostport() string { return net.JoinHostPort(e.host, strconv.Itoa(e.port)) }

// sshConfig is the list of parsed ssh_config files, first wins.
type sshConfig []*ssh_config.Config

func loadSSHConfig(files []string) (sshConfig, error) {
	var cfg sshConfig
	for _, f := range files {
		b, err := os.ReadFile(f)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read ssh config: %w", err)
		}
		c, err := ssh_config.DecodeBytes(b)
		if err != nil {
			return nil, fmt.Errorf("parse ssh config %s: %w", f, err)
		}
		cfg = append(cfg, c)
	}
	return cfg, nil
}

// get returns the first value of key for the first name that has one.
func (c sshConfig) get(key string, names ...string) string {
	for _, n := range names {
		for _, f := range c {
			if v, err := f.Get(n, key); err == nil && v != "" {
				return v
			}
		}
	}
	return ""
}

// getAll returns every value of key for the first name that has any.
func (c sshConfig) getAll(key string, names ...string) []string {
	for _, n := range names {
		var all []string
		for _, f := range c {
			if v, err := f.GetAll(n, key); err == nil {
				for _, s := range v {
					if s != "" {
						all = append(all, s)
					}
				}
			}
		}
		if len(all) > 0 {
			return all
		}
	}
	return nil
}

// resolve computes the target endpoint and its jump hosts from o and the
// ssh_config files.
func resolve(o Options) (endpoint, error) {
	files := o.SSHConfigFiles
	if files == nil {
		if o.HomeDir != "" {
			files = append(files, filepath.Join(o.HomeDir, ".ssh", "config"))
		}
		files = append(files, "/etc/ssh/ssh_config")
	}
	cfg, err := loadSSHConfig(files)
	if err != nil {
		return endpoint{}, err
	}
	alias := o.Alias
	if alias == "" {
		alias = o.Host
	}
	if alias == "" {
		return endpoint{}, errors.New("no host to connect to")
	}
	// As Ansible runs `ssh ... ansible_host`, OpenSSH matches the Host
	// blocks against the name given as ansible_host (the inventory name
	// when there is none), and that name is what HostName replaces.
	name := o.Host
	if name == "" {
		name = alias
	}
	names := []string{name}
	target, err := resolveOne(o, cfg, alias, name, o.Port, o.User, o.IdentityFiles)
	if err != nil {
		return endpoint{}, err
	}
	pj := cfg.get("ProxyJump", names...)
	if pc := cfg.get("ProxyCommand", names...); pc != "" && !strings.EqualFold(pc, "none") {
		if pj != "" && !strings.EqualFold(pj, "none") {
			return endpoint{}, fmt.Errorf("%s: ssh_config sets both ProxyCommand and ProxyJump; keep one", alias)
		}
		exp := expander{home: o.HomeDir, host: target.host, alias: name, user: target.user, port: target.port}
		target.proxyCommand = exp.expand(pc)
		return target, nil
	}
	if pj == "" || strings.EqualFold(pj, "none") {
		return target, nil
	}
	for _, spec := range strings.Split(pj, ",") {
		u, h, p, err := parseJump(strings.TrimSpace(spec))
		if err != nil {
			return endpoint{}, fmt.Errorf("%s: ProxyJump %q: %w", alias, pj, err)
		}
		// A hop is resolved through ssh_config under its own name; the
		// explicit key files apply to it too. Its own ProxyJump is ignored.
		hop, err := resolveOne(o, cfg, h, h, p, u, o.IdentityFiles)
		if err != nil {
			return endpoint{}, err
		}
		target.jumps = append(target.jumps, hop)
	}
	return target, nil
}

// resolveOne resolves one host reached by the name given to ssh: the
// values given explicitly (port, usr, explicitKeys), then the first value
// of each keyword in the ssh_config blocks that match name (first file,
// first block wins, as in OpenSSH's readconf.c), then defaults. alias
// names the host in messages.
func resolveOne(o Options, cfg sshConfig, alias, name string, port int, usr string, explicitKeys []string) (endpoint, error) {
	names := []string{name}
	e := endpoint{alias: alias, host: name, port: port, user: usr}
	if hn := cfg.get("HostName", names...); hn != "" {
		// ssh.c: percent_expand(options.hostname, "h", host).
		e.host = strings.ReplaceAll(hn, "%h", name)
	}
	if e.port == 0 {
		if p := cfg.get("Port", names...); p != "" {
			n, err := strconv.Atoi(p)
			if err != nil || n <= 0 || n > 65535 {
				return e, fmt.Errorf("%s: ssh_config Port %q is not a port number", alias, p)
			}
			e.port = n
		} else {
			e.port = 22
		}
	}
	if e.user == "" {
		e.user = cfg.get("User", names...)
	}
	if e.user == "" {
		u, err := user.Current()
		if err != nil {
			return e, fmt.Errorf("%s: no user given and the local user is unknown: %w", alias, err)
		}
		e.user = u.Username
	}
	exp := expander{home: o.HomeDir, host: e.host, alias: name, user: e.user, port: e.port}
	for _, f := range explicitKeys {
		e.identityFiles = append(e.identityFiles, exp.expand(f))
	}
	for _, f := range cfg.getAll("IdentityFile", names...) {
		e.identityFiles = append(e.identityFiles, exp.expand(f))
	}
	if len(e.identityFiles) == 0 && o.HomeDir != "" {
		// OpenSSH's defaults, used only when no key is configured.
		for _, n := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
			e.identityFiles = append(e.identityFiles, filepath.Join(o.HomeDir, ".ssh", n))
		}
	}
	e.identitiesOnly = strings.EqualFold(cfg.get("IdentitiesOnly", names...), "yes")

	e.hostKey = hostKeyTarget{alias: alias, hostport: e.hostport(), policy: o.HostKeyPolicy}
	if len(o.KnownHostsFiles) > 0 {
		for _, f := range o.KnownHostsFiles {
			e.hostKey.files = append(e.hostKey.files, exp.expand(f))
		}
	} else if v := cfg.get("UserKnownHostsFile", names...); v != "" {
		for _, f := range strings.Fields(v) {
			e.hostKey.files = append(e.hostKey.files, exp.expand(f))
		}
	} else if o.HomeDir != "" {
		e.hostKey.files = []string{filepath.Join(o.HomeDir, ".ssh", "known_hosts")}
	}
	if !o.PolicySet {
		if v := cfg.get("StrictHostKeyChecking", names...); v != "" {
			p, err := ParsePolicy(v)
			if err != nil {
				return e, fmt.Errorf("%s: ssh_config StrictHostKeyChecking: %w", alias, err)
			}
			e.hostKey.policy = p
		}
	}

	e.connectTimeout = o.ConnectTimeout
	if e.connectTimeout <= 0 {
		e.connectTimeout = 10 * time.Second
		if v := cfg.get("ConnectTimeout", names...); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return e, fmt.Errorf("%s: ssh_config ConnectTimeout %q is not a number of seconds", alias, v)
			}
			if n > 0 {
				e.connectTimeout = time.Duration(n) * time.Second
			}
		}
	}
	e.aliveInterval = o.ServerAliveInterval
	if e.aliveInterval == 0 {
		e.aliveInterval = 15 * time.Second
		if v := cfg.get("ServerAliveInterval", names...); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return e, fmt.Errorf("%s: ssh_config ServerAliveInterval %q is not a number of seconds", alias, v)
			}
			if n > 0 {
				e.aliveInterval = time.Duration(n) * time.Second
			}
		}
	}
	return e, nil
}

// parseJump splits one ProxyJump entry: [user@]host[:port] or
// ssh://[user@]host[:port].
func parseJump(s string) (usr, host string, port int, err error) {
	s = strings.TrimPrefix(s, "ssh://")
	if s == "" {
		return "", "", 0, errors.New("empty hop")
	}
	if i := strings.LastIndex(s, "@"); i >= 0 {
		usr, s = s[:i], s[i+1:]
	}
	host = s
	if h, p, err := net.SplitHostPort(s); err == nil {
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 || n > 65535 {
			return "", "", 0, fmt.Errorf("bad port %q", p)
		}
		host, port = h, n
	}
	return usr, host, port, nil
}

// expander expands ~ and the ssh_config %-tokens that make sense here.
type expander struct {
	home, host, alias, user string
	port                    int
}

func (x expander) expand(s string) string {
	if x.home != "" && (s == "~" || strings.HasPrefix(s, "~/")) {
		s = x.home + s[1:]
	}
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case '%':
			b.WriteByte('%')
		case 'd':
			b.WriteString(x.home)
		case 'h':
			b.WriteString(x.host)
		case 'n':
			b.WriteString(x.alias)
		case 'r':
			b.WriteString(x.user)
		case 'p':
			b.WriteString(strconv.Itoa(x.port))
		default:
			b.WriteByte('%')
			b.WriteByte(s[i])
		}
	}
	return b.String()
}
