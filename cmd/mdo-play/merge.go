package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/mdo-play/mdo-play/modules"
	"github.com/mdo-play/mdo-play/playbook"

	"github.com/mdo-play/mdo-play/templates/pyjson"
)

// mdo-play merge reads the --output json event streams of several runs (the
// slices of one rollout, typically) and replays them, combined, through the
// same sinks a run uses: the text layout, --output json and --report. The
// banners of all runs are aligned so that each play and task is shown once
// with every run's host lines under it, the recap covers every host, and the
// exit code is the worst of the runs'.

func mergeFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "output", Value: "text", Usage: "output format: text or json (one JSON object per event)"},
		&cli.StringFlag{Name: "report", Usage: "also write the combined result as a self-contained HTML page to `FILE`"},
		&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Count: new(int), Usage: "more output, as with a run's -v"},
	}
}

func (a *app) mergeCommand() *cli.Command {
	return &cli.Command{
		Name:      "merge",
		Usage:     "combine the --output json event streams of several runs (such as the slices of one rollout) into one output, recap and exit code",
		ArgsUsage: "EVENTS.json...",
		Flags:     mergeFlags(),
		Action:    a.jsonErrors(a.mergeCmd),
		OnUsageError: func(c *cli.Context, err error, isSub bool) error {
			return withCode(exitUsage, err)
		},
	}
}

// runStream is one run's event stream as read back from a file.
type runStream struct {
	path     string
	k, n     int              // its slice (K/N); n 0 when the run was not sliced
	events   []playbook.Event // every event but the errors and the recap
	errors   []string         // messages of error events
	stats    map[string]*playbook.HostStats
	code     int    // exit code of the run
	digest   string // the inventory the run was sliced from (inventoryDigest)
	recap    bool   // the stream ends with a recap
	nothing  bool   // the file holds no event at all
	lastTime time.Time
}

func (r *runStream) name() string {
	if r.n == 0 {
		return r.path
	}
	return fmt.Sprintf("slice %d/%d (%s)", r.k, r.n, r.path)
}

func (a *app) mergeCmd(c *cli.Context) error {
	output := c.String("output")
	if output != "text" && output != "json" {
		return usageErr("--output must be text or json, got %q", output)
	}
	if c.NArg() == 0 {
		return usageErr("no event streams given: usage: mdo-play merge [--output json] [--report FILE.html] EVENTS.json...")
	}
	var runs []*runStream
	var readErrs []error
	for _, path := range c.Args().Slice() {
		r, err := readStream(path)
		if err != nil {
			readErrs = append(readErrs, err)
			continue
		}
		runs = append(runs, r)
	}
	if len(readErrs) > 0 {
		return withCode(exitParse, errors.Join(readErrs...))
	}
	runs, problems, err := checkSlices(runs)
	if err != nil {
		return err
	}
	events, stats := mergeEvents(runs)

	var out playbook.Sink
	var js *jsonSink
	if output == "json" {
		js = newJSONSink(a.stdout)
		js.holdRecap = true
		out = js
	} else {
		out = &textSink{out: a.stdout, errOut: a.stderr, color: a.isTerminal(a.stdout), verbosity: c.Count("verbose")}
	}
	sinks := teeSink{out}
	var report *reportSink
	if c.String("report") != "" {
		report = newReportSink(time.Now)
		sinks = append(sinks, report)
	}
	for _, e := range events {
		sinks.Emit(e)
	}
	// The runs' own errors come before the recap, as in a run's stream.
	var end time.Time
	for _, r := range runs {
		if r.lastTime.After(end) {
			end = r.lastTime
		}
		for _, msg := range r.errors {
			msg = r.name() + ": " + msg
			if js != nil {
				js.Emit(playbook.Event{Kind: playbook.EventError, Time: r.lastTime, Msg: msg})
			} else {
				fmt.Fprintf(a.stderr, "ERROR! %s\n", msg)
			}
		}
	}
	sinks.Emit(playbook.Event{Kind: playbook.EventRecap, Time: end, Stats: stats})
	if report != nil {
		if werr := report.write(c.String("report")); werr != nil {
			fmt.Fprintf(a.stderr, "[WARNING]: --report: %v\n", werr)
		}
	}

	code := exitOK
	for _, r := range runs {
		code = worseExit(code, r.code)
	}
	var result error
	if len(problems) > 0 {
		result = withCode(worseExit(code, exitGeneric), errors.Join(problems...))
	} else if code != exitOK {
		result = &exitError{code: code, err: errSilent}
	}
	if js != nil {
		result = js.finish(result)
	}
	return result
}

// exitRank orders exit codes by precedence, the worst last: a run that
// stopped (an error, another run's lock, bad options, a parse error, an
// interruption, an internal error) outranks one that ran to its recap, as
// within one run, where such an error decides the code whatever the hosts
// did; among runs that finished, unreachable (4) wins over failed (2),
// which wins over changes (8, --detailed-exitcode).
var exitRank = []int{exitOK, exitChanged, exitHostFailed, exitUnreachable, exitGeneric, exitLocked, exitUsage, exitParse, exitInterrupted, exitInternal}

// worseExit returns the worse of two exit codes by exitRank; a code not in
// it ranks as the generic error.
func worseExit(a, b int) int {
	rank := func(c int) int {
		for i, x := range exitRank {
			if x == c {
				return i
			}
		}
		return 4 // exitGeneric's place
	}
	if rank(b) > rank(a) {
		return b
	}
	return a
}

// readStream reads one --output json stream. A line that is not an event
// is an error with its position; event kinds this version does not know
// are skipped (new kinds may appear, per docs/json-output.md).
func readStream(path string) (*runStream, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read event stream: %w", err)
	}
	defer f.Close()
	r := &runStream{path: path, code: -1, nothing: true}
	br := bufio.NewReader(f)
	sliceSet := false
	for line := 1; ; line++ {
		text, rerr := br.ReadBytes('\n')
		if rerr != nil && rerr != io.EOF {
			return nil, fmt.Errorf("%s:%d: %w", path, line, rerr)
		}
		if len(bytes.TrimSpace(text)) > 0 {
			var je jsonEvent
			dec := json.NewDecoder(bytes.NewReader(text))
			dec.UseNumber()
			if err := dec.Decode(&je); err != nil {
				return nil, fmt.Errorf("%s:%d: not an --output json event: %v", path, line, err)
			}
			if je.Event == "" {
				return nil, fmt.Errorf("%s:%d: not an --output json event: no \"event\" field", path, line)
			}
			e, err := je.toEvent()
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %v", path, line, err)
			}
			if r.recap {
				return nil, fmt.Errorf("%s:%d: %s event after the recap: a file must hold the stream of one run (mdo-play --output json > FILE)", path, line, je.Event)
			}
			if !sliceSet {
				r.k, r.n, sliceSet = je.Slice, je.SliceCount, true
			} else if je.Slice != r.k || je.SliceCount != r.n {
				return nil, fmt.Errorf("%s:%d: an event of slice %d/%d in the stream of slice %d/%d: a file must hold the stream of one run", path, line, je.Slice, je.SliceCount, r.k, r.n)
			}
			r.nothing = false
			if e.Time.After(r.lastTime) {
				r.lastTime = e.Time
			}
			switch e.Kind {
			case playbook.EventRecap:
				r.recap, r.stats, r.digest = true, e.Stats, je.Inventory
				if je.ExitCode != nil {
					r.code = *je.ExitCode
				}
			case playbook.EventError:
				r.errors = append(r.errors, e.Msg)
			case playbook.EventPlaybook, playbook.EventPlay, playbook.EventNoHosts, playbook.EventTask,
				playbook.EventHandler, playbook.EventHost, playbook.EventItem, playbook.EventIncluded,
				playbook.EventRetry, playbook.EventNoMoreHosts, playbook.EventWarning:
				r.events = append(r.events, e)
			}
		}
		if rerr == io.EOF {
			break
		}
	}
	if r.code < 0 {
		// A stream of an older version, or cut short: the code its
		// recap and errors stand for.
		r.code = statsCode(r.stats)
		if len(r.errors) > 0 || !r.recap {
			r.code = worseExit(r.code, exitGeneric)
		}
	}
	return r, nil
}

// toEvent turns a JSON event back into the event the runner emitted.
func (je *jsonEvent) toEvent() (playbook.Event, error) {
	e := playbook.Event{
		Kind:     playbook.EventKind(je.Event),
		Playbook: je.Playbook,
		Play:     je.Play,
		Hosts:    je.Hosts,
		Pattern:  je.Pattern,
		Task:     je.Task,
		Pos:      playbook.Pos{File: je.File, Line: je.Line},
		Module:   je.Module,
		Host:     je.Host,
		Delegate: je.Delegate,
		Status:   playbook.Status(je.Status),
		Ignored:  je.Ignored,
		Loop:     je.Loop,
		Verbose:  je.Verbose,
		Msg:      je.Msg,
		Retries:  je.Retries,
	}
	if je.Time != "" {
		t, err := time.Parse(time.RFC3339Nano, je.Time)
		if err != nil {
			return e, fmt.Errorf("time %q: %v", je.Time, err)
		}
		e.Time = t
	}
	if je.Result != nil {
		e.Result = pyjson.Numbers(je.Result).(map[string]any)
	}
	if je.Item != nil {
		e.Item, e.HasItem = pyjson.Numbers(je.Item), true
	}
	if je.DurationMS != nil {
		e.Duration = time.Duration(*je.DurationMS * float64(time.Millisecond))
	}
	for _, d := range je.Diff {
		e.Diff = append(e.Diff, modules.Diff(d))
	}
	if je.Stats != nil {
		e.Stats = *je.Stats
	}
	return e, nil
}

// checkSlices orders the runs by slice and checks that they fit together.
// Runs of different rollouts (slice counts that differ, slices of different
// inventories, a sliced run with an unsliced one) or the same slice twice
// cannot be merged into one recap: an error (exit 5). A missing slice, a stream cut short or a host in two
// slices are problems merge reports after the combined output.
func checkSlices(runs []*runStream) ([]*runStream, []error, error) {
	var problems, fatal []error
	var kept []*runStream
	for _, r := range runs {
		if r.nothing {
			problems = append(problems, fmt.Errorf("%s: no events: the run did not start, or its output was lost", r.path))
			continue
		}
		if !r.recap {
			problems = append(problems, fmt.Errorf("%s: the stream ends without a recap: the run did not finish (killed?), so its hosts are not in the recap", r.name()))
		}
		kept = append(kept, r)
	}
	runs = kept
	var sliced, whole []*runStream
	for _, r := range runs {
		if r.n > 0 {
			sliced = append(sliced, r)
		} else {
			whole = append(whole, r)
		}
	}
	if len(sliced) > 0 && len(whole) > 0 {
		fatal = append(fatal, fmt.Errorf("%s is a slice (%d/%d) but %s is not sliced: the streams are not of one rollout", sliced[0].path, sliced[0].k, sliced[0].n, whole[0].path))
	}
	sort.SliceStable(sliced, func(i, j int) bool { return sliced[i].k < sliced[j].k })
	seen := map[int]*runStream{}
	for _, r := range sliced {
		if r.n != sliced[0].n {
			fatal = append(fatal, fmt.Errorf("slice counts differ: %s is slice %d/%d but %s is slice %d/%d: the streams are not of one rollout", sliced[0].path, sliced[0].k, sliced[0].n, r.path, r.k, r.n))
			continue
		}
		if r.digest != "" && sliced[0].digest != "" && r.digest != sliced[0].digest {
			fatal = append(fatal, fmt.Errorf("%s (slice %d/%d) and %s (slice %d/%d) were sliced from different inventories (other hosts, or another order): hosts may have run twice or not at all", sliced[0].path, sliced[0].k, sliced[0].n, r.path, r.k, r.n))
			continue
		}
		if first := seen[r.k]; first != nil {
			fatal = append(fatal, fmt.Errorf("slice %d/%d is there twice: in %s and in %s (a retried slice? give one of them)", r.k, r.n, first.path, r.path))
			continue
		}
		seen[r.k] = r
	}
	if len(fatal) > 0 {
		return nil, nil, withCode(exitUsage, errors.Join(fatal...))
	}
	if len(sliced) > 0 {
		n := sliced[0].n
		var missing []string
		for k := 1; k <= n; k++ {
			if seen[k] == nil {
				missing = append(missing, fmt.Sprintf("%d/%d", k, n))
			}
		}
		if len(missing) > 0 {
			word := "slice " + missing[0] + " is"
			if len(missing) > 1 {
				word = "slices " + strings.Join(missing, ", ") + " are"
			}
			problems = append(problems, fmt.Errorf("%s missing: no event stream among the files given, so the recap lacks its hosts", word))
		}
		// The slices of one inventory share no host.
		owner := map[string]*runStream{}
		for _, r := range sliced {
			for _, h := range sortedHosts(r.stats) {
				if o := owner[h]; o != nil {
					problems = append(problems, fmt.Errorf("host %s is in slice %d/%d (%s) and in slice %d/%d (%s): were the slices run with the same inventory?", h, o.k, o.n, o.path, r.k, r.n, r.path))
					continue
				}
				owner[h] = r
			}
		}
		return sliced, problems, nil
	}
	return whole, problems, nil
}

func sortedHosts(stats map[string]*playbook.HostStats) []string {
	hosts := make([]string, 0, len(stats))
	for h := range stats {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	return hosts
}

// A mergeBlock is one banner (playbook, play, task, handler, no more
// hosts) of the combined output and, per run, the events under it.
type mergeBlock struct {
	key    string
	heads  map[int]playbook.Event // the banner as each run emitted it
	bodies [][]playbook.Event     // per run
}

// blockKey says whether e opens a block and which: runs' banners with the
// same key are shown once. play is the key of the current play, so that a
// task (a role's, say) shared by two plays stays in its own play.
func blockKey(e playbook.Event, play *string) (string, bool) {
	pos := e.Pos.File + ":" + strconv.Itoa(e.Pos.Line)
	switch e.Kind {
	case playbook.EventPlaybook:
		*play = ""
		return "playbook\x00" + e.Playbook, true
	case playbook.EventPlay:
		*play = "play\x00" + e.Play + "\x00" + e.Pattern + "\x00" + pos
		return *play, true
	case playbook.EventTask, playbook.EventHandler:
		return string(e.Kind) + "\x00" + *play + "\x00" + e.Task + "\x00" + pos, true
	case playbook.EventNoMoreHosts:
		return "no_more_hosts\x00" + *play, true
	}
	return "", false
}

// mergeEvents aligns the runs' banners and returns the combined events
// (without the recap) and the combined recap counters. A run's banners are
// matched in order with those already placed (the first equal one at or
// after the last match); one that no earlier run had is placed after the
// last match. So banners that every run shows (the usual case: one
// playbook, slices of one inventory) appear once, in the order of the
// runs, and one that only some runs reach (an include for some hosts, a
// later serial batch) still appears where those runs had it.
func mergeEvents(runs []*runStream) ([]playbook.Event, map[string]*playbook.HostStats) {
	var blocks []*mergeBlock
	newBlock := func(key string) *mergeBlock {
		return &mergeBlock{key: key, heads: map[int]playbook.Event{}, bodies: make([][]playbook.Event, len(runs))}
	}
	for ri, r := range runs {
		pos := 0
		var cur *mergeBlock
		play := ""
		for _, e := range r.events {
			key, banner := blockKey(e, &play)
			if !banner && cur != nil {
				cur.bodies[ri] = append(cur.bodies[ri], e)
				continue
			}
			j := -1
			for i := pos; i < len(blocks); i++ {
				if _, taken := blocks[i].heads[ri]; blocks[i].key == key && !taken {
					j = i
					break
				}
			}
			if j < 0 {
				j = pos
				blocks = append(blocks[:j], append([]*mergeBlock{newBlock(key)}, blocks[j:]...)...)
			}
			cur, pos = blocks[j], j+1
			if banner {
				cur.heads[ri] = e
			} else {
				// Events before any banner: a block without one.
				cur.heads[ri] = playbook.Event{}
				cur.bodies[ri] = append(cur.bodies[ri], e)
			}
		}
	}

	var out []playbook.Event
	var play *mergeBlock
	order := map[string]int{} // the current play's hosts → place
	for _, b := range blocks {
		head, ok := b.firstHead()
		if !ok {
			continue
		}
		switch head.Kind {
		case playbook.EventPlay:
			play = b
			var lists [][]string
			for ri := range runs {
				if h, ok := b.heads[ri]; ok {
					lists = append(lists, h.Hosts)
				}
			}
			head.Hosts = interleave(lists)
			order = make(map[string]int, len(head.Hosts))
			for i, h := range head.Hosts {
				order[h] = i
			}
			out = append(out, head)
		case playbook.EventNoMoreHosts:
			// Shown when every run of the play stopped it.
			all := play != nil
			if play != nil {
				for ri := range play.heads {
					if _, ok := b.heads[ri]; !ok {
						all = false
					}
				}
			}
			if all {
				out = append(out, head)
			}
		case "":
		default:
			out = append(out, head)
		}
		out = append(out, b.body(head, order)...)
	}

	stats := map[string]*playbook.HostStats{}
	for _, r := range runs {
		for h, st := range r.stats {
			if st == nil {
				continue
			}
			sum := stats[h]
			if sum == nil {
				sum = &playbook.HostStats{}
				stats[h] = sum
			}
			sum.OK += st.OK
			sum.Changed += st.Changed
			sum.Unreachable += st.Unreachable
			sum.Failed += st.Failed
			sum.Skipped += st.Skipped
			sum.Rescued += st.Rescued
			sum.Ignored += st.Ignored
		}
	}
	return out, stats
}

// firstHead is the block's banner as the earliest run emitted it.
func (b *mergeBlock) firstHead() (playbook.Event, bool) {
	var head playbook.Event
	found := false
	for ri := 0; ri < len(b.bodies); ri++ {
		h, ok := b.heads[ri]
		if !ok {
			continue
		}
		if !found || (!h.Time.IsZero() && h.Time.Before(head.Time)) {
			head, found = h, true
		}
	}
	return head, found
}

// body merges the runs' events under one banner by time, each run's in its
// own order. A play that has hosts in some run is not "no hosts matched";
// an include loaded by several runs is one line for all their hosts, in
// the play's order.
func (b *mergeBlock) body(head playbook.Event, order map[string]int) []playbook.Event {
	next := make([]int, len(b.bodies))
	var out []playbook.Event
	included := map[string]int{} // file and item → index in out
	noHosts := head.Kind == playbook.EventPlay && len(head.Hosts) == 0
	for {
		ri := -1
		for i, l := range b.bodies {
			if next[i] < len(l) && (ri < 0 || l[next[i]].Time.Before(b.bodies[ri][next[ri]].Time)) {
				ri = i
			}
		}
		if ri < 0 {
			return out
		}
		e := b.bodies[ri][next[ri]]
		next[ri]++
		switch e.Kind {
		case playbook.EventNoHosts:
			if !noHosts {
				continue
			}
			noHosts = false // once
		case playbook.EventIncluded:
			key := e.Msg + "\x00" + fmt.Sprint(e.HasItem, e.Item)
			if i, ok := included[key]; ok {
				hosts := append(append([]string(nil), out[i].Hosts...), e.Hosts...)
				sort.SliceStable(hosts, func(x, y int) bool { return order[hosts[x]] < order[hosts[y]] })
				out[i].Hosts = hosts
				continue
			}
			included[key] = len(out)
		}
		out = append(out, e)
	}
}

// interleave merges the slices' host lists back into inventory order: slice
// K holds the hosts at positions K-1, K-1+N, ... of the inventory.
func interleave(lists [][]string) []string {
	var out []string
	seen := map[string]bool{}
	for i := 0; ; i++ {
		more := false
		for _, l := range lists {
			if i < len(l) {
				more = true
				if !seen[l[i]] {
					seen[l[i]] = true
					out = append(out, l[i])
				}
			}
		}
		if !more {
			return out
		}
	}
}
