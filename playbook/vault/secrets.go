package vault

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// clientExitUnknownID is the exit code by which a client script says it has
// no password for the vault id it was asked about.
const clientExitUnknownID = 2

// SecretOptions say where the vault passwords come from, as the
// --vault-id, --vault-password-file and --ask-vault-pass flags do.
type SecretOptions struct {
	// IDs are --vault-id values: "label@source" or "source" (label
	// "default"). The source is "prompt", a file holding the password, or
	// an executable printing it.
	IDs []string
	// PasswordFiles are --vault-password-file values; each is the same as
	// the ID "default@FILE" and they come after IDs, as in Ansible.
	PasswordFiles []string
	// Ask adds "default@prompt" after everything else (--ask-vault-pass).
	Ask bool
	// Prompt asks the user for the password of a label; nil makes a
	// prompt source an error. The caller decides what the prompt looks
	// like and refuses when there is no terminal.
	Prompt func(label string) (string, error)
	// Stderr receives the standard error of plain password scripts, so
	// that they can talk to the user (nil: it is kept for error messages
	// only). Client scripts' standard error is always kept for errors.
	Stderr io.Writer
}

// LoadSecrets reads every password the options name, in order: IDs, then
// PasswordFiles, then the prompt of Ask.
//
// A plain file holds the password with surrounding whitespace removed. An
// executable file is run and its standard output, with line breaks trimmed,
// is the password. An executable whose name without extension ends in "-client" is a client
// script: it is run with "--vault-id LABEL" (when a label was given) and
// exit code 2 means it has no password for that label. A password file
// that is itself vault encrypted is decrypted with the passwords loaded
// before it. Empty passwords are errors.
func LoadSecrets(ctx context.Context, o SecretOptions) (Secrets, error) {
	slugs := append([]string(nil), o.IDs...)
	for _, f := range o.PasswordFiles {
		slugs = append(slugs, DefaultLabel+"@"+f)
	}
	if o.Ask {
		slugs = append(slugs, DefaultLabel+"@prompt")
	}
	var out Secrets
	for _, slug := range slugs {
		label, source, hasLabel := strings.Cut(slug, "@")
		if !hasLabel {
			label, source = "", slug
		}
		if strings.ContainsAny(label, ";") {
			return nil, fmt.Errorf("vault id %q: the character ';' is not allowed in vault ids", label)
		}
		if source == "" {
			return nil, fmt.Errorf("vault id %q: no password source after '@'", slug)
		}
		name := label
		if name == "" {
			name = DefaultLabel
		}
		pw, err := readSource(ctx, source, label, out, o)
		if err != nil {
			return nil, fmt.Errorf("vault id %s: %w", name, err)
		}
		if len(pw) == 0 {
			return nil, fmt.Errorf("vault id %s: the password from %s is empty", name, source)
		}
		out = append(out, Secret{Label: name, Password: pw})
	}
	return out, nil
}

func readSource(ctx context.Context, source, label string, known Secrets, o SecretOptions) ([]byte, error) {
	if source == "prompt" || source == "prompt_ask_vault_pass" {
		if o.Prompt == nil {
			return nil, errors.New("cannot prompt for the vault password here")
		}
		if label == "" {
			label = DefaultLabel
		}
		pw, err := o.Prompt(label)
		if err != nil {
			return nil, fmt.Errorf("prompt for the vault password: %w", err)
		}
		return []byte(pw), nil
	}
	fi, err := os.Stat(source)
	if err != nil {
		return nil, fmt.Errorf("vault password file: %w", err)
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("vault password file %s is a directory", source)
	}
	if fi.Mode()&0o111 != 0 {
		return runScript(ctx, source, label, o.Stderr)
	}
	data, err := os.ReadFile(source)
	if err != nil {
		return nil, fmt.Errorf("vault password file: %w", err)
	}
	data = bytes.TrimSpace(data)
	if IsEncrypted(data) {
		if data, err = Decrypt(data, known); err != nil {
			return nil, fmt.Errorf("decrypt vault password file %s: %w", source, err)
		}
	}
	return bytes.Trim(data, "\r\n"), nil
}

// IsClientScript reports whether a password script is a client script,
// one that takes --vault-id: its name without extension ends in "-client".
func IsClientScript(path string) bool {
	base := filepath.Base(path)
	return strings.HasSuffix(strings.TrimSuffix(base, filepath.Ext(base)), "-client")
}

func runScript(ctx context.Context, path, label string, userStderr io.Writer) ([]byte, error) {
	var args []string
	client := IsClientScript(path)
	if client && label != "" {
		args = []string{"--vault-id", label}
	}
	cmd := exec.CommandContext(ctx, path, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if !client && userStderr != nil {
		cmd.Stderr = io.MultiWriter(&stderr, userStderr)
	}
	err := cmd.Run()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		var ee *exec.ExitError
		if client && errors.As(err, &ee) && ee.ExitCode() == clientExitUnknownID {
			return nil, fmt.Errorf("vault password client script %s has no secret for vault id %q: %s", path, label, msg)
		}
		if msg != "" {
			return nil, fmt.Errorf("vault password script %s: %w: %s", path, err, msg)
		}
		return nil, fmt.Errorf("vault password script %s: %w", path, err)
	}
	return bytes.Trim(stdout.Bytes(), "\r\n"), nil
}

// Encrypter picks the secret to encrypt with, as ansible-vault does: the
// one labelled id when id is given, else the only one; several without id
// is an error naming them.
func (s Secrets) Encrypter(id string) (Secret, error) {
	if id != "" {
		for _, x := range s {
			if x.Label == id {
				return x, nil
			}
		}
		return Secret{}, fmt.Errorf("no vault password has the vault id %q to encrypt with (known: %s)", id, strings.Join(s.Labels(), ", "))
	}
	switch len(s) {
	case 0:
		return Secret{}, ErrNoSecrets
	case 1:
		return s[0], nil
	}
	return Secret{}, fmt.Errorf("the vault ids %s are available to encrypt: choose one with --encrypt-vault-id", strings.Join(s.Labels(), ","))
}
