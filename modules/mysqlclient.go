package modules

import (
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// The community.mysql modules (mysql_user, mysql_db, mysql_variables,
// mysql_replication, mysql_query) talk to the server through the `mysql`
// command-line client on the target, where the collection uses PyMySQL:
// targets have a shell, not Python. Every call writes a private option
// file (mode 0600 in a mktemp -d directory removed on exit) that includes
// config_file when it is readable and then sets the login arguments, so
// that they win over the file as with PyMySQL. The password reaches that
// file through the script's standard input, never a command line, and the
// SQL follows it on the same input.

// mysqlConnArgs are the collection's connection arguments
// (mysql_common_argument_spec), shared by every mysql_* module.
func mysqlConnArgs() []Arg {
	return []Arg{
		{Name: "login_user", Type: TypeStr},
		{Name: "login_password", Type: TypeStr, NoLog: true},
		{Name: "login_host", Type: TypeStr, Default: "localhost"},
		{Name: "login_port", Type: TypeInt, Default: 3306},
		{Name: "login_unix_socket", Type: TypeStr},
		{Name: "config_file", Type: TypePath, Default: "~/.my.cnf"},
		{Name: "connect_timeout", Type: TypeInt, Default: 30},
		{Name: "client_cert", Aliases: []string{"ssl_cert"}, Type: TypePath},
		{Name: "client_key", Aliases: []string{"ssl_key"}, Type: TypePath},
		{Name: "ca_cert", Aliases: []string{"ssl_ca"}, Type: TypePath},
		{Name: "check_hostname", Type: TypeBool},
	}
}

// mysqlLogin is how a module call reaches the server.
type mysqlLogin struct {
	args Args
	// implicitAdmin: first try root with the password from config_file
	// only (check_implicit_admin), then the login arguments.
	implicitAdmin bool
	// db is the database the session starts in ("" for none).
	db string
	// headers: sessions print column names; each section's first row goes
	// to mysqlOut.headers.
	headers bool
}

// mysqlOptValue quotes v for a MySQL option file: in double quotes, with
// the escapes the option-file reader understands.
func mysqlOptValue(v string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`, "\t", `\t`)
	return `"` + r.Replace(v) + `"`
}

// optionLines returns the [client] options written from the script text
// (nothing secret): the user, where to connect, timeouts and TLS.
func (l mysqlLogin) optionLines(user string) []string {
	a := l.args
	out := []string{"[client]"}
	if user != "" {
		out = append(out, "user="+mysqlOptValue(user))
	}
	if s := a.String("login_unix_socket"); s != "" {
		out = append(out, "socket="+mysqlOptValue(s), "protocol=socket")
	} else {
		out = append(out, "host="+mysqlOptValue(a.String("login_host")), "port="+strconv.Itoa(a.Int("login_port")))
	}
	for _, o := range [][2]string{{"ca_cert", "ssl-ca"}, {"client_cert", "ssl-cert"}, {"client_key", "ssl-key"}} {
		if v := a.String(o[0]); v != "" {
			out = append(out, o[1]+"="+mysqlOptValue(v))
		}
	}
	if b, ok := a["check_hostname"].(bool); ok {
		if b {
			out = append(out, "ssl-verify-server-cert")
		} else {
			out = append(out, "skip-ssl-verify-server-cert")
		}
	}
	return out
}

// mysqlOnlyLines returns the options only the mysql client takes (not
// mysqldump), in their own [mysql] group after the [client] one.
func (l mysqlLogin) mysqlOnlyLines() []string {
	out := []string{"[mysql]"}
	if t := l.args.Int("connect_timeout"); t > 0 {
		out = append(out, "connect-timeout="+strconv.Itoa(t))
	}
	if l.db != "" {
		out = append(out, "database="+mysqlOptValue(l.db))
	}
	return out
}

// preamble returns shell code that sets up $_mdo_d/my.cnf (the login to
// use) and $_mdo_m (the client program), reading the password line from
// standard input. It prints the field noclient and exits when the target
// has no mysql client, and the field admin when check_implicit_admin's
// root login worked. tool is the program the caller runs (mysql or
// mysqldump); its MariaDB name is tried second.
func (l mysqlLogin) preamble(tool string) string {
	var b strings.Builder
	b.WriteString("umask 077\n_mdo_d=$(mktemp -d) || exit 1\ntrap 'rm -rf \"$_mdo_d\"' EXIT\n")
	alt := map[string]string{"mysql": "mariadb", "mysqldump": "mariadb-dump"}[tool]
	fmt.Fprintf(&b, "_mdo_m=$(command -v %s || command -v %s) || { _mdo_f noclient %s; exit 0; }\n", tool, alt, tool)
	if tool != "mysql" {
		b.WriteString("_mdo_q=$(command -v mysql || command -v mariadb) || { _mdo_f noclient mysql; exit 0; }\n")
	} else {
		b.WriteString("_mdo_q=$_mdo_m\n")
	}
	fmt.Fprintf(&b, "_mdo_c=%s\n", conn.Quote(l.args.String("config_file")))
	b.WriteString("case $_mdo_c in \"~\"|\"~/\"*) _mdo_c=$HOME${_mdo_c#\"~\"} ;; esac\n")
	b.WriteString("[ -f \"$_mdo_c\" ] && _mdo_f cnfexists 1\n")
	b.WriteString("_mdo_inc() { if [ -r \"$_mdo_c\" ] && [ -f \"$_mdo_c\" ]; then printf '!include %s\\n' \"$_mdo_c\"; fi; }\n")
	// The password line comes first on stdin, empty when there is none.
	b.WriteString("IFS= read -r _mdo_p\n")
	user := l.args.String("login_user")
	only := quoteWords(l.mysqlOnlyLines())
	fmt.Fprintf(&b, "{ _mdo_inc; printf '%%s\\n' %s; if [ -n \"$_mdo_p\" ]; then printf 'password=%%s\\n' \"$_mdo_p\"; fi; printf '%%s\\n' %s; } >\"$_mdo_d/my.cnf\"\n",
		quoteWords(l.optionLines(user)), only)
	if l.implicitAdmin {
		fmt.Fprintf(&b, "{ _mdo_inc; printf '%%s\\n' %s %s; } >\"$_mdo_d/admin.cnf\"\n", quoteWords(l.optionLines("root")), only)
		b.WriteString("if \"$_mdo_q\" --defaults-file=\"$_mdo_d/admin.cnf\" -e 'SELECT 1' </dev/null >/dev/null 2>&1; then mv \"$_mdo_d/admin.cnf\" \"$_mdo_d/my.cnf\"; _mdo_f admin 1; fi\n")
	}
	return b.String()
}

// stdinHead is the start of the script's standard input: the password
// line of the option file.
func (l mysqlLogin) stdinHead() []byte {
	if p := l.args.String("login_password"); p != "" {
		return []byte(mysqlOptValue(p) + "\n")
	}
	return []byte("\n")
}

// mysqlOut is what one client session returned.
type mysqlOut struct {
	f         fields                // fields printed by the script (noclient, admin, cnfexists, rc)
	sections  map[string][][]string // result rows after each marker
	reached   []string              // markers reached, in order
	stderr    string
	noClient  string // the program missing on the target
	connected bool
	lineTags  map[int]string // the section each line of the SQL belongs to
	headers   map[string][]string
}

// marker returns the SQL that prints the section marker tag.
func mysqlMarker(nonce, tag string) string {
	return "SELECT '" + nonce + tag + "';"
}

// mysqlStmt is one statement of a session; its rows (if any) land in
// the section named tag.
type mysqlStmt struct{ tag, sql string }

// mysqlSession runs stmts through the mysql client in one round trip.
// Without force the client stops at the first failing statement (ERROR
// on stderr) and the last section reached tells which one it was; with
// force it runs them all and stmtErr finds each one's error by its line.
// The first section, "connect", holds VERSION() and @@GLOBAL.sql_mode;
// its absence means the login failed.
func mysqlSession(ctx context.Context, env *Env, what string, l mysqlLogin, stmts []mysqlStmt, force bool) (mysqlOut, error) {
	nb := make([]byte, 6)
	rand.Read(nb)
	nonce := "--mdo-" + hex.EncodeToString(nb) + ":"
	var sql strings.Builder
	line := 0
	lines := map[int]string{}
	add := func(tag, s string) {
		for _, part := range strings.Split(s, "\n") {
			line++
			lines[line] = tag
			sql.WriteString(part + "\n")
		}
	}
	// Our string literals escape backslashes; make sure the session
	// reads them that way whatever the server's sql_mode says.
	add("setup", "SET SESSION sql_mode = REPLACE(REPLACE(REPLACE(@@SESSION.sql_mode, 'NO_BACKSLASH_ESCAPES,', ''), ',NO_BACKSLASH_ESCAPES', ''), 'NO_BACKSLASH_ESCAPES', '');")
	add("connect", mysqlMarker(nonce, "connect"))
	add("connect", "SELECT VERSION(), @@GLOBAL.sql_mode;")
	tag := "connect"
	for _, s := range stmts {
		if s.tag != "" {
			tag = s.tag
			add(tag, mysqlMarker(nonce, tag))
		}
		q := strings.TrimRight(s.sql, "; \t\r\n")
		if strings.Contains(q, "--") || strings.Contains(q, "#") || strings.Contains(q, "/*") {
			q += "\n" // a trailing comment must not swallow the terminator
		}
		add(tag, q+";")
	}
	add("end", mysqlMarker(nonce, "end"))
	opts := " --batch --skip-column-names"
	if l.headers {
		opts = " --batch --column-names"
	}
	if force {
		opts += " --force"
	}
	script := l.preamble("mysql") +
		"\"$_mdo_m\" --defaults-file=\"$_mdo_d/my.cnf\"" + opts + " >\"$_mdo_d/out\"\n_mdo_f rc $?\n_mdo_f out \"$(cat \"$_mdo_d/out\")\"\n"
	stdin := append(l.stdinHead(), sql.String()...)
	res, err := env.Conn.Exec(ctx, conn.Command{Script: fieldFunc + script, Stdin: stdin})
	if err != nil {
		return mysqlOut{}, fmt.Errorf("%s: %w", what, err)
	}
	o := parseMysqlOut(res, nonce, l.headers)
	o.lineTags = lines
	return o, nil
}

// parseMysqlOut reads the script's fields and splits the client's
// batch output (the field out) into sections.
func parseMysqlOut(res conn.ExecResult, nonce string, headers bool) mysqlOut {
	out := mysqlOut{sections: map[string][][]string{}, headers: map[string][]string{}, stderr: strings.TrimSpace(string(res.Stderr))}
	out.f = parseFields(res.Stdout)
	out.noClient = out.f.str("noclient")
	cur := ""
	for _, line := range strings.Split(out.f.str("out"), "\n") {
		if strings.HasPrefix(line, nonce) {
			if line[len(nonce):] == cur {
				continue // the marker's value after its column name
			}
			cur = line[len(nonce):]
			out.reached = append(out.reached, cur)
			out.sections[cur] = nil
			continue
		}
		if cur == "" || cur == "end" {
			continue
		}
		cols := strings.Split(line, "\t")
		for i, c := range cols {
			cols[i] = mysqlUnescape(c)
		}
		if _, ok := out.headers[cur]; headers && !ok {
			out.headers[cur] = cols
			continue
		}
		out.sections[cur] = append(out.sections[cur], cols)
	}
	_, out.connected = out.sections["connect"]
	return out
}

// mysqlUnescape undoes the client's batch-mode escapes.
func mysqlUnescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case '0':
			b.WriteByte(0)
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

var mysqlErrLineRe = regexp.MustCompile(`(?m)^ERROR (\d+)(?: \([0-9A-Z]+\))? at line (\d+): (.*)$`)

// stmtErr returns, as errText renders it, the first error of the
// statements in section tag ("" when they all ran).
func (o mysqlOut) stmtErr(tag string) string {
	for _, m := range mysqlErrLineRe.FindAllStringSubmatch(o.stderr, -1) {
		n, _ := strconv.Atoi(m[2])
		if o.lineTags[n] == tag {
			return fmt.Sprintf("(%s, %q)", m[1], m[3])
		}
	}
	return ""
}

// ok reports whether the session ran to its end.
func (o mysqlOut) ok() bool { _, ok := o.sections["end"]; return ok }

// has reports whether the session reached the section tag.
func (o mysqlOut) has(tag string) bool { _, ok := o.sections[tag]; return ok }

// lastTag is the last marker reached: the failing statement follows it.
func (o mysqlOut) lastTag() string {
	if len(o.reached) == 0 {
		return ""
	}
	return o.reached[len(o.reached)-1]
}

// value returns the first column of the first row of section tag.
func (o mysqlOut) value(tag string) (string, bool) {
	rows := o.sections[tag]
	if len(rows) == 0 || len(rows[0]) == 0 {
		return "", false
	}
	return rows[0][0], true
}

// version returns the server's VERSION().
func (o mysqlOut) version() string {
	if rows := o.sections["connect"]; len(rows) > 0 {
		return rows[0][0]
	}
	return ""
}

// sqlMode returns @@GLOBAL.sql_mode.
func (o mysqlOut) sqlMode() string {
	if rows := o.sections["connect"]; len(rows) > 0 && len(rows[0]) > 1 {
		return rows[0][1]
	}
	return ""
}

// mariadb reports whether the server is MariaDB.
func (o mysqlOut) mariadb() bool { return strings.Contains(strings.ToLower(o.version()), "mariadb") }

var mysqlErrRe = regexp.MustCompile(`(?m)^ERROR (\d+)(?: \([0-9A-Z]+\))?(?: at line \d+)?: (.*)$`)

// errText renders the client's error the way PyMySQL's exceptions print:
// (1045, "Access denied for user ...").
func (o mysqlOut) errText() string {
	if m := mysqlErrRe.FindStringSubmatch(o.stderr); m != nil {
		return fmt.Sprintf("(%s, %q)", m[1], m[2])
	}
	if o.stderr != "" {
		return o.stderr
	}
	return "the mysql client stopped without an error message (rc " + o.f.str("rc") + ")"
}

// connectFailure is the collection's message when the login fails (or
// the target has no client).
func (o mysqlOut) connectFailure(l mysqlLogin) Result {
	if o.noClient != "" {
		return Result{Failed: true, Msg: fmt.Sprintf("the %s command-line client is required on the target (mdo-play drives it where the collection uses PyMySQL)", o.noClient)}
	}
	cf := l.args.String("config_file")
	return Result{Failed: true, Msg: fmt.Sprintf("unable to connect to database, check login_user and login_password are correct or %s has the credentials. Exception message: %s", cf, o.errText())}
}

// connectFailureCnf is the message of the modules that tell a missing
// config_file apart (mysql_db, mysql_variables, mysql_replication).
func (o mysqlOut) connectFailureCnf(l mysqlLogin) Result {
	if o.noClient != "" {
		return o.connectFailure(l)
	}
	if _, ok := o.f.get("cnfexists"); ok {
		return o.connectFailure(l)
	}
	return Result{Failed: true, Msg: fmt.Sprintf("unable to find %s. Exception message: %s", l.args.String("config_file"), o.errText())}
}

// sqlString quotes s as an SQL string literal (the session reads
// backslash escapes, see mysqlSession).
func sqlString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\x00", `\0`, "\n", `\n`, "\r", `\r`, "\x1a", `\Z`)
	return "'" + r.Replace(s) + "'"
}

// sqlValue renders v as PyMySQL escapes a query parameter.
func sqlValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case bool:
		if x {
			return "1"
		}
		return "0"
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	return sqlString(fmt.Sprint(v))
}

// mysqlQuoteIdentifier is the collection's mysql_quote_identifier: it
// quotes each dot-separated part with backticks unless already quoted
// and refuses more dots than idType allows.
func mysqlQuoteIdentifier(identifier, idType string) (string, error) {
	frags, err := mysqlIdentifierParse(identifier)
	if err != nil {
		return "", err
	}
	level := map[string]int{"database": 1, "table": 2, "column": 3, "role": 1, "vars": 1}[idType]
	if len(frags)-1 > level {
		return "", fmt.Errorf("MySQL does not support %s with more than %d dots", idType, level)
	}
	for i, f := range frags {
		if f == "`*`" {
			frags[i] = "*"
		}
	}
	return strings.Join(frags, "."), nil
}

func mysqlIdentifierParse(id string) ([]string, error) {
	const q = "`"
	if id == "" {
		//lint:ignore ST1005 the collection's message, shown to the user
		return nil, fmt.Errorf("Identifier name unspecified or unquoted trailing dot")
	}
	if strings.HasPrefix(id, q) {
		if end, ok := mysqlFindEndQuote(id[1:]); ok {
			end++
			if end < len(id)-1 {
				if id[end+1] != '.' {
					return nil, fmt.Errorf("User escaped identifiers must escape extra quotes")
				}
				rest, err := mysqlIdentifierParse(id[end+2:])
				if err != nil {
					return nil, err
				}
				return append([]string{id[:end+1]}, rest...), nil
			}
			return []string{id}, nil
		}
	}
	dot := strings.IndexByte(id, '.')
	if dot <= 0 || dot >= len(id)-1 {
		return []string{q + strings.ReplaceAll(id, q, q+q) + q}, nil
	}
	rest, err := mysqlIdentifierParse(id[dot+1:])
	if err != nil {
		return nil, err
	}
	return append([]string{q + strings.ReplaceAll(id[:dot], q, q+q) + q}, rest...), nil
}

// mysqlFindEndQuote returns the index of the closing backtick in s (the
// text after an opening one), skipping doubled backticks.
func mysqlFindEndQuote(s string) (int, bool) {
	acc := 0
	for {
		i := strings.IndexByte(s, '`')
		if i < 0 {
			return 0, false
		}
		acc += i
		if i+1 >= len(s) || s[i+1] != '`' {
			return acc, true
		}
		s = s[i+2:]
		acc += 2
	}
}

// mysqlNativeHash is mysql_native_password's hash of a password:
// '*' and the upper-case hex of SHA1(SHA1(password)), what the
// collection computes with CONCAT('*', UCASE(SHA1(UNHEX(SHA1(%s))))).
func mysqlNativeHash(password string) string {
	a := sha1.Sum([]byte(password))
	b := sha1.Sum(a[:])
	return "*" + strings.ToUpper(hex.EncodeToString(b[:]))
}

// mysqlVersionLess reports whether version v (VERSION()'s text) is
// before want ("10.2"), comparing the leading numbers as LooseVersion
// does for these values.
func mysqlVersionLess(v, want string) bool {
	num := func(s string) []int {
		var out []int
		for _, p := range strings.Split(s, ".") {
			end := 0
			for end < len(p) && p[end] >= '0' && p[end] <= '9' {
				end++
			}
			if end == 0 {
				break
			}
			n, _ := strconv.Atoi(p[:end])
			out = append(out, n)
			if end < len(p) {
				break
			}
		}
		return out
	}
	a, b := num(v), num(want)
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return len(a) < len(b)
}
