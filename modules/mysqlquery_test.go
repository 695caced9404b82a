package modules

import (
	"reflect"
	"testing"
)

// TestMysqlQuery runs queries on a private MariaDB, locally and over SSH:
// DDL and DML change reporting, arguments, results, a transaction that
// fails as a whole, and the collection's error messages.
func TestMysqlQuery(t *testing.T) {
	sock := mysqlServer(t)
	for tn, c := range sysTargets(t) {
		t.Run(tn, func(t *testing.T) {
			db := "q_" + tn
			mysqlSQL(t, sock, "CREATE DATABASE "+db)
			a := func(extra map[string]any) map[string]any {
				return mysqlArgs(sock, mergeMaps(map[string]any{"login_db": db}, extra))
			}
			state := func() string { return mysqlSQL(t, sock, "SELECT COUNT(*) FROM "+db+".t") }
			steps := []mysqlStep{
				{"create", false, a(map[string]any{"query": "CREATE TABLE IF NOT EXISTS t (id INT PRIMARY KEY, name VARCHAR(20)) -- a comment"}), true, false, "", "0\n"},
				{"create again", false, a(map[string]any{"query": "CREATE TABLE IF NOT EXISTS t (id INT PRIMARY KEY, name VARCHAR(20))"}), false, false, "", "0\n"},
				{"insert", false, a(map[string]any{"query": []any{"INSERT INTO t VALUES (%s, %s)", "INSERT INTO t VALUES (%s, %s)"}, "positional_args": []any{1, "o'ne;\\"}}), false, true, "Duplicate entry '1' for key 'PRIMARY'", "1\n"},
				{"insert named", false, a(map[string]any{"query": "INSERT INTO t VALUES (%(id)s, %(name)s)", "named_args": map[string]any{"id": 2, "name": nil}}), true, false, "", "2\n"},
				{"update none", false, a(map[string]any{"query": "UPDATE t SET name = 'x' WHERE id = 99"}), false, false, "", "2\n"},
				{"select", false, a(map[string]any{"query": "SELECT id, name FROM t WHERE id > %s ORDER BY id", "positional_args": []any{0}}), false, false, "", "2\n"},
				{"transaction", false, a(map[string]any{"query": []any{"INSERT INTO t VALUES (3, 'three')", "INSERT INTO t VALUES (3, 'again')"}, "single_transaction": true}), false, true,
					"Cannot execute SQL 'INSERT INTO t VALUES (3, 'again')' args [None]: (1062, \"Duplicate entry '3' for key 'PRIMARY'\")", "2\n"},
				{"bad args", false, a(map[string]any{"query": "SELECT %s, %s", "positional_args": []any{1}}), false, true, "Cannot execute SQL 'SELECT %s, %s' args [[1]]: not enough arguments for format string", ""},
				{"bad query type", false, a(map[string]any{"query": map[string]any{"a": 1}}), false, true, "the query option value must be a string or list, passed <class 'map[string]interface {}'>", ""},
				{"bad db", false, a(map[string]any{"query": "SELECT 1", "login_db": "nodb"}), false, true, "unable to connect to database, check login_user and login_password are correct or /nonexistent/.my.cnf has the credentials. Exception message: (1049, \"Unknown database 'nodb'\")", ""},
			}
			res := mysqlRunSteps(t, c, MysqlQuery{}, steps, state)
			sel := res["select"].Values
			want := []any{[]any{map[string]any{"id": int64(1), "name": "o'ne;\\"}, map[string]any{"id": int64(2), "name": nil}}}
			if !reflect.DeepEqual(sel["query_result"], want) || !reflect.DeepEqual(sel["rowcount"], []any{int64(2)}) {
				t.Errorf("select: %#v", sel)
			}
			if q := sel["executed_queries"]; !reflect.DeepEqual(q, []any{"SELECT id, name FROM t WHERE id > 0 ORDER BY id"}) {
				t.Errorf("executed %v", q)
			}
			if rc := res["insert named"].Values["rowcount"]; !reflect.DeepEqual(rc, []any{int64(1)}) {
				t.Errorf("insert rowcount %v", rc)
			}
			mysqlSQL(t, sock, "DROP DATABASE "+db)
		})
	}
}
