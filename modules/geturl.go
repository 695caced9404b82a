package modules

import (
	"bytes"
	"context"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// GetURL is the get_url module: the target downloads url with curl (or
// wget) into a temporary file next to dest, checks the checksum, and
// renames it over dest only when the content differs, in one exec. When
// dest already matches checksum (or exists and force is off) nothing is
// downloaded.
type GetURL struct{}

var _ Module = GetURL{}

// Spec describes get_url's arguments.
func (GetURL) Spec() *Spec {
	return &Spec{
		Args: append(fileAttrArgs(),
			Arg{Name: "url", Type: TypeStr, Required: true},
			Arg{Name: "dest", Type: TypePath, Required: true},
			Arg{Name: "checksum", Type: TypeStr, Default: ""},
			Arg{Name: "force", Type: TypeBool, Default: false},
			Arg{Name: "backup", Type: TypeBool, Default: false},
			Arg{Name: "timeout", Type: TypeInt, Default: 10},
			Arg{Name: "headers", Type: TypeDict},
			Arg{Name: "url_username", Aliases: []string{"username"}, Type: TypeStr},
			Arg{Name: "url_password", Aliases: []string{"password"}, Type: TypeStr, NoLog: true},
			Arg{Name: "validate_certs", Type: TypeBool, Default: true},
			Arg{Name: "force_basic_auth", Type: TypeBool, Default: false},
			Arg{Name: "use_proxy", Type: TypeBool, Default: true},
			Arg{Name: "http_agent", Type: TypeStr, Default: "ansible-httpget"},
			Arg{Name: "tmp_dest", Type: TypePath},
		),
		CheckMode: true,
	}
}

var sumTools = map[string]string{"md5": "md5sum", "sha1": "sha1sum", "sha224": "sha224sum", "sha256": "sha256sum", "sha384": "sha384sum", "sha512": "sha512sum"}

// Run downloads.
func (GetURL) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	url, dest := args.String("url"), args.String("dest")
	fail := func(msg string) (Result, error) {
		return Result{Failed: true, Msg: msg, Values: map[string]any{"url": url, "dest": dest}}, nil
	}
	algo, want, sumsURL := "", "", ""
	if c := args.String("checksum"); c != "" {
		a, v, ok := strings.Cut(c, ":")
		if !ok || sumTools[a] == "" {
			return fail("The checksum parameter has to be in format <algorithm>:<checksum>")
		}
		algo, want = a, strings.ToLower(strings.TrimSpace(v))
		if strings.HasPrefix(v, "http://") || strings.HasPrefix(v, "https://") || strings.HasPrefix(v, "file://") {
			// A checksum file (sha256sum's output format, or a bare hash):
			// fetched on the target, the line for the downloaded file's
			// name is used, as Ansible does.
			sumsURL, want = strings.TrimSpace(v), "url"
		}
	}
	var e expander
	var sc strings.Builder
	sc.WriteString(e.Prelude())
	fmt.Fprintf(&sc, "_mdo_f=%s\n_mdo_url=%s\n", e.Word(dest, true), conn.Quote(url))
	fmt.Fprintf(&sc, "[ -d \"$_mdo_f\" ] && _mdo_f=\"${_mdo_f%%/}/\"%s\n", conn.Quote(urlBase(url)))
	sc.WriteString("printf 'dest\\0%s\\0' \"$_mdo_f\"\n")
	if sumsURL != "" {
		k := ""
		if !args.Bool("validate_certs") {
			k = " -k"
		}
		fmt.Fprintf(&sc, `_mdo_su=%s _mdo_base=%s
if command -v curl >/dev/null 2>&1; then _mdo_sums=$(curl -fsSL%s --max-time %d "$_mdo_su" 2>&1) || { printf 'fail\0Unable to fetch the checksum file %%s: %%s\0' "$_mdo_su" "$_mdo_sums"; exit 0; }
elif command -v wget >/dev/null 2>&1; then _mdo_sums=$(wget -q -T %d -O - "$_mdo_su" 2>&1) || { printf 'fail\0Unable to fetch the checksum file %%s\0' "$_mdo_su"; exit 0; }
else printf 'fail\0get_url needs curl or wget on the target; neither was found\0'; exit 0; fi
_mdo_want= _mdo_one=
while read -r _mdo_h _mdo_n; do
  _mdo_n=${_mdo_n#\*}; _mdo_n=${_mdo_n#./}
  if [ "$_mdo_n" = "$_mdo_base" ]; then _mdo_want=$_mdo_h; break; fi
  [ -n "$_mdo_n" ] || [ -n "$_mdo_one" ] || _mdo_one=$_mdo_h
done <<__MDO_SUMS
$_mdo_sums
__MDO_SUMS
[ -n "$_mdo_want" ] || _mdo_want=$_mdo_one
[ -n "$_mdo_want" ] || { printf 'fail\0Unable to find a checksum for file %%s in %%s\0' "$_mdo_base" "$_mdo_su"; exit 0; }
_mdo_want=$(printf '%%s' "$_mdo_want" | tr 'A-F' 'a-f')
`, conn.Quote(sumsURL), conn.Quote(urlBase(url)), k, args.Int("timeout"), args.Int("timeout"))
	} else if want != "" {
		fmt.Fprintf(&sc, "_mdo_want=%s\n", conn.Quote(want))
	}
	if want != "" {
		fmt.Fprintf(&sc, "if [ -f \"$_mdo_f\" ]; then _mdo_s=$(%s < \"$_mdo_f\"); [ \"${_mdo_s%%%% *}\" = \"$_mdo_want\" ] && { printf 'ok\\0%%s\\0' \"$(sha1sum < \"$_mdo_f\" | cut -d' ' -f1)\"; exit 0; }; fi\n", sumTools[algo])
	} else if !args.Bool("force") {
		sc.WriteString("[ -e \"$_mdo_f\" ] && { printf 'exists\\0file already exists\\0'; exit 0; }\n")
	}
	sc.WriteString(`_mdo_d=${_mdo_f%/*}; [ -n "$_mdo_d" ] || _mdo_d=/
[ -d "$_mdo_d" ] || { printf 'fail\0Destination %s does not exist\0' "$_mdo_d"; exit 0; }
_mdo_t=$(mktemp "$_mdo_d/.mdo-get-XXXXXXXXXX") || { printf 'fail\0cannot create a temporary file in %s\0' "$_mdo_d"; exit 0; }
trap 'rm -f -- "$_mdo_t"' EXIT
trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 143' TERM
`)
	timeout := args.Int("timeout")
	var curl, wget strings.Builder
	fmt.Fprintf(&curl, "curl -sSL --max-time %d -A %s -o \"$_mdo_t\" -w '%%{http_code}'", timeout, conn.Quote(args.String("http_agent")))
	fmt.Fprintf(&wget, "wget -q -T %d -U %s -O \"$_mdo_t\"", timeout, conn.Quote(args.String("http_agent")))
	if !args.Bool("validate_certs") {
		curl.WriteString(" -k")
		wget.WriteString(" --no-check-certificate")
	}
	headers := args.Dict("headers")
	keys := make([]string, 0, len(headers))
	for k := range headers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		h := conn.Quote(fmt.Sprintf("%s: %v", k, headers[k]))
		curl.WriteString(" -H " + h)
		wget.WriteString(" --header=" + h)
	}
	// Credentials reach the program through the environment, never the
	// command line or the output.
	cmdEnv := map[string]string{}
	if u := args.String("url_username"); u != "" {
		cmdEnv["MDO_URL_USER"] = u + ":" + args.String("url_password")
		curl.WriteString(` -u "$MDO_URL_USER"`)
		wget.WriteString(` --user="${MDO_URL_USER%%:*}" --password="${MDO_URL_USER#*:}"`)
	}
	fmt.Fprintf(&sc, `if command -v curl >/dev/null 2>&1; then
  _mdo_code=$(%s "$_mdo_url" 2>"$_mdo_t.err"); _mdo_rc=$?
  _mdo_err=$(cat "$_mdo_t.err"); rm -f "$_mdo_t.err"
  [ $_mdo_rc -eq 0 ] || { printf 'fail\0Request failed: %%s\0' "$_mdo_err"; exit 0; }
  case $_mdo_code in 2*) ;; 000) case $_mdo_url in [Hh][Tt][Tt][Pp]*) printf 'fail\0Request failed: no HTTP status\0'; exit 0 ;; esac; _mdo_code=200 ;; *) printf 'status\0%%s\0fail\0Request failed: HTTP Error %%s\0' "$_mdo_code" "$_mdo_code"; exit 0 ;; esac
elif command -v wget >/dev/null 2>&1; then
  _mdo_err=$(%s "$_mdo_url" 2>&1) || { printf 'fail\0Request failed: %%s\0' "$_mdo_err"; exit 0; }
  _mdo_code=200
else
  printf 'fail\0get_url needs curl or wget on the target; neither was found\0'; exit 0
fi
printf 'status\0%%s\0size\0%%s\0' "$_mdo_code" "$(wc -c < "$_mdo_t")"
_mdo_src=$(sha1sum < "$_mdo_t" | cut -d' ' -f1)
printf 'checksum_src\0%%s\0' "$_mdo_src"
`, curl.String(), wget.String())
	if want != "" {
		fmt.Fprintf(&sc, "_mdo_s=$(%s < \"$_mdo_t\"); [ \"${_mdo_s%%%% *}\" = \"$_mdo_want\" ] || { printf 'fail\\0The checksum for %%s did not match %%s; it was %%s.\\0' \"$_mdo_f\" \"$_mdo_want\" \"${_mdo_s%%%% *}\"; exit 0; }\n", sumTools[algo])
	}
	sc.WriteString(`if [ -f "$_mdo_f" ]; then
  _mdo_dst=$(sha1sum < "$_mdo_f" | cut -d' ' -f1)
  printf 'checksum_dest\0%s\0' "$_mdo_dst"
  [ "$_mdo_dst" = "$_mdo_src" ] && { printf 'same\0\0'; exit 0; }
fi
`)
	if env.Check {
		sc.WriteString("printf 'changed\\0\\0'; exit 0\n")
	} else {
		sc.WriteString(`if [ -f "$_mdo_f" ]; then chmod "$(stat -c %a -- "$_mdo_f")" "$_mdo_t"; chown "$(stat -c %u:%g -- "$_mdo_f")" "$_mdo_t" 2>/dev/null
else chmod "$(printf '%o' $((0666 & ~$(umask))))" "$_mdo_t"; fi
`)
		if args.Bool("backup") {
			sc.WriteString(`[ -f "$_mdo_f" ] && { _mdo_b="$_mdo_f.$$.$(date +%Y-%m-%d@%H:%M:%S)~"; cp -p -- "$_mdo_f" "$_mdo_b" && printf 'backup_file\0%s\0' "$_mdo_b"; }` + "\n")
		}
		sc.WriteString("_mdo_e=$(mv -f -- \"$_mdo_t\" \"$_mdo_f\" 2>&1) || { printf 'fail\\0%s\\0' \"$_mdo_e\"; exit 0; }\ntrap - EXIT\nprintf 'changed\\0\\0'\n")
	}
	res, err := env.Conn.Exec(ctx, conn.Command{Script: sc.String(), Env: cmdEnv})
	if err != nil {
		return Result{}, fmt.Errorf("get_url %s: %w", url, err)
	}
	values := map[string]any{"url": url, "dest": dest}
	parts := bytes.Split(res.Stdout, []byte{0})
	status := ""
	for i := 0; i+1 < len(parts); i += 2 {
		k, v := string(parts[i]), string(parts[i+1])
		switch k {
		case "fail":
			values["msg"] = v
			return Result{Failed: true, Msg: strings.TrimSpace(v), Values: values}, nil
		case "status":
			var code int
			fmt.Sscan(v, &code)
			values["status_code"] = code
		case "size":
			var n int
			fmt.Sscan(strings.TrimSpace(v), &n)
			values["size"] = n
			values["msg"] = fmt.Sprintf("OK (%d bytes)", n)
		case "ok":
			status = "ok"
			values["checksum_dest"] = v
			values["checksum_src"] = v
			values["msg"] = "file already exists"
		case "exists":
			status = "ok"
			values["msg"] = v
		case "same", "changed":
			status = k
		default:
			values[k] = v
		}
	}
	if status == "" {
		return Result{Failed: true, Msg: fmt.Sprintf("get_url script failed (rc %d): %s", res.RC, strings.TrimSpace(string(res.Stderr))), Values: values}, nil
	}
	r := Result{Changed: status == "changed", Values: values}
	a := attrsOf(args)
	if a == (Attrs{}) || (env.Check && status == "changed") {
		return r, nil
	}
	st, err := ReadFile(ctx, env.Conn, values["dest"].(string), ReadOptions{NoChecksum: true})
	if err != nil {
		return FailResult(err, values)
	}
	fr, err := fixAttrs(ctx, env, st, a, values)
	if r.Changed {
		// A fresh download: its attributes are part of the change, as
		// in check mode, where nothing was written to compare with.
		fr.Changed, fr.Diff = true, nil
	}
	return fr, err
}

// urlBase is the file name a URL's path ends with (get_url's default name
// when dest is a directory).
func urlBase(url string) string {
	u := url
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
	}
	b := path.Base(u)
	if b == "." || b == "/" || !strings.Contains(u, "/") {
		return "index.html"
	}
	return b
}
