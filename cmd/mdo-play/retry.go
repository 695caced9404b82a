package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/mdo-play/mdo-play/playbook"
)

// retryHosts are the hosts of a recap that failed or were unreachable,
// sorted: the hosts a retry run should be limited to.
func retryHosts(stats map[string]*playbook.HostStats) []string {
	var hosts []string
	for h, st := range stats {
		if st != nil && (st.Failed > 0 || st.Unreachable > 0) {
			hosts = append(hosts, h)
		}
	}
	sort.Strings(hosts)
	return hosts
}

// retryPath is where the retry file of a playbook goes, as Ansible names
// it: "<playbook name without extension>.retry" in dir, or next to the
// playbook when dir is empty.
func retryPath(playbookPath, dir string) string {
	base := filepath.Base(playbookPath)
	base = strings.TrimSuffix(base, filepath.Ext(base)) + ".retry"
	if dir == "" {
		dir = filepath.Dir(absPath(playbookPath))
	}
	return filepath.Join(dir, base)
}

// writeRetryFile writes the retry file of a run of playbookPath (into dir,
// or next to the playbook when dir is empty; the directory is created): one
// failed or unreachable host per line, for `--limit @FILE`. It returns the
// file's path, or "" without touching anything when no host failed (an old
// retry file is left as it is, as Ansible leaves it). The file is replaced
// whole (written aside, then renamed), so a run reading it never sees half
// of it.
func writeRetryFile(playbookPath, dir string, stats map[string]*playbook.HostStats) (string, error) {
	hosts := retryHosts(stats)
	if len(hosts) == 0 {
		return "", nil
	}
	path := retryPath(playbookPath, dir)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", fmt.Errorf("retry file: %w", err)
	}
	if err := writeAtomic(path, []byte(strings.Join(hosts, "\n")+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("retry file %s: %w", path, err)
	}
	return path, nil
}

// retryHint is the line printed after the recap when a retry file was
// written, as ansible-playbook prints it.
func retryHint(path string) string {
	return "\tto retry, use: --limit @" + path + "\n"
}
