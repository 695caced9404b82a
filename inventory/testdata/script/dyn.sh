#!/bin/sh
# Dynamic inventory with _meta.
if [ "$1" = "--list" ]; then
cat <<'J'
{"web": {"hosts": ["d1", "d2"], "vars": {"x": 1.0, "n": 3}, "children": ["sub"]},
 "sub": ["d3"],
 "bare": {"a": 1},
 "_meta": {"hostvars": {"d1": {"hv": "one"}}}}
J
else
  echo "unexpected $*" >&2; exit 1
fi
