#!/usr/bin/env python3
"""Recovery tests: checkpoints, the batch journal and restarts (issue 5).

    python3 tests/recovery/run.py build/bin/dsc TEST...

TEST is one of: selftest restarts chaos_files chaos_socket chaos_hdfs bounded damage fulldisk compat
(or all).
Environment: RECOVERY_SEED=N repeats a chaos run's kill moments (the seed is printed),
RECOVERY_KILLS=N changes the number of kills (default 22),
RECOVERY_DOWNTIMES=N how many of the restarts wait a while first (default 3), RECOVERY_KEEP=1 keeps the
temporary directories (their paths are printed). See README.md beside this file.
The last line printed is "N passed, M failed"; the exit code is 1 when a test failed.
"""
import os
import sys
import time
import traceback

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402

TESTS = ["selftest", "restarts", "chaos_files", "chaos_socket", "chaos_hdfs", "bounded", "damage", "fulldisk",
         "compat"]


def run_one(dsc, name):
    if name == "selftest":
        import selftest
        return selftest.run(dsc)
    if name == "restarts":
        import chaos
        return chaos.test_restarts(dsc)
    if name == "chaos_files":
        import chaos
        return chaos.run(dsc, "files")
    if name == "chaos_socket":
        import chaos
        return chaos.run(dsc, "socket")
    if name == "chaos_hdfs":
        import chaos
        return chaos.run(dsc, "hdfs")
    if name in ("bounded", "damage", "fulldisk"):
        import bounded
        return getattr(bounded, "test_" + name)(dsc)
    if name == "compat":
        import compat
        return compat.run(dsc)
    raise SystemExit("unknown test %r; known: %s" % (name, " ".join(TESTS)))


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        sys.exit(2)
    dsc = os.path.abspath(sys.argv[1])
    names = sys.argv[2:]
    if names == ["all"]:
        names = TESTS
    passed = failed = 0
    for name in names:
        print("== %s" % name, flush=True)
        t0 = time.monotonic()
        try:
            rep = run_one(dsc, name)
            fails = rep.failures
        except common.Failure as e:
            fails = [str(e)]
            print("  FAIL: " + str(e).replace("\n", "\n    "), flush=True)
        except Exception:
            fails = ["harness error"]
            traceback.print_exc()
        dt = time.monotonic() - t0
        if fails:
            failed += 1
            print("FAIL %s (%d problems, %.1f s)" % (name, len(fails), dt), flush=True)
        else:
            passed += 1
            print("ok %s (%.1f s)" % (name, dt), flush=True)
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
