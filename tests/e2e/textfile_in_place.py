#!/usr/bin/env python3
"""textFile read in place (runtime/source_textfile.c): when the only reader of a textFile is
a combine stage that keeps nothing of its lines, the source keeps no text and each stage task
reads its partition's bytes again, one chunk's lines at a time. These tests compile real jobs
with dsc, run them on generated files and compare every batch with counts computed here.

    python3 tests/e2e/textfile_in_place.py build/bin/dsc

- Lines of every shape: empty, CRLF, a lone '\\r' inside, long lines that span the source's
  512 KiB chunks, lines longer than a chunk, a last line without '\\n' (and one ending in
  '\\r'), with batches that end inside a chunk, on 1 and 2 threads and 1 to 3 partitions;
  each line is a key (map to (l, 1), reduceByKey), so one byte wrong anywhere shows. The
  same through flatMap(words) + countByValue.
- A job stopped with --batches and resumed from its checkpoint writes what an
  uninterrupted run writes.
- The file shrinking under the job (the bytes of the next batch are read again and are
  gone) stops the job with exit code 1 and a message; this also shows that the in-place
  path was taken, as a job that keeps its text would not notice.
The last line printed is "N passed, M failed".
"""
import collections
import os
import random
import subprocess
import sys
import tempfile

DSC = None

LINES_JOB = """\
textFile("in.txt").map(l => (l, 1)).reduceByKey((a, b) => a + b).saveAsTextFiles("out/l")
"""
WORDS_JOB = """\
textFile("in.txt").flatMap(l => words(l)).countByValue().saveAsTextFiles("out/w")
"""
PRINT_JOB = """\
textFile("in.txt").map(l => (l, 1)).reduceByKey((a, b) => a + b).print(100000)
"""


def build(workdir, name, source):
    path = os.path.join(workdir, name + ".ds")
    with open(path, "w") as f:
        f.write(source)
    exe = os.path.join(workdir, name)
    subprocess.run([DSC, "build", path, "-o", exe], check=True)
    return exe


def generate(seed):
    """Bytes of a file with lines of every shape (see the docstring)."""
    rng = random.Random(seed)
    vocab = ["GET", "/index.html", "200", "a", "bb", "héllo", "x,y", "(p)", "\t", "zz"]
    common = [" ".join(rng.choice(vocab) for _ in range(rng.randint(1, 6))) for _ in range(50)]
    out = []
    for i in range(30000):
        r = rng.random()
        if r < 0.05:
            line = ""
        elif r < 0.5:
            line = rng.choice(common)
        elif r < 0.95:
            line = " ".join(rng.choice(vocab) for _ in range(rng.randint(1, 40)))
        elif r < 0.999:
            line = "".join(rng.choice("abcdef ") for _ in range(rng.randint(200, 6000)))
        else:
            line = "long" + "q" * rng.randint(300_000, 1_300_000)
        if rng.random() < 0.01:
            line = line[: len(line) // 2] + "\r" + line[len(line) // 2:]
        out.append(line.encode() + (b"\r\n" if rng.random() < 0.1 else b"\n"))
    return b"".join(out) + b"last line\r"  # no '\n' at the end; its '\r' is dropped


def file_lines(data):
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    return [l[:-1] if l.endswith(b"\r") else l for l in lines]


def expected_batches(data, per_batch, by_words):
    lines = file_lines(data)
    out = []
    for i in range(0, len(lines), per_batch):
        batch = lines[i:i + per_batch]
        if by_words:
            out.append(collections.Counter(w for l in batch for w in l.split()))
        else:
            out.append(collections.Counter(batch))
    return out


def job_batches(outdir, prefix):
    """[Counter] of the batch directories prefix-<ms>, in time order."""
    dirs = sorted((int(d[len(prefix) + 1:]), d) for d in os.listdir(outdir) if d.startswith(prefix + "-"))
    out = []
    for _, d in dirs:
        c = collections.Counter()
        path = os.path.join(outdir, d)
        if not os.path.exists(os.path.join(path, "_SUCCESS")):
            raise AssertionError(d + " has no _SUCCESS")
        for part in sorted(os.listdir(path)):
            if not part.startswith("part-"):
                continue
            with open(os.path.join(path, part), "rb") as f:
                data = f.read()
            for row in data.split(b"\n")[:-1]:
                key, n = row[1:-1].rsplit(b",", 1)
                if key in c:
                    raise AssertionError(f"{d}: key {key[:40]!r} appears twice")
                c[key] = int(n)
        out.append(c)
    return out


def compare(got, want, what):
    if len(got) != len(want):
        raise AssertionError(f"{what}: {len(got)} batches, expected {len(want)}")
    for i, (g, w) in enumerate(zip(got, want)):
        if g != w:
            missing = list((w - g).items())[:3]
            extra = list((g - w).items())[:3]
            raise AssertionError(f"{what}: batch {i + 1} differs; missing {missing!r:.300} extra {extra!r:.300}")


def run(exe, cwd, args):
    p = subprocess.run([exe, "--quiet"] + args, cwd=cwd, capture_output=True, timeout=120)
    if p.returncode != 0:
        raise AssertionError(f"exit {p.returncode}: {p.stderr.decode()[-500:]}")


def test_shapes(tmp):
    data = generate(7)
    lines_exe = build(tmp, "lines", LINES_JOB)
    words_exe = build(tmp, "words", WORDS_JOB)
    cases = [("1", "1", 1_000_000), ("2", "3", 1000), ("2", "2", 7777), ("1", "3", 29999), ("2", "2", 7)]
    for threads, parts, per_batch in cases:
        work = tempfile.mkdtemp(dir=tmp)
        with open(os.path.join(work, "in.txt"), "wb") as f:
            f.write(data if per_batch != 7 else data[:20000] + b"x\r\n\r\n\n\rlast\r")
        settings = ["--set", "threads=" + threads, "--set", "partitions=" + parts,
                    "--set", f"maxRecordsPerBatch={per_batch}"]
        what = f"threads={threads} partitions={parts} maxRecordsPerBatch={per_batch}"
        with open(os.path.join(work, "in.txt"), "rb") as f:
            content = f.read()
        run(lines_exe, work, settings)
        compare(job_batches(os.path.join(work, "out"), "l"), expected_batches(content, per_batch, False),
                "lines, " + what)
        if per_batch in (1000, 1_000_000):
            run(words_exe, work, settings)
            compare(job_batches(os.path.join(work, "out"), "w"), expected_batches(content, per_batch, True),
                    "words, " + what)


def test_resume(tmp):
    data = generate(11)
    exe = build(tmp, "resume", LINES_JOB)
    settings = ["--set", "maxRecordsPerBatch=4000", "--set", "partitions=2"]
    work = tempfile.mkdtemp(dir=tmp)
    with open(os.path.join(work, "in.txt"), "wb") as f:
        f.write(data)
    run(exe, work, settings + ["--checkpoint", "ckpt", "--batches", "3"])
    if len(job_batches(os.path.join(work, "out"), "l")) != 3:
        raise AssertionError("--batches 3 did not stop after 3 batches")
    run(exe, work, settings + ["--checkpoint", "ckpt"])
    compare(job_batches(os.path.join(work, "out"), "l"), expected_batches(data, 4000, False), "resumed")


def test_shrinking_file(tmp):
    # 3000 distinct lines of ~200 bytes, 1000 a batch: batch 1 prints ~200 KB, more than a
    # pipe holds, so the job waits inside batch 1's print until this script reads. The first
    # round read the whole file (one chunk), so batch 2's lines are read again from the file,
    # which is empty by then.
    exe = build(tmp, "shrink", PRINT_JOB)
    work = tempfile.mkdtemp(dir=tmp)
    path = os.path.join(work, "in.txt")
    with open(path, "w") as f:
        for i in range(3000):
            f.write(f"{i:05d} " + "s" * 200 + "\n")
    p = subprocess.Popen([exe, "--quiet", "--set", "maxRecordsPerBatch=1000"], cwd=work,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = p.stdout.readline()
    if not first.startswith(b"---"):
        raise AssertionError(f"unexpected first line {first!r}")
    os.truncate(path, 0)
    rest = p.stdout.read()
    err = p.stderr.read().decode()
    rc = p.wait(timeout=60)
    if rc != 1 or "shorter than it was" not in err:
        raise AssertionError(f"exit {rc}, stderr {err!r}")
    if rest.count(b"Time: ") != 1:  # batch 1's header; no batch 2 from bytes that are gone
        raise AssertionError(f"{rest.count(b'Time: ')} batches printed, expected 1")


def main():
    global DSC
    DSC = os.path.abspath(sys.argv[1])
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, fn in [("shapes", test_shapes), ("resume", test_resume), ("shrinking_file", test_shrinking_file)]:
            try:
                fn(tmp)
                print("PASS", name)
                passed += 1
            except Exception as e:  # noqa: BLE001 - report and go on
                print("FAIL", name, e)
                failed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
