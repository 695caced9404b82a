package templates

import (
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func TestIPAddrQueries(t *testing.T) {
	cases := []struct {
		fn    string
		v     any
		query string
		want  any
	}{
		{"ipaddr", "192.168.1.10", "", "192.168.1.10"},
		{"ipaddr", "192.168.1.10", "prefix", 32},
		{"ipaddr", "192.168.1.0/24", "address", false},
		{"ipaddr", "192.168.1.0/24", "net", "192.168.1.0/24"},
		{"ipaddr", "192.168.1.10/24", "host", "192.168.1.10/24"},
		{"ipaddr", "192.168.1.10/24", "broadcast", "192.168.1.255"},
		{"ipaddr", "192.168.1.10/24", "size", uint64(256)},
		{"ipaddr", "2001:db8::1/64", "network", "2001:db8::"},
		{"ipaddr", "2001:db8::1/64", "prefix", 64},
		{"ipv4", "2001:db8::1", "", false},
		{"ipv6", "10.0.0.1", "", false},
		{"ipaddr", "10.0.0.1", "private", "10.0.0.1"},
		{"ipaddr", "8.8.8.8", "private", false},
		{"ipaddr", "300.1.1.1", "", false},
		{"ipv4", "192.168.1.10/24", "host/prefix", "192.168.1.10/24"},
		{"ipv4", "192.168.1.0/24", "host/prefix", false},
		{"ipaddr", "192.168.1.10/24", "cidr", "192.168.1.0/24"},
		{"ipaddr", "192.168.1.10/24", "hostmask", "0.0.0.255"},
		{"ipaddr", 42, "", false},
	}
	m := funcMap()
	for _, c := range cases {
		got, err := m[c.fn].(func(...any) (any, error))(c.query, c.v)
		if err != nil {
			t.Errorf("%s(%v, %q): %v", c.fn, c.v, c.query, err)
			continue
		}
		if got != c.want {
			t.Errorf("%s(%v, %q) = %#v, want %#v", c.fn, c.v, c.query, got, c.want)
		}
	}
	if _, err := ipaddrFunc(0)("nonsense", "10.0.0.1"); err == nil || !strings.Contains(err.Error(), "unknown filter type") {
		t.Errorf("unknown query: err = %v", err)
	}
}

func TestSubelementsErrors(t *testing.T) {
	obj := []any{map[string]any{"name": "a"}}
	if _, err := subelements("groups", false, obj); err == nil || !strings.Contains(err.Error(), "could not find 'groups' key") {
		t.Errorf("missing key: err = %v", err)
	}
	got, err := subelements("groups", true, obj)
	if err != nil || len(got) != 0 {
		t.Errorf("skip_missing: %v, %v", got, err)
	}
	if _, err := subelements("name", false, obj); err == nil || !strings.Contains(err.Error(), "should point to a list") {
		t.Errorf("not a list: err = %v", err)
	}
}

func TestPasswordHashBcrypt(t *testing.T) {
	e := New()
	out, err := e.RenderString("", `{{ "secret" | password_hash "bcrypt" }}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "$2b$12$") || len(out) != 60 {
		t.Fatalf("bcrypt hash %q: want $2b$12$ and 60 characters, as passlib writes", out)
	}
	if err := bcrypt.CompareHashAndPassword([]byte(out), []byte("secret")); err != nil {
		t.Errorf("the hash does not verify: %v", err)
	}
	if _, err := e.RenderString("", `{{ "secret" | password_hash "bcrypt" "abcdefghijklmnopqrstuv" }}`, nil); err == nil {
		t.Error("bcrypt with a salt: no error")
	}
}

func TestJSONQueryError(t *testing.T) {
	if _, err := jsonQuery("[?", []any{}); err == nil || !strings.Contains(err.Error(), "JMESPathError") {
		t.Errorf("bad expression: err = %v", err)
	}
}
