package modules

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/mdo-play/mdo-play/templates/pyjson"
)

// MysqlReplication is the mysql_replication module
// (community.mysql.mysql_replication): it reads a server's primary or
// replica status and changes, starts, stops and resets replication,
// through the mysql client on the target (see mysqlclient.go). The mode
// names of older collection versions (getmaster, getslave, changemaster,
// startslave, stopslave, resetmaster, resetslave, resetslaveall) are
// accepted as the new ones. REPLICA replaces SLAVE in the statements from
// MariaDB 10.5.1 and MySQL 8.0.22, as in the collection. A statement that
// leaves a warning (STOP REPLICA on a stopped replica) counts as "already
// done", the way the collection turns the driver's warnings into errors.
// Like the collection it does not support check mode.
//
// One round trip reads the server's version; the action costs one more.
type MysqlReplication struct{}

var _ Module = MysqlReplication{}

var replicationOldModes = map[string]string{
	"getmaster": "getprimary", "getslave": "getreplica", "changemaster": "changeprimary",
	"stopslave": "stopreplica", "startslave": "startreplica", "resetmaster": "resetprimary",
	"resetslave": "resetreplica", "resetslaveall": "resetreplicaall",
}

// Spec describes mysql_replication's arguments.
func (MysqlReplication) Spec() *Spec {
	return &Spec{
		Args: append(mysqlConnArgs(),
			Arg{Name: "mode", Type: TypeStr, Default: "getreplica", Choices: []string{
				"getprimary", "getreplica", "changeprimary", "stopreplica", "startreplica", "resetprimary", "resetreplica", "resetreplicaall",
				"getmaster", "getslave", "changemaster", "stopslave", "startslave", "resetmaster", "resetslave", "resetslaveall"}},
			Arg{Name: "primary_auto_position", Aliases: []string{"master_auto_position"}, Type: TypeBool, Default: false},
			Arg{Name: "primary_host", Aliases: []string{"master_host"}, Type: TypeStr},
			Arg{Name: "primary_user", Aliases: []string{"master_user"}, Type: TypeStr},
			Arg{Name: "primary_password", Aliases: []string{"master_password"}, Type: TypeStr, NoLog: true},
			Arg{Name: "primary_port", Aliases: []string{"master_port"}, Type: TypeInt},
			Arg{Name: "primary_connect_retry", Aliases: []string{"master_connect_retry"}, Type: TypeInt},
			Arg{Name: "primary_log_file", Aliases: []string{"master_log_file"}, Type: TypeStr},
			Arg{Name: "primary_log_pos", Aliases: []string{"master_log_pos"}, Type: TypeInt},
			Arg{Name: "relay_log_file", Type: TypeStr},
			Arg{Name: "relay_log_pos", Type: TypeInt},
			Arg{Name: "primary_ssl", Aliases: []string{"master_ssl"}, Type: TypeBool},
			Arg{Name: "primary_ssl_ca", Aliases: []string{"master_ssl_ca"}, Type: TypeStr},
			Arg{Name: "primary_ssl_capath", Aliases: []string{"master_ssl_capath"}, Type: TypeStr},
			Arg{Name: "primary_ssl_cert", Aliases: []string{"master_ssl_cert"}, Type: TypeStr},
			Arg{Name: "primary_ssl_key", Aliases: []string{"master_ssl_key"}, Type: TypeStr},
			Arg{Name: "primary_ssl_cipher", Aliases: []string{"master_ssl_cipher"}, Type: TypeStr},
			Arg{Name: "primary_ssl_verify_server_cert", Type: TypeBool, Default: false},
			Arg{Name: "primary_use_gtid", Aliases: []string{"master_use_gtid"}, Type: TypeStr, Choices: []string{"current_pos", "replica_pos", "disabled", "slave_pos"}},
			Arg{Name: "primary_delay", Aliases: []string{"master_delay"}, Type: TypeInt},
			Arg{Name: "connection_name", Type: TypeStr},
			Arg{Name: "channel", Type: TypeStr},
			Arg{Name: "fail_on_error", Type: TypeBool, Default: false},
		),
		MutuallyExclusive: [][]string{{"connection_name", "channel"}},
	}
}

// replicationValue converts a status column as PyMySQL's DictCursor
// returns it: NULL is None, integers are numbers, the rest strings.
func replicationValue(s string) any {
	if s == "NULL" {
		return nil
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil && (s == "0" || !strings.HasPrefix(s, "0")) {
		return i
	}
	return s
}

// Run performs the mode's action.
func (MysqlReplication) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	mode := args.String("mode")
	if m, ok := replicationOldModes[mode]; ok {
		mode = m
	}
	l := mysqlLogin{args: args}
	o, err := mysqlSession(ctx, env, "mysql_replication", l, nil, false)
	if err != nil {
		return Result{}, err
	}
	if !o.connected {
		return o.connectFailureCnf(l), nil
	}
	term := "REPLICA"
	gtid := args.String("primary_use_gtid")
	if gtid == "disabled" {
		gtid = "no"
	}
	if o.mariadb() && mysqlVersionLess(o.version(), "10.5.1") || !o.mariadb() && mysqlVersionLess(o.version(), "8.0.22") {
		term = "SLAVE"
		if gtid == "replica_pos" {
			gtid = "slave_pos"
		}
	}
	conn, channel := args.String("connection_name"), args.String("channel")
	named := func(verb, suffix string) string {
		q := verb + " " + term
		if conn != "" {
			q += " " + sqlString(conn)
		}
		q += suffix
		if channel != "" {
			q += " FOR CHANNEL " + sqlString(channel)
		}
		return q
	}
	run := func(q string, headers bool) (mysqlOut, error) {
		lh := l
		lh.headers = headers
		return mysqlSession(ctx, env, "mysql_replication", lh, []mysqlStmt{{"q", q}, {"warn", "SHOW WARNINGS"}}, false)
	}
	queries := []any{}
	status := func(q, key, msg string) (Result, error) {
		so, err := run(q, true)
		if err != nil {
			return Result{}, err
		}
		if !so.connected {
			return so.connectFailureCnf(l), nil
		}
		if !so.ok() {
			return Result{Failed: true, Msg: so.errText()}, nil
		}
		v := map[string]any{"queries": queries}
		rows, head := so.sections["q"], so.headers["q"]
		if len(rows) == 0 {
			v[key] = false
			return Result{Msg: msg, Values: v}, nil
		}
		for i, h := range head {
			if i < len(rows[0]) {
				v[h] = replicationValue(rows[0][i])
			}
		}
		v[key] = true
		return Result{Values: v}, nil
	}
	action := func(q, failMsg, done, already string) (Result, error) {
		queries = append(queries, q)
		ao, err := run(q, false)
		if err != nil {
			return Result{}, err
		}
		if !ao.connected {
			return ao.connectFailureCnf(l), nil
		}
		r := Result{Values: map[string]any{"queries": queries}}
		switch {
		case !ao.ok() && args.Bool("fail_on_error"):
			return Result{Failed: true, Msg: failMsg + " failed: " + ao.errText()}, nil
		case !ao.ok() || len(ao.sections["warn"]) > 0:
			r.Msg = already
		default:
			r.Changed, r.Msg = true, done
		}
		return r, nil
	}
	switch mode {
	case "getprimary":
		return status("SHOW MASTER STATUS", "Is_Primary", "Server is not configured as mysql primary")
	case "getreplica":
		return status(named("SHOW", " STATUS"), "Is_Replica", "Server is not configured as mysql replica")
	case "startreplica":
		return action(named("START", ""), "START REPLICA", "Replica started ", "Replica already started (Or cannot be started)")
	case "stopreplica":
		return action(named("STOP", ""), "STOP REPLICA", "Replica stopped", "Replica already stopped")
	case "resetprimary":
		return action("RESET MASTER", "RESET MASTER", "Primary reset", "Primary already reset")
	case "resetreplica":
		return action(named("RESET", ""), "RESET REPLICA", "Replica reset", "Replica already reset")
	case "resetreplicaall":
		return action(named("RESET", " ALL"), "RESET REPLICA ALL", "Replica reset", "Replica already reset")
	}
	// changeprimary
	var chm, shown []string
	add := func(s string, secret bool) {
		chm = append(chm, s)
		if secret {
			shown = append(shown, "MASTER_PASSWORD='********'")
		} else {
			shown = append(shown, s)
		}
	}
	str := func(name, col string) {
		if args.Has(name) {
			add(col+"="+sqlString(args.String(name)), name == "primary_password")
		}
	}
	num := func(name, col string) {
		if args.Has(name) {
			add(col+"="+strconv.Itoa(args.Int(name)), false)
		}
	}
	str("primary_host", "MASTER_HOST")
	str("primary_user", "MASTER_USER")
	str("primary_password", "MASTER_PASSWORD")
	num("primary_port", "MASTER_PORT")
	num("primary_connect_retry", "MASTER_CONNECT_RETRY")
	str("primary_log_file", "MASTER_LOG_FILE")
	num("primary_log_pos", "MASTER_LOG_POS")
	num("primary_delay", "MASTER_DELAY")
	str("relay_log_file", "RELAY_LOG_FILE")
	num("relay_log_pos", "RELAY_LOG_POS")
	if b, ok := args["primary_ssl"].(bool); ok {
		add("MASTER_SSL="+map[bool]string{true: "1", false: "0"}[b], false)
	}
	str("primary_ssl_ca", "MASTER_SSL_CA")
	str("primary_ssl_capath", "MASTER_SSL_CAPATH")
	str("primary_ssl_cert", "MASTER_SSL_CERT")
	str("primary_ssl_key", "MASTER_SSL_KEY")
	str("primary_ssl_cipher", "MASTER_SSL_CIPHER")
	if args.Bool("primary_ssl_verify_server_cert") {
		add("SOURCE_SSL_VERIFY_SERVER_CERT=1", false)
	}
	if args.Bool("primary_auto_position") {
		add("MASTER_AUTO_POSITION=1", false)
	}
	if gtid != "" {
		add("MASTER_USE_GTID="+gtid, false)
	}
	head := "CHANGE MASTER TO "
	if conn != "" {
		head = "CHANGE MASTER " + sqlString(conn) + " TO "
	}
	tail := ""
	if channel != "" {
		tail = " FOR CHANNEL " + sqlString(channel)
	}
	queries = append(queries, head+strings.Join(shown, ",")+tail)
	ao, err := run(head+strings.Join(chm, ",")+tail, false)
	if err != nil {
		return Result{}, err
	}
	if !ao.connected {
		return ao.connectFailureCnf(l), nil
	}
	if !ao.ok() {
		reprs := make([]string, len(shown))
		for i, s := range shown {
			reprs[i] = pyjson.Repr(s)
		}
		return Result{Failed: true, Msg: fmt.Sprintf("%s. Query == CHANGE MASTER TO [%s]", ao.errText(), strings.Join(reprs, ", "))}, nil
	}
	r := Result{Changed: true, Values: map[string]any{"queries": queries}}
	if w := ao.sections["warn"]; len(w) > 0 && len(w[0]) == 3 {
		r.Values["warning"] = fmt.Sprintf("(%s, %q)", w[0][1], w[0][2])
	}
	return r, nil
}
