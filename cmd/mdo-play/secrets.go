package main

import (
	"bytes"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/mdo-play/mdo-play/playbook"
	"github.com/mdo-play/mdo-play/playbook/vault"
)

// secretFiles reads controller files for every loader (playbooks, vars
// files, inventories): a vault-encrypted file is decrypted whole, and a YAML
// file with inline `!vault` values has them replaced by their plaintext.
// Every plaintext is added to the masker, so it never reaches the output.
type secretFiles struct {
	secrets vault.Secrets
	mask    *masker
}

func (f *secretFiles) ReadFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if vault.IsEncrypted(data) {
		if len(f.secrets) == 0 {
			return nil, fmt.Errorf("%s is vault-encrypted: give a password with --vault-password-file, --vault-id or --ask-vault-pass", path)
		}
		plain, err := vault.Decrypt(data, f.secrets)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		f.mask.addValues(plain)
		return plain, nil
	}
	if !bytes.Contains(data, []byte("!vault")) {
		return data, nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return data, nil // the loader reports the YAML error with its position
	}
	if len(f.secrets) == 0 {
		return nil, fmt.Errorf("%s has !vault values: give a password with --vault-password-file, --vault-id or --ask-vault-pass", path)
	}
	plains, err := vault.DecryptYAMLNode(&doc, f.secrets)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for _, p := range plains {
		f.mask.add(p)
	}
	out, err := yaml.Marshal(&doc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

// masker replaces secrets (vault plaintexts, passwords) in everything the
// formatters print.
type masker struct {
	mu      sync.RWMutex
	secrets []string // longest first
}

const maskText = "********"

func (m *masker) add(s string) {
	s = strings.TrimSpace(s)
	if len(s) < 3 { // masking "a" or "1" would garble all output
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, x := range m.secrets {
		if x == s {
			return
		}
	}
	m.secrets = append(m.secrets, s)
	sort.Slice(m.secrets, func(i, j int) bool { return len(m.secrets[i]) > len(m.secrets[j]) })
}

// addValues masks a decrypted file: each value of a YAML mapping when it is
// one, else the whole text.
func (m *masker) addValues(plain []byte) {
	var v any
	if yaml.Unmarshal(plain, &v) == nil {
		if mp, ok := v.(map[string]any); ok {
			m.addTree(mp)
			return
		}
	}
	m.add(string(plain))
}

func (m *masker) addTree(v any) {
	switch x := v.(type) {
	case string:
		m.add(x)
	case map[string]any:
		for _, e := range x {
			m.addTree(e)
		}
	case []any:
		for _, e := range x {
			m.addTree(e)
		}
	default:
		if x != nil {
			m.add(fmt.Sprint(x))
		}
	}
}

func (m *masker) empty() bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.secrets) == 0
}

func (m *masker) string(s string) string {
	for _, x := range m.secrets {
		s = strings.ReplaceAll(s, x, maskText)
	}
	return s
}

func (m *masker) value(v any) any {
	switch x := v.(type) {
	case string:
		return m.string(x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = m.value(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = m.value(e)
		}
		return out
	case []string:
		out := make([]string, len(x))
		for i, e := range x {
			out[i] = m.string(e)
		}
		return out
	}
	return v
}

// maskSink hides secrets in every event before a formatter sees it.
type maskSink struct {
	inner playbook.Sink
	m     *masker
}

func (s maskSink) Emit(e playbook.Event) {
	if s.m.empty() {
		s.inner.Emit(e)
		return
	}
	s.m.mu.RLock()
	if e.Result != nil {
		e.Result = s.m.value(e.Result).(map[string]any)
	}
	e.Item = s.m.value(e.Item)
	e.Msg = s.m.string(e.Msg)
	e.Task = s.m.string(e.Task)
	if len(e.Diff) > 0 {
		d := append(e.Diff[:0:0], e.Diff...)
		for i := range d {
			d[i].Before = s.m.string(d[i].Before)
			d[i].After = s.m.string(d[i].After)
		}
		e.Diff = d
	}
	s.m.mu.RUnlock()
	s.inner.Emit(e)
}
