// Package realworld holds issue 12's "real content as tests": six public
// Ansible roles (testdata/roles, MIT licensed, sources in SOURCES.txt) that
// are converted with `mdo-play convert`, loaded (--syntax-check, lint), run
// in --check under mdo-play and, as written, under ansible-playbook on
// identical fresh RootOverlay test hosts, compared task by task, and, where
// the role can converge on a test host, run for real twice.
//
// The test is heavy (real sshd hosts, apt-get inside them, ansible-playbook)
// and sits behind the build tag realworld: run it with `make realworld`
// (docs/convert.md, "Real roles"). This file only gives the package a name
// when the tag is off.
package realworld
