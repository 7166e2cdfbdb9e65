"""The ladder the exercises climb: guided, then specified, then open.

    guided      the docstring gives the steps (exercises 1-3)
    specified   the behaviour, the protocol lines and the interface, not the steps (4-8)
    open        a whole server from the protocol alone, graded as a black box (9)
    optional    past the ladder, specified like 4-8 (10: a room's bridge to Redis); its points are
                extra: shown beside the total, never in it (results.Results.score)

Each exercise says its rung in the first line of its docstring
("Exercise 4 (specified): ..."), so the ladder cannot drift from the files;
an exercise that names none (an optional one) is "optional" and comes last.
"""

import re

from chatkit.grader import layout

RUNGS = ("guided", "specified", "open")
OPTIONAL = "optional"


def rung(exercise, root=None):
    """'guided', 'specified', 'open', or 'optional' for an exercise whose title names no rung."""
    found = re.search(r"\((guided|specified|open)\)", layout.title(exercise, root))
    return found.group(1) if found else OPTIONAL


def climb(exercises, root=None):
    """The exercises in the order of the ladder: by rung, then by number (optional ones last)."""
    order = (*RUNGS, OPTIONAL)
    return sorted(exercises, key=lambda exercise: (order.index(rung(exercise, root)), exercise))
