"""The autograder: a pytest plugin, and the tools built on it.

    pytest exercises/                  grade your exercises (the score table comes last)
    pytest exercises/ --solutions      grade the reference answers instead
    check("ex03")                      the same for one exercise, from a notebook
    python -m chatkit progress         where you stand on the ladder, and what to do next
    python -m chatkit watch            grade the exercise you are on each time you save it
    python -m chatkit reset ex03       put an exercise file back to its stub
    python -m chatkit grade DIR        grade a whole class, in parallel
    python -m chatkit stubs            make exercises/ from solutions/
    python -m chatkit gradescope Z     the Gradescope autograder; classroom: GitHub Classroom's workflow

What a graded test runs on:
    plugin.py      the pytest plugin (exercises/conftest.py turns it on): points, the `student`
                   fixture, results saved after every test, the score table at the end
    scoring.py     hint() and part(), what the graded tests write; which hint a failure shows
    harness.py     what the `student` fixture holds: Exercise, RunningServer (start_server()),
                   RunningClient (start_client(), for the client exercise)
    peer.py        Peer, the test client that explains its failures
    testroom.py    TestRoom, the live test server a student's client talks to
    ladder.py      the ladder the exercises climb (guided, specified, open) and its order
    limits.py      every deadline, size and count, in one place
    layout.py      where the exercises and solutions are, and what they are called
    forks.py       the grader's fork server: a copy of the grading process that forks the children
    processes.py   ending processes with all they started (groups, orphans, users); who student code is
    sandbox/       student code in a child process: the grader's end, the child's end, the pipe
                   between them, the walls raised before student code runs (namespaces, limits, a
                   user of its own, the guard), the grader's checks, and what went wrong in words

The workflows on top:
    commands/      check (notebooks), progress, watch, reset, grade (a class, with its summary), run (pytest
                   in a process of its own, with a time limit)
    results/       results.json (Gradescope's format), the score tables, GitHub Classroom's format,
                   the LMS gradebook (roster, Canvas/Moodle), feedback files and their words
    hosted/        where classes hand in: the Gradescope autograder, the GitHub Classroom workflow
    authoring/     stubs from solutions/, the manifest of checksums, the tamper check, and
                   made-up buggy submissions for the kit's own tests
"""

from chatkit.grader.commands.check import check  # noqa: F401  (a notebook's last cell)
from chatkit.grader.scoring import hint, part  # noqa: F401  (used by the graded tests)
from chatkit.grader.results.words import _  # noqa: F401  (a graded test's assertion message, in the student's language)
from chatkit.tools.language import N_  # noqa: F401  (marks a hint or a why= kept for later, for the catalog)
