#!/usr/bin/env python3
"""Jobs with hdfs:// paths: sources, outputs and checkpoints on HDFS (runtime/storage.c).

    python3 tests/hdfs/test_hdfs_jobs.py DSC STORAGE_TOOL CHECK_RT_JOURNAL [NAME_FILTER...]

THE SERVER IS A TEST FIXTURE, NOT HADOOP: tests/fixtures/webhdfs.py implements the
documented WebHDFS REST protocol (NameNode + DataNode, 307 redirects, FileStatus /
FileStatuses / boolean / RemoteException JSON) over a local directory, with fault
injection. These tests start it on free loopback ports, build `.ds` jobs with dsc whose
paths are hdfs:// (and webhdfs://) URLs of the fixture, and read what the jobs wrote
from the fixture's local directory:

- textFile, textFiles and saveAsTextFiles on HDFS give exactly what the same jobs give
  on local paths (several batches, partitions, suffixes, hidden and non-file entries);
  requests carry the hdfsUser setting as user.name;
- with injected faults (5xx answers, a standby NameNode, dropped DataNode reads, refused
  and reset DataNode connections, slow answers) the outputs are still exactly right and
  the retries are logged; 4xx answers (a missing file or directory, permission denied, a
  file where a directory should be) stop the job with the server's message, exit 2 at
  start and 1 while running; retries running out is exit 1;
- a large file is streamed: the job's peak memory stays far below the file's size;
- checkpoints on HDFS: a textFiles job stopped and restarted takes every file once; a
  bounded job stopped at --batches resumes from its read position on HDFS and ends
  with the uninterrupted run's outputs; the storage layer and the checkpoint files
  (write, prune, damaged ones moved aside, temporaries cleaned, a journal cut and its
  recovery after a crash at each step) through storage_tool; and the journal's Check
  suite again, with its directory on HDFS.
The chaos test (SIGKILLs) on HDFS is tests/recovery's chaos_hdfs.
The last line printed is "N passed, M failed".
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))
from webhdfs_proc import Check, Fixture, check, run_suite  # noqa: E402
sys.path.insert(0, os.path.join(HERE, "..", "recovery"))
from common import verify_checkpoint  # noqa: E402  (CRC-32C and trailer of a checkpoint)

DSC = TOOL = JOURNAL_CHECK = None
BASE = None
TESTS = []


def test(fn):
    """Register a test (run in definition order)."""
    TESTS.append(fn)
    return fn


FX = None  # the shared fixture


class Result:
    """A job run: rc, stdout, stderr (text), seconds, peak RSS in KiB (VmHWM sampled from
    /proc while the job runs: ru_maxrss would count the test process's memory, which the
    child shares between fork and exec)."""

    def __init__(self, rc, out, err, seconds, maxrss):
        self.rc, self.out, self.err, self.seconds, self.maxrss = rc, out, err, seconds, maxrss

    def __repr__(self):
        return "rc=%s stdout=%r stderr=%r" % (self.rc, self.out[-600:], self.err[-2500:])

    def retries(self):
        return [l for l in self.err.splitlines() if l.startswith("job: hdfs: ")]


def build(name, source):
    """Writes NAME.ds into BASE/NAME/ and builds the job there; returns (exe, workdir)."""
    work = os.path.join(BASE, name)
    os.makedirs(work, exist_ok=True)
    src = os.path.join(work, name + ".ds")
    with open(src, "w") as f:
        f.write(source)
    exe = os.path.join(work, name)
    b = subprocess.run([DSC, "build", src, "-o", exe], capture_output=True, text=True, timeout=120)
    check(b.returncode == 0, "dsc build %s: %s" % (name, b.stderr))
    return exe, work


def hwm_kib(pid, exe):
    """The VmHWM of pid once it runs exe (None before the exec or after the exit)."""
    try:
        if os.readlink("/proc/%d/exe" % pid) != exe:
            return None
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def run(exe, args=(), cwd=None, timeout=120, env=None):
    """Runs a job to its end (stdout and stderr to files); samples its peak RSS."""
    cwd = cwd or os.path.dirname(exe)
    real = os.path.realpath(exe)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.monotonic()
        p = subprocess.Popen([exe, "--quiet", *args], cwd=cwd, stdin=subprocess.DEVNULL,
                             stdout=out, stderr=err, env=env)
        deadline = t0 + timeout
        peak = 0
        while p.poll() is None:
            peak = max(peak, hwm_kib(p.pid, real) or 0)
            if time.monotonic() > deadline:
                p.kill()
                p.wait()
                break
            time.sleep(0.005)
        seconds = time.monotonic() - t0
        out.seek(0)
        err.seek(0)
        return Result(p.returncode, out.read().decode("utf-8", "replace"),
                      err.read().decode("utf-8", "replace"), seconds, peak)


def ok(r, what):
    check(r.rc == 0, "%s failed: %r" % (what, r))
    return r


def outputs(folder):
    """{prefix: [(time, [lines])]} of the saveAsTextFiles directories under folder (time
    order, part files concatenated in order), and the problems seen: hidden leftovers,
    directories without _SUCCESS or with other entries."""
    out, problems = {}, []
    if not os.path.isdir(folder):
        return out, ["no directory %s" % folder]
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if name.startswith(".") or name.startswith("_"):
            problems.append("hidden leftover %s" % name)
            continue
        base = name.split(".")[0]
        prefix, _, t = base.rpartition("-")
        entries = sorted(os.listdir(path))
        if "_SUCCESS" not in entries:
            problems.append("%s has no _SUCCESS" % name)
        parts = [e for e in entries if e.startswith("part-")]
        if len(parts) + 1 != len(entries):
            problems.append("%s holds %s" % (name, entries))
        lines = []
        for part in parts:
            with open(os.path.join(path, part), "rb") as f:
                lines += f.read().decode("utf-8", "replace").splitlines()
        out.setdefault(prefix, []).append((int(t), lines, len(parts), name))
    for prefix in out:
        out[prefix].sort()
    return out, problems


def same_outputs(got, want, what, unordered=(), by_time=True):
    """got and want from outputs(): the same prefixes, batches and lines (sorted for the
    prefixes in `unordered`); times compared only when by_time."""
    check(sorted(got) == sorted(want), "%s: prefixes %s, want %s" % (what, sorted(got), sorted(want)))
    for prefix in want:
        g, w = got[prefix], want[prefix]
        check(len(g) == len(w), "%s: %d %s batches, want %d" % (what, len(g), prefix, len(w)))
        for (tg, lg, pg, ng), (tw, lw, pw, nw) in zip(g, w):
            if by_time:
                check(tg == tw and ng == nw, "%s: %s at %d, want %s at %d" % (what, ng, tg, nw, tw))
            check(pg == pw, "%s: %s has %d part files, want %d" % (what, ng, pg, pw))
            if prefix in unordered:
                lg, lw = sorted(lg), sorted(lw)
            check(lg == lw, "%s: %s differs from %s: %r... vs %r..." % (what, ng, nw, lg[:5], lw[:5]))


# ----------------------------------------------------------------------------- data

def text_data(n=120000):
    """About 2.6 MB of lines: words, a few CRLF lines, an empty line, no final newline."""
    lines = []
    for i in range(n):
        line = "w%d x%d %s" % (i % 977, (i * 31) % 101, "y" * (i % 13))
        if i % 1000 == 7:
            line += "\r"
        if i == 500:
            line = ""
        lines.append(line)
    return ("\n".join(lines)).encode()


TEXTFILE_JOB = """\
// generated by tests/hdfs/test_hdfs_jobs.py
set batch = 1s
set partitions = 3
let lines = textFile("{src}")
lines.saveAsTextFiles("{out}/lines")
let counts = lines.flatMap(l => words(l)).map(w => (w, 1)).reduceByKey((a, b) => a + b)
counts.saveAsTextFiles("{out}/counts", "txt")
let sizes = lines.map(l => len(l)).reduceByWindow((a, b) => a + b, 3s, 1s)
sizes.print()
lines.count().print()
"""


def textfile_reference():
    """The textFile job on a local file: (stdout, outputs)."""
    work = os.path.join(BASE, "tf-local")
    if not os.path.exists(os.path.join(work, "done")):
        exe, work = build("tf-local", TEXTFILE_JOB.format(src="data.txt", out="out"))
        with open(os.path.join(work, "data.txt"), "wb") as f:
            f.write(text_data())
        r = ok(run(exe, ["--set", "maxRecordsPerBatch=25000"]), "the local run")
        with open(os.path.join(work, "stdout"), "w") as f:
            f.write(r.out)
        open(os.path.join(work, "done"), "w").close()
    with open(os.path.join(work, "stdout")) as f:
        out = f.read()
    o, problems = outputs(os.path.join(work, "out"))
    check(not problems, "local output: %s" % problems)
    return out, o


# ----------------------------------------------------------------------------- tests

@test
def text_file_on_hdfs_equals_local():
    """textFile(hdfs://...) and saveAsTextFiles(hdfs://...), also webhdfs://, give what
    the same job gives on local paths; requests carry hdfsUser as user.name."""
    want_out, want = textfile_reference()
    check(len([1 for _, l, _, _ in want["lines"] if l]) == 5, "the reference has %s" % want["lines"])
    FX.write("/in/data.txt", text_data())
    for scheme, out in (("hdfs", "/tf1"), ("webhdfs", "/tf2")):
        exe, _ = build("tf-" + scheme, TEXTFILE_JOB.format(src=FX.url("/in/data.txt", scheme),
                                                           out=FX.url(out, scheme)))
        FX.clear_log()
        r = ok(run(exe, ["--set", "maxRecordsPerBatch=25000", "--set", "hdfsUser=alice"]), scheme)
        check(r.out == want_out, "%s: stdout differs from the local run's:\n%s\nvs\n%s"
              % (scheme, r.out[:400], want_out[:400]))
        got, problems = outputs(FX.local(out))
        check(not problems, "%s output: %s" % (scheme, problems))
        same_outputs(got, want, scheme, unordered=("counts",))
        users = {e["user"] for e in FX.log() if e["node"] == "namenode"}
        check(users == {"alice"}, "%s: user.name of the requests: %s" % (scheme, users))
        check(not r.retries(), "%s: retries without faults: %s" % (scheme, r.retries()))
    # Without a checkpoint a second run replaces the batch directories (moved aside, then
    # deleted: HDFS would rename the new one into the old one).
    r = ok(run(exe, ["--set", "maxRecordsPerBatch=25000"]), "again")
    got, problems = outputs(FX.local("/tf2"))
    check(not problems, "replaced output: %s" % problems)
    same_outputs(got, want, "replaced", unordered=("counts",))


TEXTFILES_JOB = """\
// generated by tests/hdfs/test_hdfs_jobs.py
set batch = 200ms
set partitions = 2
let lines = textFiles("{src}")
lines.saveAsTextFiles("{out}/raw")
let pairs = lines.map(l => (field(l, " ", 0) ?? "", 1)).reduceByKey((a, b) => a + b)
pairs.saveAsTextFiles("{out}/pairs")
"""

FILES = {"b.txt": b"k1 b1\nk2 b2\n", "a.txt": b"k1 a1\n", "c.log": b"k3 c1\nk1 c2",
         ".hidden": b"hidden\n", "_SKIP": b"skip\n", "sub/x": b"in a subdirectory\n"}


@test
def text_files_on_hdfs_equals_local():
    """textFiles(hdfs://...) takes the same files as locally (not hidden ones, not
    directories), whole, in name order, into the first batch."""
    exe, work = build("tfs-local", TEXTFILES_JOB.format(src="in", out="out"))
    for name, data in FILES.items():
        p = os.path.join(work, "in", name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
        FX.write("/tfs/in/" + name, data)
    ok(run(exe, ["--batches", "3"]), "local")
    want, problems = outputs(os.path.join(work, "out"))
    check(not problems, "local output: %s" % problems)
    check([l for _, l, _, _ in want["raw"]][0] == ["k1 a1", "k1 b1", "k2 b2", "k3 c1", "k1 c2"],
          "local raw batches: %s" % want["raw"])
    exe, _ = build("tfs-hdfs", TEXTFILES_JOB.format(src=FX.url("/tfs/in"), out=FX.url("/tfs/out")))
    ok(run(exe, ["--batches", "3"]), "hdfs")
    got, problems = outputs(FX.local("/tfs/out"))
    check(not problems, "hdfs output: %s" % problems)
    same_outputs(got, want, "textFiles", unordered=("pairs",), by_time=False)


@test
def text_files_checkpoint_on_hdfs():
    """textFiles with its checkpoint on HDFS: stopped and restarted, every file is taken
    once; the checkpoints and the journal are in the HDFS directory, valid."""
    src = "/ckf/in"
    for name in ("a", "b", "c"):
        FX.write("%s/%s" % (src, name), ("%s 1\n%s 2\n" % (name, name)).encode())
    exe, _ = build("tfs-ck", TEXTFILES_JOB.format(src=FX.url(src), out=FX.url("/ckf/out")))
    ck = ["--checkpoint", FX.url("/ckf/ck")]
    ok(run(exe, ["--batches", "2", *ck]), "first run")
    FX.write(src + "/d", b"d 1\n")
    FX.write(src + "/.e", b"being written\n")
    r = ok(run(exe, ["--batches", "4", *ck]), "second run")
    check("restored from checkpoint" in r.err, "the second run did not restore: %r" % r)
    got, problems = outputs(FX.local("/ckf/out"))
    check(not problems, "output: %s" % problems)
    raws = [l for _, l, _, _ in got["raw"]]
    check(len(raws) == 4, "%d raw batches, want 4: %s" % (len(raws), raws))
    check(raws[0] == ["a 1", "a 2", "b 1", "b 2", "c 1", "c 2"] and raws[2] == ["d 1"]
          and raws[1] == [] and raws[3] == [], "raw batches %s" % raws)
    names = sorted(os.listdir(FX.local("/ckf/ck")))
    cks = [n for n in names if n.startswith("ckpt-")]
    check(cks and len(cks) <= 2, "checkpoints %s" % names)
    check(any(n.startswith("wal-") for n in names), "no journal in %s" % names)
    check(not [n for n in names if n.startswith(".")], "hidden leftovers in %s" % names)
    for n in cks:
        why = verify_checkpoint(os.path.join(FX.local("/ckf/ck"), n))
        check(why is None, "checkpoint %s: %s" % (n, why))


BOUNDED_JOB = """\
// generated by tests/hdfs/test_hdfs_jobs.py
set batch = 1s
set partitions = 2
let lines = textFile("{src}")
let pairs = lines.flatMap(l => words(l)).map(w => (w, 1))
let win = pairs.reduceByKeyAndWindow((a, b) => a + b, (a, b) => a - b, 3s, 1s)
win.saveAsTextFiles("{out}/win")
let totals = pairs.updateStateByKey((vs, s) => some(sum(vs) + (s ?? 0)))
totals.saveAsTextFiles("{out}/totals")
lines.count().print()
"""


@test
def bounded_job_resumes_from_hdfs_checkpoint():
    """A bounded textFile job on HDFS with its checkpoint on HDFS, stopped at --batches 2
    and 4 and run to the end: its read position and state come back from HDFS, and the
    outputs and prints equal an uninterrupted local run's; a restart of the finished job
    writes nothing."""
    data = text_data(30000)
    exe, work = build("bd-local", BOUNDED_JOB.format(src="data.txt", out="out"))
    with open(os.path.join(work, "data.txt"), "wb") as f:
        f.write(data)
    ref = ok(run(exe, ["--set", "maxRecordsPerBatch=4000"]), "local")
    want, problems = outputs(os.path.join(work, "out"))
    check(not problems, "local output: %s" % problems)
    FX.write("/bd/data.txt", data)
    exe, _ = build("bd-hdfs", BOUNDED_JOB.format(src=FX.url("/bd/data.txt"), out=FX.url("/bd/out")))
    args = ["--set", "maxRecordsPerBatch=4000", "--checkpoint", FX.url("/bd/ck")]
    printed = ""
    for extra in (["--batches", "2"], ["--batches", "4"], []):
        printed += ok(run(exe, args + extra), "run %s" % extra).out
    check(printed == ref.out, "the prints of the three runs differ from the uninterrupted run's")
    got, problems = outputs(FX.local("/bd/out"))
    check(not problems, "hdfs output: %s" % problems)
    same_outputs(got, want, "resumed", unordered=("win", "totals"))
    before = sorted(os.listdir(FX.local("/bd/out")))
    r = ok(run(exe, args), "restart after the end")
    check(r.out == "" and sorted(os.listdir(FX.local("/bd/out"))) == before,
          "a restart of the finished job wrote something: %r" % r)


@test
def faults_are_retried_and_outputs_exact():
    """5xx answers, a standby NameNode, dropped DataNode reads, refused and reset DataNode
    connections: retried (and logged); then slow answers: the outputs are exactly those
    of the local run."""
    want_out, want = textfile_reference()
    FX.write("/fa/data.txt", text_data())
    exe, _ = build("fa", TEXTFILE_JOB.format(src=FX.url("/fa/data.txt"), out=FX.url("/fa/out")))
    FX.faults("5xx:2,standby:1,drop-read:3,refuse-datanode:1,reset-datanode:1")
    try:
        r = ok(run(exe, ["--set", "maxRecordsPerBatch=25000"]), "with faults")
        fired = FX.faults()["fired"]
    finally:
        FX.faults("clear")
    check(sum(fired.values()) >= 8, "faults fired: %s" % fired)
    check(r.out == want_out, "stdout differs from the local run's")
    got, problems = outputs(FX.local("/fa/out"))
    check(not problems, "output: %s" % problems)
    same_outputs(got, want, "faults", unordered=("counts",))
    retries = r.retries()
    check(len(retries) >= sum(fired.values()), "%d retries logged for %s: %s" % (len(retries), fired, retries))
    check(any("resuming at offset" in l for l in retries), "no resumed read logged: %s" % retries)
    check(any("RetriableException" in l for l in retries) and any("StandbyException" in l for l in retries),
          "5xx and standby retries not logged: %s" % retries)

    FX.write("/fs/data.txt", text_data(20000))
    exe, work = build("fs", TEXTFILE_JOB.format(src=FX.url("/fs/data.txt"), out=FX.url("/fs/out")))
    exe_l, work_l = build("fs-local", TEXTFILE_JOB.format(src="data.txt", out="out"))
    with open(os.path.join(work_l, "data.txt"), "wb") as f:
        f.write(text_data(20000))
    want_out = ok(run(exe_l), "local").out
    want, _ = outputs(os.path.join(work_l, "out"))
    FX.faults("slow:40")
    try:
        r = ok(run(exe), "slow answers")
    finally:
        FX.faults("clear")
    check(r.out == want_out, "slow: stdout differs")
    got, problems = outputs(FX.local("/fs/out"))
    check(not problems, "slow output: %s" % problems)
    same_outputs(got, want, "slow", unordered=("counts",))
    check(r.seconds > 20 * 0.04, "the slow answers were not slow (%.2f s)" % r.seconds)


@test
def errors_stop_with_the_servers_message():
    """4xx: a missing file or directory, permission denied, a bad hdfsUser, a file where a
    directory must be — exit 2 at start, 1 while running — with the RemoteException's
    message; retries running out: exit 1; URLs without a NameNode: exit 2."""
    FX.write("/er/data.txt", b"a\nb\n")
    FX.write("/er/blocker", b"a file\n")

    def job(name, src):
        return build(name, src)[0]

    r = run(job("e-missing", 'textFile("%s").print()\n' % FX.url("/er/missing.txt")))
    check(r.rc == 2 and "FileNotFoundException" in r.err and "/er/missing.txt" in r.err, "missing file: %r" % r)
    r = run(job("e-nodir", 'textFiles("%s").print()\n' % FX.url("/er/nodir")))
    check(r.rc == 2 and "FileNotFoundException" in r.err and "/er/nodir" in r.err, "missing directory: %r" % r)
    r = run(job("e-notdir", 'textFiles("%s").print()\n' % FX.url("/er/data.txt")))
    check(r.rc == 2 and "not a directory" in r.err, "a file as a directory: %r" % r)
    r = run(job("e-user", 'textFile("%s").print()\n' % FX.url("/er/data.txt")), ["--set", "hdfsUser=bad user"])
    check(r.rc == 2 and "IllegalArgumentException" in r.err and "user.name" in r.err, "bad user: %r" % r)
    # A 4xx while running: the output's parent is a file.
    exe = job("e-parent", 'textFile("%s").saveAsTextFiles("%s")\n'
              % (FX.url("/er/data.txt"), FX.url("/er/blocker/sub/out")))
    r = run(exe)
    check(r.rc == 1 and "ParentNotDirectoryException" in r.err and "/er/blocker" in r.err,
          "output under a file: %r" % r)
    check(not r.retries(), "a 4xx was retried: %s" % r.retries())
    # The checkpoint directory under a file: a bad setting, exit 2.
    r = run(job("e-ck", 'textFile("%s").print()\n' % FX.url("/er/data.txt")),
            ["--checkpoint", FX.url("/er/blocker/ck")])
    check(r.rc == 2 and "cannot create checkpoint directory" in r.err and "Exception" in r.err,
          "checkpoint under a file: %r" % r)
    # Retries running out: exit 1, each retry logged.
    FX.faults("5xx:1000")
    try:
        r = run(job("e-retries", 'textFile("%s").print()\n' % FX.url("/er/data.txt")), ["--set", "retries=3"])
    finally:
        FX.faults("clear")
    check(r.rc == 1 and "gave up after 3 attempts" in r.err and len(r.retries()) == 2,
          "retries running out: %r" % r)
    # No NameNode listening: a runtime failure (exit 1) at start, not a bad setting.
    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
    port = dead.getsockname()[1]
    try:
        r = run(job("e-dead", 'textFile("hdfs://127.0.0.1:%d/x").print()\n' % port), ["--set", "retries=2"])
        check(r.rc == 1 and "gave up after 2 attempts" in r.err and len(r.retries()) == 1,
              "no NameNode: %r" % r)
        r = run(job("e-deadck", 'textFile("%s").print()\n' % FX.url("/er/data.txt")),
                ["--set", "retries=2", "--checkpoint", "hdfs://127.0.0.1:%d/ck" % port])
        check(r.rc == 1 and "cannot create checkpoint directory" in r.err and "gave up" in r.err,
              "no NameNode for the checkpoint: %r" % r)
    finally:
        dead.close()
    r = run(job("e-url", 'textFile("hdfs:///er/data.txt").print()\n'))
    check(r.rc == 2 and "names no NameNode" in r.err, "a URL without a NameNode: %r" % r)
    r = run(job("e-batches", 'batches("%s").print()\n' % FX.url("/er/data.txt")))
    check(r.rc == 2 and "local" in r.err, "batches() on HDFS: %r" % r)
    # Permission denied (the fixture refuses user mallory).
    deny = Fixture(BASE, "deny", "--deny-user", "mallory")
    try:
        deny.write("/d/data.txt", b"x\n")
        exe = job("e-deny", 'textFile("%s").print()\n' % deny.url("/d/data.txt"))
        r = run(exe, ["--set", "hdfsUser=mallory"])
        check(r.rc == 2 and "AccessControlException" in r.err and "Permission denied: user=mallory" in r.err,
              "permission denied: %r" % r)
        env = dict(os.environ, HADOOP_USER_NAME="mallory")
        r = run(exe, env=env)
        check(r.rc == 2 and "user=mallory" in r.err, "HADOOP_USER_NAME: %r" % r)
        ok(run(exe, ["--set", "hdfsUser=bob"], env=env), "hdfsUser before HADOOP_USER_NAME")
    finally:
        deny.stop()


@test
def large_file_streamed_in_bounded_memory():
    """A 64 MB file on HDFS is read in chunks as a local one: the job's peak RSS stays
    below the file's size and within 16 MB of the same job's on the local file (the
    margin covers the client's buffers; sanitizer builds add the same to both), and
    every line is counted once. Under AddressSanitizer its quarantine is turned off for
    these runs: it keeps freed memory resident (libcurl keeps the data of a paused
    transfer in buffers it allocates and frees), which would measure ASan, not the reader."""
    asan = os.environ.get("ASAN_OPTIONS", "")
    env = dict(os.environ, ASAN_OPTIONS=(asan + ":" if asan else "") + "quarantine_size_mb=0")
    line = b"%08d the quick brown fox jumps over the lazy dog\n"
    n = 64 * 1024 * 1024 // len(line % 0)
    os.makedirs(FX.local("/big"))
    with open(FX.local("/big/data.txt"), "wb") as f:
        for k in range(0, n, 100000):
            f.write(b"".join(line % i for i in range(k, min(n, k + 100000))))
    size = os.path.getsize(FX.local("/big/data.txt"))
    src = 'let lines = textFile("%s")\nlines.count().print()\n'
    exe, _ = build("big", src % FX.url("/big/data.txt"))
    r = ok(run(exe, ["--set", "maxRecordsPerBatch=20000"], env=env), "64 MB file")
    counts = [int(l) for l in r.out.splitlines() if l.strip().isdigit()]
    check(sum(counts) == n and len(counts) == (n + 19999) // 20000, "counted %d in %d batches, want %d"
          % (sum(counts), len(counts), n))
    exe_l, work_l = build("big-local", src % "data.txt")
    os.link(FX.local("/big/data.txt"), os.path.join(work_l, "data.txt"))
    local = ok(run(exe_l, ["--set", "maxRecordsPerBatch=20000"], env=env), "64 MB local file")
    check(local.out == r.out, "the local run counted otherwise")
    check(0 < r.maxrss < min(size >> 10, local.maxrss + 16 * 1024),
          "peak RSS %d KiB for a %d MB file (%d KiB on the local file)" % (r.maxrss, size >> 20, local.maxrss))
    os.unlink(FX.local("/big/data.txt"))


def tool(*args, stdin=b"", opts=()):
    p = subprocess.run([TOOL, *opts, *args], input=stdin, capture_output=True, timeout=60)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def tool_ok(*args, stdin=b""):
    rc, out, err = tool(*args, stdin=stdin)
    check(rc == 0, "storage_tool %s: %s" % (" ".join(args), err))
    return out


@test
def storage_layer_on_hdfs():
    """The storage calls on HDFS: files, listings, renames over a file, streaming reads,
    appends, a journal cut (rewrite, move aside, rename, delete) and its recovery after a
    crash at each step."""
    u = lambda p: FX.url("/st" + p)
    tool_ok("put", u("/a/f"), stdin=b"hello\n")
    check(open(FX.local("/st/a/f"), "rb").read() == b"hello\n", "put")
    check(tool_ok("cat", u("/a/f")) == "hello\n", "cat")
    check(tool_ok("stat", u("/a/f")) == "FILE 6\n" and tool_ok("stat", u("/a")) == "DIR 0\n", "stat")
    rc, _, err = tool("stat", u("/nope"))
    check(rc == 1 and "error -2:" in err and "FileNotFoundException" in err, "stat of nothing: %s" % err)
    tool_ok("put", u("/a/g"), stdin=b"other\n")
    tool_ok("mv", u("/a/g"), u("/a/f"))  # HDFS does not rename over a file: replaced
    check(open(FX.local("/st/a/f"), "rb").read() == b"other\n" and not os.path.exists(FX.local("/st/a/g")),
          "rename over a file")
    tool_ok("mkdirs", u("/b/c/d"))
    check(tool_ok("ls", u("/")) == "a\tDIR\nb\tDIR\n", "ls")
    rc, _, err = tool("ls", u("/a/f"))
    check(rc == 1 and "not a directory" in err, "ls of a file: %s" % err)
    blob = bytes((i * 7 + 3) % 256 for i in range(300000))
    tool_ok("put", u("/blob"), stdin=blob)
    FX.faults("drop-read:2")
    try:
        out = subprocess.run([TOOL, "read", u("/blob"), "1000", "250000"], capture_output=True, timeout=60)
    finally:
        FX.faults("clear")
    check(out.returncode == 0 and out.stdout == blob[1000:251000], "streaming read with drops: %s" % out.stderr)
    tool_ok("append", u("/j"), stdin=b"one\n")
    tool_ok("append", u("/j"), stdin=b"two\n")
    check(open(FX.local("/st/j"), "rb").read() == b"one\ntwo\n", "append")
    tool_ok("truncate", u("/j"), "4")
    check(open(FX.local("/st/j"), "rb").read() == b"one\n", "truncate")
    check(sorted(os.listdir(FX.local("/st"))) == ["a", "b", "blob", "j"], "leftovers: %s" % os.listdir(FX.local("/st")))
    # A crash during a cut: after the move aside (the file missing) ...
    FX.write("/st/r/w1", b"")
    os.rename(FX.local("/st/r/w1"), FX.local("/st/r/.w1.old"))
    FX.write("/st/r/.w1.trunc", b"cut")
    with open(FX.local("/st/r/.w1.old"), "wb") as f:
        f.write(b"whole")
    # ... and after the rename into place (the old one still there).
    FX.write("/st/r/w2", b"cut")
    FX.write("/st/r/.w2.old", b"whole")
    tool_ok("recover", u("/r"))
    check(sorted(os.listdir(FX.local("/st/r"))) == ["w1", "w2"], "recover: %s" % os.listdir(FX.local("/st/r")))
    check(open(FX.local("/st/r/w1"), "rb").read() == b"whole" and open(FX.local("/st/r/w2"), "rb").read() == b"cut",
          "recover kept the wrong files")
    tool_ok("rm", u("/b"), "-r")
    check(not os.path.exists(FX.local("/st/b")), "rm -r")


@test
def checkpoint_files_on_hdfs():
    """Checkpoint files on HDFS: committed (uploaded, then renamed), the two newest kept,
    valid (CRC-32C, trailer); a damaged newest one skipped with a warning and moved aside;
    temporaries cleaned; a commit through 5xx answers and refused DataNodes."""
    d = FX.url("/ck")
    for i, text in ((1, "one"), (2, "two"), (3, "three")):
        tool_ok("ckpt-write", d, str(i), text)
    names = sorted(os.listdir(FX.local("/ck")))
    check(names == ["ckpt-0000000000000000002", "ckpt-0000000000000000003"], "kept: %s" % names)
    for n in names:
        check(verify_checkpoint(FX.local("/ck/" + n)) is None, "%s does not verify" % n)
    check(tool_ok("ckpt-latest", d) == "3 three\n", "latest")
    check(tool_ok("ckpt-list", d) == "3\n2\n", "list")
    p = FX.local("/ck/ckpt-0000000000000000003")
    data = bytearray(open(p, "rb").read())
    data[5] ^= 0x40
    open(p, "wb").write(bytes(data))
    rc, out, err = tool("ckpt-latest", d)
    check(rc == 0 and out == "2 two\n" and "damaged" in err, "damaged newest: %s %s" % (out, err))
    check(sorted(os.listdir(FX.local("/ck"))) == [".ckpt-0000000000000000003.damaged", "ckpt-0000000000000000002"],
          "moved aside: %s" % os.listdir(FX.local("/ck")))
    FX.write("/ck/.ckpt-0000000000000000004.tmp", b"partial")
    os.makedirs(FX.local("/ck/.dir.tmp"))
    check(tool_ok("ckpt-clean", d) == "1\n", "clean")
    check(not os.path.exists(FX.local("/ck/.ckpt-0000000000000000004.tmp")) and os.path.isdir(FX.local("/ck/.dir.tmp")),
          "clean removed the wrong entries")
    FX.faults("5xx:3,refuse-datanode:1")
    try:
        rc, out, err = tool("ckpt-write", d, "5", "five")
    finally:
        FX.faults("clear")
    check(rc == 0 and err.count("job: hdfs: ") >= 4, "commit through faults: %s" % err)
    check(tool_ok("ckpt-latest", d) == "5 five\n", "latest after faults")
    tool_ok("ckpt-write", d, "5", "five again")  # over an existing name: replaced
    check(tool_ok("ckpt-latest", d) == "5 five again\n", "a checkpoint written again")
    rc, out, err = tool("ckpt-latest", FX.url("/ck-none"))
    check(rc == 1 and "error -2:" in err, "no directory: %s" % err)


@test
def journal_suite_on_hdfs():
    """check_rt_journal's tests with the journal's directory on HDFS (replay, cut of an
    incomplete batch and of a torn record, rotation)."""
    env = dict(os.environ, CHECK_HDFS_URL=FX.url("").rstrip("/"), CHECK_HDFS_ROOT=FX.root, CK_FORK="no")
    p = subprocess.run([JOURNAL_CHECK], capture_output=True, text=True, timeout=120, env=env)
    check(p.returncode == 0, "check_rt_journal on HDFS: %s %s" % (p.stdout[-2000:], p.stderr[-2000:]))
    check("100%" in p.stdout, "check_rt_journal: %s" % p.stdout)


# ----------------------------------------------------------------------------- main

def main():
    global DSC, TOOL, JOURNAL_CHECK
    if len(sys.argv) < 4:
        print(__doc__)
        sys.exit(2)
    DSC, TOOL, JOURNAL_CHECK = (os.path.abspath(a) for a in sys.argv[1:4])
    filters = sys.argv[4:]

    def started(fx, base):
        global FX, BASE
        FX, BASE = fx, base

    passed, failed = run_suite("dshdfsjobs-", TESTS, filters, started, fixture_name="shared",
                               keep=bool(os.environ.get("HDFS_KEEP")))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
