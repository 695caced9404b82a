package conn_test

import (
	"context"
	"testing"

	"github.com/mdo-play/mdo-play/modules/conn"
	"github.com/mdo-play/mdo-play/modules/conn/local"
)

func TestWithEnv(t *testing.T) {
	c := conn.WithEnv(local.New(), map[string]string{"MDO_A": "wrapper", "MDO_B": "wrapper"})
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"wrapper's", nil, "wrapper wrapper\n"},
		{"the command's wins", map[string]string{"MDO_B": "command"}, "wrapper command\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := c.Exec(context.Background(), conn.Command{Script: `echo "$MDO_A $MDO_B"`, Env: tc.env})
			if err != nil || string(res.Stdout) != tc.want {
				t.Errorf("got %q, %v; want %q", res.Stdout, err, tc.want)
			}
		})
	}
}
