#!/usr/bin/env bash
# Installs what is missing, builds dsc and the runtime, then compiles the main
# example job (examples/access_log.ds) into a native executable and runs it on
# the bundled log (examples/data/access.log).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build > /dev/null
cmake --build build -j"$(nproc)"
echo "== dsc plan examples/access_log.ds"
build/bin/dsc plan examples/access_log.ds
echo "== dsc build examples/access_log.ds -o build/access_log"
time build/bin/dsc build examples/access_log.ds -o build/access_log
echo "== build/access_log"
build/access_log
