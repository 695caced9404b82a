package modules

import (
	"strings"
	"testing"
)

// TestMysqlUser runs mysql_user against a private MariaDB, locally and
// over SSH: create, idempotence, check mode, privilege changes in the
// string and dict forms, GRANT OPTION, column privileges, passwords,
// host_all and removal.
func TestMysqlUser(t *testing.T) {
	sock := mysqlServer(t)
	for tn, c := range sysTargets(t) {
		t.Run(tn, func(t *testing.T) {
			rec := &scriptsConn{Conn: c}
			u := "app_" + tn
			mysqlSQL(t, sock, "CREATE DATABASE IF NOT EXISTS shop; CREATE TABLE IF NOT EXISTS shop.items (id INT, name TEXT, price INT);")
			a := func(extra map[string]any) map[string]any {
				return mysqlArgs(sock, mergeMaps(map[string]any{"name": u}, extra))
			}
			state := func() string {
				out := mysqlSQL(t, sock, "SELECT CONCAT(user, '@', host, ' ', plugin, ' ', authentication_string) FROM mysql.user WHERE user = '"+u+"' ORDER BY host")
				for _, h := range strings.Fields(mysqlSQL(t, sock, "SELECT host FROM mysql.user WHERE user = '"+u+"' ORDER BY host")) {
					out += mysqlSQL(t, sock, "SHOW GRANTS FOR '"+u+"'@'"+h+"'")
				}
				return strings.ReplaceAll(out, u, "U")
			}
			pw := "s3cr\"et' \\x#"
			hash := mysqlNativeHash(pw)
			created := "U@localhost mysql_native_password " + hash + "\n" +
				"GRANT USAGE ON *.* TO `U`@`localhost` IDENTIFIED BY PASSWORD '" + hash + "'\n" +
				"GRANT SELECT, INSERT ON `shop`.* TO `U`@`localhost`\n"
			steps := []mysqlStep{
				{"absent already", false, a(map[string]any{"state": "absent"}), false, false, "User doesn't exist", ""},
				{"create check", true, a(map[string]any{"password": pw, "priv": "shop.*:SELECT,INSERT"}), true, false, "User added", ""},
				{"create", false, a(map[string]any{"password": pw, "priv": "shop.*:SELECT,INSERT"}), true, false, "User added", created},
				{"again", false, a(map[string]any{"password": pw, "priv": "shop.*:insert,select"}), false, false, "User unchanged", created},
				{"check again", true, a(map[string]any{"password": pw, "priv": "shop.*:SELECT,INSERT"}), false, false, "User unchanged", created},
				{"priv change check", true, a(map[string]any{"priv": "shop.*:SELECT"}), true, false, "Privileges updated: granted [], revoked ['INSERT']", created},
				{"priv dict", false, a(map[string]any{"priv": map[string]any{"shop.*": "SELECT", "shop.items": "UPDATE"}}), true, false, "Privileges updated: granted [], revoked ['INSERT']", ""},
				{"priv dict again", false, a(map[string]any{"priv": map[string]any{"shop.*": "SELECT", "shop.items": "UPDATE"}}), false, false, "User unchanged", ""},
				{"grant option", false, a(map[string]any{"priv": "shop.*:ALL,GRANT"}), true, false, "", ""},
				{"grant option again", false, a(map[string]any{"priv": "shop.*:ALL,GRANT"}), false, false, "", ""},
				{"drop grant option", false, a(map[string]any{"priv": "shop.*:ALL"}), true, false, "Privileges updated: granted [], revoked ['GRANT']", ""},
				{"append", false, a(map[string]any{"priv": "*.*:PROCESS", "append_privs": true}), true, false, "", ""},
				{"append again", false, a(map[string]any{"priv": "*.*:PROCESS", "append_privs": true}), false, false, "", ""},
				{"columns", false, a(map[string]any{"priv": "shop.items:SELECT (price, id),INSERT"}), true, false, "", ""},
				{"columns again", false, a(map[string]any{"priv": "shop.items:SELECT (price, id),INSERT"}), false, false, "", ""},
				{"subtract", false, a(map[string]any{"priv": "shop.items:INSERT", "subtract_privs": true}), true, false, "", ""},
				{"password on_create", false, a(map[string]any{"password": "other", "update_password": "on_create"}), false, false, "User unchanged", ""},
				{"password check", true, a(map[string]any{"password": "other"}), true, false, "Password updated", ""},
				{"password", false, a(map[string]any{"password": "other"}), true, false, "Password updated (new style)", ""},
				{"password again", false, a(map[string]any{"password": "other"}), false, false, "User unchanged", ""},
				{"encrypted", false, a(map[string]any{"password": hash, "encrypted": true}), true, false, "Password updated", ""},
				{"bad hash", false, a(map[string]any{"password": "nothash", "encrypted": true}), false, true, "encrypted was specified however it does not appear to be a valid hash expecting: *SHA1(SHA1(your_password))", ""},
				{"bad priv", false, a(map[string]any{"priv": "shop.*:SELCT"}), false, true, "Error granting privileges, invalid priv string: SELCT , params: ('" + u + "', 'localhost'), query: GRANT SELCT ON `shop`.* TO %s@%s , exception: (1064, ", ""},
				{"tls check", true, a(map[string]any{"tls_requires": map[string]any{"x509": nil}}), true, false, "TLS requires updated", ""},
				{"tls", false, a(map[string]any{"tls_requires": map[string]any{"x509": nil}}), true, false, "TLS requires updated", ""},
				{"tls again", false, a(map[string]any{"tls_requires": map[string]any{"X509": nil}}), false, false, "User unchanged", ""},
				{"tls subject", false, a(map[string]any{"tls_requires": map[string]any{"subject": "/CN=app/O=Shop, Inc."}}), true, false, "TLS requires updated", ""},
				{"tls subject again", false, a(map[string]any{"tls_requires": map[string]any{"subject": "/CN=app/O=Shop, Inc."}}), false, false, "User unchanged", ""},
				{"tls none", false, a(map[string]any{"tls_requires": map[string]any{}}), true, false, "TLS requires updated", ""},
				{"tls none again", false, a(nil), false, false, "User unchanged", ""},
				{"column case", false, a(map[string]any{"priv": "shop.items:select (Name)", "column_case_sensitive": true}), true, false, "", ""},
				{"column case again", false, a(map[string]any{"priv": "shop.items:select (Name)", "column_case_sensitive": true}), false, false, "User unchanged", ""},
				{"other host", false, a(map[string]any{"host": "10.0.0.%", "priv": "shop.*:SELECT"}), true, false, "User added", ""},
				{"host_all priv", false, a(map[string]any{"host_all": true, "priv": "shop.*:SELECT"}), true, false, "", ""},
				{"host_all again", false, a(map[string]any{"host_all": true, "priv": "shop.*:SELECT"}), false, false, "User unchanged", ""},
				{"host_all state", false, a(map[string]any{"host_all": true, "priv": "shop.*:SELECT"}), false, false, "",
					"U@10.0.0.% mysql_native_password \nU@localhost mysql_native_password " + hash + "\n" +
						"GRANT USAGE ON *.* TO `U`@`10.0.0.%`\nGRANT SELECT ON `shop`.* TO `U`@`10.0.0.%`\n" +
						"GRANT USAGE ON *.* TO `U`@`localhost` IDENTIFIED BY PASSWORD '" + hash + "'\nGRANT SELECT ON `shop`.* TO `U`@`localhost`\n"},
				{"absent check", true, a(map[string]any{"host_all": true, "state": "absent"}), true, false, "User deleted", ""},
				{"absent", false, a(map[string]any{"host_all": true, "state": "absent"}), true, false, "User deleted", ""},
				{"absent again", false, a(map[string]any{"host_all": true, "state": "absent"}), false, false, "User doesn't exist", ""},
				{"host_all create", false, a(map[string]any{"host_all": true}), false, true, "host_all parameter cannot be used when adding a user", ""},
			}
			steps = append(steps, []mysqlStep{
				{"bad login", false, a(map[string]any{"login_user": "nobody", "login_password": "wrong"}), false, true,
					"unable to connect to database, check login_user and login_password are correct or /nonexistent/.my.cnf has the credentials. Exception message: (1045, \"Access denied for user 'nobody'@'localhost' (using password: YES)\")", ""},
				{"implicit admin", false, a(map[string]any{"login_user": "nobody", "login_password": "wrong", "check_implicit_admin": true, "password": pw}), true, false, "User added", ""},
				{"limits", false, a(map[string]any{"resource_limits": map[string]any{"MAX_QUERIES_PER_HOUR": 10, "MAX_STATEMENT_TIME": "2"}}), true, false, "", ""},
				{"limits again", false, a(map[string]any{"resource_limits": map[string]any{"MAX_QUERIES_PER_HOUR": "10", "MAX_STATEMENT_TIME": 2}}), false, false, "", ""},
				{"limits bad key", false, a(map[string]any{"resource_limits": map[string]any{"MAX_FUN": 1}}), false, true, "resource_limits: key 'MAX_FUN' is unsupported.", ""},
				{"reuse password", false, a(map[string]any{"host": "192.0.2.1", "password": "ignored", "update_password": "on_new_username"}), true, false, "User added", ""},
				{"reused", false, nil, false, false, "", ""},
				{"plugin", false, a(map[string]any{"plugin": "unix_socket"}), true, false, "", ""},
				{"plugin again", false, a(map[string]any{"plugin": "unix_socket"}), false, false, "User unchanged", ""},
				{"cleanup", false, a(map[string]any{"host_all": true, "state": "absent"}), true, false, "User deleted", ""},
			}...)
			var split int
			for i, s := range steps {
				if s.what == "reused" {
					split = i
				}
			}
			res := mysqlRunSteps(t, rec, MysqlUser{}, steps[:split], state)
			if got := mysqlSQL(t, sock, "SELECT authentication_string FROM mysql.user WHERE user = '"+u+"' AND host = '192.0.2.1'"); got != hash+"\n" {
				t.Errorf("on_new_username did not reuse the existing hash: %q", got)
			}
			for k, v := range mysqlRunSteps(t, rec, MysqlUser{}, steps[split+1:], state) {
				res[k] = v
			}
			if res["reuse password"].Values["password_changed"] != false {
				t.Errorf("on_new_username: password_changed %v", res["reuse password"].Values["password_changed"])
			}
			if got := state(); got != "" {
				t.Errorf("after absent: %q", got)
			}
			if s := rec.all(); strings.Contains(s, "s3cr") || strings.Contains(s, "other") {
				t.Errorf("a password reached a script (a command line)")
			}
		})
	}
}

func mergeMaps(a, b map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}
