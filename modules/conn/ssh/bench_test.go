package ssh_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mdo-play/mdo-play/modules/conn"
	"github.com/mdo-play/mdo-play/modules/conn/ssh"
	"github.com/mdo-play/mdo-play/modules/conn/sshtest"
)

// BenchmarkExec compares a new session per command with the persistent
// shells, for a trivial command, one with output and one with stdin: each
// mode alone, one command at a time and from 4 goroutines, and both modes
// interleaved, which reports each one's median (session-ms, shell-ms) so
// that the load of a busy machine hits both alike.
func BenchmarkExec(b *testing.B) {
	c := sshtest.Require(b, cluster, clusterErr)
	cmds := []struct {
		name string
		cmd  conn.Command
		out  string
	}{
		{"true", conn.Command{Script: "true"}, ""},
		{"echo", conn.Command{Script: "echo hello"}, "hello\n"},
		{"stdin", conn.Command{Script: "cat", Stdin: []byte(strings.Repeat("x", 1000))}, strings.Repeat("x", 1000)},
	}
	clients := map[ssh.ExecMode]*ssh.Client{}
	for _, mode := range []ssh.ExecMode{ssh.SessionPerCommand, ssh.PersistentShell} {
		o := ssh.Options{
			Alias: c.Hosts[0].Name, Host: c.Hosts[0].Addr, Port: c.Hosts[0].Port, User: "root",
			IdentityFiles: []string{c.ClientKey}, KnownHostsFiles: []string{c.KnownHosts},
			SSHConfigFiles: []string{}, ExecMode: mode,
		}
		cl, err := ssh.Dial(context.Background(), o)
		if err != nil {
			b.Fatal(err)
		}
		defer cl.Close()
		clients[mode] = cl
	}
	names := map[ssh.ExecMode]string{ssh.SessionPerCommand: "session", ssh.PersistentShell: "shell"}
	for _, tc := range cmds {
		exec := func(b *testing.B, cl *ssh.Client) {
			res, err := cl.Exec(context.Background(), tc.cmd)
			if err != nil || res.RC != 0 || string(res.Stdout) != tc.out {
				b.Fatalf("exec: %v, rc %d, stdout %q", err, res.RC, res.Stdout)
			}
		}
		for _, mode := range []ssh.ExecMode{ssh.SessionPerCommand, ssh.PersistentShell} {
			cl := clients[mode]
			b.Run(names[mode]+"/"+tc.name, func(b *testing.B) {
				exec(b, cl) // start a shell outside the measurement
				for b.Loop() {
					exec(b, cl)
				}
			})
			b.Run(names[mode]+"/"+tc.name+"/parallel", func(b *testing.B) {
				b.SetParallelism(2) // 4 goroutines on 2 cores: the shell pool's size
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						exec(b, cl)
					}
				})
			})
		}
		b.Run("interleaved/"+tc.name, func(b *testing.B) {
			var ds, dp []time.Duration
			for b.Loop() {
				start := time.Now()
				exec(b, clients[ssh.SessionPerCommand])
				mid := time.Now()
				exec(b, clients[ssh.PersistentShell])
				ds, dp = append(ds, mid.Sub(start)), append(dp, time.Since(mid))
			}
			b.ReportMetric(median(ds), "session-ms")
			b.ReportMetric(median(dp), "shell-ms")
		})
	}
}

func median(d []time.Duration) float64 {
	slices.Sort(d)
	return float64(d[len(d)/2]) / float64(time.Millisecond)
}
