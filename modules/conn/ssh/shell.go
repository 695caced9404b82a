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

	"github.com/pkg/sftp"
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
// one command at a time. Commands are framed on a shell's standard input:
//
//   - the command's stdin is written by the shell's printf builtin into a
//     file in a private 0700 directory (binary-safe through octal escapes),
//     or /dev/null when empty; the command never reads the shell's input;
//   - the command runs as `/bin/sh -c SCRIPT` in a child process (Dir and
//     Env applied in SCRIPT), so it cannot change the shell's directory,
//     variables or traps, with stdout and stderr in files of their own;
//   - the shell then writes stdout, a random marker, stderr, the marker
//     again and the exit status; cat runs only when there is output.
//     For the login user's shells it writes only the marker, the
//     exit status and which files are not empty, and the client reads
//     those over SFTP (no process on the target); the next frame
//     truncates them.
//
// A cancelled command's process tree (the shell's descendants) is killed
// with ShellOptions.Kill and the shell is reused once its answer arrives;
// a shell that does not answer is closed. Output written by a command's
// background processes after the command ends is lost (each command has
// new files), where a new session per command would wait for them.
type Shells struct {
	c        *Client
	o        ShellOptions
	overSFTP bool // read output files over SFTP (the login user's shells)
	idle     chan *shell
	slots    chan struct{} // one per shell alive or starting

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
	if p := c.newShells(o, false); p != nil {
		return p
	}
	return nil
}

// newShells returns a pool of shells, or nil in SessionPerCommand mode;
// overSFTP: the shells' output is read over SFTP (only for shells of the
// login user, who owns the files).
func (c *Client) newShells(o ShellOptions, overSFTP bool) *Shells {
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
		c: c, o: o, overSFTP: overSFTP,
		idle:  make(chan *shell, o.Max),
		slots: make(chan struct{}, o.Max),
		all:   map[*shell]struct{}{},
	}
}

// shell is one long-lived shell and its session.
type shell struct {
	sess   *xssh.Session
	stdin  io.WriteCloser
	out    *bufio.Reader
	stderr *tailBuffer
	pid    int    // the shell's own pid on the host
	dir    string // its private directory
	seq    int    // commands sent so far

	// fetch is the SFTP client that reads the output files, when the
	// shell answers with __mdo_runf; nil: it answers with the output.
	fetch *sftp.Client
	// stale holds the output files of the last command, read over SFTP
	// and truncated by the next frame.
	stale []string
}

// Exec runs cmd in one of the pool's shells. It wraps ErrNoShell when no
// shell could be started (cmd did not run) and conn.ErrUnreachable when
// the connection is gone.
func (p *Shells) Exec(ctx context.Context, cmd conn.Command) (conn.ExecResult, error) {
	script, err := Script(cmd)
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

// bootScript sets a shell up: a private directory removed on exit (on a
// tmpfs when one is writable: /dev/shm, then $XDG_RUNTIME_DIR, then
// $TMPDIR or /tmp, then $HOME, because every command creates files in it
// and a disk file system's inode allocation costs more than the command), the
// functions that run one framed command (__mdo_run answers with the
// output, __mdo_runf with which output files are not empty, for the
// caller to read them over SFTP), and the ready line with the shell's
// pid. The command runs in a subshell that redirects its own
// output (dash redirects a simple command's in the shell itself, which
// would then report a signal death into the command's stderr). The names are prefixed so that they cannot clash with
// variables in the environment (an assignment would export them).
const bootScript = `for __mdo_d in /dev/shm "${XDG_RUNTIME_DIR:-}" "${TMPDIR:-/tmp}" "$HOME"; do
  [ -n "$__mdo_d" ] && [ -d "$__mdo_d" ] && [ -w "$__mdo_d" ] && __mdo_d=$(mktemp -d "$__mdo_d/.mdo-sh.XXXXXXXX" 2>/dev/null) && break
  __mdo_d=
done
[ -n "$__mdo_d" ] || exit 1
trap 'rm -rf "$__mdo_d"' EXIT
trap 'exit 129' HUP
trap 'exit 143' TERM
__mdo_run() {
  (exec /bin/sh -c "$4") <"$3" >"$__mdo_d/o$1" 2>"$__mdo_d/e$1"
  __mdo_r=$?
  if [ -s "$__mdo_d/o$1" ] || [ -s "$__mdo_d/e$1" ]; then
    cat "$__mdo_d/o$1" - "$__mdo_d/e$1" <<__MDO_EOF
$2
__MDO_EOF
    : >"$__mdo_d/o$1"; : >"$__mdo_d/e$1"
    printf '%s:%d\n' "$2" "$__mdo_r"
  else
    printf '%s\n%s:%d\n' "$2" "$2" "$__mdo_r"
  fi
}
__mdo_runf() {
  (exec /bin/sh -c "$4") <"$3" >"$__mdo_d/o$1" 2>"$__mdo_d/e$1"
  __mdo_r=$? __mdo_s=
  [ ! -s "$__mdo_d/o$1" ] || __mdo_s=o
  [ ! -s "$__mdo_d/e$1" ] || __mdo_s=${__mdo_s}e
  printf '%s:%d:%s\n' "$2" "$__mdo_r" "$__mdo_s"
}
printf '%s %s %s\n' "$1" "$$" "$__mdo_d"
`

// cleanEvery is how many commands a shell runs between removals of its
// old (already truncated) files.
const cleanEvery = 64

// start opens a session running the pool's shell command and waits for
// the boot script's ready line.
func (p *Shells) start(ctx context.Context) (*shell, error) {
	ctx, cancel := context.WithTimeout(ctx, p.o.StartTimeout)
	defer cancel()
	sess, err := p.c.newSession(ctx)
	if err != nil {
		return nil, p.c.classify("open session", err)
	}
	stdin, err1 := sess.StdinPipe()
	stdout, err2 := sess.StdoutPipe()
	if err := errors.Join(err1, err2); err != nil {
		sess.Close()
		return nil, fmt.Errorf("start shell: %w", err)
	}
	sh := &shell{sess: sess, stdin: stdin, out: bufio.NewReaderSize(stdout, 64<<10), stderr: &tailBuffer{max: 4096}}
	sess.Stderr = sh.stderr
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
		return nil, fmt.Errorf("start shell %q: no answer within %s: %w", p.o.Command, p.o.StartTimeout, ctx.Err())
	}
	if a.err == nil {
		pid, dir, ok := strings.Cut(strings.TrimSuffix(a.line, "\n"), " ")
		if sh.pid, a.err = strconv.Atoi(pid); a.err == nil && ok && dir != "" {
			sh.dir = dir
			if p.overSFTP {
				// Without SFTP the shell cats its output.
				sh.fetch, _ = p.c.sftpClient()
			}
			return sh, nil
		}
		a.err = fmt.Errorf("unexpected ready line %q", a.line)
	}
	sess.Close()
	if lerr := p.c.lost("start shell", a.err, time.Second); lerr != nil {
		return nil, lerr
	}
	msg := strings.TrimSpace(sh.stderr.String())
	if len(p.o.Preamble) > 0 {
		msg = strings.ReplaceAll(msg, strings.TrimSpace(string(p.o.Preamble)), "********")
	}
	return nil, fmt.Errorf("start shell %q: %w (stderr: %q)", p.o.Command, a.err, msg)
}

// frame returns the shell code that runs script with stdin and answers
// with mark.
func (sh *shell) frame(script string, stdin []byte, mark string) []byte {
	sh.seq++
	n := strconv.Itoa(sh.seq)
	var b bytes.Buffer
	b.Grow(len(script) + len(stdin) + 200)
	if sh.seq%cleanEvery == 0 {
		b.WriteString(`rm -f -- "$__mdo_d"/[ioe]*` + "\n")
	} else {
		for _, f := range sh.stale {
			b.WriteString(`: >"$__mdo_d/` + f + `"` + "\n")
		}
	}
	sh.stale = sh.stale[:0]
	in := "/dev/null"
	if len(stdin) > 0 {
		in = `"$__mdo_d/i` + n + `"`
		b.WriteString("printf '")
		writePrintfFormat(&b, stdin)
		b.WriteString("' >" + in + "\n")
	}
	run := "__mdo_run "
	if sh.fetch != nil {
		run = "__mdo_runf "
	}
	b.WriteString(run + n + " " + mark + " " + in + " " + Quote(script) + "\n")
	if len(stdin) > 0 {
		b.WriteString(": >" + in + "\n")
	}
	return b.Bytes()
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

// roundTrip sends a frame and reads the command's answer.
func (sh *shell) roundTrip(frame []byte, mark string) (conn.ExecResult, error) {
	if _, err := sh.stdin.Write(frame); err != nil {
		return conn.ExecResult{}, sendError{fmt.Errorf("send command: %w", err)}
	}
	if sh.fetch != nil {
		return sh.fetchAnswer(mark)
	}
	stdout, err := readUntil(sh.out, []byte(mark+"\n"))
	if err != nil {
		return conn.ExecResult{}, sh.broken(err)
	}
	stderr, err := readUntil(sh.out, []byte(mark+":"))
	if err != nil {
		return conn.ExecResult{}, sh.broken(err)
	}
	line, err := sh.out.ReadString('\n')
	if err != nil {
		return conn.ExecResult{}, sh.broken(err)
	}
	rc, err := strconv.Atoi(strings.TrimSuffix(line, "\n"))
	if err != nil {
		return conn.ExecResult{}, fmt.Errorf("unexpected exit status %q", line)
	}
	return conn.ExecResult{RC: rc, Stdout: stdout, Stderr: stderr}, nil
}

// fetchAnswer reads an answer of __mdo_runf, "MARK:RC:FILES", and the
// output files it names over SFTP.
func (sh *shell) fetchAnswer(mark string) (conn.ExecResult, error) {
	// Nothing but the shell writes to its stdout: skip to the mark all
	// the same, as login scripts may print before the shell starts.
	if _, err := readUntil(sh.out, []byte(mark+":")); err != nil {
		return conn.ExecResult{}, sh.broken(err)
	}
	line, err := sh.out.ReadString('\n')
	if err != nil {
		return conn.ExecResult{}, sh.broken(err)
	}
	rcs, files, _ := strings.Cut(strings.TrimSuffix(line, "\n"), ":")
	rc, err := strconv.Atoi(rcs)
	if err != nil {
		return conn.ExecResult{}, fmt.Errorf("unexpected exit status %q", line)
	}
	res := conn.ExecResult{RC: rc}
	n := strconv.Itoa(sh.seq)
	for _, f := range files {
		name := string(f) + n
		out, err := readFile(sh.fetch, sh.dir+"/"+name)
		if err != nil {
			return conn.ExecResult{}, fmt.Errorf("read output %s over sftp: %w", name, err)
		}
		sh.stale = append(sh.stale, name)
		if f == 'o' {
			res.Stdout = out
		} else {
			res.Stderr = out
		}
	}
	return res, nil
}

// readFile reads the file at p with sc: open, reads until EOF, close.
// The close is not waited for: its answer says nothing about what was
// read, and the round trip cost a quarter of the fetch. The goroutine
// ends with the answer or when the SFTP client closes.
func readFile(sc *sftp.Client, p string) ([]byte, error) {
	f, err := sc.Open(p)
	if err != nil {
		return nil, err
	}
	defer func() { go f.Close() }()
	buf := make([]byte, 0, 32<<10)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := f.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// broken describes a shell that stopped answering.
func (sh *shell) broken(err error) error {
	if msg := strings.TrimSpace(sh.stderr.String()); msg != "" {
		return fmt.Errorf("shell ended: %w (stderr: %q)", err, msg)
	}
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

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
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
