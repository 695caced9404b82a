package modules

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// expander builds shell words that expand, on the target, a leading `~` and
// `$VAR`/`${VAR}` references the way Python's
// os.path.expandvars(os.path.expanduser(s)) does in Ansible's modules (an
// unset variable is left as written). Everything else is quoted. The
// literal texts of variable references are kept in helper variables that
// Prelude assigns, so the words stay safe inside double quotes.
type expander struct {
	prelude strings.Builder
	n       int
}

// Python's posixpath.expandvars pattern (re.ASCII).
var varRef = regexp.MustCompile(`\$([A-Za-z0-9_]+|\{[^}]*\})`)

var shellName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Word returns a shell word for s with ~ and environment variables
// expanded, or only quoted when expand is false.
func (e *expander) Word(s string, expand bool) string {
	if !expand {
		return conn.Quote(s)
	}
	var b strings.Builder
	rest := s
	if strings.HasPrefix(s, "~") {
		user, tail, slash := strings.Cut(s[1:], "/")
		if user == "" || isLoginName(user) {
			b.WriteString("~" + user)
			rest = tail
			if slash {
				b.WriteString("/")
			}
		}
	}
	last := 0
	for _, m := range varRef.FindAllStringSubmatchIndex(rest, -1) {
		name := rest[m[2]:m[3]]
		name = strings.TrimSuffix(strings.TrimPrefix(name, "{"), "}")
		if !shellName.MatchString(name) {
			continue
		}
		if m[0] > last {
			b.WriteString(conn.Quote(rest[last:m[0]]))
		}
		e.n++
		lit := "_mdo_l" + strconv.Itoa(e.n)
		e.prelude.WriteString(lit + "=" + conn.Quote(rest[m[0]:m[1]]) + "\n")
		b.WriteString(`"${` + name + `-$` + lit + `}"`)
		last = m[1]
	}
	if last < len(rest) || b.Len() == 0 {
		b.WriteString(conn.Quote(rest[last:]))
	}
	return b.String()
}

// Prelude returns the helper assignments the words need; it goes before them
// in the script.
func (e *expander) Prelude() string { return e.prelude.String() }

// isLoginName reports whether s can be written unquoted after ~ (POSIX
// portable user name characters).
func isLoginName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c == '.' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return s != ""
}
