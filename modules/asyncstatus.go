package modules

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/mdo-play/mdo-play/modules/conn"
	"github.com/mdo-play/mdo-play/templates/pyjson"
)

// AsyncDir is where background jobs (async with poll: 0) keep their
// result files on the target, as Ansible's async_dir.
const AsyncDir = "$HOME/.ansible_async"

// AsyncStatus is the async_status module: it reads the result file of a
// job started with async and poll: 0 (mode status), or removes it (mode
// cleanup), with async_status' result keys.
type AsyncStatus struct{}

var _ Module = AsyncStatus{}

// Spec describes async_status' arguments.
func (AsyncStatus) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "jid", Type: TypeStr, Required: true},
			{Name: "mode", Type: TypeStr, Default: "status", Choices: []string{"status", "cleanup"}},
		},
		CheckMode: true,
	}
}

// Run reads (or removes) the job's file in one round trip.
func (AsyncStatus) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	jid := args.String("jid")
	script := "f=" + AsyncDir + "/" + conn.Quote(jid) + "\nprintf '%s\\0' \"$f\"\n[ -e \"$f\" ] || exit 3\n"
	if args.String("mode") == "cleanup" {
		script += "rm -f -- \"$f\" \"$f.out\" \"$f.err\" \"$f.tmp\" \"$f.killed\"\n"
	} else {
		script += "cat -- \"$f\"\n"
	}
	res, err := env.Conn.Exec(ctx, conn.Command{Script: script})
	if err != nil {
		return Result{}, fmt.Errorf("async_status: %w", err)
	}
	path, data, _ := bytes.Cut(res.Stdout, []byte{0})
	switch {
	case res.RC == 3:
		return Result{Failed: true, Msg: "could not find job", Values: map[string]any{"ansible_job_id": jid, "started": 1, "finished": 1}}, nil
	case res.RC != 0:
		return Result{Failed: true, Msg: strings.TrimSpace(string(res.Stderr)), Values: map[string]any{"ansible_job_id": jid}}, nil
	case args.String("mode") == "cleanup":
		return Result{Values: map[string]any{"ansible_job_id": jid, "erased": string(path)}}, nil
	}
	return AsyncResult(jid, string(path), data), nil
}

// AsyncResult turns a job file's content into async_status' result: a
// file not written yet (or half written) is a running job; a finished
// module's result gets finished 1.
func AsyncResult(jid, path string, data []byte) Result {
	running := Result{Values: map[string]any{"ansible_job_id": jid, "results_file": path, "started": 1, "finished": 0}}
	if len(bytes.TrimSpace(data)) == 0 {
		return running
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return running
	}
	pyjson.Numbers(m)
	if _, ok := m["started"]; !ok {
		m["finished"] = 1
		m["ansible_job_id"] = jid
	} else if _, ok := m["finished"]; !ok {
		m["finished"] = 0
	}
	r := Result{Values: map[string]any{}}
	for k, v := range m {
		switch k {
		case "changed":
			r.Changed = truthy(v)
		case "failed":
			r.Failed = truthy(v)
		case "msg":
			r.Msg = fmt.Sprint(v)
		case "skipped":
			r.Skipped = truthy(v)
		default:
			r.Values[k] = v
		}
	}
	for _, k := range []string{"stdout", "stderr"} {
		if s, ok := m[k].(string); ok {
			if _, has := m[k+"_lines"]; !has {
				r.Values[k+"_lines"] = SplitLines(s)
			}
		}
	}
	if r.Msg == "" && r.Failed {
		r.Msg = "async job failed"
	}
	if _, ok := m["msg"]; ok && r.Msg == "" {
		r.Values["msg"] = ""
	}
	return r
}

// truthy reads a JSON boolean or 0/1 as Python's truth.
func truthy(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case int:
		return x != 0
	case float64:
		return x != 0
	case string:
		return x != ""
	}
	return v != nil
}

// StartAsync starts a command or shell call in the background on the
// target, detached from the connection (setsid, or nohup), writing its
// result as Ansible's async_wrapper does to AsyncDir/jid: first
// {"started": 1, "finished": 0}, then the module's result, or "Timeout
// exceeded" when it runs longer than limit seconds. ok is false when the
// call cannot be started this way (another module, creates/removes,
// stdin); the caller then runs the module itself.
func StartAsync(ctx context.Context, c conn.Conn, module string, args Args, jid string, limit int) (Result, bool, error) {
	if module != "command" && module != "shell" || args.Has("creates") || args.Has("removes") || args.Has("stdin") {
		return Result{}, false, nil
	}
	raw, bad := freeForm(args)
	if bad != "" {
		return Result{}, false, nil
	}
	var run string
	var cmd any
	if module == "shell" {
		exe := args.String("executable")
		if exe == "" {
			exe = "/bin/sh"
		}
		run = conn.Quote(exe) + " -c " + conn.Quote(raw)
		cmd = raw
	} else {
		argv := args.Strings("argv")
		if raw != "" {
			var err error
			if argv, err = SplitShlex(raw); err != nil {
				return Result{}, false, nil
			}
		}
		if len(argv) == 0 {
			return Result{}, false, nil
		}
		words := make([]string, len(argv))
		l := make([]any, len(argv))
		for i, a := range argv {
			words[i] = conn.Quote(a)
			l[i] = a
		}
		run = strings.Join(words, " ")
		cmd = l
	}
	if dir := args.String("chdir"); dir != "" {
		run = "cd -- " + conn.Quote(dir) + " && " + run
	}
	cmdJSON, err := pyjson.Marshal(cmd, pyjson.Options{})
	if err != nil {
		return Result{}, false, nil
	}
	// The job: run the program (in its own session where setsid exists),
	// then write its result as JSON (escaped by awk) to a temporary file
	// renamed over the job file. A watcher, checking once a second, kills
	// it after limit seconds as async_wrapper does, and ends with it.
	job := `f=$1; o="$f.out"; e="$f.err"
n() { date +%s%N; }
t() { date '+%Y-%m-%d %H:%M:%S.%6N'; }
js() { tr -d '\000-\010\013\014\016-\037' <"$1" | awk 'BEGIN{ORS=""} {gsub(/\\/,"\\\\"); gsub(/"/,"\\\""); gsub(/\t/,"\\t"); gsub(/\r/,"\\r"); l[NR]=$0} END{n=NR; while (n>0 && l[n]=="") n--; for (i=1;i<=n;i++) {if (i>1) printf "\\n"; printf "%s", l[i]}}'; }
s=$(n); S=$(t)
if command -v setsid >/dev/null 2>&1; then
  setsid /bin/sh -c ` + conn.Quote(run) + ` >"$o" 2>"$e" </dev/null & p=$!; g=-$p
else
  /bin/sh -c ` + conn.Quote(run) + ` >"$o" 2>"$e" </dev/null & p=$!; g=$p
fi
( i=0; while [ $i -lt ` + fmt.Sprint(limit) + ` ] && kill -0 "$p" 2>/dev/null; do sleep 1; i=$((i+1)); done
  kill -0 "$p" 2>/dev/null || exit 0
  : >"$f.killed"; kill -9 "$g" 2>/dev/null || kill -9 "$p" 2>/dev/null
  printf '{"msg": "Timeout exceeded", "failed": true, "child_pid": %d}' "$p" >"$f.tmp" && mv -f "$f.tmp" "$f"; rm -f "$o" "$e" "$f.killed" ) >/dev/null 2>&1 </dev/null &
wait $p; rc=$?
[ -e "$f.killed" ] && exit 0
E=$(n); ES=$(t)
d=$(awk -v a="$s" -v b="$E" 'BEGIN{u=int((b-a)/1000); s=int(u/1000000); printf "%d:%02d:%02d.%06d", s/3600, (s/60)%60, s%60, u%1000000}')
if [ "$rc" -eq 0 ]; then m='"msg": "", "failed": false'; else m='"msg": "non-zero return code", "failed": true'; fi
{ printf '{"changed": true, "cmd": %s, "rc": %d, "start": "%s", "end": "%s", "delta": "%s", %s, "stdout": "' ` + conn.Quote(cmdJSON) + ` "$rc" "$S" "$ES" "$d" "$m"
js "$o"; printf '", "stderr": "'; js "$e"; printf '"}'; } >"$f.tmp" && mv -f "$f.tmp" "$f"
rm -f "$o" "$e"
`
	script := "d=" + AsyncDir + "\nf=\"$d\"/" + conn.Quote(jid) + "\n" +
		"mkdir -p \"$d\" && chmod 700 \"$d\" && printf '{\"started\": 1, \"finished\": 0, \"ansible_job_id\": \"%s\"}' " + conn.Quote(jid) + " >\"$f\" || exit 1\n" +
		"j=" + conn.Quote(job) + "\n" +
		"if command -v setsid >/dev/null 2>&1; then setsid /bin/sh -c \"$j\" mdo-async \"$f\" >/dev/null 2>&1 </dev/null &\n" +
		"else nohup /bin/sh -c \"$j\" mdo-async \"$f\" >/dev/null 2>&1 </dev/null & fi\n" +
		"printf '%s' \"$f\"\n"
	res, err := c.Exec(ctx, conn.Command{Script: script})
	if err != nil {
		return Result{}, true, fmt.Errorf("start async job: %w", err)
	}
	if res.RC != 0 {
		return Result{Failed: true, Msg: "could not start the async job: " + strings.TrimSpace(string(res.Stderr))}, true, nil
	}
	return Result{Changed: true, Values: map[string]any{"ansible_job_id": jid, "results_file": string(res.Stdout), "started": 1, "finished": 0}}, true, nil
}

// WriteAsyncResult stores a module's result as the job file of jid, for
// a module that StartAsync cannot run in the background: it ran to the
// end before the task returned, and async_status reads its result.
func WriteAsyncResult(ctx context.Context, c conn.Conn, jid string, result map[string]any) (string, error) {
	data, err := pyjson.Marshal(result, pyjson.Options{})
	if err != nil {
		return "", err
	}
	script := "d=" + AsyncDir + "\nf=\"$d\"/" + conn.Quote(jid) + "\nmkdir -p \"$d\" && chmod 700 \"$d\" && cat >\"$f.tmp\" && mv -f \"$f.tmp\" \"$f\" && printf '%s' \"$f\"\n"
	res, err := c.Exec(ctx, conn.Command{Script: script, Stdin: []byte(data)})
	if err != nil {
		return "", err
	}
	if res.RC != 0 {
		return "", fmt.Errorf("write async result: %s", strings.TrimSpace(string(res.Stderr)))
	}
	return string(res.Stdout), nil
}
