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
"""

import threading

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
    """`with hint("what to look at"):` a failure inside shows this hint first."""

    def __init__(self, text):
        self.text = text

    def __enter__(self):
        return self

    def __exit__(self, exc_type, error, traceback):
        if error is not None and not hasattr(error, "chatkit_hint"):
            error.chatkit_hint = self.text  # the innermost hint is set first and wins
        return False


class part(hint):
    """`with part(points, "hint"):` partial credit; a failure inside does not stop the test."""

    def __init__(self, points, text):
        super().__init__(text)
        self.points = points

    def __exit__(self, exc_type, error, traceback):
        super().__exit__(exc_type, error, traceback)
        if error is not None and not isinstance(error, Exception):
            return False  # KeyboardInterrupt and the like stop the run
        current_test().parts.append((self.points, error is None, self.text, error))
        return True


GENERIC_HINTS = {
    "todo": "Write the TODO named below: it is what this test needs first.",
    "syntax": "Python cannot read your file: fix the line named below (a missing colon, bracket or quote?).",
    "limit": "Your program used more than the grader allows (see below): look for something that keeps growing.",
    "tampered": "Your code touched the grader's own files or code: this exercise earns 0 points.",
    "hang": "Your code waits for something that never happens: see what your program was doing, below.",
    "gone": "Your program ended while being tested: look for sys.exit(), os._exit() or a crash.",
    "error": "Your code raised an exception: look at the line of your file named below.",
    "other": "Compare what the test expected with what actually happened, below.",
}


def hint_for(error, test_hint=""):
    """The hint shown first for a failure: the innermost hint or part around it, else the
    test's own (``@pytest.mark.points(n, hint=...)``), else one for the kind of failure."""
    return getattr(error, "chatkit_hint", "") or test_hint or default_hint(error)


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
    if isinstance(error, StudentHang) or "What your program was doing" in str(error):
        return "hang"
    if isinstance(error, StudentGone) or (isinstance(error, StudentError) and error.label.startswith("thread ")):
        return "crash"
    if isinstance(error, StudentError):
        return "error"
    return "wrong"
