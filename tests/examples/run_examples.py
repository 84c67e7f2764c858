#!/usr/bin/env python3
"""Builds and runs the example jobs of examples/ on their bundled data and checks their output.

    python3 tests/examples/run_examples.py build/bin/dsc REPO_ROOT

- wordcount.ds reads a socket: this script serves examples/data/wordcount.txt on
  127.0.0.1:9999 (a real TCP server; the job connects to localhost:9999), runs the job
  on the wall clock with a 200 ms batch until its first 10 s window, and compares the
  counts it prints with tests/examples/wordcount.expected (order-free: the order after
  a shuffle is unspecified).
- access_log.ds (textFile) and sessions.ds (batches, mapWithState with a 30-minute
  timeout) read their bundled logs on the virtual clock and are compared with
  tests/examples/NAME.expected, batch by batch, order-free (--update rewrites them).
- blocked.ds joins two sockets: this script serves examples/data/requests.log on 9998
  and examples/data/blocked.txt on 9997 and checks every joined row printed over 4 s
  against tests/examples/blocked.expected.
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


def serve_once(path, ready, stop, port=9999, delay=0.0):
    """Accepts connections on 127.0.0.1:port; sends the file to each (after delay
    seconds), keeps it open."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
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
        if delay:
            stop.wait(delay)
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


def check_blocked(dsc, root, work):
    """Two sockets joined: requests on 9998 (sent 1.5 s after the job connects, so the
    blocked list on 9997 is in its window first) and blocked addresses on 9997."""
    exe = os.path.join(work, "blocked")
    b = subprocess.run([dsc, "build", os.path.join(root, "examples/blocked.ds"), "-o", exe],
                       capture_output=True, text=True)
    if b.returncode:
        return "build failed: " + b.stderr
    stop = threading.Event()
    servers = []
    for port, name, delay in ((9997, "blocked.txt", 0.0), (9998, "requests.log", 1.5)):
        ready = threading.Event()
        t = threading.Thread(target=serve_once,
                             args=(os.path.join(root, "examples/data", name), ready, stop, port, delay))
        t.start()
        ready.wait()
        servers.append(t)
    try:
        r = subprocess.run([exe, "--set", "batch=100ms", "--batches", "40", "--quiet"], cwd=work,
                           capture_output=True, text=True, timeout=60)
    finally:
        stop.set()
        for t in servers:
            t.join()
    if r.returncode:
        return "exit %d: %s" % (r.returncode, r.stderr[-2000:])
    got = sorted(e for _, elems in batches(r.stdout) for e in elems)
    with open(os.path.join(root, "tests/examples/blocked.expected")) as fh:
        want = sorted(l for l in fh.read().splitlines() if l)
    if got != want:
        return "joined rows differ:\n got %s\nwant %s" % (got, want)
    return None


def check_bounded(name, dsc, root, work):
    """A job over bundled files (virtual clock), run from the repository root."""
    exe = os.path.join(work, name)
    b = subprocess.run([dsc, "build", os.path.join(root, "examples/%s.ds" % name), "-o", exe],
                       capture_output=True, text=True)
    if b.returncode:
        return "build failed: " + b.stderr
    r = subprocess.run([exe, "--quiet"], cwd=root, capture_output=True, text=True, timeout=120)
    if r.returncode:
        return "exit %d: %s" % (r.returncode, r.stderr[-2000:])
    exp = os.path.join(root, "tests/examples/%s.expected" % name)
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
        checks = [("wordcount", check_wordcount), ("blocked", check_blocked)]
        for name in ("access_log", "sessions"):
            checks.append((name, lambda d, r, w, n=name: check_bounded(n, d, r, w)))
        for name, fn in checks:
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
