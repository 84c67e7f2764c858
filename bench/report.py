#!/usr/bin/env python3
"""Summarise the raw runs of bench/run.sh as Markdown tables.

usage: report.py RUNS.tsv BYTES LINES

RUNS.tsv has one row per run: workload, variant (baseline, job-1T, job-NT,
dsc-build), repetition, wall s, user s, sys s, peak RSS KiB. The tables show
medians over the repetitions (and the min-max wall time, to show the noise).

The reference figures are copied from /work/shared/bench/RESULTS.md, table
B1 (1 GiB file, median of 3, same machine type): the C-plain and C-fast
baselines of the shared benchmark, in MB/s (10^6 bytes) and M lines/s.
"""
import collections
import statistics
import sys

REFERENCE = {  # workload: (C-plain MB/s, C-plain Mlines/s, C-fast MB/s, C-fast Mlines/s)
    "wordcount": (272, 2.7, 967, 9.6),
    "per_ip": (651, 6.5, 2386, 23.7),
    "tumble_url": (1085, 10.8, 2619, 26.1),
    "slide_url": (1155, 11.5, 2902, 28.9),
}
ORDER = ["wordcount", "per_ip", "tumble_url", "slide_url"]


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    path, nbytes, nlines = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    runs = collections.defaultdict(list)
    with open(path) as f:
        for row in f:
            w, variant, _rep, wall, user, sys_s, rss = row.split("\t")
            runs[(w, variant)].append((float(wall), float(user) + float(sys_s), int(rss)))

    def med(w, v, i):
        xs = [r[i] for r in runs.get((w, v), [])]
        return statistics.median(xs) if xs else None

    def fmt(x, spec):
        return "-" if x is None else format(x, spec)

    workloads = [w for w in ORDER if any(k[0] == w for k in runs)]
    print(f"Input: {nbytes:,} bytes, {nlines:,} lines. MB = 10^6 bytes; medians of "
          f"{max((len(v) for v in runs.values()), default=0)} runs.\n")
    print("| workload | baseline MB/s | M lines/s | RSS MiB | job 1T MB/s | M lines/s | RSS MiB "
          "| job NT MB/s | M lines/s | RSS MiB | 1T / baseline | NT / 1T | dsc build s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for w in workloads:
        cells = [w]
        walls = {}
        for v in ("baseline", "job-1T", "job-NT"):
            wall = med(w, v, 0)
            walls[v] = wall
            rss = med(w, v, 2)
            cells += [fmt(nbytes / 1e6 / wall if wall else None, ".0f"),
                      fmt(nlines / 1e6 / wall if wall else None, ".2f"),
                      fmt(rss / 1024 if rss else None, ".0f")]
        b, one, n = walls["baseline"], walls["job-1T"], walls["job-NT"]
        cells.append(fmt(b / one if b and one else None, ".2f"))
        cells.append(fmt(one / n if one and n else None, ".2f"))
        cells.append(fmt(med(w, "dsc-build", 0), ".2f"))
        print("| " + " | ".join(cells) + " |")

    print("\nWall time in seconds, median (min-max), CPU seconds (user+sys, median), and the ratios\n"
          "from the fastest run of each (less sensitive to other processes taking a core):\n")
    print("| workload | baseline | job 1T | job NT | cpu baseline | cpu 1T | cpu NT "
          "| 1T / baseline (min) | NT / 1T (min) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for w in workloads:
        cells = [w]
        for v in ("baseline", "job-1T", "job-NT"):
            xs = [r[0] for r in runs.get((w, v), [])]
            cells.append(f"{statistics.median(xs):.2f} ({min(xs):.2f}-{max(xs):.2f})" if xs else "-")
        for v in ("baseline", "job-1T", "job-NT"):
            cells.append(fmt(med(w, v, 1), ".2f"))
        mins = {v: min((r[0] for r in runs.get((w, v), [])), default=None)
                for v in ("baseline", "job-1T", "job-NT")}
        b, one, n = mins["baseline"], mins["job-1T"], mins["job-NT"]
        cells.append(fmt(b / one if b and one else None, ".2f"))
        cells.append(fmt(one / n if one and n else None, ".2f"))
        print("| " + " | ".join(cells) + " |")

    print("\nFor context, RESULTS.md (B1, 1 GiB, same machine type, other data generator):\n")
    print("| workload | ours: baseline MB/s | job 1T MB/s | ref C-plain MB/s (M lines/s) "
          "| ref C-fast MB/s (M lines/s) | job 1T / ref C-plain | job 1T / ref C-fast |")
    print("|---|---|---|---|---|---|---|")
    for w in workloads:
        pm, pl, fm, fl = REFERENCE[w]
        b, one = med(w, "baseline", 0), med(w, "job-1T", 0)
        job_mbs = nbytes / 1e6 / one if one else None
        print(f"| {w} | {fmt(nbytes / 1e6 / b if b else None, '.0f')} | {fmt(job_mbs, '.0f')} "
              f"| {pm} ({pl}) | {fm} ({fl}) | {fmt(job_mbs / pm if job_mbs else None, '.2f')} "
              f"| {fmt(job_mbs / fm if job_mbs else None, '.2f')} |")


if __name__ == "__main__":
    main()
