"""How fast the grader is, side by side in one run (issue 16, part 4; the capstone, issue 12).

    python benchmarks/grading.py [--students 20] [--class-size 100] [--jobs 2] [--repeat 3]

Prints, each next to its baseline, as medians of --repeat runs:
  - the reference answers: a plain `pytest` on the graded test files (the plugin, no
    autoloaded plugins), and the kit's `pytest exercises/ --solutions` as typed in the kit's
    environment (autoloaded plugins included: the dev extras bring hypothesis, whose plugin
    imports it at the end of every run) and without them (a student's install has none), and
    the same without the capstone (exercise 9, a whole server graded over real sockets) as
    the baseline it adds to; target: under 5 s with the capstone (issue 16 asked 1.5 s before it);
  - seconds per solved student, every student's files their own (signed: no two alike): a
    tuned loop of one `pytest exercises/` per student with the same isolation (the kit's plugin
    grading a clean copy in a fresh `python -I`, plugin autoload off, N at a time) against
    `python -m chatkit grade -j N`; target: 3x; and the same class handing in identical copies,
    which `grade` grades once (samefiles.py);
  - a realistic class of --class-size students (samples.make_class: bugs, hangs, unfinished
    work, each student's own files signed, untouched stubs alike; every exercise, the capstone
    included) graded whole, with the limits of the grader on and off (CHATKIT_GRADER_LIMITS=off),
    and on with --regrade-copies (the stubs graded again for each student), once each
    (--class-repeat); target: a class of 300 in under 5 minutes on 2 cores, limits on (the line
    says what 300 would take at the rate seen);
  - the load average before and after: the machine may be shared, so read the numbers as
    noisy when it is high, and run the benchmark again.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chatkit.grader.authoring import samples  # noqa: E402
from chatkit.grader.commands.grade import DEFAULT_JOBS  # noqa: E402

QUIET = ["-q", "-p", "no:cacheprovider"]
CAPSTONE = "ex09_"  # the open exercise: a whole server, graded as a black box
NO_AUTOLOAD = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}


def timed(command, env=None, cwd=ROOT):
    started = time.monotonic()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env={**os.environ, **(env or {})})
    if done.returncode not in (0, 1):
        print(f"  (exit status {done.returncode}: {done.stdout[-500:]}{done.stderr[-500:]})")
    return time.monotonic() - started


def median_of(repeat, measure):
    return statistics.median(measure() for _ in range(repeat))


def grade(folder, jobs, env=None, options=()):
    return timed([sys.executable, "-m", "chatkit", "grade", str(folder), "--out", str(folder.parent / f"{folder.name}.csv"),
                  "-j", str(jobs), *options], env)


def loop(folder, jobs):
    """One fresh `pytest exercises/` per student, `jobs` at a time (the plugin grades a clean copy of it)."""
    students = sorted(p for p in folder.iterdir() if p.is_dir())
    started = time.monotonic()
    with ThreadPoolExecutor(jobs) as pool:
        list(pool.map(lambda s: timed([sys.executable, "-m", "pytest", "exercises/", *QUIET], NO_AUTOLOAD, cwd=s),
                      students))
    return time.monotonic() - started


def load():
    return " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=DEFAULT_JOBS,
                        help="students at a time, for both (the grader's default)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement; the median is shown")
    parser.add_argument("--class-size", type=int, default=100, help="students in the realistic class")
    parser.add_argument("--class-repeat", type=int, default=1, help="runs of the realistic class (it takes minutes)")
    args = parser.parse_args()
    n, jobs, repeat = args.students, args.jobs, args.repeat
    print(f"{os.cpu_count()} cores; load average at the start: {load()}; medians of {repeat} runs")
    tests = sorted(str(p) for p in (ROOT / "exercises").glob("ex*_test.py"))
    before_capstone = [test for test in tests if not Path(test).name.startswith(CAPSTONE)]
    plain = median_of(repeat, lambda: timed([sys.executable, "-m", "pytest", *tests, "--solutions", *QUIET], NO_AUTOLOAD))
    without = median_of(repeat, lambda: timed([sys.executable, "-m", "pytest", *before_capstone, "--solutions", *QUIET],
                                              NO_AUTOLOAD))
    kit = median_of(repeat, lambda: timed([sys.executable, "-m", "pytest", "exercises/", "--solutions", *QUIET]))
    lean = median_of(repeat, lambda: timed([sys.executable, "-m", "pytest", "exercises/", "--solutions", *QUIET],
                                           NO_AUTOLOAD))
    print(f"solutions: plain pytest on the test files {plain:5.2f} s (without the capstone {without:5.2f} s) | "
          f"pytest exercises/ --solutions {kit:5.2f} s (this environment's plugins autoloaded), {lean:5.2f} s (none)  "
          f"(target < 5 s)")
    with tempfile.TemporaryDirectory(prefix="chatkit-bench-") as scratch:
        solved, copies = Path(scratch) / "solved", Path(scratch) / "copies"
        for number in range(n):
            student = samples.write_submission(solved / f"student{number:03d}", signed=f"student{number:03d}").parent
            (student / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())  # a student's repository
            samples.write_submission(copies / f"student{number:03d}")
        tuned = median_of(repeat, lambda: loop(solved, jobs))
        bulk = median_of(repeat, lambda: grade(solved, jobs))
        copied = median_of(repeat, lambda: grade(copies, jobs))
        print(f"solved class of {n}, {jobs} at a time: tuned pytest loop {tuned / n:5.2f} s/student | "
              f"chatkit grade {bulk / n:5.2f} s/student | {tuned / bulk:4.1f}x  (target 3x) | "
              f"identical copies: chatkit grade {copied / n:5.2f} s/student ({tuned / copied:4.1f}x)")
        size = args.class_size
        realistic = Path(scratch) / "class"
        samples.make_class(realistic, size)
        on = median_of(args.class_repeat, lambda: grade(realistic, jobs))
        off = median_of(args.class_repeat, lambda: grade(realistic, jobs, {"CHATKIT_GRADER_LIMITS": "off"}))
        every = median_of(args.class_repeat, lambda: grade(realistic, jobs, options=["--regrade-copies"]))
        print(f"realistic class of {size} (capstone included), {jobs} at a time: limits on {on:6.1f} s "
              f"({on / size:4.2f} s/student) | limits off {off:6.1f} s ({off / size:4.2f} s/student) | "
              f"limits on, --regrade-copies {every:6.1f} s ({every / size:4.2f} s/student)  "
              f"(target: 300 students < 300 s; at this rate {on / size * 300:.0f} s)")
    print(f"load average at the end: {load()}")


if __name__ == "__main__":
    main()
