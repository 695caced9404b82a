package modules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMysqlDb runs mysql_db against a private MariaDB, locally and over
// SSH: create (one name and a list, with encoding and collation),
// idempotence, check mode, dump and import plain and compressed, removal
// and the collection's errors.
func TestMysqlDb(t *testing.T) {
	sock := mysqlServer(t)
	for tn, c := range sysTargets(t) {
		t.Run(tn, func(t *testing.T) {
			d1, d2 := "db1_"+tn, "db2_"+tn
			dir := t.TempDir()
			a := func(extra map[string]any) map[string]any { return mysqlArgs(sock, extra) }
			state := func() string {
				return strings.ReplaceAll(mysqlSQL(t, sock, "SELECT CONCAT(SCHEMA_NAME, ' ', DEFAULT_CHARACTER_SET_NAME, ' ', DEFAULT_COLLATION_NAME) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'db%\\_"+tn+"' ORDER BY 1"), "_"+tn, "") + "."
			}
			both := []any{d1, d2}
			steps := []mysqlStep{
				{"create check", true, a(map[string]any{"name": d1, "encoding": "latin1", "collation": "latin1_bin"}), true, false, "", "."},
				{"create", false, a(map[string]any{"name": d1, "encoding": "latin1", "collation": "latin1_bin"}), true, false, "", "db1 latin1 latin1_bin\n."},
				{"again", false, a(map[string]any{"name": d1, "encoding": "latin1", "collation": "latin1_bin"}), false, false, "", "db1 latin1 latin1_bin\n."},
				{"implicit admin", false, a(map[string]any{"name": d1, "login_user": "nobody", "login_password": "x", "check_implicit_admin": true}), false, false, "", "db1 latin1 latin1_bin\n."},
				{"list", false, a(map[string]any{"name": both}), true, false, "", "db1 latin1 latin1_bin\ndb2 latin1 latin1_swedish_ci\n."},
				{"list again", false, a(map[string]any{"name": d1 + "," + d2}), false, false, "", ""},
				{"all present", false, a(map[string]any{"name": "all"}), false, true, "name is not allowed to equal 'all' unless state equals import, or dump.", ""},
				{"dump no target", false, a(map[string]any{"name": d1, "state": "dump"}), false, true, "with state=dump target is required", ""},
				{"dump missing", false, a(map[string]any{"name": []any{"nodb1", "nodb2"}, "state": "dump", "target": dir + "/x.sql"}), false, true, "Cannot dump database(s) 'nodb1, nodb2' - not found", ""},
				{"dump check", true, a(map[string]any{"name": d1, "state": "dump", "target": dir + "/d1.sql"}), true, false, "", ""},
				{"dump", false, a(map[string]any{"name": d1, "state": "dump", "target": dir + "/d1.sql", "single_transaction": true}), true, false, "", ""},
				{"dump gz", false, a(map[string]any{"name": both, "state": "dump", "target": dir + "/both.sql.gz", "login_user": "nobody", "login_password": "x", "check_implicit_admin": true}), true, false, "", ""},
				{"dump bz2", false, a(map[string]any{"name": d1, "state": "dump", "target": dir + "/d1.sql.bz2"}), true, false, "", ""},
				{"import many", false, a(map[string]any{"name": both, "state": "import", "target": dir + "/d1.sql"}), false, true, "Multiple databases are not supported with state=import", ""},
				{"import no file", false, a(map[string]any{"name": d1, "state": "import", "target": dir + "/none.sql"}), false, true, "target " + dir + "/none.sql does not exist on the host", ""},
				{"absent check", true, a(map[string]any{"name": both, "state": "absent"}), true, false, "", "db1 latin1 latin1_bin\ndb2 latin1 latin1_swedish_ci\n."},
				{"absent", false, a(map[string]any{"name": both, "state": "absent"}), true, false, "", "."},
				{"absent again", false, a(map[string]any{"name": both, "state": "absent"}), false, false, "", "."},
				{"import check", true, a(map[string]any{"name": d1, "state": "import", "target": dir + "/d1.sql.bz2"}), true, false, "", "."},
				{"import bz2", false, a(map[string]any{"name": d1, "state": "import", "target": dir + "/d1.sql.bz2"}), true, false, "", "db1 latin1 latin1_swedish_ci\n."},
				{"import all gz", false, a(map[string]any{"name": "all", "state": "import", "target": dir + "/both.sql.gz"}), true, false, "", "db1 latin1 latin1_swedish_ci\ndb2 latin1 latin1_swedish_ci\n."},
				{"bad login", false, a(map[string]any{"name": d1, "login_user": "nobody", "login_password": "wrong"}), false, true,
					"unable to find /nonexistent/.my.cnf. Exception message: (1045, \"Access denied for user 'nobody'@'localhost' (using password: YES)\")", ""},
			}
			mysqlSQL(t, sock, "CREATE DATABASE IF NOT EXISTS "+d1+"; CREATE DATABASE IF NOT EXISTS "+d2+";")
			mysqlSQL(t, sock, "DROP DATABASE "+d1+"; DROP DATABASE "+d2+";")
			// a table whose rows the import must bring back
			steps = append(steps[:4], append([]mysqlStep{{"seed", false, a(map[string]any{"name": d1}), false, false, "", ""}}, steps[4:]...)...)
			for _, s := range steps {
				if s.what == "seed" {
					mysqlSQL(t, sock, "CREATE TABLE "+d1+".t (id INT, v TEXT); INSERT INTO "+d1+".t VALUES (1, 'one\\ttab'), (2, 'two');")
					continue
				}
				r := mysqlRunSteps(t, c, MysqlDb{}, []mysqlStep{s}, state)[s.what]
				if s.what == "dump gz" {
					cmds := r.Values["executed_commands"].([]any)
					if want := "mysqldump --defaults-extra-file=/nonexistent/.my.cnf --user=root --password='' --socket=" + sock + " --databases " + d1 + " " + d2 + " --quick | /usr/bin/gzip > " + dir + "/both.sql.gz"; len(cmds) != 1 || !strings.HasSuffix(cmds[0].(string), want) {
						t.Errorf("executed_commands %q\nwant suffix %q", cmds, want)
					}
				}
				if s.what == "dump" {
					b, err := os.ReadFile(filepath.Join(dir, "d1.sql"))
					if err != nil || !strings.Contains(string(b), "(2,'two')") {
						t.Errorf("dump: %v\n%s", err, b)
					}
					if m, _ := filepath.Glob(dir + "/*mdo-tmp*"); len(m) > 0 {
						t.Errorf("temporary files left: %v", m)
					}
				}
			}
			if got := mysqlSQL(t, sock, "SELECT id, v FROM "+d1+".t ORDER BY id"); got != "1\tone\\ttab\n2\ttwo\n" {
				t.Errorf("imported rows %q", got)
			}
			mysqlSQL(t, sock, "DROP DATABASE "+d1+"; DROP DATABASE "+d2+";")
		})
	}
}
