package modules

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// Unarchive is the unarchive module for tar (optionally gzip, bzip2 or xz
// compressed) and zip archives. In one exec the archive (sent on stdin when
// it is on the controller) is extracted into a private directory inside
// dest, compared file by file with dest, and copied over only when
// something differs, so a second run is ok and check mode is honest. zip
// needs unzip on the target; without it the module fails saying so.
type Unarchive struct{}

var _ Module = Unarchive{}

// Spec describes unarchive's arguments.
func (Unarchive) Spec() *Spec {
	return &Spec{
		Args: append(fileAttrArgs(),
			Arg{Name: "src", Type: TypePath, Required: true},
			Arg{Name: "dest", Type: TypePath, Required: true},
			Arg{Name: "remote_src", Type: TypeBool, Default: false},
			Arg{Name: "copy", Type: TypeBool},
			Arg{Name: "creates", Type: TypePath},
			Arg{Name: "list_files", Type: TypeBool, Default: false},
			Arg{Name: "exclude", Type: TypeList},
			Arg{Name: "include", Type: TypeList},
			Arg{Name: "keep_newer", Type: TypeBool, Default: false},
			Arg{Name: "extra_opts", Type: TypeList},
			Arg{Name: "io_buffer_size", Type: TypeInt},
			Arg{Name: "validate_certs", Type: TypeBool, Default: true},
			Arg{Name: "decrypt", Type: TypeBool, Default: true},
		),
		CheckMode: true,
	}
}

// Run extracts.
func (Unarchive) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	src, dest := args.String("src"), args.String("dest")
	fail := func(msg string) (Result, error) { return Result{Failed: true, Msg: msg}, nil }
	remote := args.Bool("remote_src")
	if args.Has("copy") {
		remote = !args.Bool("copy")
	}
	var e expander
	var stdin []byte
	srcWord := e.Word(src, true)
	if !remote {
		full := src
		if env.Files != nil {
			f, err := env.Files.Find("files", src)
			if err != nil {
				return fail(fmt.Sprintf("Could not find or access '%s' on the Ansible Controller.", src))
			}
			full = f
		}
		data, err := env.ReadFile(full)
		if err != nil {
			return fail(fmt.Sprintf("Could not find or access '%s' on the Ansible Controller.", src))
		}
		stdin = data
		srcWord = `"$_mdo_w/archive"`
	}
	var excl strings.Builder
	for _, x := range args.Strings("exclude") {
		excl.WriteString(" --exclude=" + conn.Quote(x))
	}
	var zexcl strings.Builder
	if ex := args.Strings("exclude"); len(ex) > 0 {
		zexcl.WriteString(" -x")
		for _, x := range ex {
			zexcl.WriteString(" " + conn.Quote(x))
		}
	}
	var sc strings.Builder
	sc.WriteString(e.Prelude())
	fmt.Fprintf(&sc, "_mdo_dest=%s\n", e.Word(dest, true))
	if c := args.String("creates"); c != "" {
		fmt.Fprintf(&sc, "_mdo_c=%s\n[ -e \"$_mdo_c\" ] && { printf 'skip\\0skipped, since %%s exists\\0' \"$_mdo_c\"; exit 0; }\n", e.Word(c, true))
	}
	check := "0"
	if env.Check {
		check = "1"
	}
	owner := args.String("owner")
	if g := args.String("group"); g != "" {
		owner += ":" + g
	}
	fmt.Fprintf(&sc, `[ -d "$_mdo_dest" ] || { printf 'fail\0dest '"'"'%%s'"'"' must be an existing dir\0' "$_mdo_dest"; exit 0; }
_mdo_w=$(mktemp -d "$_mdo_dest/.mdo-unarchive-XXXXXXXXXX") || { printf 'fail\0cannot create a temporary directory in %%s\0' "$_mdo_dest"; exit 0; }
trap 'rm -rf -- "$_mdo_w"' EXIT
trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 143' TERM
%s
_mdo_s=%s
[ -f "$_mdo_s" ] || { printf 'fail\0Source '"'"'%%s'"'"' does not exist\0' "$_mdo_s"; exit 0; }
mkdir "$_mdo_w/x"
if [ "$(head -c 4 "$_mdo_s" | od -An -c | tr -d ' ')" = 'PK003004' ]; then
  command -v unzip >/dev/null 2>&1 || { printf 'fail\0Failed to find handler for "%%s". Make sure the required command to extract the file is installed. Unable to find required '"'"'unzip'"'"' binary in the path.\0' "$_mdo_s"; exit 0; }
  printf 'handler\0ZipArchive\0'
  _mdo_e=$(unzip -q -o "$_mdo_s" -d "$_mdo_w/x"%s 2>&1) || { printf 'fail\0%%s\0' "$_mdo_e"; exit 0; }
else
  printf 'handler\0TgzArchive\0'
  _mdo_e=$(tar -xf "$_mdo_s" -C "$_mdo_w/x" --no-same-owner%s 2>&1) || { printf 'fail\0Failed to find handler for "%%s": %%s\0' "$_mdo_s" "$_mdo_e"; exit 0; }
fi
cd "$_mdo_w/x" || exit 1
find . -mindepth 1 -exec sh -c 'for f; do printf "file\0%%s\0" "${f#./}"; done' sh {} +
_mdo_m=%s
if [ -n "$_mdo_m" ]; then
  _mdo_e=$(find . -mindepth 1 -exec chmod -- "$_mdo_m" {} + 2>&1) || { printf 'fail\0%%s\0' "$_mdo_e"; exit 0; }
fi
_mdo_ch=$(find . -mindepth 1 -exec sh -c 'm=$1; shift; for f; do if [ -d "$f" ]; then [ -d "$0/$f" ] || { echo 1; exit 0; }; else cmp -s -- "$f" "$0/$f" || { echo 1; exit 0; }; fi; if [ -n "$m" ]; then [ "$(stat -c %%a -- "$f")" = "$(stat -c %%a -- "$0/$f")" ] || { echo 1; exit 0; }; fi; done' "$_mdo_dest" "$_mdo_m" {} + | head -c 1)
[ -n "$_mdo_ch" ] || { printf 'ok\0\0'; exit 0; }
[ %s = 1 ] && { printf 'changed\0\0'; exit 0; }
_mdo_e=$(cp -pR -- . "$_mdo_dest/" 2>&1) || { printf 'fail\0%%s\0' "$_mdo_e"; exit 0; }
if [ -n %s ]; then
  _mdo_e=$(find . -mindepth 1 -maxdepth 1 -exec sh -c 'o=$1; shift; for f; do chown -R -- "$o" "$0/$f" || exit 1; done' "$_mdo_dest" %s {} + 2>&1) || { printf 'fail\0%%s\0' "$_mdo_e"; exit 0; }
fi
printf 'changed\0\0'
`, map[bool]string{true: "", false: `cat > "$_mdo_w/archive" || { printf 'fail\0upload\0'; exit 0; }`}[remote], srcWord, zexcl.String(), excl.String(), conn.Quote(args.String("mode")), check, conn.Quote(owner), conn.Quote(owner))
	script := sc.String()
	res, err := env.Conn.Exec(ctx, conn.Command{Script: script, Stdin: stdin})
	if err != nil {
		return Result{}, fmt.Errorf("unarchive %s: %w", src, err)
	}
	values := map[string]any{"src": src, "dest": dest}
	parts := bytes.Split(res.Stdout, []byte{0})
	var files []string
	status := ""
	for i := 0; i+1 < len(parts); i += 2 {
		k, v := string(parts[i]), string(parts[i+1])
		switch k {
		case "file":
			files = append(files, v)
		case "handler":
			values["handler"] = v
		case "fail":
			return Result{Failed: true, Msg: strings.TrimSpace(v), Values: values}, nil
		case "skip":
			return Result{Msg: v, Values: values}, nil
		case "ok", "changed":
			status = k
		}
	}
	if status == "" {
		return Result{Failed: true, Msg: fmt.Sprintf("unarchive script failed (rc %d): %s", res.RC, strings.TrimSpace(string(res.Stderr))), Values: values}, nil
	}
	if args.Bool("list_files") {
		values["files"] = files
	}
	return Result{Changed: status == "changed", Values: values}, nil
}
