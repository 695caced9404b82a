package sshtest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
)

// sudoersFile grants SudoUser password sudo and NoPassUser NOPASSWD sudo.
const sudoersFile = "/etc/sudoers.d/mdo-sshtest"

const sudoers = "# written by mdo-play's sshtest harness\n" +
	SudoUser + " ALL=(ALL:ALL) ALL\n" +
	NoPassUser + " ALL=(ALL:ALL) NOPASSWD: ALL\n"

// ensureUsers creates SudoUser and NoPassUser if missing, sets their
// passwords (sshd without PAM refuses locked accounts even for keys) and
// installs the sudoers drop-in. A machine-wide lock serialises parallel
// Start calls.
func ensureUsers(ctx context.Context) error {
	if err := os.MkdirAll(lockDir, 0o755); err != nil {
		return err
	}
	lf, err := os.OpenFile(filepath.Join(lockDir, "users.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return err
	}
	defer lf.Close()
	if err := syscall.Flock(int(lf.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("lock users: %w", err)
	}
	for _, u := range []string{SudoUser, NoPassUser} {
		if exec.CommandContext(ctx, "id", "-u", u).Run() == nil {
			continue
		}
		if out, err := exec.CommandContext(ctx, "useradd", "-m", "-s", "/bin/bash", u).CombinedOutput(); err != nil {
			return fmt.Errorf("useradd %s: %w: %s", u, err, bytes.TrimSpace(out))
		}
	}
	chp := exec.CommandContext(ctx, "chpasswd")
	chp.Stdin = bytes.NewBufferString(SudoUser + ":" + SudoPassword + "\n" + NoPassUser + ":" + SudoPassword + "\n")
	if out, err := chp.CombinedOutput(); err != nil {
		return fmt.Errorf("chpasswd: %w: %s", err, bytes.TrimSpace(out))
	}
	if cur, err := os.ReadFile(sudoersFile); err == nil && string(cur) == sudoers {
		return nil
	}
	tmp := sudoersFile + ".mdo-tmp"
	if err := os.WriteFile(tmp, []byte(sudoers), 0o440); err != nil {
		return fmt.Errorf("write sudoers: %w", err)
	}
	if err := os.Rename(tmp, sudoersFile); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write sudoers: %w", err)
	}
	return nil
}
