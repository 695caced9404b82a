#!/usr/bin/env bash
# make demo: start three throwaway sshd test hosts, roll the example web
# service out to them over SSH twice (the second run changes nothing), then
# stop the hosts. Without root (the test hosts need it), run the local
# example instead.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
  echo "make demo: not running as root, so no sshd test hosts can be started;"
  echo "running the local example (examples/local.yml) over the local connection instead."
  echo
  ./bin/mdo-play -i 'localhost,' -c local examples/local.yml
  exit
fi

./.ci/deps
dir=$(mktemp -d /tmp/mdo-demo.XXXXXX)
trap 'rm -rf "$dir"' EXIT
echo "Starting three sshd test hosts (keys, known_hosts and inventory in $dir) ..."
./bin/mdo-testhosts -n 3 -dir "$dir" -- bash -c '
  set -e
  export MDO_KNOWN_HOSTS_FILE="$MDO_TESTHOSTS_KNOWN_HOSTS"
  echo; echo "=== inventory ($MDO_TESTHOSTS_INVENTORY)"; cat "$MDO_TESTHOSTS_INVENTORY"
  echo; echo "=== first run: deploy release 1.0.0, one host at a time"
  ./bin/mdo-play -i "$MDO_TESTHOSTS_INVENTORY" examples/rollout.yml
  echo; echo "=== second run: the same release again, nothing should change"
  ./bin/mdo-play -i "$MDO_TESTHOSTS_INVENTORY" examples/rollout.yml
  echo; echo "=== third run: release 1.1.0 rolls out with a restart per host"
  ./bin/mdo-play -i "$MDO_TESTHOSTS_INVENTORY" examples/rollout.yml -e release=1.1.0
  echo; echo "=== what the hosts serve now"
  ./bin/mdo-play adhoc testhosts -i "$MDO_TESTHOSTS_INVENTORY" -m command -a "grep -h release /srv/demo-web/app.conf /srv/demo-web/public/index.html"
'
echo "Test hosts stopped."
