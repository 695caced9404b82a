package modules

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// Htpasswd is community.general.htpasswd: it adds, updates and removes
// user:hash lines of a basic-authentication password file, as the
// collection's module does with passlib's HtpasswdFile. The hashes are
// made and checked here, on the controller (no passlib, no htpasswd
// program and no password on a target's command line): apr_md5_crypt (the
// default), md5_crypt, bcrypt, ldap_sha1 and plaintext. The file is read
// and written with the shared file helpers (one exec to read, one to
// write atomically with mode, owner and group).
type Htpasswd struct{}

var _ Module = Htpasswd{}

// Spec describes htpasswd's arguments.
func (Htpasswd) Spec() *Spec {
	return &Spec{
		Args: append(fileAttrArgs(),
			Arg{Name: "path", Aliases: []string{"dest", "destfile"}, Type: TypePath, Required: true},
			Arg{Name: "name", Aliases: []string{"username"}, Type: TypeStr, Required: true},
			Arg{Name: "password", Type: TypeStr, NoLog: true},
			Arg{Name: "hash_scheme", Aliases: []string{"crypt_scheme"}, Type: TypeStr, Default: "apr_md5_crypt"},
			Arg{Name: "state", Type: TypeStr, Default: "present", Choices: []string{"present", "absent"}},
			Arg{Name: "create", Type: TypeBool, Default: true},
		),
		CheckMode: true,
	}
}

// htpasswdSchemes are the hash schemes mdo-play makes.
var htpasswdSchemes = []string{"apr_md5_crypt", "md5_crypt", "bcrypt", "ldap_sha1", "plaintext"}

// cryptAlphabet is crypt(3)'s base-64 alphabet.
const cryptAlphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// md5Crypt is the MD5-based crypt of FreeBSD ($1$) and Apache ($apr1$),
// for a salt of up to 8 characters.
func md5Crypt(pw, salt, magic string) string {
	if len(salt) > 8 {
		salt = salt[:8]
	}
	alt := md5.Sum([]byte(pw + salt + pw))
	h := md5.New()
	h.Write([]byte(pw + magic + salt))
	for i := len(pw); i > 0; i -= 16 {
		h.Write(alt[:min(16, i)])
	}
	for i := len(pw); i > 0; i >>= 1 {
		if i&1 != 0 {
			h.Write([]byte{0})
		} else {
			h.Write([]byte(pw[:1]))
		}
	}
	final := h.Sum(nil)
	for i := 0; i < 1000; i++ {
		c := md5.New()
		if i&1 != 0 {
			c.Write([]byte(pw))
		} else {
			c.Write(final)
		}
		if i%3 != 0 {
			c.Write([]byte(salt))
		}
		if i%7 != 0 {
			c.Write([]byte(pw))
		}
		if i&1 != 0 {
			c.Write(final)
		} else {
			c.Write([]byte(pw))
		}
		final = c.Sum(nil)
	}
	var b strings.Builder
	b.WriteString(magic + salt + "$")
	to64 := func(v uint32, n int) {
		for ; n > 0; n-- {
			b.WriteByte(cryptAlphabet[v&0x3f])
			v >>= 6
		}
	}
	f := func(i int) uint32 { return uint32(final[i]) }
	to64(f(0)<<16|f(6)<<8|f(12), 4)
	to64(f(1)<<16|f(7)<<8|f(13), 4)
	to64(f(2)<<16|f(8)<<8|f(14), 4)
	to64(f(3)<<16|f(9)<<8|f(15), 4)
	to64(f(4)<<16|f(10)<<8|f(5), 4)
	to64(f(11), 2)
	return b.String()
}

// cryptSalt returns n random characters of crypt's alphabet.
func cryptSalt(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	for i := range b {
		b[i] = cryptAlphabet[int(b[i])%len(cryptAlphabet)]
	}
	return string(b), nil
}

// htpasswdHash hashes pw with scheme.
func htpasswdHash(scheme, pw string) (string, error) {
	switch scheme {
	case "apr_md5_crypt", "md5_crypt":
		salt, err := cryptSalt(8)
		if err != nil {
			return "", err
		}
		magic := "$apr1$"
		if scheme == "md5_crypt" {
			magic = "$1$"
		}
		return md5Crypt(pw, salt, magic), nil
	case "bcrypt":
		// passlib's default: $2b$, 12 rounds (Go writes the same hash as $2a$).
		h, err := bcrypt.GenerateFromPassword([]byte(pw), 12)
		if err != nil {
			return "", err
		}
		return "$2b$" + strings.TrimPrefix(string(h), "$2a$"), nil
	case "ldap_sha1":
		s := sha1.Sum([]byte(pw))
		return "{SHA}" + base64.StdEncoding.EncodeToString(s[:]), nil
	case "plaintext":
		return pw, nil
	}
	return "", fmt.Errorf("hash_scheme %s is not supported by mdo-play (supported: %s)", scheme, strings.Join(htpasswdSchemes, ", "))
}

// htpasswdVerify reports whether pw matches hash, identified by its form
// as passlib's contexts identify it; a hash of no known form is compared
// as plaintext (passlib's last resort).
func htpasswdVerify(pw, hash string) bool {
	switch {
	case strings.HasPrefix(hash, "$apr1$"), strings.HasPrefix(hash, "$1$"):
		magic := "$apr1$"
		if strings.HasPrefix(hash, "$1$") {
			magic = "$1$"
		}
		salt, _, _ := strings.Cut(hash[len(magic):], "$")
		return subtle.ConstantTimeCompare([]byte(md5Crypt(pw, salt, magic)), []byte(hash)) == 1
	case strings.HasPrefix(hash, "$2a$"), strings.HasPrefix(hash, "$2b$"), strings.HasPrefix(hash, "$2y$"):
		return bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)) == nil
	case strings.HasPrefix(hash, "{SHA}"):
		s := sha1.Sum([]byte(pw))
		return subtle.ConstantTimeCompare([]byte("{SHA}"+base64.StdEncoding.EncodeToString(s[:])), []byte(hash)) == 1
	}
	return subtle.ConstantTimeCompare([]byte(pw), []byte(hash)) == 1
}

// Run keeps the user's line.
func (Htpasswd) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	p, name, scheme := args.String("path"), args.String("name"), args.String("hash_scheme")
	present := args.String("state") == "present"
	_, hasPassword := args["password"]
	password := args.String("password")
	if present {
		if !hasPassword || args["password"] == nil {
			return Result{Failed: true, Msg: "secret must be unicode or bytes, not None"}, nil
		}
		if !contains(htpasswdSchemes, scheme) {
			return Result{Failed: true, Msg: fmt.Sprintf("hash_scheme %s is not supported by mdo-play (supported: %s)", scheme, strings.Join(htpasswdSchemes, ", "))}, nil
		}
	}
	noDiff := *env
	noDiff.Diff = false // no diff mode, as in the collection: hashes stay out of the output
	missing := false
	r, err := editText(ctx, &noDiff, p, editOptions{
		create: args.Bool("create"), missingMsg: "Destination %s does not exist",
		attrs: attrsOf(args), missingOK: !present,
	}, func(before string, exists bool) (textEdit, error) {
		// The collection drops blank lines before passlib reads the file.
		var lines []string
		for _, l := range splitLinesKeep(before) {
			if strings.TrimSpace(l) != "" {
				lines = append(lines, strings.TrimSuffix(l, "\n"))
			}
		}
		at := -1
		for i, l := range lines {
			if u, _, ok := strings.Cut(l, ":"); ok && u == name {
				at = i
			}
		}
		render := func() string {
			if len(lines) == 0 {
				return ""
			}
			return strings.Join(lines, "\n") + "\n"
		}
		if !present {
			if !exists {
				missing = true
				return textEdit{stop: true, msg: name + " not present"}, nil
			}
			if at < 0 {
				return textEdit{after: before, msg: name + " not present"}, nil
			}
			lines = append(lines[:at], lines[at+1:]...)
			return textEdit{after: render(), changed: true, msg: "Remove " + name}, nil
		}
		if exists && at >= 0 {
			_, h, _ := strings.Cut(lines[at], ":")
			if htpasswdVerify(password, h) {
				return textEdit{after: before, msg: name + " already present"}, nil
			}
		}
		h, err := htpasswdHash(scheme, password)
		if err != nil {
			return textEdit{}, err
		}
		if at >= 0 {
			lines[at] = name + ":" + h
		} else {
			lines = append(lines, name+":"+h)
		}
		msg := "Add/update " + name
		if !exists {
			msg = fmt.Sprintf("Created %s and added %s", p, name)
			if env.Check {
				msg = "Create " + p
			}
		}
		return textEdit{after: render(), changed: true, msg: msg}, nil
	})
	if err != nil {
		return r, err
	}
	if missing {
		r.Warnings = append(r.Warnings, p+" does not exist")
	}
	return r, nil
}
