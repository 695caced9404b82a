package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/mdo-play/mdo-play/inventory"
	"github.com/mdo-play/mdo-play/modules"
	"github.com/mdo-play/mdo-play/modules/conn"
	"github.com/mdo-play/mdo-play/modules/conn/ssh"
	"github.com/mdo-play/mdo-play/modules/conn/sshtest"
	"github.com/mdo-play/mdo-play/playbook"
	"github.com/mdo-play/mdo-play/playbook/engine"
	"github.com/mdo-play/mdo-play/templates"
)

// sshConnector dials the test hosts with their inventory variables and the
// harness's known_hosts, as cmd/mdo-play does.
type sshConnector struct {
	known string
	kh    *ssh.KnownHosts
}

func (c sshConnector) Connect(ctx context.Context, spec engine.ConnectSpec) (conn.Conn, error) {
	port, err := strconv.Atoi(fmt.Sprint(spec.Vars["ansible_port"]))
	if err != nil {
		return nil, fmt.Errorf("%s: ansible_port: %w", spec.Host, err)
	}
	return ssh.Dial(ctx, ssh.Options{
		Alias:           spec.Host,
		Host:            fmt.Sprint(spec.Vars["ansible_host"]),
		Port:            port,
		User:            "root",
		IdentityFiles:   []string{fmt.Sprint(spec.Vars["ansible_ssh_private_key_file"])},
		SSHConfigFiles:  []string{},
		KnownHostsFiles: []string{c.known},
		KnownHosts:      c.kh,
		HostKeyPolicy:   ssh.Strict,
		PolicySet:       true,
	})
}

func (sshConnector) Become(c conn.Conn, _ engine.BecomeSpec) (conn.Conn, error) { return c, nil }

// BenchmarkRunbookSSH runs the benchmark runbook (runbook/site.yml) in
// process against real sshd test hosts: "first" on an empty /srv, "second"
// as the idempotent rerun. It is the harness for CPU and allocation
// profiles of a real run (mdo-play has no profiling flag):
//
//	go test -run x -bench RunbookSSH -cpuprofile cpu.out -memprofile mem.out ./bench
func BenchmarkRunbookSSH(b *testing.B) {
	for _, n := range []int{10, 50} {
		b.Run(fmt.Sprintf("hosts=%d", n), func(b *testing.B) {
			cl := sshtest.StartT(b, n)
			ctx := context.Background()
			inv, err := inventory.Load(ctx, []string{cl.Inventory}, inventory.Options{})
			if err != nil {
				b.Fatal(err)
			}
			reg := modules.Builtin()
			ld := &playbook.Loader{Registry: reg}
			pb, err := ld.Load(filepath.Join("runbook", "site.yml"))
			if err != nil {
				b.Fatal(err)
			}
			cn := sshConnector{known: cl.KnownHosts, kh: ssh.NewKnownHosts()}
			runbook := func(b *testing.B, wantChanged bool) {
				sink := &countSink{status: map[playbook.Status]int{}}
				r := &engine.Runner{Inventory: inv, Registry: reg, Templates: templates.New(), Connector: cn,
					Sink: sink, Loader: ld, Options: engine.Options{Forks: n}}
				stats, err := r.Run(ctx, []*playbook.Playbook{pb})
				if err != nil {
					b.Fatal(err)
				}
				for h, s := range stats {
					if s.Failed+s.Unreachable > 0 || (s.Changed > 0) != wantChanged {
						b.Fatalf("%s: %+v (want changes: %v)", h, *s, wantChanged)
					}
				}
			}
			wipe, err := ld.Parse("wipe.yml", []byte("- hosts: all\n  gather_facts: false\n  tasks:\n    - raw: find /srv -mindepth 1 -delete\n"))
			if err != nil {
				b.Fatal(err)
			}
			wipeSrv := func(b *testing.B) {
				r := &engine.Runner{Inventory: inv, Registry: reg, Templates: templates.New(), Connector: cn,
					Sink: &countSink{status: map[playbook.Status]int{}}, Loader: ld, Options: engine.Options{Forks: n}}
				if _, err := r.Run(ctx, []*playbook.Playbook{wipe}); err != nil {
					b.Fatal(err)
				}
			}
			b.Run("first", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					b.StopTimer()
					wipeSrv(b)
					b.StartTimer()
					runbook(b, true)
				}
			})
			b.Run("second", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					runbook(b, false)
				}
			})
		})
	}
}
