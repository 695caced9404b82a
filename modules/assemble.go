package modules

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// Assemble is ansible.builtin.assemble: it concatenates the regular files
// of a directory (the fragments, sorted by name) into dest, with an
// optional delimiter between them, as ansible-core's
// assemble_from_fragments does. The fragments are on the target
// (remote_src, the default) or, with remote_src false, in a directory on
// the controller found as copy finds its src. One exec reads the
// fragments and dest's state; a changed file is written atomically by
// WriteFile (validate, backup, mode, owner, group), an unchanged one only
// gets its attributes. As in Ansible (no check mode support), the module
// is skipped in check mode.
type Assemble struct{}

var _ Module = Assemble{}

// Spec describes assemble's arguments.
func (Assemble) Spec() *Spec {
	return &Spec{
		Args: append(fileAttrArgs(),
			Arg{Name: "src", Type: TypePath, Required: true},
			Arg{Name: "dest", Type: TypePath, Required: true},
			Arg{Name: "delimiter", Type: TypeStr},
			Arg{Name: "backup", Type: TypeBool, Default: false},
			Arg{Name: "remote_src", Type: TypeBool, Default: true},
			Arg{Name: "regexp", Type: TypeStr},
			Arg{Name: "ignore_hidden", Type: TypeBool, Default: false},
			Arg{Name: "validate", Type: TypeStr},
			Arg{Name: "decrypt", Type: TypeBool, Default: true},
			Arg{Name: "follow", Type: TypeBool, Default: false},
		),
	}
}

// fragment is one entry of the source directory.
type fragment struct {
	name    string
	regular bool // a regular file, or a link to one (os.path.isfile)
	content []byte
}

// assembleScript lists the source directory $_mdo_s: a "src" pair saying
// whether it is a directory, then for each regular file a "frag" pair
// with its name and a "data" pair with its content in base64, then "end".
const assembleScript = `if ! [ -e "$_mdo_s" ]; then printf 'src\0missing\0'
elif ! [ -d "$_mdo_s" ]; then printf 'src\0notdir\0'
else
  printf 'src\0ok\0'
  for _mdo_f in "$_mdo_s"/* "$_mdo_s"/.*; do
    _mdo_n=${_mdo_f##*/}
    case $_mdo_n in .|..) continue ;; esac
    [ -f "$_mdo_f" ] || continue
    printf 'frag\0%s\0data\0' "$_mdo_n"
    base64 <"$_mdo_f" || printf '!'
    printf '\0'
  done
fi
printf 'end\0\0'
`

// Run assembles.
func (Assemble) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	src, dest := args.String("src"), args.String("dest")
	values := map[string]any{"src": src, "dest": dest}
	var re *regexp.Regexp
	if args.Has("regexp") {
		var err error
		if re, err = regexp.Compile(args.String("regexp")); err != nil {
			return Result{Failed: true, Msg: fmt.Sprintf("Invalid Regexp (%v) in \"%s\"", err, args.String("regexp")), Values: values}, nil
		}
	}
	validate := args.String("validate")
	if validate != "" && !strings.Contains(validate, "%s") {
		return Result{Failed: true, Msg: fmt.Sprintf("validate must contain %%s: %s", validate), Values: values}, nil
	}

	var e expander
	var frags []fragment
	remote := args.Bool("remote_src")
	if !remote {
		var failed *Result
		frags, src, failed = localFragments(env, src, values)
		if failed != nil {
			return *failed, nil
		}
		values["src"] = src
	}
	var script strings.Builder
	if remote {
		script.WriteString("_mdo_s=" + e.Word(src, true) + "\n" + assembleScript)
	}
	script.WriteString("printf 'umask\\0'; umask; printf '\\0'\n_mdo_p=" + e.Word(dest, true) + "\n")
	script.WriteString(readScript(ReadOptions{Content: env.Diff}, false, false))
	res, err := env.Conn.Exec(ctx, conn.Command{Script: e.Prelude() + script.String()})
	if err != nil {
		return Result{}, fmt.Errorf("assemble %s: %w", dest, err)
	}
	out := res.Stdout
	if remote {
		var msg string
		frags, out, msg = parseFragments(out)
		if msg != "" {
			values["src"] = src
			return Result{Failed: true, Msg: fmt.Sprintf(msg, src), Values: values}, nil
		}
	}
	recs, umask := parseRecords(out)
	if len(recs) != 1 {
		return Result{Failed: true, Msg: fmt.Sprintf("assemble: unexpected output (rc %d): %s", res.RC, bytes.TrimSpace(res.Stderr)), Values: values}, nil
	}
	st, err := recs[0].state(umask)
	if err != nil {
		return FailResult(err, values)
	}
	if st.HasContent {
		st.Checksum, _ = sums(st.Content)
	}
	values["dest"] = st.Path
	content := assembleFragments(frags, args.String("delimiter"), args.Has("delimiter"), re, args.Bool("ignore_hidden"))
	sum, md5sum := sums(content)
	values["checksum"], values["md5sum"] = sum, md5sum
	values["msg"] = "OK"
	if st.Exists && st.Type == TypeFile && st.Checksum == sum {
		r, err := fixAttrs(ctx, env, st, attrsOf(args), values)
		delete(r.Values, "path")
		r.Msg = "OK"
		return r, err
	}
	if st.Type == TypeDirectory {
		return Result{Failed: true, Msg: fmt.Sprintf("Destination %s is a directory", st.Path), Values: values}, nil
	}
	r := Result{Changed: true, Msg: "OK", Values: values}
	if env.Diff {
		r.Diff = []Diff{ContentDiff(st.Path, st.Content, st.HasContent || !st.Exists, content, "")}
		r.Diff[0].AfterHeader = src
	}
	wr, err := WriteFile(ctx, env.Conn, content, WriteOptions{Before: st, Attrs: attrsOf(args), Backup: args.Bool("backup"), Validate: validate})
	if err != nil {
		if fe, ok := err.(*FileError); ok && fe.Op == "validate" {
			values["validation"] = map[string]any{"rc": fe.RC, "stdout": fe.Stdout, "stderr": fe.Stderr}
			return Result{Failed: true, Msg: fmt.Sprintf("failed to validate: rc:%d error:%s", fe.RC, fe.Stderr), Values: values}, nil
		}
		return FailResult(err, values)
	}
	if validate != "" {
		values["validation"] = map[string]any{"rc": 0, "stdout": "", "stderr": ""}
	}
	for k, v := range FileValues("dest", wr.After) {
		values[k] = v
	}
	if wr.BackupFile != "" {
		values["backup_file"] = wr.BackupFile
	}
	return r, nil
}

// parseFragments reads assembleScript's pairs at the start of out and
// returns the fragments, the rest of out, and a failure message with %s
// for the source when the source is not a directory.
func parseFragments(out []byte) ([]fragment, []byte, string) {
	var frags []fragment
	for {
		k, rest, ok1 := bytes.Cut(out, []byte{0})
		v, rest, ok2 := bytes.Cut(rest, []byte{0})
		if !ok1 || !ok2 {
			return frags, nil, "Source (%s) could not be read"
		}
		out = rest
		switch string(k) {
		case "src":
			switch string(v) {
			case "missing":
				return nil, nil, "Source (%s) does not exist"
			case "notdir":
				return nil, nil, "Source (%s) is not a directory"
			}
		case "frag":
			frags = append(frags, fragment{name: string(v), regular: true})
		case "data":
			if len(frags) > 0 {
				if bytes.HasSuffix(v, []byte("!")) {
					return nil, nil, "Source (%s) has a fragment that cannot be read: " + strconv.Quote(frags[len(frags)-1].name)
				}
				frags[len(frags)-1].content, _ = base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(v)), ""))
			}
		case "end":
			return frags, out, ""
		}
	}
}

// localFragments reads the fragments of a controller directory
// (remote_src false), found as copy finds its src. A failure comes back
// as a Result.
func localFragments(env *Env, src string, values map[string]any) ([]fragment, string, *Result) {
	found := src
	if env.Files != nil {
		f, err := env.Files.Find("files", src)
		if err != nil {
			return nil, src, &Result{Failed: true, Msg: err.Error(), Values: values}
		}
		found = f
	}
	fi, err := os.Stat(found)
	if err != nil || !fi.IsDir() {
		return nil, found, &Result{Failed: true, Msg: fmt.Sprintf("Source (%s) is not a directory", found), Values: values}
	}
	ents, err := os.ReadDir(found)
	if err != nil {
		return nil, found, &Result{Failed: true, Msg: err.Error(), Values: values}
	}
	var frags []fragment
	for _, ent := range ents {
		p := filepath.Join(found, ent.Name())
		if fi, err := os.Stat(p); err != nil || !fi.Mode().IsRegular() {
			continue
		}
		data, err := env.ReadFile(p)
		if err != nil {
			return nil, found, &Result{Failed: true, Msg: err.Error(), Values: values}
		}
		frags = append(frags, fragment{name: ent.Name(), regular: true, content: data})
	}
	return frags, found, nil
}

// assembleFragments joins the fragments as assemble_from_fragments does:
// sorted by name, filtered by re (a search in the name) and ignoreHidden,
// a newline after a fragment that lacks one, the delimiter (with its
// escapes decoded, and a newline after it) between fragments.
func assembleFragments(frags []fragment, delimiter string, hasDelim bool, re *regexp.Regexp, ignoreHidden bool) []byte {
	sort.Slice(frags, func(i, j int) bool { return frags[i].name < frags[j].name })
	var b bytes.Buffer
	delim := []byte(delimiter)
	delimitMe, addNewline := false, false
	for _, f := range frags {
		if re != nil && !re.MatchString(f.name) {
			continue
		}
		if !f.regular || (ignoreHidden && strings.HasPrefix(f.name, ".")) {
			continue
		}
		if addNewline {
			b.WriteByte('\n')
		}
		if delimitMe && hasDelim && len(delim) > 0 {
			// Ansible decodes the (already decoded) delimiter again for
			// every fragment after the second.
			delim = pyEscapeDecode(delim)
			b.Write(delim)
			if len(delim) == 0 || delim[len(delim)-1] != '\n' {
				b.WriteByte('\n')
			}
		}
		b.Write(f.content)
		delimitMe = true
		addNewline = !bytes.HasSuffix(f.content, []byte("\n"))
	}
	return b.Bytes()
}

// pyEscapeDecode is Python's codecs.escape_decode: backslash escapes
// (\n, \t, \\, \', \", \a, \b, \f, \r, \v, \ooo, \xhh, and a backslash
// before a newline) are decoded; other backslashes stay.
func pyEscapeDecode(s []byte) []byte {
	var out []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			out = append(out, c)
			continue
		}
		i++
		switch n := s[i]; n {
		case '\n':
		case '\\', '\'', '"':
			out = append(out, n)
		case 'a':
			out = append(out, 7)
		case 'b':
			out = append(out, 8)
		case 'f':
			out = append(out, 12)
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'v':
			out = append(out, 11)
		case 'x':
			if i+2 < len(s) {
				if v, err := strconv.ParseUint(string(s[i+1:i+3]), 16, 8); err == nil {
					out = append(out, byte(v))
					i += 2
					continue
				}
			}
			out = append(out, '\\', n)
		default:
			if n >= '0' && n <= '7' {
				v, j := 0, i
				for ; j < len(s) && j < i+3 && s[j] >= '0' && s[j] <= '7'; j++ {
					v = v*8 + int(s[j]-'0')
				}
				out = append(out, byte(v))
				i = j - 1
				continue
			}
			out = append(out, '\\', n)
		}
	}
	return out
}
