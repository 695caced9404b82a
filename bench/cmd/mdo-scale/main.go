// Command mdo-scale measures mdo-play at fleet size on one controller
// (issue 14, docs/scale.md "One controller"):
//
//   - large INI inventories (default 10,000 and 60,000 hosts, a few
//     variables each): wall time and peak RSS of `--list-hosts`;
//   - a 5-task playbook (file, copy, lineinfile, command, assert) on N real
//     sshd test hosts (default 100 and 1000) with -f 200: the harness's
//     start time and memory, mdo-play's wall time, per-host cost and its ratio to the
//     smallest run, peak controller RSS, and how many hosts ended
//     UNREACHABLE (every test host is up, so each one is a false
//     UNREACHABLE) or failed.
//
// It needs root for the test hosts (the inventory part runs without).
//
//	mdo-scale -mdo-play bin/mdo-play [-hosts "100 1000"] [-forks 200] [-inventories "10000 60000"]
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
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mdo-play/mdo-play/modules/conn/sshtest"
)

// playbook is the 5-task playbook of issue 14.
const playbook = `- name: scale
  hosts: all
  gather_facts: false
  tasks:
    - name: app directory
      file: {path: /srv/scale, state: directory, mode: "0755"}
    - name: config
      copy: {dest: /srv/scale/app.conf, content: "name={{ .inventory_hostname }}\n"}
    - name: port setting
      lineinfile: {path: /srv/scale/app.conf, regexp: "^port=", line: "port=8080"}
    - name: read config
      command: cat /srv/scale/app.conf
      register: conf
      changed_when: false
    - name: config is complete
      assert:
        that:
          - contains "port=8080" .conf.stdout
`

type config struct {
	mdoPlay     string
	hosts       []int
	forks       int
	inventories []int
	keep        bool
	strict      bool
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "mdo-scale:", err)
		os.Exit(1)
	}
}

func ints(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Fields(s) {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive number", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("mdo-scale", flag.ContinueOnError)
	cfg := &config{}
	fs.StringVar(&cfg.mdoPlay, "mdo-play", "bin/mdo-play", "the mdo-play binary")
	hosts := fs.String("hosts", "100 1000", "test host counts to run the playbook on; the first is the baseline of the cost ratio")
	fs.IntVar(&cfg.forks, "forks", 200, "mdo-play -f")
	fs.BoolVar(&cfg.strict, "strict", false, "exit 1 unless every host finished every task (no false UNREACHABLE, no failure); CI sets it")
	invs := fs.String("inventories", "10000 60000", "INI inventory sizes to list (empty: none)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var err error
	if cfg.hosts, err = ints(*hosts); err != nil {
		return fmt.Errorf("-hosts: %w", err)
	}
	if cfg.inventories, err = ints(*invs); err != nil {
		return fmt.Errorf("-inventories: %w", err)
	}
	if cfg.mdoPlay, err = filepath.Abs(cfg.mdoPlay); err != nil {
		return err
	}
	if _, err := os.Stat(cfg.mdoPlay); err != nil {
		return fmt.Errorf("mdo-play binary: %w (run make build)", err)
	}
	tmp, err := os.MkdirTemp("", "mdo-scale-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	pb := filepath.Join(tmp, "scale.yml")
	if err := os.WriteFile(pb, []byte(playbook), 0o644); err != nil {
		return err
	}
	fmt.Printf("mdo-scale on %s, %d CPUs, load average %s\n\n", hostname(), runtime.NumCPU(), loadavg())

	if len(cfg.inventories) > 0 {
		fmt.Println("## Inventories: mdo-play --list-hosts")
		fmt.Println()
		fmt.Println("| hosts | wall | CPU | peak RSS | hosts listed |")
		fmt.Println("|------:|-----:|----:|---------:|-------------:|")
		var vline string
		for _, n := range cfg.inventories {
			r, err := listHosts(ctx, cfg, tmp, pb, n)
			if err != nil {
				return err
			}
			fmt.Printf("| %d | %.2f s | %.2f s | %.0f MB | %d |\n", n, r.wall.Seconds(), r.cpu.Seconds(), mb(r.maxRSS), r.listed)
			vline = r.rlimit
		}
		fmt.Printf("\nmdo-play -v says: %s\n\n", vline)
	}

	if len(cfg.hosts) > 0 {
		if err := sshtest.Available(""); err != nil {
			return fmt.Errorf("playbook runs: %w", err)
		}
		fmt.Printf("## Playbook: 5 tasks (file, copy, lineinfile, command, assert), -f %d, real sshd test hosts\n\n", cfg.forks)
		fmt.Println("| hosts | harness start | hosts' memory | mdo-play wall | per host | cost ratio | controller CPU | peak RSS | false UNREACHABLE | failed | ok hosts |")
		fmt.Println("|------:|--------------:|--------------:|--------------:|---------:|-----------:|---------------:|---------:|------------------:|-------:|---------:|")
		var base float64
		var incomplete []string
		for _, n := range cfg.hosts {
			r, err := playbookRun(ctx, cfg, tmp, pb, n)
			if err != nil {
				return err
			}
			per := r.wall.Seconds() / float64(n)
			if base == 0 {
				base = per
			}
			fmt.Printf("| %d | %.1f s | ~%.0f MB | %.1f s | %.1f ms | %.2f× | %.1f s | %.0f MB | %d | %d | %d |\n",
				n, r.start.Seconds(), mb(r.hostsMem), r.wall.Seconds(), per*1000, per/base, r.cpu.Seconds(), mb(r.maxRSS), r.unreachable, r.failed, r.ok)
			if r.firstUnreachable != "" {
				fmt.Printf("|   | first UNREACHABLE: %s |\n", strings.ReplaceAll(r.firstUnreachable, "|", "/"))
			}
			if r.ok != n {
				incomplete = append(incomplete, fmt.Sprintf("%d hosts: %d unreachable, %d failed, %d of %d finished", n, r.unreachable, r.failed, r.ok, n))
			}
		}
		fmt.Printf("\nload average after the runs: %s\n", loadavg())
		if cfg.strict && len(incomplete) > 0 {
			return fmt.Errorf("not every host finished: %s", strings.Join(incomplete, "; "))
		}
	}
	return nil
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }

// memAvailable returns the machine's MemAvailable in bytes (0 if unknown).
func memAvailable() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "MemAvailable:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}

func hostname() string {
	h, _ := os.Hostname()
	return h
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// measure is one measured command.
type measure struct {
	wall, cpu      time.Duration // cpu: user+system of the process
	maxRSS         int64
	stdout, stderr string
}

// measured runs cmd and returns its wall and CPU time (the machine may be
// busy: CPU time is the steadier figure), peak RSS and output.
func measured(cmd *exec.Cmd) (measure, error) {
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	m := measure{wall: time.Since(start)}
	if ps := cmd.ProcessState; ps != nil {
		m.cpu = ps.UserTime() + ps.SystemTime()
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			m.maxRSS = ru.Maxrss * 1024
		}
	}
	m.stdout, m.stderr = stdout.String(), stderr.String()
	return m, err
}

type listResult struct {
	measure
	listed int
	rlimit string
}

// listHosts writes an n-host INI inventory (four variables per host, a few
// groups with group variables) and times --list-hosts over it.
func listHosts(ctx context.Context, cfg *config, tmp, pb string, n int) (*listResult, error) {
	path := filepath.Join(tmp, fmt.Sprintf("inv%d.ini", n))
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	racks := 40
	for r := 0; r < racks; r++ {
		fmt.Fprintf(f, "[rack%d]\n", r)
		for i := r; i < n; i += racks {
			fmt.Fprintf(f, "web%05d ansible_host=10.%d.%d.%d ansible_port=22 tier=web serial_no=SN%08d\n", i, i/65536, i/256%256, i%256, i*7919)
		}
		fmt.Fprintf(f, "[rack%d:vars]\nrack_id=%d\n", r, r)
	}
	fmt.Fprintf(f, "[web:children]\n")
	for r := 0; r < racks; r++ {
		fmt.Fprintf(f, "rack%d\n", r)
	}
	fmt.Fprintf(f, "[web:vars]\nntp_server=ntp.example.org\ndns_servers=['10.0.0.2', '10.0.0.3']\n")
	if err := f.Close(); err != nil {
		return nil, err
	}
	m, err := measured(exec.CommandContext(ctx, cfg.mdoPlay, "-i", path, "--list-hosts", pb))
	if err != nil {
		return nil, fmt.Errorf("list %d hosts: %w: %s", n, err, m.stderr)
	}
	listed := 0
	for _, l := range strings.Split(m.stdout, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "web") {
			listed++
		}
	}
	if listed != n {
		return nil, fmt.Errorf("list %d hosts: %d listed", n, listed)
	}
	// The same once more with -v, for its word on the open files limit.
	v, _ := measured(exec.CommandContext(ctx, cfg.mdoPlay, "-v", "-i", path, "--list-hosts", pb))
	rl := ""
	for _, l := range strings.Split(v.stderr, "\n") {
		if strings.Contains(l, "RLIMIT_NOFILE") {
			rl = l
		}
	}
	return &listResult{measure: m, listed: listed, rlimit: rl}, nil
}

type runResult struct {
	measure
	start            time.Duration
	hostsMem         int64 // drop of MemAvailable while starting the hosts
	unreachable      int
	failed           int
	ok               int
	firstUnreachable string
}

var recapLine = regexp.MustCompile(`(?m)^(h\d+)\s+: ok=(\d+)\s+changed=\d+\s+unreachable=(\d+)\s+failed=(\d+)`)

// playbookRun starts n test hosts, runs the playbook on them once and
// stops them.
func playbookRun(ctx context.Context, cfg *config, tmp, pb string, n int) (*runResult, error) {
	dir := filepath.Join(tmp, fmt.Sprintf("hosts%d", n))
	availBefore := memAvailable()
	c, err := sshtest.Start(ctx, sshtest.Options{N: n, Dir: dir, StartTimeout: 2 * time.Minute})
	if err != nil {
		return nil, err
	}
	hostsMem := availBefore - memAvailable()
	defer func() {
		if err := c.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "mdo-scale:", err)
		}
	}()
	r := &runResult{start: c.StartTime, hostsMem: hostsMem}
	var inv strings.Builder
	inv.WriteString("[fleet]\n")
	for _, h := range c.Hosts {
		fmt.Fprintf(&inv, "%s ansible_host=%s ansible_port=%d\n", h.Name, h.Addr, h.Port)
	}
	fmt.Fprintf(&inv, "[fleet:vars]\nansible_user=root\nansible_ssh_private_key_file=%s\nansible_ssh_known_hosts_file=%s\n", c.ClientKey, c.KnownHosts)
	invPath := filepath.Join(dir, "scale.ini")
	if err := os.WriteFile(invPath, []byte(inv.String()), 0o600); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, cfg.mdoPlay, "-i", invPath, "-f", strconv.Itoa(cfg.forks), pb)
	cmd.Env = append(os.Environ(), "HOME="+dir, "NO_COLOR=1")
	m, err := measured(cmd)
	r.measure = m
	out := m.stdout
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return nil, fmt.Errorf("run on %d hosts: %w: %s", n, err, m.stderr)
	}
	seen := 0
	for _, m := range recapLine.FindAllStringSubmatch(out, -1) {
		seen++
		unr, _ := strconv.Atoi(m[3])
		fail, _ := strconv.Atoi(m[4])
		okN, _ := strconv.Atoi(m[2])
		switch {
		case unr > 0:
			r.unreachable++
		case fail > 0:
			r.failed++
		case okN == 5:
			r.ok++
		}
	}
	if seen != n {
		return nil, fmt.Errorf("run on %d hosts: %d hosts in the recap (exit %v)\n%s\n%s", n, seen, err, tail(out, 20), m.stderr)
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "UNREACHABLE!") {
			r.firstUnreachable = strings.TrimSpace(l)
			if len(r.firstUnreachable) > 200 {
				r.firstUnreachable = r.firstUnreachable[:200] + "..."
			}
			break
		}
	}
	return r, nil
}

func tail(s string, n int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}
