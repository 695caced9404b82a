package ssh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/mdo-play/mdo-play/modules/conn"
)

var _ conn.ProcessStarter = (*Client)(nil)

// StartProcess runs cmdline in a session of its own and hands back its
// standard input and output (conn.ProcessStarter). The session holds one
// of the connection's session tokens, counted with the shells', until the
// process is closed.
func (c *Client) StartProcess(ctx context.Context, cmdline string, preamble []byte) (*conn.Process, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("start process on %s: %w", c.alias, err)
	}
	if !c.alive() {
		return nil, c.lost("start process", errors.New("connection gone"), 0)
	}
	if !c.takeShellToken() {
		return nil, fmt.Errorf("%w: no session left for a process on %s", ErrNoShell, c.alias)
	}
	var once sync.Once
	release := func() { once.Do(c.releaseShellToken) }
	sess, err := c.newSession(ctx)
	if err != nil {
		release()
		return nil, c.classify("open session", err)
	}
	stdin, err1 := sess.StdinPipe()
	stdout, err2 := sess.StdoutPipe()
	stderr, err3 := sess.StderrPipe()
	if err := errors.Join(err1, err2, err3); err != nil {
		sess.Close()
		release()
		return nil, fmt.Errorf("start process on %s: %w", c.alias, err)
	}
	if err := sess.Start(cmdline); err != nil {
		sess.Close()
		release()
		return nil, c.classify("start process", err)
	}
	tail := &tailBuffer{max: 4 << 10}
	go func() { _, _ = io.Copy(tail, stderr) }()
	if len(preamble) > 0 {
		if _, err := stdin.Write(preamble); err != nil {
			sess.Close()
			release()
			return nil, c.classify("start process", err)
		}
	}
	return &conn.Process{
		Stdin:  stdin,
		Stdout: stdout,
		Stderr: tail.String,
		Close: func() error {
			stdin.Close()
			err := sess.Close()
			release()
			if errors.Is(err, io.EOF) {
				err = nil
			}
			return err
		},
	}, nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
