package main

import (
	"fmt"
	"os"

	"github.com/mdo-play/mdo-play/playbook"
)

// teeSink sends every event to each of its sinks in order. Order matters
// for sinks that share a terminal: put the one that prints last.
type teeSink []playbook.Sink

var _ playbook.Sink = teeSink(nil)

func (t teeSink) Emit(e playbook.Event) {
	for _, s := range t {
		s.Emit(e)
	}
}

// logFile is --log-file: the full event stream appended to a file as JSON
// lines, in the schema of --output json (docs/json-output.md). Each event is
// one write(2) on an O_APPEND descriptor, so runs that share a log file
// interleave whole lines, never parts of them.
type logFile struct {
	*jsonSink
	f *os.File
}

// openLogFile opens (creating it 0600 if needed) path for appending. The
// log holds results of every task, so it is private to the user by default;
// an existing file keeps its mode. Close it when the run ends.
func openLogFile(path string) (*logFile, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open log file: %w", err)
	}
	return &logFile{jsonSink: newJSONSink(f), f: f}, nil
}

// Close flushes nothing (every event is written as it comes) and closes the
// file, reporting a write error the OS kept for the close.
func (l *logFile) Close() error {
	if err := l.f.Close(); err != nil {
		return fmt.Errorf("close log file: %w", err)
	}
	return nil
}
