package ssh_test

import (
	"context"
	"strings"
	"testing"

	"github.com/mdo-play/mdo-play/modules/conn"
	"github.com/mdo-play/mdo-play/modules/conn/ssh"
	"github.com/mdo-play/mdo-play/modules/conn/sshtest"
)

// BenchmarkExec compares a new session per command with the persistent
// shells, for a trivial command, one with output and one with stdin, run
// one at a time and from several goroutines.
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
	for _, mode := range []struct {
		name string
		mode ssh.ExecMode
	}{{"session", ssh.SessionPerCommand}, {"shell", ssh.PersistentShell}} {
		o := ssh.Options{
			Alias: c.Hosts[0].Name, Host: c.Hosts[0].Addr, Port: c.Hosts[0].Port, User: "root",
			IdentityFiles: []string{c.ClientKey}, KnownHostsFiles: []string{c.KnownHosts},
			SSHConfigFiles: []string{}, ExecMode: mode.mode,
		}
		cl, err := ssh.Dial(context.Background(), o)
		if err != nil {
			b.Fatal(err)
		}
		for _, tc := range cmds {
			exec := func(b *testing.B) {
				res, err := cl.Exec(context.Background(), tc.cmd)
				if err != nil || res.RC != 0 || string(res.Stdout) != tc.out {
					b.Fatalf("exec: %v, rc %d, stdout %q", err, res.RC, res.Stdout)
				}
			}
			b.Run(mode.name+"/"+tc.name, func(b *testing.B) {
				exec(b) // start the shell outside the measurement
				for b.Loop() {
					exec(b)
				}
			})
			b.Run(mode.name+"/"+tc.name+"/parallel", func(b *testing.B) {
				b.SetParallelism(2) // 4 goroutines on 2 cores: the shell pool's size
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						exec(b)
					}
				})
			})
		}
		cl.Close()
	}
}
