package ssh_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mdo-play/mdo-play/modules/conn"
	"github.com/mdo-play/mdo-play/modules/conn/ssh"
	"github.com/mdo-play/mdo-play/modules/conn/sshtest"
)

// behaviour says what a handshake proxy does with its n-th connection
// (from 0): mute accepts and never says a word; otherwise the server's
// banner is forwarded at once and the rest of its side after delay, as a
// loaded target answers.
type behaviour func(n int) (mute bool, delay time.Duration)

// handshakeProxy is a TCP proxy in front of a fault server that stages a
// slow or mute target; it records when it accepted each connection.
type handshakeProxy struct {
	l      net.Listener
	done   chan struct{} // closed at cleanup
	mu     sync.Mutex
	starts []time.Time
	conns  []net.Conn
	wg     sync.WaitGroup
}

func startHandshakeProxy(t *testing.T, target string, b behaviour) *handshakeProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &handshakeProxy{l: l, done: make(chan struct{})}
	t.Cleanup(func() {
		close(p.done)
		l.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	p.wg.Go(func() {
		for n := 0; ; n++ {
			c, err := l.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			p.starts = append(p.starts, time.Now())
			p.conns = append(p.conns, c)
			p.mu.Unlock()
			mute, delay := b(n)
			if mute {
				continue // held open until the cleanup
			}
			p.wg.Go(func() { p.forward(c, target, delay) })
		}
	})
	return p
}

func (p *handshakeProxy) forward(c net.Conn, target string, delay time.Duration) {
	s, err := net.Dial("tcp", target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns = append(p.conns, s)
	p.mu.Unlock()
	p.wg.Go(func() { io.Copy(s, c); s.Close() })
	r := bufio.NewReader(s)
	banner, err := r.ReadString('\n')
	if err != nil {
		c.Close()
		return
	}
	c.Write([]byte(banner))
	// The staged slowness of the target.
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.C:
		io.Copy(c, r)
	case <-p.done:
	}
	c.Close()
}

func (p *handshakeProxy) port() int { return p.l.Addr().(*net.TCPAddr).Port }

func (p *handshakeProxy) accepted() []time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.starts)
}

// proxied returns options for a fault server reached through a proxy
// behaving as b (host keys not checked: the proxy's port differs).
func proxied(t *testing.T, b behaviour) (*handshakeProxy, ssh.Options) {
	s, o := fault(t, sshtest.FaultOptions{})
	p := startHandshakeProxy(t, s.Addr, b)
	o.Port = p.port()
	o.HostKeyPolicy, o.PolicySet = ssh.Off, true
	return p, o
}

// TestHandshakeTimeout: the connect timeout bounds the TCP connect and the
// server's banner, as OpenSSH's ConnectTimeout does, not a key exchange
// that a loaded target answers slowly; a timed-out handshake is retried
// like a refused connect (issue 14).
func TestHandshakeTimeout(t *testing.T) {
	ctx := context.Background()
	t.Run("slow key exchange after a prompt banner", func(t *testing.T) {
		_, o := proxied(t, func(int) (bool, time.Duration) { return false, time.Second })
		o.ConnectTimeout, o.ConnectRetries = 300*time.Millisecond, -1
		cl, err := ssh.Dial(ctx, o)
		if err != nil {
			t.Fatalf("a handshake slower than the connect timeout after the banner: %v", err)
		}
		defer cl.Close()
		if got := run(t, cl, "echo hi"); got != "hi\n" {
			t.Errorf("got %q", got)
		}
	})
	t.Run("no banner: timed out and retried", func(t *testing.T) {
		p, o := proxied(t, func(n int) (bool, time.Duration) { return n == 0, 0 })
		o.ConnectTimeout, o.ConnectRetries = 300*time.Millisecond, 0
		cl, err := ssh.Dial(ctx, o)
		if err != nil {
			t.Fatalf("a retry after a timed-out handshake: %v", err)
		}
		cl.Close()
		if n := len(p.accepted()); n != 2 {
			t.Errorf("%d connections, want 2 (one timed out, one retried)", n)
		}
	})
	t.Run("no banner ever", func(t *testing.T) {
		p, o := proxied(t, func(int) (bool, time.Duration) { return true, 0 })
		o.ConnectTimeout, o.ConnectRetries = 300*time.Millisecond, 1
		start := time.Now()
		_, err := ssh.Dial(ctx, o)
		if took := time.Since(start); took > 3*time.Second {
			t.Errorf("Dial took %v", took)
		}
		if !errors.Is(err, conn.ErrUnreachable) || !errors.Is(err, os.ErrDeadlineExceeded) ||
			!strings.Contains(err.Error(), "connect timeout") || !strings.Contains(err.Error(), "after 2 attempts") {
			t.Errorf("err = %v, want ErrUnreachable, the connect timeout, 2 attempts", err)
		}
		if n := len(p.accepted()); n != 2 {
			t.Errorf("%d connections, want 2", n)
		}
	})
	t.Run("silent after the banner", func(t *testing.T) {
		_, o := proxied(t, func(int) (bool, time.Duration) { return false, time.Minute })
		o.ConnectTimeout, o.HandshakeIdle, o.ConnectRetries = 300*time.Millisecond, 300*time.Millisecond, -1
		start := time.Now()
		_, err := ssh.Dial(ctx, o)
		if took := time.Since(start); took > 3*time.Second {
			t.Errorf("Dial took %v", took)
		}
		if !errors.Is(err, conn.ErrUnreachable) || !errors.Is(err, os.ErrDeadlineExceeded) || !strings.Contains(err.Error(), "silent") {
			t.Errorf("err = %v, want ErrUnreachable for a silent server", err)
		}
	})
	t.Run("cancelled while waiting for the banner", func(t *testing.T) {
		_, o := proxied(t, func(int) (bool, time.Duration) { return true, 0 })
		o.ConnectTimeout = time.Minute
		ctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		if _, err := ssh.Dial(ctx, o); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want context.DeadlineExceeded", err)
		}
	})
}

// TestHandshakeLimit: Dials that share a HandshakeLimit of 1 run their
// handshakes one after the other, each waiting without its connect
// timeout running.
func TestHandshakeLimit(t *testing.T) {
	const delay = 300 * time.Millisecond
	p, o := proxied(t, func(int) (bool, time.Duration) { return false, delay })
	o.ConnectTimeout, o.ConnectRetries = 200*time.Millisecond, -1
	o.Handshakes = ssh.NewHandshakeLimit(1)
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for range cap(errs) {
		wg.Go(func() {
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
	starts := p.accepted()
	if len(starts) != 3 {
		t.Fatalf("%d connections, want 3", len(starts))
	}
	for i := 1; i < len(starts); i++ {
		if gap := starts[i].Sub(starts[i-1]); gap < delay*3/4 {
			t.Errorf("connection %d started %v after the one before, want one handshake at a time (each takes over %v)", i, gap, delay)
		}
	}
}
