"""The autograder: a pytest plugin, and the tools built on it.

    pytest exercises/                  grade your exercises (the score table comes last)
    pytest exercises/ --solutions      grade the reference answers instead
    check("ex03")                      the same for one exercise, from a notebook
    python -m chatkit progress         which exercises pass, and what to do next
    python -m chatkit grade DIR        grade a whole class, in parallel
    python -m chatkit stubs            make exercises/ from solutions/

    plugin.py      points, hints, the score table, results.json, the tamper check (tamper.py)
    scoring.py     hint() and part(): what the graded tests write
    harness.py     the `student` fixture: start_server(), module; Peer (peer.py) is the test client
    sandbox.py     student code runs in a child process (child.py, started by processes.py)
    diagnose.py    what a stuck or crashed student program was doing, in words
    results.py     results.json (Gradescope's format) and the score tables
    stubs.py       exercises/ and the manifest made from solutions/
    bulk.py        a whole class; report.py: the summary and plot; samples.py: made-up submissions
"""

from chatkit.grader.scoring import hint, part  # noqa: F401  (used by the graded tests)


def check(exercise, solutions=False, **options):
    """Grade one exercise in a subprocess and show the score table (see notebook.check)."""
    from chatkit.grader.notebook import check as run_check
    return run_check(exercise, solutions=solutions, **options)
