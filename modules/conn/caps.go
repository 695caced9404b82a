package conn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os/user"
	"time"
)

// Optional capabilities. A connection may implement these on top of Conn;
// callers find them with a type assertion. Which implementation and which
// wrapper has which is part of the contract, checked by the conformance
// suite (conntest.Run's capability list):
//
//	              FileWriter       ShellStarter             ProcessStarter
//	ssh.Client    yes              yes (nil Shells in       yes
//	                               SessionPerCommand mode)
//	local.Conn    no               no                       no
//	become.Conn   yes (over an     no                       no
//	              SFTP server run
//	              as the become
//	              user; else
//	              ErrUnsupported)
//	WithEnv(c)    as c             as c (the shells get     no (see below)
//	                               the environment)
//
// A wrapper that keeps a capability of the connection it wraps passes it
// through: it must never silently drop one (WithEnv shows how). The one
// exception is ProcessStarter, which serves connection wrappers (become)
// that wrap the connection itself; the environment: wrapper comes last
// and has no use for it.

// FileWriter is a connection that writes a file with its mode and owner
// without running a command on the target (over SFTP). The file belongs to
// the user commands run as (LoginUser) unless uid says otherwise. A
// connection that cannot do it at the moment (become, when no SFTP server
// can be started as the become user) returns an error wrapping
// errors.ErrUnsupported from both methods, having changed nothing: the
// caller then writes another way. (IDNames, which needs no file transfer,
// always answers.)
type FileWriter interface {
	// PutFile writes r to dst atomically as Put does, then gives it owner
	// uid and group gid (-1 leaves one as a new file has it; both -1: no
	// chown) and mode perm, and returns the new file's state (UID, GID,
	// Mode, Size). On failure dst is untouched.
	PutFile(ctx context.Context, r io.Reader, dst string, perm fs.FileMode, uid, gid int) (FileInfo, error)
	// LoginUser returns the user commands run as and its primary group,
	// as the target names them.
	LoginUser(ctx context.Context) (*user.User, *user.Group, error)
	// IDNames names user and group ids as the target's name service
	// does (an id without a name is missing from the maps), remembering
	// answers while /etc/passwd and /etc/group are unchanged
	// (NameCache). Names belong to the host, not to a user: it answers
	// even where PutFile and LoginUser say errors.ErrUnsupported.
	IDNames(ctx context.Context, uids, gids []int) (users, groups map[int]string, err error)
}

// ProcessStarter is a connection that starts a long-lived command and
// hands the caller its standard input and output as they are, without
// framing: e.g. an SFTP server run as the become user.
type ProcessStarter interface {
	// StartProcess runs cmdline with the login user's shell in a session
	// of its own, held until the process is closed, and writes preamble
	// to its standard input first (sudo's password line). It wraps
	// ErrNoShell when no session is free for it.
	StartProcess(ctx context.Context, cmdline string, preamble []byte) (*Process, error)
}

// Process is a command started by a ProcessStarter.
type Process struct {
	Stdin  io.WriteCloser
	Stdout io.Reader
	// Stderr returns the end of what the command wrote on standard error
	// so far (at most 4 KiB).
	Stderr func() string
	// Close ends the command and frees its session; it is safe to call
	// more than once.
	Close func() error
}

// ShellStarter is a connection that can keep long-lived shells started by
// a command line of the caller's, such as the become user's shells
// (`sudo -u app /bin/sh`).
type ShellStarter interface {
	// NewShells returns a pool of shells started as o says, or nil when
	// the connection runs every command in a session of its own. Shells
	// start on demand; the caller closes the pool.
	NewShells(o ShellOptions) Shells
}

// Shells is a pool of long-lived shells on one connection. Exec runs a
// command as Conn.Exec does, in one of the shells; it wraps ErrNoShell
// when no shell could be started (the command did not run: run it another
// way). Close closes the shells (a busy one when its command ends); it is
// safe to call more than once.
type Shells interface {
	Exec(ctx context.Context, cmd Command) (ExecResult, error)
	Close() error
}

// ErrNoShell is wrapped by Shells.Exec when no long-lived shell could be
// started: the command did not run.
var ErrNoShell = errors.New("no persistent shell")

// ShellStartError is wrapped (with ErrNoShell) by Shells.Exec when the
// shell command ran but no shell came up: Stderr is what the command said
// before it ended (a become program's refusal), with the preamble masked.
type ShellStartError struct {
	Err    error
	Stderr string
}

func (e *ShellStartError) Error() string { return fmt.Sprintf("%v (stderr: %q)", e.Err, e.Stderr) }
func (e *ShellStartError) Unwrap() error { return e.Err }

// ShellOptions says how the long-lived shells of a Shells pool start.
type ShellOptions struct {
	// Command starts a POSIX shell that reads its script from standard
	// input, run by the login user's shell: e.g. "sudo -u app /bin/sh".
	// Empty means /bin/sh.
	Command string
	// Preamble is written to the shell's standard input before anything
	// else (sudo's password line). It never appears in errors.
	Preamble []byte
	// Kill runs script, which ends a cancelled command's processes, with
	// the rights of the shell's user. Nil means the login user.
	Kill func(ctx context.Context, script string) error
	// Max is the most shells kept at once; default 4.
	Max int
	// StartTimeout bounds a shell's start; default 10s.
	StartTimeout time.Duration
}
