package modules

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// This file holds the user module's generate_ssh_key: after the account
// is in place, one exec makes the key with ssh-keygen unless it exists
// (Ansible's ssh_key_gen), and reads its fingerprint and public key.

// Run keeps the account, then the SSH key when generate_ssh_key asks.
func (u User) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	res, err := u.runAccount(ctx, env, args)
	if err != nil || res.Failed || args.String("state") != "present" || !args.Bool("generate_ssh_key") {
		return res, err
	}
	return userSSHKey(ctx, env, args, res)
}

// userSSHKeyScript makes the key. Values arrive in the environment, the
// passphrase on stdin; it prints, NUL-terminated: the key's path, the
// outcome (exists, would, created, nouser, or failed and the message),
// the fingerprint and the public key.
const userSSHKeyScript = `IFS= read -r P
pw=$(getent passwd "$MDO_U") || { printf '\0nouser\0\0\0'; exit 0; }
home=$(printf '%s' "$pw" | cut -d: -f6); uid=$(printf '%s' "$pw" | cut -d: -f3); gid=$(printf '%s' "$pw" | cut -d: -f4)
f=$MDO_F
case $f in /*) ;; *) f=$home/$f ;; esac
printf '%s\0' "$f"
d=$(dirname -- "$f")
if [ -e "$f" ] && [ -z "$MDO_FORCE" ]; then
  printf 'exists\0'
elif [ -n "$MDO_CHECK" ]; then
  printf 'would\0'
else
  c=${MDO_C-ansible-generated on $(uname -n)}
  if ! e=$( { [ -d "$d" ] || { mkdir -m 0700 -- "$d" && chown "$uid:$gid" -- "$d"; }; } 2>&1); then
    printf 'failed\0Failed to create %s: %s\0\0\0' "$d" "$e"; exit 0
  fi
  rm -f -- "$f" "$f.pub"
  if ! e=$(ssh-keygen -q -t "$MDO_T" ${MDO_B:+-b "$MDO_B"} -C "$c" -f "$f" -N "$P" </dev/null 2>&1); then
    printf 'failed\0%s\0\0\0' "$e"; exit 0
  fi
  chown "$uid:$gid" -- "$f" "$f.pub"
  printf 'created\0'
fi
[ -e "$f" ] && ssh-keygen -l -f "$f" 2>&1; printf '\0'
cat -- "$f.pub" 2>/dev/null; printf '\0'
`

// userSSHKey adds the key step's outcome and values to the account's
// result.
func userSSHKey(ctx context.Context, env *Env, args Args, res Result) (Result, error) {
	name := args.String("name")
	file := args.String("ssh_key_file")
	if file == "" {
		file = ".ssh/id_" + args.String("ssh_key_type")
	}
	if strings.ContainsAny(args.String("ssh_key_passphrase"), "\n\r") {
		res.Failed, res.Msg = true, "ssh_key_passphrase must not contain a newline"
		return res, nil
	}
	vars := map[string]string{"MDO_U": name, "MDO_F": file, "MDO_T": args.String("ssh_key_type")}
	if args.Has("ssh_key_bits") && args.Int("ssh_key_bits") > 0 {
		vars["MDO_B"] = strconv.Itoa(args.Int("ssh_key_bits"))
	}
	if args.Has("ssh_key_comment") {
		vars["MDO_C"] = args.String("ssh_key_comment")
	}
	if args.Bool("force") {
		vars["MDO_FORCE"] = "1"
	}
	if env.Check {
		vars["MDO_CHECK"] = "1"
	}
	r, err := env.Conn.Exec(ctx, conn.Command{Script: userSSHKeyScript, Env: vars, Stdin: []byte(args.String("ssh_key_passphrase") + "\n")})
	if err != nil {
		return Result{}, fmt.Errorf("ssh key of user %s: %w", name, err)
	}
	f := bytes.Split(r.Stdout, []byte{0})
	if r.RC != 0 || len(f) < 4 {
		res.Failed, res.Msg = true, strings.TrimSpace(string(r.Stderr))
		return res, nil
	}
	if res.Values == nil {
		res.Values = map[string]any{}
	}
	path, status := string(f[0]), string(f[1])
	switch status {
	case "nouser":
		// check mode before the account exists: the key would be made
		res.Changed = true
		return res, nil
	case "failed":
		res.Failed, res.Msg = true, string(f[2])
		res.Values["rc"] = 1
		return res, nil
	case "would", "created":
		res.Changed = true
		if args.Bool("force") && status == "created" {
			res.Warnings = append(res.Warnings, fmt.Sprintf("Overwriting existing ssh key private key file %q", path))
		}
	}
	rest := f[2:]
	res.Values["ssh_fingerprint"] = strings.TrimSpace(string(rest[0]))
	res.Values["ssh_key_file"] = path
	if pub := strings.TrimSpace(string(rest[1])); pub != "" {
		res.Values["ssh_public_key"] = pub
	} else {
		res.Values["ssh_public_key"] = nil
	}
	return res, nil
}
