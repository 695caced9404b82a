package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/mdo-play/mdo-play/inventory"
	"github.com/mdo-play/mdo-play/playbook"
	"github.com/mdo-play/mdo-play/playbook/engine"
)

// list prints --list-hosts, --list-tasks and --list-tags in
// ansible-playbook's layout.
func (a *app) list(c *cli.Context, inv *inventory.Inventory, pbs []*playbook.Playbook, limit string, tags, skip []string, sliceK, sliceN int) error {
	var slice map[string]bool
	if sliceN > 0 {
		slice = engine.SliceHosts(inv.Hosts(), sliceK, sliceN)
	}
	for _, pb := range pbs {
		fmt.Fprintf(a.stdout, "\nplaybook: %s\n", pb.Path)
		for i, play := range pb.Plays {
			fmt.Fprintf(a.stdout, "\n  play #%d (%s): %s\tTAGS: [%s]\n", i+1, play.Hosts, play.Name, strings.Join(sortedUnique(play.Tags), ", "))
			if c.Bool("list-hosts") {
				hosts, _, err := inv.Select(play.Hosts)
				if err != nil {
					return withCode(exitParse, fmt.Errorf("%s: %w", play.Pos, err))
				}
				if limit != "" {
					hosts, _, err = inv.Limit(hosts, inventory.SplitPattern(limit))
					if err != nil {
						return usageErr("--limit: %v", err)
					}
				}
				if slice != nil {
					var out []*inventory.Host
					for _, h := range hosts {
						if slice[h.Name] || h.Implicit() {
							out = append(out, h)
						}
					}
					hosts = out
				}
				fmt.Fprintf(a.stdout, "    pattern: ['%s']\n    hosts (%d):\n", strings.Join(strings.Split(play.Hosts, ","), "', '"), len(hosts))
				for _, h := range hosts {
					fmt.Fprintf(a.stdout, "      %s\n", h.Name)
				}
			}
			if c.Bool("list-tasks") {
				fmt.Fprintln(a.stdout, "    tasks:")
				for _, section := range [][]*playbook.Task{play.PreTasks, play.Tasks, play.PostTasks} {
					walkTasks(section, play.Tags, func(t *playbook.Task, tt []string) {
						if tagsMatch(tt, tags, skip) {
							fmt.Fprintf(a.stdout, "      %s\tTAGS: [%s]\n", t.DisplayName(), strings.Join(sortedUnique(tt), ", "))
						}
					})
				}
			}
			if c.Bool("list-tags") {
				var all []string
				for _, section := range [][]*playbook.Task{play.PreTasks, play.Tasks, play.PostTasks} {
					walkTasks(section, play.Tags, func(t *playbook.Task, tt []string) {
						if tagsMatch(tt, tags, skip) {
							all = append(all, tt...)
						}
					})
				}
				fmt.Fprintf(a.stdout, "      TASK TAGS: [%s]\n", strings.Join(sortedUnique(all), ", "))
			}
		}
	}
	return nil
}

// walkTasks calls f for every module task with its inherited tags.
func walkTasks(tasks []*playbook.Task, inherited []string, f func(*playbook.Task, []string)) {
	for _, t := range tasks {
		tt := append(append([]string{}, inherited...), t.Tags...)
		if t.IsBlock() {
			walkTasks(t.Block, tt, f)
			walkTasks(t.Rescue, tt, f)
			walkTasks(t.Always, tt, f)
			continue
		}
		f(t, tt)
	}
}

func tagsMatch(tt, only, skip []string) bool { return playbook.TagsSelected(tt, only, skip) }

func sortedUnique(l []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range l {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}
