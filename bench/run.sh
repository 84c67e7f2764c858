#!/usr/bin/env bash
# bench/run.sh - the dstream benchmark in one command.
#
# Builds dsc (Release) and the C baselines, generates the logs if missing,
# checks every job's output against its baseline on the 100 MB log, then
# times each workload on the 1 GiB log: the C baseline, the job on one thread
# (--set threads=1 --set partitions=1) and the job on all cores
# (--set threads=$(nproc)), with /usr/bin/time -v (wall time, peak RSS), and
# prints the tables (bench/report.py). Everything generated lives in
# bench/data/ (git-ignored): data/bin (binaries), data/work (the jobs'
# working directory, where data/access.log links to the log being read),
# data/results-*.tsv (raw runs) and data/results-*.md (the tables).
#
# usage: bench/run.sh [-r REPS] [-w "wordcount per_ip ..."] [-s 1G|100M] [-g REV] [-C] [-T]
#   -r REPS  repetitions of each timed run (default 3; the tables show medians)
#   -g REV   build dsc from git revision REV (git archive into data/src-REV)
#            instead of the working tree, e.g. when others' edits are half done
#   -w LIST  workloads (default: wordcount per_ip tumble_url slide_url)
#   -s SIZE  log to time on: 1G (default) or 100M
#   -C       skip the output checks
#   -T       skip the timing (build and check only)
set -euo pipefail

reps=3
workloads="wordcount per_ip tumble_url slide_url"
size=1G
do_check=1
do_time=1
rev=
while getopts "r:w:s:g:CTh" opt; do
  case $opt in
    r) reps=$OPTARG ;;
    w) workloads=$OPTARG ;;
    s) size=$OPTARG ;;
    g) rev=$OPTARG ;;
    C) do_check=0 ;;
    T) do_time=0 ;;
    *) sed -n '2,22p' "$0"; exit 2 ;;
  esac
done
case $size in 1G|100M) ;; *) echo "run.sh: -s takes 1G or 100M" >&2; exit 2 ;; esac

bench=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$bench")
data=$bench/data
bin=$data/bin
work=$data/work
threads=$(nproc)
mkdir -p "$bin" "$work/data"

# The source tree dsc is built from: the working tree, or a git revision.
src=$root
build=$root/build-bench
if [ -n "$rev" ]; then
  sha=$(git -C "$root" rev-parse --short "$rev^{commit}")
  src=$data/src-$sha
  build=$data/build-$sha
  if [ ! -d "$src" ]; then
    rm -rf "$src.tmp" && mkdir -p "$src.tmp"
    git -C "$root" archive "$sha" | tar -x -C "$src.tmp"
    mv "$src.tmp" "$src"
  fi
  version="$sha (git archive of $rev)"
else
  version="$(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet HEAD -- compiler runtime stdlib || echo ' + uncommitted changes in compiler/ runtime/ stdlib/')"
fi

log() { printf '== %s\n' "$*" >&2; }

# ---- build ------------------------------------------------------------------
# Others edit the compiler and runtime while this runs: retry a broken build.
log "building dsc (Release) in $build"
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
for attempt in 1 2 3; do
  if cmake --build "$build" -j"$threads" --target dsc ds_rt ds_builtins_bc >"$data/build.log" 2>&1; then
    break
  fi
  if [ "$attempt" = 3 ]; then
    tail -30 "$data/build.log" >&2
    echo "run.sh: the build failed three times (see $data/build.log)" >&2
    exit 1
  fi
  log "build failed (attempt $attempt); retrying in 60 s"
  sleep 60
done
dsc=$build/bin/dsc

log "building the generator and the baselines"
CFLAGS=(-std=c11 -O2 -Wall -Wextra)
cc "${CFLAGS[@]}" -o "$bin/gen_log" "$bench/gen_log.c" -lm
for w in $workloads; do
  cc "${CFLAGS[@]}" -o "$bin/base_$w" "$bench/baseline/$w.c"
done

# ---- data -------------------------------------------------------------------
for s in 100M 1G; do
  if [ ! -s "$data/access_$s.log" ]; then
    log "generating data/access_$s.log"
    "$bin/gen_log" -b "$s" -o "$data/access_$s.log.tmp"
    mv "$data/access_$s.log.tmp" "$data/access_$s.log"
  fi
done

# Runs a command under /usr/bin/time -v with stdout to $2; appends one row
# "workload variant rep wall user sys rss_kb" to the results file.
# usage: timed WORKLOAD VARIANT REP OUTFILE CMD...
timed() {
  local w=$1 variant=$2 rep=$3 out=$4
  shift 4
  local tv
  tv=$(mktemp)
  if ! /usr/bin/time -v -o "$tv" "$@" >"$out" 2>>"$data/stderr.log"; then
    echo "run.sh: $variant $w failed: $*" >&2
    tail -5 "$data/stderr.log" >&2
    rm -f "$tv"
    exit 1
  fi
  awk -v w="$w" -v v="$variant" -v r="$rep" -F': ' '
    /Elapsed \(wall clock\)/ { n = split($2, p, ":"); wall = (n == 3) ? p[1]*3600 + p[2]*60 + p[3] : p[1]*60 + p[2] }
    /User time/ { user = $2 }
    /System time/ { sys = $2 }
    /Maximum resident set size/ { rss = $2 }
    END { printf "%s\t%s\t%s\t%.2f\t%s\t%s\t%s\n", w, v, r, wall, user, sys, rss }' "$tv" >>"$results"
  rm -f "$tv"
}

# Runs a job binary in the work directory on the log given, output into
# work/out (emptied first). usage: run_job LOG JOB [JOB ARGS...]
use_log() { ln -sfn "$1" "$work/data/access.log"; rm -rf "$work/out"; }

stamp=$(date +%Y%m%d-%H%M%S)
results=$data/results-$stamp.tsv
: >"$results"
: >"$data/stderr.log"

# ---- compile the jobs (timed) -----------------------------------------------
log "compiling the jobs with dsc build ($reps times each)"
for w in $workloads; do
  for rep in $(seq "$reps"); do
    timed "$w" dsc-build "$rep" /dev/null "$dsc" build "$bench/jobs/$w.ds" -o "$bin/job_$w"
  done
done

# ---- checks on the 100 MB log ------------------------------------------------
if [ "$do_check" = 1 ]; then
  log "checking job output against the baselines on data/access_100M.log"
  mkdir -p "$data/check"
  status=0
  for w in $workloads; do
    "$bin/base_$w" "$data/access_100M.log" >"$data/check/base_$w.txt" 2>>"$data/stderr.log" ||
      { echo "run.sh: base_$w failed" >&2; exit 1; }
    for cfg in "1T:--set threads=1 --set partitions=1" "NT:--set threads=$threads"; do
      use_log "$data/access_100M.log"
      # shellcheck disable=SC2086  # the settings are words on purpose
      if ! (cd "$work" && "$bin/job_$w" --quiet ${cfg#*:}) 2>>"$data/stderr.log"; then
        echo "run.sh: job_$w ${cfg#*:} failed:" >&2
        tail -5 "$data/stderr.log" >&2
        exit 1
      fi
      printf '%-3s ' "${cfg%%:*}"
      python3 "$bench/check.py" "$w" "$data/check/base_$w.txt" "$work/out/$w" || status=1
    done
  done
  rm -rf "$work/out"
  [ "$status" = 0 ] || { echo "run.sh: outputs differ" >&2; exit 1; }
fi

# ---- timing --------------------------------------------------------------------
if [ "$do_time" = 1 ]; then
  input=$data/access_$size.log
  log "timing on $input: $reps repetitions, interleaved (baseline, job 1 thread, job $threads threads)"
  for w in $workloads; do
    for rep in $(seq "$reps"); do
      timed "$w" baseline "$rep" /dev/null "$bin/base_$w" "$input"
      use_log "$input"
      (cd "$work" && timed "$w" job-1T "$rep" /dev/null "$bin/job_$w" --quiet --set threads=1 --set partitions=1)
      use_log "$input"
      (cd "$work" && timed "$w" job-NT "$rep" /dev/null "$bin/job_$w" --quiet --set threads="$threads")
      printf '   %s rep %s: %s\n' "$w" "$rep" "$(grep -P "^$w\t(baseline|job-1T|job-NT)\t$rep\t" "$results" | cut -f2,4 | tr '\t\n' '= ')" >&2
    done
  done
  rm -rf "$work/out"
fi

# ---- report -------------------------------------------------------------------
bytes=$(stat -c %s "$data/access_$size.log")
lines=$(wc -l <"$data/access_$size.log")
{
  echo "dstream benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), log data/access_$size.log"
  echo "dsc: $version; job 1T = --set threads=1 --set partitions=1, job NT = --set threads=$threads (partitions default to the cores)"
  echo
  python3 "$bench/report.py" "$results" "$bytes" "$lines"
} | tee "${results%.tsv}.md"
log "raw runs: $results"
