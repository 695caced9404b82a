// Package ssh implements conn.Conn over one SSH connection per host
// (golang.org/x/crypto/ssh, SFTP for files), with OpenSSH's host key
// checking, authentication order and ~/.ssh/config handling.
package ssh

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pkg/sftp"
	xssh "golang.org/x/crypto/ssh"

	"github.com/mdo-play/mdo-play/modules/conn"
	"github.com/mdo-play/mdo-play/modules/conn/sftpfs"
)

// Client is a connection to one host. Commands run in a few long-lived
// shells (see Shells), or in a new session each (Options.ExecMode); files
// go through one SFTP session opened on first use. It is safe for
// concurrent use; at most Options.MaxSessions channels are open at once.
type Client struct {
	alias  string
	client *xssh.Client
	hops   []*xssh.Client // jump host clients, first hop first
	sem    chan struct{}  // one token per command session or shell
	mode   ExecMode
	shells *Shells // the login user's shells; nil in SessionPerCommand mode

	// shellTokens counts the sem tokens held by shells, which keep them
	// for their lifetime: at most cap(sem)-1, so that a per-command
	// session can always get one eventually.
	shellTokens int

	mu      sync.Mutex
	sftp    *sftp.Client
	deadErr error // why the transport died

	ids   conn.UserCache // the user LoginUser returns
	names conn.NameCache // IDNames' answers

	dead      chan struct{} // closed when the transport is gone
	closed    chan struct{} // closed by Close
	closeOnce sync.Once
}

var (
	_ conn.Conn       = (*Client)(nil)
	_ conn.FileWriter = (*Client)(nil)
)

// Dial connects and authenticates to the host o describes, through its
// ProxyJump hosts if any. Every error wraps conn.ErrUnreachable; refused
// host keys also wrap ErrHostKeyUnknown or ErrHostKeyChanged, refused
// credentials ErrAuth.
func Dial(ctx context.Context, o Options) (*Client, error) {
	name := o.Alias
	if name == "" {
		name = o.Host
	}
	e, err := resolve(o)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", conn.ErrUnreachable, name, err)
	}
	kh := o.KnownHosts
	if kh == nil {
		kh = NewKnownHosts()
	}
	retries := o.ConnectRetries
	if retries == 0 {
		retries = 3
	}
	for attempt := 0; ; attempt++ {
		c, err := dialOnce(ctx, o, e, kh)
		if err == nil {
			return c, nil
		}
		var re retryable
		limit := retries
		if o.ConnectRetries == 0 && re.dropped(err) {
			// sshd's MaxStartups drops connections before the handshake
			// while many hosts connect at once: keep trying for longer.
			limit = startupRetries
		}
		if !errors.As(err, &re) || attempt >= limit || ctx.Err() != nil {
			if attempt > 0 {
				err = fmt.Errorf("%w (after %d attempts)", err, attempt+1)
			}
			return nil, fmt.Errorf("%w: %s: %w", conn.ErrUnreachable, name, err)
		}
		if err := backoff(ctx, attempt); err != nil {
			return nil, fmt.Errorf("%w: %s: %w", conn.ErrUnreachable, name, err)
		}
	}
}

// startupRetries is the default number of retries for connections that
// sshd dropped before the handshake (MaxStartups), about 15 s in all.
const startupRetries = 8

// backoff waits 200ms·2^attempt (at most 3s), ±25%, or until ctx ends.
func backoff(ctx context.Context, attempt int) error {
	d := min(200*time.Millisecond<<min(attempt, 10), 3*time.Second)
	j, _ := rand.Int(rand.Reader, big.NewInt(int64(d/2)))
	t := time.NewTimer(d*3/4 + time.Duration(j.Int64()))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// retryable marks connect errors worth another attempt: refused, reset,
// dropped before the handshake completed (sshd's MaxStartups), or timed
// out.
type retryable struct{ err error }

func (r retryable) Error() string { return r.err.Error() }

// dropped reports whether err is a connection that sshd closed or reset
// during the handshake, as MaxStartups does (not one that was refused).
func (retryable) dropped(err error) bool {
	var re retryable
	return errors.As(err, &re) && strings.HasPrefix(re.err.Error(), "ssh handshake") &&
		(errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF))
}
func (r retryable) Unwrap() error { return r.err }

func isTransient(err error) bool {
	var oce *xssh.OpenChannelError
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		(errors.As(err, &oce) && oce.Reason == xssh.ConnectionFailed)
}

// dialOnce opens the chain of hops and the target.
func dialOnce(ctx context.Context, o Options, target endpoint, kh *KnownHosts) (*Client, error) {
	chain := append(append([]endpoint(nil), target.jumps...), target)
	var clients []*xssh.Client
	closeAll := func() {
		for i := len(clients) - 1; i >= 0; i-- {
			clients[i].Close()
		}
	}
	for i, e := range chain {
		var prev *xssh.Client
		if i > 0 {
			prev = clients[i-1]
		}
		cl, err := connect(ctx, o, e, prev, kh)
		if err != nil {
			closeAll()
			if i < len(chain)-1 {
				return nil, fmt.Errorf("jump host %s: %w", e.alias, err)
			}
			return nil, err
		}
		clients = append(clients, cl)
	}
	max := o.MaxSessions
	if max <= 0 {
		max = 10
	}
	if max > 1 {
		max-- // one channel is kept for SFTP
	}
	c := &Client{
		alias:  target.alias,
		client: clients[len(clients)-1],
		hops:   clients[:len(clients)-1],
		sem:    make(chan struct{}, max),
		dead:   make(chan struct{}),
		closed: make(chan struct{}),
	}
	c.mode = o.ExecMode
	c.shells = c.newShells(ShellOptions{})
	go func() {
		err := c.client.Wait()
		c.markDead(err)
	}()
	if target.aliveInterval > 0 {
		go c.keepalive(target.aliveInterval)
	}
	return c, nil
}

// connect opens a TCP connection to e (directly, or through prev) and runs
// the SSH handshake. The connect timeout bounds the TCP connect and the
// server's banner, as OpenSSH's ConnectTimeout does; the key exchange and
// authentication that follow may take longer on a loaded target, as long
// as the server is not silent for Options.HandshakeIdle. The handshake
// waits for its turn under Options.Handshakes first.
func connect(ctx context.Context, o Options, e endpoint, prev *xssh.Client, kh *KnownHosts) (*xssh.Client, error) {
	release, err := o.Handshakes.acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", e.hostport(), err)
	}
	defer release()
	deadline := time.Now().Add(e.connectTimeout)
	hctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	var nc net.Conn
	switch {
	case prev == nil && e.proxyCommand != "":
		nc, err = proxyCommand(e.proxyCommand)
	case prev == nil:
		var d net.Dialer
		nc, err = d.DialContext(hctx, "tcp", e.hostport())
	default:
		nc, err = prev.DialContext(hctx, "tcp", e.hostport())
	}
	if err != nil {
		err = fmt.Errorf("connect to %s: %w", e.hostport(), timeoutErr(ctx, hctx, e, err))
		if isTransient(err) || hctx.Err() != nil && ctx.Err() == nil {
			return nil, retryable{err}
		}
		return nil, err
	}
	idle := o.HandshakeIdle
	if idle <= 0 {
		idle = defaultHandshakeIdle
	}
	// The handshake has no context: the watchdog closes the connection.
	wc := newWatchedConn(nc)
	stop := watchdog(ctx, wc, deadline, idle)
	a := &auth{o: o, e: e}
	defer a.close()
	cfg := &xssh.ClientConfig{
		User: e.user,
		Auth: a.methods(),
		HostKeyCallback: func(_ string, _ net.Addr, key xssh.PublicKey) error {
			return kh.check(e.hostKey, key)
		},
		BannerCallback: func(string) error { return nil },
	}
	if e.hostKey.policy != Off {
		if known := kh.knownKeyTypes(e.hostKey.files, e.hostport()); len(known) > 0 {
			cfg.HostKeyAlgorithms = append(known, xssh.SupportedAlgorithms().HostKeys...)
		}
	}
	sc, chans, reqs, err := xssh.NewClientConn(wc, e.hostport(), cfg)
	if why := stop(); why != nil {
		if err == nil {
			sc.Close()
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("ssh handshake with %s: %w", e.hostport(), ctx.Err())
		}
		if errors.Is(why, errConnectTimeout) {
			why = fmt.Errorf("no banner within %s (connect timeout): %w", e.connectTimeout, os.ErrDeadlineExceeded)
		}
		// A timed-out handshake is retried like a refused connect.
		return nil, retryable{fmt.Errorf("ssh handshake with %s: timed out: %w", e.hostport(), why)}
	}
	if err != nil {
		nc.Close()
		switch {
		case errors.Is(err, ErrHostKeyUnknown), errors.Is(err, ErrHostKeyChanged):
			return nil, err
		case strings.Contains(err.Error(), "unable to authenticate"):
			return nil, a.failure(err)
		}
		err = fmt.Errorf("ssh handshake with %s: %w", e.hostport(), err)
		if isTransient(err) {
			return nil, retryable{err}
		}
		return nil, err
	}
	return xssh.NewClient(sc, chans, reqs), nil
}

// timeoutErr explains an error caused by the connect timeout or ctx.
func timeoutErr(ctx, hctx context.Context, e endpoint, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if hctx.Err() != nil {
		return fmt.Errorf("timed out after %s (connect timeout): %w", e.connectTimeout, os.ErrDeadlineExceeded)
	}
	return err
}

// keepalive sends keepalive@openssh.com every interval and kills the
// connection when three intervals pass without an answer.
func (c *Client) keepalive(interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-c.closed:
			return
		case <-c.dead:
			return
		case <-t.C:
		}
		replied := make(chan error, 1)
		go func() {
			_, _, err := c.client.SendRequest("keepalive@openssh.com", true, nil)
			replied <- err
		}()
		limit := time.NewTimer(3 * interval)
		select {
		case err := <-replied:
			limit.Stop()
			if err != nil {
				c.fail(fmt.Errorf("keepalive: %w", err))
				return
			}
		case <-limit.C:
			c.fail(fmt.Errorf("no answer to keepalives for %s", 3*interval))
			return
		case <-c.closed:
			limit.Stop()
			return
		}
	}
}

// fail records why the connection is dead and closes it.
func (c *Client) fail(err error) {
	c.mu.Lock()
	if c.deadErr == nil {
		c.deadErr = err
	}
	c.mu.Unlock()
	c.client.Close()
}

func (c *Client) markDead(err error) {
	c.mu.Lock()
	if c.deadErr == nil {
		c.deadErr = err
		if c.deadErr == nil {
			c.deadErr = errors.New("connection closed")
		}
	}
	c.mu.Unlock()
	close(c.dead)
}

// lost returns an ErrUnreachable error if the transport is gone, waiting
// up to grace for it to be noticed (a dropped connection closes the
// channels a moment before the transport reports its end).
func (c *Client) lost(op string, err error, grace time.Duration) error {
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-c.dead:
	case <-t.C:
		return nil
	}
	select {
	case <-c.closed:
		return fmt.Errorf("%s on %s: connection closed: %w", op, c.alias, net.ErrClosed)
	default:
	}
	c.mu.Lock()
	why := c.deadErr
	c.mu.Unlock()
	return fmt.Errorf("%w: %s: %s: connection lost (%v): %v", conn.ErrUnreachable, c.alias, op, why, err)
}

// classify turns an error of op into ErrUnreachable when the transport
// died, and into a plain error otherwise.
func (c *Client) classify(op string, err error) error {
	grace := time.Duration(0)
	if errors.Is(err, io.EOF) || errors.Is(err, sftp.ErrSSHFxConnectionLost) || isExitMissing(err) {
		grace = 2 * time.Second
	}
	if lerr := c.lost(op, err, grace); lerr != nil {
		return lerr
	}
	if errors.Is(err, sftp.ErrSSHFxConnectionLost) {
		// The SFTP session died but the connection lives: start afresh.
		c.mu.Lock()
		if c.sftp != nil {
			c.sftp.Close()
			c.sftp = nil
		}
		c.mu.Unlock()
	}
	return fmt.Errorf("%s on %s: %w", op, c.alias, err)
}

func isExitMissing(err error) bool {
	var em *xssh.ExitMissingError
	return errors.As(err, &em)
}

// acquire takes a session token.
func (c *Client) acquire(ctx context.Context) error {
	select {
	case c.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-c.dead:
		return c.lost("open session", errors.New("connection gone"), 0)
	}
}

func (c *Client) release() { <-c.sem }

// takeShellToken takes a session token for a shell's lifetime, if one is
// free and shells do not hold all but one already.
func (c *Client) takeShellToken() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.shellTokens >= cap(c.sem)-1 {
		return false
	}
	select {
	case c.sem <- struct{}{}:
		c.shellTokens++
		return true
	default:
		return false
	}
}

// releaseShellToken gives back a shell's session token.
func (c *Client) releaseShellToken() {
	c.mu.Lock()
	c.shellTokens--
	c.mu.Unlock()
	c.release()
}

// Exec runs cmd.Script with /bin/sh -c as the login user: in one of the
// connection's long-lived shells, or, in SessionPerCommand mode or when no
// shell can start, in a new session. Dir and Env are applied by the
// script itself (sshd usually refuses setenv requests).
func (c *Client) Exec(ctx context.Context, cmd conn.Command) (conn.ExecResult, error) {
	if c.shells != nil {
		res, err := c.shells.Exec(ctx, cmd)
		if !errors.Is(err, ErrNoShell) {
			return res, err
		}
	}
	return c.execSession(ctx, cmd)
}

// execSession runs cmd in a new session.
func (c *Client) execSession(ctx context.Context, cmd conn.Command) (conn.ExecResult, error) {
	script, err := cmd.Text()
	if err != nil {
		return conn.ExecResult{}, err
	}
	if err := ctx.Err(); err != nil {
		return conn.ExecResult{}, fmt.Errorf("run command on %s: %w", c.alias, err)
	}
	if err := c.acquire(ctx); err != nil {
		return conn.ExecResult{}, fmt.Errorf("run command on %s: %w", c.alias, err)
	}
	defer c.release()
	sess, err := c.newSession(ctx)
	if err != nil {
		return conn.ExecResult{}, c.classify("open session", err)
	}
	defer sess.Close()
	var stdout, stderr bytes.Buffer
	sess.Stdin = bytes.NewReader(cmd.Stdin)
	sess.Stdout = &stdout
	sess.Stderr = &stderr
	// The token lets a cancellation find the command's processes again.
	// It shares the script's first line, so that line numbers in the
	// shell's messages are the script's own.
	token := randHex(8)
	script = ": mdo-run-" + token + "; " + script
	if err := sess.Start("/bin/sh -c " + conn.Quote(script)); err != nil {
		return conn.ExecResult{}, c.classify("start command", err)
	}
	done := make(chan error, 1)
	go func() { done <- sess.Wait() }()
	select {
	case err = <-done:
	case <-ctx.Done():
		// sshd delivers signals to the command's process group, but only
		// for sessions of a privilege-separated child: not for root; the
		// token finds the processes then. SIGTERM first lets a sudo pass
		// it on to its command.
		_ = sess.Signal(xssh.SIGTERM)
		c.killRemote(token)
		_ = sess.Signal(xssh.SIGKILL)
		sess.Close()
		return conn.ExecResult{}, fmt.Errorf("run command on %s: %w", c.alias, ctx.Err())
	}
	res := conn.ExecResult{Stdout: stdout.Bytes(), Stderr: stderr.Bytes()}
	var ee *xssh.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		// x/crypto reports a signal death as 128+n already.
		res.RC = ee.ExitStatus()
	default:
		return res, c.classify("run command", err)
	}
	return res, nil
}

// newSession opens a session, retrying for a while when sshd refuses it:
// a session we just closed may still count against its MaxSessions.
func (c *Client) newSession(ctx context.Context) (*xssh.Session, error) {
	delay := 5 * time.Millisecond
	for {
		sess, err := c.client.NewSession()
		var oce *xssh.OpenChannelError
		if err == nil || !errors.As(err, &oce) || delay > 500*time.Millisecond {
			return sess, err
		}
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, err
		}
		delay *= 2
	}
}

// killRemote kills the process groups of the commands whose command line
// carries token (Linux /proc), within 2 seconds, best effort. SIGTERM
// first lets a sudo in the group pass the signal on to its command.
func (c *Client) killRemote(token string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	sess, err := c.newSession(ctx)
	if err != nil {
		return
	}
	defer sess.Close()
	// The pattern is split by quotes so that this script does not match it.
	// (dash's kill takes no "--": a negative pid follows the signal.)
	script := "t=mdo-run-''" + token + `
ps=
for f in $(grep -l -F -e "$t" /proc/[0-9]*/cmdline 2>/dev/null); do
  p=${f#/proc/}; p=${p%/cmdline}; ps="$ps $p"
  kill -TERM "-$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null
done
[ -n "$ps" ] || exit 0
sleep 0.1 2>/dev/null
for p in $ps; do
  kill -KILL "-$p" 2>/dev/null || kill -KILL "$p" 2>/dev/null
done
exit 0`
	if err := sess.Start("/bin/sh -c " + conn.Quote(script)); err != nil {
		return
	}
	done := make(chan struct{})
	go func() { sess.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// sftpClient returns the connection's SFTP client, opening it on first use.
func (c *Client) sftpClient() (*sftp.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sftp != nil {
		return c.sftp, nil
	}
	// Open the session ourselves, to retry while sshd still counts a
	// just-closed session against MaxSessions.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sess, err := c.newSession(ctx)
	if err != nil {
		return nil, err
	}
	w, err := sess.StdinPipe()
	if err != nil {
		sess.Close()
		return nil, err
	}
	r, err := sess.StdoutPipe()
	if err != nil {
		sess.Close()
		return nil, err
	}
	if err := sess.RequestSubsystem("sftp"); err != nil {
		sess.Close()
		return nil, err
	}
	sc, err := sftp.NewClientPipe(r, w, sftp.UseConcurrentWrites(true), sftp.UseConcurrentReads(true))
	if err != nil {
		sess.Close()
		return nil, err
	}
	c.sftp = sc
	return sc, nil
}

// files is the connection's file side, over its SFTP session.
func (c *Client) files() sftpfs.FS {
	return sftpfs.FS{Alias: c.alias, Client: c.sftpClient, Classify: c.classify}
}

// Put writes r to dst atomically (sftpfs.FS.Put): into a temporary file
// in dst's directory (TempPath), then chmod perm and rename over dst.
func (c *Client) Put(ctx context.Context, r io.Reader, dst string, perm fs.FileMode) error {
	return c.files().Put(ctx, r, dst, perm)
}

// Get copies the file src into w.
func (c *Client) Get(ctx context.Context, src string, w io.Writer) error {
	return c.files().Get(ctx, src, w)
}

// Stat describes path without following a final symlink.
func (c *Client) Stat(ctx context.Context, p string) (conn.FileInfo, error) {
	return c.files().Stat(ctx, p)
}

// Close closes the SFTP session, the connection and its jump hosts. It is
// safe to call more than once.
func (c *Client) Close() error {
	var err error
	c.closeOnce.Do(func() {
		close(c.closed)
		if c.shells != nil {
			c.shells.Close()
		}
		c.mu.Lock()
		if c.sftp != nil {
			c.sftp.Close()
		}
		c.mu.Unlock()
		err = c.client.Close()
		for i := len(c.hops) - 1; i >= 0; i-- {
			c.hops[i].Close()
		}
		if errors.Is(err, net.ErrClosed) {
			err = nil
		}
	})
	return err
}

// TempPath is the temporary file a write to dst goes through
// (sftpfs.TempPath).
func TempPath(dst string) string { return sftpfs.TempPath(dst) }

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
