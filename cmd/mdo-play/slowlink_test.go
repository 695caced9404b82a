package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/mdo-play/mdo-play/modules/conn/sshtest"
)

// slowProxy forwards TCP connections to target over a "slow link": every
// chunk is delayed (latency plus jitter) and cut into small segments, so
// SSH packets arrive late and in pieces. The kernel here has no netem
// qdisc (tc reports "Specified qdisc kind is unknown"), so the delay is
// added in user space; packet loss cannot be staged this way (TCP hides it).
type slowProxy struct {
	ln     net.Listener
	target string
	delay  time.Duration
	wg     sync.WaitGroup
}

func startSlowProxy(t *testing.T, target string, delay time.Duration) *slowProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &slowProxy{ln: ln, target: target, delay: delay}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() {
		ln.Close()
		p.wg.Wait()
	})
	return p
}

func (p *slowProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.wg.Add(2)
		go p.pipe(c, s)
		go p.pipe(s, c)
	}
}

// pipe copies src to dst in segments of at most 512 bytes, each sent after
// the link's delay with up to 50% jitter.
func (p *slowProxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	defer dst.Close()
	buf := make([]byte, 512)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			time.Sleep(p.delay + time.Duration(rand.Int64N(int64(p.delay/2)+1))) // the link's latency, not synchronisation
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if err != io.EOF {
				return
			}
			if tc, ok := dst.(*net.TCPConn); ok {
				tc.CloseWrite()
			}
			return
		}
	}
}

// TestSlowLink runs the basic end-to-end case over SSH through a link with
// 10-15 ms per segment each way: the output must be exactly the local one.
func TestSlowLink(t *testing.T) {
	c := sshtest.StartT(t, 3)
	root := repoRoot(t)
	dir := t.TempDir()
	var inv, kh string
	for i, name := range []string{"web1 http_port=8080", "web2 http_port=8081", "db1"} {
		h := c.Hosts[i]
		p := startSlowProxy(t, h.HostPort(), 10*time.Millisecond)
		addr := p.ln.Addr().(*net.TCPAddr)
		inv += fmt.Sprintf("%s ansible_host=127.0.0.1 ansible_port=%d\n", name, addr.Port)
		kh += knownhosts.Line([]string{knownhosts.Normalize(addr.String())}, h.HostKey) + "\n"
	}
	inv = "[web]\n" + inv + fmt.Sprintf(`[web:vars]
role=frontend
[all:vars]
ansible_user=root
ansible_ssh_private_key_file=%s
ansible_ssh_known_hosts_file=%s
env=test
`, c.ClientKey, filepath.Join(dir, "known_hosts"))
	// web1 and web2 are in [web]; db1 must be in [db] as in local.ini.
	inv = strings.Replace(inv, "db1 ", "\n[db]\ndb1 ", 1)
	if err := os.WriteFile(filepath.Join(dir, "known_hosts"), []byte(kh), 0o600); err != nil {
		t.Fatal(err)
	}
	invPath := filepath.Join(dir, "slow.ini")
	if err := os.WriteFile(invPath, []byte(inv), 0o644); err != nil {
		t.Fatal(err)
	}
	local := filepath.Join(root, "testdata/inventories/local.ini")
	start := time.Now()
	for _, tc := range goldenCases(root, invPath) {
		if tc.name == "basic" || tc.name == "failures" {
			t.Run(tc.name, func(t *testing.T) { runGolden(t, tc, root, map[string]string{invPath: local}) })
		}
	}
	t.Logf("over the slow link: %s", time.Since(start))
}
