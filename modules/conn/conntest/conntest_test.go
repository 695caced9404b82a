package conntest_test

import (
	"testing"

	"github.com/mdo-play/mdo-play/modules/conn"
	"github.com/mdo-play/mdo-play/modules/conn/conntest"
	"github.com/mdo-play/mdo-play/modules/conn/local"
)

// TestLocal holds the local connection to the contract; the ssh and become
// packages run the suite against real sshd hosts.
func TestLocal(t *testing.T) {
	conntest.Run(t, func(t *testing.T) (conn.Conn, string) {
		c := local.New()
		t.Cleanup(func() { c.Close() })
		return c, t.TempDir()
	})
}

// TestLocalWithEnv: the environment wrapper over local keeps the contract.
func TestLocalWithEnv(t *testing.T) {
	conntest.Run(t, func(t *testing.T) (conn.Conn, string) {
		c := conn.WithEnv(local.New(), map[string]string{"MDO_CONNTEST": "1"})
		t.Cleanup(func() { c.Close() })
		return c, t.TempDir()
	})
}
