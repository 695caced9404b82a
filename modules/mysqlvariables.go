package modules

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// MysqlVariables is the mysql_variables module
// (community.mysql.mysql_variables): it reads a server variable and, given
// a value, sets it with SET GLOBAL (or SET PERSIST / PERSIST_ONLY on MySQL
// 8) when it differs, through the mysql client on the target (see
// mysqlclient.go). Values are compared as the collection compares them:
// as integers or floats when both sides parse as such, otherwise as exact
// strings. Like the collection it does not support check mode.
//
// One round trip reads the variable; a change costs one more.
type MysqlVariables struct{}

var _ Module = MysqlVariables{}

// Spec describes mysql_variables' arguments.
func (MysqlVariables) Spec() *Spec {
	return &Spec{
		Args: append(mysqlConnArgs(),
			Arg{Name: "variable", Type: TypeStr},
			Arg{Name: "value", Type: TypeStr},
			Arg{Name: "mode", Type: TypeStr, Default: "global", Choices: []string{"global", "persist", "persist_only"}},
		),
	}
}

var mysqlVarNameRe = regexp.MustCompile(`^[0-9A-Za-z_.]+$`)

// typedValue is the collection's typedvalue: an int, else a float, else
// the string.
func typedValue(s string) any {
	t := strings.TrimSpace(s)
	if i, err := strconv.ParseInt(t, 10, 64); err == nil {
		return i
	}
	if f, err := strconv.ParseFloat(t, 64); err == nil {
		return f
	}
	return s
}

// typedEqual is Python's == on two typedValue results.
func typedEqual(a, b any) bool {
	num := func(v any) (float64, bool) {
		switch x := v.(type) {
		case int64:
			return float64(x), true
		case float64:
			return x, true
		}
		return 0, false
	}
	if x, ok := num(a); ok {
		y, ok := num(b)
		return ok && x == y
	}
	as, ok1 := a.(string)
	bs, ok2 := b.(string)
	return ok1 && ok2 && as == bs
}

// pyStr is Python's str() of a typedValue result.
func pyStr(v any) string {
	switch x := v.(type) {
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return strings.ToLower(strconv.FormatFloat(x, 'g', -1, 64))
		}
		s := strconv.FormatFloat(x, 'g', -1, 64)
		if !strings.ContainsAny(s, ".e") {
			s += ".0"
		}
		return s
	case bool:
		if x {
			return "True"
		}
		return "False"
	case nil:
		return "None"
	}
	return fmt.Sprint(v)
}

// sqlTyped renders a typedValue result as PyMySQL escapes it.
func sqlTyped(v any) string {
	switch x := v.(type) {
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return pyStr(x)
	}
	return sqlString(fmt.Sprint(v))
}

// Run reads or sets the variable.
func (MysqlVariables) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	fail := func(msg string) (Result, error) { return Result{Failed: true, Msg: msg}, nil }
	name, mode := args.String("variable"), args.String("mode")
	if !args.Has("variable") {
		return fail("Cannot run without variable to operate with")
	}
	if !mysqlVarNameRe.MatchString(name) {
		return fail(fmt.Sprintf("invalid variable name \"%s\"", name))
	}
	l := mysqlLogin{args: args, db: "mysql"}
	stmts := []mysqlStmt{{"var", "SHOW VARIABLES WHERE Variable_name = " + sqlString(name)}}
	if mode != "global" {
		stmts = append(stmts, mysqlStmt{"auto", "SELECT VARIABLE_VALUE FROM performance_schema.persisted_variables WHERE VARIABLE_NAME = " + sqlString(name)})
	}
	o, err := mysqlSession(ctx, env, "mysql_variables", l, stmts, false)
	if err != nil {
		return Result{}, err
	}
	if !o.connected {
		return o.connectFailureCnf(l), nil
	}
	if !o.has("auto") && o.lastTag() == "var" {
		return fail(o.errText())
	}
	rows := o.sections["var"]
	if len(rows) != 1 || len(rows[0]) < 2 {
		return fail(fmt.Sprintf("Variable not available \"%s\"", name))
	}
	current := rows[0][1]
	if !args.Has("value") {
		return Result{Msg: current}, nil
	}
	var inAuto any
	haveAuto := false
	if mode != "global" {
		if !o.ok() {
			if strings.Contains(o.errText(), "persisted_variables' doesn't exist") {
				return fail("Server version must be 8.0 or greater.")
			}
			return fail(o.errText())
		}
		if v, ok := o.value("auto"); ok {
			inAuto, haveAuto = typedValue(v), true
		}
	}
	wanted := typedValue(args.String("value"))
	var actual any = typedValue(current)
	if mode == "persist_only" {
		if haveAuto {
			actual = inAuto
		} else {
			actual = false
		}
	}
	if typedEqual(wanted, actual) && (mode == "global" || mode == "persist") {
		if mode == "persist" && haveAuto && typedEqual(wanted, inAuto) {
			return Result{Msg: "Variable is already set to requested value globallyand stored into mysqld-auto.cnf file."}, nil
		} else if mode == "global" {
			return Result{Msg: "Variable is already set to requested value."}, nil
		}
	}
	if mode == "persist_only" && haveAuto && typedEqual(wanted, inAuto) {
		return Result{Msg: "Variable is already stored into mysqld-auto.cnf with requested value."}, nil
	}
	id, err := mysqlQuoteIdentifier(name, "vars")
	if err != nil {
		return fail(err.Error())
	}
	query := "SET " + strings.ToUpper(mode) + " " + id + " = "
	ao, err := mysqlSession(ctx, env, "mysql_variables", l, []mysqlStmt{{"set", query + sqlTyped(wanted)}}, false)
	if err != nil {
		return Result{}, err
	}
	if !ao.connected {
		return ao.connectFailureCnf(l), nil
	}
	if !ao.ok() {
		return fail(ao.errText())
	}
	return Result{Changed: true, Msg: "Variable change succeeded prev_value=" + pyStr(actual),
		Values: map[string]any{"queries": []any{query + pyStr(wanted)}}}, nil
}
