"""How fast the grader is: the reference answers, and a class of 100 made-up submissions.

    python benchmarks/grading.py [--students 100] [--jobs 2]

Prints the time of `pytest exercises/ --solutions` (target: under 5 s on a
2-core machine) and of `python -m chatkit grade` on generated submissions
with -j 2 (target: 100 in under 2 minutes). The submissions come from
chatkit.grader.authoring.samples: half complete, some with one typical bug, some
unfinished, a few with an edited test file. Run it on a quiet machine.
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chatkit.grader.authoring import samples  # noqa: E402


def timed(command, **options):
    started = time.monotonic()
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, **options)
    return time.monotonic() - started, completed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--keep", help="write the class and the gradebook here instead of a temporary folder")
    args = parser.parse_args()

    seconds, run = timed([sys.executable, "-m", "pytest", "exercises/", "--solutions", "-q", "-p", "no:cacheprovider"])
    print(f"pytest exercises/ --solutions: {seconds:.1f} s  (target < 5 s)  [{run.stdout.strip().splitlines()[-1]}]")

    with tempfile.TemporaryDirectory(prefix="chatkit-bench-") as scratch:
        folder = Path(args.keep or scratch)
        samples.make_class(folder / "submissions", args.students)
        seconds, run = timed([sys.executable, "-m", "chatkit", "grade", str(folder / "submissions"),
                              "--out", str(folder / "grades.csv"), "-j", str(args.jobs)])
        if run.returncode != 0:
            print(run.stdout, run.stderr)
        summary = run.stdout.splitlines()
        print(f"grade {args.students} submissions with -j {args.jobs}: {seconds:.1f} s  (target < 120 s)  "
              f"[{seconds / args.students:.2f} s a student; {summary[1] if len(summary) > 1 else ''}]")


if __name__ == "__main__":
    main()
