#!/usr/bin/env bash
# bench/checkpoint.sh - what checkpoints cost with 1 M keys of state (issue 5).
#
# Generates bench/data/ckpt/keys.txt: 1 M distinct keys, repeated so that the
# textFile source (maxRecordsPerBatch 1 M) gives BATCHES batches each holding
# every key once. Runs bench/checkpoint/state_1m.ds (mapWithState, 1 M keys)
#   1. without a checkpoint,
#   2. with one at the default interval (10 batches) plus the final one,
#   3. with one after every batch (checkpointInterval = batch),
# REPS times each, and prints wall time and throughput beside run 1 and the
# checkpoint times from --metrics (checkpoint_ms). Then the recovery: a run
# of 10 batches leaves a checkpoint; a restart with --batches 11 is timed
# from exec to the end of its first batch (restore + one batch of 1 M keys),
# and the restore itself as the job logs it.
#
# usage: bench/checkpoint.sh [-r REPS] [-b BATCHES]   (env DSC: the dsc to use)
set -euo pipefail
reps=3
batches=20
while getopts "r:b:h" opt; do
  case $opt in
    r) reps=$OPTARG ;;
    b) batches=$OPTARG ;;
    *) sed -n '2,17p' "$0"; exit 2 ;;
  esac
done
root=$(cd "$(dirname "$0")/.." && pwd)
dsc=${DSC:-$root/build/bin/dsc}
work=$root/bench/data/ckpt
mkdir -p "$work"
cd "$work"
if [ ! -s keys.txt ] || [ "$(wc -l < keys.txt)" -ne $((batches * 1000000)) ]; then
  awk -v b="$batches" 'BEGIN { for (r = 0; r < b; r++) for (i = 0; i < 1000000; i++) printf "user%07d\n", (i * 7919 + r) % 1000000 }' > keys.txt
fi
"$dsc" build -O2 "$root/bench/checkpoint/state_1m.ds" -o state_1m
mb=$(( $(stat -c %s keys.txt) / 1000000 ))

run() { # name, then job arguments; prints seconds
  local name=$1; shift
  rm -rf ck metrics-$name.jsonl
  local t0 t1
  t0=$(date +%s.%N)
  ./state_1m --quiet --metrics metrics-$name.jsonl "$@" > /dev/null
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc
}

printf "%-28s %8s %9s %9s %s\n" "run (median of $reps)" "seconds" "MB/s" "vs none" "checkpoints (ms each)"
base=
for mode in none default every; do
  times=()
  for ((i = 0; i < reps; i++)); do
    case $mode in
      none) times+=("$(run $mode)") ;;
      default) times+=("$(run $mode --checkpoint ck)") ;;
      every) times+=("$(run $mode --checkpoint ck --set checkpointInterval=1s)") ;;
    esac
  done
  med=$(printf "%s\n" "${times[@]}" | sort -n | sed -n "$(( (reps + 1) / 2 ))p")
  [ -z "$base" ] && base=$med
  cks=$(python3 -c "import json,sys; print(' '.join(str(json.loads(l)['checkpoint_ms']) for l in open('metrics-$mode.jsonl') if 'checkpoint_ms' in l))")
  printf "%-28s %8.2f %9.0f %8.1f%% %s\n" "$mode" "$med" "$(echo "$mb / $med" | bc -l)" \
    "$(echo "($med - $base) * 100 / $base" | bc -l)" "${cks:--}"
done

# Recovery: 10 batches and their checkpoint, then a restart for one more.
rm -rf ck
./state_1m --quiet --checkpoint ck --batches 10 > /dev/null
ls -l ck | awk '/ckpt-/ { printf "checkpoint file: %s, %.1f MB\n", $9, $5 / 1e6 }'
python3 - <<'PY'
import json, os, subprocess, time
if os.path.exists("metrics-restart.jsonl"):
    os.remove("metrics-restart.jsonl")
t0 = time.monotonic()
p = subprocess.Popen(["./state_1m", "--quiet", "--checkpoint", "ck", "--batches", "11",
                      "--metrics", "metrics-restart.jsonl"], stdout=subprocess.DEVNULL,
                     stderr=subprocess.PIPE, text=True)
while True:  # the first metrics line is written when the first new batch is done
    if os.path.exists("metrics-restart.jsonl") and open("metrics-restart.jsonl").read().endswith("\n"):
        t1 = time.monotonic()
        break
    time.sleep(0.002)
err = p.communicate()[1]
first = json.loads(open("metrics-restart.jsonl").readline())
restored = [l for l in err.splitlines() if "restored" in l]
print(restored[0].split(": ", 1)[-1] if restored else "(no restore logged)")
print(f"restart: exec to the end of the first new batch {t1 - t0:.2f} s; that batch "
      f"(recovered={str(first['recovered']).lower()}) processed in {first['processing_ms']} ms, so "
      f"recovery to the first new batch took {t1 - t0 - first['processing_ms'] / 1000:.2f} s")
PY
