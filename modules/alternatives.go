package modules

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// Alternatives is the alternatives module (community.general): it
// installs, selects, sets to auto or removes an alternative with
// update-alternatives. One exec reads `update-alternatives --display`; a
// change costs one more exec running the commands the collection's module
// would run, in its order.
type Alternatives struct{}

var _ Module = Alternatives{}

// Spec describes alternatives' arguments.
func (Alternatives) Spec() *Spec {
	return &Spec{
		Args: []Arg{
			{Name: "name", Type: TypeStr, Required: true},
			{Name: "path", Type: TypePath, Required: true},
			{Name: "link", Type: TypePath},
			{Name: "priority", Type: TypeInt},
			{Name: "state", Type: TypeStr, Default: "selected", Choices: []string{"absent", "auto", "present", "selected"}},
			{Name: "subcommands", Aliases: []string{"slaves"}, Type: TypeList},
		},
		CheckMode: true,
	}
}

var (
	altModeRE    = regexp.MustCompile(`(?m)\s-\s(?:status\sis\s)?(\w*)(?:\smode|.)$`)
	altPathRE    = regexp.MustCompile(`(?m)^\s*link currently points to (.*)$`)
	altLinkRE    = regexp.MustCompile(`(?m)^\s*link \w+ is (.*)$`)
	altEntryRE   = regexp.MustCompile(`(?m)^(/.*)\s-\s(?:family\s\S+\s)?priority\s(\d+)((?:\s+(?:slave|follower).*)*)`)
	altSubcmdRE  = regexp.MustCompile(`(?m)^\s+(?:slave|follower) (.*): (.*)$`)
	altSubLinkRE = regexp.MustCompile(`(?m)^\s*(?:slave|follower) (\S+) is (.*)$`)
)

// altState is what --display said.
type altState struct {
	mode, path, link string
	alts             map[string]altEntry
}

type altEntry struct {
	priority int
	subs     map[string]string // subcommand name → path
}

func parseAlternatives(out string) altState {
	st := altState{alts: map[string]altEntry{}}
	m := altModeRE.FindStringSubmatch(out)
	if m == nil {
		return st
	}
	st.mode = m[1]
	if m := altPathRE.FindStringSubmatch(out); m != nil {
		st.path = m[1]
	}
	if m := altLinkRE.FindStringSubmatch(out); m != nil {
		st.link = m[1]
	}
	for _, e := range altEntryRE.FindAllStringSubmatch(out, -1) {
		p, _ := strconv.Atoi(e[2])
		subs := map[string]string{}
		for _, s := range altSubcmdRE.FindAllStringSubmatch(e[3], -1) {
			if s[2] != "(null)" {
				subs[s[1]] = s[2]
			}
		}
		st.alts[e[1]] = altEntry{priority: p, subs: subs}
	}
	return st
}

// Run brings the alternative to the state asked for.
func (Alternatives) Run(ctx context.Context, env *Env, args Args) (Result, error) {
	name, p, state := args.String("name"), args.String("path"), args.String("state")
	f, res, err := runScript(ctx, env, "alternatives "+name, fmt.Sprintf(`command -v update-alternatives >/dev/null 2>&1 || { _mdo_f missing 1; exit 0; }
_mdo_o=$(LC_ALL=C update-alternatives --display %s 2>/dev/null) && _mdo_f display "$_mdo_o"
[ -e %s ] && _mdo_f exists 1
_mdo_f end 1
`, conn.Quote(name), conn.Quote(p)), nil)
	if err != nil {
		return Result{}, err
	}
	if _, ok := f.get("missing"); ok {
		return Result{Failed: true, Msg: "Failed to find required executable \"update-alternatives\" in paths"}, nil
	}
	if _, ok := f.get("end"); !ok {
		return scriptFailure("alternatives", res), nil
	}
	st := parseAlternatives(f.str("display"))
	type subcmd struct{ name, path, link string }
	var subs []subcmd
	subsGiven := args.Has("subcommands")
	for _, s := range args.List("subcommands") {
		m, ok := s.(map[string]any)
		if !ok {
			return Result{Failed: true, Msg: "subcommands: each entry must be a mapping with name, path and link"}, nil
		}
		sc := subcmd{fmt.Sprint(m["name"]), fmt.Sprint(m["path"]), fmt.Sprint(m["link"])}
		if m["name"] == nil || m["path"] == nil || m["link"] == nil {
			return Result{Failed: true, Msg: "subcommands: each entry needs name, path and link"}, nil
		}
		subs = append(subs, sc)
	}
	var cmds, msgs []string
	cur, known := st.alts[p]
	if state == "absent" {
		if known {
			cmds = append(cmds, "update-alternatives --remove "+conn.Quote(name)+" "+conn.Quote(p))
			msgs = append(msgs, fmt.Sprintf("Remove alternative '%s' from '%s'.", p, name))
		}
	} else {
		prio := 50
		if known {
			prio = cur.priority
		}
		if args.Has("priority") {
			prio = args.Int("priority")
		}
		subsDiffer := false
		if subsGiven && known {
			if len(subs) != len(cur.subs) {
				subsDiffer = true
			}
			for _, s := range subs {
				if cur.subs[s.name] != s.path {
					subsDiffer = true
				}
			}
		}
		if !known || args.Has("priority") && cur.priority != args.Int("priority") || subsDiffer {
			if _, ok := f.get("exists"); !ok {
				return Result{Failed: true, Msg: fmt.Sprintf("Specified path %s does not exist", p)}, nil
			}
			link := args.String("link")
			if link == "" {
				link = st.link
			}
			if link == "" {
				return Result{Failed: true, Msg: "Needed to install the alternative, but unable to do so as we are missing the link"}, nil
			}
			c := fmt.Sprintf("update-alternatives --install %s %s %s %d", conn.Quote(link), conn.Quote(name), conn.Quote(p), prio)
			for _, s := range subs {
				c += " --slave " + quoteWords([]string{s.link, s.name, s.path})
			}
			cmds = append(cmds, c)
			msgs = append(msgs, fmt.Sprintf("Install alternative '%s' for '%s'.", p, name))
			if st.mode == "" {
				// a first install makes it the auto choice
				st.mode, st.path = "auto", p
			}
		}
		if state == "selected" && st.path != p {
			cmds = append(cmds, "update-alternatives --set "+conn.Quote(name)+" "+conn.Quote(p))
			msgs = append(msgs, fmt.Sprintf("Set alternative '%s' for '%s'.", p, name))
		}
		if state == "auto" && st.mode == "manual" {
			cmds = append(cmds, "update-alternatives --auto "+conn.Quote(name))
			msgs = append(msgs, fmt.Sprintf("Set alternative to auto for '%s'.", name))
		}
	}
	r := Result{Changed: len(cmds) > 0, Msg: strings.Join(msgs, " ")}
	if !r.Changed || env.Check {
		return r, nil
	}
	var sc strings.Builder
	for _, c := range cmds {
		fmt.Fprintf(&sc, "_mdo_o=$(LC_ALL=C %s 2>&1 </dev/null) || { _mdo_f fail \"$_mdo_o\"; _mdo_f rc $?; exit 0; }\n", c)
	}
	sc.WriteString("_mdo_f end 1\n")
	f, res, err = runScript(ctx, env, "alternatives "+name, sc.String(), nil)
	if err != nil {
		return Result{}, err
	}
	if msg, ok := f.get("fail"); ok {
		return Result{Failed: true, Msg: strings.TrimSpace(msg)}, nil
	}
	if _, ok := f.get("end"); !ok {
		return scriptFailure("alternatives", res), nil
	}
	return r, nil
}
