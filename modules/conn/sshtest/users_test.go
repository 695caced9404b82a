package sshtest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// helperEnv makes the test binary run TestHelperStartAndWait as a child
// that starts a cluster in the directory it names and waits to be killed.
const helperEnv = "MDO_SSHTEST_HELPER"

// TestHelperStartAndWait is not a test: run by TestAccountsLifecycle as a
// child process, it starts a one-host cluster, prints the password and
// blocks until it is killed, like a test run interrupted by SIGKILL.
func TestHelperStartAndWait(t *testing.T) {
	dir := os.Getenv(helperEnv)
	if dir == "" {
		t.Skip("helper process for TestAccountsLifecycle")
	}
	c, err := Start(context.Background(), Options{N: 1, Dir: dir})
	if err != nil {
		fmt.Println("error", err)
		return
	}
	fmt.Println("started", c.SudoPassword())
	select {}
}

// accountsHeldElsewhere reports whether a cluster of another process holds
// the harness accounts now (then they must not be removed yet).
func accountsHeldElsewhere(t *testing.T) bool {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(lockDir, "accounts.inuse"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil
}

// machineAccounts returns the harness accounts present in /etc/passwd, and
// whether the sudoers file exists.
func machineAccounts(t *testing.T) ([]string, bool) {
	t.Helper()
	gecos, err := passwdGECOS()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, u := range accountNames() {
		if _, ok := gecos[u]; ok {
			got = append(got, u)
		}
	}
	_, err = os.Stat(sudoersFile)
	return got, err == nil
}

// loginWithPassword reports whether user may log in to h with password.
func loginWithPassword(c *Cluster, h *Host, user, password string) error {
	cl, err := ssh.Dial("tcp", h.HostPort(), &ssh.ClientConfig{
		User: user, Auth: []ssh.AuthMethod{ssh.Password(password)},
		HostKeyCallback: ssh.FixedHostKey(h.HostKey), Timeout: 5 * time.Second,
	})
	if err != nil {
		return err
	}
	return cl.Close()
}

// TestAccountsLifecycle: the accounts exist, marked, with a random
// password, only while a cluster runs; they are removed when it stops, and
// what a killed run left behind is removed (and the password changed) by
// the next Start.
func TestAccountsLifecycle(t *testing.T) {
	if err := Available(""); err != nil {
		unavailable(t, err)
	}
	if accountsHeldElsewhere(t) {
		t.Skip("another process on this machine holds the harness accounts")
	}

	// A run killed with SIGKILL leaves its accounts behind.
	child := exec.Command(os.Args[0], "-test.run=^TestHelperStartAndWait$", "-test.count=1")
	child.Env = append(os.Environ(), helperEnv+"="+t.TempDir())
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "started ") {
		child.Process.Kill()
		child.Wait()
		t.Fatalf("helper: %q %v", line, err)
	}
	oldPassword := strings.TrimSpace(strings.TrimPrefix(line, "started "))
	child.Process.Kill()
	child.Wait()
	if got, sudoers := machineAccounts(t); len(got) != 3 || !sudoers {
		t.Fatalf("after a killed run: accounts %v, sudoers %v; want all three left behind (the case to clean up)", got, sudoers)
	}

	c := StartT(t, 1)
	if got, sudoers := machineAccounts(t); len(got) != 3 || !sudoers {
		t.Fatalf("while running: accounts %v, sudoers %v", got, sudoers)
	}
	pw := c.SudoPassword()
	if len(pw) < 20 || pw == oldPassword || pw == "mdo-test-Passw0rd" {
		t.Errorf("password %q: want a fresh random one (the killed run had %q)", pw, oldPassword)
	}
	h := c.Hosts[0]
	if err := loginWithPassword(c, h, SudoUser, pw); err != nil {
		t.Errorf("login with the new password: %v", err)
	}
	if err := loginWithPassword(c, h, SudoUser, oldPassword); err == nil {
		t.Errorf("the killed run's password still logs in")
	}
	if got := run(t, c, h, "root", "getent passwd "+SudoUser+" | cut -d: -f5"); strings.TrimSpace(got) != accountMark {
		t.Errorf("GECOS %q, want the harness mark", got)
	}
	if got := run(t, c, h, NoSudoUser, "sudo -n true 2>&1 || echo refused"); !strings.Contains(got, "refused") {
		t.Errorf("%s ran sudo: %q", NoSudoUser, got)
	}

	// A second cluster in the same run shares the accounts and password,
	// and stopping it first leaves them for the other one.
	c2 := StartT(t, 1)
	if c2.SudoPassword() != pw {
		t.Errorf("second cluster's password %q, want the shared %q", c2.SudoPassword(), pw)
	}
	if err := c2.Stop(); err != nil {
		t.Fatal(err)
	}
	if got, _ := machineAccounts(t); len(got) != 3 {
		t.Fatalf("after stopping one of two clusters: accounts %v, want them kept", got)
	}
	if err := loginWithPassword(c, h, SudoUser, pw); err != nil {
		t.Errorf("login after the other cluster stopped: %v", err)
	}

	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if accountsHeldElsewhere(t) {
		t.Skip("another process started test hosts meanwhile; cannot check the removal")
	}
	if got, sudoers := machineAccounts(t); len(got) != 0 || sudoers {
		t.Errorf("after the last cluster stopped: accounts %v, sudoers %v; want none", got, sudoers)
	}
	for _, u := range accountNames() {
		if _, err := os.Stat("/home/" + u); err == nil {
			t.Errorf("home /home/%s left behind", u)
		}
	}
	if _, err := os.Stat(filepath.Join(lockDir, accountsState)); err == nil {
		t.Errorf("state file left behind")
	}
}

// TestForeignAccountLeftAlone: an account with a harness name that the
// harness did not make is neither used nor deleted.
func TestForeignAccountLeftAlone(t *testing.T) {
	if err := Available(""); err != nil {
		unavailable(t, err)
	}
	if accountsHeldElsewhere(t) {
		t.Skip("another process on this machine holds the harness accounts")
	}
	if out, err := exec.Command("useradd", "-M", "-c", "someone else", NoSudoUser).CombinedOutput(); err != nil {
		t.Fatalf("useradd: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("userdel", "-f", NoSudoUser).Run() })
	_, err := Start(context.Background(), Options{N: 1, Dir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "not made by the harness") {
		t.Fatalf("Start with a foreign %s: %v, want a refusal", NoSudoUser, err)
	}
	gecos, _ := passwdGECOS()
	if gecos[NoSudoUser] != "someone else" {
		t.Errorf("the foreign account was changed or removed: GECOS %q", gecos[NoSudoUser])
	}
	if got, sudoers := machineAccounts(t); len(got) != 1 || sudoers {
		t.Errorf("after the refusal: accounts %v, sudoers %v; want only the foreign one", got, sudoers)
	}
}
