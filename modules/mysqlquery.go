package modules

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/mdo-play/mdo-play/templates/pyjson"
)

// MysqlQuery is the mysql_query module (community.mysql.mysql_query): it
// runs one query or a list of them, with positional_args (%s) or
// named_args (%(name)s) substituted as PyMySQL does, in one session
// through the mysql client on the target (see mysqlclient.go), optionally
// inside one transaction. It returns each query's rows (column names from
// the client's header line; integers become numbers, NULL None, the rest
// strings), row counts and the executed text, and reports a change as the
// collection does: a DML statement that affected rows, or any DDL
// statement unless the server noted that the object already exists. Like
// the collection it does not support check mode.
//
// It costs one round trip.
type MysqlQuery struct{}

var _ Module = MysqlQuery{}

// Spec describes mysql_query's arguments.
func (MysqlQuery) Spec() *Spec {
	return &Spec{
		Args: append(mysqlConnArgs(),
			Arg{Name: "query", Type: TypeRaw, Required: true},
			Arg{Name: "login_db", Type: TypeStr},
			Arg{Name: "positional_args", Type: TypeList},
			Arg{Name: "named_args", Type: TypeDict},
			Arg{Name: "single_transaction", Type: TypeBool, Default: false},
		),
		MutuallyExclusive: [][]string{{"positional_args", "named_args"}},
	}
}

// pyFormat is Python's `query % args` as PyMySQL uses it, with each
// argument escaped first: %s takes the next positional argument,
// %(name)s a named one, %% is a percent sign.
func pyFormat(q string, pos []any, named map[string]any) (string, error) {
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] != '%' {
			b.WriteByte(q[i])
			continue
		}
		if i+1 >= len(q) {
			return "", fmt.Errorf("incomplete format")
		}
		switch {
		case q[i+1] == '%':
			b.WriteByte('%')
			i++
		case q[i+1] == 's' && named == nil:
			if n >= len(pos) {
				return "", fmt.Errorf("not enough arguments for format string")
			}
			b.WriteString(sqlQueryValue(pos[n]))
			n++
			i++
		case q[i+1] == '(' && named != nil:
			end := strings.Index(q[i:], ")s")
			if end < 0 {
				return "", fmt.Errorf("incomplete format key")
			}
			key := q[i+2 : i+end]
			v, ok := named[key]
			if !ok {
				return "", fmt.Errorf("'%s'", key)
			}
			b.WriteString(sqlQueryValue(v))
			i += end + 1
		default:
			return "", fmt.Errorf("unsupported format character '%c' (0x%x) at index %d", q[i+1], q[i+1], i+1)
		}
	}
	if named == nil && n < len(pos) {
		return "", fmt.Errorf("not all arguments converted during string formatting")
	}
	return b.String(), nil
}

// sqlQueryValue escapes a query argument as PyMySQL does (a list becomes
// a parenthesized list).
func sqlQueryValue(v any) string {
	if l, ok := v.([]any); ok {
		parts := make([]string, len(l))
		for i, e := range l {
			parts[i] = sqlQueryValue(e)
		}
		return "(" + strings.Join(parts, ",") + ")"
	}
	return sqlValue(v)
}

// Run executes the queries.
func (MysqlQuery) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	fail := func(msg string) (Result, error) { return Result{Failed: true, Msg: msg}, nil }
	var queries []string
	switch q := args["query"].(type) {
	case string:
		queries = []string{q}
	case []any:
		for _, e := range q {
			s, ok := e.(string)
			if !ok {
				return fail(fmt.Sprintf("the elements in query list must be strings, passed '%s' %s", pyStr(e), pyTypeName(e)))
			}
			queries = append(queries, s)
		}
	default:
		return fail(fmt.Sprintf("the query option value must be a string or list, passed %s", pyTypeName(q)))
	}
	pos, named := args.List("positional_args"), args.Dict("named_args")
	argsRepr := "None"
	switch {
	case len(pos) > 0:
		named = nil
		argsRepr = pyjson.Repr(pos)
	case len(named) > 0:
		pos = nil
		argsRepr = pyjson.Repr(named)
	default:
		pos, named = nil, nil
	}
	texts := make([]string, len(queries))
	for i, q := range queries {
		if pos == nil && named == nil {
			texts[i] = q
			continue
		}
		t, err := pyFormat(q, pos, named)
		if err != nil {
			return fail(fmt.Sprintf("Cannot execute SQL '%s' args [%s]: %s", q, argsRepr, err))
		}
		texts[i] = t
	}
	l := mysqlLogin{args: args, db: args.String("login_db"), headers: true}
	var stmts []mysqlStmt
	tx := args.Bool("single_transaction")
	if tx {
		stmts = append(stmts, mysqlStmt{"begin", "START TRANSACTION"})
	}
	for i, t := range texts {
		n := strconv.Itoa(i)
		// ROW_COUNT() is kept before a marker (a SELECT) resets it; the
		// warnings survive statements that use no table.
		stmts = append(stmts, mysqlStmt{"q" + n, t}, mysqlStmt{"", "SET @mdo_rc = ROW_COUNT()"},
			mysqlStmt{"w" + n, "SHOW WARNINGS"}, mysqlStmt{"rc" + n, "SELECT @mdo_rc AS mdo_rc"})
	}
	if tx {
		stmts = append(stmts, mysqlStmt{"commit", "COMMIT"})
	}
	o, err := mysqlSession(ctx, env, "mysql_query", l, stmts, false)
	if err != nil {
		return Result{}, err
	}
	if !o.connected {
		return o.connectFailure(l), nil
	}
	if !o.ok() {
		tag := o.lastTag()
		if i, err := strconv.Atoi(strings.TrimPrefix(tag, "q")); err == nil && strings.HasPrefix(tag, "q") {
			return fail(fmt.Sprintf("Cannot execute SQL '%s' args [%s]: %s", queries[i], argsRepr, o.errText()))
		}
		return fail(o.errText())
	}
	changed := false
	results, rowcounts, executed := []any{}, []any{}, []any{}
	for i, t := range texts {
		n := strconv.Itoa(i)
		rows, head := o.sections["q"+n], o.headers["q"+n]
		already := false
		for _, w := range o.sections["w"+n] {
			if len(w) == 3 && strings.Contains(w[2], "already exists") {
				already = true
			}
		}
		res := []any{}
		for _, r := range rows {
			m := map[string]any{}
			for j, h := range head {
				if j < len(r) {
					m[h] = replicationValue(r[j])
				}
			}
			res = append(res, m)
		}
		count := int64(len(rows))
		if v, ok := o.value("rc" + n); ok {
			if c, err := strconv.ParseInt(v, 10, 64); err == nil && c >= 0 {
				count = c
			}
		}
		if !already {
			results = append(results, res)
		}
		kw := strings.ToUpper(strings.TrimLeft(t, " \t\n\r\f\v"))
		if len(kw) > 8 {
			kw = kw[:8]
		}
		for _, k := range []string{"INSERT", "UPDATE", "DELETE", "REPLACE"} {
			if strings.Contains(kw, k) && count > 0 {
				changed = true
			}
		}
		for _, k := range []string{"CREATE", "DROP", "ALTER", "RENAME", "TRUNCATE"} {
			if strings.Contains(kw, k) {
				changed = !already
			}
		}
		executed = append(executed, t)
		rowcounts = append(rowcounts, count)
	}
	return Result{Changed: changed, Values: map[string]any{
		"executed_queries": executed, "query_result": results, "rowcount": rowcounts,
	}}, nil
}
