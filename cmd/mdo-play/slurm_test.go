package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSlurmArrayRollout runs one rollout as four slices on a real workload
// manager: it starts a one-node Slurm cluster on this machine (munged,
// slurmctld and slurmd on localhost, a generated slurm.conf in a temporary
// directory), submits `sbatch --array=0-3` whose tasks run `mdo-play
// --slice auto --output json`, and a job that depends on it and merges the
// four event files into one recap of every host; it waits for both. It needs root and the Debian
// packages slurm-wlm and munge; it runs when MDO_SLURM_TEST=1 (make slurm),
// and then fails rather than skips when it cannot.
func TestSlurmArrayRollout(t *testing.T) {
	if os.Getenv("MDO_SLURM_TEST") == "" {
		t.Skip("starts a Slurm cluster: run with MDO_SLURM_TEST=1 (make slurm)")
	}
	if os.Geteuid() != 0 {
		t.Fatal("needs root: slurmd starts the array's tasks as the submitting user, and munged and slurmctld run as root here")
	}
	bins := map[string]string{}
	for _, name := range []string{"munged", "munge", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo", "scontrol", "scancel"} {
		p, err := exec.LookPath(name)
		if err != nil {
			for _, dir := range []string{"/usr/sbin", "/usr/bin"} {
				if _, serr := os.Stat(filepath.Join(dir, name)); serr == nil {
					p, err = filepath.Join(dir, name), nil
				}
			}
		}
		if err != nil {
			t.Fatalf("%s not found: apt-get install slurm-wlm munge (make slurm does)", name)
		}
		bins[name] = p
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	dir := t.TempDir()

	// The mdo-play the array's tasks run.
	bin := filepath.Join(dir, "mdo-play")
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go not on PATH: %v", err)
	}
	build := exec.CommandContext(ctx, goBin, "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build mdo-play: %v\n%s", err, out)
	}

	// A rollout over eight local hosts: each writes a marker file, h7 fails.
	var inv strings.Builder
	inv.WriteString("[fleet]\n")
	for i := 1; i <= 8; i++ {
		fmt.Fprintf(&inv, "h%d\n", i)
	}
	inv.WriteString("\n[all:vars]\nansible_connection=local\n")
	writeFile(t, dir, "hosts", inv.String())
	marks := filepath.Join(dir, "marks")
	if err := os.Mkdir(marks, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "site.yml", `- name: Rollout
  hosts: fleet
  gather_facts: false
  tasks:
    - name: Mark the host
      copy:
        content: "{{ .inventory_hostname }}\n"
        dest: "`+marks+`/{{ .inventory_hostname }}"
    - name: h7 is broken
      assert:
        that: ne .inventory_hostname "h7"
    - name: Done
      command: echo done
`)

	start := time.Now()
	c := startSlurm(ctx, t, dir, bins)
	t.Logf("one-node Slurm cluster up in %v", time.Since(start).Round(time.Millisecond))

	// The array: four tasks, each one slice, events to one file each.
	// The array and the merge after it, as docs/scale.md shows them: four
	// tasks, each one slice writing its events to a file of its own; then,
	// once every task has ended (afterany), mdo-play merge of the four.
	if err := os.Mkdir(filepath.Join(dir, "events"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "rollout.sbatch", `#!/bin/sh
#SBATCH --job-name=site-rollout
#SBATCH --time=5
exec `+bin+` -i hosts site.yml --slice auto --output json \
    > events/$SLURM_ARRAY_JOB_ID-$SLURM_ARRAY_TASK_ID.json
`)
	writeFile(t, dir, "merge.sbatch", `#!/bin/sh
#SBATCH --job-name=site-rollout-merge
#SBATCH --time=5
exec `+bin+` merge events/$ROLLOUT-*.json
`)
	out := c.run(ctx, t, bins["sbatch"], "--parsable", "--array=0-3", "--chdir="+dir, "--output="+dir+"/rollout-%A_%a.log", dir+"/rollout.sbatch")
	rollout := strings.TrimSpace(strings.Split(out, ";")[0])
	if _, err := strconv.Atoi(rollout); err != nil {
		t.Fatalf("sbatch printed %q, not a job id", out)
	}
	t.Cleanup(func() { _ = exec.Command(bins["scancel"], rollout).Run() })
	submitted := time.Now()
	out = c.run(ctx, t, bins["sbatch"], "--parsable", "--dependency=afterany:"+rollout, "--export=ALL,ROLLOUT="+rollout,
		"--chdir="+dir, "--output="+dir+"/merge.out", "--error="+dir+"/merge.err", dir+"/merge.sbatch")
	merge := strings.TrimSpace(strings.Split(out, ";")[0])
	t.Cleanup(func() { _ = exec.Command(bins["scancel"], merge).Run() })

	// Wait for both: poll squeue until none of their tasks is queued or
	// running, within a deadline.
	deadline := time.Now().Add(3 * time.Minute)
	for {
		q := c.run(ctx, t, bins["squeue"], "-h", "-j", rollout+","+merge, "-o", "%i %T")
		if strings.TrimSpace(q) == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("jobs %s, %s still queued or running after 3 minutes:\n%s\n%s", rollout, merge, q, c.logs())
		}
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
	t.Logf("array job %s (4 tasks) and merge job %s finished %v after submission", rollout, merge, time.Since(submitted).Round(time.Millisecond))

	// Each task ended as its slice's run did: exit 2 for the slice with h7
	// (h7 is the 7th host: slice 3 of 4), 0 for the others; the merge with
	// the worst, 2.
	re := regexp.MustCompile(`JobId=\d+ (?:ArrayJobId=\d+ ArrayTaskId=(\d+) )?.*?JobState=(\S+) .*?ExitCode=(\S+)`)
	states := map[string]string{}
	show := c.run(ctx, t, bins["scontrol"], "-o", "show", "job", rollout) + c.run(ctx, t, bins["scontrol"], "-o", "show", "job", merge)
	for _, m := range re.FindAllStringSubmatch(show, -1) {
		task := m[1]
		if task == "" {
			task = "merge"
		}
		states[task] = m[2] + " " + m[3]
	}
	want := map[string]string{"0": "COMPLETED 0:0", "1": "COMPLETED 0:0", "2": "FAILED 2:0", "3": "COMPLETED 0:0", "merge": "FAILED 2:0"}
	for task, w := range want {
		if states[task] != w {
			t.Errorf("%s: %q, want %q\n%s\n%s", task, states[task], w, show, c.logs())
		}
	}

	stdout, stderr := mustRead(t, filepath.Join(dir, "merge.out")), mustRead(t, filepath.Join(dir, "merge.err"))
	if stderr != "" {
		t.Errorf("merge reported problems:\n%s", stderr)
	}
	for i := 1; i <= 8; i++ {
		h := fmt.Sprintf("h%d", i)
		if h == "h7" {
			wantRecap(t, stdout, h, "ok=1", "changed=1", "failed=1")
		} else {
			wantRecap(t, stdout, h, "ok=3", "changed=2", "failed=0")
		}
		if got, err := os.ReadFile(filepath.Join(marks, h)); err != nil || string(got) != h+"\n" {
			t.Errorf("marker of %s: %q, %v", h, got, err)
		}
	}
	for _, banner := range []string{"PLAY [Rollout]", "TASK [Mark the host]", "TASK [Done]", "PLAY RECAP"} {
		if n := strings.Count(stdout, banner+" "); n != 1 {
			t.Errorf("%q shown %d times, want once:\n%s", banner, n, stdout)
		}
	}
	t.Logf("merge job's output:\n%s", stdout)
}

// slurmCluster is a one-node Slurm cluster started by the test.
type slurmCluster struct {
	dir string
	env []string // SLURM_CONF for the client commands
}

// startSlurm starts munged, slurmctld and slurmd (each in the foreground,
// as children of the test, stopped at cleanup) and waits until the node is
// idle. Process tracking by /proc (proctrack/linuxproc) and no task plugin
// keep it independent of systemd and cgroups.
func startSlurm(ctx context.Context, t *testing.T, dir string, bins map[string]string) *slurmCluster {
	t.Helper()
	c := &slurmCluster{dir: dir, env: append(os.Environ(), "SLURM_CONF="+filepath.Join(dir, "slurm.conf"))}
	key := make([]byte, 1024)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "munge.key"), key, 0o400); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "munge.sock")
	c.daemon(t, "munged", bins["munged"], "--foreground", "--force", "--socket="+sock,
		"--key-file="+filepath.Join(dir, "munge.key"), "--pid-file="+filepath.Join(dir, "munged.pid"),
		"--seed-file="+filepath.Join(dir, "munged.seed"), "--log-file="+filepath.Join(dir, "munged.log"))
	c.await(ctx, t, "munged to answer", func() bool {
		return exec.CommandContext(ctx, bins["munge"], "-n", "-S", sock).Run() == nil
	})

	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	host, _, _ = strings.Cut(host, ".")
	for _, d := range []string{"state", "spool"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	conf := fmt.Sprintf(`ClusterName=mdotest
SlurmctldHost=%[1]s(127.0.0.1)
SlurmctldPort=%[2]d
SlurmdPort=%[3]d
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=%[4]s
CredType=cred/munge
StateSaveLocation=%[5]s/state
SlurmdSpoolDir=%[5]s/spool
SlurmctldPidFile=%[5]s/slurmctld.pid
SlurmdPidFile=%[5]s/slurmd.pid
SlurmctldLogFile=%[5]s/slurmctld.log
SlurmdLogFile=%[5]s/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
SwitchType=switch/none
ReturnToService=2
MinJobAge=600
NodeName=mdotest1 NodeAddr=127.0.0.1 CPUs=%[6]d State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
`, host, freePort(t), freePort(t), sock, dir, runtime.NumCPU())
	writeFile(t, dir, "slurm.conf", conf)
	c.daemon(t, "slurmctld", bins["slurmctld"], "-D", "-i", "-f", filepath.Join(dir, "slurm.conf"))
	c.daemon(t, "slurmd", bins["slurmd"], "-D", "-N", "mdotest1", "-f", filepath.Join(dir, "slurm.conf"))
	c.await(ctx, t, "the node to be idle", func() bool {
		cmd := exec.CommandContext(ctx, bins["sinfo"], "-h", "-N", "-o", "%T")
		cmd.Env = c.env
		out, err := cmd.Output()
		return err == nil && strings.TrimSpace(string(out)) == "idle"
	})
	return c
}

// daemon starts a foreground daemon; cleanup stops it (SIGTERM, then SIGKILL
// after 10 s) and waits for it.
func (c *slurmCluster) daemon(t *testing.T, name, path string, args ...string) {
	t.Helper()
	logf, err := os.Create(filepath.Join(c.dir, name+".out"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path, args...)
	cmd.Env = c.env
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait(); logf.Close() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			t.Errorf("%s did not stop on SIGTERM within 10s: killed", name)
		}
	})
}

// await polls cond until it holds, for at most a minute.
func (c *slurmCluster) await(ctx context.Context, t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) || ctx.Err() != nil {
			t.Fatalf("gave up waiting for %s after a minute\n%s", what, c.logs())
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// run runs a Slurm client command against the cluster.
func (c *slurmCluster) run(ctx context.Context, t *testing.T, path string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = c.env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s\n%s", filepath.Base(path), strings.Join(args, " "), err, stderr.String(), c.logs())
	}
	return string(out)
}

// logs returns the end of each daemon's log, for a failure message.
func (c *slurmCluster) logs() string {
	var b strings.Builder
	for _, name := range []string{"munged.out", "slurmctld.out", "slurmctld.log", "slurmd.out", "slurmd.log"} {
		data, err := os.ReadFile(filepath.Join(c.dir, name))
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		if len(lines) > 20 {
			lines = lines[len(lines)-20:]
		}
		fmt.Fprintf(&b, "--- %s\n%s\n", name, strings.Join(lines, "\n"))
	}
	return b.String()
}

// freePort returns a TCP port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
