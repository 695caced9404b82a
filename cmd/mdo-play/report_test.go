package main

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mdo-play/mdo-play/playbook"
)

func writeSampleReport(t *testing.T) (string, string) {
	t.Helper()
	r := newReportSink(time.Now)
	for _, e := range sampleRun() {
		r.Emit(e)
	}
	r.Emit(playbook.Event{Kind: playbook.EventWarning, Time: time.Date(2024, 5, 1, 3, 0, 18, 0, time.UTC), Msg: "module <apt> is slow & noisy"})
	path := filepath.Join(t.TempDir(), "report.html")
	if err := r.write(path); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, string(data)
}

func TestReportGolden(t *testing.T) {
	_, html := writeSampleReport(t)
	checkLocalGolden(t, "report.golden.html", html)
}

func TestReportContent(t *testing.T) {
	_, html := writeSampleReport(t)
	for _, tc := range []struct {
		name string
		want string
	}{
		{"failed output escaped", "E: Unable to locate package nginx-&lt;1.24&gt;\n&lt;script&gt;alert(1)&lt;/script&gt;"},
		{"warning escaped", "module &lt;apt&gt; is slow &amp; noisy"},
		{"failed cell links to its output", `<td class="c failed" title="web2 · install nginx 1.24: failed in 12.25s"><a href="#failure-2">failed</a></td>`},
		{"failure anchor", `id="failure-2"`},
		{"unreachable cell", `<td class="c unreachable" title="db1 · Gathering Facts: unreachable in 3.00s"><a href="#failure-1">unreachable</a></td>`},
		{"ignored failure", `<td class="c failed ignored" title="web1 · check port: failed (ignored) in 1.00s"><a href="#failure-3">failed*</a></td>`},
		{"loop items in tooltip", `title="web1 · write config: changed in 0.50s (2 items)"`},
		{"host that did not run", `<td class="c none" title="db1: did not run"></td>`},
		{"task rendered name and position", `install nginx 1.24<span class="pos">site.yml:5</span>`},
		{"handler row", `<span class="handler">handler</span>reload nginx`},
		{"unnamed play", "PLAY [web1]"},
		{"overall result", `result <span class="badge c unreachable">unreachable</span>`},
		{"rc", "rc=100"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(html, tc.want) {
				t.Errorf("report lacks %q", tc.want)
			}
		})
	}
	// Self-contained: nothing is fetched, nothing runs.
	for _, bad := range []string{"<script", "http://", "https://", "src=", "<link", "@import", "url("} {
		if strings.Contains(html, bad) {
			t.Errorf("report contains %q: it must not need anything but itself", bad)
		}
	}
	if n := strings.Count(html, `class="failure `); n != 3 {
		t.Errorf("%d failures shown, want 3 (unreachable, failed, ignored)", n)
	}
}

func TestReportSerialBatchesShareAGrid(t *testing.T) {
	r := newReportSink(time.Now)
	pos := playbook.Pos{File: "p.yml", Line: 1}
	tpos := playbook.Pos{File: "p.yml", Line: 4}
	t2pos := playbook.Pos{File: "p.yml", Line: 6}
	r.Emit(playbook.Event{Kind: playbook.EventPlay, Play: "rolling", Pos: pos, Hosts: []string{"a", "b"}})
	for _, batch := range []string{"a", "b"} {
		if batch == "b" {
			r.Emit(playbook.Event{Kind: playbook.EventPlay, Play: "rolling", Pos: pos, Hosts: []string{"b"}})
		}
		for _, tp := range []playbook.Pos{tpos, t2pos} {
			r.Emit(playbook.Event{Kind: playbook.EventTask, Task: "restart", Pos: tp})
			r.Emit(playbook.Event{Kind: playbook.EventHost, Task: "restart", Pos: tp, Host: batch, Status: playbook.StatusChanged})
		}
	}
	r.Emit(playbook.Event{Kind: playbook.EventPlay, Play: "rolling", Pos: playbook.Pos{File: "p.yml", Line: 20}, Hosts: []string{"a"}})
	if len(r.plays) != 2 {
		t.Fatalf("%d plays in the report, want 2", len(r.plays))
	}
	rows := r.plays[0].Tasks
	if len(rows) != 2 {
		t.Fatalf("%d rows, want 2: batches share the rows", len(rows))
	}
	for _, row := range rows {
		if len(row.cells) != 2 {
			t.Errorf("row %s has %d cells, want one per host of both batches", row.Pos, len(row.cells))
		}
	}
}

func TestReportWriteError(t *testing.T) {
	r := newReportSink(time.Now)
	if err := r.write(filepath.Join(t.TempDir(), "missing", "r.html")); err == nil || !strings.Contains(err.Error(), "report") {
		t.Errorf("got %v, want a report error", err)
	}
}

// TestReportInChromium opens the report in a real headless Chromium and
// checks the screenshot: a PNG of the window's size, not blank, with the
// grid's colours on it. Without chromium it skips, unless CI is set.
func TestReportInChromium(t *testing.T) {
	bin := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed (apt-get install -y chromium)")
		}
		t.Skip("chromium is not installed (apt-get install -y chromium)")
	}
	path, _ := writeSampleReport(t)
	dir := t.TempDir()
	shot := filepath.Join(dir, "report.png")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--hide-scrollbars",
		"--screenshot="+shot, "--window-size=1200,800", "file://"+path)
	cmd.Env = append(os.Environ(), "HOME="+dir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, out.String())
	}
	data, err := os.ReadFile(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v\n%s", err, out.String())
	}
	if keep := os.Getenv("MDO_REPORT_SCREENSHOT"); keep != "" {
		_ = os.WriteFile(keep, data, 0o644)
	}
	if len(data) < 20_000 {
		t.Errorf("screenshot is only %d bytes", len(data))
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 1200 || b.Dy() != 800 {
		t.Errorf("screenshot is %dx%d, want 1200x800", b.Dx(), b.Dy())
	}
	colours := map[[3]uint8]int{}
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y += 2 {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x += 2 {
			colours[rgb(img, x, y)]++
		}
	}
	if len(colours) < 50 {
		t.Errorf("screenshot has %d colours: blank or unstyled", len(colours))
	}
	// The cells' backgrounds, from the report's CSS.
	for name, want := range map[string][3]uint8{
		"ok":          {0xc8, 0xe6, 0xc9},
		"changed":     {0xff, 0xe0, 0x8a},
		"failed":      {0xd3, 0x2f, 0x2f},
		"skipped":     {0xc9, 0xe8, 0xf2},
		"unreachable": {0x6a, 0x1b, 0x9a},
	} {
		if colours[want] < 20 {
			t.Errorf("no %s cell visible in the screenshot (colour #%02x%02x%02x)", name, want[0], want[1], want[2])
		}
	}
}

func rgb(img image.Image, x, y int) [3]uint8 {
	r, g, b, _ := img.At(x, y).RGBA()
	return [3]uint8{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8)}
}
