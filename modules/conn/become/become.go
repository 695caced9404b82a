// Package become wraps a conn.Conn so that everything runs as another user
// through sudo, su or doas, with the password on stdin and a bounded wait
// for the privilege escalation.
package become

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mdo-play/mdo-play/modules/conn"
	"github.com/pkg/sftp"
)

// ErrBecome is wrapped by errors where the command could not be started as
// the become user: wrong password, no sudo rights, a password needed but
// not given, or no answer within Options.Timeout. The command did not run;
// the host is still reachable.
var ErrBecome = errors.New("privilege escalation failed")

// Options says how to become another user.
type Options struct {
	// Method is sudo (default), su or doas.
	Method string
	// User is the user to become; default root.
	User string
	// Password is the become password; "" means none is needed.
	Password string
	// Flags are extra arguments for the become program, inserted as shell
	// words (Ansible's become_flags).
	Flags string
	// Exe is the become program; default the method's name.
	Exe string
	// Timeout bounds the wait for privilege escalation; default 10s.
	Timeout time.Duration
	// PerCommand runs every command under a new sudo (su, doas) instead
	// of in long-lived shells of the become user.
	PerCommand bool
}

// Conn runs every operation of an inner connection as Options.User.
type Conn struct {
	inner conn.Conn
	o     Options

	mu     sync.Mutex
	nopass bool // the check found no password is needed
	ready  bool // the check passed
	shells conn.Shells

	sftpScript string // replaces sftpServer in tests

	fmu      sync.Mutex    // guards the SFTP server's fields
	proc     *conn.Process // the SFTP server run as the become user
	sc       *sftp.Client
	filesErr error // why no SFTP server runs as the become user, for good

	ids   conn.UserCache // the user LoginUser returns
	names conn.NameCache // IDNames' answers
}

var (
	_ conn.Conn       = (*Conn)(nil)
	_ conn.FileWriter = (*Conn)(nil)
)

// Wrap returns c running as o.User. Exec, Get and Stat run as that user
// through shell commands (cat, stat); Put uploads with c to a private
// temporary file, then moves it into place as that user. The first call
// checks that escalation works (within o.Timeout), once.
//
// When c can keep long-lived shells (a conn.ShellStarter, such as an
// ssh.Client in its default mode) and o.PerCommand is false, commands run
// in up to 4 shells started once each as the become user (`sudo -u USER
// /bin/sh`, the password sent once per shell); a command falls back to
// its own sudo when no such shell can start.
//
// When c can start a process (a conn.ProcessStarter, such as an
// ssh.Client) and o.PerCommand is false, file operations (Put, PutFile,
// Get, Stat) go over one SFTP server started as the become user on first
// use (`sudo -u USER sftp-server`): no process on the target per file. The
// result is a conn.FileWriter; when no SFTP server can run as the become
// user its PutFile and LoginUser wrap errors.ErrUnsupported and the other
// operations use shell commands. It is not a conn.ShellStarter.
func Wrap(c conn.Conn, o Options) *Conn {
	if o.Method == "" {
		o.Method = "sudo"
	}
	if o.User == "" {
		o.User = "root"
	}
	if o.Exe == "" {
		o.Exe = o.Method
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	return &Conn{inner: c, o: o}
}

func randHex() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// wrapped is one command line that runs a script as the become user.
type wrapped struct {
	line    string // shell code for the login user's /bin/sh
	ok      string // printed on stderr by the become shell when it starts
	prompt  string // sudo's password prompt
	withPwd bool   // stdin must start with the password line
}

// command returns the shell code running script as the become user. The
// become shell first prints a marker on stderr, so that everything before
// it is the escalation's own chatter.
func (c *Conn) command(script string, nopass bool) (wrapped, error) {
	w := wrapped{ok: "MDO-BECOME-OK-" + randHex(), prompt: "[mdo-become-" + randHex() + "]"}
	// The script runs in the background of a shell that, when sudo passes
	// it a SIGTERM (a cancelled Exec), kills the script's whole process
	// group, which the login user cannot signal itself. The shell exits
	// normally with the script's status (128+n after a signal).
	inner := "printf %s " + w.ok + " >&2\n" +
		"trap 'kill -KILL 0' TERM HUP INT\n" +
		"exec 3<&0\n" +
		"/bin/sh -c " + conn.Quote(script) + " 0<&3 3<&- &\n" +
		"wait $! 2>/dev/null"
	sh := "/bin/sh -c " + conn.Quote(inner)
	flags := ""
	if c.o.Flags != "" {
		flags = " " + c.o.Flags
	}
	switch c.o.Method {
	case "sudo":
		if nopass || c.o.Password == "" {
			w.line = c.o.Exe + " -H -n -u " + conn.Quote(c.o.User) + flags + " " + sh
		} else {
			// -k: always prompt, so the password line is always consumed.
			w.line = c.o.Exe + " -H -k -S -p " + conn.Quote(w.prompt) + " -u " + conn.Quote(c.o.User) + flags + " " + sh
			w.withPwd = true
		}
	case "su":
		if !nopass && c.o.Password != "" {
			return w, fmt.Errorf("%w: su with a password needs a terminal, which is not supported: use sudo, or su from root", ErrBecome)
		}
		w.line = c.o.Exe + flags + " - " + conn.Quote(c.o.User) + " -c " + conn.Quote(sh)
	case "doas":
		if !nopass && c.o.Password != "" {
			return w, fmt.Errorf("%w: doas with a password needs a terminal, which is not supported: use a nopass rule or sudo", ErrBecome)
		}
		w.line = c.o.Exe + " -n -u " + conn.Quote(c.o.User) + flags + " " + sh
	default:
		return w, fmt.Errorf("%w: unknown become method %q (want sudo, su or doas)", ErrBecome, c.o.Method)
	}
	return w, nil
}

// check runs once: it finds out whether a password is needed and whether
// escalation works at all, within o.Timeout.
func (c *Conn) check(ctx context.Context) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ready {
		return c.nopass, nil
	}
	tctx, cancel := context.WithTimeout(ctx, c.o.Timeout)
	defer cancel()
	if c.o.Password == "" {
		// The first become shell is the check: when it starts,
		// escalation works, and no command of its own is needed.
		ok, err := c.checkShell(tctx)
		if err != nil {
			return false, c.timeout(ctx, tctx, err)
		}
		if ok {
			c.ready, c.nopass = true, true
			return true, nil
		}
	}
	nopass := true
	if c.o.Method != "sudo" && c.o.Password != "" {
		// su and doas cannot take a password without a terminal: only
		// escalation that needs none (su from root, a nopass rule) works.
		res, err := c.run(tctx, "true", nil, true)
		if err != nil && !errors.Is(err, ErrBecome) {
			return false, c.timeout(ctx, tctx, err)
		}
		if err != nil || res.RC != 0 {
			return false, fmt.Errorf("%w: %s with a password needs a terminal, which is not supported: use sudo, or %s without a password", ErrBecome, c.o.Method, c.o.Method)
		}
		c.ready, c.nopass = true, true
		return true, nil
	}
	if c.o.Method == "sudo" && c.o.Password != "" {
		// Does sudo need the password at all? If not, never send it.
		res, err := c.inner.Exec(tctx, conn.Command{Script: c.o.Exe + " -k -n -u " + conn.Quote(c.o.User) + " true"})
		if err != nil {
			return false, c.timeout(ctx, tctx, err)
		}
		nopass = res.RC == 0
	}
	res, err := c.run(tctx, "true", nil, nopass)
	if err != nil {
		return false, c.timeout(ctx, tctx, err)
	}
	if res.RC != 0 {
		return false, fmt.Errorf("%w: %s: check as %s: exit %d: %s", ErrBecome, c.o.Method, c.o.User, res.RC, bytes.TrimSpace(res.Stderr))
	}
	c.ready, c.nopass = true, nopass
	return nopass, nil
}

// checkShell starts the become user's first long-lived shell as the
// check, when commands run in such shells and no password is involved.
// ok is false when no shell could start for another reason than refused
// escalation (then the check runs a command of its own); err is the
// refusal, or a transport error. c.mu is held.
func (c *Conn) checkShell(ctx context.Context) (ok bool, err error) {
	if c.shells != nil {
		return false, nil
	}
	pool := c.newPool(true)
	if pool == nil {
		return false, nil
	}
	res, err := pool.Exec(ctx, conn.Command{Script: "true"})
	var se *conn.ShellStartError
	switch {
	case err == nil && res.RC == 0:
		c.shells = pool
		return true, nil
	case err == nil:
		pool.Close()
		return false, fmt.Errorf("%w: %s: check as %s: exit %d: %s", ErrBecome, c.o.Method, c.o.User, res.RC, bytes.TrimSpace(res.Stderr))
	case errors.As(err, &se) && se.Stderr != "":
		pool.Close()
		return false, c.refused(se.Stderr, -1)
	case errors.Is(err, conn.ErrNoShell):
		pool.Close()
		return false, nil
	}
	pool.Close()
	return false, err
}

// timeout explains an error of the check.
func (c *Conn) timeout(ctx, tctx context.Context, err error) error {
	if ctx.Err() == nil && tctx.Err() != nil {
		return fmt.Errorf("%w: %s: timed out after %s waiting for privilege escalation prompt", ErrBecome, c.o.Method, c.o.Timeout)
	}
	return err
}

// run runs script as the become user with stdin, and sorts out the
// escalation's own output from the script's.
func (c *Conn) run(ctx context.Context, script string, stdin []byte, nopass bool) (conn.ExecResult, error) {
	w, err := c.command(script, nopass)
	if err != nil {
		return conn.ExecResult{}, err
	}
	in := stdin
	if w.withPwd {
		in = append([]byte(c.o.Password+"\n"), stdin...)
	}
	res, err := c.inner.Exec(ctx, conn.Command{Script: w.line, Stdin: in})
	if err != nil {
		return res, err
	}
	return c.sortOut(res, w)
}

// sortOut strips the escalation's chatter from stderr, or turns it into an
// ErrBecome error when the become shell never started.
func (c *Conn) sortOut(res conn.ExecResult, w wrapped) (conn.ExecResult, error) {
	if i := bytes.Index(res.Stderr, []byte(w.ok)); i >= 0 {
		res.Stderr = res.Stderr[i+len(w.ok):]
		return res, nil
	}
	return res, c.refused(strings.ReplaceAll(string(res.Stderr), w.prompt, ""), res.RC)
}

// refused explains why the become program did not start the become
// user's shell, from what it printed on stderr and its exit status (-1:
// unknown).
func (c *Conn) refused(stderr string, rc int) error {
	msg := strings.TrimSpace(stderr)
	if c.o.Password != "" {
		msg = strings.ReplaceAll(msg, c.o.Password, "********")
	}
	switch {
	case strings.Contains(msg, "incorrect password") || strings.Contains(msg, "Sorry, try again") || strings.Contains(msg, "Authentication failure"):
		return fmt.Errorf("%w: %s: incorrect password for becoming %s", ErrBecome, c.o.Method, c.o.User)
	case strings.Contains(msg, "password is required"):
		return fmt.Errorf("%w: %s: a password is required to become %s, and none was given", ErrBecome, c.o.Method, c.o.User)
	case msg == "":
		msg = "no output"
	}
	if rc < 0 {
		return fmt.Errorf("%w: %s: cannot become %s: %s", ErrBecome, c.o.Method, c.o.User, msg)
	}
	return fmt.Errorf("%w: %s: cannot become %s (exit %d): %s", ErrBecome, c.o.Method, c.o.User, rc, msg)
}

// Exec runs cmd as the become user; Dir and Env apply inside the become
// shell.
func (c *Conn) Exec(ctx context.Context, cmd conn.Command) (conn.ExecResult, error) {
	nopass, err := c.check(ctx)
	if err != nil {
		return conn.ExecResult{}, err
	}
	if sh := c.shellPool(nopass); sh != nil {
		res, err := sh.Exec(ctx, cmd)
		if !errors.Is(err, conn.ErrNoShell) {
			return res, err
		}
	}
	script, err := cmd.Text()
	if err != nil {
		return conn.ExecResult{}, err
	}
	return c.run(ctx, script, cmd.Stdin, nopass)
}

// shellPool returns the become user's long-lived shells, set up on first
// use after the check passed, or nil when commands run one sudo each.
func (c *Conn) shellPool(nopass bool) conn.Shells {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.shells == nil {
		c.shells = c.newPool(nopass)
	}
	return c.shells
}

// newPool returns a new pool of the become user's shells, or nil when
// the inner connection keeps none.
func (c *Conn) newPool(nopass bool) conn.Shells {
	st, ok := c.inner.(conn.ShellStarter)
	if !ok || c.o.PerCommand {
		return nil
	}
	line, preamble, err := c.shellCommand(nopass, "")
	if err != nil {
		return nil
	}
	return st.NewShells(conn.ShellOptions{
		Command:      line,
		Preamble:     preamble,
		StartTimeout: c.o.Timeout,
		// The login user may not signal the become user's processes.
		Kill: func(ctx context.Context, script string) error {
			res, err := c.run(ctx, script, nil, nopass)
			if err == nil && res.RC != 0 {
				err = fmt.Errorf("kill as %s: exit %d: %s", c.o.User, res.RC, bytes.TrimSpace(res.Stderr))
			}
			return err
		},
	})
}

// shellCommand returns the command line that starts a shell of the
// become user, running script or, when script is empty, reading its
// script from stdin; and what to write to its stdin first.
func (c *Conn) shellCommand(nopass bool, script string) (string, []byte, error) {
	flags := ""
	if c.o.Flags != "" {
		flags = " " + c.o.Flags
	}
	sh := "/bin/sh"
	if script != "" {
		sh = "/bin/sh -c " + conn.Quote(script)
	}
	switch c.o.Method {
	case "sudo":
		if nopass || c.o.Password == "" {
			return c.o.Exe + " -H -n -u " + conn.Quote(c.o.User) + flags + " " + sh, nil, nil
		}
		// -k: always prompt, so that the password line is always consumed.
		return c.o.Exe + " -H -k -S -p " + conn.Quote("[mdo-become-"+randHex()+"]") + " -u " + conn.Quote(c.o.User) + flags + " " + sh,
			[]byte(c.o.Password + "\n"), nil
	case "su":
		return c.o.Exe + flags + " - " + conn.Quote(c.o.User) + " -c " + conn.Quote(sh), nil, nil
	case "doas":
		return c.o.Exe + " -n -u " + conn.Quote(c.o.User) + flags + " " + sh, nil, nil
	}
	return "", nil, fmt.Errorf("%w: unknown become method %q", ErrBecome, c.o.Method)
}

// notExistRC is the exit code the Get and Stat scripts use for a missing
// path.
const notExistRC = 44

const missingCheck = `if [ ! -e "$f" ] && [ ! -L "$f" ]; then exit 44; fi
`

// shellPutMax is the largest file Put sends through a become shell; a
// larger one is uploaded with the inner connection first.
const shellPutMax = 4 << 20

// putShell writes r to dst as the become user with shell commands: into
// a temporary name in dst's directory, then sets its mode and renames it
// over dst. With long-lived shells, a file up to 4 MiB is the stdin of that one command; otherwise
// it is uploaded with the inner connection to a private temporary file
// first and piped to the command under a sudo of its own.
func (c *Conn) putShell(ctx context.Context, r io.Reader, dst string, perm fs.FileMode) error {
	nopass, err := c.check(ctx)
	if err != nil {
		return fmt.Errorf("put %s: %w", dst, err)
	}
	inner := fmt.Sprintf(`d=%s; f=%s
t=$(mktemp "$d/.mdo-tmp-XXXXXXXX") || exit 1
trap 'rm -f -- "$t"' EXIT
cat > "$t" && chmod %s "$t" && mv -fT -- "$t" "$f"
`, conn.Quote(path.Dir(dst)), conn.Quote(dst), strconv.FormatUint(uint64(conn.UnixPerm(perm)), 8))
	if sh := c.shellPool(nopass); sh != nil {
		// A file of modest size goes as the stdin of one command in a
		// become shell: one round trip, no upload, no sudo.
		data, err := io.ReadAll(io.LimitReader(r, shellPutMax+1))
		if err != nil {
			return fmt.Errorf("put %s: read: %w", dst, err)
		}
		if len(data) <= shellPutMax {
			res, err := sh.Exec(ctx, conn.Command{Script: inner, Stdin: data})
			switch {
			case err == nil && res.RC != 0:
				return fmt.Errorf("put %s as %s: exit %d: %s", dst, c.o.User, res.RC, bytes.TrimSpace(res.Stderr))
			case err == nil:
				return nil
			case !errors.Is(err, conn.ErrNoShell):
				return fmt.Errorf("put %s: %w", dst, err)
			}
		}
		r = io.MultiReader(bytes.NewReader(data), r)
	}
	src := "/tmp/.mdo-become-" + randHex()
	if err := c.inner.Put(ctx, r, src, 0o600); err != nil {
		return fmt.Errorf("put %s: upload: %w", dst, err)
	}
	w, err := c.command(inner, nopass)
	if err != nil {
		return fmt.Errorf("put %s: %w", dst, err)
	}
	// The login user reads the upload and pipes it to the become shell
	// (which may not be able to read the login user's private file).
	var outer string
	var stdin []byte
	if w.withPwd {
		outer = fmt.Sprintf("IFS= read -r p || p=\n{ printf '%%s\\n' \"$p\"; cat -- %s; } | %s\nrc=$?\nrm -f -- %s\nexit $rc", conn.Quote(src), w.line, conn.Quote(src))
		stdin = []byte(c.o.Password + "\n")
	} else {
		outer = fmt.Sprintf("%s < %s\nrc=$?\nrm -f -- %s\nexit $rc", w.line, conn.Quote(src), conn.Quote(src))
	}
	res, err := c.inner.Exec(ctx, conn.Command{Script: outer, Stdin: stdin})
	if err != nil {
		// Best effort: do not leave the upload behind.
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, _ = c.inner.Exec(cctx, conn.Command{Script: "rm -f -- " + conn.Quote(src)})
		cancel()
		return fmt.Errorf("put %s: %w", dst, err)
	}
	res, err = c.sortOut(res, w)
	if err != nil {
		return fmt.Errorf("put %s: %w", dst, err)
	}
	if res.RC != 0 {
		return fmt.Errorf("put %s as %s: exit %d: %s", dst, c.o.User, res.RC, bytes.TrimSpace(res.Stderr))
	}
	return nil
}

// getShell copies src, read as the become user with cat, into w.
func (c *Conn) getShell(ctx context.Context, src string, w io.Writer) error {
	res, err := c.Exec(ctx, conn.Command{Script: "f=" + conn.Quote(src) + "\n" + missingCheck + `exec cat -- "$f"`})
	if err != nil {
		return fmt.Errorf("get %s: %w", src, err)
	}
	switch res.RC {
	case 0:
	case notExistRC:
		return fmt.Errorf("get %s: %w", src, fs.ErrNotExist)
	default:
		return fmt.Errorf("get %s as %s: exit %d: %s", src, c.o.User, res.RC, bytes.TrimSpace(res.Stderr))
	}
	if _, err := w.Write(res.Stdout); err != nil {
		return fmt.Errorf("get %s: %w", src, err)
	}
	return nil
}

// statShell describes p as the become user sees it, without following a
// final symlink (GNU stat).
func (c *Conn) statShell(ctx context.Context, p string) (conn.FileInfo, error) {
	res, err := c.Exec(ctx, conn.Command{Script: "f=" + conn.Quote(p) + "\n" + missingCheck + `exec stat -c '%f %s %.9Y %u %g' -- "$f"`})
	if err != nil {
		return conn.FileInfo{}, fmt.Errorf("stat %s: %w", p, err)
	}
	switch res.RC {
	case 0:
	case notExistRC:
		return conn.FileInfo{}, fmt.Errorf("stat %s: %w", p, fs.ErrNotExist)
	default:
		return conn.FileInfo{}, fmt.Errorf("stat %s as %s: exit %d: %s", p, c.o.User, res.RC, bytes.TrimSpace(res.Stderr))
	}
	fi, err := parseStat(p, string(res.Stdout))
	if err != nil {
		return conn.FileInfo{}, fmt.Errorf("stat %s: %w", p, err)
	}
	return fi, nil
}

// parseStat reads `stat -c '%f %s %.9Y %u %g'` output.
func parseStat(p, out string) (conn.FileInfo, error) {
	f := strings.Fields(out)
	if len(f) != 5 {
		return conn.FileInfo{}, fmt.Errorf("unexpected stat output %q", out)
	}
	raw, err1 := strconv.ParseUint(f[0], 16, 32)
	size, err2 := strconv.ParseInt(f[1], 10, 64)
	uid, err3 := strconv.Atoi(f[3])
	gid, err4 := strconv.Atoi(f[4])
	sec, frac, _ := strings.Cut(f[2], ".")
	s, err5 := strconv.ParseInt(sec, 10, 64)
	if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
		return conn.FileInfo{}, fmt.Errorf("unexpected stat output %q: %w", out, err)
	}
	ns, _ := strconv.ParseInt((frac + "000000000")[:9], 10, 64)
	return conn.FileInfo{Path: p, Mode: fileMode(uint32(raw)), Size: size, ModTime: time.Unix(s, ns), UID: uid, GID: gid}, nil
}

// fileMode converts a raw st_mode to an fs.FileMode.
func fileMode(m uint32) fs.FileMode {
	mode := conn.PermMode(m)
	switch m & 0o170000 {
	case 0o040000:
		mode |= fs.ModeDir
	case 0o120000:
		mode |= fs.ModeSymlink
	case 0o060000:
		mode |= fs.ModeDevice
	case 0o020000:
		mode |= fs.ModeDevice | fs.ModeCharDevice
	case 0o010000:
		mode |= fs.ModeNamedPipe
	case 0o140000:
		mode |= fs.ModeSocket
	}
	return mode
}

// Close closes the become user's shells and SFTP server, and the inner
// connection.
func (c *Conn) Close() error {
	c.mu.Lock()
	sh := c.shells
	c.mu.Unlock()
	if sh != nil {
		sh.Close()
	}
	c.closeFiles(nil)
	return c.inner.Close()
}
