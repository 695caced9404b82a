package modules

import (
	"reflect"
	"testing"
)

// TestGetent looks records up through the real Conn (local and a test
// host): colon-split databases, whitespace-split ones, repeated keys,
// missing keys with and without fail_key, an unknown database.
func TestGetent(t *testing.T) {
	for tn, c := range sysTargets(t) {
		t.Run(tn, func(t *testing.T) {
			steps := []struct {
				what   string
				raw    map[string]any
				failed bool
				msg    string
				fact   string
				key    string
				want   any
			}{
				{"passwd root", map[string]any{"database": "passwd", "key": "root"}, false, "", "getent_passwd", "root",
					[]any{"x", "0", "0", "root", "/root", "/bin/bash"}},
				{"group by gid", map[string]any{"database": "group", "key": "0"}, false, "", "getent_group", "root", []any{"x", "0", ""}},
				{"custom split", map[string]any{"database": "passwd", "key": "root", "split": "/"}, false, "", "getent_passwd", "root:x:0:0:root:",
					[]any{"root:", "bin", "bash"}},
				{"whitespace split", map[string]any{"database": "hosts", "key": "127.0.0.1"}, false, "", "getent_hosts", "127.0.0.1", []any{"localhost"}},
				{"missing key", map[string]any{"database": "passwd", "key": "mdo-no-such-user"}, true, "One or more supplied key could not be found in the database.", "", "", nil},
				{"missing key ok", map[string]any{"database": "passwd", "key": "mdo-no-such-user", "fail_key": "no"}, false, "One or more supplied key could not be found in the database.", "getent_passwd", "mdo-no-such-user", nil},
				{"unknown database", map[string]any{"database": "nosuchdb"}, true, "Missing arguments, or database unknown.", "", "", nil},
			}
			for _, s := range steps {
				res, trips := sysRun(t, c, Getent{}, true, false, s.raw)
				sysExpect(t, s.what, res, false, s.failed, s.msg)
				if trips != 1 {
					t.Errorf("%s: %d round trips, want 1", s.what, trips)
				}
				if s.fact == "" {
					continue
				}
				recs, ok := res.Facts[s.fact].(map[string]any)
				if !ok {
					t.Fatalf("%s: facts %v", s.what, res.Facts)
				}
				got, ok := recs[s.key]
				if !ok {
					t.Errorf("%s: no record %q in %v", s.what, s.key, recs)
					continue
				}
				if s.what == "passwd root" {
					// The shell may differ between machines: compare the rest.
					got = append(got.([]any)[:5:5], "/bin/bash")
				}
				if s.what == "whitespace split" {
					got = got.([]any)[:1]
				}
				if !reflect.DeepEqual(got, s.want) {
					t.Errorf("%s: %s[%q] = %#v, want %#v", s.what, s.fact, s.key, got, s.want)
				}
			}
		})
	}
}

// TestGetentRepeatedKey checks how a key seen twice is stored: a list of
// the records, as Ansible stores it.
func TestGetentRepeatedKey(t *testing.T) {
	dir := t.TempDir()
	c := localConn()
	sysSh(t, c, "mkdir -p "+dir+"/bin && printf '#!/bin/sh\\necho \"a 1\"; echo \"a 2\"; echo \"a 3\"; echo \"b 4\"\\n' >"+dir+"/bin/getent && chmod +x "+dir+"/bin/getent")
	res, _ := sysRun(t, &prefixConn{Conn: c, prefix: "PATH=" + dir + "/bin:$PATH"}, Getent{}, false, false, map[string]any{"database": "hosts"})
	want := map[string]any{"a": []any{[]any{"1"}, []any{"2"}, []any{"3"}}, "b": []any{"4"}}
	if got := res.Facts["getent_hosts"]; !reflect.DeepEqual(got, want) {
		t.Errorf("getent_hosts = %#v, want %#v", got, want)
	}
}
