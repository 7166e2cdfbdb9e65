"""``python -m chatkit check``: grade your exercises, as `pytest exercises/` does, on any OS.

    python -m chatkit check                 every exercise; the score table comes last
    python -m chatkit check ex03            one exercise
    python -m chatkit check ex03 -x         options it does not know go to pytest

It finds the kit's folder from wherever it runs (layout.kit_root) and runs
pytest on its exercises/ with the grader. Run by a Python that has no
chatkit installed (a fresh clone; a terminal where another Python comes
first), it makes the kit's .venv and runs there (tools/kitenv.py, from
chatkit/__main__.py), so it works without make and without activating anything.

It exits 0 once the grading ran to the end, whatever the score: the score
table is the result, and a half-done exercise is not a failure of the kit
(`make check` and the students' `make test` rely on that). `pytest
exercises/` exits 1 while a test fails, for CI.
"""

import os
import sys

from chatkit.grader import layout
from chatkit.tools.language import translator

_ = translator()

GRADING_RAN = (0, 1)  # pytest's exit statuses when every collected test ran: all passed, some failed


def add_arguments(parser):
    parser.usage = _("python -m chatkit check [EXERCISE] [pytest options]")
    parser.epilog = _("EXERCISE: only this one ('ex03' or 'ex03_threads'). The options (-x, -k NAME, "
                      "--grade-json FILE, ...) are pytest's.")


def main(args, arguments=()):
    """`arguments`: everything after `check`; the first, if it is not an option, names the exercise."""
    root = layout.kit_root()
    if not layout.exercises_dir(root).is_dir():
        print(_("There is no exercises/ folder in {root}: run this in the kit's folder (or set {variable}).").format(
            root=root, variable=layout.ROOT_VARIABLE), file=sys.stderr)
        return 2
    exercise, pytest_args = (arguments[0], arguments[1:]) if arguments and not arguments[0].startswith("-") \
        else (None, list(arguments))
    try:
        target = layout.test_file(layout.resolve(exercise, root), root) if exercise else layout.exercises_dir(root)
    except ValueError as error:
        print(_("error: {error}").format(error=error), file=sys.stderr)
        return 2
    import pytest  # here, not above: this module also runs in a Python that has no pytest yet

    os.chdir(root)  # the paths in pytest's report then read exercises/..., as the README shows them
    status = pytest.main([str(target.relative_to(root)), *pytest_args])
    return 0 if status in GRADING_RAN else int(status)
