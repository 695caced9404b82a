package modules

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestCommandRun(t *testing.T) {
	dir := t.TempDir()
	exists := filepath.Join(dir, "exists.txt")
	if err := os.WriteFile(exists, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")
	marker := filepath.Join(dir, "ran")

	tests := []struct {
		name  string
		check bool
		args  map[string]any
		// want holds result keys to compare; rounds the round trips.
		want    map[string]any
		changed bool
		failed  bool
		skipped bool
		msg     string
		rounds  int32
		ran     bool // the program ran (it touches marker)
	}{
		{
			name:    "free form first run",
			args:    map[string]any{RawParams: "echo hello world"},
			want:    map[string]any{"rc": 0, "stdout": "hello world", "stdout_lines": []string{"hello world"}, "stderr": "", "stderr_lines": []string{}, "cmd": []string{"echo", "hello", "world"}},
			changed: true, rounds: 1,
		},
		{
			name:    "cmd alias",
			args:    map[string]any{"cmd": "printf 'a\\nb\\n\\n'"},
			want:    map[string]any{"stdout": "a\nb", "stdout_lines": []string{"a", "b"}, "cmd": []string{"printf", `a\nb\n\n`}},
			changed: true, rounds: 1,
		},
		{
			name:    "strip_empty_ends false keeps trailing newlines",
			args:    map[string]any{"argv": []any{"printf", `a\n\n`}, "strip_empty_ends": "no"},
			want:    map[string]any{"stdout": "a\n\n", "stdout_lines": []string{"a", ""}},
			changed: true, rounds: 1,
		},
		{
			name:    "stderr and non-zero rc",
			args:    map[string]any{"argv": []any{"/bin/sh", "-c", "echo oops >&2; exit 3"}},
			want:    map[string]any{"rc": 3, "stdout": "", "stderr": "oops", "stderr_lines": []string{"oops"}},
			changed: true, failed: true, msg: "non-zero return code", rounds: 1,
		},
		{
			name:   "program not found",
			args:   map[string]any{RawParams: "no-such-program-mdo --x"},
			want:   map[string]any{"rc": 2, "cmd": []string{"no-such-program-mdo", "--x"}},
			failed: true, msg: "[Errno 2] No such file or directory: b'no-such-program-mdo'", rounds: 1,
		},
		{
			name:    "chdir",
			args:    map[string]any{RawParams: "pwd", "chdir": dir},
			want:    map[string]any{"stdout": dir},
			changed: true, rounds: 1,
		},
		{
			name:   "chdir missing",
			args:   map[string]any{RawParams: "touch " + marker, "chdir": missing},
			want:   map[string]any{"rc": nil},
			failed: true, msg: "Unable to change directory before execution: ", rounds: 1,
		},
		{
			name:   "creates exists",
			args:   map[string]any{RawParams: "touch " + marker, "creates": exists},
			want:   map[string]any{"rc": 0, "stdout": "skipped, since " + exists + " exists", "stdout_lines": []string{"skipped, since " + exists + " exists"}, "start": nil, "delta": nil},
			msg:    "Did not run command since '" + exists + "' exists",
			rounds: 1,
		},
		{
			name:   "creates glob matches",
			args:   map[string]any{RawParams: "touch " + marker, "creates": filepath.Join(dir, "*.txt")},
			msg:    "Did not run command since '" + filepath.Join(dir, "*.txt") + "' exists",
			rounds: 1,
		},
		{
			name:    "creates relative to chdir, missing",
			args:    map[string]any{RawParams: "touch " + marker, "creates": "nothing-here", "chdir": dir},
			changed: true, rounds: 1, ran: true,
		},
		{
			name:   "removes missing",
			args:   map[string]any{RawParams: "touch " + marker, "removes": missing},
			want:   map[string]any{"rc": 0, "stdout": "skipped, since " + missing + " does not exist"},
			msg:    "Did not run command since '" + missing + "' does not exist",
			rounds: 1,
		},
		{
			name:    "removes exists runs",
			args:    map[string]any{RawParams: "touch " + marker, "removes": exists},
			changed: true, rounds: 1, ran: true,
		},
		{
			name:    "stdin gets a newline",
			args:    map[string]any{RawParams: "od -An -c", "stdin": "hi"},
			want:    map[string]any{"stdout": "   h   i  \\n"},
			changed: true, rounds: 1,
		},
		{
			name:    "stdin without newline",
			args:    map[string]any{RawParams: "od -An -c", "stdin": "hi", "stdin_add_newline": false},
			want:    map[string]any{"stdout": "   h   i"},
			changed: true, rounds: 1,
		},
		{
			name:    "check mode skips without creates/removes",
			check:   true,
			args:    map[string]any{RawParams: "touch " + marker},
			want:    map[string]any{"rc": 0},
			skipped: true, msg: "Command would have run if not in check mode", rounds: 0,
		},
		{
			name:   "check mode creates exists",
			check:  true,
			args:   map[string]any{RawParams: "touch " + marker, "creates": exists},
			msg:    "Would not run command since '" + exists + "' exists",
			rounds: 1,
		},
		{
			name:    "check mode creates missing would run",
			check:   true,
			args:    map[string]any{RawParams: "touch " + marker, "creates": missing},
			want:    map[string]any{"rc": 0},
			changed: true, msg: "Command would have run if not in check mode", rounds: 1,
		},
		{
			name:   "no command",
			args:   map[string]any{RawParams: "  "},
			want:   map[string]any{"rc": 256},
			failed: true, msg: "no command given",
		},
		{
			name:   "free form and argv",
			args:   map[string]any{RawParams: "ls", "argv": []any{"ls"}},
			failed: true, msg: "only command or argv can be given, not both",
		},
		{
			name:   "free form and cmd",
			args:   map[string]any{RawParams: "ls", "cmd": "ls"},
			failed: true, msg: "The 'cmd' argument cannot be used when other raw parameters are specified.",
		},
		{
			name:   "unterminated quote",
			args:   map[string]any{RawParams: "echo 'a"},
			failed: true, msg: "no closing quotation",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			os.Remove(marker)
			res, cc := call(t, Command{Now: fixedClock(1500 * time.Millisecond)}, Env{Check: tt.check}, tt.args)
			if res.Changed != tt.changed || res.Failed != tt.failed || res.Skipped != tt.skipped {
				t.Errorf("changed/failed/skipped = %v/%v/%v, want %v/%v/%v (%+v)", res.Changed, res.Failed, res.Skipped, tt.changed, tt.failed, tt.skipped, res)
			}
			if !strings.HasPrefix(res.Msg, tt.msg) || (tt.msg == "" && res.Msg != "") {
				t.Errorf("msg = %q, want prefix %q", res.Msg, tt.msg)
			}
			for k, want := range tt.want {
				if got := res.Values[k]; !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %#v, want %#v", k, got, want)
				}
			}
			for _, k := range []string{"cmd", "rc", "stdout", "stderr", "stdout_lines", "stderr_lines", "start", "end", "delta"} {
				if _, ok := res.Values[k]; !ok {
					t.Errorf("result lacks %q: %v", k, res.Values)
				}
			}
			if got := cc.calls.Load(); got != tt.rounds {
				t.Errorf("round trips = %d, want %d", got, tt.rounds)
			}
			_, err := os.Stat(marker)
			if ran := err == nil; ran != tt.ran {
				t.Errorf("program ran = %v, want %v", ran, tt.ran)
			}
		})
	}
}

func TestCommandTimes(t *testing.T) {
	res, _ := call(t, Command{Now: fixedClock(1500 * time.Millisecond)}, Env{}, map[string]any{RawParams: "true"})
	want := map[string]any{
		"start": "2024-05-06 07:08:09.123456",
		"end":   "2024-05-06 07:08:10.623456",
		"delta": "0:00:01.500000",
	}
	for k, w := range want {
		if res.Values[k] != w {
			t.Errorf("%s = %v, want %v", k, res.Values[k], w)
		}
	}
}

// TestCommandArgvReachesProgram checks that every argv word reaches the
// program byte for byte: the oracle is the same program started by os/exec,
// which involves no shell at all.
func TestCommandArgvReachesProgram(t *testing.T) {
	dir := t.TempDir()
	home, _ := os.UserHomeDir()
	const show = `for a do printf '<%s>' "$a"; done`
	tricky := []string{
		"a b", "  lead and trail  ", "it's", `"double"`, `back\slash`, "$(touch pwned)", "`touch pwned2`",
		"line1\nline2", "\xff\xfe non-UTF-8", "", "*", "?", "[a]", ";", "&&", "|", ">out", "-n", "#hash", "tab\there",
		"$HOME", "${HOME}", "~", "~/x", "a=b",
	}
	tests := []struct {
		name   string
		expand any
		words  []string
		want   []string // nil: the words themselves
	}{
		{name: "literal", expand: false, words: tricky},
		{
			name:   "expanded",
			expand: true,
			words:  []string{"$HOME", "${HOME}/x", "~", "~/x", "$MDO_SURELY_UNSET", "${MDO_SURELY_UNSET}", "$1", "x$HOME", "'$HOME'", "~nosuchuser-mdo/x", "a b $HOME"},
			want:   []string{home, home + "/x", home, home + "/x", "$MDO_SURELY_UNSET", "${MDO_SURELY_UNSET}", "$1", "x" + home, "'" + home + "'", "~nosuchuser-mdo/x", "a b " + home},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.want
			if want == nil {
				want = tt.words
			}
			oracle, err := exec.Command("/bin/sh", append([]string{"-c", show, "sh"}, want...)...).Output()
			if err != nil {
				t.Fatal(err)
			}
			argv := []any{"/bin/sh", "-c", show, "sh"}
			for _, w := range tt.words {
				argv = append(argv, w)
			}
			res, _ := call(t, Command{}, Env{}, map[string]any{"argv": argv, "chdir": dir, "strip_empty_ends": false, "expand_argument_vars": tt.expand})
			if res.Failed {
				t.Fatalf("failed: %+v", res)
			}
			if got := res.Values["stdout"]; got != string(oracle) {
				t.Errorf("stdout = %q, want %q", got, oracle)
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 0 {
				t.Errorf("command substitution ran: %v", entries)
			}
		})
	}
}

func TestShellRun(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name   string
		args   map[string]any
		stdout string
		stderr string
		rc     int
		failed bool
	}{
		{name: "pipes and expansion", args: map[string]any{RawParams: "echo $((1+2)) | tr 3 x"}, stdout: "x"},
		{name: "cmd alias with chdir", args: map[string]any{"cmd": "pwd", "chdir": dir}, stdout: dir},
		{name: "executable", args: map[string]any{RawParams: `[[ a == a ]] && echo "$0"`, "executable": "/bin/bash"}, stdout: "/bin/bash"},
		{name: "stdin", args: map[string]any{RawParams: "read x; echo got $x", "stdin": "it's $(no)"}, stdout: "got it's $(no)"},
		{name: "exit code", args: map[string]any{RawParams: "echo out; exit 7"}, stdout: "out", rc: 7, failed: true},
		{name: "quotes in the script", args: map[string]any{RawParams: `printf '%s|' "a b" 'c'"'"'d'`}, stdout: "a b|c'd|"},
		{name: "run by /bin/sh", args: map[string]any{RawParams: `echo "$0 $#"`}, stdout: "/bin/sh 0"},
		{name: "explicit /bin/sh", args: map[string]any{RawParams: `echo "$0"`, "executable": "/bin/sh"}, stdout: "/bin/sh"},
		{name: "no module variables", args: map[string]any{RawParams: `set | grep -c '^_mdo' || :`, "chdir": dir}, stdout: "0"},
		{name: "stdout starts with NUL", args: map[string]any{RawParams: `printf '\0x'`}, stdout: "\x00x"},
		{name: "missing program", args: map[string]any{RawParams: "mdo-no-such-program"}, stderr: "/bin/sh: 1: mdo-no-such-program: not found", rc: 127, failed: true},
		{name: "syntax error", args: map[string]any{RawParams: "echo a; if"}, stderr: `/bin/sh: 1: Syntax error: end of file unexpected (expecting "then")`, rc: 2, failed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, cc := call(t, Shell{}, Env{}, tt.args)
			if res.Values["stdout"] != tt.stdout || res.Values["rc"] != tt.rc || res.Failed != tt.failed || !res.Changed {
				t.Errorf("got %+v, want stdout %q rc %d failed %v", res, tt.stdout, tt.rc, tt.failed)
			}
			if res.Values["stderr"] != tt.stderr {
				t.Errorf("stderr = %q, want %q", res.Values["stderr"], tt.stderr)
			}
			cmd := tt.args[RawParams]
			if cmd == nil {
				cmd = tt.args["cmd"]
			}
			if res.Values["cmd"] != cmd {
				t.Errorf("cmd = %#v, want the string %q", res.Values["cmd"], cmd)
			}
			if n := cc.calls.Load(); n != 1 {
				t.Errorf("round trips = %d, want 1", n)
			}
		})
	}
}

func TestCommandExecutableWarns(t *testing.T) {
	res, _ := call(t, Command{}, Env{}, map[string]any{RawParams: "true", "executable": "/bin/bash"})
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "Not using '/bin/bash'") {
		t.Errorf("warnings = %q", res.Warnings)
	}
}

// TestCommandScripts pins the generated scripts, so that a change in
// quoting or in the number of steps is seen in review.
func TestCommandScripts(t *testing.T) {
	tests := []struct {
		name  string
		m     Module
		check bool
		args  map[string]any
	}{
		{name: "command_argv", m: Command{}, args: map[string]any{"argv": []any{"echo", "it's", "$HOME/x", "~/y"}}},
		{name: "command_creates_removes_chdir", m: Command{}, args: map[string]any{RawParams: "echo hi", "chdir": "/nonexistent-mdo", "creates": "~/out*", "removes": "/tmp/$USER"}},
		{name: "command_check", m: Command{}, check: true, args: map[string]any{RawParams: "echo hi", "creates": "/nonexistent-mdo"}},
		{name: "shell_executable", m: Shell{}, args: map[string]any{RawParams: "echo 'a' | cat", "executable": "/bin/bash"}},
		{name: "shell_default", m: Shell{}, args: map[string]any{RawParams: "echo 'a' | cat"}},
		{name: "shell_creates", m: Shell{}, args: map[string]any{RawParams: "echo 'a' | cat", "creates": "/nonexistent-mdo"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, cc := call(t, tt.m, Env{Check: tt.check}, tt.args)
			golden(t, "scripts/"+tt.name+".sh", cc.script())
		})
	}
}
