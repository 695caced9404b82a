package modules

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestGetURL(t *testing.T) {
	body := "payload v1\n"
	mux := http.NewServeMux()
	mux.HandleFunc("/files/app.txt", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(body)) })
	bodySum := sha256.Sum256([]byte(body))
	mux.HandleFunc("/files/SHA256SUMS", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%x  other.txt\n%X *app.txt\n", sha256.Sum256([]byte("x")), bodySum)
	})
	mux.HandleFunc("/files/BAD", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintf(w, "%064x  app.txt\n", 0) })
	mux.HandleFunc("/auth", func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "me" || p != "s3cret" || r.Header.Get("X-Token") != "t" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		w.Write([]byte("authorized\n"))
	})
	srv := httptest.NewUnstartedServer(mux)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	sum := sha256.Sum256([]byte(body))
	good := "sha256:" + hex.EncodeToString(sum[:])
	u := srv.URL
	cases := []fileCase{
		{name: "download", args: map[string]any{"url": u + "/files/app.txt", "dest": "DIR/app.txt", "mode": "0640"}, want: map[string]string{"app.txt": body},
			check: func(t *testing.T, tg target, r Result) {
				if r.Values["status_code"] != 200 || r.Values["msg"] != "OK (11 bytes)" || r.Values["mode"] != "0640" {
					t.Errorf("values = %v", r.Values)
				}
			}},
		{name: "into a directory", files: map[string]string{"d/": ""}, args: map[string]any{"url": u + "/files/app.txt", "dest": "DIR/d"}, want: map[string]string{"d/app.txt": body}},
		{name: "checksum skips the download", files: map[string]string{"app.txt": body}, args: map[string]any{"url": u + "/nothing-here", "dest": "DIR/app.txt", "checksum": good}, unchanged: true, calls: 1},
		{name: "checksum replaces a stale file", files: map[string]string{"app.txt": "old\n"}, args: map[string]any{"url": u + "/files/app.txt", "dest": "DIR/app.txt", "checksum": good}, want: map[string]string{"app.txt": body}},
		{name: "checksum from a URL", args: map[string]any{"url": u + "/files/app.txt", "dest": "DIR/app.txt", "checksum": "sha256:" + u + "/files/SHA256SUMS"}, want: map[string]string{"app.txt": body}},
		{name: "checksum from a URL skips the download", files: map[string]string{"app.txt": body}, args: map[string]any{"url": u + "/nothing-here/app.txt", "dest": "DIR/app.txt", "checksum": "sha256:" + u + "/files/SHA256SUMS"}, unchanged: true, calls: 1},
		{name: "checksum from a URL mismatch", args: map[string]any{"url": u + "/files/app.txt", "dest": "DIR/app.txt", "checksum": "sha256:" + u + "/files/BAD"}, failed: true, want: map[string]string{"app.txt": "<absent>"}},
		{name: "checksum file without the name", args: map[string]any{"url": u + "/files/app.txt", "dest": "DIR/app.txt", "checksum": "sha256:" + u + "/files/app.txt"}, failed: true, msg: "Unable to find a checksum for file app.txt in " + u + "/files/app.txt"},
		{name: "checksum mismatch", args: map[string]any{"url": u + "/files/app.txt", "dest": "DIR/app.txt", "checksum": "sha256:0000"}, failed: true, want: map[string]string{"app.txt": "<absent>"}},
		{name: "existing file without force", files: map[string]string{"app.txt": "mine\n"}, args: map[string]any{"url": u + "/files/app.txt", "dest": "DIR/app.txt"}, unchanged: true, want: map[string]string{"app.txt": "mine\n"}},
		{name: "force with same content", files: map[string]string{"app.txt": body}, args: map[string]any{"url": u + "/files/app.txt", "dest": "DIR/app.txt", "force": true}, unchanged: true},
		{name: "not found", args: map[string]any{"url": u + "/missing", "dest": "DIR/x"}, failed: true, msg: "Request failed: HTTP Error 404"},
		{name: "auth and headers", args: map[string]any{"url": u + "/auth", "dest": "DIR/a", "url_username": "me", "url_password": "s3cret", "headers": map[string]any{"X-Token": "t"}}, want: map[string]string{"a": "authorized\n"},
			check: func(t *testing.T, tg target, r Result) {
				for _, v := range r.Values {
					if s, ok := v.(string); ok && s == "s3cret" {
						t.Errorf("password in result: %v", r.Values)
					}
				}
			}},
		{name: "file URL", files: map[string]string{"src": "local\n"}, args: map[string]any{"url": "file://DIR/src", "dest": "DIR/copy"}, want: map[string]string{"copy": "local\n"}},
		{name: "bad checksum format", args: map[string]any{"url": u + "/files/app.txt", "dest": "DIR/x", "checksum": "abc"}, failed: true, msg: "The checksum parameter has to be in format <algorithm>:<checksum>"},
	}
	runFileCases(t, GetURL{}, "get_url.diff", cases)
}
