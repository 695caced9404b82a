package ssh

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	xssh "golang.org/x/crypto/ssh"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// ExecMode says how Client.Exec runs commands.
type ExecMode int

const (
	// PersistentShell (the default) feeds commands to a few long-lived
	// shells per host, so that a command pays neither a new SSH session nor
	// a new login shell. Commands fall back to SessionPerCommand when no
	// shell can be started.
	PersistentShell ExecMode = iota
	// SessionPerCommand opens a new SSH session for every command.
	SessionPerCommand
)

// ErrNoShell is conn.ErrNoShell, wrapped by Shells.Exec when no
// long-lived shell could be started.
var ErrNoShell = conn.ErrNoShell

// ShellOptions says how the shells of a pool start (conn.ShellOptions).
type ShellOptions = conn.ShellOptions

// Shells is a pool of long-lived shells on one connection, each running
// one command at a time. Commands are framed on a shell's standard input,
// and cost the shell a fork, no exec and no file:
//
//   - the command's stdin is written by the shell's printf builtin into a
//     file in a private 0700 directory (binary-safe through octal escapes),
//     or /dev/null when empty; the command never reads the shell's input;
//   - the command is evaluated in a subshell (Dir and Env applied in the
//     script), so it cannot change the shell's directory, variables or
//     traps; a script that refers to $$ or $PPID runs as `/bin/sh -c
//     SCRIPT` in that subshell instead, so that $$ is its own;
//   - its stdout and stderr are the session's own two streams, framed on
//     each by a random per-command marker: "MARK<" before the command's
//     output and "MARK>" after it, followed by the exit status on stdout.
//     Anything before the opening marker is dropped: the late output of
//     an earlier command's background processes, when it arrives between
//     two commands. Output that such processes write while a later
//     command runs ends up in that command's output (a new session per
//     command would instead wait for them to end).
//
// A cancelled command's process tree (the shell's descendants) is killed
// with ShellOptions.Kill and the shell is reused once its answer arrives;
// a shell that does not answer is closed.
type Shells struct {
	c     *Client
	o     ShellOptions
	idle  chan *shell
	slots chan struct{} // one per shell alive or starting

	mu       sync.Mutex
	closed   bool
	all      map[*shell]struct{}
	startErr error // why shells cannot start here; set once
}

var _ conn.ShellStarter = (*Client)(nil)

// NewShells returns a pool of long-lived shells started as o says, or nil
// when the client runs every command in a session of its own
// (Options.ExecMode). Shells start on demand; close the pool when done.
func (c *Client) NewShells(o ShellOptions) conn.Shells {
	if p := c.newShells(o); p != nil {
		return p
	}
	return nil
}

// newShells returns a pool of shells, or nil in SessionPerCommand mode.
func (c *Client) newShells(o ShellOptions) *Shells {
	if c.mode != PersistentShell {
		return nil
	}
	if o.Max <= 0 {
		o.Max = 4
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = 10 * time.Second
	}
	if o.Command == "" {
		o.Command = "/bin/sh"
	}
	return &Shells{
		c: c, o: o,
		idle:  make(chan *shell, o.Max),
		slots: make(chan struct{}, o.Max),
		all:   map[*shell]struct{}{},
	}
}

// shell is one long-lived shell and its session.
type shell struct {
	sess  *xssh.Session
	stdin io.WriteCloser
	out   *bufio.Reader // the session's stdout
	errs  *bufio.Reader // the session's stderr
	pid   int           // the shell's own pid on the host
	seq   int           // commands sent so far
}

// Exec runs cmd in one of the pool's shells. It wraps ErrNoShell when no
// shell could be started (cmd did not run) and conn.ErrUnreachable when
// the connection is gone.
func (p *Shells) Exec(ctx context.Context, cmd conn.Command) (conn.ExecResult, error) {
	script, err := cmd.Text()
	if err != nil {
		return conn.ExecResult{}, err
	}
	if err := ctx.Err(); err != nil {
		return conn.ExecResult{}, fmt.Errorf("run command on %s: %w", p.c.alias, err)
	}
	// A shell that died since its last command (a cancelled command's
	// kill can take it down) fails when the command is sent, before
	// anything ran: that is retried once on a new shell.
	for attempt := 0; ; attempt++ {
		res, err := p.execOnce(ctx, script, cmd.Stdin)
		var se sendError
		if errors.As(err, &se) {
			if attempt == 0 && ctx.Err() == nil {
				continue
			}
			return res, p.c.classify("run command in shell", err)
		}
		return res, err
	}
}

// errNoStdinDir says that a shell could make no directory for a
// command's standard input, so the command did not run: the caller runs
// it in a session of its own. The shell itself is fine.
var errNoStdinDir = fmt.Errorf("%w: no writable directory for standard input", ErrNoShell)

// sendError is a failure to send a command to a shell: the command did not
// start.
type sendError struct{ error }

func (e sendError) Unwrap() error { return e.error }

// execOnce runs script on one shell of the pool.
func (p *Shells) execOnce(ctx context.Context, script string, stdin []byte) (conn.ExecResult, error) {
	sh, err := p.get(ctx)
	if err != nil {
		return conn.ExecResult{}, err
	}
	mark := "MDO" + randHex(12)
	frame := sh.frame(script, stdin, mark)
	type answer struct {
		res conn.ExecResult
		err error
	}
	done := make(chan answer, 1)
	go func() {
		res, err := sh.roundTrip(frame, mark)
		done <- answer{res, err}
	}()
	select {
	case a := <-done:
		if errors.Is(a.err, errNoStdinDir) {
			p.put(sh)
			return conn.ExecResult{}, a.err
		}
		if a.err != nil {
			p.discard(sh)
			var se sendError
			if errors.As(a.err, &se) && p.c.alive() {
				return conn.ExecResult{}, a.err // the caller retries on a new shell
			}
			return conn.ExecResult{}, p.c.classify("run command in shell", a.err)
		}
		p.put(sh)
		return a.res, nil
	case <-ctx.Done():
		// Kill before returning: the caller may close the connection
		// next, and then a kill could no longer reach the host.
		kctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		kerr := p.kill(kctx, sh.pid)
		cancel()
		go p.abort(sh, kerr, func() bool {
			t := time.NewTimer(5 * time.Second)
			defer t.Stop()
			select {
			case a := <-done:
				return a.err == nil
			case <-t.C:
				return false
			}
		})
		return conn.ExecResult{}, fmt.Errorf("run command on %s: %w", p.c.alias, ctx.Err())
	}
}

// abort keeps sh, whose running command was killed (kerr says whether
// that worked), if its answer arrives (answered reports that), or closes it.
func (p *Shells) abort(sh *shell, kerr error, answered func() bool) {
	if kerr == nil && answered() {
		p.put(sh)
		return
	}
	p.discard(sh)
}

// killScript kills every descendant of the shell with pid $1: SIGTERM
// first, which lets a sudo among them pass it on to its command (that the
// login user may not signal itself), then SIGSTOP so that none forks
// while the tree is collected again, then SIGKILL.
const killScript = `p=$1
tree() {
  cat /proc/[0-9]*/stat 2>/dev/null | awk -v root="$p" '
  { q = $1; s = $0; sub(/^.*\) /, "", s); split(s, f, " "); pp[q] = f[2] }
  END {
    t[root] = 1
    do { n = 0; for (q in pp) if (!(q in t) && (pp[q] in t)) { t[q] = 1; n = 1 } } while (n)
    for (q in t) if (q != root) printf "%s ", q
  }'
}
l=$(tree)
[ -n "$l" ] || exit 0
kill -TERM $l 2>/dev/null
sleep 0.1 2>/dev/null
l="$l $(tree)"
kill -STOP $l 2>/dev/null
l="$l $(tree)"
kill -KILL $l 2>/dev/null
exit 0`

func (p *Shells) kill(ctx context.Context, pid int) error {
	script := "set -- " + strconv.Itoa(pid) + "\n" + killScript
	if p.o.Kill != nil {
		return p.o.Kill(ctx, script)
	}
	res, err := p.c.execSession(ctx, conn.Command{Script: script})
	if err == nil && res.RC != 0 {
		err = fmt.Errorf("kill: exit %d: %s", res.RC, bytes.TrimSpace(res.Stderr))
	}
	return err
}

// get returns an idle shell, or starts one if the pool has room, or
// waits for one to come back.
func (p *Shells) get(ctx context.Context) (*shell, error) {
	select {
	case sh := <-p.idle:
		return sh, nil
	default:
	}
	p.mu.Lock()
	startErr, closed := p.startErr, p.closed
	p.mu.Unlock()
	if closed {
		return nil, fmt.Errorf("%w: pool closed", ErrNoShell)
	}
	if startErr != nil {
		return nil, startErr
	}
	select {
	case sh := <-p.idle:
		return sh, nil
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("run command on %s: %w", p.c.alias, ctx.Err())
	case <-p.c.dead:
		return nil, p.c.lost("run command", errors.New("connection gone"), 0)
	}
	if !p.c.takeShellToken() {
		<-p.slots
		return nil, fmt.Errorf("%w: no session left for one on %s", ErrNoShell, p.c.alias)
	}
	sh, err := p.start(ctx)
	if err != nil {
		p.c.releaseShellToken()
		<-p.slots
		if errors.Is(err, conn.ErrUnreachable) || ctx.Err() != nil {
			return nil, err
		}
		err = fmt.Errorf("%w: %w", ErrNoShell, err)
		var refused *xssh.OpenChannelError
		if !errors.As(err, &refused) {
			// The shell itself does not come up here: stop trying. (A
			// refused session may be free again for the next command.)
			p.mu.Lock()
			if p.startErr == nil {
				p.startErr = err
			}
			p.mu.Unlock()
		}
		return nil, err
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		p.closeShell(sh)
		return nil, fmt.Errorf("%w: pool closed", ErrNoShell)
	}
	p.all[sh] = struct{}{}
	p.mu.Unlock()
	return sh, nil
}

// put returns sh to the idle list.
func (p *Shells) put(sh *shell) {
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		p.discard(sh)
		return
	}
	p.idle <- sh // never blocks: at most Max shells exist
}

// discard closes sh and frees its place.
func (p *Shells) discard(sh *shell) {
	p.mu.Lock()
	_, ok := p.all[sh]
	delete(p.all, sh)
	p.mu.Unlock()
	if ok {
		p.closeShell(sh)
	}
}

func (p *Shells) closeShell(sh *shell) {
	sh.stdin.Close()
	sh.sess.Close()
	p.c.releaseShellToken()
	<-p.slots
}

// Close closes the pool's idle shells, and each busy one when its command
// ends. It is safe to call more than once.
func (p *Shells) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.mu.Unlock()
	for {
		select {
		case sh := <-p.idle:
			p.discard(sh)
		default:
			return nil
		}
	}
}

// bootScript sets a shell up: the function that makes, on the first
// command with standard input, a private directory for stdin files (on a
// tmpfs when one is writable: /dev/shm, then $XDG_RUNTIME_DIR, then
// $TMPDIR or /tmp, then $HOME), removed on exit; the functions that run
// one framed command; and the ready lines (on stdout with the shell's
// pid, on stderr alone). Making the directory on demand spares a mktemp
// (and the rm at exit) on every connection whose commands take no input.
// The shell's own stderr then goes to /dev/null, so that its messages
// (dash's "Killed" after a command's death) never mix with a command's;
// commands get the session's stderr from fd 4. The command's subshell
// redirects its own stdin and stderr: dash redirects a simple command's
// in the shell itself. The names are prefixed so that they cannot clash
// with variables in the environment.
const bootScript = `__mdo_d=
__mdo_mkd() {
  for __mdo_d in /dev/shm "${XDG_RUNTIME_DIR:-}" "${TMPDIR:-/tmp}" "$HOME"; do
    [ -n "$__mdo_d" ] && [ -d "$__mdo_d" ] && [ -w "$__mdo_d" ] && __mdo_d=$(mktemp -d "$__mdo_d/.mdo-sh.XXXXXXXX" 2>/dev/null) && return 0
  done
  __mdo_d=
  return 1
}
trap '[ -z "$__mdo_d" ] || rm -rf "$__mdo_d"' EXIT
trap 'exit 129' HUP
trap 'exit 143' TERM
__mdo_run() {
  printf '%s<' "$1"; printf '%s<' "$1" >&4
  (exec <"$2" 2>&4 4>&-; __mdo_s=$3; unset __mdo_d; set --; eval "$__mdo_s")
  printf '%s>%d\n' "$1" "$?"; printf '%s>' "$1" >&4
}
__mdo_exec() {
  printf '%s<' "$1"; printf '%s<' "$1" >&4
  (exec <"$2" 2>&4 4>&- /bin/sh -c "$3")
  printf '%s>%d\n' "$1" "$?"; printf '%s>' "$1" >&4
}
__mdo_nodir() {
  printf '%s<%s>-\n' "$1" "$1"; printf '%s<%s>' "$1" "$1" >&4
}
printf '%s %s\n' "$1" "$$"
printf '%s\n' "$1" >&2
exec 4>&2 2>/dev/null
`

// cleanEvery is how many commands a shell runs between removals of its
// old (already truncated) stdin files.
const cleanEvery = 64

// start opens a session running the pool's shell command and waits for
// the boot script's ready lines.
func (p *Shells) start(ctx context.Context) (*shell, error) {
	ctx, cancel := context.WithTimeout(ctx, p.o.StartTimeout)
	defer cancel()
	sess, err := p.c.newSession(ctx)
	if err != nil {
		return nil, p.c.classify("open session", err)
	}
	stdin, err1 := sess.StdinPipe()
	stdout, err2 := sess.StdoutPipe()
	stderr, err3 := sess.StderrPipe()
	if err := errors.Join(err1, err2, err3); err != nil {
		sess.Close()
		return nil, fmt.Errorf("start shell: %w", err)
	}
	sh := &shell{sess: sess, stdin: stdin, out: bufio.NewReaderSize(stdout, 64<<10), errs: bufio.NewReaderSize(stderr, 16<<10)}
	if err := sess.Start(p.o.Command); err != nil {
		sess.Close()
		return nil, p.c.classify("start shell", err)
	}
	ready := "MDOREADY" + randHex(12)
	boot := append(append([]byte(nil), p.o.Preamble...), "set -- "+ready+"\n"+bootScript...)
	type answer struct {
		line string
		err  error
	}
	done := make(chan answer, 1)
	// What the shell command says on stderr before the shell is ready
	// (sudo's complaints) explains a failure.
	chatter := make(chan []byte, 1)
	go func() {
		b, _ := readUntil(sh.errs, []byte(ready+"\n"))
		chatter <- b
	}()
	go func() {
		if _, err := stdin.Write(boot); err != nil {
			done <- answer{err: err}
			return
		}
		// Login scripts may print before the shell starts: skip to the mark.
		if _, err := readUntil(sh.out, []byte(ready+" ")); err != nil {
			done <- answer{err: err}
			return
		}
		line, err := sh.out.ReadString('\n')
		done <- answer{line, err}
	}()
	var a answer
	select {
	case a = <-done:
	case <-ctx.Done():
		sess.Close()
		<-done
		<-chatter
		return nil, fmt.Errorf("start shell %q: no answer within %s: %w", p.o.Command, p.o.StartTimeout, ctx.Err())
	}
	if a.err == nil {
		if sh.pid, a.err = strconv.Atoi(strings.TrimSuffix(a.line, "\n")); a.err == nil {
			select {
			case <-chatter:
				return sh, nil
			case <-ctx.Done():
				a.err = errors.New("no ready line on stderr")
			}
		} else {
			a.err = fmt.Errorf("unexpected ready line %q", a.line)
		}
	}
	sess.Close()
	msg := strings.TrimSpace(string(<-chatter))
	if lerr := p.c.lost("start shell", a.err, time.Second); lerr != nil {
		return nil, lerr
	}
	if len(p.o.Preamble) > 0 {
		msg = strings.ReplaceAll(msg, strings.TrimSpace(string(p.o.Preamble)), "********")
	}
	if len(msg) > 4096 {
		msg = msg[len(msg)-4096:]
	}
	return nil, fmt.Errorf("start shell %q: %w", p.o.Command, &conn.ShellStartError{Err: a.err, Stderr: msg})
}

// frame returns the shell code that runs script with stdin and answers
// with mark.
func (sh *shell) frame(script string, stdin []byte, mark string) []byte {
	sh.seq++
	var b bytes.Buffer
	b.Grow(len(script) + len(stdin) + 200)
	if sh.seq%cleanEvery == 0 {
		// Never "/i*": the directory is made on demand.
		b.WriteString(`[ -z "$__mdo_d" ] || rm -f -- "$__mdo_d"/i*` + "\n")
	}
	in := "/dev/null"
	if len(stdin) > 0 {
		// The stdin directory is made on the first command that needs
		// it; where none can be made, the command does not run and
		// roundTrip says so (errNoStdinDir).
		in = `"$__mdo_d/i` + strconv.Itoa(sh.seq) + `"`
		b.WriteString(`if [ -n "$__mdo_d" ] || __mdo_mkd; then` + "\nprintf '")
		writePrintfFormat(&b, stdin)
		b.WriteString("' >" + in + "\n")
	}
	run := "__mdo_run "
	if ownPID(script) {
		run = "__mdo_exec "
	}
	b.WriteString(run + mark + " " + in + " " + conn.Quote(script) + "\n")
	if len(stdin) > 0 {
		b.WriteString(": >" + in + "\nelse __mdo_nodir " + mark + "\nfi\n")
	}
	return b.Bytes()
}

// ownPID reports whether script refers to $$ or $PPID, which must be
// those of a shell of its own, not of the long-lived shell.
func ownPID(script string) bool {
	return strings.Contains(script, "$$") || strings.Contains(script, "${$}") || strings.Contains(script, "PPID")
}

// writePrintfFormat writes data as a single-quoted printf format that
// prints exactly data: printable ASCII as is, everything else (and the
// characters printf or the quotes treat specially) as octal escapes. A
// leading '-' is escaped too, or printf would take the format for an
// option ("printf: Illegal option -r") and print nothing.
func writePrintfFormat(b *bytes.Buffer, data []byte) {
	const digits = "01234567"
	for i, c := range data {
		switch {
		case c == '%':
			b.WriteString("%%")
		case c == '\\' || c == '\'' || (c < ' ' && c != '\n' && c != '\t') || c >= 0x7f || (i == 0 && c == '-'):
			b.Write([]byte{'\\', digits[c>>6], digits[c>>3&7], digits[c&7]})
		default:
			b.WriteByte(c)
		}
	}
}

// roundTrip sends a frame and reads the command's answer from both
// streams at once (they share the channel's flow-control window).
func (sh *shell) roundTrip(frame []byte, mark string) (conn.ExecResult, error) {
	if _, err := sh.stdin.Write(frame); err != nil {
		return conn.ExecResult{}, sendError{fmt.Errorf("send command: %w", err)}
	}
	type part struct {
		b   []byte
		err error
	}
	errc := make(chan part, 1)
	go func() {
		b, err := readFramed(sh.errs, mark)
		errc <- part{b, err}
	}()
	stdout, err := readFramed(sh.out, mark)
	var line string
	if err == nil {
		line, err = sh.out.ReadString('\n')
	}
	if err != nil {
		// The shell is gone: its stderr ends too.
		<-errc
		return conn.ExecResult{}, sh.broken(err)
	}
	e := <-errc
	if e.err != nil {
		return conn.ExecResult{}, sh.broken(e.err)
	}
	if line == "-\n" {
		return conn.ExecResult{}, errNoStdinDir
	}
	rc, err := strconv.Atoi(strings.TrimSuffix(line, "\n"))
	if err != nil {
		return conn.ExecResult{}, fmt.Errorf("unexpected exit status %q", line)
	}
	return conn.ExecResult{RC: rc, Stdout: stdout, Stderr: e.b}, nil
}

// readFramed reads one command's output from r: it drops what comes
// before "MARK<" and returns what comes before "MARK>".
func readFramed(r *bufio.Reader, mark string) ([]byte, error) {
	if _, err := readUntil(r, []byte(mark+"<")); err != nil {
		return nil, err
	}
	return readUntil(r, []byte(mark+">"))
}

// broken describes a shell that stopped answering.
func (sh *shell) broken(err error) error {
	return fmt.Errorf("shell ended: %w", err)
}

// readUntil reads r up to and including mark and returns what came
// before it, in a new slice.
func readUntil(r *bufio.Reader, mark []byte) ([]byte, error) {
	last := mark[len(mark)-1]
	var buf []byte
	for {
		chunk, err := r.ReadSlice(last)
		buf = append(buf, chunk...)
		if err == nil && bytes.HasSuffix(buf, mark) {
			return buf[:len(buf)-len(mark)], nil
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return buf, err
		}
	}
}

// alive reports whether the connection is neither dead nor closed.
func (c *Client) alive() bool {
	select {
	case <-c.dead:
		return false
	case <-c.closed:
		return false
	default:
		return true
	}
}
