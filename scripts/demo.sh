#!/usr/bin/env bash
# Installs what is missing, builds dsc, and shows the main example job:
# `dsc check` (prints nothing when the program is valid) and `dsc plan`.
# Code generation is the next milestone; then this builds and runs the job.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build > /dev/null
cmake --build build -j"$(nproc)"
echo "== dsc check examples/wordcount.ds"
build/bin/dsc check examples/wordcount.ds && echo "ok: no errors"
echo "== dsc plan examples/wordcount.ds"
build/bin/dsc plan examples/wordcount.ds
