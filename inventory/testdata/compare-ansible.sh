#!/bin/sh
# Compares the golden files with the real ansible-inventory (ansible-core).
# Run from the inventory package directory:  sh testdata/compare-ansible.sh
set -u
cd testdata || exit 1
status=0
check() { # name host playdir sources...
	name=$1 host=$2 play=$3
	shift 3
	args=""
	for s in "$@"; do args="$args -i $s"; done
	[ -n "$play" ] && args="$args --playbook-dir $play"
	# shellcheck disable=SC2086
	ANSIBLE_LOCALHOST_WARNING=0 ansible-inventory $args --list 2>/dev/null | diff -u golden/$name.list.json - || status=1
	# shellcheck disable=SC2086
	ANSIBLE_LOCALHOST_WARNING=0 ansible-inventory $args --graph 2>/dev/null | diff -u golden/$name.graph.txt - || status=1
	# shellcheck disable=SC2086
	ANSIBLE_LOCALHOST_WARNING=0 ansible-inventory $args --host "$host" 2>/dev/null |
		grep -v ansible_python_interpreter | diff -u golden/$name.host.json - || status=1
}
check ini web01 "" ini/hosts
check yaml y2 "" yaml/hosts.yml
check dir w1 . dir
check script d1 "" script/dyn.sh
check scripthost a2 "" scripthost/inv.py
check hostlist h2 "" h1,h2:2222,
check multi db-a "" ini/hosts yaml/hosts.yml h9,
check priority h1 play priority/hosts
check localhost localhost . dir
exit $status
