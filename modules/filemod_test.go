package modules

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/mdo-play/mdo-play/modules/conn"
	"github.com/mdo-play/mdo-play/modules/conn/local"
	"github.com/mdo-play/mdo-play/modules/conn/ssh"
	"github.com/mdo-play/mdo-play/templates"
	"github.com/pmezard/go-difflib/difflib"
)

// Helpers for the file modules' tests: every case runs against a fresh
// directory on each target (local in t.TempDir(), and /srv on an sshd test
// host), through the real Conn.

// target is one place the file tests run: a connection and a fresh
// directory on it.
type target struct {
	name string
	c    conn.Conn
	dir  string
}

// fileTargets returns a local target and, unless the cluster is
// unavailable outside CI, an SSH target. newDir makes a fresh directory
// for each case.
func fileTargets(t *testing.T) []targetMaker {
	t.Helper()
	out := []targetMaker{{"local", func(t *testing.T) target {
		return target{name: "local", c: local.New(), dir: t.TempDir()}
	}}}
	if testCluster == nil && testClusterErr != nil && !strings.Contains(testClusterErr.Error(), "-short") {
		hostsOrSkip(t) // fails under CI, skips otherwise: then only local runs
	}
	if testCluster != nil {
		c := sshConn(t, testCluster.Hosts[0].Name)
		out = append(out, targetMaker{"ssh", func(t *testing.T) target {
			b := make([]byte, 6)
			rand.Read(b)
			dir := "/srv/t-" + hex.EncodeToString(b)
			sh(t, c, "mkdir -p "+conn.Quote(dir))
			t.Cleanup(func() { c.Exec(context.Background(), conn.Command{Script: "rm -rf " + conn.Quote(dir)}) })
			return target{name: "ssh", c: c, dir: dir}
		}})
	}
	return out
}

// targetMaker makes a fresh directory on one target.
type targetMaker struct {
	name string
	mk   func(t *testing.T) target
}

// sshConn dials root on the package cluster's host called name.
func sshConn(t *testing.T, name string) conn.Conn {
	t.Helper()
	c := hostsOrSkip(t)
	for _, h := range c.Hosts {
		if h.Name != name {
			continue
		}
		cl, err := ssh.Dial(context.Background(), ssh.Options{
			Alias: h.Name, Host: h.Addr, Port: h.Port, User: "root",
			IdentityFiles:   []string{c.ClientKey},
			HomeDir:         t.TempDir(),
			SSHConfigFiles:  []string{},
			KnownHostsFiles: []string{c.KnownHosts},
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cl.Close() })
		return cl
	}
	t.Fatalf("no host %s", name)
	return nil
}

// sh runs script on c and returns stdout; a non-zero exit fails t.
func sh(t *testing.T, c conn.Conn, script string) string {
	t.Helper()
	res, err := c.Exec(context.Background(), conn.Command{Script: script})
	if err != nil {
		t.Fatal(err)
	}
	if res.RC != 0 {
		t.Fatalf("%s: rc %d: %s%s", script, res.RC, res.Stdout, res.Stderr)
	}
	return string(res.Stdout)
}

// setup creates files under dir: a name ending in / is a directory, "@x"
// content makes a symlink to x, other content a file (parents created).
func setup(t *testing.T, tg target, files map[string]string) {
	t.Helper()
	var b strings.Builder
	for _, name := range sortedNames(files) {
		p := conn.Quote(tg.dir + "/" + name)
		content := files[name]
		switch {
		case strings.HasSuffix(name, "/"):
			fmt.Fprintf(&b, "mkdir -p -- %s\n", p)
		case strings.HasPrefix(content, "@"):
			fmt.Fprintf(&b, "mkdir -p -- \"$(dirname -- %s)\" && ln -s -- %s %s\n", p, conn.Quote(content[1:]), p)
		default:
			fmt.Fprintf(&b, "mkdir -p -- \"$(dirname -- %s)\" && printf %%s %s > %s\n", p, conn.Quote(content), p)
		}
	}
	sh(t, tg.c, b.String())
}

func sortedNames(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// snapshot describes everything under dir (names, types, modes, sizes,
// contents' checksums), to prove that check mode changed nothing.
func snapshot(t *testing.T, tg target) string {
	t.Helper()
	return sh(t, tg.c, "cd "+conn.Quote(tg.dir)+" && find . -print0 | LC_ALL=C sort -z | xargs -0 stat -c '%n %F %a %s %h' && find . -type f -exec sha1sum {} + | LC_ALL=C sort")
}

// readRemote returns a file's content on tg ("<absent>" when missing).
func readRemote(t *testing.T, tg target, rel string) string {
	t.Helper()
	res, err := tg.c.Exec(context.Background(), conn.Command{Script: "cat -- " + conn.Quote(tg.dir+"/"+rel)})
	if err != nil {
		t.Fatal(err)
	}
	if res.RC != 0 {
		return "<absent>"
	}
	return string(res.Stdout)
}

// subst replaces DIR in string arguments (and in lists of strings) with
// the target's directory.
func subst(raw map[string]any, dir string) map[string]any {
	out := make(map[string]any, len(raw))
	for k, v := range raw {
		switch x := v.(type) {
		case string:
			out[k] = strings.ReplaceAll(x, "DIR", dir)
		default:
			out[k] = v
		}
	}
	return out
}

// runOn normalizes raw and runs m on tg; it returns the result and the
// number of round trips.
func runOn(t *testing.T, tg target, m Module, env Env, raw map[string]any) (Result, int) {
	t.Helper()
	args, err := m.Spec().Normalize(subst(raw, tg.dir))
	if err != nil {
		t.Fatalf("normalize %v: %v", raw, err)
	}
	cc := &countingConn{Conn: tg.c}
	env.Conn = cc
	if env.Vars == nil {
		env.Vars = tmplVars{vars: map[string]any{"inventory_hostname": "h1", "app": "demo", "port": 8080, "items": []any{"a", "b"}}}
	}
	env.Host = "h1"
	res, err := m.Run(context.Background(), &env, args)
	if err != nil {
		t.Fatalf("run %v: %v", raw, err)
	}
	return res, int(cc.calls.Load())
}

// tmplVars renders with the real template engine.
type tmplVars struct{ vars map[string]any }

func (v tmplVars) Cond(string) (bool, error)  { return false, fmt.Errorf("no conditions here") }
func (v tmplVars) Lookup(string) (any, error) { return nil, fmt.Errorf("no lookups here") }
func (v tmplVars) Render(name, text string) (string, error) {
	return templates.New().RenderString(name, text, v.vars)
}
func (v tmplVars) All() map[string]any { return v.vars }

// renderDiffs renders diffs as --diff shows them, with dir replaced by DIR
// and backup timestamps masked, for golden files.
func renderDiffs(ds []Diff, dir string) string {
	var b strings.Builder
	for _, d := range ds {
		before, after := "before", "after"
		if d.BeforeHeader != "" {
			before += ": " + d.BeforeHeader
		}
		if d.AfterHeader != "" {
			after += ": " + d.AfterHeader
		}
		text, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
			A: difflib.SplitLines(d.Before), B: difflib.SplitLines(d.After),
			FromFile: before, ToFile: after, Context: 3,
		})
		b.WriteString(text)
	}
	return mask(b.String(), dir)
}

var (
	backupName = regexp.MustCompile(`\.\d+\.\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d~`)
	controller = regexp.MustCompile(`/tmp/Test\w+/\d+`)
)

func mask(s, dir string) string {
	s = strings.ReplaceAll(s, dir, "DIR")
	s = controller.ReplaceAllString(s, "SRC")
	return backupName.ReplaceAllString(s, ".PID.TIMESTAMP~")
}

// fileCase is one table row of a file module test: setup, arguments, and
// what the first run must do. Every case is also run a second time (ok),
// in check mode on a fresh directory (changed, nothing touched) and with
// --diff (the diff is collected in the module's golden file).
type fileCase struct {
	name   string
	files  map[string]string
	args   map[string]any
	want   map[string]string // rel path → content after the first run ("<absent>" for none)
	msg    string            // expected Msg of the first run ("" = any)
	failed bool
	// unchanged: the first run is already ok (nothing to do).
	unchanged bool
	// notIdempotent: a second run changes again (Ansible's behaviour, e.g.
	// touch).
	notIdempotent bool
	// calls bounds the first run's round trips (0: not checked).
	calls int
	check func(t *testing.T, tg target, r Result)
}

// runFileCases runs every case on every target and checks the goldens.
func runFileCases(t *testing.T, m Module, goldenName string, cases []fileCase) {
	goldens := map[string]*strings.Builder{}
	targets := fileTargets(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, tm := range targets {
				mk := tm.mk
				t.Run(tm.name, func(t *testing.T) {
					tg := mk(t)
					setup(t, tg, tc.files)
					r, calls := runOn(t, tg, m, Env{}, tc.args)
					if r.Failed != tc.failed || (tc.msg != "" && mask(r.Msg, tg.dir) != tc.msg) {
						t.Fatalf("first run: failed=%v msg=%q, want failed=%v msg=%q (values %v)", r.Failed, r.Msg, tc.failed, tc.msg, r.Values)
					}
					if !tc.failed && r.Changed == tc.unchanged {
						t.Errorf("first run: changed=%v, want %v", r.Changed, !tc.unchanged)
					}
					if tc.calls > 0 && calls > tc.calls {
						t.Errorf("first run: %d round trips, want at most %d", calls, tc.calls)
					}
					for rel, want := range tc.want {
						if got := readRemote(t, tg, rel); got != want {
							t.Errorf("%s = %q, want %q", rel, got, want)
						}
					}
					if tc.check != nil {
						tc.check(t, tg, r)
					}
					if tc.failed {
						return
					}
					r2, _ := runOn(t, tg, m, Env{}, tc.args)
					if r2.Failed || r2.Changed != tc.notIdempotent {
						t.Errorf("second run: changed=%v failed=%v msg=%q, want changed=%v", r2.Changed, r2.Failed, r2.Msg, tc.notIdempotent)
					}

					// Check mode and diff on a fresh directory.
					fresh := mk(t)
					setup(t, fresh, tc.files)
					before := snapshot(t, fresh)
					rc, _ := runOn(t, fresh, m, Env{Check: true, Diff: true}, tc.args)
					if rc.Failed || rc.Changed == tc.unchanged {
						t.Errorf("check run: changed=%v failed=%v msg=%q, want changed=%v", rc.Changed, rc.Failed, rc.Msg, !tc.unchanged)
					}
					if after := snapshot(t, fresh); after != before {
						t.Errorf("check mode changed the target:\n%s\n---\n%s", before, after)
					}
					rd, _ := runOn(t, fresh, m, Env{Diff: true}, tc.args)
					if rd.Changed != rc.Changed {
						t.Errorf("diff run changed=%v, check run %v", rd.Changed, rc.Changed)
					}
					got := renderDiffs(rd.Diff, fresh.dir)
					if cd := renderDiffs(rc.Diff, fresh.dir); cd != got {
						t.Errorf("check-mode diff differs from the real one:\n%s\n---\n%s", cd, got)
					}
					if goldens[tg.name] == nil {
						goldens[tg.name] = &strings.Builder{}
					}
					fmt.Fprintf(goldens[tg.name], "=== %s\n%s", tc.name, got)
				})
			}
		})
	}
	if t.Failed() {
		return
	}
	for name, b := range goldens {
		if name == "local" {
			golden(t, goldenName, b.String())
		} else if l := goldens["local"]; l != nil && l.String() != b.String() {
			t.Errorf("%s diffs differ from local ones:\n%s\n---\n%s", name, b.String(), l.String())
		}
	}
}
