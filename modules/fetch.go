package modules

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Fetch is the fetch module: it copies a file from the target to the
// controller, under dest/<inventory_hostname>/<path> or, with flat, to
// dest itself. The remote checksum is read first (one exec) and compared
// with the local copy, so an unchanged file is not transferred.
type Fetch struct{}

var _ Module = Fetch{}

// Spec describes fetch's arguments.
func (Fetch) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "src", Type: TypePath, Required: true},
			{Name: "dest", Type: TypePath, Required: true},
			{Name: "flat", Type: TypeBool, Default: false},
			{Name: "fail_on_missing", Type: TypeBool, Default: true},
			{Name: "validate_checksum", Type: TypeBool, Default: true},
		},
		CheckMode: true,
	}
}

// Run fetches.
func (Fetch) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	src, dest := args.String("src"), args.String("dest")
	st, err := ReadFile(ctx, env.Conn, src, ReadOptions{Follow: true})
	if err != nil {
		return FailResult(err, map[string]any{"file": src})
	}
	if !st.Exists {
		msg := "the remote file does not exist, not transferring, ignored"
		if args.Bool("fail_on_missing") {
			return Result{Failed: true, Msg: "file not found: " + st.Path, Values: map[string]any{"file": st.Path}}, nil
		}
		return Result{Msg: msg, Values: map[string]any{"file": st.Path}}, nil
	}
	if st.Type == TypeDirectory {
		return Result{Failed: true, Msg: "remote file is a directory, fetch cannot work on directories", Values: map[string]any{"file": st.Path}}, nil
	}
	remote := path.Clean(st.Path)
	var local string
	if args.Bool("flat") {
		local = dest
		if strings.HasSuffix(dest, "/") {
			local = filepath.Join(dest, path.Base(remote))
		}
	} else {
		local = filepath.Join(dest, env.Host, filepath.FromSlash(remote))
	}
	local = filepath.Clean(local)
	values := map[string]any{"dest": local, "file": st.Path, "remote_checksum": st.Checksum, "checksum": st.Checksum}
	if old, err := os.ReadFile(local); err == nil {
		s := sha1.Sum(old)
		if hex.EncodeToString(s[:]) == st.Checksum {
			m := md5.Sum(old)
			values["md5sum"] = hex.EncodeToString(m[:])
			return Result{Values: values}, nil
		}
	}
	r := Result{Changed: true, Values: values}
	if env.Check {
		return r, nil
	}
	if err := os.MkdirAll(filepath.Dir(local), 0o755); err != nil {
		return Result{Failed: true, Msg: fmt.Sprintf("create %s: %v", filepath.Dir(local), err), Values: values}, nil
	}
	f, err := os.CreateTemp(filepath.Dir(local), ".mdo-fetch-*")
	if err != nil {
		return Result{Failed: true, Msg: err.Error(), Values: values}, nil
	}
	defer os.Remove(f.Name()) // no-op after the rename
	h, m := sha1.New(), md5.New()
	err = env.Conn.Get(ctx, st.Path, io.MultiWriter(f, h, m))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Result{}, fmt.Errorf("fetch %s: %w", st.Path, err)
	}
	got := hex.EncodeToString(h.Sum(nil))
	values["md5sum"] = hex.EncodeToString(m.Sum(nil))
	if args.Bool("validate_checksum") && got != st.Checksum {
		return Result{Failed: true, Msg: "checksum mismatch", Values: values}, nil
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return Result{Failed: true, Msg: err.Error(), Values: values}, nil
	}
	if err := os.Rename(f.Name(), local); err != nil {
		return Result{Failed: true, Msg: err.Error(), Values: values}, nil
	}
	return r, nil
}
