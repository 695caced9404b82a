package modules

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestMysqlHostile is the community.mysql modules' shell-safety test: the
// hostile names of shellsafety_test.go as user names, passwords, query
// arguments, database names, dump file names, variable values, replication
// credentials and option-file paths, each of which must reach the server
// or the file system exactly. Names that are not UTF-8 are used only as
// file names (the server refuses them as identifiers and strings).
func TestMysqlHostile(t *testing.T) {
	sock := mysqlServer(t)
	for tn, c := range sysTargets(t) {
		t.Run(tn, func(t *testing.T) {
			for i, hn := range hostileNames {
				t.Run(hn.label, func(t *testing.T) {
					name := hn.s
					dir := t.TempDir()
					a := func(extra map[string]any) map[string]any { return mysqlArgs(sock, extra) }
					run := func(m Module, raw map[string]any) Result {
						t.Helper()
						res, _ := sysRun(t, c, m, false, false, raw)
						if res.Failed {
							t.Fatalf("%T %v: %s", m, raw, res.Msg)
						}
						return res
					}
					hexOf := func(s string) string { return "X'" + hex.EncodeToString([]byte(s)) + "'" }
					// file names: a dump written to and imported from a hostile path
					db := "hostile" + tn + string(rune('a'+i))
					run(MysqlDb{}, a(map[string]any{"name": db}))
					target := filepath.Join(dir, name+".sql.gz")
					run(MysqlDb{}, a(map[string]any{"name": db, "state": "dump", "target": target}))
					wantNames(t, c, dir, name+".sql.gz")
					run(MysqlDb{}, a(map[string]any{"name": db, "state": "import", "target": target}))
					run(MysqlDb{}, a(map[string]any{"name": db, "state": "absent"}))
					// an option file at a hostile path (one line in !include: no newline)
					if !strings.Contains(name, "\n") {
						cnf := filepath.Join(dir, name)
						if err := os.WriteFile(cnf, []byte("[client]\nuser=root\nsocket="+sock+"\n"), 0o600); err != nil {
							t.Fatal(err)
						}
						res := run(MysqlQuery{}, map[string]any{"config_file": cnf, "query": "SELECT CURRENT_USER() AS u"})
						if r := res.Values["query_result"].([]any)[0].([]any)[0].(map[string]any); r["u"] != "root@localhost" {
							t.Errorf("config_file login as %v", r["u"])
						}
					}
					if !utf8.ValidString(name) {
						return
					}
					// an account named and protected by the name, used to log in
					raw := a(map[string]any{"name": name, "password": name, "priv": "*.*:USAGE"})
					if res := run(MysqlUser{}, raw); !res.Changed {
						t.Errorf("user not created: %s", res.Msg)
					}
					if got := mysqlSQL(t, sock, "SELECT COUNT(*) FROM mysql.user WHERE user = "+hexOf(name)+" AND host = 'localhost' AND authentication_string = '"+mysqlNativeHash(name)+"'"); got != "1\n" {
						t.Errorf("account with that name and password: %q", got)
					}
					if res := run(MysqlUser{}, raw); res.Changed {
						t.Errorf("second run changed: %s", res.Msg)
					}
					res := run(MysqlQuery{}, map[string]any{"login_user": name, "login_password": name, "login_unix_socket": sock, "config_file": "/nonexistent",
						"query": "SELECT CURRENT_USER() AS u, %s AS v", "positional_args": []any{name}})
					r := res.Values["query_result"].([]any)[0].([]any)[0].(map[string]any)
					if r["v"] != name || r["u"] != name+"@localhost" {
						t.Errorf("logged in as %q, argument came back as %q", r["u"], r["v"])
					}
					run(MysqlUser{}, a(map[string]any{"name": name, "state": "absent"}))
					// a database of that name (the server refuses some names)
					res, _ = sysRun(t, c, MysqlDb{}, false, false, a(map[string]any{"name": name}))
					if res.Failed && !strings.Contains(res.Msg, "Incorrect database name") {
						t.Errorf("database: %s", res.Msg)
					}
					if !res.Failed {
						want := strings.TrimSpace(name) // the collection strips names
						if len(name) > 1 && name[0] == '`' && name[len(name)-1] == '`' {
							want = name[1 : len(name)-1] // quoted already, as mysql_quote_identifier reads it
						}
						if got := mysqlSQL(t, sock, "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = "+hexOf(want)); got != "1\n" {
							t.Errorf("database %q not found: %q", name, got)
						}
						// (absent looks the name up unquoted, as the collection does)
						mysqlSQL(t, sock, "DROP DATABASE `"+strings.ReplaceAll(want, "`", "``")+"`")
					}
					// a variable value
					run(MysqlVariables{}, a(map[string]any{"variable": "init_connect", "value": name}))
					if got := mysqlSQL(t, sock, "SELECT HEX(@@GLOBAL.init_connect)"); got != strings.ToUpper(hex.EncodeToString([]byte(name)))+"\n" {
						t.Errorf("init_connect = %s", got)
					}
					mysqlSQL(t, sock, "SET GLOBAL init_connect = ''")
					// replication credentials
					run(MysqlReplication{}, a(map[string]any{"mode": "changeprimary", "primary_host": "127.0.0.1", "primary_user": name, "primary_password": name}))
					res = run(MysqlReplication{}, a(map[string]any{"mode": "getreplica"}))
					if res.Values["Master_User"] != name {
						t.Errorf("Master_User %q", res.Values["Master_User"])
					}
					run(MysqlReplication{}, a(map[string]any{"mode": "resetreplicaall"}))
				})
			}
		})
	}
}
