package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"
	"gopkg.in/yaml.v3"

	"github.com/mdo-play/mdo-play/inventory"
	"github.com/mdo-play/mdo-play/modules"
	"github.com/mdo-play/mdo-play/playbook"
	"github.com/mdo-play/mdo-play/playbook/engine"
	"github.com/mdo-play/mdo-play/templates"

	"github.com/mdo-play/mdo-play/templates/pyjson"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

type app struct {
	ctx    context.Context
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
}

// exitError carries an exit code out of a cli action.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func withCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: code, err: err}
}

func usageErr(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

func runFlags() []cli.Flag {
	return append([]cli.Flag{
		&cli.StringSliceFlag{Name: "inventory", Aliases: []string{"i"}, Usage: "inventory file, directory, executable or `h1,h2,` list (repeatable)"},
		&cli.StringFlag{Name: "limit", Aliases: []string{"l"}, Usage: "further limit selected hosts to a pattern (or @file)"},
		&cli.StringSliceFlag{Name: "tags", Aliases: []string{"t"}, Usage: "only run tasks tagged with these values"},
		&cli.StringSliceFlag{Name: "skip-tags", Usage: "only run tasks whose tags do not match these values"},
		&cli.StringSliceFlag{Name: "extra-vars", Aliases: []string{"e"}, Usage: "set variables as key=value, JSON/YAML, or @file (repeatable, later wins)"},
		&cli.IntFlag{Name: "forks", Aliases: []string{"f"}, Value: 20, Usage: "number of hosts to run at once"},
		&cli.BoolFlag{Name: "check", Aliases: []string{"C"}, Usage: "don't make any changes; predict some of the changes that may occur"},
		&cli.BoolFlag{Name: "diff", Aliases: []string{"D"}, Usage: "show the differences in changed files"},
		&cli.StringFlag{Name: "connection", Aliases: []string{"c"}, Usage: "connection type: ssh or local"},
		&cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "connect as this user"},
		&cli.StringFlag{Name: "private-key", Aliases: []string{"key-file"}, Usage: "private key file for SSH authentication"},
		&cli.BoolFlag{Name: "become", Aliases: []string{"b"}, Usage: "run operations with become (sudo)"},
		&cli.StringFlag{Name: "become-user", Usage: "run operations as this user (default root)"},
		&cli.StringFlag{Name: "become-method", Usage: "privilege escalation method: sudo, su or doas"},
		&cli.BoolFlag{Name: "ask-become-pass", Aliases: []string{"K"}, Usage: "ask for the privilege escalation password"},
		&cli.BoolFlag{Name: "ask-pass", Aliases: []string{"k"}, Usage: "ask for the connection password"},
		&cli.IntFlag{Name: "timeout", Aliases: []string{"T"}, Usage: "connection timeout in seconds (default 10)"},
		&cli.BoolFlag{Name: "list-hosts", Usage: "list the hosts each play would run on, and do nothing else"},
		&cli.BoolFlag{Name: "list-tasks", Usage: "list all tasks that would be executed"},
		&cli.BoolFlag{Name: "list-tags", Usage: "list all available tags"},
		&cli.BoolFlag{Name: "syntax-check", Usage: "check the playbook's syntax and arguments, run nothing"},
		&cli.StringFlag{Name: "start-at-task", Usage: "start the playbook at the task with this name"},
		&cli.BoolFlag{Name: "force-handlers", Usage: "run handlers even if a task fails"},
		&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Count: new(int), Usage: "more output (-vvv for the most)"},
		&cli.StringFlag{Name: "output", Value: "text", Usage: "output format: text or json (one JSON object per event)"},
		&cli.StringFlag{Name: "cpuprofile", Hidden: true, Usage: "write a CPU profile of the run to `FILE` (for go tool pprof)"},
		&cli.StringFlag{Name: "memprofile", Hidden: true, Usage: "write an allocation profile of the run to `FILE`"},
		&cli.BoolFlag{Name: "detailed-exitcode", Usage: "exit 8 when the run succeeds but a host changed (with --check: would change)"},
		&cli.StringFlag{Name: "slice", Usage: "run only slice `K/N` of the inventory's hosts (for spreading one runbook over N runners); auto or auto/N: the slice of a Slurm array, Kubernetes Indexed Job or GitLab parallel job"},
	}, append(append(vaultSecretFlags(), lockFlags()...), observeFlags()...)...)
}

func (a *app) main(args []string) int {
	inventoryFlags := []cli.Flag{
		&cli.StringSliceFlag{Name: "inventory", Aliases: []string{"i"}, Usage: "inventory source (repeatable)"},
		&cli.BoolFlag{Name: "list", Usage: "print all hosts and groups as JSON"},
		&cli.StringFlag{Name: "host", Usage: "print one host's variables as JSON"},
		&cli.BoolFlag{Name: "graph", Usage: "print the group tree (optionally of the group given as argument)"},
		&cli.StringSliceFlag{Name: "extra-vars", Aliases: []string{"e"}, Usage: "accepted for symmetry; not used"},
		&cli.StringFlag{Name: "limit", Aliases: []string{"l"}, Usage: "limit to a host pattern"},
	}
	cliApp := &cli.App{
		Name:            "mdo-play",
		Usage:           "run Ansible-style playbooks over SSH, agentless",
		UsageText:       "mdo-play [options] PLAYBOOK...\n   mdo-play adhoc PATTERN -m MODULE -a ARGS\n   mdo-play inventory --list | --graph | --host HOST\n   mdo-play lint PLAYBOOK...\n   mdo-play convert [-d | -w | --out DIR] PATH...\n   mdo-play vault encrypt|decrypt|view|create|edit|rekey|encrypt_string\n   mdo-play merge EVENTS.json...\n   mdo-play version",
		ArgsUsage:       "PLAYBOOK...",
		Flags:           runFlags(),
		Writer:          a.stdout,
		ErrWriter:       a.stderr,
		HideHelpCommand: true,
		// -i 'h1,h2,' is a host list and -e '{"a": [1, 2]}' is JSON: never
		// split flag values at commas (--tags a,b is split by us).
		DisableSliceFlagSeparator: true,
		ExitErrHandler:            func(*cli.Context, error) {},
		OnUsageError: func(c *cli.Context, err error, isSub bool) error {
			return withCode(exitUsage, err)
		},
		Action: a.jsonErrors(a.runPlaybooks),
		Commands: []*cli.Command{
			{
				Name:      "inventory",
				Usage:     "show the inventory as mdo-play sees it",
				ArgsUsage: "[GROUP]",
				Flags:     inventoryFlags,
				Action:    a.inventoryCmd,
				OnUsageError: func(c *cli.Context, err error, isSub bool) error {
					return withCode(exitUsage, err)
				},
			},
			{
				Name:      "adhoc",
				Usage:     "run one module on the hosts matching a pattern (like the ansible command)",
				ArgsUsage: "PATTERN",
				Flags:     adhocFlags(),
				Action:    a.jsonErrors(a.adhocCmd),
				OnUsageError: func(c *cli.Context, err error, isSub bool) error {
					return withCode(exitUsage, err)
				},
			},
			a.vaultCommand(),
			a.lintCommand(),
			a.convertCommand(),
			a.configCommand(),
			a.mergeCommand(),
			{
				Name:  "version",
				Usage: "print the version",
				Action: func(c *cli.Context) error {
					fmt.Fprintf(a.stdout, "mdo-play %s\n", version)
					return nil
				},
			},
		},
	}
	if len(args) > 1 {
		switch args[1] {
		case "inventory":
			args = append([]string{args[0], args[1]}, reorderArgs(args[2:], inventoryFlags)...)
		case "adhoc":
			args = append([]string{args[0], args[1]}, reorderArgs(args[2:], adhocFlags())...)
		case "vault":
			args = vaultArgs(args)
		case "lint":
			args = lintArgs(args)
		case "merge":
			args = append([]string{args[0], args[1]}, reorderArgs(args[2:], mergeFlags())...)
		case "convert":
			args = convertArgs(args)
		case "config":
			args = append([]string{args[0], args[1]}, reorderArgs(args[2:], runFlags())...)
		case "version", "help", "-h", "--help":
		default:
			args = append([]string{args[0]}, reorderArgs(args[1:], runFlags())...)
		}
	}
	err := cliApp.RunContext(a.ctx, args)
	if err == nil {
		return exitOK
	}
	code := exitCodeOf(err)
	if errors.Is(err, errSilent) {
		return code
	}
	fmt.Fprintf(a.stderr, "ERROR! %v\n", err)
	if code == exitUsage {
		fmt.Fprintln(a.stderr, "Run 'mdo-play --help' for usage.")
	}
	return code
}

// exitCodeOf maps an error to the process exit code.
func exitCodeOf(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if errors.Is(err, context.Canceled) {
		return exitInterrupted
	}
	var pe *playbook.Error
	if errors.As(err, &pe) {
		return exitParse
	}
	if strings.HasPrefix(err.Error(), "flag provided but not defined") || strings.Contains(err.Error(), "invalid value") {
		return exitUsage
	}
	return exitGeneric
}

// settings are the effective options after mdo.yml, MDO_* and flags.
type settings struct {
	cfg        *config
	inventory  []string
	forks      int
	user       string
	privateKey string
	timeout    int
	hostKeys   string
	connection string
	rolesPath  []string
	files      *secretFiles // reads (and decrypts) every controller file
	mask       *masker      // secrets kept out of the output
}

func (a *app) settings(c *cli.Context) (*settings, error) {
	cfg, err := loadConfig(a.getenv)
	if err != nil {
		return nil, err
	}
	s := &settings{cfg: cfg, inventory: cfg.Inventory.v, forks: cfg.Forks, user: cfg.RemoteUser,
		privateKey: cfg.PrivateKey, timeout: cfg.Timeout, hostKeys: cfg.HostKeyChecking, connection: cfg.Connection,
		rolesPath: cfg.RolesPath.v}
	if c.IsSet("inventory") {
		s.inventory = c.StringSlice("inventory")
	}
	s.mask = &masker{}
	s.files = &secretFiles{mask: s.mask}
	if c.IsSet("vault-id") || c.IsSet("vault-password-file") || c.Bool("ask-vault-pass") {
		secrets, err := a.vaultSecrets(c, false, false)
		if err != nil {
			return nil, err
		}
		s.files.secrets = secrets
	}
	if c.IsSet("forks") {
		s.forks = c.Int("forks")
	}
	if s.forks == 0 {
		s.forks = 20
	}
	if s.forks <= 0 {
		return nil, usageErr("--forks must be at least 1, got %d", s.forks)
	}
	if c.IsSet("user") {
		s.user = c.String("user")
	}
	if c.IsSet("private-key") {
		s.privateKey = c.String("private-key")
	}
	if c.IsSet("timeout") {
		s.timeout = c.Int("timeout")
	}
	if s.timeout == 0 {
		s.timeout = 10
	}
	if c.IsSet("connection") {
		s.connection = c.String("connection")
	}
	switch s.connection {
	case "", "ssh", "local", "smart", "paramiko":
	default:
		return nil, usageErr("--connection must be ssh or local, got %q", s.connection)
	}
	return s, nil
}

func (a *app) loadInventory(s *settings) (*inventory.Inventory, error) {
	inv, err := inventory.Load(a.ctx, s.inventory, inventory.Options{ReadFile: s.files.ReadFile})
	if err != nil {
		return nil, withCode(exitParse, err)
	}
	if len(s.inventory) == 0 {
		fmt.Fprintln(a.stderr, "[WARNING]: No inventory was parsed (give one with -i, MDO_INVENTORY or mdo.yml), only implicit localhost is available")
	}
	for _, w := range inv.Warnings() {
		fmt.Fprintf(a.stderr, "[WARNING]: %s\n", w)
	}
	// Connection and become passwords given as inventory variables never
	// reach the output. Only those values are read: host variables are
	// typed and merged when a host runs.
	for _, v := range inv.VarValues(isPasswordVar) {
		s.mask.addTree(v)
	}
	return inv, nil
}

func (a *app) runPlaybooks(c *cli.Context) error {
	if c.NArg() == 0 {
		return usageErr("no playbook given: usage: mdo-play [options] PLAYBOOK...")
	}
	s, extra, loader, err := a.prepare(c)
	if err != nil {
		return err
	}
	var pbs []*playbook.Playbook
	var loadErrs []error
	for _, path := range c.Args().Slice() {
		pb, err := loader.Load(path)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return withCode(exitParse, fmt.Errorf("the playbook %s could not be found", path))
			}
			loadErrs = append(loadErrs, err)
			continue
		}
		pbs = append(pbs, pb)
	}
	if len(loadErrs) > 0 {
		return withCode(exitParse, errors.Join(loadErrs...))
	}
	if c.Bool("syntax-check") {
		for _, pb := range pbs {
			fmt.Fprintf(a.stdout, "\nplaybook: %s\n", pb.Path)
		}
		return nil
	}
	return a.execute(c, s, loader, pbs, extra, nil)
}

// prepare reads what playbook runs and ad-hoc commands share: the output
// format, the settings, the extra vars, and a loader for the playbooks.
func (a *app) prepare(c *cli.Context) (*settings, map[string]any, *playbook.Loader, error) {
	if output := c.String("output"); output != "text" && output != "json" {
		return nil, nil, nil, usageErr("--output must be text or json, got %q", output)
	}
	raiseOpenFiles(a.stderr, c.Count("verbose"))
	s, err := a.settings(c)
	if err != nil {
		return nil, nil, nil, err
	}
	extra, err := a.extraVars(c.StringSlice("extra-vars"), s.files)
	if err != nil {
		return nil, nil, nil, err
	}
	eng := templates.New(templates.WithController(controller{files: s.files}), templates.WithHostPatterns(inventory.MatchHostnames))
	loader := &playbook.Loader{Registry: modules.Builtin(), RolesPath: s.rolesPath, ReadFile: s.files.ReadFile, Templates: eng}
	return s, extra, loader, nil
}

// execute runs loaded playbooks with the run options of c (shared by
// playbook runs and ad-hoc commands) and turns the recap into the exit
// code. sink nil means the --output formatter. Its steps: choose the
// hosts and tags (target), list them when asked, start what the run holds
// (profiles, the lock, the outputs; each released by a deferred call on
// every path), open the connector, run (runEngine), and record the
// outcome (finishRun).
func (a *app) execute(c *cli.Context, s *settings, loader *playbook.Loader, pbs []*playbook.Playbook, extra map[string]any, sink playbook.Sink) error {
	t, err := a.target(c, s, pbs)
	if err != nil {
		return err
	}
	if c.Bool("list-hosts") || c.Bool("list-tasks") || c.Bool("list-tags") {
		return a.list(c, t.inv, pbs, t.limit, t.tags, t.skipTags, t.sliceK, t.sliceN)
	}

	x, err := a.extraSettings(c)
	if err != nil {
		return err
	}
	stopProfiles, err := startProfiles(c.String("cpuprofile"), c.String("memprofile"))
	if err != nil {
		return err
	}
	defer stopProfiles()
	if x.lock != "" {
		lock, err := acquireLock(c.Context, x.lock, x.lockWait, a.stderr)
		if err != nil {
			return err
		}
		defer lock.Release()
	}
	out, err := a.runOutputs(c, s, sink, t)
	if err != nil {
		return err
	}
	defer out.close()

	connector, err := a.connector(c, s)
	if err != nil {
		return err
	}
	stats, err := a.runEngine(c, s, loader, pbs, extra, t, out, connector)
	return a.finishRun(c, x, loader, pbs, out, stats, err)
}

// runTarget is what a run selects: the inventory, --limit, the tags and
// the slice.
type runTarget struct {
	inv            *inventory.Inventory
	limit          string
	tags, skipTags []string
	sliceK, sliceN int
}

// target loads the inventory for pbs and reads --limit, --slice, --tags
// and --skip-tags.
func (a *app) target(c *cli.Context, s *settings, pbs []*playbook.Playbook) (*runTarget, error) {
	inv, err := a.inventoryFor(s, pbs)
	if err != nil {
		return nil, err
	}
	limit, err := resolveLimit(c.String("limit"), inv)
	if err != nil {
		return nil, err
	}
	slice, err := resolveSlice(c.String("slice"), a.getenv)
	if err != nil {
		return nil, err
	}
	if slice.N > 0 && c.Count("verbose") > 0 {
		fmt.Fprintf(a.stderr, "slice %d/%d (from %s)\n", slice.K, slice.N, slice.Source)
	}
	return &runTarget{
		inv:      inv,
		limit:    limit,
		tags:     splitList(c.StringSlice("tags")),
		skipTags: splitList(c.StringSlice("skip-tags")),
		sliceK:   slice.K,
		sliceN:   slice.N,
	}, nil
}

// runOutputs opens the outputs (a.outputs) and tells the JSON lines
// formatter about the slice.
func (a *app) runOutputs(c *cli.Context, s *settings, sink playbook.Sink, t *runTarget) (*outputs, error) {
	out, err := a.outputs(c, s, sink)
	if err != nil {
		return nil, err
	}
	if out.json != nil {
		// Every event of a sliced run says which slice; the recap says
		// what it was sliced from, and waits for the exit code.
		out.json.slice, out.json.sliceCount, out.json.holdRecap = t.sliceK, t.sliceN, true
		if t.sliceN > 0 {
			out.json.inventory = inventoryDigest(t.inv.Hosts())
		}
	}
	return out, nil
}

// runEngine builds the engine's Runner and runs the playbooks.
func (a *app) runEngine(c *cli.Context, s *settings, loader *playbook.Loader, pbs []*playbook.Playbook, extra map[string]any, t *runTarget, out *outputs, connector engine.Connector) (map[string]*playbook.HostStats, error) {
	r := &engine.Runner{
		Inventory: t.inv,
		Registry:  loader.Registry,
		Templates: loader.Templates,
		Connector: connector,
		Sink:      out.sink,
		Options:   runOptions(c, s, extra, t.limit, t.tags, t.skipTags, t.sliceK, t.sliceN),
		Loader:    loader,
		ReadFile:  s.files.ReadFile,
		Prompter:  a.prompter(out),
	}
	return r.Run(c.Context, pbs)
}

// finishRun records a run's outcome: the --report file, the retry files,
// the exit code (runResult) and the JSON recap that waited for it.
func (a *app) finishRun(c *cli.Context, x *extraSettings, loader *playbook.Loader, pbs []*playbook.Playbook, out *outputs, stats map[string]*playbook.HostStats, err error) error {
	out.finish(c.String("report"))
	if err == nil && stats != nil && loader.Registry != nil && len(pbs) > 0 && pbs[0].Path != "adhoc" {
		a.writeRetryFiles(pbs, x.retryDir, stats)
	}
	err = a.runResult(c, x, stats, err)
	if out.json != nil {
		err = out.json.finish(err)
	}
	return err
}

// inventoryFor loads the inventory with the group_vars/host_vars next to
// each playbook.
func (a *app) inventoryFor(s *settings, pbs []*playbook.Playbook) (*inventory.Inventory, error) {
	inv, err := a.loadInventory(s)
	if err != nil {
		return nil, err
	}
	for _, pb := range pbs {
		if err := inv.AddVarsDir(pb.Dir); err != nil {
			return nil, withCode(exitParse, err)
		}
	}
	return inv, nil
}

// resolveLimit expands --limit (a pattern or @file) and checks that it
// leaves hosts to target.
func resolveLimit(limit string, inv *inventory.Inventory) (string, error) {
	if limit == "" {
		return "", nil
	}
	parts, err := inventory.ParseLimit(limit, os.ReadFile)
	if err != nil {
		return "", usageErr("--limit: %v", err)
	}
	limit = strings.Join(parts, ",")
	if limit == "" {
		return "", nil
	}
	hosts, _, err := inv.Select(limit)
	if err != nil {
		return "", usageErr("--limit: %v", err)
	}
	if len(hosts) == 0 {
		return "", withCode(exitGeneric, errors.New("specified inventory, host pattern and/or --limit leaves us with no hosts to target"))
	}
	return limit, nil
}

// startProfiles starts the hidden --cpuprofile and --memprofile; the
// returned function stops them and writes the allocation profile.
func startProfiles(cpu, mem string) (func(), error) {
	var stops []func()
	stop := func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	if cpu != "" {
		f, err := os.Create(cpu)
		if err != nil {
			return nil, usageErr("--cpuprofile: %v", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, usageErr("--cpuprofile: %v", err)
		}
		stops = append(stops, func() { pprof.StopCPUProfile(); f.Close() })
	}
	if mem != "" {
		stops = append(stops, func() {
			if f, err := os.Create(mem); err == nil {
				_ = pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
		})
	}
	return stop, nil
}

// outputs is where a run's events go: the formatter (or the given sink),
// the --profile table, the --report page and the --log-file, all behind
// the secret masker.
type outputs struct {
	sink         playbook.Sink
	json         *jsonSink // --output json
	stopProgress func()
	profile      *profileSink
	report       *reportSink
	closers      []func() error
	stdout       io.Writer
	progress     *progressSink // the live line on a terminal; nil without one
	stderr       io.Writer
	finished     bool
}

// outputs builds the sinks of a run. sink nil means the --output
// formatter.
func (a *app) outputs(c *cli.Context, s *settings, sink playbook.Sink) (*outputs, error) {
	o := &outputs{stopProgress: func() {}, stdout: a.stdout, stderr: a.stderr}
	if sink == nil {
		if c.String("output") == "json" {
			o.json = newJSONSink(a.stdout)
			sink = o.json
		} else {
			color := a.isTerminal(a.stdout)
			text := &textSink{out: a.stdout, errOut: a.stderr, color: color, verbosity: c.Count("verbose")}
			sink = text
			if color {
				// On a terminal: a live line for the running task.
				p := newProgressSink(a.stdout, text, a.termWidth(), time.Now)
				o.stopProgress = p.start(c.Context, time.Second)
				o.progress = p
				sink = p
			}
		}
	}
	// Every observer sits behind the masker, so secrets reach none of them.
	sinks := teeSink{sink}
	if c.Bool("profile") {
		o.profile = newProfileSink()
		sinks = append(sinks, o.profile)
	}
	if c.String("report") != "" {
		o.report = newReportSink(time.Now)
		sinks = append(sinks, o.report)
	}
	if path := c.String("log-file"); path != "" {
		lf, err := openLogFile(path)
		if err != nil {
			o.stopProgress()
			return nil, usageErr("--log-file: %v", err)
		}
		o.closers = append(o.closers, lf.Close)
		sinks = append(sinks, lf)
	}
	o.sink = maskSink{inner: sinks, m: s.mask}
	return o, nil
}

// finish ends the output of a run that ran: the progress line stops, then
// the profile table and the report are written.
func (o *outputs) finish(reportPath string) {
	o.stopProgress()
	o.finished = true
	if o.profile != nil {
		o.profile.write(o.stdout)
	}
	if o.report != nil {
		if err := o.report.write(reportPath); err != nil {
			fmt.Fprintf(o.stderr, "[WARNING]: --report: %v\n", err)
		}
	}
}

// close releases what outputs opened, on every path.
func (o *outputs) close() {
	if !o.finished {
		o.stopProgress()
	}
	for _, c := range o.closers {
		_ = c()
	}
}

// runOptions are the engine options of a playbook run.
func runOptions(c *cli.Context, s *settings, extra map[string]any, limit string, tags, skipTags []string, sliceK, sliceN int) engine.Options {
	return engine.Options{
		Forks:         s.forks,
		Check:         c.Bool("check"),
		Diff:          c.Bool("diff"),
		Tags:          tags,
		SkipTags:      skipTags,
		ExtraVars:     extra,
		Limit:         limit,
		StartAtTask:   c.String("start-at-task"),
		ForceHandlers: c.Bool("force-handlers"),
		Verbosity:     c.Count("verbose"),
		Connection:    s.connection,
		RemoteUser:    s.user,
		Become:        c.Bool("become"),
		BecomeUser:    c.String("become-user"),
		BecomeMethod:  c.String("become-method"),
		SliceK:        sliceK,
		SliceN:        sliceN,
	}
}

// writeRetryFiles writes each playbook's retry file when hosts failed.
func (a *app) writeRetryFiles(pbs []*playbook.Playbook, dir string, stats map[string]*playbook.HostStats) {
	for _, pb := range pbs {
		path, err := writeRetryFile(pb.Path, dir, stats)
		if err != nil {
			fmt.Fprintf(a.stderr, "[WARNING]: could not write the retry file: %v\n", err)
		} else if path != "" {
			fmt.Fprint(a.stderr, retryHint(path))
		}
	}
}

// runResult turns the outcome of a run into its exit code (DESIGN §6):
// interrupted 99 > parse 6 > unreachable 4 > failed 2, then, with
// --detailed-exitcode, 8 when a host changed.
func (a *app) runResult(c *cli.Context, x *extraSettings, stats map[string]*playbook.HostStats, err error) error {
	if err != nil {
		if c.Context.Err() != nil {
			return withCode(exitInterrupted, errors.New("interrupted"))
		}
		var pe *playbook.Error
		if errors.As(err, &pe) {
			return withCode(exitParse, err)
		}
		return withCode(exitGeneric, err)
	}
	if c.Context.Err() != nil {
		return withCode(exitInterrupted, errors.New("interrupted"))
	}
	code := statsCode(stats)
	if code == exitOK && x.detailedExitcode {
		if hosts := changedHosts(stats); len(hosts) > 0 {
			if c.String("output") != "json" {
				fmt.Fprintln(a.stdout, driftLine(hosts, c.Bool("check")))
			}
			code = exitChanged
		}
	}
	if code != exitOK {
		return &exitError{code: code, err: errSilent}
	}
	return nil
}

// statsCode is the exit code of recap counters: 4 when a host was
// unreachable, else 2 when one failed, else 0.
func statsCode(stats map[string]*playbook.HostStats) int {
	code := exitOK
	for _, st := range stats {
		switch {
		case st.Unreachable > 0:
			code = exitUnreachable
		case st.Failed > 0 && code == exitOK:
			code = exitHostFailed
		}
	}
	return code
}

// errSilent marks an exit code whose reason the output already shows.
var errSilent = errors.New("")

func splitList(l []string) []string {
	var out []string
	for _, s := range l {
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// extraVars parses -e values: key=value pairs, a JSON or YAML mapping, or
// @file. Later values win.
func (a *app) extraVars(vals []string, files *secretFiles) (map[string]any, error) {
	out := map[string]any{}
	for _, v := range vals {
		var m map[string]any
		switch {
		case strings.HasPrefix(v, "@"):
			data, err := files.ReadFile(v[1:])
			if err != nil {
				return nil, withCode(exitParse, fmt.Errorf("--extra-vars: %w", err))
			}
			m, err = decodeVarsText(v[1:], data)
			if err != nil {
				return nil, withCode(exitParse, fmt.Errorf("--extra-vars %s: %w", v, err))
			}
		case strings.HasPrefix(strings.TrimSpace(v), "{"):
			var err error
			m, err = decodeVarsText("--extra-vars", []byte(v))
			if err != nil {
				return nil, withCode(exitParse, fmt.Errorf("--extra-vars %q: %v", v, err))
			}
		default:
			kv, err := modules.ParseKV(v)
			if err != nil {
				return nil, withCode(exitParse, fmt.Errorf("--extra-vars %q: %v", v, err))
			}
			m = kv
		}
		for k, x := range m {
			out[k] = x
		}
	}
	return out, nil
}

func decodeVarsText(name string, data []byte) (map[string]any, error) {
	var m map[string]any
	if json.Valid(data) {
		// Numbers as json.loads types them: 1 is an int, 1.0 a float.
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if err := dec.Decode(&m); err == nil {
			return pyjson.Numbers(m).(map[string]any), nil
		}
	}
	if err := yaml.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("expected a mapping of variables: %v", err)
	}
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}

func (a *app) isTerminal(w io.Writer) bool {
	if a.getenv("NO_COLOR") != "" || a.getenv("ANSIBLE_NOCOLOR") != "" {
		return false
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func (a *app) homeDir() string {
	if h := a.getenv("HOME"); h != "" {
		return h
	}
	h, _ := os.UserHomeDir()
	return h
}

func absPath(p string) string {
	if ap, err := filepath.Abs(p); err == nil {
		return ap
	}
	return p
}

// parseSlice reads --slice K/N.
func parseSlice(s string) (k, n int, err error) {
	if s == "" {
		return 0, 0, nil
	}
	if _, err := fmt.Sscanf(s, "%d/%d", &k, &n); err != nil || n < 1 || k < 1 || k > n || fmt.Sprintf("%d/%d", k, n) != s {
		return 0, 0, usageErr("--slice must be K/N with 1 <= K <= N, got %q", s)
	}
	return k, n, nil
}

// isPasswordVar reports whether an inventory variable holds a password.
func isPasswordVar(name string) bool {
	switch name {
	case "ansible_password", "ansible_ssh_pass", "ansible_ssh_password", "ansible_become_password",
		"ansible_become_pass", "ansible_sudo_pass", "ansible_sudo_password":
		return true
	}
	return false
}

// termWidth returns the terminal's width (COLUMNS, else 80).
func (a *app) termWidth() int {
	if f, ok := a.stdout.(*os.File); ok {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
			return w
		}
	}
	return 80
}

// jsonErrors makes a run with --output json end with JSON even when it
// cannot start (a parse error, a bad option): an error event and an empty
// recap, so that a consumer of the stream always sees its last line.
func (a *app) jsonErrors(action cli.ActionFunc) cli.ActionFunc {
	return func(c *cli.Context) error {
		err := action(c)
		var done *inStreamError
		if err == nil || errors.Is(err, errSilent) || errors.As(err, &done) || c.String("output") != "json" {
			return err
		}
		sink := newJSONSink(a.stdout)
		if slice, serr := resolveSlice(c.String("slice"), a.getenv); serr == nil {
			sink.slice, sink.sliceCount = slice.K, slice.N
		}
		return sink.finish(err)
	}
}
