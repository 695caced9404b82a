package modules

import (
	"errors"
	"strings"
)

// SplitShlex splits s into words the way Python's shlex.split does (POSIX
// mode, no comments), which is how Ansible's command module splits its
// free-form string: single quotes are literal, a backslash inside double
// quotes escapes only `"` and `\`, and outside quotes it escapes any
// character. An empty quoted string is a word of its own.
func SplitShlex(s string) ([]string, error) {
	var words []string
	var w strings.Builder
	inWord := false
	const (
		plain = iota
		single
		double
	)
	state := plain
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch state {
		case plain:
			switch c {
			case ' ', '\t', '\r', '\n':
				if inWord {
					words = append(words, w.String())
					w.Reset()
					inWord = false
				}
			case '\'':
				state, inWord = single, true
			case '"':
				state, inWord = double, true
			case '\\':
				if i+1 >= len(s) {
					return nil, errors.New("no escaped character")
				}
				i++
				w.WriteByte(s[i])
				inWord = true
			default:
				w.WriteByte(c)
				inWord = true
			}
		case single:
			if c == '\'' {
				state = plain
				continue
			}
			w.WriteByte(c)
		case double:
			switch {
			case c == '"':
				state = plain
			case c == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\'):
				i++
				w.WriteByte(s[i])
			case c == '\\' && i+1 >= len(s):
				return nil, errors.New("no escaped character")
			default:
				w.WriteByte(c)
			}
		}
	}
	if state != plain {
		return nil, errors.New("no closing quotation")
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, nil
}
