package main

import (
	"io/fs"
	"os"
	"path/filepath"
)

// writeAtomic replaces path with data: a temporary file in the same
// directory, given perm and renamed over it, so that a reader never sees
// half a file and a failed write leaves the old file as it was.
func writeAtomic(path string, data []byte, perm fs.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // gone after the rename; cleans up after an error
	_, werr := tmp.Write(data)
	if err := tmp.Chmod(perm); err != nil && werr == nil {
		werr = err
	}
	if err := tmp.Close(); err != nil && werr == nil {
		werr = err
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	return werr
}
