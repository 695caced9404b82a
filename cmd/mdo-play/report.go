package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/mdo-play/mdo-play/playbook"
	"github.com/mdo-play/mdo-play/templates/pyjson"
)

// reportSink is --report FILE.html: it records every host's result of every
// task and, at the end, writes one self-contained HTML page (inline CSS, no
// script, no external asset) with a grid of tasks × hosts coloured by
// result, durations as tooltips, the recap, and the output of failed tasks.
// Unlike the other sinks it keeps a cell per task × host: it is asked for.
type reportSink struct {
	mu        sync.Mutex
	now       func() time.Time
	start     time.Time
	end       time.Time
	playbooks []string
	plays     []*reportPlay
	failures  []*reportFailure
	warnings  []string
	stats     map[string]*playbook.HostStats
}

var _ playbook.Sink = (*reportSink)(nil)

type reportPlay struct {
	Name    string
	pos     playbook.Pos
	Hosts   []string
	hostSet map[string]bool
	Tasks   []*reportTask
	byPos   map[playbook.Pos]*reportTask
	cur     *reportTask // row of the last banner
	replay  bool        // a later serial batch: banners reuse rows from next on
	next    int
}

type reportTask struct {
	Name    string
	Pos     playbook.Pos
	Handler bool
	Module  string
	cells   map[string]*reportCell
}

type reportCell struct {
	Status   playbook.Status
	Ignored  bool
	Duration time.Duration
	Delegate string
	Items    int
	Failure  int // 1-based index into failures; 0: none
}

type reportFailure struct {
	N        int
	Host     string
	Task     string
	Pos      string
	Status   playbook.Status
	Ignored  bool
	Item     string
	Msg      string
	RC       string
	Stdout   string
	Stderr   string
	Result   string
	Duration string
}

// newReportSink returns an empty report; now is the clock (time.Now outside
// tests), used when events carry no time.
func newReportSink(now func() time.Time) *reportSink {
	return &reportSink{now: now}
}

func (r *reportSink) Emit(e playbook.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := e.Time
	if t.IsZero() {
		t = r.now()
	}
	if r.start.IsZero() {
		r.start = t
	}
	r.end = t
	switch e.Kind {
	case playbook.EventPlaybook:
		r.playbooks = append(r.playbooks, e.Playbook)
	case playbook.EventPlay:
		// A later batch of the same play (serial) goes on with its grid.
		if p := r.play(); p != nil && p.pos == e.Pos && p.Name == playName(e) && e.Pos != (playbook.Pos{}) {
			for _, h := range e.Hosts {
				p.addHost(h)
			}
			p.replay, p.next, p.cur = true, 0, nil
			return
		}
		p := &reportPlay{Name: playName(e), pos: e.Pos, hostSet: map[string]bool{}, byPos: map[playbook.Pos]*reportTask{}}
		for _, h := range e.Hosts {
			p.addHost(h)
		}
		r.plays = append(r.plays, p)
	case playbook.EventTask, playbook.EventHandler:
		p := r.playOrNew()
		handler := e.Kind == playbook.EventHandler
		same := func(t *reportTask) bool {
			return t.Pos == e.Pos && t.Name == e.Task && t.Handler == handler && e.Pos != (playbook.Pos{})
		}
		if p.cur != nil && same(p.cur) {
			return // the same task again (free strategy)
		}
		if p.replay {
			// A later serial batch runs the rows of the first one again.
			for i := p.next; i < len(p.Tasks); i++ {
				if same(p.Tasks[i]) {
					p.next, p.cur = i+1, p.Tasks[i]
					p.byPos[e.Pos] = p.cur
					return
				}
			}
		}
		t := &reportTask{Name: e.Task, Pos: e.Pos, Handler: handler, Module: e.Module, cells: map[string]*reportCell{}}
		p.Tasks = append(p.Tasks, t)
		p.byPos[e.Pos] = t
		p.cur = t
	case playbook.EventItem:
		c := r.cell(e)
		c.Items++
		if e.Status == playbook.StatusFailed || e.Status == playbook.StatusUnreachable {
			r.failure(e, c)
		}
	case playbook.EventHost:
		c := r.cell(e)
		c.Status, c.Ignored, c.Duration, c.Delegate = e.Status, e.Ignored, e.Duration, e.Delegate
		if (e.Status == playbook.StatusFailed || e.Status == playbook.StatusUnreachable) && c.Failure == 0 {
			r.failure(e, c)
		}
	case playbook.EventWarning:
		r.warnings = append(r.warnings, e.Msg)
	case playbook.EventRecap:
		r.stats = e.Stats
	}
}

// playName is the play's name as the text output shows it.
func playName(e playbook.Event) string {
	if e.Play == "" {
		return strings.Join(e.Hosts, ",")
	}
	return e.Play
}

func (p *reportPlay) addHost(h string) {
	if !p.hostSet[h] {
		p.hostSet[h] = true
		p.Hosts = append(p.Hosts, h)
	}
}

func (r *reportSink) play() *reportPlay {
	if len(r.plays) == 0 {
		return nil
	}
	return r.plays[len(r.plays)-1]
}

func (r *reportSink) playOrNew() *reportPlay {
	if p := r.play(); p != nil {
		return p
	}
	p := &reportPlay{hostSet: map[string]bool{}, byPos: map[playbook.Pos]*reportTask{}}
	r.plays = append(r.plays, p)
	return p
}

// cell is the grid cell of e's host and task (a task without a banner gets
// a row of its own).
func (r *reportSink) cell(e playbook.Event) *reportCell {
	p := r.playOrNew()
	p.addHost(e.Host)
	t := p.byPos[e.Pos]
	if t == nil {
		t = &reportTask{Name: e.Task, Pos: e.Pos, Module: e.Module, cells: map[string]*reportCell{}}
		p.Tasks = append(p.Tasks, t)
		p.byPos[e.Pos] = t
	}
	c := t.cells[e.Host]
	if c == nil {
		c = &reportCell{}
		t.cells[e.Host] = c
	}
	return c
}

// failure records the output of a failed or unreachable result.
func (r *reportSink) failure(e playbook.Event, c *reportCell) {
	f := &reportFailure{N: len(r.failures) + 1, Host: hostLabel(e), Task: e.Task, Status: e.Status, Ignored: e.Ignored, Duration: seconds(e.Duration)}
	if t := r.play().byPos[e.Pos]; t != nil {
		f.Task = t.Name
	}
	if e.Pos.File != "" {
		f.Pos = fmt.Sprintf("%s:%d", e.Pos.File, e.Pos.Line)
	}
	if e.HasItem {
		f.Item = pyjson.Str(e.Item)
	}
	rest := map[string]any{}
	for k, v := range e.Result {
		switch k {
		case "msg":
			f.Msg = fmt.Sprint(v)
		case "rc":
			f.RC = fmt.Sprint(v)
		case "stdout":
			f.Stdout = fmt.Sprint(v)
		case "stderr":
			f.Stderr = fmt.Sprint(v)
		case "stdout_lines", "stderr_lines", "failed", "unreachable", "changed", "invocation":
		default:
			rest[k] = v
		}
	}
	if len(rest) > 0 {
		if b, err := json.MarshalIndent(rest, "", "  "); err == nil {
			f.Result = string(b)
		}
	}
	r.failures = append(r.failures, f)
	if c.Failure == 0 {
		c.Failure = f.N
	}
}

// write renders the report to path, replacing it whole.
func (r *reportSink) write(path string) error {
	r.mu.Lock()
	data, err := r.render()
	r.mu.Unlock()
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := writeAtomic(path, data, 0o644); err != nil {
		return fmt.Errorf("report %s: %w", path, err)
	}
	return nil
}

// The view the template renders.
type (
	reportView struct {
		Title     string
		Playbooks []string
		Start     string
		Duration  string
		Result    string // ok, changed, failed, unreachable
		Recap     []recapRow
		Plays     []playView
		Failures  []*reportFailure
		Warnings  []string
		Counts    map[string]int
	}
	recapRow struct {
		Host  string
		Class string
		playbook.HostStats
	}
	playView struct {
		Name  string
		Hosts []string
		Rows  []rowView
	}
	rowView struct {
		Name    string
		Pos     string
		Handler bool
		Cells   []cellView
	}
	cellView struct {
		Class   string
		Label   string
		Title   string
		Failure int
	}
)

func (r *reportSink) render() ([]byte, error) {
	v := reportView{Title: "mdo-play report", Playbooks: r.playbooks, Warnings: r.warnings, Failures: r.failures, Counts: map[string]int{}}
	if len(r.playbooks) > 0 {
		v.Title = "mdo-play report: " + strings.Join(r.playbooks, ", ")
	}
	if !r.start.IsZero() {
		v.Start = r.start.Format("2006-01-02 15:04:05 MST")
		v.Duration = clock(r.end.Sub(r.start))
	}
	v.Result = "ok"
	hosts := make([]string, 0, len(r.stats))
	for h := range r.stats {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	for _, h := range hosts {
		st := r.stats[h]
		if st == nil {
			continue
		}
		row := recapRow{Host: h, HostStats: *st, Class: "ok"}
		switch {
		case st.Unreachable > 0:
			row.Class, v.Result = "unreachable", "unreachable"
		case st.Failed > 0:
			row.Class = "failed"
			if v.Result != "unreachable" {
				v.Result = "failed"
			}
		case st.Changed > 0:
			row.Class = "changed"
			if v.Result == "ok" {
				v.Result = "changed"
			}
		}
		v.Recap = append(v.Recap, row)
	}
	for _, p := range r.plays {
		pv := playView{Name: p.Name, Hosts: p.Hosts}
		for _, t := range p.Tasks {
			row := rowView{Name: t.Name, Handler: t.Handler}
			if t.Pos.File != "" {
				row.Pos = fmt.Sprintf("%s:%d", t.Pos.File, t.Pos.Line)
			}
			for _, h := range p.Hosts {
				c := t.cells[h]
				cv := cellView{Class: "none", Label: "", Title: h + ": did not run"}
				if c != nil {
					cv = c.view(h, t.Name)
				}
				v.Counts[cv.Class]++
				row.Cells = append(row.Cells, cv)
			}
			pv.Rows = append(pv.Rows, row)
		}
		v.Plays = append(v.Plays, pv)
	}
	tmpl, err := template.New("report").Parse(reportHTML)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func (c *reportCell) view(host, task string) cellView {
	cv := cellView{Class: string(c.Status), Failure: c.Failure}
	switch c.Status {
	case playbook.StatusOK:
		cv.Label = "ok"
	case playbook.StatusChanged:
		cv.Label = "changed"
	case playbook.StatusFailed:
		cv.Label = "failed"
	case playbook.StatusSkipped:
		cv.Label = "skipped"
	case playbook.StatusUnreachable:
		cv.Label = "unreachable"
	default:
		cv.Class, cv.Label = "running", "?"
	}
	word := cv.Label
	if c.Ignored {
		cv.Class += " ignored"
		cv.Label += "*"
		word += " (ignored)"
	}
	name := host
	if c.Delegate != "" {
		name += " -> " + c.Delegate
	}
	cv.Title = fmt.Sprintf("%s · %s: %s in %s", name, task, word, seconds(c.Duration))
	if c.Items > 0 {
		cv.Title += fmt.Sprintf(" (%d items)", c.Items)
	}
	return cv
}

const reportHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="mdo-play">
<title>{{.Title}}</title>
<style>
:root { --ok: #2e7d32; --ok-bg: #c8e6c9; --changed: #8a5a00; --changed-bg: #ffe08a; --failed: #fff; --failed-bg: #d32f2f;
  --skipped: #0e5a6e; --skipped-bg: #c9e8f2; --unreachable: #fff; --unreachable-bg: #6a1b9a; --none-bg: #f2f2f2; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #1f2328; margin: 0; padding: 24px 32px; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid #d0d7de; padding-bottom: 4px; }
.meta { color: #57606a; margin-bottom: 12px; }
.badge { display: inline-block; padding: 2px 10px; border-radius: 12px; font-weight: 600; font-size: 13px; }
table { border-collapse: collapse; }
th, td { padding: 3px 8px; }
.recap th { text-align: left; background: #f6f8fa; border-bottom: 1px solid #d0d7de; }
.recap td { border-bottom: 1px solid #eaeef2; font-variant-numeric: tabular-nums; }
.recap td.n { text-align: right; }
.recap td.zero { color: #a0a7ae; }
.legend span { margin-right: 6px; }
.grid { overflow-x: auto; max-width: 100%; }
.grid table { margin-top: 4px; }
.grid th.host { vertical-align: bottom; padding: 4px 2px; font-weight: 600; font-size: 12px; }
.grid th.host div { writing-mode: vertical-rl; transform: rotate(180deg); white-space: nowrap; max-height: 160px; overflow: hidden; text-overflow: ellipsis; margin: 0 auto; }
.grid td.task { white-space: nowrap; max-width: 460px; overflow: hidden; text-overflow: ellipsis; border-bottom: 1px solid #eaeef2; }
.grid td.task .pos { color: #6e7781; font-size: 12px; margin-left: 6px; }
.grid td.task .handler { color: #8250df; font-size: 11px; font-weight: 600; margin-right: 4px; text-transform: uppercase; }
.grid td.c { min-width: 72px; text-align: center; font-size: 12px; font-weight: 600; border: 2px solid #fff; border-radius: 4px; }
.grid td.c a { color: inherit; text-decoration: underline; }
.c.ok { color: var(--ok); background: var(--ok-bg); }
.c.changed { color: var(--changed); background: var(--changed-bg); }
.c.failed { color: var(--failed); background: var(--failed-bg); }
.c.skipped { color: var(--skipped); background: var(--skipped-bg); }
.c.unreachable { color: var(--unreachable); background: var(--unreachable-bg); }
.c.none { background: var(--none-bg); color: #a0a7ae; }
.c.running { background: #fff; color: #57606a; outline: 1px dashed #8c959f; }
.c.ignored { background-image: repeating-linear-gradient(135deg, transparent 0 6px, rgba(255,255,255,.35) 6px 12px); }
.failure { border: 1px solid #d0d7de; border-left: 4px solid var(--failed-bg); border-radius: 6px; padding: 8px 12px; margin: 10px 0; }
.failure.unreachable { border-left-color: var(--unreachable-bg); }
.failure.ignored { border-left-color: #d4a72c; }
.failure h3 { font-size: 15px; margin: 0 0 6px; }
.failure .pos { color: #6e7781; font-weight: normal; font-size: 13px; }
.failure .msg { font-weight: 600; white-space: pre-wrap; word-break: break-word; }
pre { background: #f6f8fa; border-radius: 6px; padding: 8px 10px; margin: 4px 0; overflow-x: auto; white-space: pre-wrap; word-break: break-word; font: 12px/1.4 ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
.label { color: #57606a; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; margin-top: 6px; }
.warnings li { color: #7d4e00; }
footer { margin-top: 32px; color: #8c959f; font-size: 12px; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<div class="meta">
{{- if .Start}}started {{.Start}} · took {{.Duration}} · {{end -}}
result <span class="badge c {{.Result}}">{{.Result}}</span>
</div>

{{- if .Recap}}
<h2>Recap</h2>
<table class="recap">
<tr><th>host</th><th>ok</th><th>changed</th><th>unreachable</th><th>failed</th><th>skipped</th><th>rescued</th><th>ignored</th></tr>
{{- range .Recap}}
<tr><td><span class="badge c {{.Class}}">{{.Host}}</span></td>
{{- template "n" .OK}}{{template "n" .Changed}}{{template "n" .Unreachable}}{{template "n" .Failed}}{{template "n" .Skipped}}{{template "n" .Rescued}}{{template "n" .Ignored}}</tr>
{{- end}}
</table>
{{- end}}

<h2>Tasks × hosts</h2>
<p class="legend"><span class="badge c ok">ok</span><span class="badge c changed">changed</span><span class="badge c failed">failed</span><span class="badge c failed ignored">failed* (ignored)</span><span class="badge c skipped">skipped</span><span class="badge c unreachable">unreachable</span><span class="badge c none">did not run</span> · hover a cell for its duration; click a failure for its output</p>
{{- range .Plays}}
<h3>PLAY [{{.Name}}]</h3>
<div class="grid">
<table>
<tr><th></th>{{range .Hosts}}<th class="host" title="{{.}}"><div>{{.}}</div></th>{{end}}</tr>
{{- range .Rows}}
<tr><td class="task" title="{{.Name}}{{if .Pos}} ({{.Pos}}){{end}}">{{if .Handler}}<span class="handler">handler</span>{{end}}{{.Name}}{{if .Pos}}<span class="pos">{{.Pos}}</span>{{end}}</td>
{{- range .Cells}}<td class="c {{.Class}}" title="{{.Title}}">{{if .Failure}}<a href="#failure-{{.Failure}}">{{.Label}}</a>{{else}}{{.Label}}{{end}}</td>{{end}}</tr>
{{- end}}
</table>
</div>
{{- else}}
<p>No play ran.</p>
{{- end}}

{{- if .Failures}}
<h2>Failures</h2>
{{- range .Failures}}
<div class="failure {{.Status}}{{if .Ignored}} ignored{{end}}" id="failure-{{.N}}">
<h3>{{.Host}} · {{.Task}}{{if .Item}} (item={{.Item}}){{end}} <span class="pos">{{.Pos}} · {{.Status}}{{if .Ignored}} (ignored){{end}} after {{.Duration}}{{if .RC}} · rc={{.RC}}{{end}}</span></h3>
{{- if .Msg}}<div class="msg">{{.Msg}}</div>{{end}}
{{- if .Stdout}}<div class="label">stdout</div><pre>{{.Stdout}}</pre>{{end}}
{{- if .Stderr}}<div class="label">stderr</div><pre>{{.Stderr}}</pre>{{end}}
{{- if .Result}}<div class="label">result</div><pre>{{.Result}}</pre>{{end}}
</div>
{{- end}}
{{- end}}

{{- if .Warnings}}
<h2>Warnings</h2>
<ul class="warnings">{{range .Warnings}}<li>{{.}}</li>{{end}}</ul>
{{- end}}
<footer>Written by mdo-play. This page needs no network access.</footer>
</body>
</html>
{{define "n"}}<td class="n{{if eq . 0}} zero{{end}}">{{.}}</td>{{end}}`

// observeFlags are the run options of the sinks of this file and its
// siblings: --profile, --report and --log-file.
func observeFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "profile", Usage: "print the slowest tasks and the time per host at the end"},
		&cli.StringFlag{Name: "report", Usage: "write a self-contained HTML report of the run to `FILE.html`"},
		&cli.StringFlag{Name: "log-file", Usage: "append every event as a JSON line (the --output json schema) to `FILE`"},
	}
}
