#!/bin/sh
# Rotate the demo app's log once; the task's creates= makes this run once.
set -e
dir=$1
[ -f "$dir/app.log" ] || : > "$dir/app.log"
mv "$dir/app.log" "$dir/app.log.1"
: > "$dir/app.log"
echo "rotated $dir/app.log"
