"""``python -m chatkit progress``: which exercises pass, which one is next, and its first hint.

It runs the grader on your files in exercises/ (in a process of its own,
with a time limit), then prints one line per exercise::

    ex01_listen         done          6/6
    ex02_accept_loop    in progress   3/6   next: test_serves_the_next_client
    ex03_threads        not started   0/6

and, for the exercise to work on next, the test that fails first and its hint.
"""

import sys
import tempfile
from pathlib import Path

from chatkit.grader import layout
from chatkit.grader.authoring import tamper
from chatkit.grader.commands.run import run_grader
from chatkit.grader.limits import PROGRESS_TIME_LIMIT
from chatkit.grader.results.tables import number, points



def untouched(exercise):
    """True while the exercise file is still exactly the stub the kit handed out."""
    path = layout.exercises_dir() / f"{exercise}.py"
    stubs = tamper.load_manifest().get("stubs", {})
    return path.exists() and tamper.checksum(path) == stubs.get(exercise)


def lines_for(results):
    """The progress report, line by line."""
    lines = []
    for exercise, score, max_score in results.by_exercise():
        tests = [t for t in results.tests if t.exercise == exercise]
        failing = [t for t in tests if not t.passed]
        if not failing:
            state = "done"
        elif untouched(exercise):
            state = "not started"
        else:
            state = "in progress"
        line = f"{exercise:<20} {state:<12} {number(score):>3}/{number(max_score):<3}"
        if failing and state != "not started":
            line += f"  next: {failing[0].test}"
        lines.append(line)
    total = f"{'total':<20} {'':<12} {number(results.score):>3}/{number(results.max_score):<3}"
    lines += [total, ""]
    test = results.first_failure()
    if test is None:
        lines.append("Every exercise passes. Well done!")
    else:
        lines.append(f"Next: {test.exercise} ({layout.title(test.exercise)})")
        lines.append(f"  {test.test} ({points(test.max_score)}): {test.description}")
        if test.hint:
            lines.append(f"  Hint: {test.hint}")
        lines.append(f"  Check it with: pytest exercises/{test.exercise}_test.py")
    lines += [f"WARNING: {problem}" for problem in results.tampered]
    return lines


def add_arguments(parser):
    parser.add_argument("exercise", nargs="?", help="only this exercise ('ex03' or 'ex03_threads')")
    parser.add_argument("--time-limit", type=float, default=PROGRESS_TIME_LIMIT, help="seconds the whole check may take")


def main(args):
    if not layout.exercises_dir().is_dir():
        print(f"There is no exercises/ folder in {layout.KIT_ROOT}.", file=sys.stderr)
        return 2
    try:
        target = layout.test_file(layout.resolve(args.exercise)) if args.exercise else layout.exercises_dir()
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print("Checking your exercises (this takes a few seconds)...", flush=True)
    with tempfile.TemporaryDirectory(prefix="chatkit-progress-") as scratch:
        run = run_grader([target], Path(scratch) / "results.json", time_limit=args.time_limit)
    if not run.results.tests:
        print("The grader could not run. What it printed:\n" + run.output[-3000:])
        return 2
    print("\n".join(lines_for(run.results)))
    if run.timed_out:
        print(f"(The check was stopped after {args.time_limit:g} s; tests not reached count as failed.)")
    return 0
