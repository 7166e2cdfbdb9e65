"""How fast the grader is, side by side in one run.

    python benchmarks/grading.py [--students 20] [--jobs 2]

Prints, each next to its baseline:
  - plain `pytest` on the graded test files (the reference answers, in place), and the kit's
    `pytest exercises/ --solutions` (target: under 1.5 s);
  - seconds per solved student: `python -m chatkit grade -j N` against a tuned shell-style loop
    of one `pytest` per student with the same isolation (the kit's plugin, a clean copy,
    PYTEST_DISABLE_PLUGIN_AUTOLOAD=1), N at a time (target: 3x);
  - seconds per student of a realistic class (samples.make_class) with the limits on and off
    (CHATKIT_GRADER_LIMITS=off), and what 300 students would take at that rate (target: < 5 min).
The machine is shared: run it twice and read the numbers as noisy.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chatkit.grader.authoring import samples  # noqa: E402


def timed(command, env=None, cwd=ROOT):
    started = time.monotonic()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env={**os.environ, **(env or {})})
    return time.monotonic() - started, done


def grade(folder, jobs, env=None):
    seconds, done = timed([sys.executable, "-m", "chatkit", "grade", str(folder), "--out",
                           str(folder.parent / f"{folder.name}.csv"), "-j", str(jobs)], env)
    if done.returncode:
        print(done.stdout[-2000:], done.stderr[-2000:])
    return seconds


def loop(folder, jobs):
    """One fresh `pytest` per student on its own exercises/ (the plugin grades a clean copy of it)."""
    students = sorted(p for p in folder.iterdir() if p.is_dir())
    started = time.monotonic()
    with ThreadPoolExecutor(jobs) as pool:
        list(pool.map(lambda s: timed([sys.executable, "-m", "pytest", "exercises/", "-q", "-p", "no:cacheprovider"],
                                      {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}, cwd=s), students))
    return time.monotonic() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    tests = sorted(str(p) for p in (ROOT / "exercises").glob("ex*_test.py"))
    plain, _ = timed([sys.executable, "-m", "pytest", *tests, "--solutions", "-q", "-p", "no:cacheprovider"],
                     {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})
    kit, _ = timed([sys.executable, "-m", "pytest", "exercises/", "--solutions", "-q", "-p", "no:cacheprovider"])
    print(f"solutions: plain pytest on the test files {plain:5.2f} s | pytest exercises/ --solutions {kit:5.2f} s"
          f"  (target < 1.5 s)")
    with tempfile.TemporaryDirectory(prefix="chatkit-bench-") as scratch:
        solved = Path(scratch) / "solved"
        for number in range(args.students):
            samples.write_submission(solved / f"student{number:03d}")
        (Path(scratch) / "solved-root").mkdir()
        for student in solved.iterdir():  # a student's repository: pyproject.toml beside exercises/
            (student / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
        bulk, tuned = grade(solved, args.jobs), loop(solved, args.jobs)
        n = args.students
        print(f"solved class, -j {args.jobs}: tuned pytest loop {tuned / n:5.2f} s/student | chatkit grade "
              f"{bulk / n:5.2f} s/student | {tuned / bulk:4.1f}x  (target 3x)")
        realistic = Path(scratch) / "class"
        samples.make_class(realistic, n)
        on, off = grade(realistic, args.jobs), grade(realistic, args.jobs, {"CHATKIT_GRADER_LIMITS": "off"})
        print(f"realistic class, -j {args.jobs}: limits on {on / n:5.2f} s/student | limits off {off / n:5.2f} "
              f"s/student | 300 students with limits on: ~{on / n * 300 / 60:.1f} min  (target < 5 min)")


if __name__ == "__main__":
    main()
