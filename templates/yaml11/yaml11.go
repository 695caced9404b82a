// Package yaml11 reads YAML scalars the way Ansible does: PyYAML's YAML 1.1
// implicit types (yes/no/on/off are booleans, 0644 is octal, 0x1F and
// 1:30 are integers, .inf is a float), on top of gopkg.in/yaml.v3, which
// resolves YAML 1.2. It is the one place that decides what a plain scalar
// in a playbook, a vars file or an inventory means, and (Bool) what counts
// as a boolean wherever one is read.
//
// It is a leaf: it imports nothing of this module, so inventory, playbook,
// modules and templates may all import it.
package yaml11

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// YAML 1.1 implicit types as PyYAML (and so Ansible) resolves them.
var (
	reYAMLBool  = regexp.MustCompile(`^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$`)
	reYAMLNull  = regexp.MustCompile(`^(?:~|null|Null|NULL|)$`)
	reYAMLInt   = regexp.MustCompile(`^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$`)
	reYAMLFloat = regexp.MustCompile(`^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$`)
)

// Scalar types a scalar: quoted and block scalars are strings, plain
// ones follow YAML 1.1 (yes/no/on/off are booleans, 0644 is octal), and
// explicit standard tags are honoured. Unknown tags (!vault, !unsafe) keep
// the text.
func Scalar(n *yaml.Node) (any, error) {
	quoted := n.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0
	tag := ""
	if n.Style&yaml.TaggedStyle != 0 {
		tag = n.ShortTag()
	}
	switch tag {
	case "":
		if quoted {
			return n.Value, nil
		}
		return resolvePlain(n.Value), nil
	case "!!str":
		return n.Value, nil
	case "!!null":
		return nil, nil
	case "!!bool", "!!int", "!!float":
		v := resolvePlain(n.Value)
		switch x := v.(type) {
		case bool:
			if tag == "!!bool" {
				return v, nil
			}
		case int:
			if tag == "!!int" {
				return v, nil
			}
			if tag == "!!float" {
				return float64(x), nil
			}
		case float64:
			if tag == "!!float" {
				return v, nil
			}
		}
		return nil, fmt.Errorf("line %d: cannot read %q as %s", n.Line, n.Value, tag)
	}
	return n.Value, nil
}

// resolvePlain types an unquoted scalar by PyYAML's YAML 1.1 rules.
func resolvePlain(s string) any {
	switch {
	case reYAMLNull.MatchString(s):
		return nil
	case reYAMLBool.MatchString(s):
		switch s[0] {
		case 'y', 'Y', 't', 'T':
			return true
		case 'o', 'O':
			return s[1] == 'n' || s[1] == 'N'
		}
		return false
	case reYAMLInt.MatchString(s):
		if n, ok := yaml11Int(s); ok {
			return n
		}
		return s
	case reYAMLFloat.MatchString(s):
		return yaml11Float(s)
	}
	return s
}

func yaml11Int(s string) (int, bool) {
	s = strings.ReplaceAll(s, "_", "")
	sign := 1
	switch s[0] {
	case '-':
		sign, s = -1, s[1:]
	case '+':
		s = s[1:]
	}
	var (
		n   int64
		err error
	)
	switch {
	case strings.HasPrefix(s, "0b"):
		n, err = strconv.ParseInt(s[2:], 2, 64)
	case strings.HasPrefix(s, "0x"):
		n, err = strconv.ParseInt(s[2:], 16, 64)
	case strings.Contains(s, ":"):
		for _, part := range strings.Split(s, ":") {
			d, perr := strconv.ParseInt(part, 10, 64)
			if perr != nil {
				return 0, false
			}
			n = n*60 + d
		}
	case len(s) > 1 && s[0] == '0':
		n, err = strconv.ParseInt(s[1:], 8, 64)
	default:
		n, err = strconv.ParseInt(s, 10, 64)
	}
	if err != nil {
		return 0, false
	}
	return sign * int(n), true
}

func yaml11Float(s string) any {
	s = strings.ReplaceAll(s, "_", "")
	lower := strings.ToLower(s)
	switch {
	case strings.HasSuffix(lower, ".nan"):
		return math.NaN()
	case strings.HasSuffix(lower, ".inf"):
		if s[0] == '-' {
			return math.Inf(-1)
		}
		return math.Inf(1)
	case strings.Contains(s, ":"):
		sign := 1.0
		switch s[0] {
		case '-':
			sign, s = -1, s[1:]
		case '+':
			s = s[1:]
		}
		parts := strings.Split(s, ":")
		var f float64
		for _, part := range parts {
			d, err := strconv.ParseFloat(part, 64)
			if err != nil {
				return s
			}
			f = f*60 + d
		}
		return sign * f
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return s
	}
	return f
}
