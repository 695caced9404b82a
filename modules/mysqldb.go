package modules

import (
	"context"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/mdo-play/mdo-play/modules/conn"
	"github.com/mdo-play/mdo-play/templates/pyjson"
)

// MysqlDb is the mysql_db module (community.mysql.mysql_db): it creates
// and drops databases, and dumps them to or imports them from a file on
// the target (compressed with gzip, bzip2 or xz by the file's extension),
// through the mysql and mysqldump clients there (see mysqlclient.go).
//
// One round trip checks which databases exist; creating or dropping costs
// one more, a dump or import one more. A dump is written to a temporary
// file next to the target and renamed over it only when mysqldump and the
// compressor both succeeded (the collection writes the target in place and,
// without pipefail, misses a failing mysqldump behind a compressor).
type MysqlDb struct{}

var _ Module = MysqlDb{}

// Spec describes mysql_db's arguments.
func (MysqlDb) Spec() *Spec {
	return &Spec{
		Args: append(mysqlConnArgs(),
			Arg{Name: "name", Aliases: []string{"db"}, Type: TypeList, Required: true},
			Arg{Name: "encoding", Type: TypeStr, Default: ""},
			Arg{Name: "collation", Type: TypeStr, Default: ""},
			Arg{Name: "target", Type: TypePath},
			Arg{Name: "state", Type: TypeStr, Default: "present", Choices: []string{"absent", "dump", "import", "present"}},
			Arg{Name: "single_transaction", Type: TypeBool, Default: false},
			Arg{Name: "quick", Type: TypeBool, Default: true},
			Arg{Name: "ignore_tables", Type: TypeList, Default: []any{}},
			Arg{Name: "hex_blob", Type: TypeBool, Default: false},
			Arg{Name: "force", Type: TypeBool, Default: false},
			Arg{Name: "master_data", Type: TypeInt, Default: 0, Choices: []string{"0", "1", "2"}},
			Arg{Name: "skip_lock_tables", Type: TypeBool, Default: false},
			Arg{Name: "dump_extra_args", Type: TypeStr},
			Arg{Name: "use_shell", Type: TypeBool, Default: false},
			Arg{Name: "unsafe_login_password", Type: TypeBool, Default: false},
			Arg{Name: "restrict_config_file", Type: TypeBool, Default: false},
			Arg{Name: "check_implicit_admin", Type: TypeBool, Default: false},
			Arg{Name: "config_overrides_defaults", Type: TypeBool, Default: false},
			Arg{Name: "chdir", Type: TypePath},
			Arg{Name: "pipefail", Type: TypeBool, Default: false},
		),
		CheckMode: true,
	}
}

// mysqlCompressor returns the program the collection pipes a dump through
// for target's extension, "" for none.
func mysqlCompressor(target string) string {
	switch path.Ext(target) {
	case ".gz":
		return "gzip"
	case ".bz2":
		return "bzip2"
	case ".xz":
		return "xz"
	}
	return ""
}

// Run creates, drops, dumps or imports the databases.
func (MysqlDb) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	fail := func(msg string) (Result, error) { return Result{Failed: true, Msg: msg}, nil }
	var db []string
	for _, d := range args.Strings("name") {
		db = append(db, strings.TrimSpace(d))
	}
	if len(db) == 0 {
		return Result{Values: map[string]any{"db": []any{}, "db_list": []any{}}}, nil
	}
	state, target := args.String("state"), args.String("target")
	if p := args.Int("login_port"); p < 0 || p > 65535 {
		return fail("login_port must be a valid unix port number (0-65535)")
	}
	for _, tb := range args.Strings("ignore_tables") {
		if tb == "" {
			return fail("Name of ignored table cannot be empty")
		}
	}
	if len(db) > 1 && state == "import" {
		return fail("Multiple databases are not supported with state=import")
	}
	dbName := strings.Join(db, " ")
	all := false
	if state == "dump" || state == "import" {
		if target == "" {
			return fail(fmt.Sprintf("with state=%s target is required", state))
		}
		all = len(db) == 1 && db[0] == "all"
	} else if len(db) == 1 && db[0] == "all" {
		return fail("name is not allowed to equal 'all' unless state equals import, or dump.")
	}
	l := mysqlLogin{args: args, implicitAdmin: args.Bool("check_implicit_admin")}
	values := func(extra map[string]any) map[string]any {
		dl := make([]any, len(db))
		for i, d := range db {
			dl[i] = d
		}
		m := map[string]any{"db": dbName, "db_list": dl}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}

	var stmts []mysqlStmt
	if !all {
		q := make([]string, len(db))
		for i, d := range db {
			q[i] = sqlString(d)
		}
		stmts = append(stmts, mysqlStmt{"exists", "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME IN (" + strings.Join(q, ", ") + ")"})
	}
	o, err := mysqlSession(ctx, env, "mysql_db", l, stmts, false)
	if err != nil {
		return Result{}, err
	}
	if !o.connected {
		return o.connectFailureCnf(l), nil
	}
	if !o.ok() {
		return fail(o.errText())
	}
	found := map[string]bool{}
	for _, row := range o.sections["exists"] {
		found[row[0]] = true
	}
	var existing, missing []string
	if !all {
		for _, d := range db {
			if found[d] {
				existing = append(existing, d)
			} else {
				missing = append(missing, d)
			}
		}
	}
	_, implicitAdmin := o.f.get("admin")

	switch state {
	case "absent", "present":
		list, verb := existing, "DROP DATABASE %s"
		if state == "present" {
			list, verb = missing, "CREATE DATABASE %s"
		}
		if env.Check || len(list) == 0 {
			v := values(nil)
			if !env.Check {
				v["executed_commands"] = []any{}
			}
			return Result{Changed: len(list) > 0, Values: v}, nil
		}
		cmds, st, err := mysqlDbStmts(verb, list, args)
		if err != nil {
			return fail(err.Error())
		}
		ao, err := mysqlSession(ctx, env, "mysql_db", l, st, false)
		if err != nil {
			return Result{}, err
		}
		if !ao.connected {
			return ao.connectFailureCnf(l), nil
		}
		if !ao.ok() {
			what := "deleting"
			if state == "present" {
				what = "creating"
			}
			return fail(fmt.Sprintf("error %s database: %s", what, ao.errText()))
		}
		return Result{Changed: true, Values: values(map[string]any{"executed_commands": cmds})}, nil
	case "dump":
		if len(missing) > 0 && !all {
			return fail(fmt.Sprintf("Cannot dump database(s) %s - not found", pyjson.Repr(strings.Join(missing, ", "))))
		}
		if env.Check {
			return Result{Changed: true, Values: values(nil)}, nil
		}
		return mysqlDbDumpImport(ctx, env, l, args, db, all, nil, implicitAdmin, values)
	default: // import
		if env.Check {
			return Result{Changed: true, Values: values(nil)}, nil
		}
		var create []mysqlStmt
		var cmds []any
		if len(missing) > 0 && !all {
			c, st, err := mysqlDbStmts("CREATE DATABASE %s", missing, args)
			if err != nil {
				return fail(err.Error())
			}
			create, cmds = st, c
		}
		return mysqlDbDumpImport(ctx, env, l, args, db, all, &mysqlDbImport{create, cmds}, implicitAdmin, values)
	}
}

// mysqlDbImport is an import's share of the work: the databases to
// create first.
type mysqlDbImport struct {
	create []mysqlStmt
	cmds   []any
}

// mysqlDbStmts returns the executed_commands text and the statements of
// db_create or db_delete (verb) for names.
func mysqlDbStmts(verb string, names []string, args Args) ([]any, []mysqlStmt, error) {
	var cmds []any
	var st []mysqlStmt
	for i, d := range names {
		id, err := mysqlQuoteIdentifier(d, "database")
		if err != nil {
			return nil, nil, err
		}
		q := fmt.Sprintf(verb, id)
		if strings.HasPrefix(verb, "CREATE") {
			if e := args.String("encoding"); e != "" {
				q += " CHARACTER SET " + sqlString(e)
			}
			if c := args.String("collation"); c != "" {
				q += " COLLATE " + sqlString(c)
			}
		}
		cmds = append(cmds, q)
		st = append(st, mysqlStmt{"s" + strconv.Itoa(i), q})
	}
	return cmds, st, nil
}

// mysqlDbDumpImport runs mysqldump into target, or the mysql client on
// target's content (after creating imp's databases).
func mysqlDbDumpImport(ctx context.Context, env *Env, l mysqlLogin, args Args, db []string, all bool, imp *mysqlDbImport, implicitAdmin bool, values func(map[string]any) map[string]any) (Result, error) {
	target := args.String("target")
	comp := mysqlCompressor(target)
	tool := "mysqldump"
	if imp != nil {
		tool = "mysql"
	}
	// The words after the option file, as the collection builds them; shown
	// is the executed_commands text (password masked as no_log masks it).
	var words []string
	var shown []string
	add := func(w ...string) {
		for _, x := range w {
			words = append(words, x)
			shown = append(shown, conn.Quote(x))
		}
	}
	if cf := args.String("config_file"); cf != "" {
		shown = append(shown, "--defaults-extra-file="+conn.Quote(cf))
	}
	if implicitAdmin {
		shown = append(shown, "--user=root", "--password=''")
	} else {
		if u := args.String("login_user"); u != "" {
			shown = append(shown, "--user="+conn.Quote(u))
		}
		if args.String("login_password") != "" {
			shown = append(shown, "--password=********")
		}
	}
	if s := args.String("login_unix_socket"); s != "" {
		shown = append(shown, "--socket="+conn.Quote(s))
	} else {
		shown = append(shown, "--host="+conn.Quote(args.String("login_host")), "--port="+strconv.Itoa(args.Int("login_port")))
	}
	enc := args.String("encoding")
	if imp == nil {
		if args.Bool("force") {
			add("--force")
		}
		switch {
		case all:
			add("--all-databases")
		case len(db) > 1:
			add("--databases")
			add(db...)
		default:
			add(strings.Join(db, " "))
		}
		if args.Bool("skip_lock_tables") {
			add("--skip-lock-tables")
		}
		if enc != "" {
			add("--default-character-set=" + enc)
		}
		if args.Bool("single_transaction") {
			add("--single-transaction=true")
		}
		if args.Bool("quick") {
			add("--quick")
		}
		for _, tb := range args.Strings("ignore_tables") {
			add("--ignore-table=" + tb)
		}
		if args.Bool("hex_blob") {
			add("--hex-blob")
		}
		if md := args.Int("master_data"); md != 0 {
			add("--master-data=" + strconv.Itoa(md))
		}
	} else {
		if args.Bool("force") {
			add("-f")
		}
		if enc != "" {
			add("--default-character-set=" + enc)
		}
		if !all {
			add("--one-database", strings.Join(db, ""))
		}
	}
	extra := ""
	if x := args.String("dump_extra_args"); x != "" && imp == nil {
		extra = " " + x // the collection passes it to the shell as it is
		shown = append(shown, x)
	}
	var sc strings.Builder
	sc.WriteString(l.preamble(tool))
	if d := args.String("chdir"); d != "" {
		fmt.Fprintf(&sc, "cd %s 2>/dev/null || { _mdo_f cderr %s; exit 0; }\n", conn.Quote(d), conn.Quote(d))
	}
	fmt.Fprintf(&sc, "_mdo_t=%s\n", conn.Quote(target))
	if comp != "" {
		fmt.Fprintf(&sc, "_mdo_z=$(command -v %s) || { _mdo_f nocomp %s; exit 0; }\n", comp, comp)
	}
	run := "\"$_mdo_m\" --defaults-file=\"$_mdo_d/my.cnf\" " + quoteWords(words) + extra
	var cmdText string
	if imp == nil {
		sc.WriteString("_mdo_o=\"$_mdo_t.mdo-tmp.$$\"\n")
		if comp != "" {
			fmt.Fprintf(&sc, "{ %s 2>\"$_mdo_d/err\"; echo $? >\"$_mdo_d/rc\"; } | \"$_mdo_z\" >\"$_mdo_o\" 2>\"$_mdo_d/zerr\"; _mdo_zr=$?; _mdo_r=$(cat \"$_mdo_d/rc\")\n", run)
			sc.WriteString("if [ \"$_mdo_r\" = 0 ] && [ \"$_mdo_zr\" != 0 ]; then _mdo_r=$_mdo_zr; cat \"$_mdo_d/zerr\" >>\"$_mdo_d/err\"; fi\n")
			cmdText = "$_mdo_m " + strings.Join(shown, " ") + " | $_mdo_z > " + conn.Quote(target)
		} else {
			fmt.Fprintf(&sc, "%s >\"$_mdo_o\" 2>\"$_mdo_d/err\"; _mdo_r=$?\n", run)
			cmdText = "$_mdo_m " + strings.Join(shown, " ") + " > " + conn.Quote(target)
		}
		sc.WriteString("if [ \"$_mdo_r\" = 0 ]; then mv -f \"$_mdo_o\" \"$_mdo_t\" 2>>\"$_mdo_d/err\" || _mdo_r=1; fi\n[ \"$_mdo_r\" = 0 ] || rm -f \"$_mdo_o\"\n")
	} else {
		sc.WriteString("[ -e \"$_mdo_t\" ] || { _mdo_f notarget 1; exit 0; }\n")
		if len(imp.create) > 0 {
			var sql strings.Builder
			for _, s := range imp.create {
				sql.WriteString(s.sql + ";\n")
			}
			fmt.Fprintf(&sc, "printf '%%s' %s | \"$_mdo_q\" --defaults-file=\"$_mdo_d/my.cnf\" 2>\"$_mdo_d/err\" || { _mdo_f createerr \"$(cat \"$_mdo_d/err\")\"; exit 0; }\n", conn.Quote(sql.String()))
		}
		if comp != "" {
			fmt.Fprintf(&sc, "{ \"$_mdo_z\" -dc \"$_mdo_t\" 2>\"$_mdo_d/zerr\"; echo $? >\"$_mdo_d/zrc\"; } | %s >\"$_mdo_d/out\" 2>\"$_mdo_d/err\"; _mdo_r=$?\n", run)
			sc.WriteString("_mdo_zr=$(cat \"$_mdo_d/zrc\"); if [ \"$_mdo_zr\" != 0 ]; then _mdo_r=$_mdo_zr; cp \"$_mdo_d/zerr\" \"$_mdo_d/err\"; : >\"$_mdo_d/out\"; fi\n")
			cmdText = "$_mdo_z -dc " + target + " | $_mdo_m " + strings.Join(shown, " ")
		} else {
			fmt.Fprintf(&sc, "%s <\"$_mdo_t\" >\"$_mdo_d/out\" 2>\"$_mdo_d/err\"; _mdo_r=$?\n", run)
			cmdText = "$_mdo_m " + strings.Join(shown, " ") + " < " + conn.Quote(target)
		}
	}
	fmt.Fprintf(&sc, "_mdo_f rc \"$_mdo_r\"\n_mdo_f err \"$(cat \"$_mdo_d/err\")\"\n[ -f \"$_mdo_d/out\" ] && _mdo_f out \"$(cat \"$_mdo_d/out\")\"\n_mdo_f bin \"$_mdo_m\"\n_mdo_f zbin \"$_mdo_z\"\n")
	res, err := env.Conn.Exec(ctx, conn.Command{Script: fieldFunc + sc.String(), Stdin: l.stdinHead()})
	if err != nil {
		return Result{}, fmt.Errorf("mysql_db: %w", err)
	}
	f := parseFields(res.Stdout)
	switch {
	case f.str("noclient") != "":
		return mysqlOut{noClient: f.str("noclient")}.connectFailure(l), nil
	case f.str("cderr") != "":
		return Result{Failed: true, Msg: fmt.Sprintf("Cannot change the current directory to %s: [Errno 2] No such file or directory: '%s'", f.str("cderr"), f.str("cderr"))}, nil
	case f.str("nocomp") != "":
		return Result{Failed: true, Msg: fmt.Sprintf("Failed to find required executable %q in paths", f.str("nocomp"))}, nil
	case f.str("notarget") != "":
		return Result{Failed: true, Msg: fmt.Sprintf("target %s does not exist on the host", target)}, nil
	case f.str("createerr") != "":
		return Result{Failed: true, Msg: "error creating database: " + (mysqlOut{stderr: f.str("createerr")}).errText()}, nil
	}
	if _, ok := f.get("rc"); !ok {
		return scriptFailure("mysql_db", res), nil
	}
	if f.str("rc") != "0" {
		return Result{Failed: true, Msg: f.str("err")}, nil
	}
	cmds := []any{}
	if imp != nil {
		cmds = append(cmds, imp.cmds...)
	}
	cmds = append(cmds, strings.NewReplacer("$_mdo_m", f.str("bin"), "$_mdo_z", f.str("zbin")).Replace(cmdText))
	// msg is the client's stdout, even when empty, as in the collection.
	return Result{Changed: true, Msg: f.str("out"), Values: values(map[string]any{"executed_commands": cmds, "msg": f.str("out")})}, nil
}
