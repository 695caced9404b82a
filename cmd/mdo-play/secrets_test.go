package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mdo-play/mdo-play/playbook/vault"
)

// TestVaultAndMasking runs a playbook whose secrets come from a
// vault-encrypted group_vars file, an inline !vault value, an encrypted
// -e @file and an inventory become password, through text and JSON output,
// and checks that the values are used but never printed.
func TestVaultAndMasking(t *testing.T) {
	dir := t.TempDir()
	pass := []byte("vault-pass-123")
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	enc := func(plain string) string {
		out, err := vault.Encrypt([]byte(plain), pass, "")
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	write("group_vars/all.yml", []byte(enc("db_password: s3cret-from-group-vars\n")))
	inline := enc("s3cret-inline-value")
	var ind strings.Builder
	for _, l := range strings.Split(strings.TrimSpace(inline), "\n") {
		ind.WriteString("        " + l + "\n")
	}
	inv := write("hosts.ini", []byte("web1 ansible_connection=local ansible_become_password=s3cret-become-pass\n"))
	extra := write("extra.yml", []byte(enc("api_token: s3cret-extra-token\n")))
	pb := write("site.yml", []byte(`- hosts: web1
  gather_facts: false
  vars:
    inline_secret: !vault |
`+ind.String()+`  tasks:
    - name: secrets are usable
      assert:
        that:
          - eq .db_password "s3cret-from-group-vars"
          - eq .inline_secret "s3cret-inline-value"
          - eq .api_token "s3cret-extra-token"
    - name: and masked when printed
      debug:
        msg: "{{ .db_password }} {{ .inline_secret }} {{ .api_token }} {{ .ansible_become_password }}"
    - name: also in command output
      command: echo {{ .db_password }}
`))
	pwfile := write("pw.txt", append(pass, '\n'))
	secrets := []string{"s3cret-from-group-vars", "s3cret-inline-value", "s3cret-extra-token", "s3cret-become-pass"}
	for _, output := range []string{"text", "json"} {
		logFile, report := filepath.Join(dir, output+".log"), filepath.Join(dir, output+".html")
		stdout, stderr, code := runCLI(t, map[string]string{"HOME": dir}, "-i", inv, pb, "-e", "@"+extra,
			"--vault-password-file", pwfile, "--output", output, "-v", "--log-file", logFile, "--report", report, "--profile")
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s\n%s", output, code, stdout, stderr)
		}
		logData, err := os.ReadFile(logFile)
		if err != nil {
			t.Fatal(err)
		}
		reportData, err := os.ReadFile(report)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range secrets {
			for what, text := range map[string]string{"output": stdout + stderr, "log file": string(logData), "report": string(reportData)} {
				if strings.Contains(text, s) {
					t.Errorf("%s %s shows the secret %q:\n%s", output, what, s, text)
				}
			}
		}
		if !strings.Contains(stdout, "********") {
			t.Errorf("%s output has no masked value:\n%s", output, stdout)
		}
	}
	// Without the password the run stops before touching any host.
	_, stderr, code := runCLI(t, map[string]string{"HOME": dir}, "-i", inv, pb)
	if code != 6 || !strings.Contains(stderr, "vault") {
		t.Errorf("no vault password: exit %d, want 6 and a message about the vault\n%s", code, stderr)
	}
}

// TestVaultEncryptedTemplateSource renders a vault-encrypted template,
// copies a vault-encrypted file and includes a vault-encrypted vars file:
// all are decrypted on the controller, and the plaintext is not printed.
func TestVaultEncryptedTemplateSource(t *testing.T) {
	dir := t.TempDir()
	pass := []byte("vault-pass-456")
	enc := func(plain string) []byte {
		out, err := vault.Encrypt([]byte(plain), pass, "")
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	files := map[string][]byte{
		"templates/app.conf.tmpl": enc("token={{ .token }}\n"),
		"files/secret.txt":        enc("s3cret-file-content\n"),
		"vars/secret.yml":         enc("from_vault_vars: s3cret-vars\n"),
		"pw.txt":                  append(pass, '\n'),
		"site.yml": []byte(`- hosts: localhost
  gather_facts: false
  vars:
    token: s3cret-token-value
  tasks:
    - template:
        src: app.conf.tmpl
        dest: ` + dir + `/out/app.conf
    - copy:
        src: secret.txt
        dest: ` + dir + `/out/secret.txt
    - include_vars: vars/secret.yml
    - assert:
        that: eq .from_vault_vars "s3cret-vars"
`),
	}
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "out"), 0o755); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runCLI(t, map[string]string{"HOME": dir}, "-i", "localhost,", "-c", "local",
		filepath.Join(dir, "site.yml"), "--vault-password-file", filepath.Join(dir, "pw.txt"), "--diff")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	for name, want := range map[string]string{"app.conf": "token=s3cret-token-value\n", "secret.txt": "s3cret-file-content\n"} {
		got, err := os.ReadFile(filepath.Join(dir, "out", name))
		if err != nil || string(got) != want {
			t.Errorf("%s = %q, %v; want %q", name, got, err, want)
		}
	}
	if strings.Contains(stdout, "s3cret-file-content") {
		t.Errorf("the decrypted file shows in the --diff output:\n%s", stdout)
	}
}
