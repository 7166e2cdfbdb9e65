"""``python -m chatkit watch``: the exercise you are on, graded again each time you save it.

    python -m chatkit watch          start at the first exercise of the ladder that does not pass yet
    python -m chatkit watch ex04     start at exercise 4

Each grading is the one `pytest exercises/exNN_name_test.py` does (a clean
copy, a process of its own, a time limit). It shows the score and the first
test to fix with its hint (your own exception first, when there is one),
then waits for the next save. Once the exercise passes, it moves on to the
next exercise of the ladder and grades that one; it ends when every
exercise passes, or on Ctrl+C.

A save is noticed by looking at the file's size and modification time a
few times a second. That works the same on Linux, macOS and Windows, and on
the network drives of hubs, where change notifications (inotify) often
never arrive; and it needs nothing installed. An editor that writes a file
in two steps is given time to finish (the file must look the same twice in
a row) before it is graded.
"""

import os
import sys
import time

from chatkit.grader import ladder, layout
from chatkit.grader.commands.run import run_grader
from chatkit.grader.limits import PROGRESS_TIME_LIMIT, RUN_TIME_LIMIT, WATCH_LOOK_EVERY
from chatkit.grader.results import words
from chatkit.grader.results.tables import described, number, points
from chatkit.tools.language import translator

_ = translator()


def signature(path):
    """What changes when a file is saved: (modification time, size, inode), or None while it is missing."""
    try:
        facts = os.stat(path)
    except OSError:
        return None
    return facts.st_mtime_ns, facts.st_size, facts.st_ino


def wait_for_save(path, seen, every=WATCH_LOOK_EVERY):
    """Block until `path` differs from `seen` and stays the same for one more look; its new signature."""
    while True:
        time.sleep(every)
        now = signature(path)
        if now != seen and now is not None:
            time.sleep(every)
            if signature(path) == now:  # written completely
                return now


def grade(exercise, root, time_limit=RUN_TIME_LIMIT):
    return run_grader([layout.test_file(exercise, root)], time_limit=time_limit)


def where_to_start(root, time_limit=PROGRESS_TIME_LIMIT):
    """The first exercise of the ladder that does not pass yet (None when all do)."""
    run = run_grader([layout.exercises_dir(root)], time_limit=time_limit)
    order = ladder.climb(layout.exercise_ids(root), root)
    failing = {test.exercise for test in run.results.tests if not test.passed}
    graded = {test.exercise for test in run.results.tests}
    return next((exercise for exercise in order if exercise in failing or exercise not in graded), None)


def report(run, exercise):
    """The lines shown after a grading; and whether the exercise passes."""
    tests = [test for test in run.results.tests if test.exercise == exercise]
    if not tests:
        return [words.GRADER_DID_NOT_RUN, run.output[-3000:]], False
    score, max_score = sum(test.score for test in tests), sum(test.max_score for test in tests)
    lines = [words.watch_score(time.strftime("%H:%M:%S"), exercise, number(score), number(max_score))]
    failing = next((test for test in tests if not test.passed), None)
    if failing is not None:
        lines.append("  " + words.first_to_fix(failing.test, points(failing.max_score), described(failing)))
        if failing.hint:
            lines.append(f"  {words.HINT}: {failing.hint}")
    lines += [words.warning(problem) for problem in run.results.tampered]
    return lines, failing is None and not run.results.tampered


def watch(root, exercise, say=print):
    """Grade `exercise`, then again on every save; move up the ladder as each one passes."""
    order = ladder.climb(layout.exercise_ids(root), root)
    while exercise is not None:
        path = layout.exercises_dir(root) / f"{exercise}.py"
        shown = f"exercises/{path.name}"
        say("")
        say(words.watch_starting(f"{exercise} ({layout.shown_title(exercise, root)})"))
        while True:
            seen = signature(path)
            lines, passes = report(grade(exercise, root), exercise)
            for line in lines:
                say(line)
            if passes:
                break
            say(words.save_again(shown))
            wait_for_save(path, seen)
        say(words.watch_passes(exercise))
        later = order[order.index(exercise) + 1:]
        exercise = later[0] if later else None
    say(words.ALL_DONE)
    return 0


def add_arguments(parser):
    parser.add_argument("exercise", nargs="?", help=_("start here ('ex03' or 'ex03_threads'); "
                                                      "by default the first exercise that does not pass"))


def main(args):
    root = layout.kit_root()
    if not layout.exercises_dir(root).is_dir():
        print(words.no_exercises_folder(root), file=sys.stderr)
        return 2
    try:
        if args.exercise:
            exercise = layout.resolve(args.exercise, root)
        else:
            print(words.CHECKING, flush=True)
            exercise = where_to_start(root)
        return watch(root, exercise, say=lambda line: print(line, flush=True))
    except ValueError as error:
        print(words.error(error), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\n" + words.WATCH_STOPPED, flush=True)
        return 0
