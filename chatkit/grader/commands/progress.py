"""``python -m chatkit progress``: where you stand on the ladder, which exercise is next, and its first hint.

It runs the grader on your files in exercises/ (in a process of its own,
with a time limit), then prints one line per exercise, by rung::

    guided     ex01_listen        done           5/5
               ex02_accept_loop   in progress    3/6   next: test_serves_the_next_client
    specified  ex04_broadcast     not started    0/8
    open       ex09_chat_server   not started    0/20

where you are on the ladder, and for the exercise to work on next, the test
that fails first and its hint (the student's own exception first, when
there is one).
"""

import sys
import tempfile
from pathlib import Path

from chatkit.grader import ladder, layout
from chatkit.grader.authoring import tamper
from chatkit.grader.commands.run import run_grader
from chatkit.grader.limits import PROGRESS_TIME_LIMIT
from chatkit.grader.results import words
from chatkit.grader.results.tables import described, number, pad, points
from chatkit.tools.language import translator

_ = translator()


def untouched(exercise, folder=None):
    """True while the exercise file is still exactly the stub the kit handed out."""
    path = Path(folder or layout.exercises_dir()) / f"{exercise}.py"
    stubs = tamper.load_manifest().get("stubs", {})
    return path.exists() and tamper.checksum(path) == stubs.get(exercise)


def state_of(tests, exercise, folder=None):
    """'done', 'not started' or 'in progress', in the student's words."""
    if all(test.passed for test in tests):
        return words.STATES["done"]
    return words.STATES["not started" if untouched(exercise, folder) else "in progress"]


def lines_for(results, folder=None):
    """The progress report, line by line."""
    lines = []
    scores = {exercise: (score, max_score) for exercise, score, max_score in results.by_exercise()}
    order = ladder.climb(scores)
    previous = None
    for exercise in order:
        score, max_score = scores[exercise]
        tests = [t for t in results.tests if t.exercise == exercise]
        failing = [t for t in tests if not t.passed]
        state = state_of(tests, exercise, folder)
        rung = ladder.rung(exercise)
        label = words.RUNG_NAMES[rung] if rung != previous else ""
        previous = rung
        line = f"{pad(label, 10)} {exercise:<20} {pad(state, 12)} {number(score):>3}/{number(max_score):<3}"
        if failing and state != words.STATES["not started"]:
            line += f"  {words.NEXT_TEST}: {failing[0].test}"
        lines.append(line)
    lines += [f"{'':<10} {pad(words.TOTAL, 20)} {'':<12} {number(results.score):>3}/{number(results.max_score):<3}", ""]
    done = [exercise for exercise in order if all(t.passed for t in results.tests if t.exercise == exercise)]
    test = next((t for exercise in order for t in results.tests if t.exercise == exercise and not t.passed), None)
    if test is None:
        lines.append(words.ALL_DONE)
    else:
        lines.append(words.on_the_ladder(words.RUNG_NAMES[ladder.rung(test.exercise)], order.index(test.exercise) + 1,
                                         len(order), len(done)))
        lines.append(f"{words.NEXT}: {test.exercise} ({layout.shown_title(test.exercise)})")
        lines.append(f"  {test.test} ({points(test.max_score)}): {described(test)}")
        if test.hint:
            lines.append(f"  {words.HINT}: {test.hint}")
        lines.append("  " + words.check_it(test.exercise))
    lines += [words.warning(problem) for problem in results.tampered]
    return lines


def add_arguments(parser):
    parser.add_argument("exercise", nargs="?", help=_("only this exercise ('ex03' or 'ex03_threads')"))
    parser.add_argument("--time-limit", type=float, default=PROGRESS_TIME_LIMIT,
                        help=_("seconds the whole check may take"))


def main(args):
    if not layout.exercises_dir().is_dir():
        print(words.no_exercises_folder(layout.KIT_ROOT), file=sys.stderr)
        return 2
    try:
        target = layout.test_file(layout.resolve(args.exercise)) if args.exercise else layout.exercises_dir()
    except ValueError as error:
        print(words.error(error), file=sys.stderr)
        return 2
    print(words.CHECKING, flush=True)
    with tempfile.TemporaryDirectory(prefix="chatkit-progress-") as scratch:
        run = run_grader([target], Path(scratch) / "results.json", time_limit=args.time_limit)
    if not run.results.tests:
        print(words.GRADER_DID_NOT_RUN + "\n" + run.output[-3000:])
        return 2
    print("\n".join(lines_for(run.results)))
    if run.timed_out:
        print(words.stopped_after(args.time_limit))
    return 0
