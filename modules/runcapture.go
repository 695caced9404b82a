package modules

import "strings"

// runCaptureScript defines, for the system scripts of make, git_config,
// npm, gem, capabilities, patch, htpasswd and apache2_module,
// `_mdo_run TAG CMD ARGS...`: it runs the command with its stdout and
// stderr captured apart (stderr through a temporary file removed on exit)
// and prints the fields TAG.rc, TAG.out and TAG.err, as Ansible's
// run_command returns rc, out and err; it returns the command's status.
// Command substitution drops trailing newlines of both outputs.
const runCaptureScript = `_mdo_e=$(mktemp) || { _mdo_f fail "mktemp failed"; exit 0; }
trap 'rm -f -- "$_mdo_e"' EXIT
_mdo_run() {
  _mdo_t=$1; shift
  _mdo_o=$("$@" 2>"$_mdo_e"); _mdo_r=$?
  _mdo_f "$_mdo_t.rc" "$_mdo_r"; _mdo_f "$_mdo_t.out" "$_mdo_o"; _mdo_f "$_mdo_t.err" "$(cat -- "$_mdo_e")"
  return $_mdo_r
}
`

// captured is one command's outcome as _mdo_run reported it.
type captured struct {
	ran      bool
	rc       int
	out, err string
}

// capturedOf reads the fields _mdo_run printed for tag.
func capturedOf(f fields, tag string) captured {
	rc, ok := f.get(tag + ".rc")
	if !ok {
		return captured{}
	}
	n := 0
	for _, c := range rc {
		if c < '0' || c > '9' {
			n = -1
			break
		}
		n = n*10 + int(c-'0')
	}
	return captured{ran: true, rc: n, out: f.str(tag + ".out"), err: f.str(tag + ".err")}
}

// msg is Ansible's message for a failed run_command with check_rc: the
// stripped stderr.
func (c captured) msg() string { return strings.TrimRight(c.err, " \t\r\n") }
