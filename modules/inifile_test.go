package modules

import "testing"

// TestIniFile replays community.general.ini_file's recorded behaviour
// (testdata/ansible/ini_file.json, recorded by running the collection's
// module on the same files).
func TestIniFile(t *testing.T) {
	runFileCases(t, IniFile{}, "ini_file.diff", recordedCases(t, "ini_file"))
}
