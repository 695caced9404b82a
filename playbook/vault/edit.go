package vault

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Editor lets the user edit the file at path (a 0600 temporary file holding
// plaintext) and returns when they are done. The command line runs
// $EDITOR; tests pass a function.
type Editor func(ctx context.Context, path string) error

// EditFile decrypts the vault at path into a private temporary file in
// tmpDir ("" for the system default), runs edit on it, and when the
// content changed encrypts it again with the password that decrypted it,
// keeping the vault id of the header. The temporary file is overwritten
// and removed whatever happens.
func EditFile(ctx context.Context, path string, s Secrets, tmpDir string, edit Editor) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	env, err := ParseEnvelope(data)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	plain, sec, err := DecryptSecret(data, s)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	label := ""
	if env.Version == "1.2" {
		label = env.Label
	}
	edited, err := editPlain(ctx, path, plain, tmpDir, edit)
	if err != nil {
		return err
	}
	if bytes.Equal(edited, plain) {
		return nil
	}
	out, err := Encrypt(edited, sec.Password, label)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return WriteFile(path, out, 0o600)
}

// CreateFile runs edit on an empty private temporary file and writes what
// the user typed, encrypted with sec, to path, which must not exist yet.
// Missing parent directories are created. Nothing is written when the user
// leaves the file empty.
func CreateFile(ctx context.Context, path string, sec Secret, tmpDir string, edit Editor) error {
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("%s exists, use edit instead", path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	edited, err := editPlain(ctx, path, nil, tmpDir, edit)
	if err != nil {
		return err
	}
	if len(edited) == 0 {
		return fmt.Errorf("%s: nothing written: the file was left empty", path)
	}
	out, err := Encrypt(edited, sec.Password, sec.Label)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
	}
	return WriteFile(path, out, 0o600)
}

// editPlain writes plain to a private temporary file named after path's
// extension (so that editors pick the right syntax), runs edit, and
// returns the new content. The temporary file is zeroed and removed.
func editPlain(ctx context.Context, path string, plain []byte, tmpDir string, edit Editor) ([]byte, error) {
	f, err := os.CreateTemp(tmpDir, "mdo-vault-*"+filepath.Ext(path))
	if err != nil {
		return nil, fmt.Errorf("create temporary file: %w", err)
	}
	tmp := f.Name()
	defer shred(tmp)
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return nil, fmt.Errorf("create temporary file: %w", err)
	}
	if _, err := f.Write(plain); err != nil {
		f.Close()
		return nil, fmt.Errorf("write temporary file: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("write temporary file: %w", err)
	}
	if err := edit(ctx, tmp); err != nil {
		return nil, fmt.Errorf("editor: %w", err)
	}
	edited, err := os.ReadFile(tmp)
	if err != nil {
		return nil, fmt.Errorf("read edited file: %w", err)
	}
	return edited, nil
}

// shred overwrites a file with zeros and removes it, best effort: editors
// that save by renaming leave nothing to overwrite.
func shred(path string) {
	if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() {
		if f, err := os.OpenFile(path, os.O_WRONLY, 0); err == nil {
			f.Write(make([]byte, fi.Size()))
			f.Sync()
			f.Close()
		}
	}
	os.Remove(path)
}

// WriteFile writes data to path through a temporary file in the same
// directory and a rename, so that a reader never sees half a vault. An
// existing file keeps its permissions; a new one gets perm. A symbolic
// link is followed: its target is replaced, not the link.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	if fi, err := os.Stat(path); err == nil {
		perm = fi.Mode().Perm()
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			os.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	ok = true
	return nil
}
