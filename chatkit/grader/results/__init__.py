"""Grading results: the results.json every run writes, and every format made from it.

    __init__.py    TestResult, Results: the data, read from and written to results.json
    tables.py      the score table as text (the end of `pytest exercises/`) and as HTML (check())
    classroom.py   GitHub Classroom's runner result (one entry per point: the reporter's totals agree)
    gradebook.py   the roster joined to the submissions; Canvas, Moodle and CSV import files
    feedback.py    one file per student to hand back: score table, hints, what happened
    words.py       the feedback's sentences, through gettext

results.json is Gradescope's format (top-level ``score``,
``execution_time``, ``output``, ``tests[]`` with ``name``, ``number``,
``score``, ``max_score``, ``status``, ``output``, ``visibility``); what only
chatkit needs sits under ``extra_data``. The score table at the end of
``pytest exercises/``, the one ``check("ex03")`` shows in a notebook, the
student's ``progress`` and the bulk gradebook are all made from this one
format.
"""

import json
import os
import tempfile
from dataclasses import dataclass, field

from chatkit.grader.results.tables import text_table
from chatkit.grader.results.words import _


@dataclass
class TestResult:
    __test__ = False  # a result, not a test class for pytest to collect
    exercise: str  # 'ex03_threads'
    test: str  # 'test_two_clients_are_served_at_once'
    description: str  # first line of the test's docstring
    score: float
    max_score: float
    status: str  # 'passed', 'failed', or 'not run'
    hint: str = ""
    output: str = ""
    seconds: float = 0.0
    kind: str = ""  # why it failed: todo, wrong, hang, crash, error, syntax, limit, tampered (KINDS)
    optional: bool = False  # an optional exercise's test: its points are extra, never in the total

    @property
    def passed(self):
        return self.status == "passed"

    @property
    def what_happened(self):
        """The first line of the failure after its hint: what the test saw."""
        hint = _("Hint: {hint}").format(hint="").strip()  # the output's first line, in the language it was graded in
        lines = [line for line in self.output.splitlines() if line.strip() and not line.startswith(("Hint:", hint))]
        return lines[0] if lines else ""


# Why a test did not pass, from the failure (scoring.kind_of): what the gradebook's statuses come from.
KINDS = {
    "todo": "not attempted (the TODO is still there)",
    "wrong": "wrong answer",
    "hang": "hangs (a call never returned)",
    "crash": "crashed (the program or one of its threads died)",
    "error": "raised an exception",
    "syntax": "syntax error (Python cannot read the file)",
    "limit": "hit a resource limit (memory, processes, open files or CPU time)",
    "tampered": "tampered (touched the grader's own files or code)",
    "not run": "not reached",
}


@dataclass
class Results:
    tests: list = field(default_factory=list)
    tampered: list = field(default_factory=list)  # what differs from the kit's manifest
    complete: bool = True  # False while a run is still going (or was killed)
    solutions: bool = False  # graded the reference answers
    seconds: float = 0.0
    ignored: list = field(default_factory=list)  # what the student's repository held that grading ignored
    notes: list = field(default_factory=list)  # what the grader could not do here (walls it could not raise)

    @classmethod
    def from_json(cls, data):
        extra = data.get("extra_data", {})
        tests = [TestResult(**{"status": test["status"], **test["extra_data"], "score": test["score"],
                               "max_score": test["max_score"], "output": test.get("output", "")})
                 for test in data.get("tests", []) if "exercise" in test.get("extra_data", {})]
        return cls(tests, extra.get("tampered", []), extra.get("complete", True),
                   extra.get("solutions", False), data.get("execution_time", 0.0),
                   extra.get("ignored", []), extra.get("notes", []))

    @classmethod
    def load(cls, path):
        with open(path, encoding="utf-8") as file:
            return cls.from_json(json.load(file))

    def to_json(self):
        tests, numbers = [], {}
        for test in self.tests:  # numbered within each exercise: 1.1 ... 1.4, 2.1 ...
            numbers[test.exercise] = numbers.get(test.exercise, 0) + 1
            tests.append({
                "name": f"{test.exercise}: {test.description or test.test}",
                "number": f"{test.exercise[2:4].lstrip('0')}.{numbers[test.exercise]}",
                "score": test.score, "max_score": test.max_score,
                "status": "passed" if test.passed else "failed",
                "output": test.output, "output_format": "text", "visibility": "visible",
                "extra_data": {"exercise": test.exercise, "test": test.test, "status": test.status,
                               "description": test.description, "kind": test.kind,
                               "hint": test.hint, "seconds": round(test.seconds, 3), "optional": test.optional},
            })
        return {
            "score": self.score,
            "execution_time": round(self.seconds, 2),
            "output": "```\n" + text_table(self) + "\n```", "output_format": "md",
            "test_output_format": "text", "test_name_format": "text",
            "visibility": "visible", "stdout_visibility": "hidden",
            "tests": tests,
            "extra_data": {"max_score": self.max_score, "optional": {"score": self.extra_score, "max_score": self.extra_max_score},
                           "exercises": {ex: {"score": s, "max_score": m} for ex, s, m in self.by_exercise()},
                           "tampered": self.tampered, "complete": self.complete, "solutions": self.solutions,
                           "ignored": self.ignored, "notes": self.notes},
        }

    def save(self, path):
        """Write atomically: a run killed half-way still leaves a valid file.

        The temporary file gets a name nobody can guess, so nothing made in
        its place beforehand can stop the save. The saves after each test are
        compact (json's C encoder; indenting takes its slower Python one);
        the last one, of a complete run, is indented for people to read.
        """
        write_atomically(path, json.dumps(self.to_json(), ensure_ascii=False, indent=1 if self.complete else None))

    @property
    def score(self):
        """The points earned on the required exercises (an optional one's points are extra)."""
        return round(sum(test.score for test in self.tests if not test.optional), 2)

    @property
    def max_score(self):
        """The points of the required exercises: what the total is out of."""
        return round(sum(test.max_score for test in self.tests if not test.optional), 2)

    @property
    def extra_score(self):
        """The points earned on optional exercises, beside the total."""
        return round(sum(test.score for test in self.tests if test.optional), 2)

    @property
    def extra_max_score(self):
        return round(sum(test.max_score for test in self.tests if test.optional), 2)

    def exercises(self):
        return list(dict.fromkeys(test.exercise for test in self.tests))

    def by_exercise(self):
        """[(exercise, score, max_score)] in exercise order."""
        return [(ex, round(sum(t.score for t in self.tests if t.exercise == ex), 2),
                 round(sum(t.max_score for t in self.tests if t.exercise == ex), 2))
                for ex in self.exercises()]

    def first_failure(self):
        """The test a student should look at next: the first one not passed, in order (optional ones last)."""
        return next((test for test in sorted(self.tests, key=lambda test: test.optional) if not test.passed), None)


def write_atomically(path, text):
    """Write `text` to `path` through a fresh temporary file beside it, then rename it into place."""
    folder, name = os.path.split(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=f".{name}.", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
