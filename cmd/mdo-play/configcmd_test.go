package main

import (
	"bytes"
	"context"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"
)

// runConfigCmd runs `mdo-play config ARGS` in dir with env, through the
// command app.go registers.
func runConfigCmd(t *testing.T, env map[string]string, args ...string) (string, int) {
	t.Helper()
	var out bytes.Buffer
	a := &app{ctx: context.Background(), stdout: &out, stderr: &out, getenv: func(k string) string { return env[k] }}
	cliApp := &cli.App{Name: "mdo-play", Writer: &out, ErrWriter: &out, ExitErrHandler: func(*cli.Context, error) {},
		Commands: []*cli.Command{a.configCommand()}}
	err := cliApp.RunContext(context.Background(), append([]string{"mdo-play", "config"}, args...))
	if err != nil {
		out.WriteString("ERROR! " + err.Error() + "\n")
		return out.String(), exitCodeOf(err)
	}
	return out.String(), 0
}

func TestConfigCommand(t *testing.T) {
	const fullFile = `inventory: [inventory/prod.ini, inventory/extra.yml]
forks: 7
remote_user: deploy
host_key_checking: accept-new
timeout: 20
roles_path: shared/roles
lock: /run/lock/site.lock
lock_wait: 2m
vault_password_file: ~/.vault_pass
retry_files_save_path: retries
`
	for _, tc := range []struct {
		name   string
		file   string // mdo.yml; "" is none
		env    map[string]string
		args   []string
		code   int
		golden string
		want   map[string][2]string // setting → value, origin
		errs   []string
	}{
		{name: "defaults", golden: "config-defaults.golden",
			want: map[string][2]string{"forks": {"20", "default"}, "lock": {"(none)", "default"}, "host_key_checking": {"strict", "default"}}},
		{name: "all layers", file: fullFile, golden: "config-layers.golden",
			env:  map[string]string{"MDO_FORKS": "9", "MDO_CONNECTION": "local", "MDO_ROLES_PATH": "a:b"},
			args: []string{"--timeout", "30", "--lock", "other.lock", "-i", "hosts,"},
			want: map[string][2]string{
				"forks":                 {"9", "env MDO_FORKS"},
				"timeout":               {"30", "flag --timeout"},
				"lock":                  {"other.lock", "flag --lock"},
				"lock_wait":             {"2m", "mdo.yml"},
				"inventory":             {"hosts,", "flag --inventory"},
				"remote_user":           {"deploy", "mdo.yml"},
				"connection":            {"local", "env MDO_CONNECTION"},
				"roles_path":            {"a, b", "env MDO_ROLES_PATH"},
				"vault_password_file":   {"~/.vault_pass", "mdo.yml"},
				"retry_files_save_path": {"retries", "mdo.yml"},
				"known_hosts_file":      {"~/.ssh/known_hosts", "default"},
			}},
		{name: "lock wait flag", args: []string{"--lock-wait", "90s"},
			want: map[string][2]string{"lock_wait": {"1m30s", "flag --lock-wait"}}},
		{name: "unknown key", file: "forks: 3\nlok: x.lock\n", code: exitParse, errs: []string{`mdo.yml:2:1: unknown setting "lok"`, "lock"}},
		{name: "bad env number", env: map[string]string{"MDO_FORKS": "many"}, code: exitUsage, errs: []string{`MDO_FORKS: forks "many": expected a number`}},
		{name: "bad lock wait", file: "lock_wait: soon\n", code: exitUsage, errs: []string{`lock_wait "soon"`}},
		{name: "bad detailed exitcode", env: map[string]string{"MDO_DETAILED_EXITCODE": "maybe"}, code: exitUsage,
			errs: []string{`MDO_DETAILED_EXITCODE: detailed_exitcode "maybe": expected a boolean`}},
		{name: "not a mapping", file: "- a\n", code: exitParse, errs: []string{"mdo.yml:1: expected a mapping"}},
	} {
		var output string
		t.Run(tc.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			if tc.file != "" {
				if err := os.WriteFile(configFile, []byte(tc.file), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			out, code := runConfigCmd(t, tc.env, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d:\n%s", code, tc.code, out)
			}
			for _, e := range tc.errs {
				if !strings.Contains(out, e) {
					t.Errorf("output lacks %q:\n%s", e, out)
				}
			}
			got := map[string][2]string{}
			for _, line := range strings.Split(out, "\n")[1:] {
				f := strings.Fields(line)
				if len(f) < 3 {
					continue
				}
				// Origins are one or two words ("default", "flag --x").
				origin := f[len(f)-1]
				n := len(f) - 1
				if f[len(f)-2] == "flag" || f[len(f)-2] == "env" {
					origin = f[len(f)-2] + " " + origin
					n--
				}
				got[f[0]] = [2]string{strings.Join(f[1:n], " "), origin}
			}
			for k, w := range tc.want {
				if got[k] != w {
					t.Errorf("%s: got %q, want %q", k, got[k], w)
				}
			}
			output = out
		})
		// Back in the package directory, where testdata/ is.
		if tc.golden != "" && output != "" {
			checkLocalGolden(t, tc.golden, output)
		}
	}
}

func TestExtraSettings(t *testing.T) {
	for _, tc := range []struct {
		name string
		file string
		env  map[string]string
		args []string
		want extraSettings
	}{
		{name: "none"},
		{name: "file", file: "lock: site.lock\nlock_wait: 30\nvault_password_file: [a, b]\nretry_files_save_path: r\n",
			want: extraSettings{lock: "site.lock", lockWait: 30 * time.Second, retryDir: "r", vaultPasswordFiles: []string{"a", "b"}}},
		{name: "env over file", file: "lock: site.lock\n", env: map[string]string{"MDO_LOCK": "env.lock", "MDO_LOCK_WAIT": "1m", "MDO_VAULT_PASSWORD_FILE": "x:y"},
			want: extraSettings{lock: "env.lock", lockWait: time.Minute, vaultPasswordFiles: []string{"x", "y"}}},
		{name: "flags over env", env: map[string]string{"MDO_LOCK": "env.lock"}, args: []string{"--lock", "flag.lock", "--lock-wait", "5s", "--vault-password-file", "v1"},
			want: extraSettings{lock: "flag.lock", lockWait: 5 * time.Second, vaultPasswordFiles: []string{"v1"}}},
		{name: "detailed exitcode in file", file: "detailed_exitcode: yes\n", want: extraSettings{detailedExitcode: true}},
		{name: "detailed exitcode env over file", file: "detailed_exitcode: true\n", env: map[string]string{"MDO_DETAILED_EXITCODE": "Off"},
			want: extraSettings{detailedExitcode: false}},
		{name: "detailed exitcode env", env: map[string]string{"MDO_DETAILED_EXITCODE": "1"}, want: extraSettings{detailedExitcode: true}},
		{name: "detailed exitcode flag", args: []string{"--detailed-exitcode"}, want: extraSettings{detailedExitcode: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			if tc.file != "" {
				if err := os.WriteFile(configFile, []byte(tc.file), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			a := &app{ctx: context.Background(), getenv: func(k string) string { return tc.env[k] }}
			var got *extraSettings
			cmd := a.configCommand()
			cmd.Action = func(c *cli.Context) error {
				var err error
				got, err = a.extraSettings(c)
				return err
			}
			cliApp := &cli.App{Name: "mdo-play", Commands: []*cli.Command{cmd}, ExitErrHandler: func(*cli.Context, error) {}}
			if err := cliApp.Run(append([]string{"mdo-play", "config"}, tc.args...)); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, tc.want) {
				t.Errorf("got %+v, want %+v", *got, tc.want)
			}
		})
	}
}

func TestParseWait(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{{"0", 0, true}, {"45", 45 * time.Second, true}, {"2m", 2 * time.Minute, true}, {"1h30m", 90 * time.Minute, true}, {"-1s", 0, false}, {"soon", 0, false}} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseWait(tc.in)
			if (err == nil) != tc.ok || got != tc.want {
				t.Errorf("parseWait(%q) = %v, %v", tc.in, got, err)
			}
		})
	}
}
