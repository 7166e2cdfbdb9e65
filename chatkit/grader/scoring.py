"""Points, partial credit and hints, as the graded tests write them.

    @pytest.mark.points(3)
    def test_join_notice(student):
        \"\"\"Everyone hears who joined and how many people are in the room.\"\"\"
        with part(1, "join_notice() must name the newcomer: '* alice joined. ...'"):
            ...                                  # 1 of the 3 points, even if what follows fails
        with hint("Count the members after adding the newcomer."):
            ...                                  # a failure here shows this hint

A test that passes earns all its points. One that fails earns the points of
the ``part`` blocks that passed (a failed part does not stop the test: the
next part is still checked). The innermost ``hint`` or ``part`` around a
failure gives the hint shown above its traceback.

Evidence leads: when the student's own program shows what went wrong (an
exception at a line of their file, a thread waiting for a lock it holds
itself, an import that never ends, a loop spinning on ``b""``, a line sent
without its newline), that sentence is the hint, wherever the hint is shown
(the score table, the "Next:" line, ``progress``, ``check()``, ``watch``).
A test's own hint follows it only where it explains that evidence too::

    with hint("SO_REUSEADDR must be set before bind().", explains=("OSError",)):
"""

import threading

from chatkit.grader.results import words
from chatkit.grader.results.words import GENERIC_HINTS
from chatkit.grader.sandbox import StudentError, StudentGone, StudentHang, diagnose


class TestRecord:
    """What one running test has earned so far."""

    __test__ = False  # not a test class, whatever pytest thinks of the name

    def __init__(self, points):
        self.points = points
        self.parts = []  # (points, passed, hint, exception or None)

    @property
    def failed_parts(self):
        return [p for p in self.parts if not p[1]]

    def earned_on_failure(self):
        """Points of a failed test: those of its parts that passed."""
        return sum(points for points, passed, _, _ in self.parts if passed)


_current = threading.local()


def start_test(points):
    _current.record = TestRecord(points)
    return _current.record


def current_test():
    record = getattr(_current, "record", None)
    if record is None:
        raise RuntimeError("part() is only for graded tests (run them with pytest exercises/)")
    return record


class hint:
    """`with hint("what to look at"):` a failure inside shows this hint first.

    explains: the exceptions of the student's code (type names) this hint
    is about too; any other exception leads alone (see above).
    """

    def __init__(self, text, explains=()):
        self.text = text
        self.explains = tuple(explains)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, error, traceback):
        if error is not None and not hasattr(error, "chatkit_hint"):
            error.chatkit_hint = self.text  # the innermost hint is set first and wins
            error.chatkit_explains = self.explains
        return False


class part(hint):
    """`with part(points, "hint"):` partial credit; a failure inside does not stop the test."""

    def __init__(self, points, text, explains=()):
        super().__init__(text, explains)
        self.points = points

    def __exit__(self, exc_type, error, traceback):
        super().__exit__(exc_type, error, traceback)
        if error is not None and not isinstance(error, Exception):
            return False  # KeyboardInterrupt and the like stop the run
        current_test().parts.append((self.points, error is None, self.text, error))
        return True


def hint_for(error, test_hint=""):
    """The hint shown first for a failure: the evidence of the student's own program, if there is
    some (followed by the hint around it when that hint explains it); else the innermost hint or
    part around it, else the test's own (``@pytest.mark.points(n, hint=...)``), else one for the
    kind of failure."""
    text = getattr(error, "chatkit_hint", "") or test_hint
    text = words._(text) if text else ""
    found = evidence(error)
    if found:
        explains = getattr(error, "chatkit_explains", ())
        kinds = getattr(error, "kinds", [])
        weak = getattr(error, "chatkit_cause_weak", False)  # it shows what went wrong, not why: the hint follows
        return f"{found} {text}" if text and (weak or any(kind in kinds for kind in explains)) else found
    return text or default_hint(error)


def evidence(error):
    """What the student's own program shows went wrong, in one sentence, or None.

    A failure's `chatkit_cause` (set where the grader saw it: a line without
    its newline, run() returned, the listener closed...); the cause a hang's
    stacks name; the student's own exception, at its line (not a TODO, a
    syntax error or a resource limit: those have hints of their own).
    """
    cause = getattr(error, "chatkit_cause", None) or getattr(error, "cause", None)
    if cause:
        return cause
    if not isinstance(error, StudentError) or kind_of(error) not in ("error", "crash"):
        return None
    details = error.error
    frames = details.get("frames") or []
    mine = [frame for frame in frames if diagnose.same_file(frame[0], error.path)]
    in_thread = error.label.startswith("thread ")  # one of the student's threads died: it is theirs, wherever
    if not mine and not in_thread and not error.label.startswith("importing "):
        return None  # nothing of the student's file ran: the explanation below says what did
    where = mine[-1] if mine else (frames[-1] if frames and in_thread else None)
    place = f"{diagnose.short(where[0])}:{where[1]} in {where[2]}()" if where else diagnose.short(error.path)
    if details["type"] == "SystemExit":
        text = words.exited(details["message"], place)
    else:
        text = words.raised(details["type"], details["message"], place, (where[3] or "") if where else "")
    label = getattr(error, "label", "")
    if label.startswith("thread "):
        text = words.in_thread(text, label.split("'")[1] if "'" in label else label)
    return text


def default_hint(error):
    """A hint for a failure that no `hint` block covers, from the kind of failure."""
    return GENERIC_HINTS[{"crash": "gone", "wrong": "other"}.get(kind_of(error), kind_of(error))]


def kind_of(error):
    """Why a test failed, in one word (results.KINDS): todo, syntax, limit, hang, crash, error or wrong."""
    kinds = getattr(error, "kinds", [])
    if getattr(error, "kind", None):
        return error.kind
    if "NotImplementedError" in kinds:
        return "todo"
    if "SyntaxError" in kinds:
        return "syntax"
    if getattr(error, "limit", None) or diagnose.hit_limit(str(error)):
        return "limit"
    if isinstance(error, StudentHang) or diagnose.shows_threads(str(error)):
        return "hang"
    if isinstance(error, StudentGone) or (isinstance(error, StudentError) and error.label.startswith("thread ")):
        return "crash"
    if isinstance(error, StudentError):
        return "error"
    return "wrong"
