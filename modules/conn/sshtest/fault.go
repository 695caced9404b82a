package sshtest

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// FaultOptions chooses what a FaultServer does wrong. The zero value is a
// working server that accepts User with AuthorizedKey or Password.
type FaultOptions struct {
	// User is the only user accepted; default "test".
	User string
	// Password, if set, is accepted for User.
	Password string
	// AuthorizedKey, if set, is accepted for User.
	AuthorizedKey ssh.PublicKey
	// RefuseAuth refuses every credential.
	RefuseAuth bool
	// RotateHostKey presents a new host key on every connection.
	RotateHostKey bool
	// NoHandshake accepts TCP connections and never says a word.
	NoHandshake bool
	// DropMidExec writes a line of output for an exec request, then drops
	// the TCP connection without an exit status.
	DropMidExec bool
	// DropUploadAfter, if > 0, drops the TCP connection once the SFTP
	// subsystem has received that many bytes.
	DropUploadAfter int64
	// IgnoreKeepalives leaves global requests (keepalives) unanswered,
	// like a host that froze after the handshake.
	IgnoreKeepalives bool
}

// FaultServer is an in-process SSH server on 127.0.0.1 for the fault cases
// real sshd cannot stage cheaply. Commands run locally with /bin/sh -c,
// SFTP is served by pkg/sftp on the local file system, and direct-tcpip
// forwarding (ProxyJump) is allowed and recorded.
type FaultServer struct {
	// Addr is "127.0.0.1:port".
	Addr string
	o    FaultOptions
	l    net.Listener

	mu       sync.Mutex
	hostKey  ssh.Signer
	conns    map[net.Conn]bool
	forwards []string
	closed   bool
	wg       sync.WaitGroup
}

// StartFault starts a FaultServer; Close stops it.
func StartFault(o FaultOptions) (*FaultServer, error) {
	if o.User == "" {
		o.User = "test"
	}
	hk, err := newHostKey()
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start fault server: %w", err)
	}
	s := &FaultServer{Addr: l.Addr().String(), o: o, l: l, hostKey: hk, conns: map[net.Conn]bool{}}
	s.wg.Go(s.accept)
	return s, nil
}

func newHostKey() (ssh.Signer, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	return ssh.NewSignerFromKey(priv)
}

// Host returns the listening address and Port its port.
func (s *FaultServer) Host() string { h, _, _ := net.SplitHostPort(s.Addr); return h }

// Port returns the listening port.
func (s *FaultServer) Port() int {
	_, p, _ := net.SplitHostPort(s.Addr)
	n, _ := strconv.Atoi(p)
	return n
}

// HostKey returns the host key the next connection will see (the current
// one, unless RotateHostKey).
func (s *FaultServer) HostKey() ssh.PublicKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hostKey.PublicKey()
}

// KnownHostsLine returns a known_hosts line for the current host key.
func (s *FaultServer) KnownHostsLine() string {
	return fmt.Sprintf("[%s]:%d %s", s.Host(), s.Port(), ssh.MarshalAuthorizedKey(s.HostKey()))
}

// Forwards lists the "host:port" destinations of direct-tcpip channels
// opened through this server, in order.
func (s *FaultServer) Forwards() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.forwards...)
}

// Close stops listening, drops every connection and waits for the
// server's goroutines.
func (s *FaultServer) Close() error {
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	err := s.l.Close()
	s.wg.Wait()
	return err
}

func (s *FaultServer) accept() {
	for {
		nc, err := s.l.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			nc.Close()
			return
		}
		s.conns[nc] = true
		s.mu.Unlock()
		s.wg.Go(func() {
			defer func() {
				nc.Close()
				s.mu.Lock()
				delete(s.conns, nc)
				s.mu.Unlock()
			}()
			s.serve(nc)
		})
	}
}

func (s *FaultServer) config() (*ssh.ServerConfig, error) {
	s.mu.Lock()
	if s.o.RotateHostKey {
		hk, err := newHostKey()
		if err != nil {
			s.mu.Unlock()
			return nil, err
		}
		s.hostKey = hk
	}
	hk := s.hostKey
	s.mu.Unlock()
	o := s.o
	cfg := &ssh.ServerConfig{
		PasswordCallback: func(c ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			if !o.RefuseAuth && c.User() == o.User && o.Password != "" && string(pw) == o.Password {
				return nil, nil
			}
			return nil, errors.New("password refused")
		},
		PublicKeyCallback: func(c ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if !o.RefuseAuth && c.User() == o.User && o.AuthorizedKey != nil &&
				string(key.Marshal()) == string(o.AuthorizedKey.Marshal()) {
				return nil, nil
			}
			return nil, errors.New("key refused")
		},
	}
	cfg.AddHostKey(hk)
	return cfg, nil
}

func (s *FaultServer) serve(nc net.Conn) {
	if s.o.NoHandshake {
		_, _ = io.Copy(io.Discard, nc) // until the client gives up or Close
		return
	}
	cfg, err := s.config()
	if err != nil {
		return
	}
	var received atomic.Int64 // SFTP bytes received on this connection
	sc, chans, reqs, err := ssh.NewServerConn(nc, cfg)
	if err != nil {
		return
	}
	defer sc.Close()
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() {
		for r := range reqs {
			if s.o.IgnoreKeepalives {
				continue
			}
			if r.WantReply {
				_ = r.Reply(false, nil)
			}
		}
	})
	for nch := range chans {
		switch nch.ChannelType() {
		case "session":
			ch, creqs, err := nch.Accept()
			if err != nil {
				continue
			}
			wg.Go(func() { s.session(nc, ch, creqs, &received) })
		case "direct-tcpip":
			var p struct {
				Host     string
				Port     uint32
				OrigHost string
				OrigPort uint32
			}
			if err := ssh.Unmarshal(nch.ExtraData(), &p); err != nil {
				_ = nch.Reject(ssh.ConnectionFailed, "bad request")
				continue
			}
			dst := net.JoinHostPort(p.Host, strconv.Itoa(int(p.Port)))
			s.mu.Lock()
			s.forwards = append(s.forwards, dst)
			s.mu.Unlock()
			out, err := net.Dial("tcp", dst)
			if err != nil {
				_ = nch.Reject(ssh.ConnectionFailed, err.Error())
				continue
			}
			ch, creqs, err := nch.Accept()
			if err != nil {
				out.Close()
				continue
			}
			go ssh.DiscardRequests(creqs)
			wg.Go(func() {
				go func() { _, _ = io.Copy(out, ch); out.(*net.TCPConn).CloseWrite() }()
				_, _ = io.Copy(ch, out)
				ch.Close()
				out.Close()
			})
		default:
			_ = nch.Reject(ssh.UnknownChannelType, "unsupported")
		}
	}
}

// session serves one session channel: exec and the sftp subsystem.
func (s *FaultServer) session(nc net.Conn, ch ssh.Channel, reqs <-chan *ssh.Request, received *atomic.Int64) {
	defer ch.Close()
	var cmd *exec.Cmd
	done := make(chan struct{})
	for r := range reqs {
		switch r.Type {
		case "exec":
			if cmd != nil {
				_ = r.Reply(false, nil)
				continue
			}
			var p struct{ Command string }
			if err := ssh.Unmarshal(r.Payload, &p); err != nil {
				_ = r.Reply(false, nil)
				continue
			}
			_ = r.Reply(true, nil)
			if s.o.DropMidExec {
				_, _ = ch.Write([]byte("partial output\n"))
				nc.Close()
				return
			}
			cmd = exec.Command("/bin/sh", "-c", p.Command)
			cmd.Stdin, cmd.Stdout, cmd.Stderr = ch, ch, ch.Stderr()
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			if err := cmd.Start(); err != nil {
				_, _ = ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{127}))
				return
			}
			go func() {
				status := uint32(0)
				if err := cmd.Wait(); err != nil {
					var ee *exec.ExitError
					if errors.As(err, &ee) {
						if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
							status = 128 + uint32(ws.Signal())
						} else {
							status = uint32(ee.ExitCode())
						}
					}
				}
				_, _ = ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{status}))
				ch.Close()
				close(done)
			}()
		case "signal":
			_ = r.Reply(false, nil)
			if cmd != nil && cmd.Process != nil {
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			}
		case "subsystem":
			var p struct{ Name string }
			if err := ssh.Unmarshal(r.Payload, &p); err != nil || p.Name != "sftp" {
				_ = r.Reply(false, nil)
				continue
			}
			_ = r.Reply(true, nil)
			rw := io.ReadWriteCloser(ch)
			if s.o.DropUploadAfter > 0 {
				rw = &dropAfter{ReadWriteCloser: ch, n: received, limit: s.o.DropUploadAfter, nc: nc}
			}
			srv, err := sftp.NewServer(rw)
			if err != nil {
				return
			}
			go func() {
				for r := range reqs {
					if r.WantReply {
						_ = r.Reply(false, nil)
					}
				}
			}()
			_ = srv.Serve()
			srv.Close()
			return
		default:
			if r.WantReply {
				_ = r.Reply(r.Type == "env", nil)
			}
		}
	}
	if cmd != nil {
		if cmd.Process != nil {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
		<-done
	}
}

// dropAfter closes the TCP connection once limit bytes have been read.
type dropAfter struct {
	io.ReadWriteCloser
	n     *atomic.Int64
	limit int64
	nc    net.Conn
}

func (d *dropAfter) Read(p []byte) (int, error) {
	n, err := d.ReadWriteCloser.Read(p)
	if d.n.Add(int64(n)) >= d.limit {
		d.nc.Close()
		return n, io.ErrUnexpectedEOF
	}
	return n, err
}
