package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/mdo-play/mdo-play/modules/conn/sshtest"
)

// admin holds one SSH client per test host, for wiping /srv and listing
// what a run left there. It is not used while a controller is measured.
type admin struct {
	names   []string
	clients []*ssh.Client
}

func dialAdmin(ctx context.Context, c *sshtest.Cluster) (*admin, error) {
	a := &admin{names: make([]string, len(c.Hosts)), clients: make([]*ssh.Client, len(c.Hosts))}
	err := parallel(len(c.Hosts), func(i int) error {
		h := c.Hosts[i]
		a.names[i] = h.Name
		cfg := &ssh.ClientConfig{
			User:            "root",
			Auth:            []ssh.AuthMethod{ssh.PublicKeys(c.Signer)},
			HostKeyCallback: ssh.FixedHostKey(h.HostKey),
			Timeout:         10 * time.Second,
		}
		cl, err := ssh.Dial("tcp", h.HostPort(), cfg)
		if err != nil {
			return fmt.Errorf("%s: %w", h.Name, err)
		}
		a.clients[i] = cl
		return nil
	})
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("connect to test hosts: %w", err)
	}
	return a, nil
}

func (a *admin) Close() {
	for _, c := range a.clients {
		if c != nil {
			c.Close()
		}
	}
}

// run runs script on every host and returns each host's output.
func (a *admin) run(ctx context.Context, script string) ([]string, error) {
	out := make([]string, len(a.clients))
	err := parallel(len(a.clients), func(i int) error {
		s, err := a.clients[i].NewSession()
		if err != nil {
			return fmt.Errorf("%s: %w", a.names[i], err)
		}
		defer s.Close()
		stop := context.AfterFunc(ctx, func() { s.Close() })
		defer stop()
		b, err := s.CombinedOutput(script)
		if err != nil {
			return fmt.Errorf("%s: %w: %s", a.names[i], err, b)
		}
		out[i] = string(b)
		return nil
	})
	return out, err
}

// wipe empties /srv on every host.
func (a *admin) wipe(ctx context.Context) error {
	if _, err := a.run(ctx, "find /srv -mindepth 1 -delete"); err != nil {
		return fmt.Errorf("wipe /srv: %w", err)
	}
	return nil
}

// listScript prints every path under /srv with its type, mode, owner and,
// for files, its sha256: the checksum listing runs are compared by.
const listScript = `cd /srv && find . -mindepth 1 | LC_ALL=C sort | while IFS= read -r p; do
if [ -f "$p" ]; then printf '%s %s %s\n' "$p" "$(stat -c '%a %U:%G' "$p")" "$(sha256sum < "$p" | cut -d' ' -f1)";
else printf '%s %s %s\n' "$p" "$(stat -c '%a %U:%G' "$p")" "$(stat -c %F "$p")"; fi; done`

// listing returns the checksum listing of /srv on every host.
func (a *admin) listing(ctx context.Context) ([]string, error) {
	out, err := a.run(ctx, listScript)
	if err != nil {
		return nil, fmt.Errorf("list /srv: %w", err)
	}
	return out, nil
}

// parallel runs f(0..n-1) at most 32 at a time and joins the errors.
func parallel(n int, f func(i int) error) error {
	errs := make([]error, n)
	sem := make(chan struct{}, 32)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = f(i)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
