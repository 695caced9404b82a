package modules

import (
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
)

// listen starts a TCP server on 127.0.0.1 that writes banner to every
// connection and closes it; it stops when the test ends.
func listen(t *testing.T, banner string) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { l.Close(); <-done })
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Write([]byte(banner))
			c.Close()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return p
}

// TestWaitFor waits for ports served by this test process (test hosts
// share the machine's network) and for paths, locally and over SSH.
func TestWaitFor(t *testing.T) {
	open := listen(t, "SSH-2.0-mdo_7.4 hello\r\n")
	closed := closedPort(t)
	for tn, c := range sysTargets(t) {
		t.Run(tn, func(t *testing.T) {
			dir := t.TempDir()
			ready := filepath.Join(dir, "ready")
			if err := os.WriteFile(ready, []byte("starting\nready on port 8080\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			cases := []struct {
				name   string
				raw    map[string]any
				failed bool
				msg    string
				groups []string
				dict   map[string]any
			}{
				{"port started", map[string]any{"port": open, "timeout": 10}, false, "", []string{}, map[string]any{}},
				{"port search", map[string]any{"port": open, "search_regex": `OpenSSH|mdo_(\d+)\.(?P<minor>\d+)`, "timeout": 10, "connect_timeout": 2}, false, "",
					[]string{"7", "4"}, map[string]any{"minor": "4"}},
				{"port stopped", map[string]any{"port": closed, "state": "stopped", "timeout": 10}, false, "", []string{}, map[string]any{}},
				{"port drained", map[string]any{"port": closed, "state": "drained", "timeout": 10}, false, "", []string{}, map[string]any{}},
				{"port timeout", map[string]any{"port": closed, "timeout": 1, "host": "127.0.0.1"}, true, "Timeout when waiting for 127.0.0.1:" + strconv.Itoa(closed), nil, nil},
				{"custom msg", map[string]any{"port": closed, "timeout": 1, "msg": "app did not come up"}, true, "app did not come up", nil, nil},
				{"path present", map[string]any{"path": ready, "timeout": 5}, false, "", []string{}, map[string]any{}},
				{"path search", map[string]any{"path": ready, "search_regex": `ready on port (?P<port>\d+)`, "timeout": 5}, false, "", []string{"8080"}, map[string]any{"port": "8080"}},
				{"path absent", map[string]any{"path": filepath.Join(dir, "nope"), "state": "absent", "timeout": 5}, false, "", []string{}, map[string]any{}},
				{"path timeout", map[string]any{"path": filepath.Join(dir, "nope"), "timeout": 1}, true, "Timeout when waiting for file " + filepath.Join(dir, "nope"), nil, nil},
				{"search timeout", map[string]any{"path": ready, "search_regex": "never", "timeout": 1}, true, "Timeout when waiting for search string never in " + ready, nil, nil},
				{"port and path", map[string]any{"port": 1, "path": ready}, true, "port and path parameter can not both be passed to wait_for", nil, nil},
				{"stopped path", map[string]any{"path": ready, "state": "stopped"}, true, "state=stopped should only be used for checking a port", nil, nil},
				{"bad state name", map[string]any{"port": 1, "state": "drained", "active_connection_states": "BOGUS"}, true, "unknown active_connection_state (BOGUS) defined", nil, nil},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					res, trips := sysRun(t, c, WaitFor{}, true, false, tc.raw)
					sysExpect(t, tc.name, res, false, tc.failed, tc.msg)
					if trips > 1 {
						t.Errorf("%d round trips, want at most 1", trips)
					}
					if tc.failed {
						if tc.msg[:7] == "Timeout" && res.Values["elapsed"].(int) < 1 {
							t.Errorf("elapsed %v, want >= 1", res.Values["elapsed"])
						}
						return
					}
					if !reflect.DeepEqual(res.Values["match_groups"], tc.groups) || !reflect.DeepEqual(res.Values["match_groupdict"], tc.dict) {
						t.Errorf("groups %#v %#v, want %#v %#v", res.Values["match_groups"], res.Values["match_groupdict"], tc.groups, tc.dict)
					}
				})
			}
		})
	}
}

func TestEREFromPython(t *testing.T) {
	if got := ereFromPython(`(?P<v>\d+)\.(?:x|\D)`); got != `([0-9]+)\.(x|[^0-9])` {
		t.Errorf("got %q", got)
	}
}
