package modules

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// URI is the uri module: one HTTP request made on the target with curl
// (or GNU wget when curl is missing), in one exec. Everything secret or
// large travels on the script's stdin, never on a command line: the curl
// config (URL, headers, credentials), the wgetrc and the body.
type URI struct {
	// tool forces "curl" or "wget"; "" picks curl, then wget. Tests set it.
	tool string
}

var _ Module = URI{}

// Spec describes uri's arguments.
func (URI) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "url", Type: TypeStr, Required: true},
			{Name: "method", Type: TypeStr, Default: "GET"},
			{Name: "body", Type: TypeRaw},
			{Name: "body_format", Type: TypeStr, Default: "raw", Choices: []string{"form-urlencoded", "json", "raw"}},
			{Name: "status_code", Type: TypeList, Default: []any{200}},
			{Name: "return_content", Type: TypeBool, Default: false},
			{Name: "headers", Type: TypeDict},
			{Name: "url_username", Aliases: []string{"user"}, Type: TypeStr},
			{Name: "url_password", Aliases: []string{"password"}, Type: TypeStr, NoLog: true},
			{Name: "force_basic_auth", Type: TypeBool, Default: false},
			{Name: "validate_certs", Type: TypeBool, Default: true},
			{Name: "follow_redirects", Type: TypeStr, Default: "safe", Choices: []string{"all", "no", "none", "safe", "urllib2", "yes"}},
			{Name: "timeout", Type: TypeInt, Default: 30},
			{Name: "dest", Type: TypePath},
			{Name: "creates", Type: TypePath},
			{Name: "removes", Type: TypePath},
			{Name: "http_agent", Type: TypeStr, Default: "ansible-httpget"},
		},
		// Ansible's uri has no check mode: the engine skips it under --check.
		CheckMode: false,
	}
}

// curlQuote quotes s for a curl config file.
func curlQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`, "\t", `\t`)
	return `"` + r.Replace(s) + `"`
}

// uriBody encodes body as body_format says and returns the content type
// it implies ("" for raw).
func uriBody(body any, format string) ([]byte, string, error) {
	if body == nil {
		return nil, "", nil
	}
	switch format {
	case "json":
		if s, ok := body.(string); ok {
			return []byte(s), "application/json", nil
		}
		b, err := json.Marshal(body)
		return b, "application/json", err
	case "form-urlencoded":
		switch x := body.(type) {
		case string:
			return []byte(x), "application/x-www-form-urlencoded", nil
		case map[string]any:
			v := url.Values{}
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				v.Add(k, fmt.Sprint(x[k]))
			}
			return []byte(v.Encode()), "application/x-www-form-urlencoded", nil
		default:
			return nil, "", fmt.Errorf("failed to parse body as form_urlencoded: expected a mapping or a string")
		}
	}
	switch x := body.(type) {
	case string:
		return []byte(x), "", nil
	default:
		b, err := json.Marshal(x)
		return b, "", err
	}
}

// Run makes the request.
func (m URI) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	rawURL := args.String("url")
	values := map[string]any{"url": rawURL, "status": -1, "redirected": false, "elapsed": 0}
	fail := func(msg string) (Result, error) { return Result{Failed: true, Msg: msg, Values: values}, nil }
	if u, err := url.Parse(rawURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return fail(fmt.Sprintf("url %q must be an http or https URL", rawURL))
	}
	method := strings.ToUpper(args.String("method"))
	body, ctype, err := uriBody(args["body"], args.String("body_format"))
	if err != nil {
		return fail(err.Error())
	}
	var codes []int
	for _, c := range args.Strings("status_code") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil {
			return fail(fmt.Sprintf("status_code %q is not an integer", c))
		}
		codes = append(codes, n)
	}
	headers := map[string]string{}
	for k, v := range args.Dict("headers") {
		headers[k] = fmt.Sprint(v)
	}
	if ctype != "" {
		found := false
		for k := range headers {
			if strings.EqualFold(k, "Content-Type") {
				found = true
			}
		}
		if !found {
			headers["Content-Type"] = ctype
		}
	}
	hkeys := make([]string, 0, len(headers))
	for k := range headers {
		hkeys = append(hkeys, k)
	}
	sort.Strings(hkeys)
	timeout := args.Int("timeout")
	follow := args.String("follow_redirects")
	followAll := follow == "all" || follow == "yes" || follow == "urllib2"
	followSafe := follow == "safe" && (method == "GET" || method == "HEAD")

	// curl's config and GNU wget's wgetrc, both fed on stdin.
	var cc, wc strings.Builder
	fmt.Fprintf(&cc, "url = %s\nmax-time = %d\nuser-agent = %s\n", curlQuote(rawURL), timeout, curlQuote(args.String("http_agent")))
	if method != "HEAD" {
		fmt.Fprintf(&cc, "request = %s\n", curlQuote(method))
	}
	fmt.Fprintf(&wc, "timeout = %d\nuser_agent = %s\n", timeout, args.String("http_agent"))
	for _, k := range hkeys {
		fmt.Fprintf(&cc, "header = %s\n", curlQuote(k+": "+headers[k]))
		fmt.Fprintf(&wc, "header = %s: %s\n", k, headers[k])
	}
	if u := args.String("url_username"); u != "" {
		fmt.Fprintf(&cc, "user = %s\n", curlQuote(u+":"+args.String("url_password")))
		if !args.Bool("force_basic_auth") {
			cc.WriteString("anyauth\n")
		}
		fmt.Fprintf(&wc, "user = %s\npassword = %s\n", u, args.String("url_password"))
		if args.Bool("force_basic_auth") {
			wc.WriteString("auth_no_challenge = on\n")
		}
	}
	if !args.Bool("validate_certs") {
		cc.WriteString("insecure\n")
		wc.WriteString("check_certificate = off\n")
	}
	if followAll || followSafe {
		cc.WriteString("location\nmax-redirs = 50\n")
		wc.WriteString("max_redirect = 50\n")
	} else {
		wc.WriteString("max_redirect = 0\n")
	}
	if method == "HEAD" {
		cc.WriteString("head\n")
	}
	if strings.ContainsAny(method, " \t\n'\"") {
		return fail(fmt.Sprintf("invalid method %q", method))
	}
	// wget reads the URL from a file (-i), so it stays off the command line.
	urls := rawURL + "\n"
	stdin := []byte(cc.String() + wc.String() + urls)
	stdin = append(stdin, body...)

	var sc strings.Builder
	if c := args.String("creates"); c != "" {
		fmt.Fprintf(&sc, "[ -e %s ] && { _mdo_f skip %s; exit 0; }\n", conn.Quote(c), conn.Quote(fmt.Sprintf("skipped, since '%s' exists", c)))
	}
	if r := args.String("removes"); r != "" {
		fmt.Fprintf(&sc, "[ -e %s ] || { _mdo_f skip %s; exit 0; }\n", conn.Quote(r), conn.Quote(fmt.Sprintf("skipped, since '%s' does not exist", r)))
	}
	switch m.tool {
	case "":
		sc.WriteString("if command -v curl >/dev/null 2>&1; then _mdo_m=curl; elif command -v wget >/dev/null 2>&1; then _mdo_m=wget; else _mdo_f error 'uri needs curl or wget on the target'; exit 0; fi\n")
	default:
		fmt.Fprintf(&sc, "_mdo_m=%s\n", m.tool)
	}
	fmt.Fprintf(&sc, `_mdo_t=$(mktemp -d) || { _mdo_f error 'mktemp failed'; exit 0; }
trap 'rm -rf "$_mdo_t"' EXIT
dd bs=1 count=%d of="$_mdo_t/cfg" 2>/dev/null
dd bs=1 count=%d of="$_mdo_t/rc" 2>/dev/null
dd bs=1 count=%d of="$_mdo_t/urls" 2>/dev/null
cat >"$_mdo_t/body"
_mdo_f tool "$_mdo_m"
`, cc.Len(), wc.Len(), len(urls))
	data := ""
	if body != nil {
		data = ` --data-binary "@$_mdo_t/body"`
	}
	wbody := ""
	if body != nil || method != "GET" {
		wbody = fmt.Sprintf(" --method=%s", conn.Quote(method))
		if body != nil {
			wbody += ` --body-file="$_mdo_t/body"`
		}
	}
	fmt.Fprintf(&sc, `_mdo_s=$(date +%%s)
if [ "$_mdo_m" = curl ]; then
  _mdo_w=$(curl -sS -K "$_mdo_t/cfg" -o "$_mdo_t/out" -D "$_mdo_t/hdr"%s -w '%%{http_code} %%{num_redirects} %%{url_effective}' 2>"$_mdo_t/err"); _mdo_rc=$?
  _mdo_f curl "$_mdo_w"
else
  WGETRC="$_mdo_t/rc" wget -q -S --content-on-error -O "$_mdo_t/out"%s -i "$_mdo_t/urls" 2>"$_mdo_t/hdr"; _mdo_rc=$?
  cp "$_mdo_t/hdr" "$_mdo_t/err"
fi
_mdo_f elapsed $(($(date +%%s) - _mdo_s))
_mdo_f rc "$_mdo_rc"
_mdo_f err "$(cat "$_mdo_t/err")"
_mdo_f headers "$(cat "$_mdo_t/hdr" 2>/dev/null)"
[ -f "$_mdo_t/out" ] && _mdo_f content "$(base64 -w0 <"$_mdo_t/out")"
`, data, wbody)
	if dest := args.String("dest"); dest != "" {
		fmt.Fprintf(&sc, `_mdo_d=%s
case " %s " in *" $(sed -n 's/^ *HTTP[^ ]* \([0-9]*\).*/\1/p' "$_mdo_t/hdr" | tail -n1) "*)
  if [ -d "$_mdo_d" ]; then _mdo_d="$_mdo_d/$(basename %s)"; fi
  if cmp -s "$_mdo_t/out" "$_mdo_d"; then :; else
    _mdo_x=$(mktemp "$(dirname "$_mdo_d")/.mdo-tmp-XXXXXX") && cat "$_mdo_t/out" >"$_mdo_x" && chmod 644 "$_mdo_x" && mv -f "$_mdo_x" "$_mdo_d" && _mdo_f wrote "$_mdo_d" || { rm -f "$_mdo_x"; _mdo_f error "write $_mdo_d failed"; exit 0; }
  fi ;;
esac
`, conn.Quote(dest), strings.Trim(fmt.Sprint(codes), "[]"), conn.Quote(pathBase(rawURL)))
	}
	sc.WriteString("_mdo_f end 1\n")

	cctx, cancel := context.WithTimeout(ctx, time.Duration(timeout+30)*time.Second)
	defer cancel()
	f, res, err := runScript(cctx, env, "uri "+rawURL, sc.String(), stdin)
	if err != nil {
		return Result{}, err
	}
	if msg, ok := f.get("skip"); ok {
		delete(values, "status")
		return Result{Msg: msg, Values: values}, nil
	}
	if msg, ok := f.get("error"); ok {
		return fail(msg)
	}
	if _, ok := f.get("end"); !ok {
		return scriptFailure("uri", res), nil
	}
	values["elapsed"], _ = strconv.Atoi(f.str("elapsed"))
	status, reason, hdrs, responses := parseHTTPHeaders(f.str("headers"))
	for k, v := range hdrs {
		values[k] = v
	}
	content, _ := base64.StdEncoding.DecodeString(f.str("content"))
	if f.str("tool") == "curl" {
		w := strings.SplitN(f.str("curl"), " ", 3)
		if len(w) == 3 {
			status, _ = strconv.Atoi(w[0])
			values["redirected"] = w[1] != "0"
			values["url"] = w[2]
		}
	} else {
		values["redirected"] = responses > 1
	}
	rc := f.str("rc")
	if status == 0 {
		status = -1
	}
	values["status"] = status
	msg := fmt.Sprintf("OK (%s bytes)", orUnknown(hdrs["content_length"]))
	if status < 0 || (rc != "0" && f.str("tool") == "curl") {
		msg = "Request failed: " + strings.TrimSpace(f.str("err"))
	} else if status >= 400 {
		msg = fmt.Sprintf("HTTP Error %d: %s", status, reason)
	}
	values["msg"] = msg
	if strings.Contains(hdrs["content_type"], "json") && len(content) > 0 {
		var js any
		if json.Unmarshal(content, &js) == nil {
			values["json"] = js
		}
	}
	if args.Bool("return_content") {
		values["content"] = string(content)
	}
	r := Result{Values: values}
	if d, ok := f.get("wrote"); ok {
		values["path"] = d
		r.Changed = true
	}
	ok := false
	for _, c := range codes {
		if c == status {
			ok = true
		}
	}
	if !ok {
		r.Failed = true
		r.Msg = fmt.Sprintf("Status code was %d and not %s: %s", status, pyIntList(codes), msg)
		return r, nil
	}
	return r, nil
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// pyIntList formats ints as Python prints a list: [200, 201].
func pyIntList(l []int) string {
	s := make([]string, len(l))
	for i, n := range l {
		s[i] = strconv.Itoa(n)
	}
	return "[" + strings.Join(s, ", ") + "]"
}

// pathBase is the last path element of a URL (the file name dest gets
// when it is a directory).
func pathBase(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Path == "" || strings.HasSuffix(u.Path, "/") {
		return "index.html"
	}
	p := u.Path[strings.LastIndex(u.Path, "/")+1:]
	return p
}

// parseHTTPHeaders reads the last response's header block (curl -D or
// wget -S output, which may hold several after redirects): the status
// code, its reason, the headers with Ansible's keys (lower case, dashes
// as underscores) and the number of responses seen.
func parseHTTPHeaders(s string) (int, string, map[string]string, int) {
	var status, responses int
	var reason string
	hdrs := map[string]string{}
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(strings.TrimRight(l, "\r"))
		if strings.HasPrefix(l, "HTTP/") {
			status, reason, hdrs = 0, "", map[string]string{}
			responses++
			w := strings.SplitN(l, " ", 3)
			if len(w) >= 2 {
				status, _ = strconv.Atoi(w[1])
			}
			if len(w) == 3 {
				reason = w[2]
			}
			continue
		}
		k, v, ok := strings.Cut(l, ":")
		if !ok || k == "" || strings.Contains(k, " ") {
			continue
		}
		key := strings.ReplaceAll(strings.ToLower(k), "-", "_")
		v = strings.TrimSpace(v)
		if old, dup := hdrs[key]; dup {
			v = old + ", " + v
		}
		hdrs[key] = v
	}
	return status, reason, hdrs, responses
}
