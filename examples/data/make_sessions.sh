#!/usr/bin/env bash
# Regenerates examples/data/sessions.log: one batch per minute of log time for
# the `batches` source (a form feed ends each minute), with three busy periods
# (minutes 0-20, 60-75, 110-115) separated by quiet gaps longer than the
# 30-minute session timeout, then 31 empty minutes so every session ends.
# Lines come from bench/gen_log.c: 4 requests a minute over 8 client addresses.
set -euo pipefail
cd "$(dirname "$0")/../.."
gen=$(mktemp)
cc -O2 -o "$gen" bench/gen_log.c -lm
out=examples/data/sessions.log
: > "$out"
for m in $(seq 0 145); do
  if { [ "$m" -le 20 ] || { [ "$m" -ge 60 ] && [ "$m" -le 75 ]; } || { [ "$m" -ge 110 ] && [ "$m" -le 115 ]; }; }; then
    "$gen" -n 4 -s $((m + 1)) -i 8 -t $((1705276800 + m * 60)) >> "$out"
  fi
  printf '\f\n' >> "$out"
done
rm -f "$gen"
