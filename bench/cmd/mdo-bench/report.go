package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Controllers, in the order the table lists them.
const (
	toolFloor      = "floor"
	toolFloorShell = "floor-shell"
	toolMdo        = "mdo-play"
	toolMdoBecome  = "mdo-play-b"
	toolAnsible    = "ansible-playbook"
)

// allTools lists the controllers in the table's order: the exec floor,
// the persistent-shell floor (one sh per host fed framed commands),
// mdo-play, mdo-play with -b (sudo to root, from root), Ansible.
var allTools = []string{toolFloor, toolFloorShell, toolMdo, toolMdoBecome, toolAnsible}

// ratios are the ratio rows of the table.
var ratios = [][2]string{{toolAnsible, toolMdo}, {toolMdo, toolFloor}, {toolMdo, toolFloorShell}, {toolMdoBecome, toolMdo}}

// runName names run 0 (on an empty /srv) and run 1 (the idempotent rerun).
func runName(run int) string { return [2]string{"first", "second"}[run] }

// cell holds the samples of one (N, run, tool).
type cell struct {
	samples []sample
	skipped string // why there are no samples
}

// result holds everything measured at one N.
type result struct {
	N      int
	cells  [2]map[string]*cell // by run, then tool
	checks []string            // verification lines
	failed bool                // a verification failed
}

func newResult(n int) *result {
	r := &result{N: n}
	for i := range r.cells {
		r.cells[i] = map[string]*cell{}
		for _, t := range allTools {
			r.cells[i][t] = &cell{}
		}
	}
	return r
}

// stat is a median with its range.
type stat struct{ med, lo, hi float64 }

func stats(xs []float64) stat {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	med := s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	return stat{med, s[0], s[n-1]}
}

func (c *cell) metric(f func(sample) float64) (stat, bool) {
	if len(c.samples) == 0 {
		return stat{}, false
	}
	xs := make([]float64, len(c.samples))
	for i, s := range c.samples {
		xs[i] = f(s)
	}
	return stats(xs), true
}

// metric is one column of the table.
type metric struct {
	name string
	f    func(sample) float64
	fmt  string
}

func metrics() []metric {
	return []metric{
		{"wall s", func(s sample) float64 { return s.Wall.Seconds() }, "%.2f"},
		{"CPU s (user+sys)", func(s sample) float64 { return s.CPU.Seconds() }, "%.2f"},
		{"peak RSS MB", func(s sample) float64 { return float64(s.MaxRSS) / (1 << 20) }, "%.1f"},
		{"forks/host", func(s sample) float64 { return s.ForksPerHost }, "%.0f"},
	}
}

func (st stat) format(f string) string {
	if st.lo == st.hi {
		return fmt.Sprintf(f, st.med)
	}
	return fmt.Sprintf(f+" ("+f+"–"+f+")", st.med, st.lo, st.hi)
}

// table renders one N's results as markdown.
func (r *result) table(ansibleRef int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### N = %d hosts\n\n", r.N)
	fmt.Fprintf(&b, "| run | controller | %s |\n|---|---|", strings.Join(metricNames(), " | "))
	for range metrics() {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for run, cells := range r.cells {
		for _, tool := range allTools {
			c := cells[tool]
			fmt.Fprintf(&b, "| %s | %s |", runName(run), tool)
			for _, m := range metrics() {
				st, ok := c.metric(m.f)
				switch {
				case ok:
					fmt.Fprintf(&b, " %s |", st.format(m.fmt))
				case c.skipped != "":
					fmt.Fprintf(&b, " %s |", c.skipped)
				default:
					b.WriteString(" – |")
				}
			}
			b.WriteString("\n")
		}
		for _, ratio := range ratios {
			fmt.Fprintf(&b, "| %s | **%s / %s** |", runName(run), ratio[0], ratio[1])
			for _, m := range metrics() {
				num, ok1 := cells[ratio[0]].metric(m.f)
				den, ok2 := cells[ratio[1]].metric(m.f)
				switch {
				case ok1 && ok2 && den.med > 0:
					fmt.Fprintf(&b, " **%.2f×** |", num.med/den.med)
				case ratio[0] == toolAnsible && cells[toolAnsible].skipped == "skipped" && ansibleRef > 0:
					fmt.Fprintf(&b, " skipped (see N=%d ratio) |", ansibleRef)
				default:
					b.WriteString(" – |")
				}
			}
			b.WriteString("\n")
		}
	}
	if len(r.checks) > 0 {
		b.WriteString("\n")
		for _, c := range r.checks {
			fmt.Fprintf(&b, "- %s\n", c)
		}
	}
	return b.String()
}

func metricNames() []string {
	var s []string
	for _, m := range metrics() {
		s = append(s, m.name)
	}
	return s
}

// machine describes the machine, the tools and the date, for RESULTS.md.
func machine(ctx context.Context, mdoPlay string, withAnsible bool) string {
	var b strings.Builder
	cpu := "unknown"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := "unknown"
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			if f := strings.Fields(l); len(f) >= 2 && f[0] == "MemTotal:" {
				var kb float64
				fmt.Sscan(f[1], &kb)
				mem = fmt.Sprintf("%.1f GiB", kb/(1<<20))
			}
		}
	}
	var uts syscall.Utsname
	kernel := "unknown"
	if syscall.Uname(&uts) == nil {
		kernel = cstr(uts.Release[:])
	}
	fmt.Fprintf(&b, "- date: %s\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "- machine: %d CPUs (nproc), %s, %s, %s, Linux %s\n", runtime.NumCPU(), mem, cpu, runtime.GOARCH, kernel)
	fmt.Fprintf(&b, "- Go: %s\n", runtime.Version())
	fmt.Fprintf(&b, "- mdo-play: %s\n", firstLine(ctx, mdoPlay, "version"))
	fmt.Fprintf(&b, "- OpenSSH: %s\n", firstLine(ctx, "ssh", "-V"))
	if withAnsible {
		fmt.Fprintf(&b, "- Ansible: %s, %s\n", firstLine(ctx, "ansible-playbook", "--version"),
			strings.TrimSpace(strings.SplitN(strings.SplitN(grepLine(ctx, "python version", "ansible-playbook", "--version"), "=", 2)[1], "(", 2)[0]))
	}
	return b.String()
}

func cstr(b []int8) string {
	var s []byte
	for _, c := range b {
		if c == 0 {
			break
		}
		s = append(s, byte(c))
	}
	return string(s)
}

func firstLine(ctx context.Context, name string, args ...string) string {
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil && len(out) == 0 {
		return "unknown (" + err.Error() + ")"
	}
	l, _, _ := bytes.Cut(bytes.TrimSpace(out), []byte("\n"))
	return string(l)
}

func grepLine(ctx context.Context, key, name string, args ...string) string {
	out, _ := exec.CommandContext(ctx, name, args...).CombinedOutput()
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, key) {
			return l
		}
	}
	return key + " = unknown"
}
