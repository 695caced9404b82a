package ssh

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"time"
)

// HandshakeLimit paces SSH handshakes: at most n run at once among the
// Dials that share it (Options.Handshakes), so that many hosts connecting
// together do not slow each other's targets (and the controller) down
// until they time out. The wait for a turn is bounded by the Dial's
// context only, not by the connect timeout.
type HandshakeLimit struct{ sem chan struct{} }

// NewHandshakeLimit returns a limit of n handshakes at once (n >= 1).
func NewHandshakeLimit(n int) *HandshakeLimit {
	return &HandshakeLimit{sem: make(chan struct{}, max(n, 1))}
}

// acquire waits for a turn; release gives it back. A nil limit does not
// limit.
func (l *HandshakeLimit) acquire(ctx context.Context) (release func(), err error) {
	if l == nil {
		return func() {}, nil
	}
	select {
	case l.sem <- struct{}{}:
		return func() { <-l.sem }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// defaultHandshakeIdle is how long the server may stay silent during the
// key exchange and authentication, after its banner, before the handshake
// is given up.
const defaultHandshakeIdle = 60 * time.Second

// errConnectTimeout is the cause of a handshake whose banner did not
// arrive within the connect timeout.
var errConnectTimeout = errors.New("connect timeout")

// watchedConn watches the server's side of a connection during the
// handshake: it notices the server's version line (the banner) and every
// read after it.
type watchedConn struct {
	net.Conn
	line     []byte // the line being read, until the banner arrived
	seen     bool   // the banner arrived (owned by the reading goroutine)
	banner   chan struct{}
	progress chan struct{} // one token per read after the banner, dropped when full
}

func newWatchedConn(nc net.Conn) *watchedConn {
	return &watchedConn{Conn: nc, banner: make(chan struct{}), progress: make(chan struct{}, 1)}
}

func (w *watchedConn) Read(p []byte) (int, error) {
	n, err := w.Conn.Read(p)
	if n > 0 {
		w.saw(p[:n])
	}
	return n, err
}

// saw records bytes read: before the banner, it looks for a line that
// starts with "SSH-" (RFC 4253 4.2 lets other lines come first).
func (w *watchedConn) saw(b []byte) {
	if w.seen {
		select {
		case w.progress <- struct{}{}:
		default:
		}
		return
	}
	for _, c := range b {
		if c != '\n' {
			if len(w.line) < 8 {
				w.line = append(w.line, c)
			}
			continue
		}
		if len(w.line) >= 4 && string(w.line[:4]) == "SSH-" {
			w.seen = true
			close(w.banner)
			return
		}
		w.line = w.line[:0]
	}
}

// watchdog bounds a handshake on w: the banner must arrive by deadline
// (the connect timeout, as OpenSSH's ConnectTimeout bounds the TCP
// connect and the banner exchange); after it the server may be slow, but
// not silent for longer than idle. It closes the connection when either
// is broken or ctx ends. stop ends the watch and returns why the
// connection was closed (nil if it was not).
func watchdog(ctx context.Context, w *watchedConn, deadline time.Time, idle time.Duration) (stop func() error) {
	quit := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- watch(ctx, w, deadline, idle, quit)
	}()
	return func() error {
		close(quit)
		return <-done
	}
}

func watch(ctx context.Context, w *watchedConn, deadline time.Time, idle time.Duration, quit chan struct{}) error {
	fail := func(err error) error {
		w.Conn.Close()
		return err
	}
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-w.banner:
	case <-t.C:
		return fail(errConnectTimeout)
	case <-ctx.Done():
		return fail(ctx.Err())
	case <-quit:
		return nil
	}
	t.Reset(idle)
	for {
		select {
		case <-w.progress:
			if !t.Stop() {
				<-t.C
			}
			t.Reset(idle)
		case <-t.C:
			return fail(fmt.Errorf("server silent for %s during the handshake: %w", idle, os.ErrDeadlineExceeded))
		case <-ctx.Done():
			return fail(ctx.Err())
		case <-quit:
			return nil
		}
	}
}
