"""Grading results: the results.json every run writes, and the tables made from it.

The file is Gradescope's ``results.json`` (top-level ``score``,
``execution_time``, ``output``, ``tests[]`` with ``name``, ``number``,
``score``, ``max_score``, ``status``, ``output``, ``visibility``); what only
chatkit needs sits under ``extra_data``. The score table at the end of
``pytest exercises/``, the one ``check("ex03")`` shows in a notebook, the
student's ``progress`` and the bulk gradebook are all made from this one
format.
"""

import html
import json
import os
from dataclasses import dataclass, field


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
            "output": self.text_table(),
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

    def text_table(self):
        """The score table, plain text (the end of every `pytest exercises/` run)."""
        rows = [f"{'exercise':<20} {'tests':>7} {'points':>9}"]
        for exercise, score, max_score in self.by_exercise():
            tests = [t for t in self.tests if t.exercise == exercise]
            passed = sum(t.passed for t in tests)
            mark = "done" if passed == len(tests) else ("not run" if all(t.status == "not run" for t in tests) else "")
            rows.append(f"{exercise:<20} {passed:>3}/{len(tests):<3} {number(score):>4}/{number(max_score):<4} {mark}")
        rows.append(f"{'total':<20} {'':>7} {number(self.score):>4}/{number(self.max_score):<4}")
        rows += self.next_step_lines()
        rows += [f"WARNING: {problem}" for problem in self.tampered]
        if not self.complete:
            rows.append("WARNING: this run did not finish; tests not reached count 0.")
        return "\n".join(rows)

    def next_step_lines(self):
        test = self.first_failure()
        if test is None:
            return ["All graded tests pass."] if self.tests else ["No graded tests ran."]
        lines = [f"Next: {test.exercise}, {test.test} ({points(test.max_score)}): {test.description}"]
        if test.hint:
            lines.append(f"  Hint: {test.hint}")
        return lines

    def html_table(self):
        """The same table for a notebook: one row per test, hints on failures."""
        esc = html.escape
        rows = []
        for exercise, score, max_score in self.by_exercise():
            rows.append(f"<tr style='background:#eef'><th style='text-align:left'>{esc(exercise)}</th>"
                        f"<th style='text-align:right'>{number(score)}/{number(max_score)}</th></tr>")
            for test in (t for t in self.tests if t.exercise == exercise):
                mark = ("<span style='color:#080'>&#10003;</span>" if test.passed
                        else "<span style='color:#c00'>&#10007;</span>")
                hint = "" if test.passed else "".join(
                    f"<br><small>{label}{esc(text)}</small>"
                    for label, text in (("Hint: ", test.hint), ("", test.what_happened)) if text)
                rows.append(f"<tr><td style='text-align:left'>{mark} {esc(test.description or test.test)}{hint}</td>"
                            f"<td style='text-align:right'>{number(test.score)}/{number(test.max_score)}</td></tr>")
        rows.append(f"<tr><th style='text-align:left'>total</th>"
                    f"<th style='text-align:right'>{number(self.score)}/{number(self.max_score)}</th></tr>")
        notes = "".join(f"<p style='color:#a00'>{esc(line)}</p>" for line in
                        [f"WARNING: {p}" for p in self.tampered] +
                        ([] if self.complete else ["This run did not finish; tests not reached count 0."]))
        return f"<table>{''.join(rows)}</table>{notes}"


def points(value):
    """'1 point', '2 points', '1.5 points'."""
    return f"{number(value)} point{'' if value == 1 else 's'}"


def number(value):
    """2 for 2.0, 1.5 for 1.5: points read best without a needless '.0'."""
    return f"{value:g}"
