package playbook

import "github.com/mdo-play/mdo-play/modules"

// suggest returns ` (did you mean "x"?)` for the candidate nearest to s, or
// "" when none is close (modules.Suggest).
func suggest(s string, candidates []string) string { return modules.Suggest(s, candidates) }
