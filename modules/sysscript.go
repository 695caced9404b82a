package modules

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// The system modules (package managers, services, users, cron, ...) build
// one shell script per call that reports back through NUL-separated
// key/value fields printed on stdout with the shell function below; output
// of the programs they run is captured into fields too, so nothing else
// reaches stdout.

// fieldFunc defines _mdo_f KEY VALUE, which prints one field.
const fieldFunc = "_mdo_f() { printf '%s\\0%s\\0' \"$1\" \"$2\"; }\n"

// field is one key/value pair a system script printed.
type field struct{ k, v string }

// fields holds a script's fields in the order they were printed.
type fields []field

// parseFields reads key\0value\0 pairs; a trailing incomplete pair is dropped.
func parseFields(b []byte) fields {
	parts := bytes.Split(b, []byte{0})
	out := make(fields, 0, len(parts)/2)
	for i := 0; i+1 < len(parts); i += 2 {
		out = append(out, field{string(parts[i]), string(parts[i+1])})
	}
	return out
}

// get returns the last value printed for k.
func (f fields) get(k string) (string, bool) {
	for i := len(f) - 1; i >= 0; i-- {
		if f[i].k == k {
			return f[i].v, true
		}
	}
	return "", false
}

// str returns the last value printed for k, or "".
func (f fields) str(k string) string {
	v, _ := f.get(k)
	return v
}

// all returns every value printed for k, in order.
func (f fields) all(k string) []string {
	var out []string
	for _, x := range f {
		if x.k == k {
			out = append(out, x.v)
		}
	}
	return out
}

// runScript runs a system script and parses its fields. The error wraps the
// transport's error; what names the module call for the error message.
func runScript(ctx context.Context, env *Env, what, script string, stdin []byte) (fields, conn.ExecResult, error) {
	res, err := env.Conn.Exec(ctx, conn.Command{Script: fieldFunc + script, Stdin: stdin})
	if err != nil {
		return nil, res, fmt.Errorf("%s: %w", what, err)
	}
	return parseFields(res.Stdout), res, nil
}

// scriptFailure is the failed result for a script that stopped before
// reporting (the shell itself failed).
func scriptFailure(what string, res conn.ExecResult) Result {
	return Result{Failed: true, Msg: fmt.Sprintf("%s script failed (rc %d): %s", what, res.RC, strings.TrimSpace(string(res.Stderr)))}
}

// appendWord returns shell code appending the quoted word for s to the shell
// variable v, so that `eval "set -- $v"` later yields the words unchanged.
func appendWord(v, s string) string {
	return v + "=$" + v + conn.Quote(" "+conn.Quote(s)) + "\n"
}

// quoteWords quotes each word and joins them with spaces.
func quoteWords(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = conn.Quote(w)
	}
	return strings.Join(q, " ")
}

// sysBackupScript returns shell code that copies p, when it exists, to
// P.PID.YYYY-MM-DD@HH:MM:SS~ (Ansible's backup_local) and prints the field
// backup_file; a failed copy prints werr and exits.
func sysBackupScript(p string) string {
	return "if [ -f " + conn.Quote(p) + " ]; then _mdo_b=" + conn.Quote(p) + `".$$.$(date +%Y-%m-%d@%H:%M:%S)~"
  _mdo_o=$(cp -p -- ` + conn.Quote(p) + ` "$_mdo_b" 2>&1) || { _mdo_f werr "backup: $_mdo_o"; exit 0; }
  _mdo_f backup_file "$_mdo_b"
fi
`
}
