package ssh

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strings"
	"sync"

	xssh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// ErrAuth is wrapped by Dial's error when the server refused every
// credential offered.
var ErrAuth = errors.New("authentication failed")

// auth builds the authentication methods for one endpoint in OpenSSH's
// order (agent keys, key files, keyboard-interactive, password) and
// remembers what it offered, for the error message.
type auth struct {
	o  Options
	e  endpoint
	mu sync.Mutex
	// offered and notes describe the attempt, for the failure message.
	offered []string
	notes   []string
	agent   net.Conn
}

func (a *auth) note(format string, args ...any) {
	a.mu.Lock()
	a.notes = append(a.notes, fmt.Sprintf(format, args...))
	a.mu.Unlock()
}

func (a *auth) offer(s string) {
	a.mu.Lock()
	a.offered = append(a.offered, s)
	a.mu.Unlock()
}

// methods returns the auth methods. All public keys share one method,
// because x/crypto tries each method name only once.
func (a *auth) methods() []xssh.AuthMethod {
	m := []xssh.AuthMethod{xssh.PublicKeysCallback(a.signers)}
	if a.o.Password != "" {
		m = append(m,
			xssh.KeyboardInteractive(func(_, _ string, questions []string, echos []bool) ([]string, error) {
				a.offer("keyboard-interactive")
				ans := make([]string, len(questions))
				for i := range questions {
					if !echos[i] {
						ans[i] = a.o.Password
					}
				}
				return ans, nil
			}),
			xssh.PasswordCallback(func() (string, error) {
				a.offer("password")
				return a.o.Password, nil
			}))
	}
	return m
}

// signers loads the agent's keys and the key files. It is called once per
// handshake, only when the server accepts public keys.
func (a *auth) signers() ([]xssh.Signer, error) {
	var files []xssh.Signer
	var filePubs [][]byte
	for _, f := range a.e.identityFiles {
		s, pub := a.loadKey(f)
		if s != nil {
			files = append(files, s)
		}
		if pub != nil {
			filePubs = append(filePubs, pub.Marshal())
		}
	}
	var out []xssh.Signer
	if a.o.AgentSocket != "" {
		nc, err := net.Dial("unix", a.o.AgentSocket)
		if err != nil {
			a.note("ssh-agent at %s: %v", a.o.AgentSocket, err)
		} else {
			a.agent = nc
			ag, err := agent.NewClient(nc).Signers()
			if err != nil {
				a.note("ssh-agent: %v", err)
			}
			n := 0
			for _, s := range ag {
				// IdentitiesOnly: only agent keys matching a configured file.
				if a.e.identitiesOnly && !containsKey(filePubs, s.PublicKey().Marshal()) {
					continue
				}
				out = append(out, s)
				n++
			}
			a.offer(fmt.Sprintf("publickey (ssh-agent: %d keys)", n))
		}
	}
	for i, s := range files {
		if i == 0 {
			a.offer("publickey (" + describeFiles(a.e.identityFiles) + ")")
		}
		out = append(out, s)
	}
	return out, nil
}

func describeFiles(files []string) string { return strings.Join(files, ", ") }

func containsKey(keys [][]byte, k []byte) bool {
	for _, x := range keys {
		if bytes.Equal(x, k) {
			return true
		}
	}
	return false
}

// loadKey reads one private key file. A missing default key is silent; a
// missing explicit key, an unreadable one or an encrypted one without a
// passphrase is noted. The public key is returned when known, even for a
// key that could not be decrypted (from file.pub), for IdentitiesOnly.
func (a *auth) loadKey(file string) (xssh.Signer, xssh.PublicKey) {
	b, err := os.ReadFile(file)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) || a.explicit(file) {
			a.note("key %s: %v", file, err)
		}
		return nil, nil
	}
	s, err := xssh.ParsePrivateKey(b)
	var missing *xssh.PassphraseMissingError
	switch {
	case err == nil:
		return s, s.PublicKey()
	case errors.As(err, &missing):
		pub := missing.PublicKey
		if a.o.Passphrase == nil {
			a.note("key %s is encrypted and no passphrase was given", file)
			return nil, pub
		}
		pass, err := a.o.Passphrase(file)
		if err != nil {
			a.note("key %s: passphrase: %v", file, err)
			return nil, pub
		}
		s, err := xssh.ParsePrivateKeyWithPassphrase(b, pass)
		if err != nil {
			a.note("key %s: %v", file, err)
			return nil, pub
		}
		return s, s.PublicKey()
	default:
		a.note("key %s: %v", file, err)
		return nil, nil
	}
}

func (a *auth) explicit(file string) bool {
	for _, f := range a.o.IdentityFiles {
		if f == file {
			return true
		}
	}
	return false
}

// failure describes a refused authentication.
func (a *auth) failure(err error) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	tried := "nothing (no agent, no usable key, no password)"
	if len(a.offered) > 0 {
		tried = strings.Join(dedupe(a.offered), "; ")
	}
	detail := ""
	if len(a.notes) > 0 {
		detail = " (" + strings.Join(a.notes, "; ") + ")"
	}
	return fmt.Errorf("%w: %s@%s refused every credential offered: %s%s: %v", ErrAuth, a.e.user, a.e.hostport(), tried, detail, err)
}

func dedupe(s []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// close releases the agent connection, if any.
func (a *auth) close() {
	if a.agent != nil {
		a.agent.Close()
	}
}
