// Package vault reads and writes Ansible Vault data ($ANSIBLE_VAULT;1.1 and
// 1.2, AES256), loads vault passwords from files, scripts and prompts, and
// decrypts inline !vault YAML values, so that files made by ansible-vault
// work with mdo-play and the reverse.
//
// The format: a header line "$ANSIBLE_VAULT;1.1;AES256" (or
// "$ANSIBLE_VAULT;1.2;AES256;LABEL"), then the hex encoding of
// hex(salt) "\n" hex(hmac) "\n" hex(ciphertext), wrapped at 80 columns.
// PBKDF2-HMAC-SHA256 with 10000 iterations over the password and the salt
// gives 80 bytes: the AES-256 key, the HMAC-SHA256 key and the CTR IV. The
// plaintext is PKCS#7 padded to 16 bytes, encrypted with AES-256-CTR, and
// the HMAC covers the ciphertext; it is checked in constant time before
// anything is decrypted.
//
// Errors never contain a password or plaintext.
package vault

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Header is the text every vault starts with.
const Header = "$ANSIBLE_VAULT"

// DefaultLabel is the vault id of passwords given without a label, and of
// vaults written in format 1.1.
const DefaultLabel = "default"

const (
	iterations = 10000
	keyLen     = 32
	ivLen      = aes.BlockSize
	saltLen    = 32
	lineWidth  = 80
)

// Errors callers branch on; the errors returned wrap one of these.
var (
	// ErrNotEncrypted: the data does not start with the vault header.
	ErrNotEncrypted = errors.New("not vault encrypted data")
	// ErrFormat: the data has the vault header but is malformed.
	ErrFormat = errors.New("vault format error")
	// ErrNoSecrets: the data is encrypted and no vault password was given.
	ErrNoSecrets = errors.New("no vault password was given")
	// ErrDecrypt: none of the passwords given could decrypt the data:
	// wrong passwords, or the data was modified.
	ErrDecrypt = errors.New("decryption failed (no vault secret could decrypt: wrong password or modified data)")
	// ErrAlreadyEncrypted: Encrypt was given data that is already a vault.
	ErrAlreadyEncrypted = errors.New("input is already vault encrypted")
)

// Secret is a vault password with its label (vault id). Its formatted form
// never shows the password.
type Secret struct {
	Label    string
	Password []byte
}

// Format prints the label only, so that a Secret logged by mistake with
// any verb (%v, %+v, %#v, %s) does not leak the password.
func (s Secret) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "vault.Secret{Label: %q, Password: <redacted>}", s.Label)
}

// Secrets are the passwords given to a run, tried in order.
type Secrets []Secret

// Labels returns the labels of s, in order.
func (s Secrets) Labels() []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = x.Label
	}
	return out
}

// Envelope is what a vault's header says.
type Envelope struct {
	Version string // "1.1" or "1.2"
	Cipher  string // "AES256"
	Label   string // the vault id of format 1.2, else DefaultLabel
}

// IsEncrypted reports whether data is vault encrypted: pure ASCII starting
// with "$ANSIBLE_VAULT", as Ansible decides.
func IsEncrypted(data []byte) bool {
	if !bytes.HasPrefix(data, []byte(Header)) {
		return false
	}
	for _, c := range data {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// vaultText is a parsed vault.
type vaultText struct {
	env        Envelope
	salt       []byte
	mac        []byte
	ciphertext []byte
}

// splitLines splits as Python's bytes.splitlines does: on \n, \r and \r\n.
func splitLines(data []byte) [][]byte {
	var out [][]byte
	for len(data) > 0 {
		i := bytes.IndexAny(data, "\r\n")
		if i < 0 {
			out = append(out, data)
			break
		}
		out = append(out, data[:i])
		if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
			i++
		}
		data = data[i+1:]
	}
	return out
}

// parse reads the envelope and the body; it needs no password.
func parse(data []byte) (*vaultText, error) {
	if !IsEncrypted(data) {
		return nil, ErrNotEncrypted
	}
	lines := splitLines(data)
	fields := strings.Split(strings.TrimSpace(string(lines[0])), ";")
	if len(fields) < 3 {
		return nil, fmt.Errorf("%w: header has %d fields, want at least 3", ErrFormat, len(fields))
	}
	if fields[0] != Header {
		return nil, fmt.Errorf("%w: header does not start with %s;", ErrFormat, Header)
	}
	env := Envelope{Version: strings.TrimSpace(fields[1]), Cipher: strings.TrimSpace(fields[2]), Label: DefaultLabel}
	if len(fields) >= 4 {
		env.Label = strings.TrimSpace(fields[3])
	}
	switch env.Version {
	case "1.1", "1.2":
	default:
		return nil, fmt.Errorf("%w: unsupported format version %q", ErrFormat, env.Version)
	}
	if env.Cipher != "AES256" {
		return nil, fmt.Errorf("%w: unsupported cipher %q (only AES256)", ErrFormat, env.Cipher)
	}
	var body []byte
	for _, l := range lines[1:] {
		body = append(body, bytes.Trim(l, " \t")...)
	}
	if len(body) == 0 {
		return nil, fmt.Errorf("%w: no data after the header", ErrFormat)
	}
	inner, err := unhex(body, "body")
	if err != nil {
		return nil, err
	}
	parts := bytes.SplitN(inner, []byte("\n"), 3)
	if len(parts) != 3 {
		return nil, fmt.Errorf("%w: body has %d parts, want salt, hmac and ciphertext", ErrFormat, len(parts))
	}
	v := &vaultText{env: env}
	if v.salt, err = unhex(parts[0], "salt"); err != nil {
		return nil, err
	}
	if v.mac, err = unhex(parts[1], "hmac"); err != nil {
		return nil, err
	}
	if v.ciphertext, err = unhex(parts[2], "ciphertext"); err != nil {
		return nil, err
	}
	if len(v.mac) != sha256.Size {
		return nil, fmt.Errorf("%w: hmac is %d bytes, want %d", ErrFormat, len(v.mac), sha256.Size)
	}
	if len(v.ciphertext) == 0 || len(v.ciphertext)%aes.BlockSize != 0 {
		return nil, fmt.Errorf("%w: ciphertext is %d bytes, want a non-zero multiple of %d", ErrFormat, len(v.ciphertext), aes.BlockSize)
	}
	return v, nil
}

func unhex(b []byte, what string) ([]byte, error) {
	out := make([]byte, hex.DecodedLen(len(b)))
	n, err := hex.Decode(out, b)
	if err != nil {
		// hex errors name the offending byte, which is ciphertext, not a
		// secret; keep the message short anyway.
		return nil, fmt.Errorf("%w: %s is not hex: %v", ErrFormat, what, err)
	}
	return out[:n], nil
}

// ParseEnvelope returns what the header of an encrypted file says.
func ParseEnvelope(data []byte) (Envelope, error) {
	v, err := parse(data)
	if err != nil {
		return Envelope{}, err
	}
	return v.env, nil
}

// deriveKeys returns the AES key, the HMAC key and the IV.
func deriveKeys(password, salt []byte) (aesKey, macKey, iv []byte, err error) {
	k, err := pbkdf2.Key(sha256.New, string(password), salt, iterations, 2*keyLen+ivLen)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("derive key: %w", err)
	}
	return k[:keyLen], k[keyLen : 2*keyLen], k[2*keyLen:], nil
}

func ctr(key, iv, in []byte) ([]byte, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("aes: %w", err)
	}
	out := make([]byte, len(in))
	cipher.NewCTR(block, iv).XORKeyStream(out, in)
	return out, nil
}

func mac(key, data []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write(data)
	return h.Sum(nil)
}

// open decrypts v with one password. ok is false when the HMAC does not
// match (wrong password or modified data).
func (v *vaultText) open(password []byte) (plain []byte, ok bool, err error) {
	aesKey, macKey, iv, err := deriveKeys(password, v.salt)
	if err != nil {
		return nil, false, err
	}
	if !hmac.Equal(mac(macKey, v.ciphertext), v.mac) {
		return nil, false, nil
	}
	padded, err := ctr(aesKey, iv, v.ciphertext)
	if err != nil {
		return nil, false, err
	}
	n := int(padded[len(padded)-1])
	if n == 0 || n > aes.BlockSize || n > len(padded) {
		return nil, false, fmt.Errorf("%w: invalid padding", ErrFormat)
	}
	for _, c := range padded[len(padded)-n:] {
		if int(c) != n {
			return nil, false, fmt.Errorf("%w: invalid padding", ErrFormat)
		}
	}
	return padded[:len(padded)-n], true, nil
}

// Decrypt returns the plaintext of vault data, trying the secrets whose
// label matches the vault's label first, then the others in order (as
// Ansible does by default: the label is a hint, not part of the
// authenticated data).
func Decrypt(data []byte, s Secrets) ([]byte, error) {
	plain, _, err := DecryptSecret(data, s)
	return plain, err
}

// DecryptSecret is Decrypt that also returns the secret that worked, so
// that an editor can encrypt the file again with the same password.
func DecryptSecret(data []byte, s Secrets) ([]byte, Secret, error) {
	v, err := parse(data)
	if err != nil {
		return nil, Secret{}, err
	}
	if len(s) == 0 {
		return nil, Secret{}, ErrNoSecrets
	}
	for _, sec := range ordered(s, v.env.Label) {
		plain, ok, err := v.open(sec.Password)
		if err != nil {
			return nil, Secret{}, err
		}
		if ok {
			return plain, sec, nil
		}
	}
	return nil, Secret{}, fmt.Errorf("%w; tried vault ids %s", ErrDecrypt, strings.Join(s.Labels(), ", "))
}

// ordered puts the secrets labelled label first, keeping the order
// otherwise.
func ordered(s Secrets, label string) Secrets {
	out := make(Secrets, 0, len(s))
	for _, x := range s {
		if x.Label == label {
			out = append(out, x)
		}
	}
	for _, x := range s {
		if x.Label != label {
			out = append(out, x)
		}
	}
	return out
}

// Encrypt returns plain encrypted with password, in format 1.1 when label
// is "" or "default", else in format 1.2 with the label in the header. The
// output ends with a newline, as ansible-vault writes it.
func Encrypt(plain, password []byte, label string) ([]byte, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return nil, fmt.Errorf("read random salt: %w", err)
	}
	return encrypt(plain, password, label, salt)
}

func encrypt(plain, password []byte, label string, salt []byte) ([]byte, error) {
	if len(password) == 0 {
		return nil, errors.New("vault password is empty")
	}
	if strings.ContainsAny(label, ";\r\n") {
		return nil, fmt.Errorf("vault id %q must not contain ';' or a line break", label)
	}
	if IsEncrypted(plain) {
		return nil, ErrAlreadyEncrypted
	}
	aesKey, macKey, iv, err := deriveKeys(password, salt)
	if err != nil {
		return nil, err
	}
	n := aes.BlockSize - len(plain)%aes.BlockSize
	padded := make([]byte, len(plain)+n)
	copy(padded, plain)
	for i := len(plain); i < len(padded); i++ {
		padded[i] = byte(n)
	}
	ct, err := ctr(aesKey, iv, padded)
	if err != nil {
		return nil, err
	}
	inner := strings.Join([]string{hex.EncodeToString(salt), hex.EncodeToString(mac(macKey, ct)), hex.EncodeToString(ct)}, "\n")
	body := hex.EncodeToString([]byte(inner))

	var b strings.Builder
	b.WriteString(Header)
	if label == "" || label == DefaultLabel {
		b.WriteString(";1.1;AES256\n")
	} else {
		b.WriteString(";1.2;AES256;" + label + "\n")
	}
	for len(body) > 0 {
		w := min(lineWidth, len(body))
		b.WriteString(body[:w])
		b.WriteByte('\n')
		body = body[w:]
	}
	return []byte(b.String()), nil
}

// Rekey decrypts data with s and encrypts the plaintext again with the new
// password and label.
func Rekey(data []byte, s Secrets, newPassword []byte, newLabel string) ([]byte, error) {
	plain, err := Decrypt(data, s)
	if err != nil {
		return nil, err
	}
	return Encrypt(plain, newPassword, newLabel)
}
