package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mdo-play/mdo-play/inventory"
	"github.com/mdo-play/mdo-play/playbook"
)

func TestWriteRetryFile(t *testing.T) {
	stats := map[string]*playbook.HostStats{
		"web2": {OK: 3, Failed: 1},
		"db1":  {Unreachable: 1},
		"web1": {OK: 4, Changed: 2},
		"web3": {OK: 2, Rescued: 1},
		"web4": {OK: 2, Ignored: 1},
		"lb1":  {Failed: 2, Unreachable: 1},
	}
	for _, tc := range []struct {
		name     string
		playbook string
		dir      string // relative to the temp dir; "" is next to the playbook
		stats    map[string]*playbook.HostStats
		want     string // file relative to the temp dir; "" is none
		hosts    []string
	}{
		{name: "next to the playbook", playbook: "runbooks/site.yml", stats: stats, want: "runbooks/site.retry", hosts: []string{"db1", "lb1", "web2"}},
		{name: "configured dir", playbook: "runbooks/deploy.yaml", dir: "retries/new", stats: stats, want: "retries/new/deploy.retry", hosts: []string{"db1", "lb1", "web2"}},
		{name: "no extension", playbook: "runbooks/play", stats: stats, want: "runbooks/play.retry", hosts: []string{"db1", "lb1", "web2"}},
		{name: "no failures", playbook: "runbooks/site.yml", stats: map[string]*playbook.HostStats{"web1": {OK: 1}, "web3": {Rescued: 1}}},
		{name: "empty recap", playbook: "runbooks/site.yml", stats: nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			if err := os.MkdirAll(filepath.Join(root, "runbooks"), 0o755); err != nil {
				t.Fatal(err)
			}
			dir := ""
			if tc.dir != "" {
				dir = filepath.Join(root, tc.dir)
			}
			got, err := writeRetryFile(filepath.Join(root, tc.playbook), dir, tc.stats)
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == "" {
				if got != "" {
					t.Errorf("wrote %s with no failed host", got)
				}
				if m, _ := filepath.Glob(filepath.Join(root, "runbooks", "*")); len(m) != 0 {
					t.Errorf("files left behind: %v", m)
				}
				return
			}
			if want := filepath.Join(root, tc.want); got != want {
				t.Errorf("path %s, want %s", got, want)
			}
			data, err := os.ReadFile(got)
			if err != nil {
				t.Fatal(err)
			}
			if want := strings.Join(tc.hosts, "\n") + "\n"; string(data) != want {
				t.Errorf("content %q, want %q", data, want)
			}
			if fi, _ := os.Stat(got); fi.Mode().Perm() != 0o644 {
				t.Errorf("mode %v, want 0644", fi.Mode().Perm())
			}
			if m, _ := filepath.Glob(filepath.Join(filepath.Dir(got), ".mdo-retry-*")); len(m) != 0 {
				t.Errorf("temporary files left behind: %v", m)
			}
			// The file is what --limit @FILE reads back.
			parts, err := inventory.ParseLimit("@"+got, os.ReadFile)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(parts, tc.hosts) {
				t.Errorf("--limit @%s reads %v, want %v", got, parts, tc.hosts)
			}
		})
	}
}

func TestWriteRetryFileReplacesOldOne(t *testing.T) {
	root := t.TempDir()
	pb := filepath.Join(root, "site.yml")
	if _, err := writeRetryFile(pb, "", map[string]*playbook.HostStats{"a": {Failed: 1}, "b": {Failed: 1}}); err != nil {
		t.Fatal(err)
	}
	path, err := writeRetryFile(pb, "", map[string]*playbook.HostStats{"b": {Failed: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(path); string(data) != "b\n" {
		t.Errorf("second run's retry file holds %q, want %q", data, "b\n")
	}
	if got := retryHint(path); got != "\tto retry, use: --limit @"+path+"\n" {
		t.Errorf("hint %q", got)
	}
}

func TestWriteRetryFileError(t *testing.T) {
	root := t.TempDir()
	blocker := filepath.Join(root, "file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := writeRetryFile(filepath.Join(root, "site.yml"), filepath.Join(blocker, "dir"), map[string]*playbook.HostStats{"a": {Failed: 1}})
	if err == nil || !strings.Contains(err.Error(), "retry file") {
		t.Errorf("got %v, want a retry file error", err)
	}
}
