package modules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLocaleGenEdit(t *testing.T) {
	gen := "# de_CH ISO-8859-1\n# de_CH.UTF-8 UTF-8\nen_US.UTF-8 UTF-8\n#nl_NL.UTF-8 UTF-8\n"
	if got, want := localeGenSet(gen, []string{"de_CH.UTF-8", "nl_NL.UTF-8"}, true), "# de_CH ISO-8859-1\nde_CH.UTF-8 UTF-8\nen_US.UTF-8 UTF-8\nnl_NL.UTF-8 UTF-8\n"; got != want {
		t.Errorf("enable: %q, want %q", got, want)
	}
	if got, want := localeGenSet(gen, []string{"en_US.UTF-8"}, false), "# de_CH ISO-8859-1\n# de_CH.UTF-8 UTF-8\n# en_US.UTF-8 UTF-8\n#nl_NL.UTF-8 UTF-8\n"; got != want {
		t.Errorf("disable: %q, want %q", got, want)
	}
	if got := localeGenMissing([]string{"C.UTF-8", "de_DE.ISO-8859-15", "fr_FR.UTF-8"}, "C\nC.utf8\nde_DE.iso885915\n"); len(got) != 1 || got[0] != "fr_FR.UTF-8" {
		t.Errorf("missing %v", got)
	}
	if got := localeGenUnavailable([]string{"de_CH.UTF-8", "C.UTF-8", "xx_YY.UTF-8"}, gen, "C.utf8\n"); len(got) != 1 || got[0] != "xx_YY.UTF-8" {
		t.Errorf("unavailable %v", got)
	}
	if got := localeGenDropSupported("en_US.UTF-8 UTF-8\nde_CH.UTF-8 UTF-8\n", []string{"de_CH.UTF-8"}); got != "en_US.UTF-8 UTF-8\n" {
		t.Errorf("drop %q", got)
	}
}

// TestLocaleGen enables and removes two locales. Locally /etc/locale.gen
// lives under a temporary root and locale-gen and locale are stand-ins
// that compile nothing (the real ones would change the machine's locale
// archive): locale-gen records the enabled lines of the file, locale -a
// lists them. Over SSH the test host has a private overlay root, so the
// real /etc/locale.gen, locale-gen and locale -a are used.
func TestLocaleGen(t *testing.T) {
	root := t.TempDir()
	gen := filepath.Join(root, "etc", "locale.gen")
	built := filepath.Join(root, "built")
	modsbStandIns(t, map[string]string{
		"locale-gen": `echo run >>` + root + `/runs; grep -v '^#' ` + gen + ` | awk 'NF == 2 { sub(/\.UTF-8$/, ".utf8", $1); print $1 }' >` + built,
		"locale":     `[ "$1" = -a ] || exit 2; printf 'C\nC.utf8\nPOSIX\n'; cat ` + built + ` 2>/dev/null || true`,
	})
	for tn, c := range modsbTargets(t) {
		t.Run(tn, func(t *testing.T) {
			m, file := LocaleGen{}, "/etc/locale.gen"
			if tn == "local" {
				m.root, file = root, gen
				os.MkdirAll(filepath.Dir(gen), 0o755)
				os.WriteFile(gen, []byte("# This file lists locales\n#\n# de_CH ISO-8859-1\n# de_CH.UTF-8 UTF-8\n# en_US.UTF-8 UTF-8\n# nl_NL.UTF-8 UTF-8\n"), 0o644)
			}
			both := []any{"de_CH.UTF-8", "nl_NL.UTF-8"}
			// state is the enabled lines of locale.gen, then the locales
			// of the test that locale -a lists.
			state := func() string {
				var got []string
				for _, l := range strings.Fields(sysSh(t, c, "locale -a")) {
					if strings.HasPrefix(l, "de_CH") || strings.HasPrefix(l, "nl_NL") {
						got = append(got, l)
					}
				}
				return sysSh(t, c, "grep -v '^#' "+file+" | grep . || true") + strings.Join(got, " ")
			}
			none, one := "", "de_CH.UTF-8 UTF-8\nde_CH.utf8"
			two := "de_CH.UTF-8 UTF-8\nnl_NL.UTF-8 UTF-8\nde_CH.utf8 nl_NL.utf8"
			steps := []modsbStep{
				{"check", true, map[string]any{"name": both}, true, false, "", none, 1},
				{"present", false, map[string]any{"name": both}, true, false, "", two, 2},
				{"present again", false, map[string]any{"name": "de_CH.UTF-8"}, false, false, "", two, 1},
				{"C.UTF-8 listed by locale -a only", false, map[string]any{"name": "C.UTF-8"}, false, false, "", two, 1},
				{"absent check", true, map[string]any{"name": "nl_NL.UTF-8", "state": "absent"}, true, false, "", two, 1},
				{"absent", false, map[string]any{"name": "nl_NL.UTF-8", "state": "absent"}, true, false, "", one, 2},
				{"absent again", false, map[string]any{"name": "nl_NL.UTF-8", "state": "absent"}, false, false, "", one, 1},
				// As in Ansible: absent acts only when every name is present.
				{"absent, not all present", false, map[string]any{"name": both, "state": "absent"}, false, false, "", one, 1},
				{"unknown", false, map[string]any{"name": []any{"xx_YY.UTF-8", "de_CH.UTF-8", "zz_ZZ"}}, false, true, "The following locales you've entered are not available on your system: xx_YY.UTF-8, zz_ZZ", one, 1},
			}
			modsbRunSteps(t, c, m, steps, state)
		})
	}
}

// TestLocaleGenUbuntu takes the Ubuntu path (supported.d exists) under a
// temporary root with a stand-in locale-gen that keeps supported.d/local
// the way Ubuntu's does, and a stand-in locale.
func TestLocaleGenUbuntu(t *testing.T) {
	root := t.TempDir()
	sup := filepath.Join(root, "var/lib/locales/supported.d")
	os.MkdirAll(sup, 0o755)
	os.MkdirAll(filepath.Join(root, "usr/share/i18n"), 0o755)
	os.WriteFile(filepath.Join(root, "usr/share/i18n/SUPPORTED"), []byte("de_CH.UTF-8 UTF-8\nfr_FR.UTF-8 UTF-8\n"), 0o644)
	os.WriteFile(filepath.Join(sup, "local"), []byte("en_US.UTF-8 UTF-8\n"), 0o644)
	log := filepath.Join(root, "log")
	modsbStandIns(t, map[string]string{
		"locale-gen": `echo "locale-gen $*" >>` + log + `
case $1 in --purge) ;; *) for n; do echo "$n UTF-8" >>` + sup + `/local; done ;; esac`,
		"locale": `printf 'C\nC.utf8\n'; awk '{ sub(/\.UTF-8$/, ".utf8", $1); print $1 }' ` + sup + `/local`,
	})
	m := LocaleGen{root: root}
	for _, s := range []struct {
		what, state string
		changed     bool
		local       string
	}{
		{"present", "present", true, "en_US.UTF-8 UTF-8\nde_CH.UTF-8 UTF-8\nfr_FR.UTF-8 UTF-8\n"},
		{"present again", "present", false, "en_US.UTF-8 UTF-8\nde_CH.UTF-8 UTF-8\nfr_FR.UTF-8 UTF-8\n"},
		{"absent", "absent", true, "en_US.UTF-8 UTF-8\n"},
	} {
		res, _ := sysRun(t, localConn(), m, false, false, map[string]any{"name": "de_CH.UTF-8,fr_FR.UTF-8", "state": s.state})
		sysExpect(t, s.what, res, s.changed, false, "")
		if got, _ := os.ReadFile(filepath.Join(sup, "local")); string(got) != s.local {
			t.Errorf("%s: supported.d/local %q, want %q", s.what, got, s.local)
		}
	}
	if got, _ := os.ReadFile(log); string(got) != "locale-gen de_CH.UTF-8 fr_FR.UTF-8\nlocale-gen --purge\n" {
		t.Errorf("calls %q", got)
	}
	res, _ := sysRun(t, localConn(), LocaleGen{root: t.TempDir()}, false, false, map[string]any{"name": "de_CH.UTF-8"})
	sysExpect(t, "no locales package", res, false, true, `Is the package "locales" installed?`)
}
