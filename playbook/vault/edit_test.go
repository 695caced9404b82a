package vault

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeEditor records the temporary file it was given and its mode, then
// replaces the content.
type fakeEditor struct {
	path    string
	mode    os.FileMode
	before  string
	content *string // nil: leave the file unchanged
	err     error
}

func (f *fakeEditor) edit(ctx context.Context, path string) error {
	f.path = path
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	f.mode = fi.Mode().Perm()
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	f.before = string(b)
	if f.err != nil {
		return f.err
	}
	if f.content != nil {
		return os.WriteFile(path, []byte(*f.content), 0o600)
	}
	return nil
}

func ptr(s string) *string { return &s }

func TestEditFile(t *testing.T) {
	tests := []struct {
		name      string
		label     string
		content   *string
		editErr   error
		wantPlain string
		wantHdr   string
		unchanged bool
	}{
		{"changed 1.1", "", ptr("new: value\n"), nil, "new: value\n", "$ANSIBLE_VAULT;1.1;AES256\n", false},
		{"changed keeps vault id", "prod", ptr("new\n"), nil, "new\n", "$ANSIBLE_VAULT;1.2;AES256;prod\n", false},
		{"unchanged is not rewritten", "", nil, nil, "old: value\n", "$ANSIBLE_VAULT;1.1;AES256\n", true},
		{"editor fails", "", ptr("ignored"), errors.New("exit status 1"), "old: value\n", "$ANSIBLE_VAULT;1.1;AES256\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, tmp := t.TempDir(), t.TempDir()
			path := filepath.Join(dir, "secrets.yml")
			orig, err := Encrypt([]byte("old: value\n"), []byte("pw"), tt.label)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, orig, 0o640); err != nil {
				t.Fatal(err)
			}
			ed := &fakeEditor{content: tt.content, err: tt.editErr}
			// the secret that works is the second; the label in the
			// header only orders the attempts.
			err = EditFile(context.Background(), path, secrets("a", "wrong", "b", "pw"), tmp, ed.edit)
			if (err != nil) != (tt.editErr != nil) {
				t.Fatalf("EditFile error = %v", err)
			}
			if ed.before != "old: value\n" {
				t.Errorf("editor saw %q", ed.before)
			}
			if ed.mode != 0o600 {
				t.Errorf("temporary file mode %o, want 600", ed.mode)
			}
			if filepath.Ext(ed.path) != ".yml" || filepath.Dir(ed.path) != tmp {
				t.Errorf("temporary file %s: want a .yml in %s", ed.path, tmp)
			}
			if left, _ := os.ReadDir(tmp); len(left) != 0 {
				t.Errorf("temporary files left behind: %v", left)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if tt.unchanged && string(got) != string(orig) {
				t.Error("file rewritten although nothing changed")
			}
			if !strings.HasPrefix(string(got), tt.wantHdr) {
				t.Errorf("header %q, want %q", strings.SplitN(string(got), "\n", 2)[0], tt.wantHdr)
			}
			plain, err := Decrypt(got, secrets("x", "pw"))
			if err != nil || string(plain) != tt.wantPlain {
				t.Errorf("file holds %q (%v), want %q", plain, err, tt.wantPlain)
			}
			if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o640 {
				t.Errorf("mode %o, want 640 kept", fi.Mode().Perm())
			}
			if left, _ := os.ReadDir(dir); len(left) != 1 {
				t.Errorf("files in the vault's directory: %v", left)
			}
		})
	}
}

func TestEditFileWrongPassword(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v")
	orig, _ := Encrypt([]byte("x"), []byte("pw"), "")
	if err := os.WriteFile(path, orig, 0o600); err != nil {
		t.Fatal(err)
	}
	ed := &fakeEditor{}
	err := EditFile(context.Background(), path, secrets("a", "wrong"), t.TempDir(), ed.edit)
	if !errors.Is(err, ErrDecrypt) {
		t.Fatalf("error = %v, want ErrDecrypt", err)
	}
	if ed.path != "" {
		t.Error("editor ran although the file could not be decrypted")
	}
}

func TestCreateFile(t *testing.T) {
	tests := []struct {
		name    string
		exists  bool
		content *string
		label   string
		wantErr string
		wantHdr string
	}{
		{"new file", false, ptr("a: 1\n"), "default", "", "$ANSIBLE_VAULT;1.1;AES256\n"},
		{"new file with vault id", false, ptr("a: 1\n"), "dev", "", "$ANSIBLE_VAULT;1.2;AES256;dev\n"},
		{"exists", true, ptr("a: 1\n"), "default", "exists, use edit", ""},
		{"left empty", false, nil, "default", "left empty", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "sub", "dir", "new.yml")
			if tt.exists {
				os.MkdirAll(filepath.Dir(path), 0o700)
				os.WriteFile(path, []byte("keep"), 0o600)
			}
			ed := &fakeEditor{content: tt.content}
			err := CreateFile(context.Background(), path, Secret{Label: tt.label, Password: []byte("pw")}, t.TempDir(), ed.edit)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				if tt.exists {
					if b, _ := os.ReadFile(path); string(b) != "keep" {
						t.Error("existing file was changed")
					}
				} else if _, err := os.Stat(path); err == nil {
					t.Error("file written")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(path)
			if !strings.HasPrefix(string(got), tt.wantHdr) {
				t.Errorf("header of %q", got)
			}
			if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
				t.Errorf("mode %o, want 600", fi.Mode().Perm())
			}
			plain, err := Decrypt(got, secrets("x", "pw"))
			if err != nil || string(plain) != *tt.content {
				t.Errorf("file holds %q (%v)", plain, err)
			}
		})
	}
}

func TestWriteFileFollowsSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	link := filepath.Join(dir, "link")
	if err := os.WriteFile(target, []byte("old"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(link, []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("link replaced: %v", err)
	}
	if b, _ := os.ReadFile(target); string(b) != "new" {
		t.Errorf("target holds %q", b)
	}
	if fi, _ := os.Stat(target); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %o, want 640", fi.Mode().Perm())
	}
}
