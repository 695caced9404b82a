package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mdo-play/mdo-play/templates/yaml11"
	"github.com/urfave/cli/v2"
	"gopkg.in/yaml.v3"
)

// configExtra holds the mdo.yml keys of issue 8 that config.go does not
// decode: a second decode of the same file.
type configExtra struct {
	Lock               string     `yaml:"lock"`
	LockWait           string     `yaml:"lock_wait"`
	VaultPasswordFile  stringList `yaml:"vault_password_file"`
	RetryFilesSavePath string     `yaml:"retry_files_save_path"`
	DetailedExitcode   string     `yaml:"detailed_exitcode"`
}

// mdoFile is mdo.yml as read for `mdo-play config` and for the extra
// settings: both decodes, and which keys the file sets.
type mdoFile struct {
	base  config
	extra configExtra
	keys  map[string]bool
}

// readMdoFile reads path (mdo.yml); a missing file is an empty one. Keys
// known to neither decode are an error, as in loadConfig.
func readMdoFile(path string) (*mdoFile, error) {
	f := &mdoFile{keys: map[string]bool{}}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return f, nil
	case err != nil:
		return nil, withCode(exitParse, fmt.Errorf("read %s: %w", path, err))
	}
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return f, nil
		}
		return nil, withCode(exitParse, fmt.Errorf("%s: %v", path, strings.TrimPrefix(err.Error(), "yaml: ")))
	}
	if len(doc.Content) == 0 {
		return f, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, withCode(exitParse, fmt.Errorf("%s:%d: expected a mapping of settings", path, root.Line))
	}
	known := map[string]bool{}
	yamlKeys(reflect.TypeOf(config{}), known)
	yamlKeys(reflect.TypeOf(configExtra{}), known)
	var errs []error
	for i := 0; i+1 < len(root.Content); i += 2 {
		k := root.Content[i]
		if !known[k.Value] {
			errs = append(errs, fmt.Errorf("%s:%d:%d: unknown setting %q (known: %s)", path, k.Line, k.Column, k.Value, strings.Join(sortedKeys(known), ", ")))
			continue
		}
		f.keys[k.Value] = true
	}
	if err := root.Decode(&f.base); err != nil {
		errs = append(errs, fmt.Errorf("%s: %v", path, strings.TrimPrefix(err.Error(), "yaml: ")))
	}
	if err := root.Decode(&f.extra); err != nil {
		errs = append(errs, fmt.Errorf("%s: %v", path, strings.TrimPrefix(err.Error(), "yaml: ")))
	}
	if len(errs) > 0 {
		return nil, withCode(exitParse, errors.Join(errs...))
	}
	return f, nil
}

// yamlKeys adds the yaml keys of struct type t (following inline fields).
func yamlKeys(t reflect.Type, into map[string]bool) {
	for i := 0; i < t.NumField(); i++ {
		fl := t.Field(i)
		name, opts, _ := strings.Cut(fl.Tag.Get("yaml"), ",")
		if strings.Contains(opts, "inline") && fl.Type.Kind() == reflect.Struct {
			yamlKeys(fl.Type, into)
			continue
		}
		if name != "" && name != "-" {
			into[name] = true
		}
	}
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// setting is one effective setting and where its value came from: "flag
// --NAME", "env MDO_NAME", "mdo.yml" or "default".
type setting struct {
	Name   string
	Value  string
	Origin string
}

// settingSource says where one setting can be given.
type settingSource struct {
	name  string
	flag  string                    // "" when there is no flag
	env   string                    // MDO_* variable
	file  func(*mdoFile) string     // the mdo.yml value
	def   string                    // shown when nothing sets it
	check func(string) error        // validates env and file values
	flagV func(*cli.Context) string // the flag's value, when not a string flag
	split func(string) []string     // list settings: how the env value splits
}

func joinList(l stringList) string { return strings.Join(l.v, ", ") }

func intSetting(name string) func(string) error {
	return func(v string) error {
		if _, err := strconv.Atoi(v); err != nil {
			return fmt.Errorf("%s %q: expected a number", name, v)
		}
		return nil
	}
}

func boolSetting(name string) func(string) error {
	return func(v string) error {
		if _, err := yaml11.Bool(v); err != nil {
			return fmt.Errorf("%s %q: expected a boolean (true/false, yes/no, on/off, 1/0)", name, v)
		}
		return nil
	}
}

func durationSetting(v string) error {
	if _, err := parseWait(v); err != nil {
		return err
	}
	return nil
}

// parseWait reads a lock wait: a Go duration ("90s", "5m") or seconds.
func parseWait(v string) (time.Duration, error) {
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("lock_wait %q: expected a duration like 90s or 5m", v)
	}
	return d, nil
}

// settingSources lists every setting `mdo-play config` shows, in order. The
// environment names are loadConfig's.
func settingSources() []settingSource {
	colon := func(v string) []string { return strings.Split(v, ":") }
	return []settingSource{
		{name: "inventory", flag: "inventory", env: "MDO_INVENTORY", split: colon, def: "(none: only the implicit localhost)",
			file:  func(f *mdoFile) string { return joinList(f.base.Inventory) },
			flagV: func(c *cli.Context) string { return strings.Join(c.StringSlice("inventory"), ", ") }},
		{name: "forks", flag: "forks", env: "MDO_FORKS", def: "20", check: intSetting("forks"),
			file:  func(f *mdoFile) string { return strconv.Itoa(f.base.Forks) },
			flagV: func(c *cli.Context) string { return strconv.Itoa(c.Int("forks")) }},
		{name: "remote_user", flag: "user", env: "MDO_REMOTE_USER", def: "(~/.ssh/config User, else the local user)",
			file: func(f *mdoFile) string { return f.base.RemoteUser }},
		{name: "private_key", flag: "private-key", env: "MDO_PRIVATE_KEY", def: "(ssh-agent, ~/.ssh/config IdentityFile, ~/.ssh/id_*)",
			file: func(f *mdoFile) string { return f.base.PrivateKey }},
		{name: "host_key_checking", env: "MDO_HOST_KEY_CHECKING", def: "strict",
			file: func(f *mdoFile) string { return f.base.HostKeyChecking }},
		{name: "known_hosts_file", env: "MDO_KNOWN_HOSTS_FILE", def: "~/.ssh/known_hosts",
			file: func(f *mdoFile) string { return f.base.KnownHostsFile }},
		{name: "timeout", flag: "timeout", env: "MDO_TIMEOUT", def: "10", check: intSetting("timeout"),
			file:  func(f *mdoFile) string { return strconv.Itoa(f.base.Timeout) },
			flagV: func(c *cli.Context) string { return strconv.Itoa(c.Int("timeout")) }},
		{name: "connection", flag: "connection", env: "MDO_CONNECTION", def: "ssh",
			file: func(f *mdoFile) string { return f.base.Connection }},
		{name: "roles_path", env: "MDO_ROLES_PATH", split: colon, def: "(roles/ next to the playbook)",
			file: func(f *mdoFile) string { return joinList(f.base.RolesPath) }},
		{name: "vault_password_file", flag: "vault-password-file", env: "MDO_VAULT_PASSWORD_FILE", split: colon, def: "(none)",
			file:  func(f *mdoFile) string { return joinList(f.extra.VaultPasswordFile) },
			flagV: func(c *cli.Context) string { return strings.Join(c.StringSlice("vault-password-file"), ", ") }},
		{name: "lock", flag: "lock", env: "MDO_LOCK", def: "(none)",
			file: func(f *mdoFile) string { return f.extra.Lock }},
		{name: "lock_wait", flag: "lock-wait", env: "MDO_LOCK_WAIT", def: "0s", check: durationSetting,
			file:  func(f *mdoFile) string { return f.extra.LockWait },
			flagV: func(c *cli.Context) string { return c.Duration("lock-wait").String() }},
		{name: "retry_files_save_path", env: "MDO_RETRY_FILES_SAVE_PATH", def: "(next to the playbook)",
			file: func(f *mdoFile) string { return f.extra.RetryFilesSavePath }},
		{name: "detailed_exitcode", flag: "detailed-exitcode", env: "MDO_DETAILED_EXITCODE", def: "false", check: boolSetting("detailed_exitcode"),
			file:  func(f *mdoFile) string { return f.extra.DetailedExitcode },
			flagV: func(c *cli.Context) string { return strconv.FormatBool(c.Bool("detailed-exitcode")) }},
	}
}

// effectiveSettings resolves every setting: a flag set on c wins over an
// MDO_* variable, which wins over mdo.yml, which wins over the default.
func effectiveSettings(c *cli.Context, getenv func(string) string, f *mdoFile) ([]setting, error) {
	var out []setting
	var errs []error
	for _, src := range settingSources() {
		s := setting{Name: src.name, Value: src.def, Origin: "default"}
		switch {
		case src.flag != "" && c != nil && c.IsSet(src.flag):
			s.Origin = "flag --" + src.flag
			if src.flagV != nil {
				s.Value = src.flagV(c)
			} else {
				s.Value = c.String(src.flag)
			}
		case getenv(src.env) != "":
			s.Origin = "env " + src.env
			s.Value = getenv(src.env)
			if src.split != nil {
				s.Value = strings.Join(src.split(s.Value), ", ")
			}
			if src.check != nil {
				if err := src.check(getenv(src.env)); err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", src.env, err))
				}
			}
		case f != nil && f.keys[src.name]:
			s.Origin = configFile
			s.Value = src.file(f)
			if src.check != nil && s.Value != "" {
				if err := src.check(s.Value); err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", configFile, err))
				}
			}
		}
		out = append(out, s)
	}
	if len(errs) > 0 {
		return nil, withCode(exitUsage, errors.Join(errs...))
	}
	return out, nil
}

// extraSettings are the issue 8 settings a run needs beyond config.go's,
// resolved flag > MDO_* > mdo.yml > default.
type extraSettings struct {
	lock               string
	lockWait           time.Duration
	retryDir           string
	vaultPasswordFiles []string
	detailedExitcode   bool // exit 8 when a host changed and nothing else went wrong
}

// extraSettings reads mdo.yml in the current directory and resolves the
// lock, lock wait, retry directory and vault password files for a run.
func (a *app) extraSettings(c *cli.Context) (*extraSettings, error) {
	f, err := readMdoFile(configFile)
	if err != nil {
		return nil, err
	}
	all, err := effectiveSettings(c, a.getenv, f)
	if err != nil {
		return nil, err
	}
	x := &extraSettings{}
	for _, s := range all {
		if s.Origin == "default" {
			continue
		}
		switch s.Name {
		case "lock":
			x.lock = s.Value
		case "lock_wait":
			if x.lockWait, err = parseWait(s.Value); err != nil {
				return nil, usageErr("%v", err)
			}
		case "retry_files_save_path":
			x.retryDir = s.Value
		case "detailed_exitcode":
			x.detailedExitcode, _ = yaml11.Bool(s.Value) // checked by effectiveSettings
		case "vault_password_file":
			if s.Origin == "flag --vault-password-file" {
				x.vaultPasswordFiles = c.StringSlice("vault-password-file")
			} else if s.Origin == configFile {
				x.vaultPasswordFiles = f.extra.VaultPasswordFile.v
			} else {
				x.vaultPasswordFiles = strings.Split(a.getenv("MDO_VAULT_PASSWORD_FILE"), ":")
			}
		}
	}
	return x, nil
}

// configCommand is `mdo-play config`: the effective settings and where each
// came from. It takes the run options, so `mdo-play config -f 5` shows what
// `mdo-play -f 5 site.yml` would use.
func (a *app) configCommand() *cli.Command {
	flags := runFlags()
	have := map[string]bool{}
	for _, fl := range flags {
		have[fl.Names()[0]] = true
	}
	for _, fl := range append(lockFlags(), observeFlags()...) {
		if !have[fl.Names()[0]] {
			flags = append(flags, fl)
		}
	}
	return &cli.Command{
		Name:  "config",
		Usage: "print the effective settings and where each came from (flag, MDO_* environment, mdo.yml, default)",
		Flags: flags,
		OnUsageError: func(c *cli.Context, err error, isSub bool) error {
			return withCode(exitUsage, err)
		},
		Action: func(c *cli.Context) error {
			f, err := readMdoFile(configFile)
			if err != nil {
				return err
			}
			all, err := effectiveSettings(c, a.getenv, f)
			if err != nil {
				return err
			}
			return writeSettings(a.stdout, all)
		},
	}
}

// writeSettings prints settings as an aligned table.
func writeSettings(w io.Writer, all []setting) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "SETTING\tVALUE\tFROM")
	for _, s := range all {
		v := s.Value
		if v == "" {
			v = `""`
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Name, v, s.Origin)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write settings: %w", err)
	}
	return nil
}
