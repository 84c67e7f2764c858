#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test:
#   1. the normal build (warnings are errors) and all of ctest;
#   2. every test again under AddressSanitizer + UndefinedBehaviorSanitizer;
#   3. the runtime tests (worker pool, sources, windows) under ThreadSanitizer;
#   4. a short bounded libFuzzer run over the front end (FUZZ_SECONDS, default 30).
# This is the README's test command and what .ci/run calls.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
jobs=$(nproc)

echo "== build"
cmake -S . -B build -DDSC_WERROR=ON > /dev/null
cmake --build build -j"$jobs"
echo "== tests"
ctest --test-dir build --output-on-failure -j"$jobs"

echo "== all tests again under ASan + UBSan"
cmake -S . -B build-asan -DDSC_SANITIZE=ON -DDSC_WERROR=ON > /dev/null
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j"$jobs"

echo "== runtime tests (the scheduler, sources, windows) under ThreadSanitizer"
cmake -S . -B build-tsan -DDSC_TSAN=ON -DDSC_WERROR=ON > /dev/null
cmake --build build-tsan -j"$jobs"
TSAN_OPTIONS=halt_on_error=1 ctest --test-dir build-tsan -L runtime --output-on-failure -j"$jobs"

echo "== fuzz (bounded)"
bash scripts/fuzz.sh "${FUZZ_SECONDS:-30}"
