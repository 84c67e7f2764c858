#!/usr/bin/env python3
"""End-to-end tests: compile .ds programs with dsc, run them, compare what they print.

    python3 tests/e2e/run.py build/bin/dsc tests/e2e [--update] [NAME_FILTER...]

Each case is NAME.ds, found by scanning the folder, with beside it:
  NAME.out      the exact stdout of the job (required unless NAME.files exists)
  NAME.files    the files the job wrote: for each file under the working directory
                that is not an input, sorted by path, a line "== PATH" then its content
  NAME.*        anything else named in an `// input:` line
Directives in the .ds, as comments:
  // input: NAME.in.txt as in.txt   copy a file into the job's working directory
  // args: --batches 5              the job's command line
  // expect-exit: N                 the job's exit code (default 0)
  // expect-stderr: TEXT            a line of the job's stderr must contain TEXT
  // build-args: -O0                extra dsc build arguments
  // sort-output                    sort the elements inside each printed batch before
                                    comparing (for operators whose order is unspecified)
The job runs in a fresh temporary directory with a 60 s timeout. --update rewrites
NAME.out / NAME.files from the current output (read the diff before committing).
The last line printed is "N passed, M failed".
"""
import os
import shutil
import subprocess
import sys
import tempfile


def directives(text, key):
    out = []
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("// " + key + ":"):
            out.append(s[len(key) + 4:].strip())
    return out


def dump_files(workdir, inputs):
    parts = []
    for root, dirs, files in os.walk(workdir):
        dirs.sort()
        for f in sorted(files):
            path = os.path.relpath(os.path.join(root, f), workdir)
            if path in inputs or path == "job":
                continue
            with open(os.path.join(root, f), "rb") as fh:
                content = fh.read().decode("utf-8", "replace")
            parts.append("== " + path + "\n" + content)
    return "".join(p if p.endswith("\n") else p + "\n" for p in parts)


def sort_batches(stdout):
    """Sorts the element lines of each print block (order after a shuffle is unspecified)."""
    out, block = [], []
    for line in stdout.split("\n"):
        if line.startswith("---") or line.startswith("Time: ") or line == "" or line == "...":
            out += sorted(block)
            block = []
            out.append(line)
        else:
            block.append(line)
    out += sorted(block)
    return "\n".join(out)


def run_case(dsc, path, update):
    base = path[:-3]
    name = os.path.basename(base)
    folder = os.path.dirname(path)
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    work = tempfile.mkdtemp(prefix="dse2e-")
    try:
        inputs = set()
        for spec in directives(text, "input"):
            src, _, dst = spec.partition(" as ")
            dst = dst.strip() or src
            shutil.copy(os.path.join(folder, src.strip()), os.path.join(work, dst))
            inputs.add(dst)
        build = [dsc, "build", path, "-o", os.path.join(work, "job")]
        for extra in directives(text, "build-args"):
            build += extra.split()
        b = subprocess.run(build, capture_output=True, text=True, timeout=60)
        if b.returncode != 0:
            return "dsc build failed (%d): %s" % (b.returncode, b.stderr.strip()[:2000])
        args = []
        for a in directives(text, "args"):
            args += a.split()
        try:
            r = subprocess.run([os.path.join(work, "job")] + args, cwd=work, capture_output=True,
                               timeout=60, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            return "timeout: the job ran for more than 60 s"
        stdout = r.stdout.decode("utf-8", "replace")
        if "// sort-output" in text:
            stdout = sort_batches(stdout)
        stderr = r.stderr.decode("utf-8", "replace")
        want_exit = int((directives(text, "expect-exit") or ["0"])[0])
        if r.returncode < 0:
            return "the job died of signal %d\n%s" % (-r.returncode, stderr[-2000:])
        if r.returncode != want_exit:
            return "exit code %d, expected %d\n%s" % (r.returncode, want_exit, stderr[-2000:])
        for want in directives(text, "expect-stderr"):
            if want not in stderr:
                return "stderr lacks %r:\n%s" % (want, stderr[-2000:])
        checked = False
        for suffix, got in ((".out", stdout), (".files", None)):
            exp_path = base + suffix
            if got is None:
                if not os.path.exists(exp_path):
                    continue
                got = dump_files(work, inputs)
            if update and (os.path.exists(exp_path) or suffix == ".out"):
                with open(exp_path, "w", encoding="utf-8") as fh:
                    fh.write(got)
                checked = True
                continue
            if not os.path.exists(exp_path):
                continue
            checked = True
            with open(exp_path, encoding="utf-8") as fh:
                want = fh.read()
            if got != want:
                gl, wl = got.splitlines(), want.splitlines()
                for i in range(max(len(gl), len(wl))):
                    g = gl[i] if i < len(gl) else "<end>"
                    w = wl[i] if i < len(wl) else "<end>"
                    if g != w:
                        return "%s differs at line %d: got %r, expected %r" % (suffix, i + 1, g, w)
                return "%s differs" % suffix
        if not checked:
            return "no %s.out or %s.files to compare with" % (name, name)
        return None
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    update = "--update" in sys.argv
    dsc, root, filters = os.path.abspath(args[0]), args[1], args[2:]
    cases = []
    for dirpath, _, files in os.walk(root):
        for f in files:
            if f.endswith(".ds"):
                cases.append(os.path.join(dirpath, f))
    cases.sort()
    passed = failed = 0
    for path in cases:
        rel = os.path.relpath(path, root)
        if filters and not any(f in rel for f in filters):
            continue
        err = run_case(dsc, path, update)
        if err:
            failed += 1
            print("FAIL %s: %s" % (rel, err))
        else:
            passed += 1
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
