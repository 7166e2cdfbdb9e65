"""Grading results: the results.json every run writes, and every format made from it.

    __init__.py    TestResult, Results: the data, read from and written to results.json
    tables.py      the score table as text (the end of `pytest exercises/`) and as HTML (check())
    classroom.py   GitHub Classroom's runner result

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
from dataclasses import dataclass, field

from chatkit.grader.results.tables import text_table


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

    @property
    def passed(self):
        return self.status == "passed"

    @property
    def what_happened(self):
        """The first line of the failure after its hint: what the test saw."""
        lines = [line for line in self.output.splitlines() if line.strip() and not line.startswith("Hint:")]
        return lines[0] if lines else ""


@dataclass
class Results:
    tests: list = field(default_factory=list)
    tampered: list = field(default_factory=list)  # what differs from the kit's manifest
    complete: bool = True  # False while a run is still going (or was killed)
    solutions: bool = False  # graded the reference answers
    seconds: float = 0.0

    @classmethod
    def from_json(cls, data):
        extra = data.get("extra_data", {})
        tests = [TestResult(**{"status": test["status"], **test["extra_data"], "score": test["score"],
                               "max_score": test["max_score"], "output": test.get("output", "")})
                 for test in data.get("tests", [])]
        return cls(tests, extra.get("tampered", []), extra.get("complete", True),
                   extra.get("solutions", False), data.get("execution_time", 0.0))

    @classmethod
    def load(cls, path):
        with open(path, encoding="utf-8") as file:
            return cls.from_json(json.load(file))

    def to_json(self):
        tests = []
        for number, test in enumerate(self.tests, 1):
            tests.append({
                "name": f"{test.exercise}: {test.description or test.test}",
                "number": f"{test.exercise[2:4].lstrip('0')}.{number}",
                "score": test.score, "max_score": test.max_score,
                "status": "passed" if test.passed else "failed",
                "output": test.output, "visibility": "visible",
                "extra_data": {"exercise": test.exercise, "test": test.test, "status": test.status,
                               "description": test.description,
                               "hint": test.hint, "seconds": round(test.seconds, 3)},
            })
        return {
            "score": self.score, "max_score": self.max_score,
            "execution_time": round(self.seconds, 2),
            "output": text_table(self),
            "visibility": "visible", "stdout_visibility": "visible",
            "tests": tests,
            "extra_data": {"exercises": {ex: {"score": s, "max_score": m} for ex, s, m in self.by_exercise()},
                           "tampered": self.tampered, "complete": self.complete, "solutions": self.solutions},
        }

    def save(self, path):
        """Write atomically: a run killed half-way still leaves a valid file."""
        temporary = f"{path}.part"
        with open(temporary, "w", encoding="utf-8") as file:
            json.dump(self.to_json(), file, ensure_ascii=False, indent=1)
        os.replace(temporary, path)

    @property
    def score(self):
        return round(sum(test.score for test in self.tests), 2)

    @property
    def max_score(self):
        return round(sum(test.max_score for test in self.tests), 2)

    def exercises(self):
        return list(dict.fromkeys(test.exercise for test in self.tests))

    def by_exercise(self):
        """[(exercise, score, max_score)] in exercise order."""
        return [(ex, round(sum(t.score for t in self.tests if t.exercise == ex), 2),
                 round(sum(t.max_score for t in self.tests if t.exercise == ex), 2))
                for ex in self.exercises()]

    def first_failure(self):
        """The test a student should look at next: the first one not passed, in order."""
        return next((test for test in self.tests if not test.passed), None)
