#!/usr/bin/env python3
"""Builds and runs the example jobs of examples/ on their bundled data and checks their output.

    python3 tests/examples/run_examples.py build/bin/dsc REPO_ROOT

- wordcount.ds reads a socket: this script serves examples/data/wordcount.txt on
  127.0.0.1:9999 (a real TCP server; the job connects to localhost:9999), runs the job
  on the wall clock with a 200 ms batch until its first 10 s window, and compares the
  counts it prints with tests/examples/wordcount.expected (order-free: the order after
  a shuffle is unspecified).
- access_log.ds reads examples/data/access.log with textFile (virtual clock) and is
  compared with tests/examples/access_log.expected, batch by batch, order-free.
The last line printed is "N passed, M failed".
"""
import os
import socket
import subprocess
import sys
import tempfile
import threading


def batches(stdout):
    """[(time line, sorted element lines)] of a job's print output."""
    out, cur = [], None
    for line in stdout.splitlines():
        if line.startswith("Time: "):
            cur = (line, [])
            out.append(cur)
        elif line.startswith("---") or line == "" or cur is None:
            continue
        else:
            cur[1].append(line)
    return [(t, sorted(e)) for t, e in out]


def serve_once(path, ready, stop):
    """Accepts connections on 127.0.0.1:9999; sends the file to each, keeps it open."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 9999))
    srv.listen(4)
    srv.settimeout(0.2)
    ready.set()
    conns = []
    with open(path, "rb") as fh:
        data = fh.read()
    while not stop.is_set():
        try:
            c, _ = srv.accept()
        except socket.timeout:
            continue
        c.sendall(data)
        conns.append(c)
    for c in conns:
        c.close()
    srv.close()


def check_wordcount(dsc, root, work):
    exe = os.path.join(work, "wordcount")
    b = subprocess.run([dsc, "build", os.path.join(root, "examples/wordcount.ds"), "-o", exe],
                       capture_output=True, text=True)
    if b.returncode:
        return "build failed: " + b.stderr
    ready, stop = threading.Event(), threading.Event()
    t = threading.Thread(target=serve_once, args=(os.path.join(root, "examples/data/wordcount.txt"), ready, stop))
    t.start()
    ready.wait()
    try:
        # 50 batches of 200 ms: the job stops right after its first window at 10 s.
        r = subprocess.run([exe, "--set", "batch=200ms", "--batches", "50", "--quiet"], cwd=work,
                           capture_output=True, text=True, timeout=60)
    finally:
        stop.set()
        t.join()
    if r.returncode:
        return "exit %d: %s" % (r.returncode, r.stderr[-2000:])
    got = batches(r.stdout)
    if len(got) != 1:
        return "expected one window, got %d:\n%s" % (len(got), r.stdout[-2000:])
    with open(os.path.join(root, "tests/examples/wordcount.expected")) as fh:
        want = sorted(l for l in fh.read().splitlines() if l)
    if got[0][1] != want:
        return "counts differ:\n got %s\nwant %s" % (got[0][1], want)
    return None


def check_access_log(dsc, root, work):
    exe = os.path.join(work, "access_log")
    b = subprocess.run([dsc, "build", os.path.join(root, "examples/access_log.ds"), "-o", exe],
                       capture_output=True, text=True)
    if b.returncode:
        return "build failed: " + b.stderr
    r = subprocess.run([exe, "--quiet"], cwd=root, capture_output=True, text=True, timeout=120)
    if r.returncode:
        return "exit %d: %s" % (r.returncode, r.stderr[-2000:])
    exp = os.path.join(root, "tests/examples/access_log.expected")
    if "--update" in sys.argv:
        with open(exp, "w") as fh:
            fh.write(r.stdout)
    with open(exp) as fh:
        want = fh.read()
    if batches(r.stdout) != batches(want):
        return "output differs from %s" % exp
    return None


def main():
    dsc, root = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    passed = failed = 0
    with tempfile.TemporaryDirectory() as work:
        for name, fn in (("wordcount", check_wordcount), ("access_log", check_access_log)):
            err = fn(dsc, root, work)
            if err:
                failed += 1
                print("FAIL %s: %s" % (name, err))
            else:
                passed += 1
                print("ok %s" % name)
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
