package modules

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// Stat is the stat module: facts about one path on the target, gathered by
// one shell script using coreutils stat, readlink and the *sum tools (and
// file for the MIME type when it is installed). get_attributes is accepted
// and ignored.
type Stat struct{}

var _ Module = Stat{}

// Spec describes stat's arguments.
func (Stat) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "path", Aliases: []string{"dest", "name"}, Type: TypePath, Required: true},
			{Name: "follow", Type: TypeBool, Default: false},
			{Name: "get_checksum", Type: TypeBool, Default: true},
			{Name: "checksum_algorithm", Aliases: []string{"checksum", "checksum_algo"}, Type: TypeStr, Default: "sha1",
				Choices: []string{"md5", "sha1", "sha224", "sha256", "sha384", "sha512"}},
			{Name: "get_mime", Aliases: []string{"mime", "mime_type", "mime-type"}, Type: TypeBool, Default: true},
			{Name: "get_attributes", Aliases: []string{"attr", "attributes"}, Type: TypeBool, Default: true},
		},
		CheckMode: true,
	}
}

// statFormat is what `stat -c` prints; the names come last because only
// they could contain unusual characters.
const statFormat = "%f %s %u %g %.9X %.9Y %.9Z %i %d %h %b %o %r %U %G"

// Run stats the path.
func (Stat) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	var e expander
	path := e.Word(args.String("path"), true)
	follow := ""
	if args.Bool("follow") {
		follow = "-L "
	}
	algo := args.String("checksum_algorithm")
	if algo == "" {
		algo = "sha1"
	}
	var sc strings.Builder
	sc.WriteString(e.Prelude())
	fmt.Fprintf(&sc, "_mdo_p=%s\n", path)
	fmt.Fprintf(&sc, "_mdo_s=$(LC_ALL=C stat %s-c '%s' -- \"$_mdo_p\" 2>&1) || { printf 'error\\0%%s\\0' \"$_mdo_s\"; exit 0; }\n", follow, statFormat)
	sc.WriteString(`printf 'path\0%s\0stat\0%s\0' "$_mdo_p" "$_mdo_s"
_mdo_a=
[ -r "$_mdo_p" ] && _mdo_a=r
[ -w "$_mdo_p" ] && _mdo_a="${_mdo_a}w"
[ -x "$_mdo_p" ] && _mdo_a="${_mdo_a}x"
printf 'access\0%s\0' "$_mdo_a"
case $_mdo_s in a*)
  printf 'lnk_target\0'; readlink -z -- "$_mdo_p" || printf '\0'
  printf 'lnk_source\0'; readlink -zm -- "$_mdo_p" || printf '\0'
esac
`)
	if args.Bool("get_checksum") {
		fmt.Fprintf(&sc, "case $_mdo_s in 8*) if [ -r \"$_mdo_p\" ]; then printf 'checksum\\0'; %ssum < \"$_mdo_p\"; printf '\\0'; fi; esac\n", algo)
	}
	if args.Bool("get_mime") {
		sc.WriteString(`if command -v file >/dev/null 2>&1; then printf 'mime\0'; file -b --mime-type --mime-encoding -- "$_mdo_p"; printf '\0'; fi` + "\n")
	}
	res, err := env.Conn.Exec(ctx, conn.Command{Script: sc.String()})
	if err != nil {
		return Result{}, fmt.Errorf("stat %s: %w", args.String("path"), err)
	}
	f := nulFields(res.Stdout)
	if msg, ok := f["error"]; ok {
		msg = strings.TrimSpace(msg)
		if i := strings.LastIndex(msg, ": "); i >= 0 {
			msg = msg[i+2:]
		}
		if msg == "No such file or directory" {
			return Result{Values: map[string]any{"stat": map[string]any{"exists": false}}}, nil
		}
		return Result{Failed: true, Msg: msg}, nil
	}
	st, err := parseStat(f["stat"])
	if err != nil {
		return Result{Failed: true, Msg: fmt.Sprintf("stat %s: %v (stderr: %s)", args.String("path"), err, bytes.TrimSpace(res.Stderr))}, nil
	}
	st["path"] = f["path"]
	access := f["access"]
	st["readable"] = strings.Contains(access, "r")
	st["writeable"] = strings.Contains(access, "w")
	st["executable"] = strings.Contains(access, "x")
	if st["islnk"] == true {
		st["lnk_target"] = f["lnk_target"]
		st["lnk_source"] = f["lnk_source"]
	}
	if sum := strings.Fields(f["checksum"]); len(sum) > 0 {
		st["checksum"] = sum[0]
	}
	if args.Bool("get_mime") {
		st["mimetype"], st["charset"] = "unknown", "unknown"
		if typ, cs, ok := strings.Cut(strings.TrimSpace(f["mime"]), ";"); ok {
			st["mimetype"] = strings.TrimSpace(typ)
			if _, v, ok := strings.Cut(cs, "="); ok {
				st["charset"] = strings.TrimSpace(v)
			}
		}
	}
	return Result{Values: map[string]any{"stat": st}}, nil
}

// nulFields reads key\0value\0 pairs.
func nulFields(b []byte) map[string]string {
	parts := bytes.Split(b, []byte{0})
	m := make(map[string]string, len(parts)/2)
	for i := 0; i+1 < len(parts); i += 2 {
		m[string(parts[i])] = string(parts[i+1])
	}
	return m
}

// parseStat turns a statFormat line into Ansible's stat keys.
func parseStat(line string) (map[string]any, error) {
	f := strings.Fields(line)
	if len(f) < 15 {
		return nil, fmt.Errorf("unexpected stat output %q", line)
	}
	raw, err := strconv.ParseUint(f[0], 16, 32)
	if err != nil {
		return nil, fmt.Errorf("mode %q: %w", f[0], err)
	}
	ints := make([]int, 0, 9)
	for _, i := range []int{1, 2, 3, 7, 8, 9, 10, 11, 12} {
		n, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("field %d %q: %w", i, f[i], err)
		}
		ints = append(ints, int(n))
	}
	var times [3]float64
	for i := range times {
		t, err := strconv.ParseFloat(f[4+i], 64)
		if err != nil {
			return nil, fmt.Errorf("time %q: %w", f[4+i], err)
		}
		times[i] = t
	}
	mode := uint32(raw)
	typ := mode & 0o170000
	st := map[string]any{
		"exists":      true,
		"mode":        fmt.Sprintf("%04o", mode&0o7777),
		"isdir":       typ == 0o040000,
		"ischr":       typ == 0o020000,
		"isblk":       typ == 0o060000,
		"isreg":       typ == 0o100000,
		"isfifo":      typ == 0o010000,
		"islnk":       typ == 0o120000,
		"issock":      typ == 0o140000,
		"size":        ints[0],
		"uid":         ints[1],
		"gid":         ints[2],
		"inode":       ints[3],
		"dev":         ints[4],
		"nlink":       ints[5],
		"blocks":      ints[6],
		"block_size":  ints[7],
		"device_type": ints[8],
		"atime":       times[0],
		"mtime":       times[1],
		"ctime":       times[2],
		"rusr":        mode&0o400 != 0,
		"wusr":        mode&0o200 != 0,
		"xusr":        mode&0o100 != 0,
		"rgrp":        mode&0o040 != 0,
		"wgrp":        mode&0o020 != 0,
		"xgrp":        mode&0o010 != 0,
		"roth":        mode&0o004 != 0,
		"woth":        mode&0o002 != 0,
		"xoth":        mode&0o001 != 0,
		"isuid":       mode&0o4000 != 0,
		"isgid":       mode&0o2000 != 0,
	}
	if f[13] != "UNKNOWN" {
		st["pw_name"] = f[13]
	}
	if f[14] != "UNKNOWN" {
		st["gr_name"] = f[14]
	}
	return st, nil
}
