package vault

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzDecrypt feeds arbitrary data to the parser and decrypter: no panics,
// and every failure is one of the documented errors. The seed corpus is in
// testdata/fuzz/FuzzDecrypt.
func FuzzDecrypt(f *testing.F) {
	f.Add([]byte("$ANSIBLE_VAULT;1.1;AES256\n"))
	f.Add([]byte("$ANSIBLE_VAULT;1.2;AES256;id\n3030\n"))
	s := secrets("default", testPassword, "other", "pw")
	f.Fuzz(func(t *testing.T, data []byte) {
		plain, err := Decrypt(data, s)
		if err == nil {
			// Whatever decrypted must survive a round trip.
			enc, err := Encrypt(plain, []byte("pw"), "x")
			if errors.Is(err, ErrAlreadyEncrypted) {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			back, err := Decrypt(enc, s)
			if err != nil || !bytes.Equal(back, plain) {
				t.Fatalf("round trip: %v", err)
			}
			return
		}
		for _, want := range []error{ErrNotEncrypted, ErrFormat, ErrDecrypt} {
			if errors.Is(err, want) {
				return
			}
		}
		t.Fatalf("undocumented error: %v", err)
	})
}
