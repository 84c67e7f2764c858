"""Shared pieces of the recovery tests (tests/recovery/README.md): building jobs, running and
killing them, reading saveAsTextFiles directories, building a `batches` file from a run's raw
batches, comparing two runs, reading checkpoint files (CRC-32C), parsing print output.

Python 3 standard library only. Every process started through `spawn` is killed when the
test exits, however it exits.
"""
import atexit
import collections
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import tempfile
import time

# ---------------------------------------------------------------- processes

_live = set()
_tmpdirs = []


def _kill_all():
    for p in list(_live):
        if p.poll() is None:
            try:
                p.kill()
            except OSError:
                pass
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        _live.discard(p)


def _cleanup():
    _kill_all()
    if os.environ.get("RECOVERY_KEEP"):
        for d in _tmpdirs:
            print("kept %s" % d)
        return
    for d in _tmpdirs:
        shutil.rmtree(d, ignore_errors=True)


def _on_signal(signum, frame):
    _cleanup()
    os._exit(128 + signum)


atexit.register(_cleanup)
for _s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(_s, _on_signal)


def tempdir(tag):
    """A fresh directory, removed at exit (kept, and its path printed, with RECOVERY_KEEP=1)."""
    d = tempfile.mkdtemp(prefix="dsrec-%s-" % tag)
    _tmpdirs.append(d)
    return d


def _die_with_parent():
    """In the child: SIGKILL when the test process dies, even by SIGKILL (a ctest timeout),
    which no atexit handler sees (Linux PR_SET_PDEATHSIG; elsewhere nothing)."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def spawn(args, cwd, stdout=None, stderr=None, preexec_fn=None):
    """Starts a job in its own session (a ^C of the test does not reach it; we stop it)."""
    def pre():
        _die_with_parent()
        if preexec_fn:
            preexec_fn()
    p = subprocess.Popen(args, cwd=cwd, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
                         start_new_session=True, preexec_fn=pre)
    _live.add(p)
    return p


def reap(p, timeout=None):
    """Waits for p; returns its exit code (negative: the signal)."""
    rc = p.wait(timeout=timeout)
    _live.discard(p)
    return rc


def sigkill(p):
    if p.poll() is None:
        p.send_signal(signal.SIGKILL)
    return reap(p, timeout=10)


class Run:
    """One run of a job with stdout and stderr in files (never pipes: a killed job's output up
    to the kill must survive, and a pipe nobody reads would block the job)."""

    def __init__(self, exe, args, cwd, tag, preexec_fn=None):
        self.args = [exe] + list(args)
        self.cwd = cwd
        self.tag = tag
        logs = os.path.join(cwd, "logs")
        os.makedirs(logs, exist_ok=True)
        self.out_path = os.path.join(logs, tag + ".stdout")
        self.err_path = os.path.join(logs, tag + ".stderr")
        self._out = open(self.out_path, "wb")
        self._err = open(self.err_path, "wb")
        self.started = time.monotonic()
        self.p = spawn(self.args, cwd, stdout=self._out, stderr=self._err, preexec_fn=preexec_fn)
        self.rc = None
        self.killed = False

    def poll(self):
        return self.p.poll()

    def _close(self):
        self._out.close()
        self._err.close()

    def kill(self):
        """SIGKILL; returns None, or the exit code if the job had already exited by itself."""
        already = self.p.poll()
        self.rc = sigkill(self.p)
        self.killed = already is None
        self._close()
        return already

    def term(self, timeout=30):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        return self.wait(timeout)

    def wait(self, timeout=60):
        try:
            self.rc = reap(self.p, timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            self.rc = "timeout"
        self._close()
        return self.rc

    def stdout(self):
        with open(self.out_path, "rb") as fh:
            return fh.read().decode("utf-8", "replace")

    def stderr(self):
        with open(self.err_path, "rb") as fh:
            return fh.read().decode("utf-8", "replace")

    def describe(self):
        return "%s: %s (exit %s)\n  stderr: %s" % (self.tag, " ".join(self.args), self.rc,
                                                  tail(self.stderr(), 1500).replace("\n", "\n  stderr: "))


class PastRun:
    """The stdout of an earlier run, read from its file (e.g. in a copied directory)."""

    def __init__(self, cwd, tag, killed=False):
        self.cwd, self.tag, self.killed = cwd, tag, killed
        self.out_path = os.path.join(cwd, "logs", tag + ".stdout")

    def stdout(self):
        with open(self.out_path, "rb") as fh:
            return fh.read().decode("utf-8", "replace")


def run_job(exe, args, cwd, tag, timeout=60, preexec_fn=None):
    r = Run(exe, args, cwd, tag, preexec_fn=preexec_fn)
    r.wait(timeout)
    return r


def tail(text, n):
    text = text.rstrip("\n")
    return text if len(text) <= n else "..." + text[-n:]


# ---------------------------------------------------------------- building

def build(dsc, source_text, workdir, name):
    """Writes NAME.ds into workdir and builds NAME with dsc; raises Failure on an error."""
    src = os.path.join(workdir, name + ".ds")
    with open(src, "w", encoding="utf-8") as fh:
        fh.write(source_text)
    exe = os.path.join(workdir, name)
    b = subprocess.run([dsc, "build", src, "-o", exe], capture_output=True, text=True, timeout=180)
    if b.returncode != 0:
        raise Failure("dsc build %s failed (%d):\n%s" % (name, b.returncode, b.stderr[-3000:]))
    return exe


class Failure(Exception):
    pass


class Report:
    """Collects failures and notes of one test; `check` records a failure and goes on."""

    def __init__(self, name, echo=True):
        self.name = name
        self.echo = echo
        self.failures = []
        self.notes = []

    def fail(self, msg):
        self.failures.append(msg)
        if self.echo:
            print("  FAIL: " + msg.replace("\n", "\n    "), flush=True)
        else:
            print("  (expected) " + msg.split("\n")[0][:200], flush=True)

    def note(self, msg):
        self.notes.append(msg)
        print("  note: " + msg.replace("\n", "\n    "), flush=True)

    def check(self, cond, msg):
        if not cond:
            self.fail(msg)
        return cond

    def info(self, msg):
        print("  " + msg.replace("\n", "\n    "), flush=True)


# ---------------------------------------------------------------- saveAsTextFiles directories

_DIR_RE = re.compile(r"^(.+)-(\d+)$")
_PART_RE = re.compile(r"^part-\d{5}$")


class Outputs:
    """The saveAsTextFiles directories under one folder: out[prefix][time] = [lines] (the part
    files concatenated in order), and every problem seen: hidden leftovers (names starting
    with `.` or `_`), directories without `_SUCCESS`, unexpected files, wrong part counts."""

    def __init__(self, folder, partitions=None):
        self.folder = folder
        self.out = collections.defaultdict(dict)
        self.problems = []
        if not os.path.isdir(folder):
            return
        for name in sorted(os.listdir(folder)):
            path = os.path.join(folder, name)
            if name.startswith(".") or name.startswith("_"):
                self.problems.append("hidden leftover %s" % path)
                continue
            m = _DIR_RE.match(name)
            if not m or not os.path.isdir(path):
                self.problems.append("unexpected entry %s" % path)
                continue
            prefix, t = m.group(1), int(m.group(2))
            entries = sorted(os.listdir(path))
            parts = [e for e in entries if _PART_RE.match(e)]
            others = [e for e in entries if e not in parts and e != "_SUCCESS"]
            if "_SUCCESS" not in entries:
                self.problems.append("%s has no _SUCCESS" % path)
            if others:
                self.problems.append("%s holds unexpected entries %s" % (path, others))
            if parts != ["part-%05d" % i for i in range(len(parts))]:
                self.problems.append("%s: part files not numbered from 00000: %s" % (path, parts))
            if partitions is not None and len(parts) != partitions:
                self.problems.append("%s has %d part files, not %d" % (path, len(parts), partitions))
            lines = []
            for part in parts:
                with open(os.path.join(path, part), "rb") as fh:
                    data = fh.read().decode("utf-8", "replace")
                if data and not data.endswith("\n"):
                    self.problems.append("%s/%s does not end with a newline" % (path, part))
                lines += data.splitlines()
            self.out[prefix][t] = lines

    def times(self, prefix):
        return sorted(self.out.get(prefix, {}))

    def prefixes(self):
        return sorted(self.out)


def subset(outputs, prefixes, tmin=None, tmax=None):
    """An Outputs with only the given prefixes and times in [tmin, tmax]."""
    o = Outputs.__new__(Outputs)
    o.folder = outputs.folder
    o.problems = []
    o.out = collections.defaultdict(dict)
    for p in prefixes:
        for t, ls in outputs.out.get(p, {}).items():
            if (tmin is None or t >= tmin) and (tmax is None or t <= tmax):
                o.out[p][t] = ls
    return o


def snapshot_tree(folder):
    """{relative path: (size, mtime_ns)} of every file and directory under folder."""
    snap = {}
    for root, dirs, files in os.walk(folder):
        for n in dirs + files:
            p = os.path.join(root, n)
            st = os.lstat(p)
            snap[os.path.relpath(p, folder)] = (st.st_size if n in files else 0, st.st_mtime_ns)
    return snap


def diff_snapshots(before, after):
    out = []
    for k in sorted(set(before) | set(after)):
        if k not in before:
            out.append("new: " + k)
        elif k not in after:
            out.append("removed: " + k)
        elif before[k] != after[k]:
            out.append("changed: " + k)
    return out


# ---------------------------------------------------------------- the reference method

def write_batches_file(path, raw, batch_ms):
    """Writes a `batches(path)` file (§6) holding, for each grid time from the first to the
    last time in raw ({time: [lines]}), that batch's lines followed by a form-feed line; a grid
    time missing from raw (no batch there: a wall-clock restart skips the grid times of its
    downtime) becomes an empty batch. Returns (start_time, n_batches, gaps): run the reference
    with `--start-time start_time --batches n_batches` so that its batch i has time
    start_time + i*batch, the time of the i-th grid slot."""
    times = sorted(raw)
    if not times:
        raise Failure("no raw batches to build a reference from")
    first, last = times[0], times[-1]
    for t in times:
        if (t - first) % batch_ms:
            raise Failure("batch time %d is off the grid of %d ms batches starting at %d" % (t, batch_ms, first))
    gaps = []
    n = (last - first) // batch_ms + 1
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        for i in range(n):
            t = first + i * batch_ms
            if t not in raw:
                gaps.append(t)
            for line in raw.get(t, []):
                if "\n" in line or line == "\f" or line.endswith("\r"):
                    raise Failure("line %r cannot be written to a batches file" % line)
                fh.write(line + "\n")
            fh.write("\f\n")
    return first - batch_ms, n, gaps


def compare_outputs(got, ref, gaps, rep, label="chaos", ordered=("raw",), times=None, per_prefix=4):
    """Compares the saveAsTextFiles outputs of a run (got: Outputs) with a reference
    (ref: Outputs) at the same times. For every prefix and every time of `times` (default:
    the times of got's raw prefix): a directory in one must be in the other with the same
    lines — in order for the prefixes in `ordered` (no shuffle before them), as sorted
    multisets otherwise (order after a shuffle is unspecified, §7). At the gap times (grid
    times without a batch in got) got must have nothing. Shows the first `per_prefix`
    differences of each prefix, then a count per prefix. Returns the number of directories
    compared."""
    prefixes = sorted(set(got.prefixes()) | set(ref.prefixes()))
    if times is None:
        times = got.times("raw")
    times = sorted(times)
    compared = 0
    counts = {}
    for prefix in prefixes:
        g, r = got.out.get(prefix, {}), ref.out.get(prefix, {})
        bad = []

        def differ(msg):
            bad.append(msg)
            if len(bad) <= per_prefix:
                rep.fail(msg)
        for t in times:
            if t not in g and t not in r:
                continue
            if t not in g:
                differ("%s-%d: the reference has this batch, the %s run has not (reference: %s)"
                       % (prefix, t, label, excerpt(r[t])))
                continue
            if t not in r:
                differ("%s-%d: the %s run has this batch, the reference has not (%s: %s)"
                       % (prefix, t, label, label, excerpt(g[t])))
                continue
            compared += 1
            a, b = g[t], r[t]
            if prefix not in ordered:
                a, b = sorted(a), sorted(b)
            if a != b:
                differ("%s-%d differs from the reference:\n%s" % (prefix, t, line_diff(a, b, label)))
        for t in gaps:
            if t in g:
                differ("%s-%d exists in the %s run at a time the harness took for a gap" % (prefix, t, label))
        counts[prefix] = len(bad)
    if any(counts.values()):
        rep.fail("differences per output: %s (first at: %s)" % (
            ", ".join("%s %d" % (p, n) for p, n in sorted(counts.items())),
            ", ".join("%s %s" % (p, first_time(got, ref, p, times, ordered)) for p in sorted(counts) if counts[p])))
    return compared


def first_time(got, ref, prefix, times, ordered):
    g, r = got.out.get(prefix, {}), ref.out.get(prefix, {})
    for t in times:
        a, b = g.get(t), r.get(t)
        if a is not None and b is not None and prefix not in ordered:
            a, b = sorted(a), sorted(b)
        if a != b:
            return t
    return None


def excerpt(lines, n=6):
    if len(lines) <= n:
        return repr(lines)
    return repr(lines[:n])[:-1] + ", ... (%d lines)]" % len(lines)


def line_diff(got, want, label="got"):
    gc, wc = collections.Counter(got), collections.Counter(want)
    missing = list((wc - gc).elements())
    extra = list((gc - wc).elements())
    out = []
    if missing:
        out.append("  missing in the %s run: %s" % (label, excerpt(missing, 10)))
    if extra:
        out.append("  extra in the %s run:   %s" % (label, excerpt(extra, 10)))
    if not missing and not extra:
        out.append("  same lines, different order:\n    %s: %s\n    reference: %s"
                   % (label, excerpt(got, 10), excerpt(want, 10)))
    return "\n".join(out)


def check_clean(outputs, rep, what="output"):
    for p in outputs.problems[:20]:
        rep.fail("%s: %s" % (what, p))
    if len(outputs.problems) > 20:
        rep.fail("... %d problems in all" % len(outputs.problems))
    return not outputs.problems


# ---------------------------------------------------------------- print output

def print_batches(stdout):
    """[(time, [element lines], complete)] of a job's print output (§10: a header of three
    lines, the elements, then an empty line). `complete` is false for a block cut short (a
    kill while it was written: no empty line after it). Lines outside any block come back
    as ("junk", [line], False)."""
    out = []
    if stdout == "":
        return out
    lines = stdout.split("\n")
    if stdout.endswith("\n"):
        lines.pop()
    rule = "-" * 43
    i, n = 0, len(lines)
    while i < n:
        if lines[i] == rule and i + 2 < n and lines[i + 1].startswith("Time: ") and lines[i + 2] == rule:
            m = re.match(r"^Time: (\d+) ms$", lines[i + 1])
            t = int(m.group(1)) if m else lines[i + 1]
            i += 3
            elems, complete = [], False
            while i < n:
                if lines[i] == "":  # the empty line after a block (no element is "" here)
                    complete = True
                    i += 1
                    break
                elems.append(lines[i])
                i += 1
            out.append((t, elems, complete))
        else:
            out.append(("junk", [lines[i]], False))
            i += 1
    return out


def sorted_blocks(blocks):
    return [(t, sorted(e)) for t, e, _ in blocks]


def check_prints(runs, expected, rep):
    """The print output of all runs, concatenated, against an uninterrupted run's
    (`expected`: [(time, sorted elements)]), block by block: no batch lost, none printed
    twice. Order inside a block is not compared (§7).

    Tolerated, with a note: a run that follows a SIGKILL starting with a repeat of the blocks
    of the last batch the killed run printed, and a block the kill cut short. Both need the
    kill to land between the moment a batch's print reaches stdout and the moment the job
    records (durably) that it printed it. That window is a write() and the record — well
    under a millisecond without an fsync, about one fsync with it — against tens of
    milliseconds per batch here, so with ~10 kills per test it happens in well under one
    run in ten. A block that is lost, printed twice without a kill in between, or printed
    with other elements always fails."""
    ptr = 0
    prev_killed = False
    bad = 0
    for r in runs:
        blocks = print_batches(r.stdout())
        at_start = True
        for bi, (t, elems, complete) in enumerate(blocks):
            key = (t, sorted(elems))
            if t == "junk":
                bad += 1
                rep.fail("%s printed a line outside any print block: %r" % (r.tag, elems[0]))
                continue
            if not complete:
                if r.killed and bi == len(blocks) - 1 and ptr < len(expected) and expected[ptr][0] == t:
                    rep.note("%s: the kill cut the print block of %d short" % (r.tag, t))
                    continue
                bad += 1
                rep.fail("%s: incomplete print block at %s" % (r.tag, t))
                continue
            if ptr < len(expected) and key == expected[ptr]:
                ptr += 1
                at_start = False
                continue
            if at_start and prev_killed and ptr > 0:
                last_t = expected[ptr - 1][0]
                back = [j for j in range(ptr - 1, -1, -1) if expected[j][0] == last_t]
                if t == last_t and any(expected[j] == key for j in back):
                    rep.note("%s: printed the block of %d again after a kill that landed between its "
                             "print and its record" % (r.tag, t))
                    continue
            at_start = False
            bad += 1
            if bad <= 8:
                want = expected[ptr] if ptr < len(expected) else ("nothing more", [])
                rep.fail("%s: print block %d of this run is Time %s %s; expected Time %s %s" %
                         (r.tag, bi + 1, t, excerpt(key[1], 5), want[0], excerpt(want[1], 5)))
            # resynchronise on the next expected block equal to this one, if any
            for j in range(ptr, min(ptr + 20, len(expected))):
                if expected[j] == key:
                    rep.fail("  ... the blocks of %s before it were never printed" %
                             sorted({expected[i][0] for i in range(ptr, j)}))
                    ptr = j + 1
                    break
        prev_killed = r.killed
    if ptr < len(expected):
        rep.fail("print blocks never printed: times %s" % sorted({t for t, _ in expected[ptr:]})[:20])
    return ptr


# ---------------------------------------------------------------- metrics

def read_metrics(path):
    out = []
    if not os.path.exists(path):
        return out
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                out.append(json.loads(line))
            except ValueError:
                out.append({"unparsable": line})
    return out


def check_metrics(runs, had_ckpt, rep):
    """`recovered` (§12): true for the first batch after a restart from a checkpoint, false
    everywhere else. A killed run may have written no line at all."""
    restarts = 0
    for r, had in zip(runs, had_ckpt):
        m = read_metrics(os.path.join(r.cwd, "logs", r.tag + ".metrics"))
        if not m:
            continue
        flags = [x.get("recovered") for x in m]
        if any(type(f) is not bool for f in flags):
            rep.fail("%s: metrics lines without a boolean \"recovered\": %s" % (r.tag, excerpt(m, 3)))
            continue
        if had:
            restarts += 1
            rep.check(flags[0] is True, "%s started from a checkpoint but its first metrics line has "
                      "\"recovered\": %s: %s" % (r.tag, flags[0], m[0]))
        elif flags[0] and r is runs[0]:
            rep.fail("%s (the first start) has \"recovered\": true: %s" % (r.tag, m[0]))
        elif flags[0]:
            rep.note("%s: recovered=true on its first batch with no checkpoint at its start "
                     "(a restart from the journal alone)" % r.tag)
        later = [x for x in m[1:] if x.get("recovered")]
        rep.check(not later, "%s: \"recovered\": true after its first batch: %s" % (r.tag, excerpt(later, 3)))
    return restarts


# ---------------------------------------------------------------- checkpoint files

def _crc32c_table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        t.append(c)
    return t


_CRC_T = _crc32c_table()


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    t = _CRC_T
    for b in data:
        crc = t[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


MAGIC = b"\x89DSCKPT\n"
CKPT_RE = re.compile(r"^ckpt-(\d{19})$")
WAL_RE = re.compile(r"^wal-(\d{19})$")


def verify_checkpoint(path):
    """None if the file is a valid version-1 checkpoint (docs/checkpoint-format.md), else why."""
    with open(path, "rb") as fh:
        data = fh.read()
    if len(data) < 16 or data[-12:-4] != MAGIC:
        return "no magic at offset -12 (truncated or not a checkpoint)"
    crc = struct.unpack("<I", data[-4:])[0]
    if crc32c(data[:-4]) != crc:
        return "CRC-32C mismatch"
    version = struct.unpack("<I", data[-16:-12])[0]
    if version != 1:
        return "format version %d" % version
    if len(data) < 28:
        return "shorter than a trailer"
    length, flags = struct.unpack("<QI", data[-28:-16])
    if length != len(data) - 28 or flags != 0:
        return "inconsistent trailer (length %d of %d, flags %d)" % (length, len(data) - 28, flags)
    return None


def set_version(path, version):
    """Rewrites a checkpoint's format version, with a correct CRC: a file of another version,
    not a damaged one."""
    with open(path, "rb") as fh:
        data = bytearray(fh.read())
    data[-16:-12] = struct.pack("<I", version)
    data[-4:] = struct.pack("<I", crc32c(bytes(data[:-4])))
    with open(path, "wb") as fh:
        fh.write(data)


def checkpoints(ckdir):
    """[(batch index, name)] of the checkpoint files of a directory, oldest first."""
    if not os.path.isdir(ckdir):
        return []
    out = []
    for n in os.listdir(ckdir):
        m = CKPT_RE.match(n)
        if m:
            out.append((int(m.group(1)), n))
    return sorted(out)


def check_checkpoint_dir(ckdir, rep, final=True):
    """The checkpoint directory after a graceful stop: at most two checkpoints, each a valid
    file; no temporaries (cleaned at start, removed on a failed write) when final."""
    cks = checkpoints(ckdir)
    rep.check(cks, "no checkpoint in %s: %s" % (ckdir, sorted(os.listdir(ckdir)) if os.path.isdir(ckdir) else "no directory"))
    rep.check(len(cks) <= 2, "more than two checkpoints kept: %s" % [n for _, n in cks])
    for _, n in cks:
        why = verify_checkpoint(os.path.join(ckdir, n))
        rep.check(why is None, "checkpoint %s does not verify: %s" % (n, why))
    if final and os.path.isdir(ckdir):
        tmps = [n for n in os.listdir(ckdir) if n.startswith(".") and n.endswith(".tmp")]
        rep.check(not tmps, "temporaries left in %s: %s" % (ckdir, tmps))
    return cks


# ---------------------------------------------------------------- a WebHDFS fixture

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "webhdfs.py")


class WebHdfs:
    """tests/fixtures/webhdfs.py over `folder`/root on free loopback ports: a TEST FIXTURE
    that follows the documented WebHDFS protocol (NameNode + DataNode, 307 redirects,
    RemoteException bodies, fault injection), NOT Hadoop. Its files are the local files
    under `root`, which the tests read directly."""

    def __init__(self, folder, faults="", seed=0):
        import sys
        self.root = os.path.join(folder, "root")
        os.makedirs(self.root)
        port_file = os.path.join(folder, "ports.json")
        self.log = open(os.path.join(folder, "fixture.log"), "wb")
        self.p = spawn([sys.executable, FIXTURE, "--root", self.root, "--port-file", port_file,
                        "--faults", faults, "--seed", str(seed), "--exit-with-parent"],
                       folder, stdout=self.log, stderr=self.log)
        if not wait_until(lambda: os.path.exists(port_file) or self.p.poll() is not None, 15):
            raise Failure("the WebHDFS fixture did not start")
        if self.p.poll() is not None:
            raise Failure("the WebHDFS fixture exited (%s)" % self.p.returncode)
        with open(port_file) as fh:
            self.nn = json.load(fh)["namenode"]

    def url(self, path="/"):
        return "hdfs://127.0.0.1:%d%s" % (self.nn, path)

    def control(self, method, target):
        import urllib.request
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.nn, target), method=method)
        with urllib.request.urlopen(req, timeout=20) as resp:
            return resp.read()

    def faults(self, spec=None):
        """The fixture's faults (and the counts fired); with spec, merges it first."""
        import urllib.parse
        if spec is not None:
            return json.loads(self.control("POST", "/fixture/faults?" + urllib.parse.urlencode({"spec": spec})))
        return json.loads(self.control("GET", "/fixture/faults"))

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                reap(self.p, timeout=5)
            except subprocess.TimeoutExpired:
                sigkill(self.p)
        self.log.close()


# ---------------------------------------------------------------- misc

def env_int(name, default):
    v = os.environ.get(name)
    return int(v) if v else default


def wait_until(pred, timeout, step=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    return pred()


def raw_lines(folder):
    """{time: [lines]} of the raw-<ms> directories of folder; tolerant of directories being
    written at the same time (only complete ones, with _SUCCESS, count)."""
    out = {}
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return out
    for n in names:
        m = _DIR_RE.match(n)
        if not m or m.group(1) != "raw":
            continue
        path = os.path.join(folder, n)
        try:
            entries = sorted(os.listdir(path))
            if "_SUCCESS" not in entries:
                continue
            lines = []
            for e in entries:
                if _PART_RE.match(e):
                    with open(os.path.join(path, e), "rb") as fh:
                        lines += fh.read().decode("utf-8", "replace").splitlines()
        except FileNotFoundError:
            continue
        out[int(m.group(2))] = lines
    return out
