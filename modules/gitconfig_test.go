package modules

import (
	"reflect"
	"strings"
	"testing"
)

// TestGitConfig drives the real git, locally and over SSH, with HOME and
// GIT_CONFIG_SYSTEM pointed into the test's directory (so the global and
// system scopes are files of the test's own): set, read back, add, unset,
// list, check mode, diff, and the collection's errors.
func TestGitConfig(t *testing.T) {
	for _, tm := range fileTargets(t) {
		t.Run(tm.name, func(t *testing.T) {
			tg := tm.mk(t)
			d := tg.dir
			c := &prefixConn{Conn: tg.c, prefix: "export HOME=" + d + " GIT_CONFIG_SYSTEM=" + d + "/system"}
			sh(t, c, "git init -q "+d+"/repo && rm -f "+d+"/repo/.git/config.worktree")
			state := func() string {
				return sh(t, c, "cd "+d+" && for f in system .gitconfig; do [ -f $f ] && { echo \"== $f\"; cat $f; }; done; git -C repo config --local --get-all user.email; true")
			}
			sys := "== system\n[alias]\n\tci = commit\n"
			glob := sys + "== .gitconfig\n[user]\n\tname = A B\n"
			local := glob + "me@example.com\n"
			two := glob + "me@example.com\nyou@example.com\n"
			repo := d + "/repo"
			steps := []modsbStep{
				{"check", true, map[string]any{"name": "alias.ci", "value": "commit"}, true, false, "setting changed", "", 1},
				{"system", false, map[string]any{"name": "alias.ci", "value": "commit"}, true, false, "setting changed", sys, 2},
				{"system again", false, map[string]any{"name": "alias.ci", "value": "commit", "scope": "system"}, false, false, "", sys, 1},
				{"read", false, map[string]any{"name": "alias.ci"}, false, false, "", sys, 1},
				{"global", false, map[string]any{"name": "user.name", "value": "A B", "scope": "global"}, true, false, "", glob, 2},
				{"list global", false, map[string]any{"list_all": true, "scope": "global"}, false, false, "", glob, 1},
				{"list missing file", false, map[string]any{"list_all": true, "scope": "file", "file": d + "/none"}, false, false, "", glob, 1},
				{"local", false, map[string]any{"name": "user.email", "value": "me@example.com", "scope": "local", "repo": repo}, true, false, "", local, 2},
				{"local again", false, map[string]any{"name": "user.email", "value": "me@example.com", "scope": "local", "repo": repo}, false, false, "", local, 1},
				{"add", false, map[string]any{"name": "user.email", "value": "you@example.com", "scope": "local", "repo": repo, "add_mode": "add"}, true, false, "", two, 2},
				{"add again", false, map[string]any{"name": "user.email", "value": "you@example.com", "scope": "local", "repo": repo, "add_mode": "add"}, false, false, "", two, 1},
				{"replace all", false, map[string]any{"name": "user.email", "value": "me@example.com", "scope": "local", "repo": repo}, true, false, "", local, 2},
				{"unset check", true, map[string]any{"name": "user.email", "state": "absent", "scope": "local", "repo": repo}, true, false, "", local, 1},
				{"unset", false, map[string]any{"name": "user.email", "state": "absent", "scope": "local", "repo": repo}, true, false, "", glob, 2},
				{"unset again", false, map[string]any{"name": "user.email", "state": "absent", "scope": "local", "repo": repo}, false, false, "no setting to unset", glob, 1},
				{"bool value", false, map[string]any{"name": "x.flag", "value": true, "scope": "file", "file": d + "/f"}, true, false, "", glob, 2},
				{"no section", false, map[string]any{"name": "nodot", "value": "v", "scope": "global"}, false, true, "key does not contain a section: nodot", glob, 2},
				{"local no repo", false, map[string]any{"name": "a.b", "value": "v", "scope": "local"}, false, true, "scope is local but all of the following are missing: repo", glob, 0},
				{"local not a repo", false, map[string]any{"name": "a.b", "value": "v", "scope": "local", "repo": d + "/none"}, false, true, "--local can only be used inside a git repository", glob, 1},
			}
			res := modsbRunSteps(t, c, GitConfig{}, steps, state)
			if v := res["read"].Values["config_value"]; v != "commit" {
				t.Errorf("read back %v", res["read"].Values)
			}
			if v := res["list global"].Values["config_values"]; !reflect.DeepEqual(v, map[string]any{"user.name": "A B"}) {
				t.Errorf("list_all %v", v)
			}
			if v := res["list missing file"].Values["config_values"]; !reflect.DeepEqual(v, map[string]any{}) {
				t.Errorf("list_all of a missing file %v", v)
			}
			if got := sh(t, c, "cat "+d+"/f"); got != "[x]\n\tflag = True\n" {
				t.Errorf("bool value written as %q", got)
			}
			df := res["add"].Diff
			if len(df) != 1 || df[0].Before != "me@example.com\n" || df[0].After != "me@example.com\nyou@example.com\n" ||
				!strings.HasSuffix(df[0].BeforeHeader, "git config --includes --local --add user.email you@example.com") {
				t.Errorf("add diff %+v", df)
			}
			if df := res["unset check"].Diff; len(df) != 1 || df[0].After != "\n" || !strings.HasSuffix(df[0].AfterHeader, "--unset-all user.email") {
				t.Errorf("unset diff %+v", df)
			}
			if v := res["local not a repo"].Values; v["rc"] != 128 || !strings.HasSuffix(v["cmd"].(string), "git config --includes --local --get-all a.b") {
				t.Errorf("local not a repo values %v", v)
			}
			if v := res["no section"].Values; v["rc"] != 2 || !reflect.DeepEqual(v["cmd"].([]any)[1:], []any{"config", "--includes", "--global", "--replace-all", "nodot", "v"}) {
				t.Errorf("no section values %v", v)
			}
		})
	}
}

// TestGitConfigSpec checks the arguments refused before anything runs.
func TestGitConfigSpec(t *testing.T) {
	for _, tc := range []struct {
		raw  map[string]any
		want string
	}{
		{map[string]any{"list_all": true, "name": "a.b"}, "mutually exclusive: list_all|name"},
		{map[string]any{"list_all": true, "state": "absent"}, "mutually exclusive: list_all|state"},
		{map[string]any{"name": "a.b", "scope": "repo"}, `argument "scope": value "repo" is not one of`},
	} {
		if _, err := (GitConfig{}).Spec().Normalize(tc.raw); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Normalize(%v) = %v, want %q", tc.raw, err, tc.want)
		}
	}
}
