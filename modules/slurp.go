package modules

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// Slurp is ansible.builtin.slurp: it reads a file on the target and
// returns its content base64-encoded (content, encoding "base64", source).
// An absolute path is read with the connection's Get (SFTP over SSH, no
// command on the target); a path with ~ or $VAR, or a read that Get could
// not do, goes through one script that expands the path as Ansible's
// type=path does and tells the failures apart with Ansible's messages.
type Slurp struct{}

var _ Module = Slurp{}

// Spec describes slurp's arguments.
func (Slurp) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "src", Aliases: []string{"path"}, Type: TypePath, Required: true},
		},
		CheckMode: true,
	}
}

// Run reads the file.
func (Slurp) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	src := args.String("src")
	var buf bytes.Buffer
	if strings.HasPrefix(src, "/") && !strings.Contains(src, "$") {
		err := env.Conn.Get(ctx, src, &buf)
		if err == nil {
			return slurpResult(src, buf.Bytes()), nil
		}
		if ctx.Err() != nil || errors.Is(err, conn.ErrUnreachable) {
			return Result{}, fmt.Errorf("slurp %s: %w", src, err)
		}
		// Not there, a directory, not readable, or no file transfer at
		// the moment: the script says which.
		buf.Reset()
	}
	var e expander
	word := e.Word(src, true)
	script := e.Prelude() + "_mdo_p=" + word + `
printf '%s\0' "$_mdo_p"
if [ -d "$_mdo_p" ]; then printf 'isdir\0'
elif ! [ -e "$_mdo_p" ]; then printf 'missing\0'
elif ! [ -r "$_mdo_p" ]; then printf 'denied\0'
else printf 'ok\0'; exec cat -- "$_mdo_p"
fi
`
	res, err := env.Conn.Exec(ctx, conn.Command{Script: script})
	if err != nil {
		return Result{}, fmt.Errorf("slurp %s: %w", src, err)
	}
	parts := bytes.SplitN(res.Stdout, []byte{0}, 3)
	if len(parts) < 3 {
		return Result{Failed: true, Msg: fmt.Sprintf("unable to slurp file: %s", slurpStderr(res, src))}, nil
	}
	source := string(parts[0])
	switch string(parts[1]) {
	case "isdir":
		return Result{Failed: true, Msg: "source is a directory and must be a file: " + source}, nil
	case "missing":
		return Result{Failed: true, Msg: "file not found: " + source}, nil
	case "denied":
		return Result{Failed: true, Msg: "file is not readable: " + source}, nil
	}
	if res.RC != 0 {
		return Result{Failed: true, Msg: fmt.Sprintf("unable to slurp file: %s", slurpStderr(res, source))}, nil
	}
	return slurpResult(source, parts[2]), nil
}

func slurpStderr(res conn.ExecResult, src string) string {
	msg := strings.TrimSpace(string(res.Stderr))
	if msg == "" {
		msg = fmt.Sprintf("rc %d reading %s", res.RC, src)
	}
	return msg
}

func slurpResult(source string, content []byte) Result {
	return Result{Values: map[string]any{
		"content":  base64.StdEncoding.EncodeToString(content),
		"encoding": "base64",
		"source":   source,
	}}
}
