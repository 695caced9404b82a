package playbook

import "slices"

// TagsSelected applies --tags and --skip-tags to a task's tags, following
// Ansible: `always` runs unless skipped explicitly, `never` runs only when
// asked for, `all`, `tagged` and `untagged` are special.
func TagsSelected(tags, only, skip []string) bool {
	has := func(l []string, x string) bool { return slices.Contains(l, x) }
	if len(only) == 0 {
		only = []string{"all"}
	}
	run := false
	switch {
	case has(tags, "always") && !has(skip, "always"):
		run = true
	case has(only, "all") && !has(tags, "never"):
		run = true
	case has(only, "tagged") && len(tags) > 0 && !has(tags, "never"):
		run = true
	case has(only, "untagged") && len(tags) == 0:
		run = true
	default:
		for _, t := range tags {
			if has(only, t) {
				run = true
				break
			}
		}
	}
	if !run {
		return false
	}
	if has(skip, "all") && !(has(tags, "always") && !has(skip, "always")) {
		return false
	}
	if has(skip, "tagged") && len(tags) > 0 {
		return false
	}
	if has(skip, "untagged") && len(tags) == 0 {
		return false
	}
	for _, t := range tags {
		if has(skip, t) {
			return false
		}
	}
	return true
}
