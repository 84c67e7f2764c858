"""The harness tested on itself, with jobs that need no checkpoint support: the CRC-32C and
checkpoint reader, the print parser, the `batches` file built from raw batches (gaps
included) and the comparison (it must see injected damage), an uninterrupted wall-clock job
compared with its reference (must agree), and the chaos loop on a job *without* checkpoints
(must find lost or repeated data: the checks can fail)."""
import os
import shutil
import struct

import chaos
from common import (Outputs, Report, compare_outputs, crc32c, print_batches, set_version,
                    tempdir, verify_checkpoint)


def _checkpoint_bytes(payload):
    t = struct.pack("<QII", len(payload), 0, 1) + b"\x89DSCKPT\n"
    body = payload + t
    return body + struct.pack("<I", crc32c(body))


def test_crc_and_reader(rep):
    rep.check(crc32c(b"123456789") == 0xE3069283, "CRC-32C check value wrong: %08x" % crc32c(b"123456789"))
    d = tempdir("self-ck")
    p = os.path.join(d, "ckpt-0000000000000000007")
    with open(p, "wb") as fh:
        fh.write(_checkpoint_bytes(b"some payload \x00\x01"))
    rep.check(verify_checkpoint(p) is None, "a well-formed checkpoint does not verify: %s" % verify_checkpoint(p))
    with open(p, "rb") as fh:
        good = fh.read()
    for what, data in (("flipped byte", good[:3] + bytes([good[3] ^ 0x40]) + good[4:]),
                       ("truncated", good[:len(good) // 2]), ("empty", b"")):
        with open(p, "wb") as fh:
            fh.write(data)
        rep.check(verify_checkpoint(p) is not None, "a %s checkpoint verifies" % what)
    with open(p, "wb") as fh:
        fh.write(good)
    set_version(p, 2)
    rep.check(verify_checkpoint(p) == "format version 2", "set_version: %s" % verify_checkpoint(p))


def test_print_parser(rep):
    rule = "-" * 43
    text = (rule + "\nTime: 1000 ms\n" + rule + "\n(a,1)\n(b,2)\n\n" +
            rule + "\nTime: 2000 ms\n" + rule + "\n\n" +
            rule + "\nTime: 3000 ms\n" + rule + "\n(c,3)\n")
    got = print_batches(text)
    want = [(1000, ["(a,1)", "(b,2)"], True), (2000, [], True), (3000, ["(c,3)"], False)]
    rep.check(got == want, "print_batches: %r" % got)


def test_reference_and_compare(dsc, rep):
    # raw batches with a gap at 1600 (as after a wall-clock restart) and an empty batch
    raw = {1000: ["k1 5 a", "k2 1 b"], 1200: [], 1400: ["k1 -5 c", "junk d"], 1800: ["k3 2 e"],
           2000: ["k1 1 f", "k1 1 g", "k2 7 h"]}
    ref, gaps = chaos.reference(dsc, raw, rep)
    rep.check(gaps == [1600], "gaps found: %r" % gaps)
    rep.check(ref.times("raw") == [1000, 1200, 1400, 1600, 1800, 2000], "reference raw times %r" % ref.times("raw"))
    rep.check(ref.out["raw"].get(1600) == [], "the gap is not an empty batch in the reference")
    for t, ls in raw.items():
        rep.check(ref.out["raw"].get(t) == ls, "reference raw-%d is %r, not %r" % (t, ref.out["raw"].get(t), ls))
    # window 600ms over (T-600, T]: at 2000 the batches 1600 (empty), 1800, 2000
    rep.check(sorted(ref.out["win"].get(2000, [])) == ["(k1,2)", "(k2,7)", "(k3,2)"],
              "reference win-2000: %r" % ref.out["win"].get(2000))
    rep.check(sorted(ref.out["totals"].get(2000, [])) == ["(k1,2)", "(k2,8)", "(k3,2)"],
              "reference totals-2000: %r" % ref.out["totals"].get(2000))
    # countByValueAndWindow(800ms, 400ms) with T0 = 800: outputs at 1200, 1600, 2000 only
    rep.check(ref.times("counts") == [1200, 1600, 2000], "reference counts times %r" % ref.times("counts"))

    # the same run seen as a "chaos" run without the gap directory: no difference
    folder = ref.folder
    base = tempdir("self-cmp")

    def variant(name, mutate):
        d = os.path.join(base, name)
        shutil.copytree(folder, d)
        for p in ("raw", "win", "totals", "counts"):
            shutil.rmtree(os.path.join(d, "%s-1600" % p), ignore_errors=True)
        mutate(d)
        return Outputs(d, 2)

    clean = variant("clean", lambda d: None)
    r = Report("compare-clean")
    n = compare_outputs(clean, ref, gaps, r)
    rep.check(not r.failures and not clean.problems and n == 17,
              "comparing a run with its own reference: %d compared, %r %r" % (n, r.failures, clean.problems))

    def edit(path, fn):
        with open(path) as fh:
            lines = fh.read().splitlines()
        lines = fn(lines)
        with open(path, "w") as fh:
            fh.write("".join(l + "\n" for l in lines))

    def part_with_data(d, name):
        """The part file of a directory with the most lines."""
        def count(p):
            with open(p) as fh:
                return len(fh.read().splitlines())
        parts = [os.path.join(d, name, p) for p in sorted(os.listdir(os.path.join(d, name)))
                 if p.startswith("part-")]
        return max(parts, key=count)

    mutations = {
        "line dropped": lambda d: edit(part_with_data(d, "win-2000"), lambda ls: ls[1:]),
        "line doubled": lambda d: edit(part_with_data(d, "raw-1000"), lambda ls: ls + ls[:1]),
        "value changed": lambda d: edit(part_with_data(d, "totals-1800"), lambda ls: [l.replace(",", ",9") for l in ls]),
        "order changed": lambda d: edit(part_with_data(d, "raw-2000"), lambda ls: ls[::-1]),
        "directory lost": lambda d: shutil.rmtree(os.path.join(d, "totals-1400")),
        "batch at a gap": lambda d: shutil.copytree(os.path.join(d, "win-1800"), os.path.join(d, "win-1600")),
    }
    before = len(rep.failures)
    for what, fn in mutations.items():
        v = variant(what.replace(" ", "_"), fn)
        r = Report("compare-" + what, echo=False)
        compare_outputs(v, ref, gaps, r)
        rep.check(r.failures, "the comparison does not see a %s" % what)
    if len(rep.failures) == before:
        rep.info("the comparison saw each of the %d injected differences" % len(mutations))
    for what, fn in {"hidden leftover": lambda d: os.mkdir(os.path.join(d, ".raw-2200.tmp")),
                     "no _SUCCESS": lambda d: os.remove(os.path.join(d, "win-1000", "_SUCCESS")),
                     "part file missing": lambda d: os.remove(os.path.join(d, "raw-1200", "part-00001"))}.items():
        v = variant(what.replace(" ", "_"), fn)
        rep.check(v.problems, "the output reader does not see a %s" % what)


def run(dsc):
    rep = Report("selftest")
    test_crc_and_reader(rep)
    test_print_parser(rep)
    test_reference_and_compare(dsc, rep)
    # an uninterrupted job without checkpoints must agree with its reference exactly
    rep.info("uninterrupted textFiles job without a checkpoint:")
    r = Report("uninterrupted")
    chaos.test_files(dsc, 1, 0, 0, checkpoint=False, rep=r, settle=2.0)
    for f in r.failures:
        rep.fail("uninterrupted run: " + f)
    # the chaos loop on a job without checkpoints: restarts reread the directory, so the
    # exactly-once checks must fail
    rep.info("3 kills of a job without a checkpoint (failures expected here):")
    r = Report("no-checkpoint", echo=False)
    chaos.test_files(dsc, 2, 3, 1, checkpoint=False, rep=r, settle=0.5)
    rep.check(r.failures, "killing a job without checkpoints went unnoticed")
    return rep
