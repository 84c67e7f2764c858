#!/usr/bin/env python3
"""WebHDFS read throughput: the runtime's client against the test fixture, over loopback.

    python3 bench/webhdfs_read.py [-r RUNS] [-s SIZE_MB] [-B BUILD_DIR] [-F FIXTURE]

Builds tests/hdfs/hdfs_tool (Release, in BUILD_DIR, default bench/data/build-webhdfs),
makes bench/data/webhdfs/root/big.bin (SIZE_MB of random bytes, default 1024) if it
is missing, starts tests/fixtures/webhdfs.py (or FIXTURE) over that root on free
loopback ports and, RUNS times each (default 5), interleaved:
  local   hdfs_tool localbench: read(2) of the file into a 1 MiB buffer, discarded
  client  hdfs_tool bench: OPEN through runtime/hdfs.c (hdfs_read into a 1 MiB buffer)
  curl    the curl command line (-L, -o /dev/null) on the same URL, for reference
The file is read once first so that every run reads from the page cache. Prints
the median and the range of MB/s (10^6 bytes/s) and the CPU seconds the client
and the fixture used per run. The fixture is a test fixture, not Hadoop: the
figures say how fast the client can go, not how fast a DataNode serves.
Not part of the test suite.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def cpu_seconds(pid):
    """utime + stime of a process, in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    """Build, prepare, run, report."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-r", "--runs", type=int, default=5)
    ap.add_argument("-s", "--size-mb", type=int, default=1024)
    ap.add_argument("-B", "--build-dir", default=os.path.join(HERE, "data", "build-webhdfs"))
    ap.add_argument("-F", "--fixture", default=os.path.join(ROOT, "tests", "fixtures", "webhdfs.py"))
    args = ap.parse_args()

    subprocess.run(["cmake", "-S", ROOT, "-B", args.build_dir, "-DCMAKE_BUILD_TYPE=Release"],
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", args.build_dir, "--target", "hdfs_tool", "-j2"],
                   check=True, stdout=subprocess.DEVNULL)
    tool = os.path.join(args.build_dir, "bin", "hdfs_tool")

    root = os.path.join(HERE, "data", "webhdfs", "root")
    big = os.path.join(root, "big.bin")
    size = args.size_mb << 20
    if not os.path.exists(big) or os.path.getsize(big) != size:
        os.makedirs(root, exist_ok=True)
        with open(big, "wb") as f:
            for _ in range(args.size_mb):
                f.write(os.urandom(1 << 20))
    with open(big, "rb") as f:  # into the page cache
        while f.read(8 << 20):
            pass

    work = tempfile.mkdtemp(prefix="webhdfs-bench-")
    port_file = os.path.join(work, "ports.json")
    fx = subprocess.Popen([sys.executable, args.fixture, "--root", root, "--port-file", port_file,
                           "--exit-with-parent"], stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not os.path.exists(port_file):
            if fx.poll() is not None or time.monotonic() > deadline:
                sys.exit("the fixture did not start")
            time.sleep(0.02)
        with open(port_file) as f:
            nn = json.load(f)["namenode"]
        url = "hdfs://127.0.0.1:%d/" % nn
        http = "http://127.0.0.1:%d/webhdfs/v1/big.bin?op=OPEN" % nn
        res = {"local": [], "client": [], "curl": []}
        cpu = {"client": [], "client_fixture": [], "curl_fixture": []}
        for _ in range(args.runs):
            p = subprocess.run([tool, "--stats", url, "localbench", big], capture_output=True,
                               text=True, check=True)
            res["local"].append(json.loads(p.stderr.splitlines()[-1])["mb_per_s"])
            f0 = cpu_seconds(fx.pid)
            t0 = os.times()
            p = subprocess.run([tool, "--stats", url, "bench", "big.bin"], capture_output=True,
                               text=True, check=True)
            t1 = os.times()
            st = json.loads(p.stderr.splitlines()[-1])
            if st["bytes"] != size:
                sys.exit("client read %d bytes, not %d" % (st["bytes"], size))
            res["client"].append(st["mb_per_s"])
            cpu["client"].append(t1.children_user + t1.children_system
                                 - t0.children_user - t0.children_system)
            cpu["client_fixture"].append(cpu_seconds(fx.pid) - f0)
            f0 = cpu_seconds(fx.pid)
            p = subprocess.run(["curl", "-s", "-L", "-o", "/dev/null", "-w", "%{size_download} "
                                "%{speed_download}", http], capture_output=True, text=True, check=True)
            got, speed = p.stdout.split()
            if int(float(got)) != size:
                sys.exit("curl read %s bytes" % got)
            res["curl"].append(float(speed) / 1e6)
            cpu["curl_fixture"].append(cpu_seconds(fx.pid) - f0)
    finally:
        fx.terminate()
        fx.wait(5)
    print("%d MiB file, %d runs each, MB/s (10^6 bytes/s): median [min-max]"
          % (args.size_mb, args.runs))
    for k in ("local", "client", "curl"):
        v = res[k]
        print("  %-7s %7.0f  [%.0f-%.0f]" % (k, statistics.median(v), min(v), max(v)))
    print("CPU seconds per run (median): client %.2f, fixture while the client read %.2f, "
          "fixture while curl read %.2f" % (statistics.median(cpu["client"]),
                                            statistics.median(cpu["client_fixture"]),
                                            statistics.median(cpu["curl_fixture"])))


if __name__ == "__main__":
    main()
