package conn

import "testing"

func TestParseID(t *testing.T) {
	tests := []struct {
		out                   string
		uid, gid, user, group string
		bad                   bool
	}{
		{out: "uid=0(root) gid=0(root) groups=0(root)\n", uid: "0", gid: "0", user: "root", group: "root"},
		{out: "uid=1000(app) gid=100(users) groups=100(users),27(sudo)", uid: "1000", gid: "100", user: "app", group: "users"},
		{out: "uid=4321 gid=4322 groups=4322", uid: "4321", gid: "4322"},
		{out: "uid=1000(app)", bad: true},
		{out: "gid=0(root) uid=0(root)", bad: true},
		{out: "uid=x(root) gid=0(root)", bad: true},
		{out: "uid=0(root gid=0(root)", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.out, func(t *testing.T) {
			u, g, err := ParseID(tt.out)
			if tt.bad {
				if err == nil {
					t.Fatalf("ParseID accepted %q: %+v %+v", tt.out, u, g)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if u.Uid != tt.uid || u.Gid != tt.gid || u.Username != tt.user || g.Gid != tt.gid || g.Name != tt.group {
				t.Errorf("got %+v %+v", u, g)
			}
		})
	}
}
