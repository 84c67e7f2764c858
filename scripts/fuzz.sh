#!/usr/bin/env bash
# Fuzzes the front end (lexer, parser, checker, planner) with libFuzzer under
# AddressSanitizer + UndefinedBehaviorSanitizer, seeded from the golden tests.
#   scripts/fuzz.sh [SECONDS]      (default 60; the test suite runs a short bounded run)
# Findings are written to build-fuzz/findings/ and make the script fail.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang-19 -DDSC_FUZZ=ON -DDSC_SANITIZE=ON \
      -DDSC_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build build-fuzz --target fuzz_front -j"$(nproc)" > /dev/null
corpus=build-fuzz/corpus
mkdir -p "$corpus" build-fuzz/findings
find tests/compile examples docs -name '*.ds' -exec cp {} "$corpus/" \; 2>/dev/null || true
echo "fuzz: ${secs}s over $(ls "$corpus" | wc -l) corpus files"
rc=0
ASAN_OPTIONS=detect_leaks=1 build-fuzz/bin/fuzz_front "$corpus" \
  -max_total_time="$secs" -timeout=10 -max_len=65536 -print_final_stats=1 \
  -artifact_prefix=build-fuzz/findings/ > build-fuzz/fuzz.log 2>&1 || rc=$?
grep -E "^#[0-9]+ +DONE|stat::number_of_executed_units|stat::average_exec_per_sec" build-fuzz/fuzz.log || true
if [ "$rc" -ne 0 ] || grep -q "^==[0-9]*==ERROR\|^SUMMARY: " build-fuzz/fuzz.log; then
  grep -E "ERROR|SUMMARY|Test unit written" build-fuzz/fuzz.log | head -20
  echo "fuzz: FOUND A PROBLEM (exit $rc), see build-fuzz/fuzz.log and build-fuzz/findings/"
  exit 1
fi
echo "fuzz: no findings"
