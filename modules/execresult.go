package modules

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// SplitLines splits s into lines as Python's str.splitlines does, which is
// how Ansible fills stdout_lines and stderr_lines: \n, \r, \r\n and the
// other Unicode line boundaries end a line; a final boundary does not start
// an empty line.
func SplitLines(s string) []string {
	lines := []string{}
	start := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch r {
		case '\n', '\v', '\f', '\x1c', '\x1d', '\x1e', '\u0085', '\u2028', '\u2029':
			lines = append(lines, s[start:i])
			start = i + size
		case '\r':
			lines = append(lines, s[start:i])
			if i+1 < len(s) && s[i+1] == '\n' {
				size++
			}
			start = i + size
		}
		i += size
	}
	if start < len(s) {
		lines = append(lines, s[start:])
	}
	return lines
}

// PyTime formats t as Python's str(datetime) does (Ansible's start and end):
// "2006-01-02 15:04:05.000000", without the fraction when it is zero.
func PyTime(t time.Time) string {
	if t.Nanosecond()/1000 == 0 {
		return t.Format("2006-01-02 15:04:05")
	}
	return t.Format("2006-01-02 15:04:05") + fmt.Sprintf(".%06d", t.Nanosecond()/1000)
}

// PyDelta formats d as Python's str(timedelta) does (Ansible's delta):
// "0:00:01.502000", "2 days, 1:00:00".
func PyDelta(d time.Duration) string {
	us := d.Microseconds()
	neg := us < 0
	days := us / (86400 * 1e6)
	us -= days * 86400 * 1e6
	if neg && us != 0 {
		days--
		us += 86400 * 1e6
	}
	secs := us / 1e6
	frac := us % 1e6
	var b strings.Builder
	if days != 0 {
		unit := "days"
		if days == 1 || days == -1 {
			unit = "day"
		}
		fmt.Fprintf(&b, "%d %s, ", days, unit)
	}
	fmt.Fprintf(&b, "%d:%02d:%02d", secs/3600, secs/60%60, secs%60)
	if frac != 0 {
		fmt.Fprintf(&b, ".%06d", frac)
	}
	return b.String()
}

// outputValues returns the keys every command-family result carries.
func outputValues(rc any, stdout, stderr string) map[string]any {
	return map[string]any{
		"rc":           rc,
		"stdout":       stdout,
		"stderr":       stderr,
		"stdout_lines": SplitLines(stdout),
		"stderr_lines": SplitLines(stderr),
	}
}
