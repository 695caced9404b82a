package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
	"gopkg.in/yaml.v3"

	"github.com/mdo-play/mdo-play/playbook/vault"
)

// runVault runs `mdo-play vault ARGS...` in-process the way app.main does
// (argument reordering, error printing, exit codes) and returns its output.
func runVault(t *testing.T, env map[string]string, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	a := &app{ctx: context.Background(), stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb,
		getenv: func(k string) string { return env[k] }}
	cliApp := &cli.App{
		Name:           "mdo-play",
		Writer:         &out,
		ErrWriter:      &errb,
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError:   func(c *cli.Context, err error, isSub bool) error { return withCode(exitUsage, err) },
		Commands:       []*cli.Command{a.vaultCommand()},
	}
	err := cliApp.RunContext(context.Background(), vaultArgs(append([]string{"mdo-play", "vault"}, args...)))
	if err != nil {
		code = exitCodeOf(err)
		fmt.Fprintf(&errb, "ERROR! %v\n", err)
	}
	return out.String(), errb.String(), code
}

type vaultFixture struct {
	dir, pw, pw2, other string
}

func newVaultFixture(t *testing.T) vaultFixture {
	t.Helper()
	dir := t.TempDir()
	f := vaultFixture{dir: dir, pw: filepath.Join(dir, "pw"), pw2: filepath.Join(dir, "pw2"), other: filepath.Join(dir, "other")}
	for p, content := range map[string]string{f.pw: "correct horse\n", f.pw2: "battery staple\n", f.other: "wrong\n"} {
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func (f vaultFixture) write(t *testing.T, name, content string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(f.dir, name)
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func readString(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestVaultEncryptViewDecrypt(t *testing.T) {
	f := newVaultFixture(t)
	file := f.write(t, "secrets.yml", "db_password: hunter2\n", 0o644)

	// flags after the file name, as people type them
	if _, stderr, code := runVault(t, nil, "", "encrypt", file, "--vault-password-file", f.pw); code != 0 {
		t.Fatalf("encrypt: exit %d: %s", code, stderr)
	}
	enc := readString(t, file)
	if !strings.HasPrefix(enc, "$ANSIBLE_VAULT;1.1;AES256\n") || strings.Contains(enc, "hunter2") {
		t.Fatalf("not encrypted in place: %q", enc)
	}
	if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %o, want 644 kept", fi.Mode().Perm())
	}
	if _, stderr, code := runVault(t, nil, "", "encrypt", "--vault-password-file", f.pw, file); code != exitGeneric || !strings.Contains(stderr, "already vault encrypted") {
		t.Errorf("encrypting twice: exit %d: %s", code, stderr)
	}
	stdout, stderr, code := runVault(t, nil, "", "view", "--vault-id", f.pw, file)
	if code != 0 || stdout != "db_password: hunter2\n" {
		t.Fatalf("view: exit %d, stdout %q, stderr %s", code, stdout, stderr)
	}
	// the wrong password first, then the right one
	if _, stderr, code := runVault(t, nil, "", "decrypt", "--vault-password-file", f.other, "--vault-password-file", f.pw, file); code != 0 {
		t.Fatalf("decrypt: exit %d: %s", code, stderr)
	}
	if got := readString(t, file); got != "db_password: hunter2\n" {
		t.Errorf("decrypted in place: %q", got)
	}
}

func TestVaultStdinStdout(t *testing.T) {
	f := newVaultFixture(t)
	enc, stderr, code := runVault(t, nil, "piped secret", "encrypt", "--vault-id", "prod@"+f.pw)
	if code != 0 || !strings.HasPrefix(enc, "$ANSIBLE_VAULT;1.2;AES256;prod\n") {
		t.Fatalf("encrypt from stdin: exit %d, %q, %s", code, enc, stderr)
	}
	plain, stderr, code := runVault(t, nil, enc, "decrypt", "--vault-password-file", f.pw, "--output", "-")
	if code != 0 || plain != "piped secret" {
		t.Fatalf("decrypt from stdin: exit %d, %q, %s", code, plain, stderr)
	}
	out := filepath.Join(f.dir, "out.vault")
	if _, stderr, code := runVault(t, nil, "to a file", "encrypt", "--vault-password-file", f.pw, "--output", out); code != 0 {
		t.Fatalf("encrypt --output: exit %d: %s", code, stderr)
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("--output file: %v, want mode 600", err)
	}
}

func TestVaultAnsibleVectors(t *testing.T) {
	f := newVaultFixture(t)
	vectors := filepath.Join("..", "..", "playbook", "vault", "testdata", "ansible")
	pw := filepath.Join(vectors, "vault-password")
	tests := []struct {
		name string
		args []string
	}{
		{"1.1 with password file", []string{"view", "--vault-password-file", pw, filepath.Join(vectors, "format_1_1_AES256.yml")}},
		{"1.2 with matching vault id", []string{"view", "--vault-id", "other@" + f.other, "--vault-id", "test_vault_id@" + pw, filepath.Join(vectors, "format_1_2_AES256.yml")}},
		{"1.2 with default id", []string{"view", "--vault-id", pw, filepath.Join(vectors, "format_1_2_AES256.yml")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runVault(t, nil, "", tt.args...)
			if code != 0 || stdout != "foobar\n" {
				t.Fatalf("exit %d, stdout %q, stderr %s", code, stdout, stderr)
			}
		})
	}
}

func TestVaultErrors(t *testing.T) {
	f := newVaultFixture(t)
	enc, err := vault.Encrypt([]byte("the plaintext"), []byte("correct horse"), "")
	if err != nil {
		t.Fatal(err)
	}
	file := f.write(t, "v.yml", string(enc), 0o600)
	plainFile := f.write(t, "plain.yml", "a: 1\n", 0o600)
	tests := []struct {
		name  string
		args  []string
		code  int
		want  string
		stdin string
	}{
		{"wrong password", []string{"view", "--vault-password-file", f.other, file}, exitGeneric, "decryption failed", ""},
		{"wrong password decrypt", []string{"decrypt", "--vault-id", "x@" + f.other, file}, exitGeneric, "tried vault ids x", ""},
		{"not encrypted", []string{"view", "--vault-password-file", f.pw, plainFile}, exitGeneric, "not vault encrypted", ""},
		{"missing password file", []string{"view", "--vault-password-file", filepath.Join(f.dir, "nope"), file}, exitGeneric, "no such file", ""},
		{"no password, no terminal", []string{"view", file}, exitGeneric, "not a terminal", ""},
		{"several ids to encrypt", []string{"encrypt", "--vault-id", "a@" + f.pw, "--vault-id", "b@" + f.pw2, plainFile}, exitGeneric, "--encrypt-vault-id", ""},
		{"unknown encrypt id", []string{"encrypt", "--vault-id", "a@" + f.pw, "--encrypt-vault-id", "c", plainFile}, exitGeneric, `"c"`, ""},
		{"output with two files", []string{"decrypt", "--vault-password-file", f.pw, "--output", "-", file, file}, exitUsage, "at most one input", ""},
		{"semicolon in vault id", []string{"view", "--vault-id", "a;b@" + f.pw, file}, exitUsage, "not allowed", ""},
		{"rekey with two new passwords", []string{"rekey", "--vault-password-file", f.pw, "--new-vault-password-file", f.pw2, "--new-vault-id", "x@" + f.pw2, file}, exitUsage, "mutually exclusive", ""},
		{"create two files", []string{"create", "--vault-password-file", f.pw, "a", "b"}, exitUsage, "exactly one", ""},
		{"view nothing", []string{"view", "--vault-password-file", f.pw}, exitUsage, "no file", ""},
		{"unknown flag", []string{"view", "--bogus", file}, exitUsage, "bogus", ""},
		{"encrypt_string empty stdin", []string{"encrypt_string", "--vault-password-file", f.pw}, exitGeneric, "empty", ""},
		{"encrypt_string prompt and stdin", []string{"encrypt_string", "-p", "--vault-password-file", f.pw, "-"}, exitUsage, "--prompt", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := runVault(t, nil, tt.stdin, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Fatalf("exit %d (want %d), stderr %q (want %q)", code, tt.code, stderr, tt.want)
			}
			for _, leak := range []string{"the plaintext", "correct horse", "battery staple"} {
				if strings.Contains(stderr, leak) {
					t.Errorf("stderr leaks %q: %s", leak, stderr)
				}
			}
		})
	}
	if got := readString(t, file); got != string(enc) {
		t.Error("a failing command changed the vault file")
	}
}

func TestVaultEncryptString(t *testing.T) {
	f := newVaultFixture(t)
	tests := []struct {
		name       string
		args       []string
		stdin      string
		wantVars   map[string]string // decrypted values of the named variables
		wantHeader string
		wantStderr string
	}{
		{"named", []string{"encrypt_string", "--vault-password-file", f.pw, "--name", "db_password", "hunter2"}, "",
			map[string]string{"db_password": "hunter2"}, "$ANSIBLE_VAULT;1.1;AES256", ""},
		{"vault id", []string{"encrypt_string", "--vault-id", "prod@" + f.pw, "-n", "token", "abc"}, "",
			map[string]string{"token": "abc"}, "$ANSIBLE_VAULT;1.2;AES256;prod", ""},
		{"stdin name", []string{"encrypt_string", "--vault-password-file", f.pw, "--stdin-name", "key"}, "multi\nline\n",
			map[string]string{"key": "multi\nline\n"}, "$ANSIBLE_VAULT;1.1;AES256", ""},
		{"several", []string{"encrypt_string", "--vault-password-file", f.pw, "-n", "a", "-n", "b", "one", "two"}, "",
			map[string]string{"a": "one", "b": "two"}, "$ANSIBLE_VAULT;1.1;AES256", `# The encrypted version of variable ("b", the string #2`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runVault(t, nil, tt.stdin, tt.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("stderr %q, want %q", stderr, tt.wantStderr)
			}
			if !strings.Contains(stdout, ": !vault |\n          "+tt.wantHeader+"\n") {
				t.Errorf("output is not a !vault block indented by 10:\n%s", stdout)
			}
			for _, v := range tt.wantVars {
				if strings.Contains(stdout, strings.TrimSpace(v)) {
					t.Errorf("output shows the plaintext %q", v)
				}
			}
			var n yaml.Node
			if err := yaml.Unmarshal([]byte(stdout), &n); err != nil {
				t.Fatalf("output is not YAML: %v\n%s", err, stdout)
			}
			s := vault.Secrets{{Label: "default", Password: []byte("correct horse")}}
			if _, err := vault.DecryptYAMLNode(&n, s); err != nil {
				t.Fatal(err)
			}
			var got map[string]string
			if err := n.Decode(&got); err != nil {
				t.Fatal(err)
			}
			for k, want := range tt.wantVars {
				if got[k] != want {
					t.Errorf("%s = %q, want %q", k, got[k], want)
				}
			}
		})
	}
}

func TestVaultRekey(t *testing.T) {
	f := newVaultFixture(t)
	enc, err := vault.Encrypt([]byte("rotate me"), []byte("correct horse"), "")
	if err != nil {
		t.Fatal(err)
	}
	file := f.write(t, "v.yml", string(enc), 0o640)
	if _, stderr, code := runVault(t, nil, "", "rekey", "--vault-password-file", f.pw, "--new-vault-id", "prod@"+f.pw2, file); code != 0 {
		t.Fatalf("rekey: exit %d: %s", code, stderr)
	}
	if !strings.HasPrefix(readString(t, file), "$ANSIBLE_VAULT;1.2;AES256;prod\n") {
		t.Errorf("header after rekey: %q", strings.SplitN(readString(t, file), "\n", 2)[0])
	}
	if _, _, code := runVault(t, nil, "", "view", "--vault-password-file", f.pw, file); code != exitGeneric {
		t.Errorf("old password: exit %d, want %d", code, exitGeneric)
	}
	if stdout, stderr, code := runVault(t, nil, "", "view", "--vault-password-file", f.pw2, file); code != 0 || stdout != "rotate me\n" {
		t.Errorf("new password: exit %d, %q, %s", code, stdout, stderr)
	}
	if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %o, want 640 kept", fi.Mode().Perm())
	}
}

func TestVaultEditCreate(t *testing.T) {
	f := newVaultFixture(t)
	// The editor appends a line and records the mode of the file it got.
	editor := f.write(t, "ed.sh", `#!/bin/sh
stat -c %a "$1" > "$LOG"
echo "added: yes" >> "$1"
`, 0o700)
	log := filepath.Join(f.dir, "mode.log")
	env := map[string]string{"EDITOR": editor, "TMPDIR": f.dir}
	// EDITOR may carry arguments, split as a shell would.
	env["EDITOR"] = "env LOG=" + log + " " + editor

	file := filepath.Join(f.dir, "new", "vars.yml")
	if _, stderr, code := runVault(t, env, "", "create", "--vault-id", "dev@"+f.pw, file); code != 0 {
		t.Fatalf("create: exit %d: %s", code, stderr)
	}
	if got := strings.TrimSpace(readString(t, log)); got != "600" {
		t.Errorf("the editor's temporary file has mode %s, want 600", got)
	}
	if !strings.HasPrefix(readString(t, file), "$ANSIBLE_VAULT;1.2;AES256;dev\n") {
		t.Errorf("created file: %q", readString(t, file))
	}
	if _, stderr, code := runVault(t, env, "", "create", "--vault-id", "dev@"+f.pw, file); code != exitGeneric || !strings.Contains(stderr, "use edit") {
		t.Errorf("create over an existing file: exit %d: %s", code, stderr)
	}
	if _, stderr, code := runVault(t, env, "", "edit", "--vault-password-file", f.pw, file); code != 0 {
		t.Fatalf("edit: exit %d: %s", code, stderr)
	}
	stdout, stderr, code := runVault(t, nil, "", "view", "--vault-password-file", f.pw, file)
	if code != 0 || stdout != "added: yes\nadded: yes\n" {
		t.Errorf("after create and edit: exit %d, %q, %s", code, stdout, stderr)
	}
	if !strings.HasPrefix(readString(t, file), "$ANSIBLE_VAULT;1.2;AES256;dev\n") {
		t.Error("edit dropped the vault id")
	}
	left, _ := filepath.Glob(filepath.Join(f.dir, "mdo-vault-*"))
	if len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	env["EDITOR"] = "false"
	if _, stderr, code := runVault(t, env, "", "edit", "--vault-password-file", f.pw, file); code != exitGeneric || !strings.Contains(stderr, "editor") {
		t.Errorf("failing editor: exit %d: %s", code, stderr)
	}
}
