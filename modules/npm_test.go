package modules

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
)

// npmTestRegistry serves the packages mdo-a (1.0.0 and 1.1.0, latest
// 1.1.0) the way the npm registry does: the packument at /NAME, tarballs
// at /NAME/-/NAME-VERSION.tgz. Anything else is a 404.
func npmTestRegistry(t *testing.T) string {
	t.Helper()
	tarballs := map[string][]byte{}
	var srv *httptest.Server
	mux := http.NewServeMux()
	srv = httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	versions := map[string]any{}
	for _, v := range []string{"1.0.0", "1.1.0"} {
		var buf bytes.Buffer
		gz := gzip.NewWriter(&buf)
		tw := tar.NewWriter(gz)
		for name, body := range map[string]string{
			"package/package.json": `{"name":"mdo-a","version":"` + v + `","main":"index.js"}`,
			"package/index.js":     "module.exports = '" + v + "';\n",
		} {
			if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body))}); err != nil {
				t.Fatal(err)
			}
			tw.Write([]byte(body))
		}
		tw.Close()
		gz.Close()
		file := "mdo-a-" + v + ".tgz"
		tarballs["/mdo-a/-/"+file] = buf.Bytes()
		s1, s512 := sha1.Sum(buf.Bytes()), sha512.Sum512(buf.Bytes())
		versions[v] = map[string]any{"name": "mdo-a", "version": v, "main": "index.js", "dist": map[string]any{
			"tarball": srv.URL + "/mdo-a/-/" + file, "shasum": hex.EncodeToString(s1[:]),
			"integrity": "sha512-" + base64.StdEncoding.EncodeToString(s512[:]),
		}}
	}
	packument, _ := json.Marshal(map[string]any{"name": "mdo-a", "dist-tags": map[string]any{"latest": "1.1.0"}, "versions": versions})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/mdo-a":
			w.Header().Set("Content-Type", "application/json")
			w.Write(packument)
		case tarballs[r.URL.Path] != nil:
			w.Write(tarballs[r.URL.Path])
		default:
			http.Error(w, `{"error":"Not found"}`, http.StatusNotFound)
		}
	})
	return srv.URL
}

// TestNpm drives the real npm, locally and over SSH, against a registry
// served by the test (npm's cache and global prefix in the test's
// directory): present with a version, the idempotent second run, latest,
// absent, global, check mode and the collection's errors.
func TestNpm(t *testing.T) {
	if _, err := exec.LookPath("npm"); err != nil {
		sysUnavailable(t, "needs npm")
	}
	reg := npmTestRegistry(t)
	for _, tm := range fileTargets(t) {
		t.Run(tm.name, func(t *testing.T) {
			tg := tm.mk(t)
			d := tg.dir
			c := &prefixConn{Conn: tg.c, prefix: "export npm_config_cache=" + d + "/cache npm_config_audit=false npm_config_fund=false " +
				"npm_config_update_notifier=false npm_config_prefix=" + d + "/global npm_config_loglevel=error"}
			app := d + "/app"
			state := func() string {
				return sh(t, c, "cd "+d+" && for f in app/node_modules/mdo-a global/lib/node_modules/mdo-a; do [ -d $f ] && echo \"$f $(cat $f/index.js)\"; done; true")
			}
			a := func(kv ...any) map[string]any {
				m := map[string]any{"name": "mdo-a", "path": app, "registry": reg}
				for i := 0; i+1 < len(kv); i += 2 {
					m[kv[i].(string)] = kv[i+1]
				}
				return m
			}
			v1 := "app/node_modules/mdo-a module.exports = '1.0.0';\n"
			v2 := "app/node_modules/mdo-a module.exports = '1.1.0';\n"
			g := "global/lib/node_modules/mdo-a module.exports = '1.1.0';\n"
			steps := []modsbStep{
				{"check", true, a("version", "1.0.0"), true, false, "", "", 1},
				{"present", false, a("version", "1.0.0"), true, false, "", v1, 2},
				{"present again", false, a("version", "1.0.0"), false, false, "", v1, 1},
				{"present any version", false, a(), false, false, "", v1, 1},
				{"latest check", true, a("state", "latest"), true, false, "", v1, 1},
				{"latest", false, a("state", "latest"), true, false, "", v2, 2},
				{"latest again", false, a("state", "latest"), false, false, "", v2, 1},
				{"absent check", true, a("state", "absent"), true, false, "", v2, 1},
				{"absent", false, a("state", "absent"), true, false, "", "", 2},
				{"absent again", false, a("state", "absent"), false, false, "", "", 1},
				{"global", false, map[string]any{"name": "mdo-a", "global": true, "registry": reg}, true, false, "", g, 2},
				{"global again", false, map[string]any{"name": "mdo-a", "global": true, "registry": reg}, false, false, "", g, 1},
				{"unknown", false, a("name", "mdo-nosuch"), false, true, "404", g, 2},
				{"no path", false, map[string]any{"name": "mdo-a"}, false, true, "path must be specified when not using global", g, 0},
				{"absent no name", false, map[string]any{"path": app, "state": "absent"}, false, true, "uninstalling a package is only available for named packages", g, 0},
				{"path a file", false, a("path", d+"/app/package.json"), false, true, "path " + d + "/app/package.json is not a directory", g, 1},
				{"bad executable", false, a("executable", d+"/nonpm --flag"), false, true, "nonpm: not found", g, 2},
			}
			res := modsbRunSteps(t, c, Npm{}, steps, state)
			if v := res["unknown"].Values; v["rc"] == 0 || !strings.Contains(v["stderr"].(string), "404") {
				t.Errorf("unknown package values %v", v)
			}
			// ci installs what package-lock.json says, every time.
			sh(t, c, "cd "+app+" && npm install --registry "+reg+" mdo-a@1.0.0 >/dev/null && rm -rf node_modules")
			r, _ := sysRun(t, c, Npm{}, false, false, map[string]any{"path": app, "ci": true, "registry": reg})
			sysExpect(t, "ci", r, true, false, "")
			if got := state(); got != v1+g {
				t.Errorf("after ci: %q", got)
			}
		})
	}
}
