// Command mdo-bench is `make bench`: it starts N real sshd test hosts, runs
// the 20-task runbook of bench/runbook with mdo-play, with ansible-playbook
// and with the one-exec-per-task floor program (a first run on an empty
// /srv, then the idempotent second run), checks that they leave the same
// files behind, and prints and writes a markdown table of wall time,
// controller CPU and controller peak RSS.
//
// It needs root (the test hosts run in their own namespaces).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mdo-play/mdo-play/modules/conn/sshtest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "mdo-bench:", err)
		stop()
		os.Exit(1)
	}
}

// config is the command line.
type config struct {
	hosts       []int
	reps        int
	ansibleMax  int
	ansibleReps int
	mdoPlay     string
	floor       string
	runbooks    string
	results     string
	workDir     string
	tools       map[string]bool
}

func parseFlags(args []string) (*config, error) {
	fs := flag.NewFlagSet("mdo-bench", flag.ContinueOnError)
	hosts := fs.String("hosts", "10 50 200", "host counts to run, space- or comma-separated")
	reps := fs.Int("reps", 3, "repetitions of every measurement (the table shows the median and min–max)")
	ansibleMax := fs.Int("ansible-max", 50, "run ansible-playbook only up to this many hosts")
	ansibleReps := fs.Int("ansible-reps", 1, "repetitions for ansible-playbook (it takes minutes per run)")
	mdoPlay := fs.String("mdo-play", "bin/mdo-play", "mdo-play binary")
	floor := fs.String("floor", "bin/mdo-floor", "floor program binary")
	runbooks := fs.String("runbooks", "bench/runbook", "directory holding site.yml, site-ansible.yml and templates/")
	results := fs.String("results", "bench/RESULTS.md", "markdown file to write the results to (empty: don't)")
	workDir := fs.String("work", "", "directory for test-host files and logs (default: a new temporary directory, removed at the end)")
	tools := fs.String("tools", strings.Join(allTools, ","), "controllers to run")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	c := &config{reps: *reps, ansibleMax: *ansibleMax, ansibleReps: *ansibleReps, results: *results, workDir: *workDir, tools: map[string]bool{}}
	for _, f := range strings.FieldsFunc(*hosts, func(r rune) bool { return r == ' ' || r == ',' }) {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 || n > 250 {
			return nil, fmt.Errorf("-hosts: %q is not a host count in 1..250", f)
		}
		c.hosts = append(c.hosts, n)
	}
	if len(c.hosts) == 0 || c.reps < 1 || c.ansibleReps < 1 {
		return nil, errors.New("need at least one host count and one repetition")
	}
	for _, t := range strings.Split(*tools, ",") {
		switch t = strings.TrimSpace(t); t {
		case toolFloor, toolFloorShell, toolMdo, toolMdoBecome, toolAnsible:
			c.tools[t] = true
		default:
			return nil, fmt.Errorf("-tools: unknown controller %q", t)
		}
	}
	var err error
	for _, p := range []*string{mdoPlay, floor, runbooks} {
		if *p, err = filepath.Abs(*p); err != nil {
			return nil, err
		}
	}
	c.mdoPlay, c.floor, c.runbooks = *mdoPlay, *floor, *runbooks
	return c, nil
}

func run(ctx context.Context, args []string) error {
	cfg, err := parseFlags(args)
	if err != nil {
		return err
	}
	if err := sshtest.Available(""); err != nil {
		return err
	}
	for _, p := range []string{cfg.mdoPlay, cfg.floor} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%w (run make build first)", err)
		}
	}
	withAnsible := cfg.tools[toolAnsible] && cfg.hosts[0] <= cfg.ansibleMax
	if withAnsible {
		if err := ensureAnsible(ctx); err != nil {
			return err
		}
	}
	if err := becomeSubreaper(); err != nil {
		return err
	}
	if cfg.workDir == "" {
		d, err := os.MkdirTemp("", "mdo-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		cfg.workDir = d
	}
	header := fmt.Sprintf("# Benchmark: mdo-play vs ansible-playbook vs the one-exec-per-task floor\n\n"+
		"`%s`\n\n%s\n%s", commandLine(cfg), machine(ctx, cfg.mdoPlay, withAnsible), explanation(cfg))
	fmt.Print(header)
	var results []*result
	failed := false
	for _, n := range cfg.hosts {
		r, err := benchN(ctx, cfg, n)
		if err != nil {
			return fmt.Errorf("N=%d: %w", n, err)
		}
		results = append(results, r)
		failed = failed || r.failed
		ref := 0
		if n > cfg.ansibleMax {
			ref = cfg.ansibleMax
		}
		fmt.Println(r.table(ref))
		if err := writeResults(cfg, header, results); err != nil {
			return err
		}
	}
	if failed {
		return errors.New("verification failed: see the table notes")
	}
	return nil
}

func commandLine(cfg *config) string {
	hs := make([]string, len(cfg.hosts))
	for i, n := range cfg.hosts {
		hs[i] = strconv.Itoa(n)
	}
	var tools []string
	for _, t := range allTools {
		if cfg.tools[t] {
			tools = append(tools, t)
		}
	}
	return fmt.Sprintf(`make bench BENCH_HOSTS="%s" BENCH_REPS=%d BENCH_ANSIBLE_MAX=%d BENCH_ANSIBLE_REPS=%d BENCH_TOOLS=%s`,
		strings.Join(hs, " "), cfg.reps, cfg.ansibleMax, cfg.ansibleReps, strings.Join(tools, ","))
}

func explanation(cfg *config) string {
	return fmt.Sprintf(`
The runbook is bench/runbook/site.yml (site-ansible.yml for Ansible): 19 tasks
and a handler on every host. *first* runs on an empty /srv, *second* is the
idempotent rerun; /srv is wiped before every first run. Each cell is the median
of %d runs (ansible-playbook: %d) with the range in parentheses.
*CPU* is user+sys of the controller and every process it waited for (for
Ansible also its ssh ControlMaster processes, collected as orphans);
*peak RSS* is ru_maxrss, the largest single process of the tree (Ansible runs
one process per fork, so its total footprint is larger). mdo-play runs with
-f N; ansible-playbook with forks = N, pipelining on, ControlPersist, and host
keys checked against the harness's known_hosts; the floor program
(bench/cmd/mdo-floor) opens one connection per host and does one exec per task
plus its file writes over one SFTP session; floor-shell is the same program
feeding every command to one long-lived sh per host (no session, no exec of sh
per task); mdo-play-b is mdo-play with -b (sudo to root).
*forks/host* is the machine's process creations during the run (/proc/stat)
divided by N: the target side's processes, plus any other work on the machine.

`, cfg.reps, min(cfg.reps, cfg.ansibleReps))
}

// notesMarker starts the part of RESULTS.md that mdo-bench keeps as it is.
const notesMarker = "<!-- notes: kept by mdo-bench -->"

func writeResults(cfg *config, header string, results []*result) error {
	if cfg.results == "" {
		return nil
	}
	var b strings.Builder
	b.WriteString(header)
	b.WriteString("## Results\n\n")
	for _, r := range results {
		ref := 0
		if r.N > cfg.ansibleMax {
			ref = cfg.ansibleMax
		}
		b.WriteString(r.table(ref))
		b.WriteString("\n")
	}
	// Hand-written analysis below the marker survives a rerun.
	if old, err := os.ReadFile(cfg.results); err == nil {
		if i := strings.Index(string(old), notesMarker); i >= 0 {
			b.WriteString(string(old[i:]))
		}
	}
	if err := os.WriteFile(cfg.results, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	return nil
}

// benchN starts n test hosts and measures every controller on them.
func benchN(ctx context.Context, cfg *config, n int) (*result, error) {
	dir := filepath.Join(cfg.workDir, fmt.Sprintf("n%d", n))
	fmt.Fprintf(os.Stderr, "N=%d: starting test hosts\n", n)
	cl, err := sshtest.Start(ctx, sshtest.Options{N: n, Dir: filepath.Join(dir, "hosts"), StartTimeout: 60 * time.Second})
	if err != nil {
		return nil, err
	}
	defer cl.Stop()
	adm, err := dialAdmin(ctx, cl)
	if err != nil {
		return nil, err
	}
	defer adm.Close()
	inv := filepath.Join(dir, "inventory.ini")
	invData, err := os.ReadFile(cl.Inventory)
	if err != nil {
		return nil, err
	}
	invData = append(invData, fmt.Sprintf("\n[testhosts:vars]\nansible_ssh_known_hosts_file=%s\n", cl.KnownHosts)...)
	if err := os.WriteFile(inv, invData, 0o600); err != nil {
		return nil, err
	}
	runAnsible := cfg.tools[toolAnsible] && n <= cfg.ansibleMax
	var ans *ansibleEnv
	if runAnsible {
		if ans, err = newAnsibleEnv(filepath.Join(dir, "ansible"), n, cl.KnownHosts); err != nil {
			return nil, err
		}
	}

	r := newResult(n)
	commands := map[string]func(ctx context.Context, run int) *exec.Cmd{
		toolFloor: func(ctx context.Context, _ int) *exec.Cmd {
			return exec.CommandContext(ctx, cfg.floor, "-i", inv, "-known-hosts", cl.KnownHosts, "-forks", strconv.Itoa(n))
		},
		toolFloorShell: func(ctx context.Context, _ int) *exec.Cmd {
			return exec.CommandContext(ctx, cfg.floor, "-shell", "-i", inv, "-known-hosts", cl.KnownHosts, "-forks", strconv.Itoa(n))
		},
		toolMdo: func(ctx context.Context, _ int) *exec.Cmd {
			cmd := exec.CommandContext(ctx, cfg.mdoPlay, "-i", inv, "-f", strconv.Itoa(n), filepath.Join(cfg.runbooks, "site.yml"))
			cmd.Dir = dir
			return cmd
		},
		toolMdoBecome: func(ctx context.Context, _ int) *exec.Cmd {
			cmd := exec.CommandContext(ctx, cfg.mdoPlay, "-b", "-i", inv, "-f", strconv.Itoa(n), filepath.Join(cfg.runbooks, "site.yml"))
			cmd.Dir = dir
			return cmd
		},
		toolAnsible: func(ctx context.Context, _ int) *exec.Cmd {
			return ans.command(ctx, inv, filepath.Join(cfg.runbooks, "site-ansible.yml"))
		},
	}
	listings := map[string][]string{}
	for rep := range cfg.reps {
		for _, tool := range allTools {
			if !cfg.tools[tool] {
				r.cells[0][tool].skipped, r.cells[1][tool].skipped = "not run", "not run"
				continue
			}
			if tool == toolAnsible && !runAnsible {
				r.cells[0][tool].skipped, r.cells[1][tool].skipped = "skipped", "skipped"
				continue
			}
			if tool == toolAnsible && rep >= cfg.ansibleReps {
				continue
			}
			if err := adm.wipe(ctx); err != nil {
				return nil, err
			}
			for run := range 2 {
				fmt.Fprintf(os.Stderr, "N=%d rep %d/%d: %s %s run\n", n, rep+1, cfg.reps, tool, runName(run))
				var cleanup func()
				if tool == toolAnsible {
					cleanup = func() { ans.closeMasters(ctx) }
				}
				s, err := measure(ctx, commands[tool](ctx, run), cleanup, 10*time.Second, n)
				if err != nil {
					return nil, fmt.Errorf("%s %s run: %w", tool, runName(run), err)
				}
				fmt.Fprintf(os.Stderr, "  wall %.2fs cpu %.2fs rss %.1fMB forks/host %.0f\n", s.Wall.Seconds(), s.CPU.Seconds(), float64(s.MaxRSS)/(1<<20), s.ForksPerHost)
				r.cells[run][tool].samples = append(r.cells[run][tool].samples, s)
				if run == 1 && rep == 0 {
					if tool != toolFloor && tool != toolFloorShell {
						r.checkRecap(tool, s.Output, n)
					}
					if listings[tool], err = adm.listing(ctx); err != nil {
						return nil, err
					}
				}
			}
		}
	}
	r.compare(adm.names, listings)
	return r, nil
}

// recapRE matches a recap line of mdo-play's and Ansible's text output.
var recapRE = regexp.MustCompile(`(?m)^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)`)

// checkRecap records whether the second run changed nothing on all n hosts.
func (r *result) checkRecap(tool, out string, n int) {
	m := recapRE.FindAllStringSubmatch(out, -1)
	changed := 0
	for _, l := range m {
		if l[3] != "0" {
			changed++
		}
	}
	switch {
	case len(m) != n:
		r.checks = append(r.checks, fmt.Sprintf("%s second run: recap lists %d hosts, expected %d", tool, len(m), n))
		r.failed = true
	case changed > 0:
		r.checks = append(r.checks, fmt.Sprintf("%s second run: **not idempotent**, changed>0 on %d of %d hosts", tool, changed, n))
		r.failed = true
	default:
		r.checks = append(r.checks, fmt.Sprintf("%s second run: changed=0 on all %d hosts", tool, n))
	}
}

// compare checks that every controller left the same files as mdo-play
// (or, when it did not run, as ansible-playbook).
func (r *result) compare(names []string, listings map[string][]string) {
	refTool := ""
	for _, t := range []string{toolMdo, toolAnsible, toolFloor} {
		if _, ok := listings[t]; ok && refTool == "" {
			refTool = t
		}
	}
	ref := listings[refTool]
	for _, tool := range []string{toolAnsible, toolFloor, toolFloorShell, toolMdoBecome} {
		l, ok := listings[tool]
		if !ok || tool == refTool {
			continue
		}
		var bad []string
		for i := range ref {
			if l[i] != ref[i] {
				bad = append(bad, names[i])
				if len(bad) == 1 {
					r.checks = append(r.checks, fmt.Sprintf("first difference (%s), %s:\n\n```\n%s```\n\n  %s:\n\n```\n%s```", names[i], refTool, ref[i], tool, l[i]))
				}
			}
		}
		if len(bad) > 0 {
			r.checks = append(r.checks, fmt.Sprintf("%s and %s leave **different files** in /srv on %d of %d hosts", tool, refTool, len(bad), len(ref)))
			r.failed = true
			continue
		}
		files := strings.Count(ref[0], "\n")
		r.checks = append(r.checks, fmt.Sprintf("%s and %s leave the same %d paths in /srv on all %d hosts (path, mode, owner, sha256)", tool, refTool, files, len(ref)))
	}
}
