package modules

import (
	"context"
	"fmt"
	"strings"
)

// Template is the template module: a Go template file found on the
// controller is rendered with the task's variables (env.Vars.Render), then
// put at dest with copy's semantics (checksum compare first, atomic write,
// mode/owner/group, backup, validate, force). Jinja-only options are
// accepted and ignored except newline_sequence.
type Template struct{}

var _ Module = Template{}

// Spec describes template's arguments.
func (Template) Spec() *Spec {
	args := append(fileAttrArgs(),
		Arg{Name: "src", Type: TypePath, Required: true},
		Arg{Name: "dest", Type: TypePath, Required: true},
		Arg{Name: "backup", Type: TypeBool, Default: false},
		Arg{Name: "force", Type: TypeBool, Default: true},
		Arg{Name: "follow", Type: TypeBool, Default: false},
		Arg{Name: "validate", Type: TypeStr},
		Arg{Name: "newline_sequence", Type: TypeStr, Default: `\n`, Choices: []string{`\n`, `\r`, `\r\n`}},
		Arg{Name: "output_encoding", Type: TypeStr, Default: "utf-8"},
	)
	for _, n := range []string{"block_end_string", "block_start_string", "comment_end_string", "comment_start_string", "variable_end_string", "variable_start_string"} {
		args = append(args, Arg{Name: n, Type: TypeStr})
	}
	args = append(args, Arg{Name: "lstrip_blocks", Type: TypeBool, Default: false}, Arg{Name: "trim_blocks", Type: TypeBool, Default: true})
	return &Spec{Args: args, CheckMode: true}
}

// Run renders and puts the template.
func (Template) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	src, dest := args.String("src"), args.String("dest")
	warnings := modeWarnings(args, "mode")
	full := src
	if env.Files != nil {
		f, err := env.Files.Find("templates", src)
		if err != nil {
			return Result{Failed: true, Msg: fmt.Sprintf("Could not find or access '%s' on the Ansible Controller.", src), Warnings: warnings}, nil
		}
		full = f
	}
	text, err := env.ReadFile(full)
	if err != nil {
		return Result{Failed: true, Msg: fmt.Sprintf("Could not find or access '%s' on the Ansible Controller.", src), Warnings: warnings}, nil
	}
	if env.Vars == nil {
		return Result{Failed: true, Msg: "template: no variables to render with"}, nil
	}
	out, err := env.Vars.Render(full, string(text))
	if err != nil {
		return Result{Failed: true, Msg: fmt.Sprintf("template error while templating %s: %v", src, err), Warnings: warnings}, nil
	}
	if nl := newline(args.String("newline_sequence")); nl != "\n" {
		out = strings.ReplaceAll(out, "\n", nl)
	}
	if err := ValidateCommand(args.String("validate")); err != nil {
		return Result{Failed: true, Msg: err.Error(), Warnings: warnings}, nil
	}
	o := putOptions{
		attrs:       attrsOf(args),
		backup:      args.Bool("backup"),
		force:       args.Bool("force"),
		validate:    args.String("validate"),
		afterHeader: "dynamically generated",
		srcName:     baseName(src),
		mkdirs:      strings.HasSuffix(dest, "/"),
	}
	r, err := putContent(ctx, env, dest, []byte(out), o)
	if r.Values != nil && !r.Failed {
		r.Values["src"] = full
	}
	r.Warnings = append(warnings, r.Warnings...)
	return r, err
}

func newline(seq string) string {
	switch seq {
	case `\r`:
		return "\r"
	case `\r\n`:
		return "\r\n"
	}
	return "\n"
}

func baseName(p string) string {
	p = strings.TrimSuffix(p, "/")
	if i := strings.LastIndex(p, "/"); i >= 0 {
		return p[i+1:]
	}
	return p
}
