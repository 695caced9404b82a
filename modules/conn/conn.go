// Package conn defines the connection to one target host that every module
// runs through, so that modules never know whether they run over SSH or locally.
package conn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strings"
	"time"
)

// ErrUnreachable marks errors after which the host can no longer be used:
// the connection could not be opened, or it broke. The engine reports such a
// host as UNREACHABLE and drops it from the play. Implementations wrap it:
// fmt.Errorf("%w: ...", conn.ErrUnreachable).
var ErrUnreachable = errors.New("host unreachable")

// ErrNotExist is returned (wrapped) by Stat and Get when the path does not exist.
var ErrNotExist = fs.ErrNotExist

// Command is one POSIX shell script to run on the target.
type Command struct {
	// Script is run as `/bin/sh -c Script` (after Dir and Env are applied).
	Script string
	// Stdin is fed to the script's standard input; nil means empty input.
	Stdin []byte
	// Env holds extra environment variables for the script.
	Env map[string]string
	// Dir is the working directory; empty means the login user's home (ssh)
	// or the controller's working directory (local).
	Dir string
}

// Text returns the POSIX shell script that applies Dir and Env and then
// runs Script, for connections that run it with /bin/sh. It fails on an
// environment variable name that is not a shell name.
func (cmd Command) Text() (string, error) {
	var b strings.Builder
	if cmd.Dir != "" {
		b.WriteString("cd " + Quote(cmd.Dir) + " || exit 1\n")
	}
	keys := make([]string, 0, len(cmd.Env))
	for k := range cmd.Env {
		if !shellName(k) {
			return "", fmt.Errorf("environment variable name %q is not a valid shell name", k)
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.WriteString("export " + k + "=" + Quote(cmd.Env[k]) + "\n")
	}
	b.WriteString(cmd.Script)
	return b.String(), nil
}

func shellName(k string) bool {
	if k == "" {
		return false
	}
	for i, r := range k {
		if !(r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// ExecResult is what a command left behind. A non-zero RC is not an error.
type ExecResult struct {
	RC     int
	Stdout []byte
	Stderr []byte
}

// FileInfo describes a path on the target, as Stat sees it (lstat: links are
// not followed).
type FileInfo struct {
	Path    string
	Mode    fs.FileMode // permission bits and type bits as in io/fs
	Size    int64
	ModTime time.Time
	UID     int
	GID     int
}

// IsDir reports whether the path is a directory.
func (fi FileInfo) IsDir() bool { return fi.Mode.IsDir() }

// Conn is a connection to one host.
//
// Contract, checked by the conformance suite in conn/conntest:
//   - Every method honours ctx: when ctx is cancelled the call returns promptly
//     with an error wrapping ctx.Err(), and a running command is stopped where
//     the transport allows it.
//   - Methods are safe for concurrent use by several goroutines.
//   - Errors that mean the host can no longer be reached wrap ErrUnreachable;
//     every other error concerns only that one call.
//   - Put writes atomically: the destination is either the old file or the
//     complete new one, never partial (temp file in the same directory, then
//     rename). The file gets exactly mode perm (not filtered by a umask).
//   - Close releases the connection; it is safe to call more than once.
type Conn interface {
	Exec(ctx context.Context, cmd Command) (ExecResult, error)
	Put(ctx context.Context, r io.Reader, dst string, perm fs.FileMode) error
	Get(ctx context.Context, src string, w io.Writer) error
	Stat(ctx context.Context, path string) (FileInfo, error)
	Close() error
}
