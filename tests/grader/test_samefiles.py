"""Each exercise file graded once a batch: copies get the same results, and only copies do."""

import argparse
import contextlib
import csv
import io
import re
import threading

import pytest

from chatkit.grader import layout
from chatkit.grader.authoring.samples import BUGS, write_submission
from chatkit.grader.commands import grade as bulk
from chatkit.grader.commands import run
from chatkit.grader.commands.samefiles import SameFiles, file_key
from chatkit.grader.results import Results, TestResult

EXERCISES = layout.exercise_ids()
ONE_BUG = next(bug for bug in BUGS if bug.exercise == "ex04_broadcast" and not bug.slow)


def grade_class(folder, out, **options):
    """`python -m chatkit grade` on `folder`, two at a time: (rows, test scores, the files it says it reused)."""
    printed = io.StringIO()
    args = argparse.Namespace(submissions=str(folder), out=str(out), jobs=2, time_limit=60, **options)
    with contextlib.redirect_stdout(printed):
        assert bulk.main(args) == 0
    with open(out, encoding="utf-8-sig") as file:
        rows = {row["student_id"]: row for row in csv.DictReader(file)}
    with open(out.with_name(out.stem + "-tests.csv"), encoding="utf-8-sig") as file:
        tests = {(row["student_id"], row["exercise"], row["test"]): row["score"] for row in csv.DictReader(file)}
    said = re.search(r"(\d+) exercise files were byte for byte the same as one graded before", printed.getvalue())
    return rows, tests, int(said.group(1)) if said else None


@pytest.fixture(scope="module")
def graded_twice(tmp_path_factory):
    root = tmp_path_factory.mktemp("same")
    folder = root / "submissions"
    write_submission(folder / "alice")  # the reference answers
    write_submission(folder / "bob")  # the very same files
    write_submission(folder / "carol", exercises=[])  # every stub untouched
    write_submission(folder / "erin", bugs=[ONE_BUG])  # alice's files but one, with a mistake in it
    once = grade_class(folder, root / "once" / "grades.csv")
    every = grade_class(folder, root / "every" / "grades.csv", regrade_copies=True)
    return once, every


def scores(rows):
    return {student: {key: value for key, value in row.items() if key.startswith("ex") or key in ("total", "status")}
            for student, row in rows.items()}


def test_copies_are_graded_once_and_score_as_if_graded_again(graded_twice):
    (rows, tests, reused), (rows_every, tests_every, reused_every) = graded_twice
    # 4 students x 10 files; different: the answers (10), the stubs (10), erin's ex04: 21 runs' worth
    assert reused == 4 * len(EXERCISES) - (2 * len(EXERCISES) + 1)
    assert reused_every is None  # --regrade-copies: no file is taken from another run
    assert scores(rows) == scores(rows_every)
    assert tests == tests_every


def test_only_a_byte_for_byte_copy_shares_results(graded_twice):
    (rows, tests, _), _ = graded_twice
    assert rows["bob"]["total"] == rows["alice"]["total"] == rows["alice"]["max"]
    assert rows["carol"]["total"] != rows["alice"]["total"]
    erin = rows["erin"]
    assert int(erin["ex04_broadcast"]) < int(rows["alice"]["ex04_broadcast"]), "erin's own ex04 was graded"
    lost = {test for (student, exercise, test), score in tests.items()
            if student == "erin" and exercise == ONE_BUG.exercise
            and score != tests[("alice", exercise, test)]}
    assert lost == set(ONE_BUG.loses)
    assert all(erin[ex] == rows["alice"][ex] for ex in EXERCISES if ex != ONE_BUG.exercise)


def fake_run(tests, timed_out=False, returncode=1, complete=True, tampered=()):
    return run.Run(Results(tests, list(tampered), complete), "", returncode, timed_out, 0.0)


def result(exercise, status="passed", kind=""):
    return TestResult(exercise, "test_one", "", 1.0 if status == "passed" else 0.0, 1.0, status, kind=kind)


@pytest.mark.parametrize("how", ["timed out", "crashed", "killed half-way", "not reached", "tampered"])
def test_results_not_graded_whole_are_not_kept(how):
    exercise = "ex01_listen"
    tests = [result(exercise, "not run" if how == "not reached" else "failed",
                    "tampered" if how == "tampered" else "")]
    grading = fake_run(tests, timed_out=how == "timed out", returncode=-9 if how == "crashed" else 1,
                       complete=how != "killed half-way")
    same = SameFiles()
    keys = {exercise: file_key(exercise, b"print('hi')\n")}
    known, mine, theirs = same.split(keys)
    assert (known, mine, theirs) == ({}, [exercise], {})
    waiting = same.split(keys)  # a second student with the same file, meanwhile
    assert waiting[2].keys() == {exercise}
    same.settle(keys, mine, grading)
    assert same.wait(keys, waiting[2], timeout=1) == {}, "the one waiting grades it itself"
    assert same.split(keys)[1] == [exercise], "and so does the next one"


def test_a_file_being_graded_is_waited_for_not_graded_twice():
    exercise = "ex02_accept_loop"
    same = SameFiles()
    keys = {exercise: file_key(exercise, b"x = 1\n")}
    _, mine, _ = same.split(keys)
    _, others_mine, theirs = same.split(keys)
    assert others_mine == [] and list(theirs) == [exercise]
    got = {}
    waiter = threading.Thread(target=lambda: got.update(same.wait(keys, theirs, timeout=10)))
    waiter.start()
    tests = [result(exercise)]
    same.settle(keys, mine, fake_run(tests))
    waiter.join(10)
    assert got == {exercise: tests} and same.reused == 1
    other = {exercise: file_key(exercise, b"x = 2\n")}
    assert same.split(other)[1] == [exercise], "another file is graded"
    same.forget()
    assert same.split(keys)[1] == [exercise], "after forget() every file is graded again"
