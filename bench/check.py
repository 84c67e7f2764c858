#!/usr/bin/env python3
"""Compare a dstream job's output with its C baseline's.

usage: check.py WORKLOAD BASELINE_OUTPUT JOB_OUTPUT_DIR

The job writes one directory per batch (saveAsTextFiles), each holding one
part file per partition, one `(key,count)` element per line; a windowed
workload's key is `(window_start_ms,url)`. Counts are per batch, so the
counts of one key are summed over every batch and partition before they are
compared with the baseline, whose lines are `key<TAB>count` (wordcount,
per_ip) or `window_start_ms<TAB>url<TAB>count` (tumble_url, slide_url).

Prints one line with the totals and exits 1 when any key differs.
"""
import collections
import glob
import os
import sys


def parse_job_line(line, windowed):
    # "(key,count)" or "((ms,url),count)": the count follows the last comma.
    body = line[1:-1]
    key, count = body.rsplit(",", 1)
    if windowed:
        ms, url = key[1:-1].split(",", 1)
        key = (int(ms), url)
    return key, int(count)


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    workload, base_path, job_dir = sys.argv[1:]
    windowed = workload in ("tumble_url", "slide_url")

    base = {}
    with open(base_path, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if windowed:
                key = (int(parts[0]), parts[1])
            else:
                key = parts[0]
            if key in base:
                sys.exit(f"{workload}: baseline has key {key!r} twice")
            base[key] = int(parts[-1])

    job = collections.Counter()
    batches = parts_read = 0
    for d in sorted(glob.glob(os.path.join(job_dir, "*"))):
        if not os.path.exists(os.path.join(d, "_SUCCESS")):
            continue
        batches += 1
        for part in sorted(glob.glob(os.path.join(d, "part-*"))):
            parts_read += 1
            with open(part, encoding="utf-8", errors="surrogateescape") as f:
                for line in f:
                    key, count = parse_job_line(line.rstrip("\n"), windowed)
                    job[key] += count

    base_total, job_total = sum(base.values()), sum(job.values())
    diff = [k for k in base.keys() | job.keys() if base.get(k, 0) != job.get(k, 0)]
    status = "OK" if not diff and base_total == job_total else "MISMATCH"
    print(f"{workload}: {status}  baseline {len(base)} keys, total {base_total};"
          f"  job {batches} batches, {parts_read} part files, {len(job)} keys, total {job_total};"
          f"  {len(diff)} keys differ")
    for k in sorted(diff, key=str)[:5]:
        print(f"  {k!r}: baseline {base.get(k, 0)}, job {job.get(k, 0)}")
    sys.exit(0 if status == "OK" else 1)


if __name__ == "__main__":
    main()
