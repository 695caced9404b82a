package modules

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// Git is the git module: it clones a repository into dest and keeps the
// checkout at version (HEAD, a branch, a tag or a commit). One exec reads
// the checkout's commit, local modifications and remote URL and asks the
// remote (git ls-remote) which commit version names; when they agree
// nothing more runs. Otherwise a second exec clones, or fetches and
// switches as Ansible's switch_version does (checkout --force and reset
// --hard to the remote branch, or checkout of the tag or commit), then
// updates submodules.
type Git struct{}

var _ Module = Git{}

// Spec describes git's arguments.
func (Git) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "repo", Aliases: []string{"name"}, Type: TypeStr, Required: true},
			{Name: "dest", Type: TypePath},
			{Name: "version", Type: TypeStr, Default: "HEAD"},
			{Name: "remote", Type: TypeStr, Default: "origin"},
			{Name: "refspec", Type: TypeStr},
			{Name: "reference", Type: TypeStr},
			{Name: "force", Type: TypeBool, Default: false},
			{Name: "depth", Type: TypeInt},
			{Name: "clone", Type: TypeBool, Default: true},
			{Name: "update", Type: TypeBool, Default: true},
			{Name: "verify_commit", Type: TypeBool, Default: false},
			{Name: "gpg_whitelist", Type: TypeList},
			{Name: "accept_hostkey", Type: TypeBool, Default: false},
			{Name: "accept_newhostkey", Type: TypeBool, Default: false},
			{Name: "key_file", Type: TypePath},
			{Name: "ssh_opts", Type: TypeStr},
			{Name: "executable", Type: TypePath},
			{Name: "bare", Type: TypeBool, Default: false},
			{Name: "recursive", Type: TypeBool, Default: true},
			{Name: "single_branch", Type: TypeBool, Default: false},
			{Name: "track_submodules", Type: TypeBool, Default: false},
			{Name: "umask", Type: TypeRaw},
			{Name: "archive", Type: TypePath},
			{Name: "archive_prefix", Type: TypeStr},
			{Name: "separate_git_dir", Type: TypePath},
		},
		CheckMode:         true,
		MutuallyExclusive: [][]string{{"separate_git_dir", "bare"}, {"accept_hostkey", "accept_newhostkey"}},
	}
}

var gitSHA = regexp.MustCompile(`^[0-9a-fA-F]{4,40}$`)

// gitRemoteHead is Ansible's get_remote_head over `git ls-remote` output:
// the commit HEAD, the branch or the (dereferenced) tag named version
// points to, else version itself (a commit). kind is head, branch, tag or
// commit.
func gitRemoteHead(ls, version string) (sha, kind string) {
	refs := map[string]string{}
	for _, l := range strings.Split(ls, "\n") {
		if s, ref, ok := strings.Cut(strings.TrimSpace(l), "\t"); ok {
			refs[ref] = s
		}
	}
	switch {
	case version == "HEAD":
		return refs["HEAD"], "head"
	case refs["refs/heads/"+version] != "":
		return refs["refs/heads/"+version], "branch"
	case refs["refs/tags/"+version+"^{}"] != "":
		return refs["refs/tags/"+version+"^{}"], "tag"
	case refs["refs/tags/"+version] != "":
		return refs["refs/tags/"+version], "tag"
	}
	return version, "commit"
}

// Run clones or updates the checkout.
func (Git) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	repo := args.String("repo")
	dest := strings.TrimSuffix(args.String("dest"), "/")
	version := args.String("version")
	remote := args.String("remote")
	bare := args.Bool("bare")
	if dest == "" && args.Bool("clone") {
		return Result{Failed: true, Msg: "the destination directory must be specified unless clone=no"}, nil
	}
	if args.Has("archive") || args.Has("separate_git_dir") || args.Bool("verify_commit") {
		return Result{Failed: true, Msg: "git: archive, separate_git_dir and verify_commit are not supported by mdo-play's git module"}, nil
	}
	if strings.HasPrefix(repo, "/") {
		repo = "file://" + repo // as Ansible does, so that depth works
	}
	var warnings []string
	sshOpts := args.String("ssh_opts")
	addOpt := func(o string) {
		if strings.Contains(sshOpts, "-o StrictHostKeyChecking=no") || strings.Contains(sshOpts, "-o StrictHostKeyChecking=accept-new") {
			return
		}
		sshOpts = strings.TrimSpace(sshOpts + " " + o)
	}
	if args.Bool("accept_hostkey") {
		addOpt("-o StrictHostKeyChecking=no")
	}
	if args.Bool("accept_newhostkey") {
		addOpt("-o StrictHostKeyChecking=accept-new")
	}
	var pre strings.Builder
	pre.WriteString("export LANG=C LC_ALL=C LC_MESSAGES=C LC_CTYPE=C GIT_TERMINAL_PROMPT=0\n")
	if args.Has("umask") {
		u, ok := args["umask"].(string)
		if !ok {
			return Result{Failed: true, Msg: "umask must be defined as a quoted octal integer"}, nil
		}
		n, err := strconv.ParseUint(u, 8, 32)
		if err != nil {
			return Result{Failed: true, Msg: "umask must be an octal integer"}, nil
		}
		fmt.Fprintf(&pre, "umask %04o\n", n)
	}
	if kf := args.String("key_file"); kf != "" || sshOpts != "" {
		sshCmd := "ssh"
		if kf != "" {
			sshCmd += " -i " + conn.Quote(kf) + " -o IdentitiesOnly=yes"
		}
		if sshOpts != "" {
			sshCmd += " " + sshOpts
		}
		fmt.Fprintf(&pre, "export GIT_SSH_COMMAND=%s\n", conn.Quote(sshCmd))
	}
	gitBin := "git"
	if args.Has("executable") {
		gitBin = args.String("executable")
	}
	fmt.Fprintf(&pre, "_mdo_git() { %s \"$@\"; }\n", conn.Quote(gitBin))
	fmt.Fprintf(&pre, "_mdo_d=%s\n", conn.Quote(dest))
	// _mdo_do MSG CMD...: runs git, stopping the script with Ansible's
	// failure message, the output and rc when it fails.
	pre.WriteString(`_mdo_do() { _mdo_m=$1; shift; _mdo_o=$("$@" 2>&1 </dev/null); _mdo_rc=$?
  [ $_mdo_rc -eq 0 ] && return 0; _mdo_f fail "$_mdo_m"; _mdo_f out "$_mdo_o"; _mdo_f rc $_mdo_rc; exit 0; }
`)
	gitDir := `"$_mdo_d/.git"`
	if bare {
		gitDir = `"$_mdo_d"`
	}

	// Exec 1: the checkout's state and the remote's commit for version.
	var sc strings.Builder
	sc.WriteString(pre.String())
	if dest != "" {
		fmt.Fprintf(&sc, "if [ -f %s/config ]; then\n  _mdo_f exists 1\n", gitDir)
		sc.WriteString("  _mdo_f before \"$(_mdo_git -C \"$_mdo_d\" rev-parse HEAD 2>/dev/null)\"\n")
		if !bare {
			sc.WriteString("  _mdo_f mods \"$(_mdo_git -C \"$_mdo_d\" status --porcelain --untracked-files=no 2>/dev/null)\"\n")
		}
		fmt.Fprintf(&sc, "  _mdo_f url \"$(_mdo_git -C \"$_mdo_d\" config --get %s)\"\nfi\n", conn.Quote("remote."+remote+".url"))
	}
	refs := []string{"HEAD"}
	if version != "HEAD" {
		refs = []string{"refs/heads/" + version, "refs/tags/" + version, "refs/tags/" + version + "^{}"}
	}
	fmt.Fprintf(&sc, "_mdo_do %s _mdo_git ls-remote %s %s\n_mdo_f ls \"$_mdo_o\"\n_mdo_f end 1\n",
		conn.Quote("Failed to ls-remote "+repo), conn.Quote(repo), quoteWords(refs))
	f, res, err := runScript(ctx, env, "git "+repo, sc.String(), nil)
	if err != nil {
		return Result{}, err
	}
	values := map[string]any{"before": nil}
	if msg, ok := gitFailure(f, values); ok {
		return Result{Failed: true, Msg: msg, Values: values}, nil
	}
	if _, ok := f.get("end"); !ok {
		return scriptFailure("git", res), nil
	}
	target, kind := gitRemoteHead(f.str("ls"), version)
	if kind == "head" && target == "" {
		return Result{Failed: true, Msg: "Could not determine remote HEAD of " + repo, Values: values}, nil
	}
	if kind == "commit" && !gitSHA.MatchString(version) {
		return Result{Failed: true, Msg: fmt.Sprintf("Failed to checkout %s", version), Values: values}, nil
	}
	_, exists := f.get("exists")
	before := f.str("before")
	if exists && before != "" {
		values["before"] = before
	}
	at := func(sha string) bool {
		return sha != "" && (sha == target || kind == "commit" && strings.HasPrefix(sha, strings.ToLower(target)))
	}
	r := Result{Values: values, Warnings: warnings}

	if !exists {
		if env.Check || !args.Bool("clone") {
			values["after"] = target
			r.Changed = true
			return r, nil
		}
	} else {
		if !args.Bool("update") {
			values["after"] = values["before"]
			return r, nil
		}
		mods := f.str("mods") != ""
		if mods && !args.Bool("force") {
			return Result{Failed: true, Values: values, Msg: "Local modifications exist in the destination: " + dest + " (force=no)."}, nil
		}
		url := f.str("url")
		urlChanged := url != "" && url != repo && strings.TrimSuffix(url, "/") != strings.TrimSuffix(repo, "/")
		values["remote_url_changed"] = urlChanged
		if env.Check {
			values["after"] = target
			r.Changed = !at(before) || urlChanged || mods
			return r, nil
		}
		if at(before) && !mods && !urlChanged {
			values["after"] = before
			return r, nil
		}
		if mods {
			r.Msg = "Local modifications exist in the destination: " + dest
		}
	}

	// Exec 2: clone, or reset, fetch and switch.
	sc.Reset()
	sc.WriteString(pre.String())
	if !exists {
		cl := []string{"clone"}
		if bare {
			cl = append(cl, "--bare")
		} else {
			cl = append(cl, "--origin", remote)
		}
		if args.Has("depth") {
			d := strconv.Itoa(args.Int("depth"))
			switch {
			case version == "HEAD" || args.Has("refspec"):
				cl = append(cl, "--depth", d)
			case kind == "branch" || kind == "tag":
				cl = append(cl, "--depth", d, "--branch", version)
			default:
				r.Warnings = append(r.Warnings, "Ignoring depth argument. Shallow clones are only available for HEAD, branches, tags or in combination with refspec.")
			}
		}
		if args.Has("reference") {
			cl = append(cl, "--reference", args.String("reference"))
		}
		if args.Bool("single_branch") {
			cl = append(cl, "--single-branch")
			if (kind == "branch" || kind == "tag") && !contains(cl, "--branch") {
				cl = append(cl, "--branch", version)
			}
		}
		cl = append(cl, repo, dest)
		sc.WriteString("mkdir -p -- \"$(dirname -- \"$_mdo_d\")\"\n")
		fmt.Fprintf(&sc, "_mdo_do %s _mdo_git %s\n", conn.Quote("Failed to clone "+repo), quoteWords(cl))
		if bare && remote != "origin" {
			fmt.Fprintf(&sc, "_mdo_do 'Failed to add remote' _mdo_git -C \"$_mdo_d\" remote add %s %s\n", conn.Quote(remote), conn.Quote(repo))
		}
		if args.Has("refspec") {
			fmt.Fprintf(&sc, "_mdo_do 'Failed to fetch refspec' _mdo_git -C \"$_mdo_d\" fetch %s %s\n", conn.Quote(remote), conn.Quote(args.String("refspec")))
		}
	} else {
		if r.Msg != "" {
			sc.WriteString("_mdo_do 'Failed to reset local modifications' _mdo_git -C \"$_mdo_d\" reset --hard HEAD\n")
		}
		if values["remote_url_changed"] == true {
			fmt.Fprintf(&sc, "_mdo_do 'Failed to set a new url' _mdo_git -C \"$_mdo_d\" remote set-url %s %s\n", conn.Quote(remote), conn.Quote(repo))
		}
		fetch := []string{"-C", dest, "fetch"}
		if args.Has("depth") {
			fetch = append(fetch, "--depth", strconv.Itoa(args.Int("depth")))
		}
		fetch = append(fetch, "--force", remote, "+refs/heads/*:refs/remotes/"+remote+"/*", "+refs/tags/*:refs/tags/*")
		if args.Has("refspec") {
			fetch = append(fetch, args.String("refspec"))
		}
		if kind == "commit" && args.Has("depth") {
			fetch = append(fetch, version)
		}
		fmt.Fprintf(&sc, "_mdo_do %s _mdo_git %s\n", conn.Quote("Failed to download remote objects and refs"), quoteWords(fetch))
		if version == "HEAD" {
			fmt.Fprintf(&sc, "_mdo_git -C \"$_mdo_d\" remote set-head %s --auto >/dev/null 2>&1\n", conn.Quote(remote))
		}
	}
	if !bare {
		sc.WriteString(gitSwitch(remote, version, kind))
		if args.Bool("recursive") {
			upd := "submodule update --init --recursive"
			if args.Bool("track_submodules") {
				upd += " --remote"
			}
			if args.Bool("force") {
				upd += " --force"
			}
			fmt.Fprintf(&sc, "if [ -f \"$_mdo_d/.gitmodules\" ]; then _mdo_do 'Failed to init/update submodules' _mdo_git -C \"$_mdo_d\" %s; fi\n", upd)
		}
	}
	sc.WriteString("_mdo_f after \"$(_mdo_git -C \"$_mdo_d\" rev-parse HEAD 2>/dev/null)\"\n_mdo_f end 1\n")
	f, res, err = runScript(ctx, env, "git "+repo, sc.String(), nil)
	if err != nil {
		return Result{}, err
	}
	if msg, ok := gitFailure(f, values); ok {
		return Result{Failed: true, Msg: msg, Values: values}, nil
	}
	if _, ok := f.get("end"); !ok {
		return scriptFailure("git", res), nil
	}
	after := f.str("after")
	values["after"] = after
	r.Changed = !exists || before != after || r.Msg != "" || values["remote_url_changed"] == true
	return r, nil
}

// gitSwitch is Ansible's switch_version in shell: HEAD checks out the
// remote's default branch and resets it to the remote's; a branch is
// checked out (created tracking the remote's when missing) and reset to the
// remote's; a tag or commit is checked out.
func gitSwitch(remote, version, kind string) string {
	rq := conn.Quote(remote)
	switch kind {
	case "head":
		return fmt.Sprintf(`_mdo_b=$(_mdo_git -C "$_mdo_d" symbolic-ref --short refs/remotes/%[1]s/HEAD 2>/dev/null); _mdo_b=${_mdo_b#%[2]s/}
[ -n "$_mdo_b" ] || _mdo_b=$(_mdo_git -C "$_mdo_d" rev-parse --abbrev-ref HEAD)
_mdo_do "Failed to checkout branch $_mdo_b" _mdo_git -C "$_mdo_d" checkout --force "$_mdo_b"
_mdo_do "Failed to checkout branch $_mdo_b" _mdo_git -C "$_mdo_d" reset --hard %[1]s/"$_mdo_b" --
`, rq, strings.ReplaceAll(remote, "'", ""))
	case "branch":
		v := conn.Quote(version)
		return fmt.Sprintf(`if _mdo_git -C "$_mdo_d" show-ref --verify --quiet %[3]s; then
  _mdo_do %[4]s _mdo_git -C "$_mdo_d" checkout --force %[2]s
  _mdo_do %[5]s _mdo_git -C "$_mdo_d" reset --hard %[1]s/%[2]s
else
  _mdo_git -C "$_mdo_d" show-ref --verify --quiet refs/remotes/%[1]s/%[2]s || _mdo_do %[5]s _mdo_git -C "$_mdo_d" fetch %[1]s %[6]s
  _mdo_do %[5]s _mdo_git -C "$_mdo_d" checkout --track -b %[2]s %[1]s/%[2]s
fi
`, rq, v, conn.Quote("refs/heads/"+version), conn.Quote("Failed to checkout branch "+version), conn.Quote("Failed to checkout "+version),
			conn.Quote("+refs/heads/"+version+":refs/remotes/"+remote+"/"+version))
	}
	return fmt.Sprintf("_mdo_do %s _mdo_git -C \"$_mdo_d\" checkout --force %s\n", conn.Quote("Failed to checkout "+version), conn.Quote(version))
}

// gitFailure returns the message of a failed git command and puts its
// output and rc into values.
func gitFailure(f fields, values map[string]any) (string, bool) {
	msg, ok := f.get("fail")
	if !ok {
		return "", false
	}
	out := strings.TrimSpace(f.str("out"))
	values["stdout"] = ""
	values["stderr"] = out
	if rc, err := strconv.Atoi(f.str("rc")); err == nil {
		values["rc"] = rc
	}
	if out != "" {
		msg += ": " + out
	}
	return msg, true
}
