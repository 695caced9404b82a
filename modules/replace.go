package modules

import (
	"context"
	"fmt"
	"regexp"

	"github.com/mdo-play/mdo-play/templates/pyre"
)

// Replace is the replace module: every match of a regexp (Go RE2, `^` and
// `$` at line boundaries as in Ansible's re.MULTILINE) in a file, or in the
// section between after and before, is replaced; replacement strings take
// Python's \1 and \g<name> as well as Go's ${1}.
type Replace struct{}

var _ Module = Replace{}

// Spec describes replace's arguments.
func (Replace) Spec() *Spec {
	return &Spec{
		Args: append(fileAttrArgs(),
			Arg{Name: "path", Aliases: []string{"dest", "destfile", "name"}, Type: TypePath, Required: true},
			Arg{Name: "regexp", Type: TypeStr, Required: true},
			Arg{Name: "replace", Type: TypeStr, Default: ""},
			Arg{Name: "after", Type: TypeStr},
			Arg{Name: "before", Type: TypeStr},
			Arg{Name: "backup", Type: TypeBool, Default: false},
			Arg{Name: "validate", Type: TypeStr},
			Arg{Name: "encoding", Type: TypeStr, Default: "utf-8"},
			Arg{Name: "others", Type: TypeRaw},
		),
		CheckMode: true,
	}
}

// Run replaces.
func (Replace) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	fail := func(msg string) (Result, error) { return Result{Failed: true, Msg: msg}, nil }
	if err := ValidateCommand(args.String("validate")); err != nil {
		return fail(err.Error())
	}
	re, err := compileRE("regexp", args.String("regexp"), "(?m)")
	if err != nil {
		return fail(err.Error())
	}
	var section *regexp.Regexp
	after, before := args.String("after"), args.String("before")
	var pattern string
	switch {
	case after != "" && before != "":
		pattern = after + "(?P<subsection>.*?)" + before
	case after != "":
		pattern = after + "(?P<subsection>.*)"
	case before != "":
		pattern = "(?P<subsection>.*)" + before
	}
	if pattern != "" {
		if section, err = compileRE("after/before", pattern, "(?s)"); err != nil {
			return fail(err.Error())
		}
	}
	repl := pyre.Expand(args.String("replace"), re, true)
	o := editOptions{
		missingMsg: "Path %s does not exist !", backup: args.Bool("backup"), validate: args.String("validate"),
		attrs: attrsOf(args), backupKey: "backup_file",
	}
	r, err := editText(ctx, env, args.String("path"), o, func(text string, _ bool) (textEdit, error) {
		start, end := 0, len(text)
		if section != nil {
			// Ansible builds one pattern from after and before; when it
			// does not match, nothing is replaced anywhere.
			m := section.FindStringSubmatchIndex(text)
			if m == nil {
				return textEdit{after: text, stop: true, values: map[string]any{"rc": 0},
					msg: "Pattern for before/after params did not match the given file: " + pattern}, nil
			}
			i := section.SubexpIndex("subsection")
			start, end = m[2*i], m[2*i+1]
		}
		part := text[start:end]
		n := len(re.FindAllStringIndex(part, -1))
		out := re.ReplaceAllString(part, repl)
		te := textEdit{after: text, values: map[string]any{}}
		if n > 0 && out != part {
			te.after = text[:start] + out + text[end:]
			te.changed = true
			te.msg = fmt.Sprintf("%d replacements made", n)
		}
		return te, nil
	})
	if r.Values != nil && r.Values["backup_file"] == "" {
		delete(r.Values, "backup_file")
	}
	r.Warnings = append(modeWarnings(args, "mode"), r.Warnings...)
	return r, err
}
