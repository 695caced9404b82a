package sshtest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// Accounts the harness creates on the machine while test hosts run. Test
// hosts share /etc with the machine (except in RootOverlay mode, where they
// are written into the host's private root too), so these are real machine
// accounts: they exist only while some test host on the machine runs, with
// a password drawn at random when they are created, and they are removed
// when the last cluster stops, or on the next Start after an interrupted
// run. Every account carries accountPrefix and accountMark (its GECOS
// field); the harness never touches an account without both.
const (
	// SudoUser may log in with the client key or Cluster.SudoPassword and
	// may run anything with sudo after giving that password.
	SudoUser = accountPrefix + "sudo"
	// NoPassUser may log in with the client key and has NOPASSWD sudo.
	NoPassUser = accountPrefix + "np"
	// NoSudoUser may log in with the client key and is not in sudoers.
	NoSudoUser = accountPrefix + "nosudo"

	accountPrefix = "mdo-sshtest-"
	accountMark   = "mdo-sshtest harness account"
	// sudoersFile grants SudoUser password sudo and NoPassUser NOPASSWD sudo.
	sudoersFile   = "/etc/sudoers.d/mdo-sshtest-accounts"
	sudoersHeader = "# written by mdo-play's sshtest harness; removed when its test hosts stop\n"
	// accountsState records the current accounts' password (root only).
	accountsState = "accounts.state"
)

// accountNames lists every account the harness creates.
func accountNames() []string { return []string{SudoUser, NoPassUser, NoSudoUser} }

// sudoersText is the content of sudoersFile.
func sudoersText() string {
	return sudoersHeader +
		SudoUser + " ALL=(ALL:ALL) ALL\n" +
		NoPassUser + " ALL=(ALL:ALL) NOPASSWD: ALL\n"
}

// accounts is one cluster's hold on the machine's harness accounts. Every
// holder keeps a shared flock on lockDir/accounts.inuse through its own
// open file; the kernel drops it when the holder's process dies, so a
// holder that finds no other lock knows that any accounts left on the
// machine are from an interrupted run.
type accounts struct {
	inuse    *os.File
	password string
}

// acquireAccounts creates the harness accounts with a fresh random password
// when no other cluster on the machine holds them (removing what an
// interrupted run left first), or joins the current holders and reads their
// password.
func acquireAccounts(ctx context.Context, dir string) (*accounts, error) {
	unlock, err := lockUsers(dir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	f, err := os.OpenFile(filepath.Join(dir, "accounts.inuse"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("harness accounts: %w", err)
	}
	a := &accounts{inuse: f}
	if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
		// Nobody else holds the accounts: start a new generation.
		if err := removeAccounts(ctx, dir); err != nil {
			f.Close()
			return nil, err
		}
		a.password = "Mdo-" + rand.Text()
		if err := createAccounts(ctx, a.password); err != nil {
			_ = removeAccounts(ctx, dir)
			f.Close()
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, accountsState), []byte(a.password+"\n"), 0o600); err != nil {
			_ = removeAccounts(ctx, dir)
			f.Close()
			return nil, fmt.Errorf("harness accounts: %w", err)
		}
	} else {
		b, err := os.ReadFile(filepath.Join(dir, accountsState))
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("harness accounts held by another run but unreadable: %w", err)
		}
		a.password = strings.TrimSpace(string(b))
	}
	// Converting to a shared lock is not atomic, but users.lock keeps
	// every other Start and release out meanwhile.
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH); err != nil {
		f.Close()
		return nil, fmt.Errorf("harness accounts: lock: %w", err)
	}
	return a, nil
}

// release drops a's hold and removes the accounts when it was the last.
func (a *accounts) release(ctx context.Context, dir string) error {
	if a == nil || a.inuse == nil {
		return nil
	}
	unlock, err := lockUsers(dir)
	if err != nil {
		return err
	}
	defer unlock()
	defer func() { a.inuse.Close(); a.inuse = nil }()
	if syscall.Flock(int(a.inuse.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		return nil // another cluster still uses them
	}
	return removeAccounts(ctx, dir)
}

// lockUsers takes the machine-wide lock that serialises account changes.
func lockUsers(dir string) (func(), error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("harness accounts: %w", err)
	}
	lf, err := os.OpenFile(filepath.Join(dir, "users.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("harness accounts: %w", err)
	}
	if err := syscall.Flock(int(lf.Fd()), syscall.LOCK_EX); err != nil {
		lf.Close()
		return nil, fmt.Errorf("harness accounts: lock: %w", err)
	}
	return func() { lf.Close() }, nil
}

// createAccounts adds every harness account with password (sshd without
// PAM refuses locked accounts even for keys) and writes sudoersFile.
func createAccounts(ctx context.Context, password string) error {
	var chp bytes.Buffer
	for _, u := range accountNames() {
		if out, err := exec.CommandContext(ctx, "useradd", "-m", "-s", "/bin/bash", "-c", accountMark, u).CombinedOutput(); err != nil {
			return fmt.Errorf("harness accounts: useradd %s: %w: %s", u, err, bytes.TrimSpace(out))
		}
		fmt.Fprintf(&chp, "%s:%s\n", u, password)
	}
	cmd := exec.CommandContext(ctx, "chpasswd")
	cmd.Stdin = &chp
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("harness accounts: chpasswd: %w: %s", err, bytes.TrimSpace(out))
	}
	tmp := sudoersFile + ".mdo-tmp"
	if err := os.WriteFile(tmp, []byte(sudoersText()), 0o440); err != nil {
		return fmt.Errorf("harness accounts: write sudoers: %w", err)
	}
	if err := os.Rename(tmp, sudoersFile); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("harness accounts: write sudoers: %w", err)
	}
	return nil
}

// removeAccounts deletes the harness's accounts (with their homes), its
// sudoers file and the state file. An account of one of those names that
// the harness did not make (no accountMark) is an error and stays.
func removeAccounts(ctx context.Context, dir string) error {
	var errs []error
	if b, err := os.ReadFile(sudoersFile); err == nil {
		if strings.HasPrefix(string(b), sudoersHeader) {
			errs = append(errs, os.Remove(sudoersFile))
		} else {
			errs = append(errs, fmt.Errorf("%s was not written by the harness: left alone", sudoersFile))
		}
	}
	gecos, err := passwdGECOS()
	if err != nil {
		return fmt.Errorf("harness accounts: %w", err)
	}
	for _, u := range accountNames() {
		g, ok := gecos[u]
		if !ok {
			continue
		}
		if g != accountMark {
			errs = append(errs, fmt.Errorf("account %s exists but was not made by the harness (GECOS %q): left alone", u, g))
			continue
		}
		// -f: remove even if a process of the user survived (-r: and its home).
		if out, err := exec.CommandContext(ctx, "userdel", "-f", "-r", u).CombinedOutput(); err != nil {
			// userdel exits 12 when only the mail spool was missing.
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 12 {
				errs = append(errs, fmt.Errorf("userdel %s: %w: %s", u, err, bytes.TrimSpace(out)))
			}
		}
	}
	if err := os.Remove(filepath.Join(dir, accountsState)); err != nil && !os.IsNotExist(err) {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("harness accounts: remove: %w", err)
	}
	return nil
}

// passwdGECOS maps every account in /etc/passwd to its GECOS field.
func passwdGECOS() (map[string]string, error) {
	f, err := os.Open("/etc/passwd")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) >= 5 {
			m[fields[0]] = fields[4]
		}
	}
	return m, sc.Err()
}
