package modules

import (
	"testing"
	"time"

	"github.com/mdo-play/mdo-play/modules/conn"
)

// TestPamd edits a PAM service file in a temporary directory, locally and
// over SSH, through every state, checking the file after each step (in
// the collection's format, with its "Updated by Ansible" mark from a fixed
// clock) and that a second run is ok.
func TestPamd(t *testing.T) {
	clock := func() time.Time { return time.Date(2026, 12, 5, 10, 0, 0, 123456000, time.UTC) }
	for tn, c := range sysTargets(t) {
		t.Run(tn, func(t *testing.T) {
			dir := t.TempDir()
			f := dir + "/system-auth"
			sysSh(t, c, "cat >"+conn.Quote(f)+` <<'EOF'
#%PAM-1.0
auth	required	pam_env.so
# the main one
auth	sufficient	pam_unix.so nullok try_first_pass
auth	requisite	pam_succeed_if.so uid >= 1000 quiet_success
auth	required	pam_deny.so

session	[success=1 default=ignore]	pam_succeed_if.so service in crond quiet use_uid
session	required	pam_unix.so
EOF`)
			state := func() string { return sysSh(t, c, "cat "+conn.Quote(f)) }
			mark := "# Updated by Ansible - 2026-12-05T10:00:00.123456\n"
			unix := map[string]any{"name": "system-auth", "path": dir, "type": "auth", "control": "sufficient", "module_path": "pam_unix.so"}
			s2 := "#%PAM-1.0\n" + mark + "auth       required pam_env.so\n# the main one\nauth       sufficient pam_unix.so nullok try_first_pass remember=5\n" +
				"auth       requisite pam_succeed_if.so uid >= 1000 quiet_success\nauth       required pam_deny.so\n\n" +
				"session    [success=1 default=ignore] pam_succeed_if.so service in crond quiet use_uid\nsession    required pam_unix.so\n"
			s3 := "#%PAM-1.0\n" + mark + "auth       required pam_env.so\nauth       required pam_faildelay.so delay=2000000\nauth       sufficient pam_unix.so nullok try_first_pass remember=5\n" +
				"auth       requisite pam_succeed_if.so uid >= 1000 quiet_success\nauth       required pam_deny.so\n\n" +
				"session    [success=1 default=ignore] pam_succeed_if.so service in crond quiet use_uid\nsession    required pam_unix.so\n"
			s4 := "#%PAM-1.0\n" + mark + "auth       required pam_env.so\nauth       required pam_faildelay.so delay=2000000\nauth       sufficient pam_unix.so nullok try_first_pass remember=5\n" +
				"auth       requisite pam_succeed_if.so uid >= 1000 quiet_success\nauth       required pam_deny.so\n\n" +
				"session    [success=1 default=ignore] pam_succeed_if.so service in crond use_uid\nsession    required pam_unix.so\n"
			s5 := "#%PAM-1.0\n" + mark + "auth       required pam_env.so\nauth       required pam_faildelay.so delay=2000000\nauth       sufficient pam_unix.so nullok try_first_pass remember=5\n" +
				"auth       requisite pam_succeed_if.so uid >= 1000 quiet_success\nauth       required pam_deny.so\n\n" +
				"session    [success=1 default=ignore] pam_succeed_if.so service in crond use_uid\nsession    required pam_unix.so\nsession    optional pam_systemd.so\n"
			s6 := "#%PAM-1.0\n" + mark + "auth       required pam_env.so\nauth       required pam_faildelay.so delay=2000000\nauth       sufficient pam_unix.so nullok try_first_pass remember=5\n" +
				"auth       requisite pam_succeed_if.so uid >= 1000 quiet_success\nauth       required pam_deny.so\n\n" +
				"session    [success=1 default=ignore] pam_succeed_if.so service in crond use_uid\nsession    required pam_unix.so\n"
			sess := map[string]any{"name": "system-auth", "path": dir, "type": "session", "control": "[success=1 default=ignore]", "module_path": "pam_succeed_if.so"}
			steps := []cryptoStep{
				{"args check", true, cryptoArgs(unix, "module_arguments", "remember=5", "state", "args_present"), true, false, "", ""},
				{"args", false, cryptoArgs(unix, "module_arguments", "remember=5", "state", "args_present"), true, false, "", s2},
				{"args again", false, cryptoArgs(unix, "module_arguments", []any{"remember=5", "nullok"}, "state", "args_present"), false, false, "", s2},
				{"bracket args", false, cryptoArgs(unix, "module_arguments", "[x=y]", "state", "args_present"), false, true, "Unable to process bracketed '[' complex arguments with 'args_present'. Please use 'updated'.", s2},
				{"before", false, cryptoArgs(unix, "state", "before", "new_type", "auth", "new_control", "required", "new_module_path", "pam_faildelay.so", "module_arguments", "delay=2000000"), true, false, "", s3},
				{"before again", false, cryptoArgs(unix, "state", "before", "new_type", "auth", "new_control", "required", "new_module_path", "pam_faildelay.so", "module_arguments", "delay=2000000"), false, false, "", s3},
				{"before missing", false, cryptoArgs(unix, "state", "before", "new_type", "auth"), false, true, "state is before but all of the following are missing: new_control, new_module_path", s3},
				{"args absent", false, cryptoArgs(sess, "module_arguments", "quiet", "state", "args_absent"), true, false, "", s4},
				{"args absent again", false, cryptoArgs(sess, "module_arguments", "quiet", "state", "args_absent"), false, false, "", s4},
				{"after last", false, map[string]any{"name": "system-auth", "path": dir, "type": "session", "control": "required", "module_path": "pam_unix.so",
					"state": "after", "new_type": "session", "new_control": "optional", "new_module_path": "pam_systemd.so"}, true, false, "", s5},
				{"absent", false, map[string]any{"name": "system-auth", "path": dir, "type": "session", "control": "optional", "module_path": "pam_systemd.so", "state": "absent"}, true, false, "", s6},
				{"absent again", false, map[string]any{"name": "system-auth", "path": dir, "type": "session", "control": "optional", "module_path": "pam_systemd.so", "state": "absent"}, false, false, "", s6},
				{"bad control", false, cryptoArgs(unix, "new_control", "sometimes"), false, true, "Rule control, sometimes, is not valid in rule auth       sometimes pam_unix.so nullok try_first_pass remember=5", s6},
				{"no file", false, cryptoArgs(unix, "name", "nosuch"), false, true, "Unable to open/read PAM module file " + dir + "/nosuch with error", s6},
			}
			steps[0].state = state() // check mode leaves the file as it was
			cryptoRunSteps(t, c, Pamd{Now: clock}, steps, state)
			r, _ := sysRun(t, c, Pamd{Now: clock}, false, false, cryptoArgs(unix, "module_arguments", "remember=6", "state", "args_present", "backup", true))
			sysExpect(t, "backup", r, true, false, "")
			if b, _ := r.Values["backupdest"].(string); b == "" || sysSh(t, c, "cat "+conn.Quote(b)) != s6 || r.Values["change_count"] != 1 {
				t.Errorf("backup values %v", r.Values)
			}
		})
	}
}
