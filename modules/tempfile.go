package modules

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// Tempfile is ansible.builtin.tempfile: it creates a new file (mode 0600)
// or directory (0700) with a random name, prefix + 8 characters of
// [a-z0-9_] + suffix as Python's tempfile names it, in path or in the
// target's temporary directory (TMPDIR, TEMP, TMP, /tmp, /var/tmp,
// /usr/tmp, the working directory: the first that is a writable
// directory, as Python's gettempdir). It always reports a change and, as
// in Ansible (no supports_check_mode), it is skipped in check mode. The
// result carries the path and its attributes (mode, owner, size, state,
// ...) as Ansible's add_path_info adds them. One exec.
type Tempfile struct{}

var _ Module = Tempfile{}

// Spec describes tempfile's arguments.
func (Tempfile) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "state", Type: TypeStr, Default: "file", Choices: []string{"file", "directory"}},
			{Name: "path", Type: TypePath},
			{Name: "prefix", Type: TypeStr, Default: "ansible."},
			{Name: "suffix", Type: TypeStr, Default: ""},
		},
	}
}

// tempfileScript creates the file or directory; $_mdo_d is the directory
// (empty: find one), $_mdo_pre and $_mdo_suf the name's ends, $_mdo_dir
// "1" for a directory. It prints a stat record of the new path, or a fail
// record with Python's errno message.
const tempfileScript = `if [ -z "$_mdo_d" ]; then
  for _mdo_c in "${TMPDIR-}" "${TEMP-}" "${TMP-}" /tmp /var/tmp /usr/tmp "$PWD"; do
    [ -n "$_mdo_c" ] && [ -d "$_mdo_c" ] && [ -w "$_mdo_c" ] && [ -x "$_mdo_c" ] && { _mdo_d=$_mdo_c; break; }
  done
  [ -n "$_mdo_d" ] || { printf 'fail\0mkstemp\0No usable temporary directory found\0'; exit 1; }
fi
case $_mdo_d in /*) ;; *) _mdo_d=$PWD/$_mdo_d ;; esac
_mdo_n=0
while :; do
  _mdo_r=$(LC_ALL=C tr -dc 'abcdefghijklmnopqrstuvwxyz0123456789_' </dev/urandom 2>/dev/null | head -c 8)
  _mdo_f=$_mdo_d/$_mdo_pre$_mdo_r$_mdo_suf
  if ! [ -d "$_mdo_d" ]; then
    if [ -e "$_mdo_d" ]; then _mdo_e=20; _mdo_m='Not a directory'; else _mdo_e=2; _mdo_m='No such file or directory'; fi
    printf "fail\0mkstemp\0[Errno %s] %s: '%s'\0" "$_mdo_e" "$_mdo_m" "$_mdo_f"; exit 1
  fi
  if ! [ -w "$_mdo_d" ] || ! [ -x "$_mdo_d" ]; then
    printf "fail\0mkstemp\0[Errno 13] Permission denied: '%s'\0" "$_mdo_f"; exit 1
  fi
  if [ -e "$_mdo_f" ] || [ -L "$_mdo_f" ]; then :
  elif [ "$_mdo_dir" = 1 ]; then
    _mdo_o=$(mkdir -m 700 -- "$_mdo_f" 2>&1) && break
  else
    _mdo_o=$( { umask 077; set -C; : >"$_mdo_f"; } 2>&1) && break
  fi
  _mdo_n=$((_mdo_n + 1))
  if [ $_mdo_n -ge 100 ]; then
    [ -n "${_mdo_o-}" ] || _mdo_o="No usable temporary file name found"
    printf 'fail\0mkstemp\0%s\0' "$_mdo_o"; exit 1
  fi
done
`

// Run creates the file or directory.
func (Tempfile) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	var e expander
	dir := `""`
	if args.Has("path") {
		dir = e.Word(args.String("path"), true)
	}
	isDir := "0"
	if args.String("state") == "directory" {
		isDir = "1"
	}
	script := e.Prelude() + fmt.Sprintf("_mdo_d=%s\n_mdo_pre=%s\n_mdo_suf=%s\n_mdo_dir=%s\n", dir,
		conn.Quote(args.String("prefix")), conn.Quote(args.String("suffix")), isDir) +
		tempfileScript + statRecord(env.Conn, "_mdo_f")
	res, err := env.Conn.Exec(ctx, conn.Command{Script: script})
	if err != nil {
		return Result{}, fmt.Errorf("tempfile: %w", err)
	}
	if rest, ok := bytes.CutPrefix(res.Stdout, []byte("fail\x00mkstemp\x00")); ok {
		// The message as Python words it ("[Errno 2] No such file or
		// directory: '/nope/ansible.xxxxxxxx'") or the shell's.
		msg, _, _ := bytes.Cut(rest, []byte{0})
		return Result{Failed: true, Msg: strings.TrimSpace(string(msg))}, nil
	}
	recs, umask := parseRecords(res.Stdout)
	if len(recs) != 1 || res.RC != 0 {
		return Result{Failed: true, Msg: fmt.Sprintf("tempfile: unexpected output (rc %d): %s", res.RC, bytes.TrimSpace(res.Stderr))}, nil
	}
	st, err := namedState(ctx, env.Conn, recs[0], umask)
	if err != nil {
		return FailResult(err, nil)
	}
	return Result{Changed: true, Values: FileValues("path", st)}, nil
}
