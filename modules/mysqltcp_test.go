package modules

import (
	"net"
	"strconv"
	"testing"
)

// TestMysqlTCP logs in over TCP (login_host, login_port) with a password,
// locally and from the SSH test host (which shares this machine's network).
func TestMysqlTCP(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	sock := mysqlServer(t, "--skip-log-bin", "--skip-networking=0", "--bind-address=127.0.0.1", "--port="+strconv.Itoa(port))
	mysqlSQL(t, sock, "CREATE USER 'tcp'@'127.0.0.1' IDENTIFIED BY 'tcp pass#1'")
	for tn, c := range sysTargets(t) {
		t.Run(tn, func(t *testing.T) {
			raw := map[string]any{"login_host": "127.0.0.1", "login_port": port, "login_user": "tcp", "login_password": "tcp pass#1",
				"config_file": "/nonexistent", "query": "SELECT CURRENT_USER() AS u"}
			res, _ := sysRun(t, c, MysqlQuery{}, false, false, raw)
			if res.Failed {
				t.Fatal(res.Msg)
			}
			if r := res.Values["query_result"].([]any)[0].([]any)[0].(map[string]any); r["u"] != "tcp@127.0.0.1" {
				t.Errorf("logged in as %v", r["u"])
			}
			raw["login_password"] = "wrong"
			res, _ = sysRun(t, c, MysqlQuery{}, false, false, raw)
			sysExpect(t, "wrong password", res, false, true, "Exception message: (1045, \"Access denied for user 'tcp'@'127.0.0.1' (using password: YES)\")")
			res, _ = sysRun(t, c, MysqlDb{}, false, false, map[string]any{"name": "x", "login_port": 70000})
			sysExpect(t, "bad port", res, false, true, "login_port must be a valid unix port number (0-65535)")
		})
	}
}
