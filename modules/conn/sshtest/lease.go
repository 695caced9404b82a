package sshtest

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockDir holds one lock file per leased 127.X.Y/24 range, shared by every
// process on the machine that starts test hosts.
const lockDir = "/tmp/mdo-sshtest"

// subnetLease is an exclusively held 127.X.Y range: its flock is held until
// release (or until the process dies, when the kernel drops it).
type subnetLease struct {
	subnet string
	dir    string // world-readable scratch dir for this range
	lock   *os.File
}

// leaseSubnet takes the first free 127.X.Y range (X in 100..254), starting
// at a point derived from the pid so that parallel test packages rarely
// contend for the same lock.
func leaseSubnet() (*subnetLease, error) {
	if err := os.MkdirAll(lockDir, 0o755); err != nil {
		return nil, fmt.Errorf("lease address range: %w", err)
	}
	const n = 155 * 256
	start := (os.Getpid() * 7919) % n
	for i := 0; i < n; i++ {
		k := (start + i) % n
		subnet := fmt.Sprintf("127.%d.%d", 100+k/256, k%256)
		f, err := os.OpenFile(filepath.Join(lockDir, subnet+".lock"), os.O_CREATE|os.O_RDWR, 0o644)
		if err != nil {
			return nil, fmt.Errorf("lease address range: %w", err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			f.Close()
			continue
		}
		dir := filepath.Join(lockDir, subnet)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			f.Close()
			return nil, fmt.Errorf("lease address range: %w", err)
		}
		return &subnetLease{subnet: subnet, dir: dir, lock: f}, nil
	}
	return nil, fmt.Errorf("lease address range: all 127.100-254.* ranges are in use")
}

// release removes the range's scratch files and unlocks it.
func (l *subnetLease) release() error {
	err := os.RemoveAll(l.dir)
	if cerr := l.lock.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("release %s: %w", l.subnet, err)
	}
	return nil
}
