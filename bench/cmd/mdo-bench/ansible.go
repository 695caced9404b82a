package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// ensureAnsible installs ansible-core from Debian's packages when
// ansible-playbook is missing.
func ensureAnsible(ctx context.Context) error {
	if _, err := exec.LookPath("ansible-playbook"); err == nil {
		return nil
	}
	fmt.Fprintln(os.Stderr, "ansible-playbook missing: apt-get install -y ansible-core")
	install := func() error {
		cmd := exec.CommandContext(ctx, "apt-get", "install", "-y", "--no-install-recommends", "ansible-core")
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		return cmd.Run()
	}
	if err := install(); err != nil {
		update := exec.CommandContext(ctx, "apt-get", "update")
		update.Stdout, update.Stderr = os.Stderr, os.Stderr
		if uerr := update.Run(); uerr != nil {
			return fmt.Errorf("install ansible-core: apt-get update: %w", uerr)
		}
		if err := install(); err != nil {
			return fmt.Errorf("install ansible-core: %w", err)
		}
	}
	if _, err := exec.LookPath("ansible-playbook"); err != nil {
		return fmt.Errorf("install ansible-core: %w", err)
	}
	return nil
}

// ansibleEnv is a private ansible.cfg, local temp and ControlPath
// directory, so every run starts without ssh masters left from the last.
type ansibleEnv struct {
	dir    string
	cfg    string
	cpDir  string
	knownH string
}

func newAnsibleEnv(dir string, forks int, knownHosts string) (*ansibleEnv, error) {
	a := &ansibleEnv{dir: dir, cfg: filepath.Join(dir, "ansible.cfg"), cpDir: filepath.Join(dir, "cp"), knownH: knownHosts}
	for _, d := range []string{a.cpDir, filepath.Join(dir, "tmp")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("ansible config: %w", err)
		}
	}
	cfg := fmt.Sprintf(`[defaults]
forks = %d
host_key_checking = True
interpreter_python = /usr/bin/python3
gathering = explicit
retry_files_enabled = False
local_tmp = %s

[ssh_connection]
pipelining = True
ssh_args = -C -o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=%s -o StrictHostKeyChecking=yes
control_path_dir = %s
`, forks, filepath.Join(dir, "tmp"), knownHosts, a.cpDir)
	if err := os.WriteFile(a.cfg, []byte(cfg), 0o600); err != nil {
		return nil, fmt.Errorf("ansible config: %w", err)
	}
	return a, nil
}

func (a *ansibleEnv) command(ctx context.Context, inv, playbook string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "ansible-playbook", "-i", inv, playbook)
	cmd.Dir = a.dir
	cmd.Env = append(os.Environ(), "ANSIBLE_CONFIG="+a.cfg, "ANSIBLE_PIPELINING=1", "ANSIBLE_NOCOLOR=1", "ANSIBLE_FORCE_COLOR=0")
	return cmd
}

// closeMasters asks every ssh ControlMaster the last run left behind to
// exit, so that the next run starts cold and the masters can be reaped.
func (a *ansibleEnv) closeMasters(ctx context.Context) {
	socks, _ := filepath.Glob(filepath.Join(a.cpDir, "*"))
	for _, s := range socks {
		_ = exec.CommandContext(ctx, "ssh", "-o", "ControlPath="+s, "-O", "exit", "bench-master").Run()
		os.Remove(s)
	}
}
