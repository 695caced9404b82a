package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// config is mdo.yml in the current directory, overridden by MDO_*
// environment variables; flags override both.
type config struct {
	Inventory       stringList       `yaml:"inventory"`
	Forks           int              `yaml:"forks"`
	RemoteUser      string           `yaml:"remote_user"`
	PrivateKey      string           `yaml:"private_key"`
	HostKeyChecking string           `yaml:"host_key_checking"`
	Timeout         int              `yaml:"timeout"`
	Connection      string           `yaml:"connection"`
	RolesPath       stringList       `yaml:"roles_path"`
	KnownHostsFile  string           `yaml:"known_hosts_file"`
	configExtra     `yaml:",inline"` // lock, lock_wait, vault_password_file, retry_files_save_path
}

// stringList accepts a string or a list of strings.
type stringList struct{ v []string }

func (s *stringList) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		s.v = []string{n.Value}
		return nil
	case yaml.SequenceNode:
		return n.Decode(&s.v)
	}
	return fmt.Errorf("line %d: expected a string or a list of strings", n.Line)
}

const configFile = "mdo.yml"

func loadConfig(getenv func(string) string) (*config, error) {
	cfg := &config{}
	data, err := os.ReadFile(configFile)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, withCode(exitParse, fmt.Errorf("read %s: %w", configFile, err))
	default:
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
			return nil, withCode(exitParse, fmt.Errorf("%s: %v", configFile, strings.TrimPrefix(err.Error(), "yaml: ")))
		}
	}
	if v := getenv("MDO_INVENTORY"); v != "" {
		cfg.Inventory.v = strings.Split(v, ":")
	}
	if v := getenv("MDO_FORKS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, usageErr("MDO_FORKS=%q: expected a number", v)
		}
		cfg.Forks = n
	}
	if v := getenv("MDO_REMOTE_USER"); v != "" {
		cfg.RemoteUser = v
	}
	if v := getenv("MDO_PRIVATE_KEY"); v != "" {
		cfg.PrivateKey = v
	}
	if v := getenv("MDO_HOST_KEY_CHECKING"); v != "" {
		cfg.HostKeyChecking = v
	}
	if v := getenv("MDO_TIMEOUT"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, usageErr("MDO_TIMEOUT=%q: expected a number of seconds", v)
		}
		cfg.Timeout = n
	}
	if v := getenv("MDO_KNOWN_HOSTS_FILE"); v != "" {
		cfg.KnownHostsFile = v
	}
	if v := getenv("MDO_ROLES_PATH"); v != "" {
		cfg.RolesPath.v = strings.Split(v, ":")
	}
	if v := getenv("MDO_CONNECTION"); v != "" {
		cfg.Connection = v
	}
	return cfg, nil
}
