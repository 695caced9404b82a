package modules

import (
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/mdo-play/mdo-play/modules/conn/sshtest"
)

// One test-host cluster for the whole package (tests that need real sshd
// call hostsOrSkip); it is not started in -short mode.
var (
	testCluster    *sshtest.Cluster
	testClusterErr error
)

func TestMain(m *testing.M) {
	flag.Parse()
	if !testing.Short() {
		testCluster, testClusterErr = sshtest.StartMain(1)
	} else {
		testClusterErr = fmt.Errorf("ssh tests disabled (-short)")
	}
	code := m.Run()
	if err := sshtest.StopMain(testCluster); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}

// hostsOrSkip returns the package's cluster, or fails (CI) or skips t.
func hostsOrSkip(t *testing.T) *sshtest.Cluster {
	t.Helper()
	return sshtest.Require(t, testCluster, testClusterErr)
}
