package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/mdo-play/mdo-play/templates"
)

// controller gives template lookups this machine: its files (vault
// files decrypted, as Ansible's file lookup does), environment and shell.
type controller struct{ files *secretFiles }

var _ templates.Controller = controller{}

func (c controller) ReadFile(path string) ([]byte, error) { return c.files.ReadFile(path) }

func (controller) WriteFile(path string, data []byte, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return os.WriteFile(path, data, perm)
}

func (controller) Glob(pattern string) ([]string, error) { return filepath.Glob(pattern) }

func (controller) Getenv(name string) (string, bool) { return os.LookupEnv(name) }

// pipeTimeout bounds a pipe lookup's command.
const pipeTimeout = 5 * time.Minute

func (controller) Pipe(ctx context.Context, command string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, pipeTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "/bin/sh", "-c", command).Output()
	return string(out), err
}
