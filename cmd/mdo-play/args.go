package main

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// reorderArgs moves flags in front of positional arguments, so that flags
// may follow the playbook as users type them with ansible-playbook
// (`mdo-play site.yml --check -l web`); urfave/cli stops parsing flags at
// the first positional argument. Combined short boolean flags (`-vvv`,
// `-CD`) are split. Everything after `--` stays positional.
func reorderArgs(args []string, flags []cli.Flag) []string {
	takesValue := map[string]bool{}
	isBoolShort := map[byte]bool{}
	for _, f := range flags {
		_, isBool := f.(*cli.BoolFlag)
		for _, n := range f.Names() {
			takesValue[n] = !isBool
			if isBool && len(n) == 1 {
				isBoolShort[n[0]] = true
			}
		}
	}
	var fl, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			pos = append(pos, a)
			continue
		}
		name := strings.TrimLeft(a, "-")
		hasValue := false
		if j := strings.IndexByte(name, '='); j >= 0 {
			name, hasValue = name[:j], true
		}
		// -vvv, -CD: several short boolean flags in one word.
		if !strings.HasPrefix(a, "--") && len(name) > 1 && !hasValue && allBoolShort(name, isBoolShort) {
			for k := 0; k < len(name); k++ {
				fl = append(fl, "-"+name[k:k+1])
			}
			continue
		}
		fl = append(fl, a)
		if takesValue[name] && !hasValue && i+1 < len(args) {
			fl = append(fl, args[i+1])
			i++
		}
	}
	if len(pos) == 0 {
		return fl
	}
	return append(append(fl, "--"), pos...)
}

func allBoolShort(s string, bools map[byte]bool) bool {
	for i := 0; i < len(s); i++ {
		if !bools[s[i]] {
			return false
		}
	}
	return true
}
