package vault

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const testPassword = "test-vault-password"

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func secrets(pairs ...string) Secrets {
	var s Secrets
	for i := 0; i+1 < len(pairs); i += 2 {
		s = append(s, Secret{Label: pairs[i], Password: []byte(pairs[i+1])})
	}
	return s
}

// TestAnsibleVectors decrypts files written by ansible-vault, from
// ansible/ansible's integration tests.
func TestAnsibleVectors(t *testing.T) {
	tests := []struct {
		file    string
		secrets Secrets
		want    string
		label   string // the secret that must have worked
		version string
		id      string
	}{
		{"format_1_1_AES256.yml", secrets("default", testPassword), "foobar\n", "default", "1.1", "default"},
		{"format_1_2_AES256.yml", secrets("default", testPassword), "foobar\n", "default", "1.2", "test_vault_id"},
		{"format_1_2_AES256.yml", secrets("other", "wrong", "test_vault_id", testPassword), "foobar\n", "test_vault_id", "1.2", "test_vault_id"},
		{"format_1_1_AES256.yml", secrets("a", "wrong", "b", "also wrong", "c", testPassword), "foobar\n", "c", "1.1", "default"},
		{"vault-secret.txt", secrets("default", testPassword), "secret\n", "default", "1.1", "default"},
		{"vault-with-spaces", secrets("default", " space"), "spaces\n", "default", "1.1", "default"},
	}
	for _, tt := range tests {
		t.Run(tt.file+"/"+strings.Join(tt.secrets.Labels(), ","), func(t *testing.T) {
			data := readTestdata(t, filepath.Join("ansible", tt.file))
			if !IsEncrypted(data) {
				t.Fatal("IsEncrypted = false")
			}
			env, err := ParseEnvelope(data)
			if err != nil {
				t.Fatal(err)
			}
			if env.Version != tt.version || env.Label != tt.id || env.Cipher != "AES256" {
				t.Errorf("envelope = %+v, want version %s label %s", env, tt.version, tt.id)
			}
			got, sec, err := DecryptSecret(data, tt.secrets)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("plaintext = %q, want %q", got, tt.want)
			}
			if sec.Label != tt.label {
				t.Errorf("decrypted with %q, want %q", sec.Label, tt.label)
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name       string
		plain      string
		label      string
		wantHeader string
	}{
		{"empty", "", "", "$ANSIBLE_VAULT;1.1;AES256\n"},
		{"one byte", "x", "default", "$ANSIBLE_VAULT;1.1;AES256\n"},
		{"block", "0123456789abcdef", "", "$ANSIBLE_VAULT;1.1;AES256\n"},
		{"label", "db_password: hunter2\n", "prod", "$ANSIBLE_VAULT;1.2;AES256;prod\n"},
		{"binary", "\x00\xff\x80 not utf-8", "x", "$ANSIBLE_VAULT;1.2;AES256;x\n"},
		{"long", strings.Repeat("line of text\n", 300), "", "$ANSIBLE_VAULT;1.1;AES256\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Encrypt([]byte(tt.plain), []byte("pw"), tt.label)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(out), tt.wantHeader) {
				t.Errorf("header: got %q", strings.SplitN(string(out), "\n", 2)[0])
			}
			if !bytes.HasSuffix(out, []byte("\n")) {
				t.Error("output does not end with a newline")
			}
			for i, l := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")[1:] {
				if len(l) > 80 || len(l) == 0 {
					t.Errorf("body line %d has %d characters, want 1..80", i, len(l))
				}
			}
			got, err := Decrypt(out, secrets("whatever", "pw"))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.plain {
				t.Errorf("round trip = %q, want %q", got, tt.plain)
			}
			again, err := Encrypt([]byte(tt.plain), []byte("pw"), tt.label)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Equal(out, again) {
				t.Error("two encryptions are identical: the salt is not random")
			}
		})
	}
}

// TestEncryptKnownSalt pins the output for a fixed salt, computed by
// ansible-core's VaultAES256.encrypt with the same salt.
func TestEncryptKnownSalt(t *testing.T) {
	salt := bytes.Repeat([]byte{0x01}, 32)
	out, err := encrypt([]byte("foobar\n"), []byte(testPassword), "", salt)
	if err != nil {
		t.Fatal(err)
	}
	want := string(readTestdata(t, "salt01.vault"))
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

func TestDecryptErrors(t *testing.T) {
	good, err := encrypt([]byte("top secret plaintext"), []byte("right"), "", bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	body := strings.SplitN(string(good), "\n", 2)[1]
	inner := mustUnhex(t, strings.ReplaceAll(body, "\n", ""))
	parts := strings.SplitN(inner, "\n", 3)
	rewrap := func(salt, mac, ct string) []byte {
		return []byte("$ANSIBLE_VAULT;1.1;AES256\n" + hexString(salt+"\n"+mac+"\n"+ct) + "\n")
	}
	flip := func(s string) string { // change one hex digit
		b := []byte(s)
		if b[0] == '0' {
			b[0] = '1'
		} else {
			b[0] = '0'
		}
		return string(b)
	}
	tests := []struct {
		name    string
		data    []byte
		secrets Secrets
		want    error
	}{
		{"wrong password", good, secrets("default", "wrong"), ErrDecrypt},
		{"several wrong passwords", good, secrets("a", "wrong", "b", "wrong too"), ErrDecrypt},
		{"no secrets", good, nil, ErrNoSecrets},
		{"not encrypted", []byte("foo: bar\n"), secrets("default", "right"), ErrNotEncrypted},
		{"non-ascii", append(append([]byte{}, good...), 0xc3, 0xa9), secrets("default", "right"), ErrNotEncrypted},
		{"tampered hmac", rewrap(parts[0], flip(parts[1]), parts[2]), secrets("default", "right"), ErrDecrypt},
		{"tampered ciphertext", rewrap(parts[0], parts[1], flip(parts[2])), secrets("default", "right"), ErrDecrypt},
		{"tampered salt", rewrap(flip(parts[0]), parts[1], parts[2]), secrets("default", "right"), ErrDecrypt},
		{"truncated body", good[:len(good)/2], secrets("default", "right"), ErrFormat},
		{"truncated ciphertext block", rewrap(parts[0], parts[1], parts[2][:len(parts[2])-2]), secrets("default", "right"), ErrFormat},
		{"header only", []byte("$ANSIBLE_VAULT;1.1;AES256\n"), secrets("default", "right"), ErrFormat},
		{"two fields", []byte("$ANSIBLE_VAULT;1.1\n3030\n"), secrets("default", "right"), ErrFormat},
		{"unknown version", bytes.Replace(good, []byte(";1.1;"), []byte(";9.9;"), 1), secrets("default", "right"), ErrFormat},
		{"old AES cipher", bytes.Replace(good, []byte(";AES256"), []byte(";AES"), 1), secrets("default", "right"), ErrFormat},
		{"not hex", []byte("$ANSIBLE_VAULT;1.1;AES256\nzz\n"), secrets("default", "right"), ErrFormat},
		{"two parts", []byte("$ANSIBLE_VAULT;1.1;AES256\n" + hexString("00\n00") + "\n"), secrets("default", "right"), ErrFormat},
		{"short hmac", rewrap(parts[0], parts[1][:10], parts[2]), secrets("default", "right"), ErrFormat},
		{"ansible broken host vars", readTestdata(t, "ansible/original-broken-host-vars"), secrets("default", testPassword), ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decrypt(tt.data, tt.secrets)
			if !errors.Is(err, tt.want) {
				t.Fatalf("error = %v, want %v", err, tt.want)
			}
			for _, leak := range []string{"top secret", "right", testPassword} {
				if strings.Contains(err.Error(), leak) && !strings.Contains(tt.want.Error(), leak) {
					t.Errorf("error %q contains %q", err, leak)
				}
			}
		})
	}
}

func TestWrongPasswordMessage(t *testing.T) {
	data := readTestdata(t, "ansible/format_1_2_AES256.yml")
	_, err := Decrypt(data, secrets("dev", "nope", "prod", "nope2"))
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, want := range []string{"decryption failed", "dev, prod"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q does not contain %q", msg, want)
		}
	}
	for _, leak := range []string{"nope", "foobar"} {
		if strings.Contains(msg, leak) {
			t.Errorf("message %q leaks %q", msg, leak)
		}
	}
}

func TestEncryptErrors(t *testing.T) {
	tests := []struct {
		name     string
		plain    string
		password string
		label    string
	}{
		{"empty password", "x", "", ""},
		{"semicolon in label", "x", "pw", "a;b"},
		{"newline in label", "x", "pw", "a\nb"},
		{"already encrypted", string(readTestdata(t, "ansible/format_1_1_AES256.yml")), "pw", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Encrypt([]byte(tt.plain), []byte(tt.password), tt.label); err == nil {
				t.Fatal("no error")
			}
		})
	}
}

func TestSecretFormatRedacts(t *testing.T) {
	s := Secret{Label: "prod", Password: []byte("hunter2")}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		got := fmt.Sprintf(verb, s)
		if strings.Contains(got, "hunter2") || strings.Contains(got, fmt.Sprintf("%x", "hunter2")) {
			t.Errorf("%s shows the password: %s", verb, got)
		}
		if !strings.Contains(got, "prod") {
			t.Errorf("%s hides the label: %s", verb, got)
		}
	}
	if got := fmt.Sprintf("%v", Secrets{s}); strings.Contains(got, "hunter2") {
		t.Errorf("Secrets shows the password: %s", got)
	}
}

func TestLineEndings(t *testing.T) {
	data := readTestdata(t, "ansible/format_1_1_AES256.yml")
	tests := []struct {
		name string
		data []byte
	}{
		{"crlf", bytes.ReplaceAll(data, []byte("\n"), []byte("\r\n"))},
		{"no final newline", bytes.TrimSuffix(data, []byte("\n"))},
		{"trailing spaces", bytes.ReplaceAll(data, []byte("\n"), []byte("  \n"))},
		{"blank line at end", append(append([]byte{}, data...), '\n')},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decrypt(tt.data, secrets("default", testPassword))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != "foobar\n" {
				t.Errorf("got %q", got)
			}
		})
	}
}

func TestRekey(t *testing.T) {
	data := readTestdata(t, "ansible/format_1_1_AES256.yml")
	out, err := Rekey(data, secrets("default", testPassword), []byte("new"), "prod")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(out), "$ANSIBLE_VAULT;1.2;AES256;prod\n") {
		t.Errorf("header: %q", strings.SplitN(string(out), "\n", 2)[0])
	}
	if _, err := Decrypt(out, secrets("default", testPassword)); !errors.Is(err, ErrDecrypt) {
		t.Errorf("old password still works: %v", err)
	}
	got, err := Decrypt(out, secrets("x", "new"))
	if err != nil || string(got) != "foobar\n" {
		t.Errorf("new password: %q, %v", got, err)
	}
}

func mustUnhex(t *testing.T, s string) string {
	t.Helper()
	b, err := unhex([]byte(s), "test")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func hexString(s string) string { return fmt.Sprintf("%x", s) }
