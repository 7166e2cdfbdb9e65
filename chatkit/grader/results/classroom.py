"""GitHub Classroom: the runner result its grading reporter reads (classroom-resources/autograding-grading-reporter).

The reporter prints each test's name, then `test_code` if there is one
(a failed test's `message` only when its status is "error"), and " - line
N" unless `line_no` is 0; its console total is (tests passed / tests) x
max_score, while the score it records is the sum of the tests' `score`. So
each point is one entry here (a 3-point test is three entries, as many
passing as points earned): both totals are then the points earned, and a
failed test's first entry carries its hint and what happened as `test_code`.
An optional exercise's tests are left out: its points are extra, never in
the total the reporter records.
"""

import json

from chatkit.grader.results import write_atomically


def payload(results, max_score=None, reason=""):
    """The runner result for `results`; with no tests at all, one "error" entry saying `reason`."""
    tests = []
    for test in (test for test in results.tests if not test.optional):
        points, earned = int(round(test.max_score)), int(round(test.score))
        details = "\n".join(filter(None, [f"Hint: {test.hint}" if test.hint else "",
                                          f"What happened: {test.what_happened}" if test.what_happened else ""]))
        for point in range(points):
            entry = {"name": f"{test.exercise}: {test.description or test.test}"
                             + (f" [point {point + 1} of {points}]" if points > 1 else ""),
                     "status": "pass" if point < earned else "fail", "score": 1 if point < earned else 0,
                     "max_score": 1, "line_no": 0, "execution_time": f"{test.seconds:.2f}s"}
            if point == earned and not test.passed and details:  # the first point lost says why
                entry["test_code"] = entry["message"] = details
            tests.append(entry)
    if not tests:
        return {"version": 1, "status": "error", "max_score": max_score or 0,
                "tests": [{"name": "chatkit grading", "status": "error", "score": 0, "max_score": max_score or 0,
                           "line_no": 0, "message": reason or "the grader did not run"}]}
    return {"version": 1, "status": "pass" if all(t["status"] == "pass" for t in tests) else "fail",
            "max_score": len(tests), "tests": tests}


def save(results, path, max_score=None, reason=""):
    """Write `results` as a GitHub Classroom runner result to `path`."""
    write_atomically(path, json.dumps(payload(results, max_score, reason), ensure_ascii=False, indent=1))
