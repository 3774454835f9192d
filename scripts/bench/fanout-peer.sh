#!/usr/bin/env bash
# usage: fanout-peer.sh DIR URL1,URL2,... CONC [fanout upload options...]
# fanout as a harness peer: `fanout upload DIR --target URLS --concurrency CONC
# --per-target ceil(CONC / hosts) [options]` (options with their own --per-target, e.g. auto
# or 4, keep theirs). exec'd, so GNU time measures node itself.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=$1 urls=$2 conc=$3; shift 3
IFS=, read -ra hosts <<< "$urls"
n=${#hosts[@]}
# the bin as npm installs it (the bundle): its shebang carries the V8 memory flags
per=(--per-target $(( (conc + n - 1) / n )))
[[ " $* " == *" --per-target "* ]] && per=()
exec "$root/dist/fanout.mjs" upload "$dir" --target "$urls" --concurrency "$conc" "${per[@]}" "$@"
