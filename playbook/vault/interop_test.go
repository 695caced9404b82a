package vault

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestAnsibleVaultInterop encrypts with ansible-vault and decrypts with this
// package, and the reverse, when ansible-vault is installed.
func TestAnsibleVaultInterop(t *testing.T) {
	bin, err := exec.LookPath("ansible-vault")
	if err != nil {
		t.Skip("ansible-vault is not installed (apt-get install ansible-core); skipping the interoperability test")
	}
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwFile, []byte("interop password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := secrets("default", "interop password")
	run := func(t *testing.T, stdin []byte, args ...string) []byte {
		t.Helper()
		cmd := exec.CommandContext(context.Background(), bin, args...)
		cmd.Dir = dir
		cmd.Stdin = bytes.NewReader(stdin)
		cmd.Env = append(os.Environ(), "ANSIBLE_NOCOLOR=1", "HOME="+dir, "ANSIBLE_LOCAL_TEMP="+dir)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("ansible-vault %v: %v\n%s", args, err, stderr.String())
		}
		return stdout.Bytes()
	}
	plains := []struct {
		name  string
		plain []byte
	}{
		{"yaml", []byte("db_password: hunter2\nlist: [1, 2]\n")},
		{"exact block", []byte("0123456789abcdef")},
		{"binary", []byte{0, 1, 2, 0xff, 0xfe, '\n'}},
		{"long", bytes.Repeat([]byte("a long line of text, "), 200)},
	}
	for _, label := range []string{"", "prod"} {
		for _, p := range plains {
			t.Run("ansible to mdo/"+p.name+"/"+label, func(t *testing.T) {
				id := pwFile
				if label != "" {
					id = label + "@" + pwFile
				}
				out := run(t, p.plain, "encrypt", "--vault-id", id, "--output", "-")
				env, err := ParseEnvelope(out)
				if err != nil {
					t.Fatal(err)
				}
				if want := map[string]string{"": "1.1", "prod": "1.2"}[label]; env.Version != want {
					t.Errorf("ansible wrote version %s, want %s", env.Version, want)
				}
				got, err := Decrypt(out, s)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, p.plain) {
					t.Errorf("got %q, want %q", got, p.plain)
				}
			})
			t.Run("mdo to ansible/"+p.name+"/"+label, func(t *testing.T) {
				enc, err := Encrypt(p.plain, []byte("interop password"), label)
				if err != nil {
					t.Fatal(err)
				}
				f := filepath.Join(dir, "mdo.vault")
				if err := os.WriteFile(f, enc, 0o600); err != nil {
					t.Fatal(err)
				}
				got := run(t, nil, "decrypt", "--vault-password-file", pwFile, "--output", "-", f)
				if !bytes.Equal(got, p.plain) {
					t.Errorf("ansible-vault decrypted %q, want %q", got, p.plain)
				}
			})
		}
	}
}
