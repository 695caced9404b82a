package modules

import (
	"context"
	"regexp"
	"strings"
)

// BlockInFile is the blockinfile module: a block of lines between marker
// lines (`# {mark} ANSIBLE MANAGED BLOCK`) is inserted, replaced or removed,
// with Ansible's algorithm, so blocks written by Ansible stay managed.
type BlockInFile struct{}

var _ Module = BlockInFile{}

// Spec describes blockinfile's arguments.
func (BlockInFile) Spec() *Spec {
	return &Spec{
		Args: append(fileAttrArgs(),
			Arg{Name: "path", Aliases: []string{"dest", "destfile", "name"}, Type: TypePath, Required: true},
			Arg{Name: "state", Type: TypeStr, Default: "present", Choices: []string{"absent", "present"}},
			Arg{Name: "marker", Type: TypeStr, Default: "# {mark} ANSIBLE MANAGED BLOCK"},
			Arg{Name: "block", Aliases: []string{"content"}, Type: TypeStr, Default: ""},
			Arg{Name: "insertafter", Type: TypeStr},
			Arg{Name: "insertbefore", Type: TypeStr},
			Arg{Name: "create", Type: TypeBool, Default: false},
			Arg{Name: "backup", Type: TypeBool, Default: false},
			Arg{Name: "marker_begin", Type: TypeStr, Default: "BEGIN"},
			Arg{Name: "marker_end", Type: TypeStr, Default: "END"},
			Arg{Name: "append_newline", Type: TypeBool, Default: false},
			Arg{Name: "prepend_newline", Type: TypeBool, Default: false},
			Arg{Name: "validate", Type: TypeStr},
		),
		CheckMode:         true,
		MutuallyExclusive: [][]string{{"insertbefore", "insertafter"}},
	}
}

// Run edits the block.
func (BlockInFile) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	fail := func(msg string) (Result, error) { return Result{Failed: true, Msg: msg}, nil }
	if err := ValidateCommand(args.String("validate")); err != nil {
		return fail(err.Error())
	}
	after, before := args.String("insertafter"), args.String("insertbefore")
	if after == "" && before == "" {
		after = "EOF"
	}
	var ins *lineRE
	insPattern := ""
	if after != "" && after != "EOF" {
		insPattern = after
		c, err := compileRE("insertafter", after, "")
		if err != nil {
			return fail(err.Error())
		}
		ins = &lineRE{c}
	} else if before != "" && before != "BOF" {
		insPattern = before
		c, err := compileRE("insertbefore", before, "")
		if err != nil {
			return fail(err.Error())
		}
		ins = &lineRE{c}
	}
	marker := args.String("marker")
	m0 := strings.ReplaceAll(marker, "{mark}", args.String("marker_begin")) + "\n"
	m1 := strings.ReplaceAll(marker, "{mark}", args.String("marker_end")) + "\n"
	present := args.String("state") == "present"
	block := args.String("block")
	var blockLines []string
	if present && block != "" {
		if !strings.HasSuffix(block, "\n") {
			block += "\n"
		}
		blockLines = append(append([]string{m0}, splitLinesKeep(block)...), m1)
	}
	o := editOptions{
		create: args.Bool("create"), missingMsg: "Path %s does not exist !", backup: args.Bool("backup"),
		validate: args.String("validate"), attrs: attrsOf(args), backupKey: "backup_file", contentLabel: true,
	}
	r, err := editText(ctx, env, args.String("path"), o, func(text string, exists bool) (textEdit, error) {
		lines := splitLinesKeep(text)
		n0, n1 := -1, -1
		for i, l := range lines {
			if l == m0 {
				n0 = i
			}
			if l == m1 {
				n1 = i
			}
		}
		switch {
		case n0 == -1 || n1 == -1:
			n0 = -1
			if ins != nil && pyMultiline(insPattern) {
				// A pattern with Python's global (?m) flag is searched in
				// the whole text; the block goes after (before) the line
				// where the match ends (starts), as in Ansible.
				if m := ins.re.FindStringIndex(text); m != nil {
					if after != "" {
						n0 = strings.Count(text[:m[1]], "\n")
					} else {
						n0 = strings.Count(text[:m[0]], "\n")
					}
				}
				if n0 == -1 {
					n0 = len(lines)
				} else if after != "" {
					n0++
				}
			} else if ins != nil {
				for i, l := range lines {
					if ins.match(l) != nil {
						n0 = i
					}
				}
				if n0 == -1 {
					n0 = len(lines)
				} else if after != "" {
					n0++
				}
			} else if before != "" {
				n0 = 0 // BOF
			} else {
				n0 = len(lines) // EOF
			}
		case n0 < n1:
			lines = append(lines[:n0], lines[n1+1:]...)
		default:
			lines = append(lines[:n1], lines[n0+1:]...)
			n0 = n1
		}
		if n0 > 0 && !strings.HasSuffix(lines[n0-1], "\n") {
			lines[n0-1] += "\n"
		}
		if present && args.Bool("prepend_newline") && n0 != 0 && lines[n0-1] != "\n" {
			lines = insertLines(lines, n0, "\n")
			n0++
		}
		if present && args.Bool("append_newline") && n0 != len(lines) && lines[n0] != "\n" {
			lines = insertLines(lines, n0, "\n")
		}
		lines = insertLines(lines, n0, blockLines...)
		result := strings.Join(lines, "")
		te := textEdit{after: result, values: map[string]any{}}
		switch {
		case exists && text == result:
		case !exists:
			te.msg, te.changed = "File created", true
		case len(blockLines) == 0:
			te.msg, te.changed = "Block removed", true
		default:
			te.msg, te.changed = "Block inserted", true
		}
		return te, nil
	})
	if r.Values != nil && r.Values["backup_file"] == "" {
		delete(r.Values, "backup_file")
	}
	r.Warnings = append(modeWarnings(args, "mode"), r.Warnings...)
	return r, err
}

func insertLines(lines []string, at int, add ...string) []string {
	out := make([]string, 0, len(lines)+len(add))
	out = append(out, lines[:at]...)
	out = append(out, add...)
	return append(out, lines[at:]...)
}

// pyGlobalFlags matches the global inline flags a Python pattern starts
// with, such as (?m) or (?ms).
var pyGlobalFlags = regexp.MustCompile(`^\(\?[aiLmsux]+\)`)

// pyMultiline reports whether a Python pattern sets re.MULTILINE with a
// global inline flag.
func pyMultiline(pattern string) bool {
	return strings.Contains(pyGlobalFlags.FindString(pattern), "m")
}
