package vault

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, dir, name, content string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadSecrets(t *testing.T) {
	dir := t.TempDir()
	plain := writeFile(t, dir, "pw", "  hunter2 \n", 0o600)
	spaces := filepath.Join("testdata", "ansible", "password-with-spaces")
	script := writeFile(t, dir, "pw.sh", "#!/bin/sh\necho ' space'\n", 0o700)
	// A client script prints a password per vault id, exit 2 for unknown ids.
	client := writeFile(t, dir, "pass-client.sh", `#!/bin/sh
[ "$1" = --vault-id ] || { echo "no --vault-id: $*" >&2; exit 3; }
case "$2" in
dev) echo dev-pw ;;
prod) echo prod-pw ;;
*) echo "unknown $2" >&2; exit 2 ;;
esac
`, 0o700)
	clientNoID := writeFile(t, dir, "other-client", "#!/bin/sh\necho \"args:$#\"\n", 0o700)
	failing := writeFile(t, dir, "fail.sh", "#!/bin/sh\necho boom >&2\nexit 1\n", 0o700)
	empty := writeFile(t, dir, "empty", "\n\n", 0o600)
	encrypted := filepath.Join("testdata", "ansible", "vault-secret.txt")
	vaultPassword := filepath.Join("testdata", "ansible", "vault-password")
	prompt := func(label string) (string, error) { return "typed-" + label, nil }

	type pair struct{ label, password string }
	tests := []struct {
		name    string
		opts    SecretOptions
		want    []pair
		wantErr string
	}{
		{"password file trims whitespace", SecretOptions{PasswordFiles: []string{plain}}, []pair{{"default", "hunter2"}}, ""},
		{"ansible password-with-spaces", SecretOptions{PasswordFiles: []string{spaces}}, []pair{{"default", "space"}}, ""},
		{"script keeps leading spaces", SecretOptions{IDs: []string{script}}, []pair{{"default", " space"}}, ""},
		{"label@file", SecretOptions{IDs: []string{"prod@" + plain}}, []pair{{"prod", "hunter2"}}, ""},
		{"order: ids, files, prompt", SecretOptions{IDs: []string{"a@" + plain, "b@prompt"}, PasswordFiles: []string{script}, Ask: true, Prompt: prompt},
			[]pair{{"a", "hunter2"}, {"b", "typed-b"}, {"default", " space"}, {"default", "typed-default"}}, ""},
		{"client script gets the label", SecretOptions{IDs: []string{"dev@" + client, "prod@" + client}}, []pair{{"dev", "dev-pw"}, {"prod", "prod-pw"}}, ""},
		{"client script without label gets no args", SecretOptions{IDs: []string{clientNoID}}, []pair{{"default", "args:0"}}, ""},
		{"client script unknown id", SecretOptions{IDs: []string{"qa@" + client}}, nil, `no secret for vault id "qa"`},
		{"encrypted password file", SecretOptions{IDs: []string{vaultPassword, "enc@" + encrypted}}, []pair{{"default", testPassword}, {"enc", "secret"}}, ""},
		{"encrypted password file first", SecretOptions{IDs: []string{encrypted}}, nil, "no vault password was given"},
		{"failing script", SecretOptions{IDs: []string{failing}}, nil, "boom"},
		{"missing file", SecretOptions{PasswordFiles: []string{filepath.Join(dir, "nope")}}, nil, "no such file"},
		{"empty password", SecretOptions{PasswordFiles: []string{empty}}, nil, "is empty"},
		{"prompt without a prompter", SecretOptions{Ask: true}, nil, "cannot prompt"},
		{"prompt error", SecretOptions{Ask: true, Prompt: func(string) (string, error) { return "", errors.New("no tty") }}, nil, "no tty"},
		{"semicolon in label", SecretOptions{IDs: []string{"a;b@" + plain}}, nil, "';' is not allowed"},
		{"no source", SecretOptions{IDs: []string{"a@"}}, nil, "no password source"},
		{"directory", SecretOptions{IDs: []string{dir}}, nil, "is a directory"},
		{"nothing", SecretOptions{}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LoadSecrets(context.Background(), tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d secrets %v, want %d", len(got), got.Labels(), len(tt.want))
			}
			for i, w := range tt.want {
				if got[i].Label != w.label || string(got[i].Password) != w.password {
					t.Errorf("secret %d = %s/%q, want %s/%q", i, got[i].Label, got[i].Password, w.label, w.password)
				}
			}
		})
	}
}

func TestLoadSecretsDecryptsAnsibleVector(t *testing.T) {
	// ansible's vault-with-spaces needs the password " space", which only a
	// script can give (a file is trimmed).
	dir := t.TempDir()
	script := writeFile(t, dir, "pw.sh", "#!/bin/sh\necho ' space'\n", 0o700)
	data := readTestdata(t, filepath.Join("ansible", "vault-with-spaces"))
	for _, tt := range []struct {
		name   string
		source string
		ok     bool
	}{
		{"script", script, true},
		{"file", filepath.Join("testdata", "ansible", "password-with-spaces"), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := LoadSecrets(context.Background(), SecretOptions{IDs: []string{tt.source}})
			if err != nil {
				t.Fatal(err)
			}
			_, err = Decrypt(data, s)
			if (err == nil) != tt.ok {
				t.Errorf("decrypt error = %v, want success %v", err, tt.ok)
			}
		})
	}
}

func TestEncrypter(t *testing.T) {
	s := secrets("dev", "a", "prod", "b")
	tests := []struct {
		name    string
		s       Secrets
		id      string
		want    string
		wantErr string
	}{
		{"only one", secrets("dev", "a"), "", "dev", ""},
		{"by id", s, "prod", "prod", ""},
		{"several without id", s, "", "", "dev,prod are available"},
		{"unknown id", s, "qa", "", `"qa"`},
		{"none", nil, "", "", "no vault password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.s.Encrypter(tt.id)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got.Label != tt.want {
				t.Fatalf("got %v, %v; want %s", got, err, tt.want)
			}
		})
	}
}

func TestIsClientScript(t *testing.T) {
	for path, want := range map[string]bool{
		"/x/vault-client":      true,
		"/x/vault-client.py":   true,
		"keyring-client.sh":    true,
		"/x/client":            false,
		"/x/vault-client-2.py": false,
		"/x/my-client.d/pw":    false,
		"/x/password.sh":       false,
	} {
		t.Run(path, func(t *testing.T) {
			if got := IsClientScript(path); got != want {
				t.Errorf("IsClientScript(%q) = %v, want %v", path, got, want)
			}
		})
	}
}
