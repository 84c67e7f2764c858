#!/usr/bin/env python3
"""Golden tests of `dsc` (docs/language.md is the contract).

Usage: python3 tests/compile/run.py PATH/TO/dsc tests/compile [-v] [--update-plans] [NAME_FILTER...]

NAME_FILTER: run only the cases whose path (relative to the test directory, e.g.
`lex/duration_bad_unit.ds`, `robust/empty_file.ds`) contains one of the filters.
-v: print the details of each failure (diagnostics seen, diff) under its line.

Every `*.ds` file under the test directory (recursively, sorted) is one case.
Expectations are comments inside the file:

  // expect-error: LINE:COL substring   one per expected error, in the order the
                                       errors are printed; the substring (may be
                                       empty) must occur in the text after
                                       "error: " (case-sensitive)
  // expect-exit: N                    the expected exit code (default: 1 with
                                       expect-error lines, else 0)
  // args: check --foo                 the dsc arguments; FILE is appended unless
                                       {FILE} appears (it is replaced inside an
                                       argument too: {FILE}.missing)

Without expect-error lines the program is valid: `dsc check FILE` exits 0 and
prints nothing at all. With them, `dsc check FILE` exits 1 and stderr holds
exactly those errors (`PATH:LINE:COL: error: MESSAGE`, each followed by the
source line and a caret line; `note:`/`warning:` lines and lines indented by two
spaces may come in between). NAME.stderr next to NAME.ds: the whole stderr must
equal it (`{FILE}` stands for the path as passed). NAME.plan: `dsc plan FILE`
exits 0 and its stdout equals the file (`--update-plans` rewrites existing
.plan files from the current output).

Robustness cases (huge, deeply nested, binary and random inputs) are generated
into a temporary directory; they only require: no crash, no hang (10 s), exit 0
or 1, and at least one error line when the input is invalid.

The last line printed is exactly `N passed, M failed`; the exit code is 0 iff M == 0.
"""

import os
import random
import re
import shutil
import subprocess
import sys
import tempfile

TIMEOUT = 10  # seconds per dsc invocation
SHOWN_LINE_MAX = 200  # dsc shows at most this many bytes of a long source line

EXPECT_ERROR = re.compile(rb"//\s*expect-error:\s*(\d+):(\d+)(?: (.*))?$")
EXPECT_EXIT = re.compile(rb"//\s*expect-exit:\s*(-?\d+)\s*$")
ARGS = re.compile(rb"//\s*args:(.*)$")
DIAG = re.compile(rb"^(.*?):(\d+):(\d+): (error|note|warning): (.*)$")
DIAG_NOLOC = re.compile(rb"^(.*?): (error|note|warning): (.*)$")
SANITIZER = re.compile(rb"(AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|"
                       rb"MemorySanitizer|ThreadSanitizer|runtime error: )")


class Failure(Exception):
    def __init__(self, reason, details=()):
        super().__init__(reason)
        self.reason = reason
        self.details = list(details)


def show(b):
    """Bytes for a one-line message."""
    s = b.decode("utf-8", "backslashreplace")
    return s if len(s) <= 160 else s[:157] + "..."


def run_dsc(dsc, args, cwd=None):
    try:
        p = subprocess.run([dsc] + args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=TIMEOUT, cwd=cwd)
    except subprocess.TimeoutExpired:
        raise Failure("timeout: dsc %s did not finish within %d s" % (" ".join(args[:1]), TIMEOUT))
    except OSError as e:
        raise Failure("cannot run %s: %s" % (dsc, e))
    if p.returncode < 0:
        raise Failure("crash: dsc was killed by signal %d" % -p.returncode,
                      p.stderr.splitlines()[-5:])
    if SANITIZER.search(p.stderr):
        raise Failure("sanitizer report on stderr", [l for l in p.stderr.splitlines()
                                                      if SANITIZER.search(l)][:5])
    return p


def parse_case(data):
    """The expectations written in a .ds file."""
    errors, exit_code, args = [], None, None
    for raw in data.split(b"\n"):
        line = raw.rstrip(b"\r")
        m = EXPECT_ERROR.search(line)
        if m:
            sub = (m.group(3) or b"").rstrip()
            errors.append((int(m.group(1)), int(m.group(2)), sub))
            continue
        m = EXPECT_EXIT.search(line)
        if m:
            exit_code = int(m.group(1))
            continue
        m = ARGS.search(line)
        if m:
            args = m.group(1).decode().split()
    return errors, exit_code, args


def source_lines(data):
    return [l[:-1] if l.endswith(b"\r") else l for l in data.split(b"\n")]


def check_errors(path, data, stderr, expected):
    """Compare the diagnostics on stderr with the expected (line, col, substring) list."""
    lines = stderr.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    src = source_lines(data)
    got = []  # (line, col, message)
    problems = []
    i = 0
    while i < len(lines):
        l = lines[i]
        m = DIAG.match(l)
        if m:
            kind = m.group(4)
            if m.group(1) != path.encode():
                problems.append("diagnostic names %s, not the file %s" % (show(m.group(1)), path))
            ln, col = int(m.group(2)), int(m.group(3))
            if kind == b"error":
                got.append((ln, col, m.group(5)))
            # the source line and the caret line
            if i + 2 >= len(lines) or not lines[i + 1].startswith(b"  ") \
                    or not lines[i + 2].startswith(b"  "):
                problems.append("%d:%d: no source line and caret line after the %s"
                                % (ln, col, kind.decode()))
                i += 1
                continue
            shown, caret = lines[i + 1][2:], lines[i + 2][2:]
            want = src[ln - 1] if 1 <= ln <= len(src) else None
            if want is not None and len(want) <= SHOWN_LINE_MAX \
                    and not any(c < 0x20 and c != 9 for c in want) and shown != want:
                problems.append("%d:%d: source line shown as %r, not %r"
                                % (ln, col, show(shown), show(want)))
            if want is not None and len(want) <= SHOWN_LINE_MAX:
                if caret.count(b"^") != 1 or caret.rstrip() != caret or not caret.endswith(b"^") \
                        or caret.index(b"^") != col - 1 or caret[:col - 1].strip(b" \t"):
                    problems.append("%d:%d: caret line %r does not put '^' at byte %d"
                                    % (ln, col, show(lines[i + 2]), 2 + col - 1))
            i += 3
            continue
        m = DIAG_NOLOC.match(l)
        if m and m.group(2) in (b"note", b"warning"):
            i += 1
            continue
        if m and m.group(2) == b"error":
            problems.append("error without a position: %s" % show(l))
            got.append((0, 0, m.group(3)))
            i += 1
            continue
        if l.startswith(b"  "):
            i += 1
            continue
        problems.append("unexpected stderr line: %s" % show(l))
        i += 1

    want_pos = [(l, c) for l, c, _ in expected]
    got_pos = [(l, c) for l, c, _ in got]
    if got_pos != want_pos:
        k = next(k for k in range(max(len(got), len(want_pos)))
                 if k >= len(got) or k >= len(want_pos) or got_pos[k] != want_pos[k])
        first = ("first difference: %d:%d: error: %s" % (got[k][0], got[k][1], show(got[k][2]))
                 if k < len(got) else "first difference: no error reported for %d:%d" % want_pos[k])
        details = [first,
                   "expected: %s" % " ".join("%d:%d" % p for p in want_pos),
                   "got:      %s" % " ".join("%d:%d" % p for p in got_pos)]
        details += ["  " + show(l) for l in lines if DIAG.match(l) or DIAG_NOLOC.match(l)][:12]
        raise Failure("errors reported at %s, expected at %s"
                      % (",".join("%d:%d" % p for p in got_pos) or "nothing",
                         ",".join("%d:%d" % p for p in want_pos)), details)
    for (ln, col, sub), (_, _, msg) in zip(expected, got):
        if sub not in msg:
            raise Failure("%d:%d: message %r does not contain %r" % (ln, col, show(msg), show(sub)))
    if problems:
        raise Failure(problems[0], problems[1:6])


def run_case(dsc, path, update_plans):
    with open(path, "rb") as f:
        data = f.read()
    expected, exit_code, args = parse_case(data)
    if args is None:
        args = ["check"]
    if any("{FILE}" in a for a in args):
        argv = [a.replace("{FILE}", path) for a in args]
    else:
        argv = args + [path]
    if exit_code is None:
        exit_code = 1 if expected else 0
    p = run_dsc(dsc, argv)
    if p.returncode != exit_code:
        tail = [show(l) for l in p.stderr.splitlines()[:8]]
        raise Failure("exit code %d, expected %d" % (p.returncode, exit_code), tail)
    base = path[:-3]
    if os.path.exists(base + ".stderr"):
        with open(base + ".stderr", "rb") as f:
            want = f.read().replace(b"{FILE}", path.encode())
        if p.stderr != want:
            wl, gl = want.split(b"\n"), p.stderr.split(b"\n")
            n = next((k for k in range(max(len(wl), len(gl)))
                      if k >= len(wl) or k >= len(gl) or wl[k] != gl[k]), 0)
            raise Failure("stderr differs from %s.stderr at line %d" % (os.path.basename(base), n + 1),
                          ["- " + show(wl[n]) if n < len(wl) else "- <end>",
                           "+ " + show(gl[n]) if n < len(gl) else "+ <end>"])
    if expected:
        check_errors(path, data, p.stderr, expected)
    elif exit_code == 0:
        if p.stderr:
            raise Failure("valid program, but dsc printed on stderr",
                          [show(l) for l in p.stderr.splitlines()[:8]])
        if argv[0] == "check" and p.stdout:
            raise Failure("dsc check printed on stdout", [show(l) for l in p.stdout.splitlines()[:8]])
    if os.path.exists(base + ".plan"):
        q = run_dsc(dsc, ["plan", path])
        if q.returncode != 0:
            raise Failure("dsc plan: exit code %d" % q.returncode,
                          [show(l) for l in q.stderr.splitlines()[:8]])
        if update_plans:
            with open(base + ".plan", "wb") as f:
                f.write(q.stdout)
        else:
            with open(base + ".plan", "rb") as f:
                want = f.read()
            if q.stdout != want:
                wl, gl = want.split(b"\n"), q.stdout.split(b"\n")
                n = next((k for k in range(max(len(wl), len(gl)))
                          if k >= len(wl) or k >= len(gl) or wl[k] != gl[k]), 0)
                raise Failure("plan differs from %s.plan at line %d" % (os.path.basename(base), n + 1),
                              ["- " + show(wl[n]) if n < len(wl) else "- <end>",
                               "+ " + show(gl[n]) if n < len(gl) else "+ <end>"])


# ---------------------------------------------------------------------------
# Robustness cases, generated on the fly.
# kind: "error" (must report at least one error, exit 1), "valid" (exit 0, no
# output) or "any" (exit 0 with no error line, or exit 1 with at least one).
# docs/language.md section 14: at most 256 open brackets and expressions nested at
# most 1000 deep; deeper input gets an error, never a crash.

OUT = b'let lines = socket("localhost", 9999)\nlines.print()\n'
MB10 = 10 * 1024 * 1024


def robustness_cases():
    rng = random.Random(20240601)
    n = 100_000
    cases = [
        ("deep_parens_unclosed", b"let x = " + b"(" * n + b"\n", "error"),
        ("deep_parens_closed", OUT + b"let x = " + b"(" * n + b"1" + b")" * n + b"\n", "error"),
        ("deep_brackets_unclosed", b"let x = " + b"[" * n + b"\n", "error"),
        ("deep_brackets_closed", OUT + b"let x = " + b"[" * n + b"1" + b"]" * n + b"\n", "error"),
        ("deep_blocks", OUT + b"fn f() -> int = " + b"{" * n + b"1" + b"}" * n + b"\n", "error"),
        ("deep_blocks_unclosed", OUT + b"fn f() -> int = " + b"{" * n + b"\n", "error"),
        ("nesting_256_brackets", OUT + b"let x = " + b"(" * 256 + b"1" + b")" * 256 + b"\n", "valid"),
        ("nesting_257_brackets", OUT + b"let x = " + b"(" * 257 + b"1" + b")" * 257 + b"\n", "error"),
        ("nesting_mixed_256", OUT + b"let x = " + b"[(" * 128 + b"1" + b")]" * 128 + b"\n", "valid"),
        ("nesting_mixed_258", OUT + b"let x = " + b"[(" * 129 + b"1" + b")]" * 129 + b"\n", "error"),
        ("expression_depth_900", OUT + b"let x = " + b"-" * 900 + b"1\n", "valid"),
        ("expression_depth_1100", OUT + b"let x = " + b"-" * 1100 + b"1\n", "error"),
        ("deep_not", OUT + b"let x = " + b"not " * n + b"true\n", "error"),
        ("deep_minus", OUT + b"let x = " + b"-" * n + b"1\n", "error"),
        ("deep_unwrap", OUT + b"let x = some(1)" + b"!" * n + b"\n", "error"),
        ("deep_lambdas", OUT + b"let y = lines.map(" + b"x => " * 10_000 + b"x)\n", "error"),
        ("long_else_if_chain", OUT + b"let x = " + b"if true { 1 } else " * 20_000 + b"{ 0 }\n",
         "any"),
        ("long_method_chain", OUT + b"lines" + b".map(l => l)" * 20_000 + b".print()\n", "any"),
        ("long_string_10mb", OUT + b'let x = "' + b"a" * MB10 + b'"\n', "any"),
        ("long_sum_10mb", OUT + b"let x = 1" + b"+1" * (MB10 // 2) + b"\n", "any"),
        ("long_concat_10mb", OUT + b'let x = "a"' + b'+"a"' * (MB10 // 4) + b"\n", "any"),
        ("long_ident_10mb", OUT + b"let " + b"a" * MB10 + b" = 1\n", "any"),
        ("long_string_unterminated_10mb", OUT + b'let x = "' + b"a" * MB10, "error"),
        ("long_comment_10mb", OUT + b"// " + b"x" * MB10 + b"\n", "any"),
        ("long_block_comment_unclosed", OUT + b"/* " + b"/*" * (MB10 // 2), "error"),
        ("long_number", OUT + b"let x = " + b"9" * 100_000 + b"\n", "error"),
        ("long_float", OUT + b"let x = 1." + b"5" * 100_000 + b"e" + b"9" * 1000 + b"\n", "any"),
        ("many_statements", OUT + b"".join(b"let x%d = %d\n" % (i, i) for i in range(100_000)),
         "any"),
        ("many_errors", OUT + b"let y = @\n" * 100_000, "error"),
        ("many_undefined", OUT + b"".join(b"let v%d = u%d\n" % (i, i) for i in range(100_000)),
         "error"),
        ("many_args", OUT + b"let x = max(" + b"1, " * 100_000 + b"1)\n", "error"),
        ("many_tuple_elements", OUT + b"let x = (" + b"1, " * 100_000 + b"1)\n", "any"),
        ("many_record_fields",
         b"type R = { " + b"".join(b"f%d: int, " % i for i in range(20_000)) + b"}\n" + OUT, "any"),
        ("nul_bytes", OUT + b"let x = 1\x00\x00\x00\nlet y = 2\n", "error"),
        ("nul_only", b"\x00" * 1000, "error"),
        ("invalid_utf8_outside_string", OUT + b"let x = \xff\xfe 1\n", "error"),
        ("invalid_utf8_identifier", OUT + b"let \xc3\x28 = 1\n", "error"),
        ("truncated_utf8_at_eof", OUT + b"let x = 1 \xe2\x82", "error"),
        ("empty_file", b"", "error"),
        ("only_bom", b"\xef\xbb\xbf", "error"),
        ("bom_twice", b"\xef\xbb\xbf\xef\xbb\xbf" + OUT, "error"),
        ("only_newlines", b"\n" * 100_000, "error"),
        ("only_semicolons", b";" * 100_000, "error"),
        ("cr_only_line_endings", OUT.replace(b"\n", b"\r"), "any"),
        ("lone_backslash_in_string_at_eof", OUT + b'let x = "\\', "error"),
        ("unicode_escape_huge", OUT + b'let x = "\\u{' + b"f" * 100_000 + b'}"\n', "error"),
    ]
    for k in range(8):
        size = rng.randrange(1, 64 * 1024)
        cases.append(("random_bytes_%d" % k, bytes(rng.randrange(256) for _ in range(size)),
                      "error"))
    toks = [b"let", b"fn", b"type", b"set", b"if", b"else", b"true", b"false", b"none", b"some",
            b"and", b"or", b"not", b"x", b"lines", b"print", b"map", b"(", b")", b"[", b"]",
            b"{", b"}", b",", b".", b":", b";", b"=", b"=>", b"->", b"+", b"-", b"*", b"/", b"%",
            b"==", b"<", b"??", b"!", b"?", b"1", b"1.5", b"5s", b"\"s\"", b"\n", b"//c\n",
            b"/*c*/", b"int", b"string", b"stream", b"<", b">", b"socket", b"reduceByKey"]
    for k in range(24):
        n_tok = rng.randrange(1, 4000)
        body = b" ".join(rng.choice(toks) for _ in range(n_tok))
        cases.append(("random_tokens_%d" % k, (OUT if k % 2 else b"") + body, "any"))
    return cases


def run_robust(dsc, path, kind):
    p = run_dsc(dsc, ["check", path])
    errs = [l for l in p.stderr.splitlines() if b": error: " in l]
    if p.returncode not in (0, 1):
        raise Failure("exit code %d, expected 0 or 1" % p.returncode,
                      [show(l) for l in p.stderr.splitlines()[:5]])
    if kind == "error" and p.returncode != 1:
        raise Failure("invalid input accepted (exit %d)" % p.returncode)
    if kind == "valid" and (p.returncode != 0 or p.stdout or p.stderr):
        raise Failure("valid input: exit %d, expected 0 and no output" % p.returncode,
                      [show(l) for l in p.stderr.splitlines()[:5]])
    if p.returncode == 1 and not errs:
        raise Failure("exit code 1 without any 'error:' line",
                      [show(l) for l in p.stderr.splitlines()[:5]])
    if p.returncode == 0 and errs:
        raise Failure("exit code 0 with error lines", [show(l) for l in errs[:5]])


def main(argv):
    update_plans = "--update-plans" in argv
    verbose = "-v" in argv or "--verbose" in argv
    argv = [a for a in argv if a not in ("--update-plans", "-v", "--verbose")]
    if len(argv) < 2:
        sys.stderr.write("usage: run.py PATH/TO/dsc TESTDIR [-v] [--update-plans] [NAME_FILTER...]\n")
        return 2
    dsc, root, filters = os.path.abspath(argv[0]) if os.sep in argv[0] else argv[0], argv[1], argv[2:]

    def wanted(name):
        return not filters or any(f in name for f in filters)

    files = []
    for d, dirs, names in os.walk(root):
        dirs.sort()
        for n in names:
            if n.endswith(".ds"):
                files.append(os.path.join(d, n))
    files.sort(key=lambda p: os.path.relpath(p, root))

    passed = failed = 0

    def report(name, e):
        # one line per failing case; -v adds the details under it
        line = "FAIL %s: %s" % (name, e.reason)
        if e.details and not verbose:
            line += " -- " + e.details[0].strip()
        print(line)
        if verbose:
            for d in e.details:
                print("    " + d)
        sys.stdout.flush()

    for path in files:
        name = os.path.relpath(path, root)
        if not wanted(name):
            continue
        try:
            run_case(dsc, path, update_plans)
            passed += 1
        except Failure as e:
            failed += 1
            report(name, e)

    tmp = tempfile.mkdtemp(prefix="dsc-robust-")
    try:
        for cname, data, kind in robustness_cases():
            name = "robust/%s.ds" % cname
            if not wanted(name):
                continue
            path = os.path.join(tmp, cname + ".ds")
            with open(path, "wb") as f:
                f.write(data)
            try:
                run_robust(dsc, path, kind)
                passed += 1
            except Failure as e:
                failed += 1
                report(name, e)
            os.unlink(path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
