package modules

import (
	"testing"
)

// TestMysqlVariables reads and sets global variables on a private
// MariaDB, locally and over SSH.
func TestMysqlVariables(t *testing.T) {
	sock := mysqlServer(t)
	for tn, c := range sysTargets(t) {
		t.Run(tn, func(t *testing.T) {
			mysqlSQL(t, sock, "SET GLOBAL max_connections = 151; SET GLOBAL long_query_time = 10; SET GLOBAL slow_query_log = OFF")
			a := func(extra map[string]any) map[string]any { return mysqlArgs(sock, extra) }
			state := func() string {
				return mysqlSQL(t, sock, "SELECT @@GLOBAL.max_connections, @@GLOBAL.long_query_time, @@GLOBAL.slow_query_log")
			}
			steps := []mysqlStep{
				{"read", false, a(map[string]any{"variable": "max_connections"}), false, false, "151", "151\t10.000000\t0\n"},
				{"set", false, a(map[string]any{"variable": "max_connections", "value": "200"}), true, false, "Variable change succeeded prev_value=151", "200\t10.000000\t0\n"},
				{"again", false, a(map[string]any{"variable": "max_connections", "value": 200}), false, false, "Variable is already set to requested value.", "200\t10.000000\t0\n"},
				{"float", false, a(map[string]any{"variable": "long_query_time", "value": "2.5"}), true, false, "Variable change succeeded prev_value=10.0", "200\t2.500000\t0\n"},
				{"float again", false, a(map[string]any{"variable": "long_query_time", "value": "2.50"}), false, false, "Variable is already set to requested value.", "200\t2.500000\t0\n"},
				{"word", false, a(map[string]any{"variable": "slow_query_log", "value": "ON"}), true, false, "Variable change succeeded prev_value=OFF", "200\t2.500000\t1\n"},
				{"word again", false, a(map[string]any{"variable": "slow_query_log", "value": "ON"}), false, false, "Variable is already set to requested value.", ""},
				{"no variable", false, a(nil), false, true, "Cannot run without variable to operate with", ""},
				{"bad name", false, a(map[string]any{"variable": "max_connections; DROP"}), false, true, `invalid variable name "max_connections; DROP"`, ""},
				{"unknown", false, a(map[string]any{"variable": "no_such_variable", "value": "1"}), false, true, `Variable not available "no_such_variable"`, ""},
				{"bad value", false, a(map[string]any{"variable": "slow_query_log", "value": "MAYBE"}), false, true, "(1231, \"Variable 'slow_query_log' can't be set to the value of 'MAYBE'\")", ""},
				{"persist", false, a(map[string]any{"variable": "max_connections", "value": "300", "mode": "persist"}), false, true, "Server version must be 8.0 or greater.", "200\t2.500000\t1\n"},
			}
			res := mysqlRunSteps(t, c, MysqlVariables{}, steps, state)
			if q := res["set"].Values["queries"]; len(q.([]any)) != 1 || q.([]any)[0] != "SET GLOBAL `max_connections` = 200" {
				t.Errorf("queries %v", q)
			}
		})
	}
}
