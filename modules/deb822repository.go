package modules

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// Deb822Repository is the deb822_repository module (ansible.builtin since
// 2.15): it writes /etc/apt/sources.list.d/SLUG.sources in deb822 format,
// or removes it (and the key file it wrote) for state=absent. A signed_by
// that names a file on the target is used as it is; a URL is fetched on the
// target (curl, else wget) into /etc/apt/keyrings/SLUG.asc (armored) or
// .gpg; anything else is an inline key written into the file. As in
// Ansible, it does not run apt-get update. One script per call.
type Deb822Repository struct {
	// root prefixes every path on the target; empty outside tests.
	root string
}

// deb822Fields lists the arguments written into the file, in Ansible's
// order (sorted by argument name), with their types.
var deb822Fields = []struct {
	name string
	typ  ArgType
}{
	{"allow_downgrade_to_insecure", TypeBool}, {"allow_insecure", TypeBool}, {"allow_weak", TypeBool},
	{"architectures", TypeList}, {"by_hash", TypeBool}, {"check_date", TypeBool},
	{"check_valid_until", TypeBool}, {"components", TypeList}, {"date_max_future", TypeInt},
	{"enabled", TypeBool}, {"inrelease_path", TypeStr}, {"languages", TypeList},
	{"name", TypeStr}, {"pdiffs", TypeBool}, {"signed_by", TypeStr}, {"suites", TypeList},
	{"targets", TypeList}, {"trusted", TypeBool}, {"types", TypeList}, {"uris", TypeList},
}

// Spec describes deb822_repository's arguments.
func (Deb822Repository) Spec() *Spec {
	s := &Spec{CheckMode: true}
	for _, f := range deb822Fields {
		a := Arg{Name: f.name, Type: f.typ}
		switch f.name {
		case "name":
			a.Required = true
		case "types":
			a.Default = []any{"deb"}
		}
		s.Args = append(s.Args, a)
	}
	s.Args = append(s.Args,
		Arg{Name: "install_python_debian", Type: TypeBool, Default: true},
		Arg{Name: "mode", Type: TypeRaw, Default: "0644"},
		Arg{Name: "state", Type: TypeStr, Default: "present", Choices: []string{"present", "absent"}},
	)
	return s
}

var (
	deb822Underscores = regexp.MustCompile(`[_\s]+`)
	deb822NotSlug     = regexp.MustCompile(`[^a-z0-9-]+`)
	deb822Scheme      = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:`)
	deb822Octal       = regexp.MustCompile(`^0?[0-7]{3,4}$`)
	deb822Symbolic    = regexp.MustCompile(`^[ugoa]*[-+=][rwxXst]*(,[ugoa]*[-+=][rwxXst]*)*$`)
)

// deb822Slug is Ansible's file-name slug of the repository name.
func deb822Slug(name string) string {
	return deb822NotSlug.ReplaceAllString(deb822Underscores.ReplaceAllString(strings.ToLower(name), "-"), "")
}

// deb822FieldName is Ansible's format_field_name.
func deb822FieldName(arg string) string {
	switch arg {
	case "name":
		return "X-Repolib-Name"
	case "uris":
		return "URIs"
	}
	words := strings.Split(arg, "_")
	for i, w := range words {
		if w != "" {
			words[i] = strings.ToUpper(w[:1]) + w[1:]
		}
	}
	return strings.Join(words, "-")
}

// deb822Render is the file Ansible's Deb822.dump writes, with signedBy as
// the Signed-By value.
func deb822Render(args Args, signedBy string) string {
	var b strings.Builder
	for _, f := range deb822Fields {
		if !args.Has(f.name) {
			continue
		}
		var v string
		switch f.typ {
		case TypeBool:
			v = "no"
			if args.Bool(f.name) {
				v = "yes"
			}
		case TypeInt:
			v = strconv.Itoa(args.Int(f.name))
		case TypeList:
			v = strings.Join(args.Strings(f.name), " ")
		default:
			v = args.String(f.name)
		}
		if f.name == "signed_by" {
			v = signedBy
		}
		if strings.Contains(v, "\n") {
			// format_multiline: indented lines, blank ones as "."
			var lines []string
			for _, l := range strings.Split(strings.TrimSpace(v), "\n") {
				if l = strings.TrimSpace(l); l == "" {
					l = "."
				}
				lines = append(lines, "    "+l)
			}
			v = "\n" + strings.Join(lines, "\n")
		}
		if v == "" || v[0] == '\n' {
			fmt.Fprintf(&b, "%s:%s\n", deb822FieldName(f.name), v)
		} else {
			fmt.Fprintf(&b, "%s: %s\n", deb822FieldName(f.name), v)
		}
	}
	return b.String()
}

// Run writes or removes the repository's sources file.
func (m Deb822Repository) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	for _, t := range args.Strings("types") {
		if t != "deb" && t != "deb-src" {
			return Result{Failed: true, Msg: fmt.Sprintf("value of types must be one or more of: deb, deb-src. Got no match for: %s", t)}, nil
		}
	}
	mode := fmt.Sprint(args["mode"])
	if n, ok := args["mode"].(int); ok {
		// a YAML integer is the decimal value of the octal mode (0644 → 420)
		mode = fmt.Sprintf("%o", n)
	}
	if !deb822Octal.MatchString(mode) && !deb822Symbolic.MatchString(mode) {
		return Result{Failed: true, Msg: "bad symbolic permission for mode: " + mode}, nil
	}
	slug := deb822Slug(args.String("name"))
	dest := m.root + "/etc/apt/sources.list.d/" + slug + ".sources"
	keyrings := m.root + "/etc/apt/keyrings"
	check := "0"
	if env.Check {
		check = "1"
	}
	var sc strings.Builder
	fmt.Fprintf(&sc, "_mdo_check=%s; _mdo_dest=%s; _mdo_kr=%s; _mdo_slug=%s; _mdo_mode=%s\n", check, conn.Quote(dest), conn.Quote(keyrings), conn.Quote(slug), conn.Quote(mode))
	sc.WriteString(`_mdo_ch=0
_mdo_tmp=$(mktemp) || { _mdo_f fail "mktemp failed"; exit 0; }
trap 'rm -f -- "$_mdo_tmp"' EXIT
`)
	if args.String("state") == "absent" {
		sc.WriteString(`if [ -e "$_mdo_dest" ] || [ -L "$_mdo_dest" ]; then _mdo_ch=1; [ $_mdo_check = 1 ] || rm -f -- "$_mdo_dest" || { _mdo_f fail "cannot remove $_mdo_dest"; exit 0; }; fi
for _mdo_k in "$_mdo_kr/$_mdo_slug.asc" "$_mdo_kr/$_mdo_slug.gpg"; do
  if [ -e "$_mdo_k" ] || [ -L "$_mdo_k" ]; then _mdo_ch=1; [ $_mdo_check = 1 ] || rm -f -- "$_mdo_k" || { _mdo_f fail "cannot remove $_mdo_k"; exit 0; }; fi
done
_mdo_f changed $_mdo_ch
_mdo_f end 1
`)
		f, res, err := runScript(ctx, env, "deb822_repository", sc.String(), nil)
		if err != nil {
			return Result{}, err
		}
		values := map[string]any{"repo": nil, "dest": dest, "key_filename": keyrings + "/" + slug + ".gpg"}
		if msg, ok := f.get("fail"); ok {
			return Result{Failed: true, Msg: msg, Values: values}, nil
		}
		if _, ok := f.get("end"); !ok {
			return scriptFailure("deb822_repository", res), nil
		}
		return Result{Changed: f.str("changed") == "1", Values: values}, nil
	}
	signedBy := args.String("signed_by")
	fmt.Fprintf(&sc, "_mdo_plain=%s\n", conn.Quote(deb822Render(args, signedBy)))
	if args.Has("signed_by") {
		fmt.Fprintf(&sc, "_mdo_sb=%s\n", conn.Quote(signedBy))
		url := deb822Scheme.MatchString(signedBy)
		if url {
			fmt.Fprintf(&sc, "_mdo_asc=%s\n_mdo_gpg=%s\n", conn.Quote(deb822Render(args, keyrings+"/"+slug+".asc")), conn.Quote(deb822Render(args, keyrings+"/"+slug+".gpg")))
		}
		sc.WriteString(`if [ -f "$_mdo_sb" ]; then
  _mdo_content=$_mdo_plain; _mdo_f key_filename "$_mdo_sb"
`)
		if url {
			sc.WriteString(`else
  _mdo_kt=$(mktemp) || { _mdo_f fail "mktemp failed"; exit 0; }
  trap 'rm -f -- "$_mdo_tmp" "$_mdo_kt"' EXIT
  if command -v curl >/dev/null 2>&1; then _mdo_o=$(curl -fsSL -o "$_mdo_kt" -- "$_mdo_sb" 2>&1)
  elif command -v wget >/dev/null 2>&1; then _mdo_o=$(wget -q -O "$_mdo_kt" -- "$_mdo_sb" 2>&1)
  else _mdo_f fail "Could not fetch signed_by key: neither curl nor wget is installed on the target"; exit 0; fi || { _mdo_f fail "Could not fetch signed_by key: $_mdo_o"; exit 0; }
  if [ ! -s "$_mdo_kt" ]; then
    _mdo_content=$_mdo_plain; _mdo_f key_filename "$_mdo_sb"
  else
    if grep -q -e '-----BEGIN PGP PUBLIC KEY BLOCK-----' "$_mdo_kt"; then _mdo_ext=asc; _mdo_content=$_mdo_asc; else _mdo_ext=gpg; _mdo_content=$_mdo_gpg; fi
    _mdo_kf="$_mdo_kr/$_mdo_slug.$_mdo_ext"
    _mdo_f key_filename "$_mdo_kf"
    if ! cmp -s -- "$_mdo_kt" "$_mdo_kf"; then
      _mdo_ch=1
      if [ $_mdo_check = 0 ]; then
        [ -d "$_mdo_kr" ] || mkdir -m 0755 -p -- "$_mdo_kr" || { _mdo_f fail "cannot create $_mdo_kr"; exit 0; }
        chmod 0644 "$_mdo_kt" && mv -f -- "$_mdo_kt" "$_mdo_kf" || { _mdo_f fail "cannot write $_mdo_kf"; exit 0; }
      fi
    elif [ "$(stat -c %a -- "$_mdo_kf")" != 644 ]; then
      _mdo_ch=1; [ $_mdo_check = 1 ] || chmod 0644 -- "$_mdo_kf" || { _mdo_f fail "cannot chmod $_mdo_kf"; exit 0; }
    fi
  fi
fi
`)
		} else {
			sc.WriteString("else _mdo_content=$_mdo_plain; fi\n")
		}
	} else {
		sc.WriteString("_mdo_content=$_mdo_plain\n")
	}
	sc.WriteString(`_mdo_f repo "$_mdo_content"
printf '%s' "$_mdo_content" >"$_mdo_tmp" || { _mdo_f fail "cannot write a temporary file"; exit 0; }
if ! cmp -s -- "$_mdo_tmp" "$_mdo_dest"; then
  _mdo_ch=1
  if [ $_mdo_check = 0 ]; then
    _mdo_d=$(dirname -- "$_mdo_dest")
    mkdir -p -- "$_mdo_d" && _mdo_t=$(mktemp "$_mdo_d/.mdo-deb822-XXXXXXXX") && cat -- "$_mdo_tmp" >"$_mdo_t" &&
      { if [ -e "$_mdo_dest" ]; then chmod "$(stat -c %a -- "$_mdo_dest")" "$_mdo_t"; else chmod 0644 "$_mdo_t"; fi; } &&
      mv -f -- "$_mdo_t" "$_mdo_dest" || { rm -f -- "$_mdo_t"; _mdo_f fail "cannot write $_mdo_dest"; exit 0; }
  fi
fi
# the mode, compared by applying it to a scratch file of the same mode
if [ -e "$_mdo_dest" ]; then
  chmod "$(stat -c %a -- "$_mdo_dest")" "$_mdo_tmp" && chmod "$_mdo_mode" "$_mdo_tmp" || { _mdo_f fail "bad mode $_mdo_mode"; exit 0; }
  if [ "$(stat -c %a -- "$_mdo_tmp")" != "$(stat -c %a -- "$_mdo_dest")" ]; then
    _mdo_ch=1; [ $_mdo_check = 1 ] || chmod "$_mdo_mode" "$_mdo_dest" || { _mdo_f fail "cannot chmod $_mdo_dest"; exit 0; }
  fi
fi
_mdo_f changed $_mdo_ch
_mdo_f end 1
`)
	f, res, err := runScript(ctx, env, "deb822_repository", sc.String(), nil)
	if err != nil {
		return Result{}, err
	}
	values := map[string]any{"repo": f.str("repo"), "dest": dest, "key_filename": nil}
	if kf, ok := f.get("key_filename"); ok {
		values["key_filename"] = kf
	}
	if msg, ok := f.get("fail"); ok {
		return Result{Failed: true, Msg: msg, Values: values}, nil
	}
	if _, ok := f.get("end"); !ok {
		return scriptFailure("deb822_repository", res), nil
	}
	return Result{Changed: f.str("changed") == "1", Values: values}, nil
}
