"""Hostile submissions, graded in one batch: each scores only what it earned, is named, and stops nothing.

Every student hands in the reference answers plus one trick. A trick that
the clean copy ignores (files beside the exercises) costs nothing and earns
nothing; exercise code that touches the grader earns its exercise 0 points
and is named in the summary; processes it starts are all gone afterwards.
"""

import argparse
import csv
import subprocess
import textwrap

import pytest

from chatkit.grader.authoring.samples import write_submission
from chatkit.grader.commands import grade as bulk
from grading_helpers import points

MARK = "chatkit-zoo-sleeper"  # in the command line of every process a trick leaves running


def extra(student, name, text):
    path = student / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")


def append(student, exercise, text):
    path = student / "exercises" / f"{exercise}.py"
    path.write_text(path.read_text(encoding="utf-8") + textwrap.dedent(text), encoding="utf-8")


IGNORED = {  # files beside the exercises: never loaded, so the full score stands
    "root_conftest": lambda s: extra(s, "conftest.py", """
        import pytest
        @pytest.hookimpl(wrapper=True)
        def pytest_runtest_makereport(item, call):
            report = yield
            report.outcome = "passed"
            return report
        """),
    "ini_options": lambda s: extra(s, "pytest.ini", "[pytest]\naddopts = -p no:chatkit -k nothing\n"),
    "customize": lambda s: (extra(s, "sitecustomize.py", "raise SystemExit(0)\n"),
                            extra(s, "usercustomize.py", "raise SystemExit(0)\n"),
                            extra(s, "evil.pth", "import sys; sys.exit(0)\n")),
    "shadow_chatkit": lambda s: extra(s, "chatkit/grader/sandbox/probes.py", "CHECKS = {}\n"),
}
TOUCHED = {  # exercise code that reaches for the grader: that exercise earns 0
    "monkeypatched_probes": ("ex04_broadcast", """
        import chatkit.grader.sandbox.probes as probes
        probes.unguarded_uses = lambda *args, **kwargs: []
        """),
    "rewrites_kit_tests": ("ex02_accept_loop", """
        import os
        folder = os.path.dirname(os.path.abspath(__file__))
        for number, name in enumerate(["listen", "accept_loop", "threads", "broadcast"], 1):
            open(os.path.join(folder, f"ex0{number}_{name}_test.py"), "w").write("")
        """),
    "deletes_conftest": ("ex03_threads", """
        import os
        os.remove(os.path.join(os.path.dirname(os.path.abspath(__file__)), "conftest.py"))
        """),
    "imports_solutions": ("ex05_nicknames", "\nfrom solutions.ex05_nicknames import *  # noqa\n"),
}
CONTAINED = {  # processes and floods: contained, and the answers still earn their points
    "setsid_child_rewrites_results": ("ex06_framing", f"""
        import subprocess
        subprocess.Popen(["sh", "-c", "exec -a {MARK} sleep 30 & for i in 1 2 3 4 5 6 7 8 9 10; do "
                          "for f in ../results/results.json ../*.json; do echo '{{\\"score\\": 99}}' > $f; done; "
                          "sleep 0.2; done"], start_new_session=True)
        """),
    "sleepers_and_open_stdout": ("ex07_slow_reader", f"""
        import subprocess, sys
        for _ in range(5):
            subprocess.Popen(["sh", "-c", "exec -a {MARK} sleep 60"], start_new_session=True,
                             stdout=sys.__stdout__, stderr=sys.__stderr__)
        """),
    "megabytes_of_output": ("ex01_listen", """
        import sys
        sys.stderr.write("x" * 5_000_000 + "\\n")
        print("y" * 3_000_000)
        """),
}


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    root = tmp_path_factory.mktemp("zoo")
    submissions = root / "submissions"
    # Every student's files are signed: each is graded in its own run, none takes another's results (samefiles.py)
    for name, trick in IGNORED.items():
        student = submissions / name
        write_submission(student, signed=name)
        trick(student)
    for name, (exercise, code) in {**TOUCHED, **CONTAINED}.items():
        student = submissions / name
        write_submission(student, signed=name)
        append(student, exercise, code)
    out = root / "out" / "grades.csv"
    status = bulk.main(argparse.Namespace(submissions=str(submissions), out=str(out), jobs=2, time_limit=90))
    with open(out, encoding="utf-8-sig") as file:
        rows = {row["student_id"]: row for row in csv.DictReader(file)}
    summary = out.with_name("grades-summary.txt").read_text(encoding="utf-8")
    left = subprocess.run(["pgrep", "-f", MARK], capture_output=True, text=True).stdout.split()
    results = out.with_name("grades-tests.csv").read_text(encoding="utf-8-sig")
    return {"status": status, "rows": rows, "summary": summary, "left": left, "tests": results}


def test_the_batch_finishes_with_a_row_for_everyone(zoo):
    assert zoo["status"] == 0
    assert set(zoo["rows"]) == set(IGNORED) | set(TOUCHED) | set(CONTAINED)


@pytest.mark.parametrize("name", IGNORED)
def test_files_beside_the_exercises_change_nothing(zoo, name):
    row = zoo["rows"][name]
    assert (row["total"], row["status"]) == (str(points()), "ok"), row


@pytest.mark.parametrize("name", TOUCHED)
def test_code_touching_the_grader_earns_its_exercise_nothing(zoo, name):
    exercise, _ = TOUCHED[name]
    row = zoo["rows"][name]
    assert row["status"] == "tampered" and row[exercise] == "0", row
    others = [ex for ex in row if ex.startswith("ex") and ex != exercise]
    assert all(row[ex] != "0" for ex in others), ("the other exercises keep their points", row)
    assert f"  {name}: tampered" in zoo["summary"] and f"{exercise}: your code" in zoo["summary"]


@pytest.mark.parametrize("name", CONTAINED)
def test_processes_and_floods_are_contained(zoo, name):
    row = zoo["rows"][name]
    assert row["total"] == str(points()) and row["status"] == "ok", row
    assert float(row["seconds"]) < 30, row


def test_no_process_of_theirs_is_left(zoo):
    assert zoo["left"] == [], "processes a submission started are still running"


def test_megabytes_of_output_stay_out_of_the_results(zoo):
    assert len(zoo["tests"]) < 200_000
