package modules

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/mdo-play/mdo-play/modules/conn"
	"github.com/mdo-play/mdo-play/modules/conn/local"
)

// oddNames are file names that must survive every remote shell.
var oddNames = []string{"plain", "with space", "quote'single", `quote"double`, "$(touch pwned)", "`touch pwned`", "new\nline", "-dash"}

func sha1Hex(b []byte) string { s := sha1.Sum(b); return hex.EncodeToString(s[:]) }

func TestReadFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, n := range oddNames {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("x\x00y "+n), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("plain", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	big := make([]byte, MaxDiffSize+1)
	if err := os.WriteFile(filepath.Join(dir, "big"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		path    string
		opts    ReadOptions
		typ     string
		content string // "-" means no content
		parent  string
	}{
		{name: "missing", path: filepath.Join(dir, "nope"), typ: TypeAbsent, content: "-", parent: TypeDirectory},
		{name: "missing parent", path: filepath.Join(dir, "nope/x"), typ: TypeAbsent, content: "-", parent: TypeAbsent},
		{name: "parent is a file", path: filepath.Join(dir, "plain/x"), typ: TypeAbsent, content: "-", parent: TypeOther},
		{name: "directory", path: filepath.Join(dir, "sub"), opts: ReadOptions{Content: true}, typ: TypeDirectory, content: "-", parent: TypeDirectory},
		{name: "link", path: filepath.Join(dir, "link"), opts: ReadOptions{Content: true}, typ: TypeLink, content: "-", parent: TypeDirectory},
		{name: "link followed", path: filepath.Join(dir, "link"), opts: ReadOptions{Content: true, Follow: true}, typ: TypeFile, content: "x\x00y plain", parent: TypeDirectory},
		{name: "too big for content", path: filepath.Join(dir, "big"), opts: ReadOptions{Content: true}, typ: TypeFile, content: "-", parent: TypeDirectory},
	}
	for _, n := range oddNames {
		tests = append(tests, struct {
			name    string
			path    string
			opts    ReadOptions
			typ     string
			content string
			parent  string
		}{name: "file " + n, path: filepath.Join(dir, n), opts: ReadOptions{Content: true}, typ: TypeFile, content: "x\x00y " + n, parent: TypeDirectory})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cc := &countingConn{Conn: local.New()}
			st, err := ReadFile(ctx, cc, tt.path, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if n := cc.calls.Load(); n != 1 {
				t.Errorf("round trips = %d, want 1", n)
			}
			if st.Path != tt.path || st.Type != tt.typ || st.Exists != (tt.typ != TypeAbsent) || st.Parent != tt.parent {
				t.Errorf("got path %q type %q exists %v parent %q, want %q %q %q", st.Path, st.Type, st.Exists, st.Parent, tt.path, tt.typ, tt.parent)
			}
			if tt.content == "-" {
				if st.HasContent {
					t.Errorf("unexpected content %q", st.Content)
				}
			} else {
				if !st.HasContent || string(st.Content) != tt.content {
					t.Errorf("content = %q (%v), want %q", st.Content, st.HasContent, tt.content)
				}
				if st.Checksum != sha1Hex([]byte(tt.content)) {
					t.Errorf("checksum = %q, want sha1 of %q", st.Checksum, tt.content)
				}
				if st.Mode != 0o640 || st.Size != int64(len(tt.content)) || st.UID != os.Getuid() || st.Owner == "" {
					t.Errorf("stat = %+v", st)
				}
			}
			if tt.typ == TypeLink && st.LinkTarget != "plain" {
				t.Errorf("link target = %q", st.LinkTarget)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "pwned")); err == nil {
		t.Error("a file name was executed by the shell")
	}
}

func TestReadFilesOneExec(t *testing.T) {
	dir := t.TempDir()
	paths := []string{filepath.Join(dir, "a"), filepath.Join(dir, "b b"), filepath.Join(dir, "c")}
	if err := os.WriteFile(paths[1], []byte("b"), 0o600); err != nil {
		t.Fatal(err)
	}
	cc := &countingConn{Conn: local.New()}
	sts, err := ReadFiles(context.Background(), cc, paths, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n := cc.calls.Load(); n != 1 {
		t.Errorf("round trips = %d, want 1", n)
	}
	got := []bool{sts[0].Exists, sts[1].Exists, sts[2].Exists}
	if len(sts) != 3 || got[0] || !got[1] || got[2] || sts[1].Path != paths[1] || sts[1].Checksum != sha1Hex([]byte("b")) {
		t.Errorf("got %+v", sts)
	}
}

func TestReadFileExpandsHome(t *testing.T) {
	home := t.TempDir()
	if err := os.WriteFile(filepath.Join(home, "f"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", home)
	st, err := ReadFile(context.Background(), local.New(), "~/f", ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Path != filepath.Join(home, "f") || !st.Exists {
		t.Errorf("got %+v", st)
	}
}

// TestSymbolicMode compares ResolveMode with the real chmod.
func TestSymbolicMode(t *testing.T) {
	dir := t.TempDir()
	umask := syscall.Umask(0o022)
	syscall.Umask(umask)
	tests := []struct {
		start uint32
		mode  string
		dir   bool
	}{
		{0o644, "u=rw,g=r,o=", false},
		{0o600, "u+x", false},
		{0o755, "go-w", false},
		{0o644, "a+X", false},
		{0o744, "a+X", false},
		{0o644, "a+X", true},
		{0o640, "o=u", false},
		{0o640, "g=u-w", false},
		{0o600, "+x", false},
		{0o777, "-w", false},
		{0o644, "u+s,g+s,o+t", false},
		{0o6755, "u=rwx,g=rx", false},
		{0o644, "u=rwx,g=rx,o=rx", true},
		{0o000, "a=r", false},
		{0o640, "ug=rw,o+r", false},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			p := filepath.Join(dir, "f")
			os.RemoveAll(p)
			if tt.dir {
				if err := os.Mkdir(p, 0o700); err != nil {
					t.Fatal(err)
				}
			} else if err := os.WriteFile(p, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(p, os.FileMode(tt.start&0o777)|modeBits(tt.start)); err != nil {
				t.Fatal(err)
			}
			// chmod exits 1 when the umask kept bits from changing
			// ("-w"), after applying the mode; the mode is what counts.
			_ = exec.Command("chmod", tt.mode, p).Run()
			var sys syscall.Stat_t
			if err := syscall.Stat(p, &sys); err != nil {
				t.Fatal(err)
			}
			want := sys.Mode & 0o7777
			st := FileState{Mode: tt.start, Umask: uint32(umask)}
			got, err := ResolveMode(tt.mode, st, tt.dir)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("%04o %s: got %04o, chmod gives %04o", tt.start, tt.mode, got, want)
			}
		})
	}
	for _, bad := range []string{"u=rw,g=r,o", "z=rw", "u=q", "0999", "077777"} {
		if _, err := ResolveMode(bad, FileState{}, false); err == nil {
			t.Errorf("ResolveMode(%q) accepted", bad)
		}
	}
}

func modeBits(m uint32) os.FileMode {
	var out os.FileMode
	if m&0o4000 != 0 {
		out |= os.ModeSetuid
	}
	if m&0o2000 != 0 {
		out |= os.ModeSetgid
	}
	if m&0o1000 != 0 {
		out |= os.ModeSticky
	}
	return out
}

func TestModeWarning(t *testing.T) {
	for mode, warn := range map[string]bool{"1204": true, "0644": false, "644": false, "u=rw": false, "1777": false} {
		if got := ModeWarning(mode) != ""; got != warn {
			t.Errorf("ModeWarning(%q) = %v, want %v", mode, got, warn)
		}
	}
}

// truncatingConn feeds only half of every stdin, as a dropped connection
// would.
type truncatingConn struct{ conn.Conn }

func (c truncatingConn) Exec(ctx context.Context, cmd conn.Command) (conn.ExecResult, error) {
	cmd.Stdin = cmd.Stdin[:len(cmd.Stdin)/2]
	return c.Conn.Exec(ctx, cmd)
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

func TestWriteFile(t *testing.T) {
	ctx := context.Background()
	umask := syscall.Umask(0o022)
	syscall.Umask(umask)
	tests := []struct {
		name     string
		existing *uint32 // mode of an existing file with "old\n"
		file     string
		opts     WriteOptions
		conn     func(conn.Conn) conn.Conn
		content  string
		wantMode uint32
		failOp   string // expected FileError.Op; destination untouched
		backup   bool
	}{
		{name: "new file gets 0666 without umask", content: "new\n", wantMode: 0o666 &^ uint32(umask)},
		{name: "existing mode kept", existing: ptr(uint32(0o600)), content: "new\n", wantMode: 0o600},
		{name: "mode given", existing: ptr(uint32(0o600)), opts: WriteOptions{Attrs: Attrs{Mode: "0640"}}, content: "new\n", wantMode: 0o640},
		{name: "symbolic mode on existing", existing: ptr(uint32(0o600)), opts: WriteOptions{Attrs: Attrs{Mode: "g+r,o+r"}}, content: "new\n", wantMode: 0o644},
		{name: "odd name", file: "we'ird $(touch pwned) `x`\nname", content: "new\n", wantMode: 0o666 &^ uint32(umask)},
		{name: "backup", existing: ptr(uint32(0o640)), opts: WriteOptions{Backup: true}, content: "new\n", wantMode: 0o640, backup: true},
		{name: "validate passes", opts: WriteOptions{Validate: "grep -q new %s"}, content: "new\n", wantMode: 0o666 &^ uint32(umask)},
		{name: "validate fails", existing: ptr(uint32(0o644)), opts: WriteOptions{Validate: "grep -q absent %s"}, content: "new\n", failOp: "validate"},
		{name: "validate without %s", opts: WriteOptions{Validate: "true"}, content: "new\n", failOp: "validate"},
		{name: "bad owner", existing: ptr(uint32(0o644)), opts: WriteOptions{Attrs: Attrs{Owner: "no-such-user-mdo"}}, content: "new\n", failOp: "chown"},
		{name: "dropped stdin", existing: ptr(uint32(0o644)), conn: func(c conn.Conn) conn.Conn { return truncatingConn{c} }, content: "new content\n", failOp: "write"},
		{name: "empty content", existing: ptr(uint32(0o644)), content: "", wantMode: 0o644},
		{name: "missing directory", file: "nodir/f", content: "x", failOp: "mktemp"},
		{name: "mkdir parents", file: "a/b/f", opts: WriteOptions{MkdirParents: true}, content: "x", wantMode: 0o666 &^ uint32(umask)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			name := tt.file
			if name == "" {
				name = "dest"
			}
			p := filepath.Join(dir, name)
			if tt.existing != nil {
				if err := os.WriteFile(p, []byte("old\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(p, os.FileMode(*tt.existing)); err != nil {
					t.Fatal(err)
				}
			}
			var c conn.Conn = local.New()
			if tt.conn != nil {
				c = tt.conn(c)
			}
			cc := &countingConn{Conn: c}
			before, err := ReadFile(ctx, cc, p, ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			o := tt.opts
			o.Before = before
			wr, err := WriteFile(ctx, cc, []byte(tt.content), o)
			want := int32(2)
			if strings.Contains(tt.name, "without %s") {
				want = 1 // refused before any exec
			}
			if n := cc.calls.Load(); n != want {
				t.Errorf("round trips = %d, want %d", n, want)
			}
			if tt.failOp != "" {
				var fe *FileError
				if !errors.As(err, &fe) || fe.Op != tt.failOp {
					t.Fatalf("err = %v, want a %s FileError", err, tt.failOp)
				}
				if res, rerr := FailResult(err, nil); rerr != nil || !res.Failed || res.Msg == "" {
					t.Errorf("FailResult = %+v, %v", res, rerr)
				}
				if tt.existing != nil {
					if got, _ := os.ReadFile(p); string(got) != "old\n" {
						t.Errorf("destination changed to %q", got)
					}
				}
				if ents := listDir(t, dir); len(ents) > 1 || (len(ents) == 1 && tt.existing == nil) {
					t.Errorf("left behind: %q", ents)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(p)
			if err != nil || string(got) != tt.content {
				t.Fatalf("content %q, %v", got, err)
			}
			fi, _ := os.Stat(p)
			if uint32(fi.Mode().Perm()) != tt.wantMode || wr.After.Mode != tt.wantMode || wr.After.Size != int64(len(tt.content)) || wr.After.Path != p {
				t.Errorf("mode %o, after %+v, want mode %o", fi.Mode().Perm(), wr.After, tt.wantMode)
			}
			ents := listDir(t, filepath.Dir(p))
			if tt.backup {
				re := regexp.MustCompile(`^dest\.\d+\.\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d~$`)
				if len(ents) != 2 || !re.MatchString(filepath.Base(wr.BackupFile)) {
					t.Fatalf("backup %q, dir %q", wr.BackupFile, ents)
				}
				if b, _ := os.ReadFile(wr.BackupFile); string(b) != "old\n" {
					t.Errorf("backup holds %q", b)
				}
			} else if len(ents) != 1 || wr.BackupFile != "" {
				t.Errorf("dir holds %q, backup %q", ents, wr.BackupFile)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestSetAttrsAndPlan(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := ReadFile(ctx, local.New(), p, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	me := st.Owner
	plan, err := PlanAttrs(st, Attrs{Mode: "0644", Owner: me})
	if err != nil {
		t.Fatal(err)
	}
	if !plan.Changed || plan.Owner != "" || plan.Mode == nil || *plan.Mode != 0o644 {
		t.Fatalf("plan = %+v", plan)
	}
	d := AttrDiff(plan.Before, plan.After)
	if d.Before != "{\n    \"mode\": \"0600\"\n}\n" || d.After != "{\n    \"mode\": \"0644\"\n}\n" {
		t.Errorf("diff = %q / %q", d.Before, d.After)
	}
	cc := &countingConn{Conn: local.New()}
	after, err := SetAttrs(ctx, cc, st, plan, false)
	if err != nil {
		t.Fatal(err)
	}
	if after.Mode != 0o644 || cc.calls.Load() != 1 {
		t.Errorf("after %+v in %d calls", after, cc.calls.Load())
	}
	again, err := PlanAttrs(after, Attrs{Mode: "0644", Owner: me, Group: strings.TrimSpace(after.Group)})
	if err != nil || again.Changed {
		t.Errorf("second plan = %+v, %v", again, err)
	}
}

func TestContentDiff(t *testing.T) {
	d := ContentDiff("/etc/x", []byte("a\n"), true, []byte("b\n"), "dynamically generated")
	if d.BeforeHeader != "/etc/x" || d.AfterHeader != "dynamically generated" || d.Before != "a\n" || d.After != "b\n" {
		t.Errorf("got %+v", d)
	}
	d = ContentDiff("/etc/x", []byte("a\x00"), true, make([]byte, MaxDiffSize+1), "src")
	if !strings.Contains(d.Before, "binary") || !strings.Contains(d.After, "greater than") {
		t.Errorf("got %+v", d)
	}
}

// TestReadFileContentLimit: content up to MaxContent comes with the
// checksum (computed on the controller), a larger file only with sha1sum's.
func TestReadFileContentLimit(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name        string
		data        string
		o           ReadOptions
		wantContent bool
		wantSum     bool
	}{
		{"at the limit", "12345", ReadOptions{Content: true, MaxContent: 5}, true, true},
		{"over the limit", "123456", ReadOptions{Content: true, MaxContent: 5}, false, true},
		{"no limit", "123456", ReadOptions{Content: true, MaxContent: -1}, true, true},
		{"content without checksum", "12345", ReadOptions{Content: true, MaxContent: 5, NoChecksum: true}, true, false},
		{"over the limit without checksum", "123456", ReadOptions{Content: true, MaxContent: 5, NoChecksum: true}, false, false},
		{"empty file", "", ReadOptions{Content: true}, true, true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, strconv.Itoa(i))
			if err := os.WriteFile(p, []byte(tt.data), 0o644); err != nil {
				t.Fatal(err)
			}
			st, err := ReadFile(context.Background(), local.New(), p, tt.o)
			if err != nil {
				t.Fatal(err)
			}
			if st.HasContent != tt.wantContent || (tt.wantContent && string(st.Content) != tt.data) {
				t.Errorf("content %q (%v), want it: %v", st.Content, st.HasContent, tt.wantContent)
			}
			want := ""
			if tt.wantSum {
				want = sha1Hex([]byte(tt.data))
			}
			if st.Checksum != want || st.Size != int64(len(tt.data)) {
				t.Errorf("checksum %q, size %d; want %q, %d", st.Checksum, st.Size, want, len(tt.data))
			}
		})
	}
}

// statLogConn runs every command with a stat first in PATH that logs its
// arguments, to count stat processes.
type statLogConn struct {
	conn.Conn
	bin, log string
}

func (c statLogConn) Exec(ctx context.Context, cmd conn.Command) (conn.ExecResult, error) {
	cmd.Script = "PATH=" + conn.Quote(c.bin) + ":$PATH\n" + cmd.Script
	return c.Conn.Exec(ctx, cmd)
}

// statLogDir returns a directory for a test's files, and in it a bin
// directory whose stat logs a line to log for each call, then runs the
// real one (statLogConn puts bin first on the PATH).
func statLogDir(t *testing.T) (dir, bin, log string) {
	t.Helper()
	dir = t.TempDir()
	bin = filepath.Join(dir, "bin")
	log = filepath.Join(dir, "stat.log")
	real, err := exec.LookPath("stat")
	if err != nil {
		t.Skip("no stat")
	}
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "stat"), []byte("#!/bin/sh\necho x >>"+conn.Quote(log)+"\nexec "+conn.Quote(real)+" \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir, bin, log
}

// TestReadFileMissingWithoutStat: a missing path in a searchable directory
// is described without a stat process; everything else still asks stat.
func TestReadFileMissingWithoutStat(t *testing.T) {
	dir, bin, log := statLogDir(t)
	d := filepath.Join(dir, "d")
	if err := os.Mkdir(d, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"file", "dangling"} {
		var err error
		if f == "dangling" {
			err = os.Symlink("nowhere", filepath.Join(d, f))
		} else {
			err = os.WriteFile(filepath.Join(d, f), nil, 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	long := strings.Repeat("x", 300)
	tests := []struct {
		name, path string
		o          ReadOptions
		typ        string
		parent     string
		stats      int
		failed     bool
	}{
		{"missing", d + "/missing", ReadOptions{}, TypeAbsent, TypeDirectory, 0, false},
		{"missing, long name", d + "/" + long[:100], ReadOptions{}, TypeAbsent, TypeDirectory, 1, false},
		{"name too long", d + "/" + long, ReadOptions{}, TypeAbsent, TypeDirectory, 1, true},
		{"missing parent", d + "/no/missing", ReadOptions{}, TypeAbsent, TypeAbsent, 1, false},
		{"under a file", d + "/file/x", ReadOptions{}, TypeAbsent, TypeOther, 1, false},
		{"existing", d + "/file", ReadOptions{NoChecksum: true}, TypeFile, TypeDirectory, 1, false},
		{"dangling link", d + "/dangling", ReadOptions{}, TypeLink, TypeDirectory, 1, false},
		{"dangling link followed", d + "/dangling", ReadOptions{Follow: true}, TypeAbsent, TypeDirectory, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			os.Remove(log)
			st, err := ReadFile(context.Background(), statLogConn{local.New(), bin, log}, tt.path, tt.o)
			var fe *FileError
			if tt.failed != errors.As(err, &fe) || (err != nil && fe == nil) {
				t.Fatalf("err = %v, want a FileError: %v", err, tt.failed)
			}
			if !tt.failed && (st.Type != tt.typ || st.Parent != tt.parent) {
				t.Errorf("type %s, parent %s; want %s, %s", st.Type, st.Parent, tt.typ, tt.parent)
			}
			b, _ := os.ReadFile(log)
			if n := strings.Count(string(b), "x"); n != tt.stats {
				t.Errorf("%d stat processes, want %d", n, tt.stats)
			}
		})
	}
}

// TestReadFilesChildOfNonDirectory: in one read, a path inside an earlier
// path that is not a directory (copy's dest/basename when dest is a file
// or missing) is absent without a stat process, and is described as a
// read of its own would describe it.
func TestReadFilesChildOfNonDirectory(t *testing.T) {
	dir, bin, log := statLogDir(t)
	d := filepath.Join(dir, "d")
	if err := os.MkdirAll(filepath.Join(d, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"file", "sub/f"} {
		if err := os.WriteFile(filepath.Join(d, f), []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("sub", filepath.Join(d, "link")); err != nil {
		t.Fatal(err)
	}
	c := statLogConn{local.New(), bin, log}
	tests := []struct {
		name  string
		paths []string
		stats int
	}{
		{"under a file", []string{d + "/file", d + "/file/f"}, 1},
		{"under a missing path", []string{d + "/no", d + "/no/f"}, 0},
		{"under a directory", []string{d + "/sub", d + "/sub/f"}, 2},
		{"under a link to a directory", []string{d + "/link", d + "/link/f"}, 2},
		{"a tree", []string{d, d + "/sub", d + "/sub/f", d + "/file", d + "/file/x", d + "/no", d + "/no/y", d + "/elsewhere/z"}, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			os.Remove(log)
			sts, err := ReadFiles(context.Background(), c, tt.paths, ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			b, _ := os.ReadFile(log)
			if n := strings.Count(string(b), "x"); n != tt.stats {
				t.Errorf("%d stat processes, want %d", n, tt.stats)
			}
			for i, p := range tt.paths {
				alone, err := ReadFile(context.Background(), local.New(), p, ReadOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(sts[i], alone) {
					t.Errorf("%s: in the list %+v, alone %+v", p, sts[i], alone)
				}
			}
		})
	}
}
