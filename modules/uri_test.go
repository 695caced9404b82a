package modules

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// uriServer is a small HTTP server on 127.0.0.1 (test hosts share the
// machine's network) for the uri tests.
func uriServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Mdo-Test", "yes")
		fmt.Fprint(w, "hello")
	})
	mux.HandleFunc("/json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"a":1,"b":["x"]}`)
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{
			"method": r.Method, "body": string(b), "ctype": r.Header.Get("Content-Type"),
			"auth": r.Header.Get("Authorization"), "token": r.Header.Get("X-Token"),
		})
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/hello", http.StatusFound) })
	mux.HandleFunc("/missing", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "nope", http.StatusNotFound) })
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// TestURI makes requests with curl and with wget, locally and from a test
// host.
func TestURI(t *testing.T) {
	srv := uriServer(t)
	for tn, c := range sysTargets(t) {
		for _, tool := range []string{"curl", "wget"} {
			t.Run(tn+"/"+tool, func(t *testing.T) {
				m := URI{tool: tool}
				dir := t.TempDir()
				if tn == "ssh" {
					dir = "/srv/" + sysUniq("uri")
					sysSh(t, c, "mkdir -p "+dir)
				}
				dest := filepath.Join(dir, "hello.txt")
				cases := []struct {
					name    string
					raw     map[string]any
					changed bool
					failed  bool
					msg     string
					want    map[string]any
					echo    map[string]any // fields of /echo's JSON answer
				}{
					{"get", map[string]any{"url": srv.URL + "/hello", "return_content": true}, false, false, "",
						map[string]any{"status": 200, "content": "hello", "x_mdo_test": "yes", "msg": "OK (5 bytes)", "redirected": false}, nil},
					{"json", map[string]any{"url": srv.URL + "/json"}, false, false, "",
						map[string]any{"json": map[string]any{"a": float64(1), "b": []any{"x"}}, "content_type": "application/json"}, nil},
					{"post json", map[string]any{"url": srv.URL + "/echo", "method": "POST", "body_format": "json", "body": map[string]any{"k": "v"}}, false, false, "", nil,
						map[string]any{"method": "POST", "body": `{"k":"v"}`, "ctype": "application/json"}},
					{"put form", map[string]any{"url": srv.URL + "/echo", "method": "put", "body_format": "form-urlencoded", "body": map[string]any{"a": "1 2", "b": "&"}}, false, false, "", nil,
						map[string]any{"method": "PUT", "body": "a=1+2&b=%26", "ctype": "application/x-www-form-urlencoded"}},
					{"auth and headers", map[string]any{"url": srv.URL + "/echo", "url_username": "bob", "url_password": "s3cret-pw", "force_basic_auth": true, "headers": map[string]any{"X-Token": "tok en"}}, false, false, "", nil,
						map[string]any{"auth": "Basic Ym9iOnMzY3JldC1wdw==", "token": "tok en", "method": "GET"}},
					{"redirect", map[string]any{"url": srv.URL + "/redirect"}, false, false, "", map[string]any{"status": 200, "redirected": true}, nil},
					{"404", map[string]any{"url": srv.URL + "/missing"}, false, true, "Status code was 404 and not [200]: HTTP Error 404: Not Found", map[string]any{"status": 404}, nil},
					{"404 allowed", map[string]any{"url": srv.URL + "/missing", "status_code": []any{200, "404"}}, false, false, "", map[string]any{"status": 404}, nil},
					{"dest", map[string]any{"url": srv.URL + "/hello", "dest": dest}, true, false, "", map[string]any{"path": dest}, nil},
					{"dest again", map[string]any{"url": srv.URL + "/hello", "dest": dest}, false, false, "", nil, nil},
					{"creates", map[string]any{"url": srv.URL + "/hello", "creates": dest}, false, false, "skipped, since '" + dest + "' exists", nil, nil},
					{"refused", map[string]any{"url": fmt.Sprintf("http://127.0.0.1:%d/", closedPort(t)), "timeout": 5}, false, true, "Status code was -1 and not [200]: Request failed", map[string]any{"status": -1}, nil},
					{"not http", map[string]any{"url": "file:///etc/passwd"}, false, true, "must be an http or https URL", nil, nil},
				}
				for _, tc := range cases {
					res, trips := sysRun(t, c, m, false, false, tc.raw)
					sysExpect(t, tc.name, res, tc.changed, tc.failed, tc.msg)
					if trips > 1 {
						t.Errorf("%s: %d round trips", tc.name, trips)
					}
					for k, v := range tc.want {
						if !reflect.DeepEqual(res.Values[k], v) {
							t.Errorf("%s: %s = %#v, want %#v", tc.name, k, res.Values[k], v)
						}
					}
					if tc.echo != nil {
						got, _ := res.Values["json"].(map[string]any)
						for k, v := range tc.echo {
							if got[k] != v {
								t.Errorf("%s: server saw %s = %#v, want %#v", tc.name, k, got[k], v)
							}
						}
					}
					if s := fmt.Sprint(res.Map()); strings.Contains(s, "s3cret-pw") {
						t.Errorf("%s: password in result: %s", tc.name, s)
					}
				}
				if got := sysSh(t, c, "cat "+dest); got != "hello" {
					t.Errorf("dest holds %q", got)
				}
			})
		}
	}
	t.Run("no client", func(t *testing.T) {
		t.Setenv("PATH", t.TempDir()+":/nonexistent")
		res, _ := sysRun(t, localConn(), URI{}, false, false, map[string]any{"url": srv.URL + "/hello"})
		sysExpect(t, "no client", res, false, true, "uri needs curl or wget on the target")
	})
}
