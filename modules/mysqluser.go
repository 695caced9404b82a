package modules

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/mdo-play/mdo-play/templates/pyjson"
)

// MysqlUser is the mysql_user module (community.mysql.mysql_user): it
// adds, changes and removes a MySQL/MariaDB account and its privileges,
// through the mysql client on the target (see mysqlclient.go). The logic
// is the collection's user.py: privileges are compared by parsing SHOW
// GRANTS, the priv string is unpacked the same way, and the statements
// issued are the ones the collection issues.
//
// One round trip reads the server's version, sql_mode and the account
// (two with host_all, which must first list the hosts); a change costs one
// more that applies it and reads the grants again.
type MysqlUser struct{}

var _ Module = MysqlUser{}

// Spec describes mysql_user's arguments.
func (MysqlUser) Spec() *Spec {
	return &Spec{
		Args: append(mysqlConnArgs(),
			Arg{Name: "user", Aliases: []string{"name"}, Type: TypeStr, Required: true},
			Arg{Name: "password", Type: TypeStr, NoLog: true},
			Arg{Name: "encrypted", Type: TypeBool, Default: false},
			Arg{Name: "host", Type: TypeStr, Default: "localhost"},
			Arg{Name: "host_all", Type: TypeBool, Default: false},
			Arg{Name: "state", Type: TypeStr, Default: "present", Choices: []string{"absent", "present"}},
			Arg{Name: "priv", Type: TypeRaw},
			Arg{Name: "append_privs", Type: TypeBool, Default: false},
			Arg{Name: "subtract_privs", Type: TypeBool, Default: false},
			Arg{Name: "check_implicit_admin", Type: TypeBool, Default: false},
			Arg{Name: "update_password", Type: TypeStr, Default: "always", Choices: []string{"always", "on_create", "on_new_username"}},
			Arg{Name: "sql_log_bin", Type: TypeBool, Default: true},
			Arg{Name: "plugin", Type: TypeStr},
			Arg{Name: "plugin_hash_string", Type: TypeStr},
			Arg{Name: "plugin_auth_string", Type: TypeStr, NoLog: true},
			Arg{Name: "resource_limits", Type: TypeDict},
			Arg{Name: "force_context", Type: TypeBool, Default: false},
			Arg{Name: "session_vars", Type: TypeDict},
			Arg{Name: "tls_requires", Type: TypeDict},
			Arg{Name: "column_case_sensitive", Type: TypeBool, Default: false},
		),
		MutuallyExclusive: [][]string{{"append_privs", "subtract_privs"}},
		CheckMode:         true,
	}
}

// privMap is the collection's privileges dict: db.table to privilege
// list, in insertion order.
type privMap struct {
	keys []string
	m    map[string][]string
}

func newPrivMap() *privMap { return &privMap{m: map[string][]string{}} }

func (p *privMap) add(k string, v []string) {
	if _, ok := p.m[k]; !ok {
		p.keys = append(p.keys, k)
	}
	p.m[k] = append(p.m[k], v...)
}

func (p *privMap) set(k string, v []string) {
	if _, ok := p.m[k]; !ok {
		p.keys = append(p.keys, k)
	}
	p.m[k] = v
}

func (p *privMap) has(k string) bool { _, ok := p.m[k]; return ok }

// equal is Python's dict equality: same keys, equal lists.
func (p *privMap) equal(o *privMap) bool {
	if len(p.m) != len(o.m) {
		return false
	}
	for k, v := range p.m {
		w, ok := o.m[k]
		if !ok || strings.Join(v, "\x00") != strings.Join(w, "\x00") || len(v) != len(w) {
			return false
		}
	}
	return true
}

// grantRe is privileges_get's pattern; Python's back-references to the
// quote character become one alternative per quote, and '.' also matches
// a newline in a user or host name (Python's would not, and so would never
// see such an account's privileges).
var grantRe = regexp.MustCompile("(?s)^GRANT (.+) ON (.+) TO (?:'.*'|`.*`|\".*\")@(?:'.*'|`.*`|\".*\")( IDENTIFIED BY PASSWORD (?:'.+'|`.+`|\".+\"))? ?(.*)")

var grantRoleRe = regexp.MustCompile("^GRANT (.+) TO (['`\"]).*")

// privilegesGet parses SHOW GRANTS rows into a privMap.
func privilegesGet(rows [][]string) (*privMap, error) {
	out := newPrivMap()
	for _, row := range rows {
		line := row[0]
		m := grantRe.FindStringSubmatch(line)
		if m == nil {
			if grantRoleRe.MatchString(line) {
				continue // a role granted to the user: mysql_role's business
			}
			return nil, fmt.Errorf("unable to parse the MySQL grant string: %s", line)
		}
		var privs []string
		for _, p := range strings.Split(m[1], ",") {
			p = strings.TrimSpace(p)
			if p == "ALL PRIVILEGES" {
				p = "ALL"
			}
			privs = append(privs, p)
		}
		privs = normalizeColGrants(privs)
		if strings.Contains(m[4], "WITH GRANT OPTION") {
			privs = append(privs, "GRANT")
		}
		out.add(m[2], privs)
	}
	return out, nil
}

// normalizeColGrants joins and sorts column lists split by the comma
// split: ['SELECT (A', 'B)'] becomes ['SELECT (A, B)'].
func normalizeColGrants(privs []string) []string {
	for _, g := range []string{"SELECT", "UPDATE", "INSERT", "REFERENCES"} {
		start, end := -1, -1
		for n, p := range privs {
			if strings.Contains(p, g+" (") {
				start = n
			}
			if start >= 0 && strings.Contains(p, ")") {
				end = n
				break
			}
		}
		if start < 0 || end < 0 {
			continue
		}
		if start != end {
			out := append([]string{}, privs[:start]...)
			out = append(out, sortColumnOrder(strings.Join(privs[start:end+1], ", ")))
			privs = append(out, privs[end+1:]...)
		} else {
			out := append([]string{}, privs...)
			out[start] = sortColumnOrder(out[start])
			privs = out
		}
	}
	return privs
}

// sortColumnOrder turns "SELECT (`b`, a)" into "SELECT (a, b)".
func sortColumnOrder(stmt string) string {
	parts := strings.Split(stmt, "(")
	name := parts[0]
	cols := strings.Split(strings.TrimRight(parts[1], ")"), ",")
	for i, c := range cols {
		cols[i] = strings.Trim(strings.TrimSpace(c), "`")
	}
	sort.Strings(cols)
	return name + "(" + strings.Join(cols, ", ") + ")"
}

// splitPrivsWithCols is re.split(r',\s*(?=[^)]*(?:\(|$))', s): a comma
// splits unless a ')' comes before the next '(' or the end.
func splitPrivsWithCols(s string) []string {
	var out []string
	last := 0
	for i := 0; i < len(s); i++ {
		if s[i] != ',' {
			continue
		}
		j := i + 1
		for j < len(s) && (s[j] == ' ' || s[j] == '\t' || s[j] == '\n' || s[j] == '\r' || s[j] == '\f' || s[j] == '\v') {
			j++
		}
		rest := s[j:]
		if k := strings.IndexAny(rest, "()"); k >= 0 && rest[k] == ')' {
			continue
		}
		out = append(out, s[last:i])
		last = j
		i = j - 1
	}
	return append(out, s[last:])
}

// privilegesUnpack is the collection's privileges_unpack: it turns
// "db.table:PRIV1,PRIV2/db2.*:ALL" into a privMap keyed as SHOW GRANTS
// writes db.table, adding *.*:USAGE when ensureUsage and *.* is absent.
func privilegesUnpack(priv, mode string, ensureUsage, columnCaseSensitive bool) (*privMap, error) {
	quote := "`"
	if mode == "ANSI" {
		quote = `"`
	}
	out := newPrivMap()
	for _, item := range strings.Split(strings.TrimSpace(priv), "/") {
		item = strings.TrimSpace(item)
		i := strings.LastIndex(item, ":")
		if i < 0 {
			return nil, fmt.Errorf("invalid privileges string: %s", item)
		}
		target, privs := item[:i], item[i+1:]
		var dbpriv []string
		if j := strings.LastIndex(target, "."); j >= 0 {
			dbpriv = []string{target[:j], target[j+1:]}
		} else {
			dbpriv = []string{target}
		}
		objType := ""
		if parts := strings.SplitN(dbpriv[0], " ", 2); len(parts) > 1 && (parts[0] == "FUNCTION" || parts[0] == "PROCEDURE") {
			objType = parts[0] + " "
			dbpriv[0] = parts[1]
		}
		for k, side := range dbpriv {
			if strings.Trim(side, "`") != "*" {
				dbpriv[k] = quote + strings.Trim(side, "`") + quote
			}
		}
		key := objType + strings.Join(dbpriv, ".")
		var list []string
		switch {
		case strings.Contains(privs, "(") && columnCaseSensitive:
			// Privilege names upper-cased, column names kept.
			list = splitPrivsWithCols(privs)
			for k, p := range list {
				if i := strings.Index(p, "("); i >= 0 {
					list[k] = strings.ToUpper(p[:i]) + p[i:]
				} else {
					list[k] = strings.ToUpper(p)
				}
			}
		case strings.Contains(privs, "("):
			list = splitPrivsWithCols(strings.ToUpper(privs))
		default:
			list = strings.Split(strings.ToUpper(privs), ",")
		}
		out.set(key, normalizeColGrants(list))
	}
	if ensureUsage && !out.has("*.*") {
		out.set("*.*", []string{"USAGE"})
	}
	return out, nil
}

// privDictToStr is convert_priv_dict_to_str (keys sorted: a YAML mapping
// reaches the module without its order).
func privDictToStr(d map[string]any) string {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ":" + fmt.Sprint(d[k])
	}
	return strings.Join(parts, "/")
}

// pyList renders a list of strings as Python prints it.
func pyList(l []string) string {
	items := make([]any, len(l))
	for i, s := range l {
		items[i] = s
	}
	return pyjson.Repr(items)
}

// minus returns the members of a not in b, in a's order, once each.
func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !contains(b, x) && !contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// intersect returns the members of a also in b, in a's order, once each.
func intersect(a, b []string) []string {
	var out []string
	for _, x := range a {
		if contains(b, x) && !contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// myStmt is one statement of the apply phase with the error message
// shape its failure gets.
type myStmt struct {
	sql string
	// invalidPrivs, for a GRANT, is the collection's InvalidPrivsError
	// message up to the server's error, which follows it on failure.
	invalidPrivs string
}

func userAt(user, host string) string { return sqlString(user) + "@" + sqlString(host) }

// privilegesGrantStmt is privileges_grant's statement.
func privilegesGrantStmt(user, host, dbTable string, priv []string) myStmt {
	var ps []string
	for _, p := range priv {
		if p != "GRANT" {
			ps = append(ps, p)
		}
	}
	privStr := strings.Join(ps, ",")
	q := "GRANT " + privStr + " ON " + dbTable + " TO %s@%s"
	if contains(priv, "GRANT") {
		q += " WITH GRANT OPTION"
	}
	// The query as the collection prints it (%s where user and host go)
	// and its parameters as a Python tuple.
	params := "(" + pyjson.Repr(user) + ", " + pyjson.Repr(host) + ")"
	return myStmt{
		sql:          strings.Replace(q, "%s@%s", userAt(user, host), 1),
		invalidPrivs: fmt.Sprintf("Error granting privileges, invalid priv string: %s , params: %s, query: %s , exception: ", privStr, params, q),
	}
}

// privilegesRevokeStmts is privileges_revoke's statements.
func privilegesRevokeStmts(user, host, dbTable string, priv []string, grantOption bool) []myStmt {
	var out []myStmt
	if grantOption {
		out = append(out, myStmt{sql: "REVOKE GRANT OPTION ON " + dbTable + " FROM " + userAt(user, host)})
	}
	var ps []string
	for _, p := range priv {
		if p != "GRANT" {
			ps = append(ps, p)
		}
	}
	if len(ps) > 0 {
		out = append(out, myStmt{sql: "REVOKE " + strings.Join(ps, ",") + " ON " + dbTable + " FROM " + userAt(user, host)})
	}
	return append(out, myStmt{sql: "FLUSH PRIVILEGES"})
}

// myHostState is what the read phase learnt about user@host.
type myHostState struct {
	grants     *privMap
	hash       string
	hashNull   bool
	plugin     string
	authString string
	limits     map[string]string
	requires   tlsRequires
}

// mysqlUserRun holds one call's arguments and what was read.
type mysqlUserRun struct {
	env        *Env
	args       Args
	login      mysqlLogin
	user, host string
	prefix     []mysqlStmt // session setup: sql_log_bin, session_vars
}

// readStmts returns the statements reading user@host's state.
func (r *mysqlUserRun) readStmts(host string, a Args) []mysqlStmt {
	u, h := sqlString(r.user), sqlString(host)
	out := []mysqlStmt{{"grants:" + host, "SHOW GRANTS FOR " + u + "@" + h}, {"create:" + host, "SHOW CREATE USER " + u + "@" + h}}
	if a.String("password") != "" {
		out = append(out, mysqlStmt{"hash:" + host, "SET @mdo_u = " + u + ", @mdo_h = " + h},
			mysqlStmt{"", "EXECUTE mdo_hash USING @mdo_u, @mdo_h"})
	}
	if a.String("plugin") != "" {
		out = append(out, mysqlStmt{"plugin:" + host, "SELECT plugin, authentication_string FROM mysql.user WHERE user = " + u + " AND host = " + h})
	}
	if len(a.Dict("resource_limits")) > 0 {
		out = append(out, mysqlStmt{"limits:" + host, "SELECT max_questions, max_updates, max_connections, max_user_connections FROM mysql.user WHERE User = " + u + " AND Host = " + h},
			mysqlStmt{"maxstmt:" + host, "SELECT max_statement_time FROM mysql.user WHERE User = " + u + " AND Host = " + h})
	}
	return out
}

// prepareHash prepares the statement that reads an account's password
// hash from Password or authentication_string, whichever the server's
// mysql.user has and fills (the collection's COALESCE query).
const prepareHash = "SET @mdo_q = (SELECT CONCAT('SELECT COALESCE(', GROUP_CONCAT(CONCAT('NULLIF(', COLUMN_NAME, ', '''')') ORDER BY COLUMN_NAME DESC SEPARATOR ', '), ', NULL) FROM mysql.user WHERE user = ? AND host = ?') FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'mysql' AND TABLE_NAME = 'user' AND COLUMN_NAME IN ('Password', 'authentication_string'));\nPREPARE mdo_hash FROM @mdo_q"

// hostState extracts user@host's state from a read session.
func hostState(o mysqlOut, host string) (myHostState, error) {
	var s myHostState
	g, err := privilegesGet(o.sections["grants:"+host])
	if err != nil {
		return s, err
	}
	s.grants = g
	if rows := o.sections["hash:"+host]; len(rows) > 0 {
		s.hash = rows[0][0]
		s.hashNull = s.hash == "NULL"
	}
	s.requires = getTLSRequires(o.sections["create:"+host])
	if rows := o.sections["plugin:"+host]; len(rows) > 0 && len(rows[0]) > 1 {
		s.plugin, s.authString = rows[0][0], rows[0][1]
	}
	if rows := o.sections["limits:"+host]; len(rows) > 0 && len(rows[0]) == 4 {
		s.limits = map[string]string{
			"MAX_QUERIES_PER_HOUR": rows[0][0], "MAX_UPDATES_PER_HOUR": rows[0][1],
			"MAX_CONNECTIONS_PER_HOUR": rows[0][2], "MAX_USER_CONNECTIONS": rows[0][3],
		}
		if m := o.sections["maxstmt:"+host]; o.mariadb() && len(m) > 0 {
			s.limits["MAX_STATEMENT_TIME"] = m[0][0]
		}
	}
	return s, nil
}

// Run applies the account's state.
func (MysqlUser) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	r := &mysqlUserRun{env: env, args: args, user: args.String("user"), host: strings.ToLower(args.String("host"))}
	r.login = mysqlLogin{args: args, implicitAdmin: args.Bool("check_implicit_admin")}
	if args.Bool("force_context") {
		r.login.db = "mysql"
	}
	fail := func(msg string) (Result, error) { return Result{Failed: true, Msg: msg}, nil }

	privStr, hasPriv := "", false
	switch p := args["priv"].(type) {
	case nil:
	case string:
		privStr, hasPriv = p, true
	case map[string]any:
		privStr, hasPriv = privDictToStr(p), true
	default:
		return fail(fmt.Sprintf("priv parameter must be str or dict but %s was passed", pyTypeName(p)))
	}

	if !args.Bool("sql_log_bin") {
		r.prefix = append(r.prefix, mysqlStmt{"", "SET SQL_LOG_BIN=0"})
	}
	vars := args.Dict("session_vars")
	vkeys := make([]string, 0, len(vars))
	for k := range vars {
		vkeys = append(vkeys, k)
	}
	sort.Strings(vkeys)
	for _, k := range vkeys {
		id, err := mysqlQuoteIdentifier(k, "vars")
		if err != nil {
			return fail(err.Error())
		}
		r.prefix = append(r.prefix, mysqlStmt{"", "SET SESSION " + id + " = " + sqlValue(vars[k])})
	}

	// Read: the server, the user's hosts and (unless host_all) the state
	// of user@host.
	stmts := append([]mysqlStmt{}, r.prefix...)
	stmts = append(stmts, mysqlStmt{"hosts", "SELECT Host FROM mysql.user WHERE user = " + sqlString(r.user)})
	if args.String("password") != "" {
		stmts = append(stmts, mysqlStmt{"", prepareHash})
	}
	if args.String("update_password") == "on_new_username" {
		stmts = append(stmts,
			mysqlStmt{"auth:mariadb", "SELECT plugin, auth FROM (SELECT plugin, password AS auth FROM mysql.user WHERE user = " + sqlString(r.user) + " UNION SELECT plugin, authentication_string AS auth FROM mysql.user WHERE user = " + sqlString(r.user) + ") x GROUP BY plugin, auth LIMIT 2"},
			mysqlStmt{"auth:mysql", "SELECT plugin, authentication_string AS auth FROM mysql.user WHERE user = " + sqlString(r.user) + " GROUP BY plugin, authentication_string LIMIT 2"})
	}
	if !args.Bool("host_all") {
		stmts = append(stmts, r.readStmts(r.host, args)...)
	}
	o, err := mysqlSession(ctx, env, "mysql_user", r.login, stmts, true)
	if err != nil {
		return Result{}, err
	}
	if !o.connected {
		return o.connectFailure(r.login), nil
	}
	if e := o.stmtErr("hosts"); e != "" {
		return fail(e)
	}
	var hosts []string
	for _, row := range o.sections["hosts"] {
		hosts = append(hosts, row[0])
	}
	oldMgmt := o.userOldMgmt()

	var newPriv *privMap
	if hasPriv {
		mode := "NOTANSI"
		if strings.Contains(o.sqlMode(), "ANSI") {
			mode = "ANSI"
		}
		newPriv, err = privilegesUnpack(privStr, mode, !args.Bool("subtract_privs"), args.Bool("column_case_sensitive"))
		if err != nil {
			return fail(err.Error())
		}
	}

	res := Result{Values: map[string]any{"user": r.user}}
	var changed, passwordChanged bool
	var passwordChangedNil bool
	msg := ""
	exists := len(hosts) > 0
	if !args.Bool("host_all") {
		exists = contains(hosts, r.host)
	}

	switch args.String("state") {
	case "present":
		if exists {
			targets := []string{r.host}
			if args.Bool("host_all") {
				targets = hosts
				var st []mysqlStmt
				st = append(st, r.prefix...)
				if args.String("password") != "" {
					st = append(st, mysqlStmt{"", prepareHash})
				}
				for _, h := range hosts {
					st = append(st, r.readStmts(h, args)...)
				}
				if o, err = mysqlSession(ctx, env, "mysql_user", r.login, st, true); err != nil {
					return Result{}, err
				}
				if !o.connected {
					return o.connectFailure(r.login), nil
				}
			}
			states := map[string]myHostState{}
			for _, h := range targets {
				if e := o.stmtErr("grants:" + h); e != "" {
					return fail(e)
				}
				s, err := hostState(o, h)
				if err != nil {
					return fail(err.Error())
				}
				states[h] = s
			}
			a := args
			if args.String("update_password") != "always" {
				a = Args{}
				for k, v := range args {
					a[k] = v
				}
				delete(a, "password")
				delete(a, "plugin")
				delete(a, "plugin_hash_string")
				delete(a, "plugin_auth_string")
			}
			plan, perr := userModPlan(r.user, targets, states, a, newPriv, oldMgmt, env.Check)
			if perr != "" {
				return fail(perr)
			}
			msg, changed, passwordChanged = plan.msg, plan.changed, plan.passwordChanged
			if !env.Check && len(plan.stmts) > 0 {
				ao, err := r.apply(ctx, plan.stmts, plan.afterHosts)
				if err != nil {
					return Result{}, err
				}
				if f, bad := applyFailure(ao, r.login, plan.stmts); bad {
					return f, nil
				}
				for _, h := range plan.afterHosts {
					after, err := privilegesGet(ao.sections["after:"+h])
					if err != nil {
						return fail(err.Error())
					}
					if !states[h].grants.equal(after) {
						changed = true
					}
				}
			}
		} else {
			if args.Bool("host_all") {
				return fail("host_all parameter cannot be used when adding a user")
			}
			np := newPriv
			if args.Bool("subtract_privs") {
				np = nil
			}
			changed, msg = true, "User added"
			if env.Check {
				passwordChangedNil = true
			} else {
				st, usedExisting := userAddStmts(r.user, r.host, args, np, oldMgmt, o)
				ao, err := r.apply(ctx, st, nil)
				if err != nil {
					return Result{}, err
				}
				if f, bad := applyFailure(ao, r.login, st); bad {
					return f, nil
				}
				passwordChanged = !usedExisting
			}
		}
		if rl := args.Dict("resource_limits"); len(rl) > 0 {
			c, f, err := r.limitResources(ctx, o, rl, exists)
			if err != nil {
				return Result{}, err
			}
			if f != nil {
				return *f, nil
			}
			changed = c || changed
		}
	case "absent":
		if exists {
			changed, msg = true, "User deleted"
			if !env.Check {
				targets := []string{r.host}
				if args.Bool("host_all") {
					targets = hosts
				}
				var st []myStmt
				for _, h := range targets {
					st = append(st, myStmt{sql: "DROP USER IF EXISTS " + userAt(r.user, h)})
				}
				ao, err := r.apply(ctx, st, nil)
				if err != nil {
					return Result{}, err
				}
				if f, bad := applyFailure(ao, r.login, st); bad {
					return f, nil
				}
			}
		} else {
			msg = "User doesn't exist"
		}
	}
	res.Changed, res.Msg = changed, msg
	if passwordChangedNil {
		res.Values["password_changed"] = nil
	} else {
		res.Values["password_changed"] = passwordChanged
	}
	return res, nil
}

// pyTypeName is Python's repr of a value's type, for messages.
func pyTypeName(v any) string {
	switch v.(type) {
	case []any:
		return "<class 'list'>"
	case bool:
		return "<class 'bool'>"
	case int, int64:
		return "<class 'int'>"
	case float64:
		return "<class 'float'>"
	}
	return fmt.Sprintf("<class '%T'>", v)
}

// userOldMgmt is use_old_user_mgmt: MariaDB before 10.2, MySQL before 5.7.
func (o mysqlOut) userOldMgmt() bool {
	if o.mariadb() {
		return mysqlVersionLess(o.version(), "10.2")
	}
	return mysqlVersionLess(o.version(), "5.7")
}

// userPlan is what user_mod decided: the statements to run (none in
// check mode), the message and flags.
type userPlan struct {
	stmts           []myStmt
	afterHosts      []string // hosts whose grants are read again after stmts
	msg             string
	changed         bool
	passwordChanged bool
}

// userModPlan is user_mod for existing accounts; a non-empty string is
// the message the module fails with.
func userModPlan(user string, hosts []string, states map[string]myHostState, a Args, newPriv *privMap, oldMgmt, check bool) (userPlan, string) {
	p := userPlan{msg: "User unchanged"}
	tls := sanitizeRequires(a.Dict("tls_requires"))
	grantOption := false
	password := a.String("password")
	for _, host := range hosts {
		st := states[host]
		if password != "" {
			var hash string
			if a.Bool("encrypted") {
				hash = password
				if !isMysqlHash(hash) {
					return p, "encrypted was specified however it does not appear to be a valid hash expecting: *SHA1(SHA1(your_password))"
				}
			} else {
				hash = mysqlNativeHash(password)
			}
			if st.hashNull || st.hash != hash {
				p.passwordChanged = true
				p.msg = "Password updated"
				if check {
					p.changed = true
					return p, ""
				}
				if oldMgmt {
					p.stmts = append(p.stmts, myStmt{sql: "SET PASSWORD FOR " + userAt(user, host) + " = " + sqlString(hash)})
					p.msg = "Password updated (old style)"
				} else {
					p.stmts = append(p.stmts, myStmt{sql: "ALTER USER " + userAt(user, host) + " IDENTIFIED WITH mysql_native_password AS " + sqlString(hash)})
					p.msg = "Password updated (new style)"
				}
				p.changed = true
			}
		}
		if plugin := a.String("plugin"); plugin != "" {
			hashStr, authStr := a.String("plugin_hash_string"), a.String("plugin_auth_string")
			update := st.plugin != plugin || hashStr != "" && st.authString != hashStr || authStr != "" && st.authString != authStr
			if update {
				var q string
				switch {
				case hashStr != "":
					q = "ALTER USER " + userAt(user, host) + " IDENTIFIED WITH " + sqlString(plugin) + " AS " + sqlString(hashStr)
				case authStr != "" && plugin == "pam":
					q = "ALTER USER " + userAt(user, host) + " IDENTIFIED WITH " + sqlString(plugin) + " USING " + sqlString(authStr)
				case authStr != "":
					q = "ALTER USER " + userAt(user, host) + " IDENTIFIED WITH " + sqlString(plugin) + " BY " + sqlString(authStr)
				default:
					q = "ALTER USER " + userAt(user, host) + " IDENTIFIED WITH " + sqlString(plugin)
				}
				// The collection applies this even in check mode (and does
				// not say so); mdo-play only predicts it.
				if !check {
					p.stmts = append(p.stmts, myStmt{sql: q})
				}
				p.passwordChanged, p.changed = true, true
			}
		}
		if newPriv != nil {
			curr := st.grants
			appendPrivs, subtractPrivs := a.Bool("append_privs"), a.Bool("subtract_privs")
			if !appendPrivs && !subtractPrivs {
				for _, dt := range curr.keys {
					priv := curr.m[dt]
					if contains(priv, "GRANT") {
						grantOption = true
					}
					if !newPriv.has(dt) && user != "root" && !contains(priv, "PROXY") {
						p.msg = "Privileges updated"
						if check {
							p.changed = true
							return p, ""
						}
						p.stmts = append(p.stmts, privilegesRevokeStmts(user, host, dt, priv, grantOption)...)
						p.changed = true
					}
				}
			}
			if !subtractPrivs {
				for _, dt := range newPriv.keys {
					if !curr.has(dt) {
						p.msg = "New privileges granted"
						if check {
							p.changed = true
							return p, ""
						}
						p.stmts = append(p.stmts, privilegesGrantStmt(user, host, dt, newPriv.m[dt]))
						p.changed = true
					}
				}
			}
			for _, dt := range newPriv.keys {
				if !curr.has(dt) {
					continue
				}
				var grantPrivs, revokePrivs []string
				switch {
				case appendPrivs:
					grantPrivs = minus(newPriv.m[dt], curr.m[dt])
				case subtractPrivs:
					revokePrivs = intersect(newPriv.m[dt], curr.m[dt])
				default:
					grantPrivs = minus(newPriv.m[dt], curr.m[dt])
					revokePrivs = minus(curr.m[dt], newPriv.m[dt])
					if contains(grantPrivs, "ALL") || contains(grantPrivs, "ALL PRIVILEGES") {
						revokePrivs = intersect(revokePrivs, []string{"GRANT", "PROXY"})
					}
					grantOption = contains(revokePrivs, "GRANT") && !contains(grantPrivs, "GRANT")
				}
				if len(grantPrivs) == 1 && grantPrivs[0] == "GRANT" {
					grantPrivs = append(grantPrivs, "USAGE")
				}
				if len(grantPrivs)+len(revokePrivs) > 0 {
					p.msg = fmt.Sprintf("Privileges updated: granted %s, revoked %s", pyList(grantPrivs), pyList(revokePrivs))
					if check {
						p.changed = true
						return p, ""
					}
					if len(revokePrivs) > 0 {
						p.stmts = append(p.stmts, privilegesRevokeStmts(user, host, dt, revokePrivs, grantOption)...)
					}
					if len(grantPrivs) > 0 {
						p.stmts = append(p.stmts, privilegesGrantStmt(user, host, dt, grantPrivs))
					}
				}
			}
			p.afterHosts = append(p.afterHosts, host)
		}
		// TLS requirements (MariaDB 10.2+, MySQL 5.7+: ALTER USER).
		if !oldMgmt && !st.requires.equal(tls) {
			p.msg = "TLS requires updated"
			if check {
				p.changed = true
				return p, ""
			}
			req := "NONE"
			if !tls.none() {
				req = tls.sql()
			}
			p.stmts = append(p.stmts, myStmt{sql: "ALTER USER " + userAt(user, host) + " REQUIRE " + req})
			p.changed = true
		}
	}
	return p, ""
}

// isMysqlHash is is_hash: '*' and 40 hex digits.
func isMysqlHash(s string) bool {
	if len(s) != 41 || s[0] != '*' {
		return false
	}
	for _, c := range s[1:] {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return false
		}
	}
	return true
}

// userAddStmts is user_add's statements (not in check mode); usedExisting
// reports that update_password=on_new_username reused an existing
// password.
func userAddStmts(user, host string, a Args, newPriv *privMap, oldMgmt bool, o mysqlOut) ([]myStmt, bool) {
	password, encrypted := a.String("password"), a.Bool("encrypted")
	plugin, hashStr, authStr := a.String("plugin"), a.String("plugin_hash_string"), a.String("plugin_auth_string")
	used := false
	if a.String("update_password") == "on_new_username" {
		rows := o.sections["auth:mysql"]
		if o.mariadb() {
			rows = o.sections["auth:mariadb"]
		}
		if len(rows) == 1 && len(rows[0]) == 2 {
			plugin, hashStr, password, used = rows[0][0], rows[0][1], "", true
		}
	}
	ua := userAt(user, host)
	var q string
	switch {
	case password != "" && encrypted:
		// MariaDB and MySQL before 8 take IDENTIFIED BY PASSWORD.
		if o.mariadb() || mysqlVersionLess(o.version(), "8") {
			q = "CREATE USER " + ua + " IDENTIFIED BY PASSWORD " + sqlString(password)
		} else {
			q = "CREATE USER " + ua + " IDENTIFIED WITH mysql_native_password AS " + sqlString(password)
		}
	case password != "" && oldMgmt:
		q = "CREATE USER " + ua + " IDENTIFIED BY " + sqlString(password)
	case password != "":
		q = "CREATE USER " + ua + " IDENTIFIED WITH mysql_native_password AS " + sqlString(mysqlNativeHash(password))
	case plugin != "" && hashStr != "":
		q = "CREATE USER " + ua + " IDENTIFIED WITH " + sqlString(plugin) + " AS " + sqlString(hashStr)
	case plugin != "" && authStr != "" && plugin == "pam":
		q = "CREATE USER " + ua + " IDENTIFIED WITH " + sqlString(plugin) + " USING " + sqlString(authStr)
	case plugin != "" && authStr != "":
		q = "CREATE USER " + ua + " IDENTIFIED WITH " + sqlString(plugin) + " BY " + sqlString(authStr)
	case plugin != "":
		q = "CREATE USER " + ua + " IDENTIFIED WITH " + sqlString(plugin)
	default:
		q = "CREATE USER " + ua
	}
	if tls := sanitizeRequires(a.Dict("tls_requires")); !tls.none() && !oldMgmt {
		q += " REQUIRE " + tls.sql()
	}
	st := []myStmt{{sql: q}}
	if newPriv != nil {
		for _, dt := range newPriv.keys {
			st = append(st, privilegesGrantStmt(user, host, dt, newPriv.m[dt]))
		}
	}
	return st, used
}

// apply runs statements (after the session prefix), then SHOW GRANTS for
// each of afterHosts under the tag after:HOST.
func (r *mysqlUserRun) apply(ctx context.Context, st []myStmt, afterHosts []string) (mysqlOut, error) {
	stmts := append([]mysqlStmt{}, r.prefix...)
	for i, s := range st {
		stmts = append(stmts, mysqlStmt{"s" + strconv.Itoa(i), s.sql})
	}
	for _, h := range afterHosts {
		stmts = append(stmts, mysqlStmt{"after:" + h, "SHOW GRANTS FOR " + userAt(r.user, h)})
	}
	return mysqlSession(ctx, r.env, "mysql_user", r.login, stmts, false)
}

// applyFailure returns the failed result when an apply session stopped
// early: the login failed, or statement sN did (a GRANT gets the
// collection's InvalidPrivsError message, others the server's error).
func applyFailure(o mysqlOut, l mysqlLogin, st []myStmt) (Result, bool) {
	if !o.connected {
		return o.connectFailure(l), true
	}
	if o.ok() {
		return Result{}, false
	}
	tag := o.lastTag()
	if i, err := strconv.Atoi(strings.TrimPrefix(tag, "s")); err == nil && strings.HasPrefix(tag, "s") && i < len(st) {
		s := st[i]
		if s.invalidPrivs != "" {
			return Result{Failed: true, Msg: s.invalidPrivs + o.errText() + "."}, true
		}
	}
	return Result{Failed: true, Msg: o.errText()}, true
}

// limitResources is limit_resources: it sets the account's resource
// limits that differ (all of them for a new account).
func (r *mysqlUserRun) limitResources(ctx context.Context, o mysqlOut, rl map[string]any, existed bool) (bool, *Result, error) {
	failR := func(msg string) (bool, *Result, error) { return false, &Result{Failed: true, Msg: msg}, nil }
	if o.mariadb() && mysqlVersionLess(o.version(), "10.2") || !o.mariadb() && mysqlVersionLess(o.version(), "5.6") {
		return failR("The server version does not match the requirements for resource_limits parameter. See module's documentation.")
	}
	if !o.mariadb() {
		if _, ok := rl["MAX_STATEMENT_TIME"]; ok {
			return failR("MAX_STATEMENT_TIME resource limit is only supported by MariaDB.")
		}
	}
	keys := make([]string, 0, len(rl))
	for k := range rl {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var cur map[string]string
	if existed {
		s, _ := hostState(o, r.host)
		cur = s.limits
	}
	need := map[string]int{}
	var order []string
	for _, k := range keys {
		v, err := strconv.Atoi(strings.TrimSpace(fmt.Sprint(rl[k])))
		if cur != nil {
			if _, ok := cur[k]; !ok {
				return failR(fmt.Sprintf("resource_limits: key '%s' is unsupported.", k))
			}
		}
		if err != nil {
			return failR(fmt.Sprintf("Can't convert value '%v' to integer.", rl[k]))
		}
		// Compared as numbers: max_statement_time is a DECIMAL (2.000000).
		if c, err := strconv.ParseFloat(cur[k], 64); cur == nil || err != nil || c != float64(v) {
			need[k] = v
			order = append(order, k)
		}
	}
	if len(order) == 0 {
		return false, nil, nil
	}
	if r.env.Check {
		return true, nil, nil
	}
	parts := make([]string, len(order))
	for i, k := range order {
		parts[i] = fmt.Sprintf("%s %d", k, need[k])
	}
	st := []myStmt{{sql: "ALTER USER " + userAt(r.user, r.host) + " WITH " + strings.Join(parts, " ")}}
	ao, err := r.apply(ctx, st, nil)
	if err != nil {
		return false, nil, err
	}
	if f, bad := applyFailure(ao, r.login, st); bad {
		return false, &f, nil
	}
	return true, nil, nil
}

// tlsRequires is the collection's TLS requirement value: nil (none), a
// word (SSL or X509) or key/value pairs (SUBJECT, ISSUER, CIPHER).
type tlsRequires struct {
	word  string
	pairs map[string]string
	keys  []string // pairs' keys in order
}

func (r tlsRequires) none() bool { return r.word == "" && r.pairs == nil }

func (r tlsRequires) equal(o tlsRequires) bool {
	if r.word != o.word || (r.pairs == nil) != (o.pairs == nil) || len(r.pairs) != len(o.pairs) {
		return false
	}
	for k, v := range r.pairs {
		if w, ok := o.pairs[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// sql renders the requirement after REQUIRE (mogrify_requires).
func (r tlsRequires) sql() string {
	if r.pairs == nil {
		return r.word
	}
	parts := make([]string, len(r.keys))
	for i, k := range r.keys {
		parts[i] = k + " " + sqlString(r.pairs[k])
	}
	return strings.Join(parts, " AND ")
}

// sanitizeRequires is sanitize_requires.
func sanitizeRequires(d map[string]any) tlsRequires {
	if len(d) == 0 {
		return tlsRequires{}
	}
	keys := make([]string, 0, len(d))
	up := map[string]string{}
	for k, v := range d {
		K := strings.ToUpper(k)
		if v == nil {
			up[K] = "None"
		} else {
			up[K] = fmt.Sprint(v)
		}
		keys = append(keys, K)
	}
	sort.Strings(keys)
	for _, k := range []string{"CIPHER", "ISSUER", "SUBJECT"} {
		if _, ok := up[k]; ok {
			r := tlsRequires{pairs: map[string]string{}}
			for _, k := range keys {
				if k != "SSL" && k != "X509" {
					r.pairs[k] = up[k]
					r.keys = append(r.keys, k)
				}
			}
			return r
		}
	}
	if _, ok := up["X509"]; ok {
		return tlsRequires{word: "X509"}
	}
	return tlsRequires{word: "SSL"}
}

// getTLSRequires is get_tls_requires on SHOW CREATE USER's rows: the text
// after REQUIRE up to PASSWORD or the end.
func getTLSRequires(rows [][]string) tlsRequires {
	line := ""
	for _, r := range rows {
		if strings.Contains(r[0], "REQUIRE") {
			line = r[0]
			break
		}
	}
	m := regexp.MustCompile(`\bREQUIRE\b`).FindStringIndex(line)
	if m == nil {
		return tlsRequires{}
	}
	rest := line[m[1]:]
	if p := regexp.MustCompile(`\bPASSWORD\b`).FindStringIndex(rest); p != nil {
		rest = rest[:p[0]]
	}
	rest = strings.TrimSpace(rest)
	for _, w := range []string{"SSL", "X509", "NONE"} {
		if strings.HasPrefix(rest, w) {
			if f := strings.Fields(rest)[0]; f != "NONE" {
				return tlsRequires{word: f}
			}
			return tlsRequires{}
		}
	}
	words := shellSplitSimple(rest)
	r := tlsRequires{pairs: map[string]string{}}
	for i := 0; i+1 < len(words); i += 2 {
		if _, dup := r.pairs[words[i]]; !dup {
			r.keys = append(r.keys, words[i])
		}
		r.pairs[words[i]] = words[i+1]
	}
	if len(r.pairs) == 0 {
		return tlsRequires{}
	}
	return r
}

// shellSplitSimple splits s into words as shlex.split does for the text
// SHOW CREATE USER prints: blanks separate, quotes group.
func shellSplitSimple(s string) []string {
	var out []string
	var cur strings.Builder
	in, quote := false, byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			cur.WriteByte(c)
		case c == '\'' || c == '"':
			quote, in = c, true
		case c == ' ' || c == '\t' || c == '\n':
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if in {
		out = append(out, cur.String())
	}
	return out
}
