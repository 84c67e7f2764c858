#!/usr/bin/env python3
"""run.py — runs the runtime's end-to-end tests (tests/rtjobs/*.test).

usage: run.py JOBS_DIR TESTS_DIR [NAME...]

Each NAME.test runs one hand-written job (JOBS_DIR/<job>) in a fresh
temporary directory and checks what it did. A .test file is a list of
directives, one per line (`#` starts a comment line); a block directive
takes the lines up to a line `end` (in blocks, `<FF>` stands for a form
feed and `<CR>` for a carriage return):

  job NAME                 the executable in JOBS_DIR
  args ARG...              its command line (shell words)
  env NAME=VALUE           an environment variable ({port} is the server's port)
  file PATH ... end        an input file written before the job starts
  stdout ... end           the exact expected stdout
  elements ... end         the elements print wrote, all batches (headers,
                           `...` and the empty line after each batch removed)
  output PATH ... end      an expected file's exact content
  exists PATH / absent PATH
  count GLOB N             N paths match GLOB (hidden names included)
  linecount PATH N         the file PATH has N lines
  exit N                   the expected exit code (default 0)
  stderr-has TEXT          stderr contains TEXT
  metrics PATH N           PATH holds N JSON lines with exactly the §12 fields
  metrics-sum PATH FIELD N the FIELD values of PATH add up to N
  metrics-max PATH FIELD N no FIELD value of PATH is above N
  timeout SECONDS          kill the job after this long (default 30)
  signal SECONDS           send SIGTERM after SECONDS
  move SECONDS SRC DST     rename file SRC to DST (written by `file`) after SECONDS
  server SCRIPT            start a local TCP server on a free port: SCRIPT is
                           `;`-separated sessions, each a comma-separated list
                           of steps for one accepted connection: `lines A-B`
                           sends lines A..B, `text T` sends T (\\n escapes),
                           `long N` sends a line of N bytes, `hold` keeps the
                           connection open until the job ends; the server
                           closes a connection after its steps.
  generate PATH LINES      a file of LINES numbered lines "line <i> ..." (big tests)
  generated PATH A B       the file PATH holds exactly generated lines A..B-1

The last line printed is `N passed, M failed`.
"""
import glob
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time


def parse(path):
    tests = {"args": [], "env": {}, "files": [], "checks": [], "timeout": 30.0,
             "exit": 0, "actions": [], "server": None, "generate": []}
    lines = open(path, encoding="utf-8").read().split("\n")
    i = 0

    def block():
        nonlocal i
        out = []
        while i < len(lines) and lines[i] != "end":
            out.append(lines[i].replace("<FF>", "\f").replace("<CR>", "\r"))
            i += 1
        if i == len(lines):
            raise ValueError(f"{path}: block without `end`")
        i += 1
        return "".join(l + "\n" for l in out)

    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        rest = rest.strip()
        if word == "job":
            tests["job"] = rest
        elif word == "args":
            tests["args"] += shlex.split(rest)
        elif word == "env":
            k, _, v = rest.partition("=")
            tests["env"][k] = v
        elif word == "file":
            tests["files"].append((rest, block()))
        elif word == "stdout":
            tests["checks"].append(("stdout", None, block()))
        elif word == "elements":
            tests["checks"].append(("elements", None, block()))
        elif word == "output":
            tests["checks"].append(("output", rest, block()))
        elif word in ("exists", "absent", "stderr-has"):
            tests["checks"].append((word, rest, None))
        elif word in ("count", "metrics", "linecount"):
            a, b = rest.rsplit(" ", 1)
            tests["checks"].append((word, a, int(b)))
        elif word == "generated":
            p, a, b = rest.split()
            tests["checks"].append((word, p, (int(a), int(b))))
        elif word in ("metrics-sum", "metrics-max"):
            a, f, n = rest.split()
            tests["checks"].append((word, (a, f), int(n)))
        elif word == "exit":
            tests["exit"] = int(rest)
        elif word == "timeout":
            tests["timeout"] = float(rest)
        elif word == "signal":
            tests["actions"].append((float(rest), "signal", None))
        elif word == "move":
            t, src, dst = rest.split()
            tests["actions"].append((float(t), "move", (src, dst)))
        elif word == "server":
            tests["server"] = rest
        elif word == "generate":
            p, n = rest.split()
            tests["generate"].append((p, int(n)))
        else:
            raise ValueError(f"{path}:{i}: unknown directive {word!r}")
    return tests


class Server:
    """A TCP server that plays one session of steps per accepted connection."""

    def __init__(self, script):
        self.sessions = [s.strip() for s in script.split(";")]
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.done = threading.Event()
        self.held = []
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        for session in self.sessions:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            hold = False
            for step in [s.strip() for s in session.split(",") if s.strip()]:
                kind, _, arg = step.partition(" ")
                if kind == "lines":
                    a, b = arg.split("-")
                    conn.sendall("".join(f"{k}\n" for k in range(int(a), int(b) + 1)).encode())
                elif kind == "text":
                    conn.sendall(arg.replace("\\n", "\n").replace("\\r", "\r").encode())
                elif kind == "long":
                    conn.sendall(b"x" * int(arg) + b"\n")
                elif kind == "sleep":
                    time.sleep(float(arg))
                elif kind == "hold":
                    hold = True
            if hold:
                self.held.append(conn)
            else:
                conn.close()
        self.done.set()

    def close(self):
        for c in self.held:
            c.close()
        self.sock.close()


def gen_line(k):
    return f"line {k} " + "abcdefghij" * (k % 7) + "\n"


def elements_of(stdout):
    out, lines, i = [], stdout.split("\n"), 0
    while i < len(lines):
        if lines[i] == "-" * 43 and i + 2 < len(lines) and lines[i + 1].startswith("Time: "):
            i += 3
            while i < len(lines) and lines[i] != "":
                if lines[i] != "...":
                    out.append(lines[i])
                i += 1
        i += 1
    return "".join(l + "\n" for l in out)


def run_test(jobs_dir, path):
    t = parse(path)
    errors = []
    with tempfile.TemporaryDirectory(prefix="rtjob-") as tmp:
        for name, content in t["files"]:
            p = os.path.join(tmp, name)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "w", encoding="utf-8", newline="") as f:
                f.write(content)
        for name, n in t["generate"]:
            with open(os.path.join(tmp, name), "w") as f:
                for k in range(n):
                    f.write(gen_line(k))
        server = Server(t["server"]) if t["server"] else None
        env = dict(os.environ)
        for k, v in t["env"].items():
            env[k] = v.replace("{port}", str(server.port) if server else "")
        exe = os.path.join(jobs_dir, t["job"])
        proc = subprocess.Popen([exe] + t["args"], cwd=tmp, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        timers = []
        for when, kind, arg in t["actions"]:
            if kind == "signal":
                fn = lambda: proc.poll() is None and proc.send_signal(signal.SIGTERM)
            else:
                src, dst = arg
                fn = lambda src=src, dst=dst: os.rename(os.path.join(tmp, src), os.path.join(tmp, dst))
            timer = threading.Timer(when, fn)
            timer.start()
            timers.append(timer)
        try:
            out, err = proc.communicate(timeout=t["timeout"])
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            errors.append(f"timed out after {t['timeout']} s")
        for timer in timers:
            timer.cancel()
        if server:
            server.close()
        if proc.returncode != t["exit"]:
            errors.append(f"exit code {proc.returncode}, expected {t['exit']}")
        for kind, arg, want in t["checks"]:
            if kind == "stdout" and out != want:
                errors.append(f"stdout differs:\n--- got\n{out}--- expected\n{want}---")
            elif kind == "elements" and elements_of(out) != want:
                errors.append(f"elements differ:\n--- got\n{elements_of(out)}--- expected\n{want}---")
            elif kind == "output":
                p = os.path.join(tmp, arg)
                got = open(p, encoding="utf-8").read() if os.path.isfile(p) else None
                if got != want:
                    errors.append(f"{arg}: got {got!r}, expected {want!r}")
            elif kind == "exists" and not os.path.exists(os.path.join(tmp, arg)):
                errors.append(f"{arg} does not exist")
            elif kind == "absent" and os.path.exists(os.path.join(tmp, arg)):
                errors.append(f"{arg} exists")
            elif kind == "count":
                n = len(glob.glob(os.path.join(tmp, arg), include_hidden=True)) if sys.version_info >= (3, 11) \
                    else len(glob.glob(os.path.join(tmp, arg)) + glob.glob(os.path.join(tmp, arg.replace("*", ".*", 1))))
                if n != want:
                    errors.append(f"{n} paths match {arg}, expected {want}")
            elif kind == "generated":
                p = os.path.join(tmp, arg)
                got = open(p).read() if os.path.isfile(p) else None
                if got != "".join(gen_line(k) for k in range(*want)):
                    errors.append(f"{arg} is not generated lines {want[0]}..{want[1] - 1}")
            elif kind == "linecount":
                p = os.path.join(tmp, arg)
                n = open(p).read().count("\n") if os.path.isfile(p) else None
                if n != want:
                    errors.append(f"{arg} has {n} lines, expected {want}")
            elif kind == "stderr-has" and arg not in err:
                errors.append(f"stderr lacks {arg!r}:\n{err}")
            elif kind in ("metrics", "metrics-sum", "metrics-max"):
                name = arg if kind == "metrics" else arg[0]
                p = os.path.join(tmp, name)
                rows = [json.loads(l) for l in open(p)] if os.path.isfile(p) else []
                fields = ["batch", "records_in", "records_out", "processing_ms",
                          "scheduling_delay_ms", "record_errors", "recovered"]
                if kind == "metrics":
                    if len(rows) != want:
                        errors.append(f"{name}: {len(rows)} lines, expected {want}")
                    for r in rows:
                        if list(r.keys()) != fields:
                            errors.append(f"{name}: fields {list(r.keys())}")
                            break
                elif kind == "metrics-max":
                    top = max([r[arg[1]] for r in rows] or [0])
                    if top > want:
                        errors.append(f"{name}: {arg[1]} reaches {top}, more than {want}")
                else:
                    total = sum(r[arg[1]] for r in rows)
                    if total != want:
                        errors.append(f"{name}: {arg[1]} adds up to {total}, expected {want}")
    return errors, err


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    jobs_dir, tests_dir = os.path.abspath(sys.argv[1]), sys.argv[2]
    names = sys.argv[3:]
    paths = sorted(glob.glob(os.path.join(tests_dir, "*.test")))
    if names:
        paths = [p for p in paths if os.path.basename(p)[:-5] in names]
    passed = failed = 0
    for p in paths:
        name = os.path.basename(p)[:-5]
        start = time.time()
        try:
            errors, stderr = run_test(jobs_dir, p)
        except Exception as e:  # a broken .test file is a failure, not a crash
            errors, stderr = [f"{type(e).__name__}: {e}"], ""
        if errors:
            failed += 1
            print(f"FAIL {name}")
            for e in errors:
                print("  " + e.replace("\n", "\n  "))
            if stderr:
                print("  stderr:\n    " + stderr.rstrip().replace("\n", "\n    "))
        else:
            passed += 1
            print(f"ok   {name} ({time.time() - start:.1f} s)")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
