package modules

import (
	"os/exec"
	"strings"
	"testing"
)

// TestMysqlReplication drives replication on a private MariaDB with a
// binary log, locally and over SSH: primary status, pointing the server
// at a primary (nobody listens there, so the IO thread only tries),
// starting, stopping and resetting the replica, with the old mode names
// too.
func TestMysqlReplication(t *testing.T) {
	sock := mysqlServer(t, "--log-bin=mdo-bin", "--server-id=7")
	for tn, c := range sysTargets(t) {
		t.Run(tn, func(t *testing.T) {
			a := func(extra map[string]any) map[string]any { return mysqlArgs(sock, extra) }
			state := func() string {
				out, err := exec.Command("mysql", "--no-defaults", "-uroot", "--socket="+sock, "--vertical", "-e", "SHOW SLAVE STATUS").CombinedOutput()
				if err != nil {
					t.Fatalf("%v: %s", err, out)
				}
				host, io := "", ""
				for _, l := range strings.Split(string(out), "\n") {
					l = strings.TrimSpace(l)
					if v, ok := strings.CutPrefix(l, "Master_Host: "); ok {
						host = v
					}
					if v, ok := strings.CutPrefix(l, "Slave_SQL_Running: "); ok {
						io = v
					}
				}
				return host + " " + io + "\n"
			}
			steps := []mysqlStep{
				{"not replica", false, a(map[string]any{"mode": "getreplica"}), false, false, "Server is not configured as mysql replica", " \n"},
				{"primary", false, a(map[string]any{"mode": "getprimary"}), false, false, "", ""},
				{"change", false, a(map[string]any{"mode": "changeprimary", "primary_host": "127.0.0.1", "master_port": 1, "primary_user": "repl", "primary_password": "r3pl!", "primary_connect_retry": 30}), true, false, "", "127.0.0.1 No\n"},
				{"replica", false, a(map[string]any{"mode": "getslave"}), false, false, "", ""},
				{"stop stopped", false, a(map[string]any{"mode": "stopreplica"}), false, false, "Replica already stopped", "127.0.0.1 No\n"},
				{"start", false, a(map[string]any{"mode": "startreplica"}), true, false, "Replica started ", "127.0.0.1 Yes\n"},
				{"start again", false, a(map[string]any{"mode": "startslave"}), false, false, "Replica already started (Or cannot be started)", "127.0.0.1 Yes\n"},
				{"stop", false, a(map[string]any{"mode": "stopreplica"}), true, false, "Replica stopped", "127.0.0.1 No\n"},
				{"reset all", false, a(map[string]any{"mode": "resetreplicaall"}), true, false, "Replica reset", " \n"},
				{"warning", false, a(map[string]any{"mode": "changeprimary", "primary_log_file": "x", "primary_use_gtid": "current_pos"}), true, false, "", ""},
				{"bad change", false, a(map[string]any{"mode": "changeprimary", "primary_host": "h'1", "primary_delay": -1}), false, true, "Query == CHANGE MASTER TO [\"MASTER_HOST='h\\\\'1'\", 'MASTER_DELAY=-1']", ""},
				{"reset with note", false, a(map[string]any{"mode": "resetreplicaall"}), false, false, "Replica already reset", " \n"},
				{"login", false, a(map[string]any{"login_user": "nobody"}), false, true, "unable to find /nonexistent/.my.cnf. Exception message: (1045, ", ""},
			}
			res := mysqlRunSteps(t, c, MysqlReplication{}, steps, state)
			p := res["primary"].Values
			if p["Is_Primary"] != true || !strings.HasPrefix(p["File"].(string), "mdo-bin.") {
				t.Errorf("getprimary %v", p)
			}
			if _, ok := p["Position"].(int64); !ok {
				t.Errorf("Position %T", p["Position"])
			}
			r := res["replica"].Values
			if r["Is_Replica"] != true || r["Master_Host"] != "127.0.0.1" || r["Master_Port"] != int64(1) || r["Master_User"] != "repl" {
				t.Errorf("getreplica %v", r)
			}
			if w := res["warning"].Values["warning"]; w != "(1618, \"<MASTER_LOG_FILE> option ignored\")" {
				t.Errorf("warning %v", w)
			}
			if q := res["change"].Values["queries"].([]any); len(q) != 1 || q[0] != "CHANGE MASTER TO MASTER_HOST='127.0.0.1',MASTER_USER='repl',MASTER_PASSWORD='********',MASTER_PORT=1,MASTER_CONNECT_RETRY=30" {
				t.Errorf("queries %q", q)
			}
		})
	}
}
