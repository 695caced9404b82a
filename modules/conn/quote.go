package conn

import (
	"strings"
	"unicode/utf8"
)

// Quote returns s as one POSIX shell word, as Python's shlex.quote does
// (and so Ansible's quote filter): a word of safe characters stays bare,
// anything else goes in single quotes with each ' written as '"'"'.
// Whatever s holds (spaces, quotes, $(), backticks, newlines, any byte but
// NUL) reaches the program unchanged. It is the one shell-quoting function:
// transports, become, modules and the templates' quote filter use it.
func Quote(s string) string {
	if s == "" {
		return "''"
	}
	for _, r := range s {
		if !(r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			strings.ContainsRune("@%+=:,./-_", r))) {
			return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
		}
	}
	return s
}
