package templates

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"golang.org/x/crypto/bcrypt"
	"hash"
	"regexp"
	"strconv"
	"strings"
)

// isVersion is Ansible's version test (alias version_compare):
// is_version VALUE VERSION [OPERATOR [TYPE]], with loose version
// comparison unless TYPE is "strict" or "semver"/"semantic".
func isVersion(v, version any, rest ...any) (bool, error) {
	op, typ := "eq", "loose"
	if len(rest) > 0 && rest[0] != nil {
		op = pyStr(rest[0])
	}
	if len(rest) > 1 && rest[1] != nil {
		typ = pyStr(rest[1])
	}
	a, b := pyStr(v), pyStr(version)
	if a == "" {
		return false, errors.New("version: input version value cannot be empty")
	}
	var c int
	var err error
	switch typ {
	case "loose":
		c, err = compareLoose(a, b)
	case "strict":
		c, err = compareStrict(a, b)
	case "semver", "semantic":
		c, err = compareSemver(a, b)
	default:
		return false, fmt.Errorf("version: unsupported version_type %q (loose, strict, semver)", typ)
	}
	if err != nil {
		return false, fmt.Errorf("version comparison failed: %w", err)
	}
	switch op {
	case "==", "=", "eq":
		return c == 0, nil
	case "!=", "<>", "ne":
		return c != 0, nil
	case "<", "lt":
		return c < 0, nil
	case "<=", "le":
		return c <= 0, nil
	case ">", "gt":
		return c > 0, nil
	case ">=", "ge":
		return c >= 0, nil
	}
	return false, fmt.Errorf("version: invalid operator %q", op)
}

var looseRE = regexp.MustCompile(`\d+|[a-z]+|\.`)

// looseParts splits a version as distutils' LooseVersion does
// (re.split on runs of digits, runs of lowercase letters and dots): the
// runs and whatever lies between them, without dots and empty parts;
// numeric parts are numbers.
func looseParts(s string) []any {
	var out []any
	add := func(p string) {
		if p == "" || p == "." {
			return
		}
		if n, err := strconv.Atoi(p); err == nil && p[0] >= '0' && p[0] <= '9' {
			out = append(out, n)
		} else {
			out = append(out, p)
		}
	}
	prev := 0
	for _, m := range looseRE.FindAllStringIndex(s, -1) {
		add(s[prev:m[0]])
		add(s[m[0]:m[1]])
		prev = m[1]
	}
	add(s[prev:])
	return out
}

func compareLoose(a, b string) (int, error) {
	pa, pb := looseParts(a), looseParts(b)
	for i := 0; i < len(pa) && i < len(pb); i++ {
		c, err := pyCompare(pa[i], pb[i])
		if err != nil {
			return 0, fmt.Errorf("cannot compare %q with %q: %w", a, b, err)
		}
		if c != 0 {
			return c, nil
		}
	}
	return cmpFloat(float64(len(pa)), float64(len(pb))), nil
}

var strictRE = regexp.MustCompile(`^(\d+)\.(\d+)(\.(\d+))?([ab](\d+))?$`)

func strictParts(s string) ([]int, string, int, error) {
	m := strictRE.FindStringSubmatch(s)
	if m == nil {
		return nil, "", 0, fmt.Errorf("invalid version number %q", s)
	}
	n := func(x string) int { v, _ := strconv.Atoi(x); return v }
	pre, pn := "", 0
	if m[5] != "" {
		pre, pn = m[5][:1], n(m[6])
	}
	return []int{n(m[1]), n(m[2]), n(m[4])}, pre, pn, nil
}

func compareStrict(a, b string) (int, error) {
	va, pa, na, err := strictParts(a)
	if err != nil {
		return 0, err
	}
	vb, pb, nb, err := strictParts(b)
	if err != nil {
		return 0, err
	}
	for i := range va {
		if va[i] != vb[i] {
			return cmpFloat(float64(va[i]), float64(vb[i])), nil
		}
	}
	switch {
	case pa == "" && pb == "":
		return 0, nil
	case pa == "":
		return 1, nil
	case pb == "":
		return -1, nil
	case pa != pb:
		return strings.Compare(pa, pb), nil
	}
	return cmpFloat(float64(na), float64(nb)), nil
}

var semverRE = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$`)

func compareSemver(a, b string) (int, error) {
	ma, mb := semverRE.FindStringSubmatch(a), semverRE.FindStringSubmatch(b)
	if ma == nil {
		return 0, fmt.Errorf("invalid semantic version %q", a)
	}
	if mb == nil {
		return 0, fmt.Errorf("invalid semantic version %q", b)
	}
	for i := 1; i <= 3; i++ {
		x, _ := strconv.Atoi(ma[i])
		y, _ := strconv.Atoi(mb[i])
		if x != y {
			return cmpFloat(float64(x), float64(y)), nil
		}
	}
	switch {
	case ma[4] == mb[4]:
		return 0, nil
	case ma[4] == "":
		return 1, nil
	case mb[4] == "":
		return -1, nil
	}
	xa, xb := strings.Split(ma[4], "."), strings.Split(mb[4], ".")
	for i := 0; i < len(xa) && i < len(xb); i++ {
		na, errA := strconv.Atoi(xa[i])
		nb, errB := strconv.Atoi(xb[i])
		switch {
		case errA == nil && errB == nil:
			if na != nb {
				return cmpFloat(float64(na), float64(nb)), nil
			}
		case errA == nil:
			return -1, nil
		case errB == nil:
			return 1, nil
		default:
			if c := strings.Compare(xa[i], xb[i]); c != 0 {
				return c, nil
			}
		}
	}
	return cmpFloat(float64(len(xa)), float64(len(xb))), nil
}

const cryptAlphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// passwordHash is Ansible's password_hash(hashtype, salt) for sha512 and
// sha256 (crypt(3)'s $6$ and $5$ with 5000 rounds). Without a salt a
// random one is used, so the result changes on every render, as in
// Ansible.
func passwordHash(alg string, args ...any) (string, error) {
	pw := pyStr(args[len(args)-1])
	if alg == "bcrypt" || alg == "blowfish" {
		return bcryptHash(pw, len(args) > 1 && args[0] != nil)
	}
	salt := ""
	if len(args) > 1 && args[0] != nil {
		salt = pyStr(args[0])
		for _, r := range salt {
			if !strings.ContainsRune(cryptAlphabet, r) {
				return "", fmt.Errorf("password_hash: invalid character %q in salt", r)
			}
		}
	} else {
		b := make([]byte, 16)
		if _, err := rand.Read(b); err != nil {
			return "", fmt.Errorf("password_hash: %w", err)
		}
		for i := range b {
			b[i] = cryptAlphabet[int(b[i])%len(cryptAlphabet)]
		}
		salt = string(b)
	}
	if len(salt) > 16 {
		salt = salt[:16]
	}
	switch alg {
	case "sha512", "sha512_crypt":
		return shaCrypt(sha512.New, "$6$", []byte(pw), []byte(salt)), nil
	case "sha256", "sha256_crypt":
		return shaCrypt(sha256.New, "$5$", []byte(pw), []byte(salt)), nil
	}
	return "", fmt.Errorf("password_hash: unsupported hash type %q (sha512, sha256, bcrypt)", alg)
}

// bcryptHash is password_hash('bcrypt') as Ansible writes it with passlib:
// ident 2b, 12 rounds, a random salt. A given salt is not supported
// (golang.org/x/crypto/bcrypt draws its own).
func bcryptHash(pw string, salted bool) (string, error) {
	if salted {
		return "", fmt.Errorf("password_hash: bcrypt with a given salt is not supported")
	}
	if len(pw) > 72 {
		// bcrypt reads 72 bytes at most, as passlib does (truncate_error off).
		pw = pw[:72]
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), 12)
	if err != nil {
		return "", fmt.Errorf("password_hash: %w", err)
	}
	return "$2b$" + strings.TrimPrefix(string(h), "$2a$"), nil
}

// shaCrypt is Ulrich Drepper's SHA-crypt with the default 5000 rounds.
func shaCrypt(newHash func() hash.Hash, magic string, pw, salt []byte) string {
	const rounds = 5000
	sum := func(parts ...[]byte) []byte {
		h := newHash()
		for _, p := range parts {
			h.Write(p)
		}
		return h.Sum(nil)
	}
	size := newHash().Size()
	b := sum(pw, salt, pw)
	a := newHash()
	a.Write(pw)
	a.Write(salt)
	for i := len(pw); i > 0; i -= size {
		a.Write(b[:min(i, size)])
	}
	for i := len(pw); i > 0; i >>= 1 {
		if i&1 != 0 {
			a.Write(b)
		} else {
			a.Write(pw)
		}
	}
	c := a.Sum(nil)
	dp := newHash()
	for range pw {
		dp.Write(pw)
	}
	p := repeatTo(dp.Sum(nil), len(pw))
	ds := newHash()
	for i := 0; i < 16+int(c[0]); i++ {
		ds.Write(salt)
	}
	s := repeatTo(ds.Sum(nil), len(salt))
	for i := 0; i < rounds; i++ {
		h := newHash()
		if i&1 != 0 {
			h.Write(p)
		} else {
			h.Write(c)
		}
		if i%3 != 0 {
			h.Write(s)
		}
		if i%7 != 0 {
			h.Write(p)
		}
		if i&1 != 0 {
			h.Write(c)
		} else {
			h.Write(p)
		}
		c = h.Sum(nil)
	}
	var out strings.Builder
	out.WriteString(magic + string(salt) + "$")
	enc := func(b2, b1, b0 byte, n int) {
		w := uint(b2)<<16 | uint(b1)<<8 | uint(b0)
		for ; n > 0; n-- {
			out.WriteByte(cryptAlphabet[w&0x3f])
			w >>= 6
		}
	}
	if size == 64 {
		for i := 0; i < 21; i++ {
			enc(c[i*22%63], c[(i*22+21)%63], c[(i*22+42)%63], 4)
		}
		enc(0, 0, c[63], 2)
	} else {
		for i := 0; i < 10; i++ {
			enc(c[i*21%30], c[(i*21+10)%30], c[(i*21+20)%30], 4)
		}
		enc(0, c[31], c[30], 3)
	}
	return out.String()
}

func repeatTo(b []byte, n int) []byte {
	out := make([]byte, 0, n)
	for len(out) < n {
		out = append(out, b[:min(len(b), n-len(out))]...)
	}
	return out
}
