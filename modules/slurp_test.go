package modules

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/mdo-play/mdo-play/modules/conn"
)

func TestSlurp(t *testing.T) {
	for _, tm := range fileTargets(t) {
		t.Run(tm.name, func(t *testing.T) {
			tg := tm.mk(t)
			bin := "a\x00b\xff\n\nno newline"
			setup(t, tg, map[string]string{"app.conf": "port=1\n", "odd $(x) 'n'": "odd", "d/": "", "empty": "", "dangling": "@nope"})
			sh(t, tg.c, "printf 'a\\000b\\377\\n\\nno newline' > "+conn.Quote(tg.dir+"/bin"))
			// A path through ~ that reaches the test directory, so that the
			// script's expansion is used on every target.
			home := strings.TrimSpace(sh(t, tg.c, "echo ~"))
			tilde := "~/" + strings.Repeat("../", strings.Count(strings.Trim(home, "/"), "/")+1) + strings.TrimPrefix(tg.dir, "/")
			tests := []struct {
				name    string
				src     string
				content string
				source  string
				msg     string // failure message, DIR for the directory
				trips   int
			}{
				{name: "text", src: "DIR/app.conf", content: "port=1\n", source: "DIR/app.conf", trips: 1},
				{name: "binary", src: "DIR/bin", content: bin, source: "DIR/bin", trips: 1},
				{name: "empty", src: "DIR/empty", content: "", source: "DIR/empty", trips: 1},
				{name: "hostile name", src: "DIR/odd $(x) 'n'", content: "odd", source: "DIR/odd $(x) 'n'", trips: 1},
				{name: "tilde", src: tilde + "/bin", content: bin, source: mask(home+"/"+strings.TrimPrefix(tilde, "~/")+"/bin", tg.dir), trips: 1},
				{name: "missing", src: "DIR/nope", msg: "file not found: DIR/nope", trips: 2},
				{name: "dangling link", src: "DIR/dangling", msg: "file not found: DIR/dangling", trips: 2},
				{name: "directory", src: "DIR/d", msg: "source is a directory and must be a file: DIR/d", trips: 2},
				{name: "tilde missing", src: tilde + "/nope", msg: "file not found: ", trips: 1},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					for _, check := range []bool{false, true} {
						r, trips := runOn(t, tg, Slurp{}, Env{Check: check}, map[string]any{"src": tt.src})
						if r.Changed || trips != tt.trips {
							t.Errorf("check=%v: changed=%v trips=%d, want unchanged in %d", check, r.Changed, trips, tt.trips)
						}
						if tt.msg != "" {
							if !r.Failed || !strings.HasPrefix(mask(r.Msg, tg.dir), tt.msg) {
								t.Errorf("failed=%v msg=%q, want %q", r.Failed, r.Msg, tt.msg)
							}
							continue
						}
						got, err := base64.StdEncoding.DecodeString(r.Values["content"].(string))
						if r.Failed || err != nil || string(got) != tt.content {
							t.Errorf("failed=%v msg=%q content %q (%v), want %q", r.Failed, r.Msg, got, err, tt.content)
						}
						if r.Values["encoding"] != "base64" || mask(r.Values["source"].(string), tg.dir) != tt.source {
							t.Errorf("encoding %v source %v, want base64 and %s", r.Values["encoding"], r.Values["source"], tt.source)
						}
					}
				})
			}
		})
	}
}

func TestSlurpAlias(t *testing.T) {
	args, err := Slurp{}.Spec().Normalize(map[string]any{"path": "/etc/hostname"})
	if err != nil || args.String("src") != "/etc/hostname" {
		t.Errorf("path alias: %v, %v", args, err)
	}
	if _, err := (Slurp{}).Spec().Normalize(map[string]any{}); err == nil || !strings.Contains(err.Error(), `missing required argument "src"`) {
		t.Errorf("no src: %v", err)
	}
}
