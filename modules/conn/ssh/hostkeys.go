package ssh

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"

	xssh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// HostKeyPolicy says what to do with a host key that known_hosts does not
// list. A key that differs from the listed one is refused under every
// policy but Off.
type HostKeyPolicy int

const (
	// Strict refuses hosts whose key is not in known_hosts (the default).
	Strict HostKeyPolicy = iota
	// AcceptNew records the key of a host not yet listed, and connects.
	AcceptNew
	// Off checks nothing.
	Off
)

// String returns the policy's canonical name, as ParsePolicy accepts it.
func (p HostKeyPolicy) String() string {
	switch p {
	case AcceptNew:
		return "accept-new"
	case Off:
		return "off"
	default:
		return "strict"
	}
}

// ParsePolicy reads a policy as written in configuration or on the command
// line: strict|yes|true|ask, accept-new, off|no|false (ssh_config's
// StrictHostKeyChecking values and Ansible's host_key_checking booleans).
func ParsePolicy(s string) (HostKeyPolicy, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "strict", "yes", "true", "ask", "1", "on":
		return Strict, nil
	case "accept-new", "acceptnew":
		return AcceptNew, nil
	case "off", "no", "false", "0":
		return Off, nil
	}
	return Strict, fmt.Errorf("unknown host key policy %q (want strict, accept-new or off)", s)
}

// ErrHostKeyUnknown and ErrHostKeyChanged are wrapped by Dial's errors when
// a host key is refused.
var (
	ErrHostKeyUnknown = errors.New("host key unknown")
	ErrHostKeyChanged = errors.New("host key changed")
)

// KnownHosts checks host keys against known_hosts files and records new
// ones. One value should be shared by every Dial of a run (Options.KnownHosts):
// it serialises accept-new appends between goroutines, and keys appended by
// one dial are seen by the next. Appends also take an flock on the file, so
// that concurrent processes do not interleave lines. The zero value is ready
// to use.
type KnownHosts struct {
	mu    sync.Mutex
	cache map[string]xssh.HostKeyCallback // by joined file list; nil entry: no file exists
}

// NewKnownHosts returns an empty KnownHosts.
func NewKnownHosts() *KnownHosts { return &KnownHosts{} }

// load returns the callback for files, parsing them on first use.
func (k *KnownHosts) load(files []string) (xssh.HostKeyCallback, error) {
	key := strings.Join(files, "\x00")
	if cb, ok := k.cache[key]; ok {
		return cb, nil
	}
	var existing []string
	for _, f := range files {
		if _, err := os.Stat(f); err == nil {
			existing = append(existing, f)
		}
	}
	var cb xssh.HostKeyCallback
	if len(existing) > 0 {
		var err error
		if cb, err = knownhosts.New(existing...); err != nil {
			return nil, fmt.Errorf("read known hosts: %w", err)
		}
	}
	if k.cache == nil {
		k.cache = map[string]xssh.HostKeyCallback{}
	}
	k.cache[key] = cb
	return cb, nil
}

// knownKeyTypes returns the key types known_hosts lists for hostport, so
// that the handshake asks for a key we can check (as OpenSSH does).
func (k *KnownHosts) knownKeyTypes(files []string, hostport string) []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	cb, err := k.load(files)
	if err != nil || cb == nil {
		return nil
	}
	// Any key that is surely not listed: the KeyError then lists all
	// known ones.
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	probe, _ := xssh.NewSignerFromKey(priv)
	var ke *knownhosts.KeyError
	if !errors.As(cb(hostport, fakeAddr(hostport), probe.PublicKey()), &ke) {
		return nil
	}
	var algos []string
	seen := map[string]bool{}
	for _, w := range ke.Want {
		for _, a := range algosFor(w.Key.Type()) {
			if !seen[a] {
				seen[a] = true
				algos = append(algos, a)
			}
		}
	}
	return algos
}

// algosFor maps a key type to the signature algorithms that use it.
func algosFor(keyType string) []string {
	if keyType == xssh.KeyAlgoRSA {
		return []string{xssh.KeyAlgoRSASHA512, xssh.KeyAlgoRSASHA256, xssh.KeyAlgoRSA}
	}
	return []string{keyType}
}

// hostKeyTarget is what check needs to know about one host.
type hostKeyTarget struct {
	alias    string   // name for messages
	hostport string   // "host:port" as dialled (HostName, Port)
	files    []string // known_hosts files; the first receives new keys
	policy   HostKeyPolicy
}

// check verifies key for t under t.policy.
func (k *KnownHosts) check(t hostKeyTarget, key xssh.PublicKey) error {
	if t.policy == Off {
		return nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	cb, err := k.load(t.files)
	if err != nil {
		return err
	}
	err = &knownhosts.KeyError{}
	if cb != nil {
		err = cb(t.hostport, fakeAddr(t.hostport), key)
	}
	if err == nil {
		return nil
	}
	var ke *knownhosts.KeyError
	if !errors.As(err, &ke) {
		return fmt.Errorf("check host key of %s: %w", t.alias, err)
	}
	fp := xssh.FingerprintSHA256(key)
	name := knownhosts.Normalize(t.hostport)
	if len(ke.Want) > 0 {
		w := ke.Want[0]
		return fmt.Errorf("%w: HOST KEY OF %s (%s) HAS CHANGED: it now offers %s %s, but %s:%d records a different %s key (%s); "+
			"someone may be intercepting the connection, or the host was reinstalled: if the change is expected, remove the old key with `ssh-keygen -R '%s' -f %s` and connect again",
			ErrHostKeyChanged, t.alias, t.hostport, key.Type(), fp, w.Filename, w.Line, w.Key.Type(), xssh.FingerprintSHA256(w.Key),
			name, w.Filename)
	}
	if t.policy == AcceptNew {
		if len(t.files) == 0 {
			return fmt.Errorf("record host key of %s: no known_hosts file configured", t.alias)
		}
		if err := appendKnownHost(t.files[0], name, key); err != nil {
			return fmt.Errorf("record host key of %s: %w", t.alias, err)
		}
		clear(k.cache)
		return nil
	}
	file := "~/.ssh/known_hosts"
	if len(t.files) > 0 {
		file = t.files[0]
	}
	host, port, _ := net.SplitHostPort(t.hostport)
	return fmt.Errorf("%w: host %s (%s) offers %s key %s, which is not in %s; after checking the fingerprint, add it with `ssh-keyscan -p %s -t %s %s >> %s`, or connect once with host key checking set to accept-new",
		ErrHostKeyUnknown, t.alias, t.hostport, key.Type(), fp, strings.Join(t.files, ", "),
		port, keyscanType(key.Type()), host, file)
}

// keyscanType names a key type as ssh-keyscan -t wants it.
func keyscanType(t string) string {
	switch {
	case t == xssh.KeyAlgoED25519:
		return "ed25519"
	case t == xssh.KeyAlgoRSA:
		return "rsa"
	case strings.HasPrefix(t, "ecdsa"):
		return "ecdsa"
	}
	return t
}

// appendKnownHost adds a line for name to file, creating the file (0600)
// and its directory (0700) if needed, under an exclusive flock.
func appendKnownHost(file, name string, key xssh.PublicKey) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(file, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return fmt.Errorf("lock %s: %w", file, err)
	}
	line := knownhosts.Line([]string{name}, key) + "\n"
	// A file whose last line lacks its newline would glue ours onto it.
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		if r, err := os.Open(file); err == nil {
			b := make([]byte, 1)
			if _, err := r.ReadAt(b, st.Size()-1); err == nil && b[0] != '\n' {
				line = "\n" + line
			}
			r.Close()
		}
	}
	if _, err := f.WriteString(line); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// fakeAddr gives knownhosts a TCP address for hostport (it needs one even
// when the connection runs through a jump host).
func fakeAddr(hostport string) net.Addr {
	host, port, _ := net.SplitHostPort(hostport)
	p, _ := strconv.Atoi(port)
	return &net.TCPAddr{IP: net.ParseIP(host), Port: p}
}
