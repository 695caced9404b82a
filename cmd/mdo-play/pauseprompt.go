package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"

	"github.com/mdo-play/mdo-play/playbook/engine"
)

// ttyPrompter answers pause's prompts from the terminal, as Ansible's
// pause reads them: the prompt on stdout, the answer read up to enter,
// without echo when asked.
type ttyPrompter struct {
	tty      *os.File
	out      io.Writer
	progress *progressSink // kept off the terminal while asking; may be nil
}

var _ engine.Prompter = ttyPrompter{}

// Prompt shows text and reads one line. A cancelled run (Ctrl-C) stops
// waiting at once; the blocked read ends with the process.
func (p ttyPrompter) Prompt(ctx context.Context, text string, echo bool) (string, error) {
	if p.progress != nil {
		defer p.progress.hold()()
	}
	fmt.Fprint(p.out, text)
	type answer struct {
		s   string
		err error
	}
	ch := make(chan answer, 1)
	go func() {
		if echo {
			s, err := readLine(p.tty)
			ch <- answer{s, err}
			return
		}
		b, err := term.ReadPassword(int(p.tty.Fd()))
		fmt.Fprintln(p.out)
		if err == io.EOF {
			err = nil
		}
		ch <- answer{string(b), err}
	}()
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case a := <-ch:
		return a.s, a.err
	}
}

// prompter returns the terminal prompter when stdin and stdout are a
// terminal and the output is text (nil otherwise: pause then does not
// wait for an answer).
func (a *app) prompter(out *outputs) engine.Prompter {
	if out.json != nil {
		return nil
	}
	tty, ok := a.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(tty.Fd())) {
		return nil
	}
	if out, ok := a.stdout.(*os.File); !ok || !term.IsTerminal(int(out.Fd())) {
		return nil
	}
	return ttyPrompter{tty: tty, out: a.stdout, progress: out.progress}
}
