package modules

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// User is the user module: useradd, usermod and userdel from the shadow
// tools. A call reads the account in one exec (getent passwd/shadow/group,
// id -Gn) and, only when something must change, runs the commands in a
// second one. The password is a crypted hash fed to chpasswd -e on stdin:
// it never appears on a command line or in the result.
type User struct{}

// Group is the group module: groupadd, groupmod and groupdel, decided and
// applied in one script.
type Group struct{}

var (
	_ Module = User{}
	_ Module = Group{}
)

// notLogged replaces a password in results, as Ansible does.
const notLogged = "NOT_LOGGING_PASSWORD"

// Spec describes user's arguments.
func (User) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "name", Aliases: []string{"user"}, Type: TypeStr, Required: true},
			{Name: "uid", Type: TypeInt},
			{Name: "non_unique", Type: TypeBool, Default: false},
			{Name: "group", Type: TypeStr},
			{Name: "groups", Type: TypeList},
			{Name: "append", Type: TypeBool, Default: false},
			{Name: "comment", Type: TypeStr},
			{Name: "home", Type: TypePath},
			{Name: "shell", Type: TypeStr},
			{Name: "skeleton", Type: TypePath},
			{Name: "password", Type: TypeStr, NoLog: true},
			{Name: "update_password", Type: TypeStr, Default: "always", Choices: []string{"always", "on_create"}},
			{Name: "password_lock", Type: TypeBool},
			{Name: "password_expire_max", Type: TypeInt},
			{Name: "password_expire_min", Type: TypeInt},
			{Name: "password_expire_warn", Type: TypeInt},
			{Name: "state", Type: TypeStr, Default: "present", Choices: []string{"absent", "present"}},
			{Name: "create_home", Aliases: []string{"createhome"}, Type: TypeBool, Default: true},
			{Name: "move_home", Type: TypeBool, Default: false},
			{Name: "system", Type: TypeBool, Default: false},
			{Name: "force", Type: TypeBool, Default: false},
			{Name: "remove", Type: TypeBool, Default: false},
			{Name: "local", Type: TypeBool, Default: false},
			{Name: "generate_ssh_key", Type: TypeBool, Default: false},
			{Name: "ssh_key_bits", Type: TypeInt},
			{Name: "ssh_key_type", Type: TypeStr, Default: "rsa"},
			{Name: "ssh_key_file", Type: TypePath},
			{Name: "ssh_key_comment", Type: TypeStr},
			{Name: "ssh_key_passphrase", Type: TypeStr, NoLog: true},
		},
		CheckMode: true,
	}
}

// account is what the query script found about a user.
type account struct {
	exists     bool
	uid, gid   int
	comment    string
	home       string
	shell      string
	password   string   // the shadow hash
	shadow     []string // the shadow entry's fields (min is 3, max 4, warn 5)
	groupName  string   // primary group's name
	groups     []string // supplementary groups
	missing    []string // groups named in the arguments that do not exist
	groupGID   int      // gid of the group argument, when it exists
	groupFound bool
}

// userQuery builds the script that reads the account.
func userQuery(name, group string, groups []string) string {
	var sc strings.Builder
	fmt.Fprintf(&sc, "_mdo_u=%s\n", conn.Quote(name))
	sc.WriteString(`if _mdo_p=$(getent passwd "$_mdo_u"); then
  _mdo_f passwd "$_mdo_p"
  _mdo_f shadow "$(getent shadow "$_mdo_u" 2>/dev/null)"
  _mdo_f ids "$(id -Gn "$_mdo_u" 2>/dev/null)"
  _mdo_g=${_mdo_p#*:*:*:}; _mdo_g=${_mdo_g%%:*}
  _mdo_f pgroup "$(getent group "$_mdo_g" | cut -d: -f1)"
fi
`)
	if group != "" {
		fmt.Fprintf(&sc, "_mdo_x=%s; if _mdo_l=$(getent group \"$_mdo_x\"); then _mdo_f group \"$_mdo_l\"; else _mdo_f missing \"$_mdo_x\"; fi\n", conn.Quote(group))
	}
	for _, g := range groups {
		fmt.Fprintf(&sc, "_mdo_x=%s; getent group \"$_mdo_x\" >/dev/null || _mdo_f missing \"$_mdo_x\"\n", conn.Quote(g))
	}
	sc.WriteString("_mdo_f end 1\n")
	return sc.String()
}

func parseAccount(f fields) (account, error) {
	var a account
	for _, m := range f.all("missing") {
		a.missing = append(a.missing, m)
	}
	if g, ok := f.get("group"); ok {
		p := strings.Split(g, ":")
		if len(p) >= 3 {
			a.groupGID, _ = strconv.Atoi(p[2])
			a.groupFound = true
		}
	}
	pw, ok := f.get("passwd")
	if !ok {
		return a, nil
	}
	p := strings.Split(pw, ":")
	if len(p) < 7 {
		return a, fmt.Errorf("unexpected passwd entry %q", pw)
	}
	a.exists = true
	a.uid, _ = strconv.Atoi(p[2])
	a.gid, _ = strconv.Atoi(p[3])
	a.comment, a.home, a.shell = p[4], p[5], p[6]
	if sh := strings.Split(f.str("shadow"), ":"); len(sh) > 1 {
		a.password = sh[1]
		a.shadow = sh
	}
	a.groupName = f.str("pgroup")
	for _, g := range strings.Fields(f.str("ids")) {
		if g != a.groupName {
			a.groups = append(a.groups, g)
		}
	}
	return a, nil
}

// Run creates, changes or removes the user.
func (User) runAccount(ctx context.Context, env *Env, args Args) (Result, error) {
	name := args.String("name")
	state := args.String("state")
	groups := args.Strings("groups")
	groupsGiven := args.Has("groups")
	var wantGroups []string
	for _, g := range groups {
		if g = strings.TrimSpace(g); g != "" {
			wantGroups = append(wantGroups, g)
		}
	}
	values := map[string]any{"name": name, "state": state}
	if args.Has("password") {
		values["password"] = notLogged
	}
	if name == "" || strings.ContainsAny(name, ":\n") || strings.HasPrefix(name, "-") {
		return Result{Failed: true, Msg: fmt.Sprintf("invalid user name %q", name), Values: values}, nil
	}
	group := ""
	if state == "present" {
		group = args.String("group")
	}
	f, res, err := runScript(ctx, env, "user "+name, userQuery(name, group, wantGroups), nil)
	if err != nil {
		return Result{}, err
	}
	if _, ok := f.get("end"); !ok {
		return scriptFailure("user", res), nil
	}
	acc, err := parseAccount(f)
	if err != nil {
		return Result{Failed: true, Msg: err.Error(), Values: values}, nil
	}

	if state == "absent" {
		values["force"] = args.Bool("force")
		values["remove"] = args.Bool("remove")
		if !acc.exists {
			return Result{Values: values}, nil
		}
		if env.Check {
			return Result{Changed: true, Values: values}, nil
		}
		cmd := "userdel"
		if args.Bool("force") {
			cmd += " -f"
		}
		if args.Bool("remove") {
			cmd += " -r"
		}
		return userApply(ctx, env, name, cmd+" -- "+conn.Quote(name), nil, values, false)
	}

	if len(acc.missing) > 0 {
		return Result{Failed: true, Msg: fmt.Sprintf("Group %s does not exist", acc.missing[0]), Values: values}, nil
	}
	password := args.String("password")
	var opts []string
	var stdin []byte
	setPassword := false
	if !acc.exists {
		if args.Has("uid") {
			opts = append(opts, "-u", strconv.Itoa(args.Int("uid")))
			if args.Bool("non_unique") {
				opts = append(opts, "-o")
			}
		}
		if group != "" {
			opts = append(opts, "-g", group)
		}
		if len(wantGroups) > 0 {
			opts = append(opts, "-G", strings.Join(wantGroups, ","))
		}
		if args.Has("comment") {
			opts = append(opts, "-c", args.String("comment"))
		}
		if args.Has("home") {
			opts = append(opts, "-d", args.String("home"))
		}
		if args.Has("shell") {
			opts = append(opts, "-s", args.String("shell"))
		}
		if args.Bool("system") {
			opts = append(opts, "-r")
		}
		if args.Bool("create_home") {
			opts = append(opts, "-m")
			if args.Has("skeleton") {
				opts = append(opts, "-k", args.String("skeleton"))
			}
		} else {
			opts = append(opts, "-M")
		}
		setPassword = password != ""
		values["create_home"] = args.Bool("create_home")
		values["system"] = args.Bool("system")
		if env.Check {
			return Result{Changed: true, Values: values}, nil
		}
		cmd := "useradd " + quoteWords(opts) + " -- " + conn.Quote(name)
		if setPassword {
			cmd += " && chpasswd -e"
			stdin = []byte(name + ":" + password + "\n")
		}
		if args.Has("password_lock") && args.Bool("password_lock") {
			cmd += " && usermod -L -- " + conn.Quote(name)
		}
		if ch := chageOpts(args, nil); len(ch) > 0 {
			cmd += " && chage " + quoteWords(ch) + " -- " + conn.Quote(name)
		}
		return userApply(ctx, env, name, cmd, stdin, values, true)
	}

	values["append"] = args.Bool("append")
	values["move_home"] = args.Bool("move_home")
	if args.Has("uid") && args.Int("uid") != acc.uid {
		opts = append(opts, "-u", strconv.Itoa(args.Int("uid")))
		if args.Bool("non_unique") {
			opts = append(opts, "-o")
		}
	}
	if group != "" && acc.groupGID != acc.gid {
		opts = append(opts, "-g", group)
	}
	if groupsGiven {
		values["groups"] = strings.Join(wantGroups, ",")
		if needGroups(acc.groups, wantGroups, args.Bool("append")) {
			if args.Bool("append") {
				opts = append(opts, "-a")
			}
			opts = append(opts, "-G", strings.Join(wantGroups, ","))
		}
	}
	if args.Has("comment") && args.String("comment") != acc.comment {
		opts = append(opts, "-c", args.String("comment"))
	}
	if args.Has("home") && args.String("home") != acc.home {
		opts = append(opts, "-d", args.String("home"))
		if args.Bool("move_home") {
			opts = append(opts, "-m")
		}
	}
	if args.Has("shell") && args.String("shell") != acc.shell {
		opts = append(opts, "-s", args.String("shell"))
	}
	if args.Has("password_lock") {
		locked := strings.HasPrefix(acc.password, "!")
		if args.Bool("password_lock") && !locked {
			opts = append(opts, "-L")
		} else if !args.Bool("password_lock") && locked {
			opts = append(opts, "-U")
		}
	}
	setPassword = password != "" && args.String("update_password") == "always" &&
		password != acc.password && "!"+password != acc.password
	chage := chageOpts(args, acc.shadow)
	if len(opts) == 0 && !setPassword && len(chage) == 0 {
		userValues(values, acc)
		return Result{Values: values}, nil
	}
	if env.Check {
		userValues(values, acc)
		return Result{Changed: true, Values: values}, nil
	}
	var cmds []string
	if len(opts) > 0 {
		cmds = append(cmds, "usermod "+quoteWords(opts)+" -- "+conn.Quote(name))
	}
	if setPassword {
		cmds = append(cmds, "chpasswd -e")
		stdin = []byte(name + ":" + password + "\n")
	}
	if len(chage) > 0 {
		cmds = append(cmds, "chage "+quoteWords(chage)+" -- "+conn.Quote(name))
	}
	return userApply(ctx, env, name, strings.Join(cmds, " && "), stdin, values, true)
}

// chageOpts returns chage's options for the password_expire_* arguments
// that differ from the shadow entry's fields (all of them for a new
// account), as Ansible's set_password_expire.
func chageOpts(args Args, shadow []string) []string {
	var o []string
	for _, x := range []struct {
		arg, flag string
		field     int
	}{{"password_expire_min", "-m", 3}, {"password_expire_max", "-M", 4}, {"password_expire_warn", "-W", 5}} {
		if !args.Has(x.arg) {
			continue
		}
		want := strconv.Itoa(args.Int(x.arg))
		if shadow != nil && len(shadow) > x.field && shadow[x.field] == want {
			continue
		}
		o = append(o, x.flag, want)
	}
	return o
}

// needGroups reports whether the supplementary groups must change.
func needGroups(have, want []string, appendOnly bool) bool {
	set := map[string]bool{}
	for _, g := range have {
		set[g] = true
	}
	for _, g := range want {
		if !set[g] {
			return true
		}
	}
	if appendOnly {
		return false
	}
	w := map[string]bool{}
	for _, g := range want {
		w[g] = true
	}
	for _, g := range have {
		if !w[g] {
			return true
		}
	}
	return false
}

// userValues adds the account's attributes to a present user's result.
func userValues(values map[string]any, a account) {
	values["uid"] = a.uid
	values["group"] = a.gid
	values["comment"] = a.comment
	values["home"] = a.home
	values["shell"] = a.shell
}

// userApply runs the change commands and reads the account back.
func userApply(ctx context.Context, env *Env, name, cmd string, stdin []byte, values map[string]any, present bool) (Result, error) {
	script := "_mdo_o=$( { " + cmd + "; } 2>&1 ); _mdo_rc=$?\n_mdo_f rc \"$_mdo_rc\"\n_mdo_f out \"$_mdo_o\"\n"
	if present {
		script += userQuery(name, "", nil)
	} else {
		script += "_mdo_f end 1\n"
	}
	f, res, err := runScript(ctx, env, "user "+name, script, stdin)
	if err != nil {
		return Result{}, err
	}
	if _, ok := f.get("end"); !ok {
		return scriptFailure("user", res), nil
	}
	if rc := f.str("rc"); rc != "0" {
		values["rc"] = atoiOr(rc, -1)
		return Result{Failed: true, Msg: strings.TrimSpace(f.str("out")), Values: values}, nil
	}
	if present {
		acc, err := parseAccount(f)
		if err == nil && acc.exists {
			userValues(values, acc)
		}
	}
	return Result{Changed: true, Values: values}, nil
}

func atoiOr(s string, def int) int {
	if i, err := strconv.Atoi(s); err == nil {
		return i
	}
	return def
}

// Spec describes group's arguments.
func (Group) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "name", Type: TypeStr, Required: true},
			{Name: "gid", Type: TypeInt},
			{Name: "state", Type: TypeStr, Default: "present", Choices: []string{"absent", "present"}},
			{Name: "system", Type: TypeBool, Default: false},
			{Name: "non_unique", Type: TypeBool, Default: false},
			{Name: "force", Type: TypeBool, Default: false},
			{Name: "local", Type: TypeBool, Default: false},
		},
		CheckMode: true,
	}
}

// Run creates, changes or removes the group in one script.
func (Group) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	name := args.String("name")
	state := args.String("state")
	values := map[string]any{"name": name, "state": state}
	if name == "" || strings.ContainsAny(name, ":\n") || strings.HasPrefix(name, "-") {
		return Result{Failed: true, Msg: fmt.Sprintf("invalid group name %q", name), Values: values}, nil
	}
	act := func(cmd string) string {
		if env.Check {
			return "_mdo_f did 1"
		}
		return "_mdo_o=$(" + cmd + " 2>&1); _mdo_rc=$?; _mdo_f did 1; _mdo_f rc \"$_mdo_rc\"; _mdo_f out \"$_mdo_o\""
	}
	var sc strings.Builder
	fmt.Fprintf(&sc, "_mdo_n=%s\n_mdo_l=$(getent group \"$_mdo_n\")\n", conn.Quote(name))
	if state == "absent" {
		cmd := "groupdel"
		if args.Bool("force") {
			cmd += " -f"
		}
		fmt.Fprintf(&sc, "[ -z \"$_mdo_l\" ] || { %s; }\n", act(cmd+" -- \"$_mdo_n\""))
	} else {
		var add, mod []string
		if args.Has("gid") {
			gid := strconv.Itoa(args.Int("gid"))
			add = append(add, "-g", gid)
			mod = append(mod, "-g", gid)
			if args.Bool("non_unique") {
				add = append(add, "-o")
				mod = append(mod, "-o")
			}
		}
		if args.Bool("system") {
			add = append(add, "-r")
		}
		fmt.Fprintf(&sc, "if [ -z \"$_mdo_l\" ]; then %s\n", act("groupadd "+quoteWords(add)+" -- \"$_mdo_n\""))
		if args.Has("gid") {
			fmt.Fprintf(&sc, "else _mdo_c=${_mdo_l#*:*:}; _mdo_c=${_mdo_c%%%%:*}; [ \"$_mdo_c\" = %d ] || { %s; }\n", args.Int("gid"), act("groupmod "+quoteWords(mod)+" -- \"$_mdo_n\""))
		}
		sc.WriteString("fi\n_mdo_f entry \"$(getent group \"$_mdo_n\")\"\n")
	}
	sc.WriteString("_mdo_f end 1\n")
	f, res, err := runScript(ctx, env, "group "+name, sc.String(), nil)
	if err != nil {
		return Result{}, err
	}
	if _, ok := f.get("end"); !ok {
		return scriptFailure("group", res), nil
	}
	if rc := f.str("rc"); rc != "" && rc != "0" {
		values["rc"] = atoiOr(rc, -1)
		return Result{Failed: true, Msg: strings.TrimSpace(f.str("out")), Values: values}, nil
	}
	_, changed := f.get("did")
	if state == "present" {
		values["system"] = args.Bool("system")
		if p := strings.Split(f.str("entry"), ":"); len(p) >= 3 {
			values["gid"] = atoiOr(p[2], 0)
		} else if args.Has("gid") {
			values["gid"] = args.Int("gid")
		}
	}
	return Result{Changed: changed, Values: values}, nil
}
