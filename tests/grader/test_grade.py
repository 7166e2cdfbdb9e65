"""Grading a class: a gradebook row per student, tamper and timeout statuses, the summary and plot."""

import argparse
import csv
import shutil
import threading
import zipfile

import pytest

from chatkit.grader import layout
from chatkit.grader.commands import grade as bulk
from chatkit.grader.commands import summary
from chatkit.grader.authoring.samples import BUGS, write_submission
from chatkit.tools import language
from grading_helpers import manifest_tests, points


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    """Five submissions graded with `python -m chatkit grade`, two at a time; one more with a short limit."""
    root = tmp_path_factory.mktemp("class")
    submissions = root / "submissions"
    write_submission(submissions / "alice")  # every answer right
    write_submission(submissions / "bob", exercises=[])  # the untouched stubs
    # right answers (her own: signed, so her run grades them), and an edited test file
    write_submission(submissions / "carol", edit_tests=True, signed="carol")
    (submissions / "frank").mkdir()  # handed in nothing
    (submissions / "erin.zip").write_bytes(b"not a zip file")
    hanging = root / "dave"
    write_submission(hanging, exercises=["ex01_listen"], bugs=[b for b in BUGS if b.name == "an endless loop at import"])
    with zipfile.ZipFile(root / "dave.zip", "w") as archive:  # a zip with an extra folder level, as downloads are
        for path in hanging.rglob("*.py"):
            archive.write(path, f"dave-main/{path.relative_to(hanging)}")
    shutil.rmtree(hanging)
    timed = {}
    thread = threading.Thread(target=lambda: timed.update(dave=bulk.grade_submission("dave", root / "dave.zip",
                                                                                     time_limit=3)))
    thread.start()
    out = root / "out" / "grades.csv"
    args = argparse.Namespace(submissions=str(submissions), out=str(out), jobs=2, time_limit=60)
    status = bulk.main(args)
    thread.join()
    with open(out, encoding="utf-8-sig") as file:
        rows = {row["student_id"]: row for row in csv.DictReader(file)}
    return {"status": status, "rows": rows, "out": out, "dave": timed["dave"]}


def test_gradebook_has_a_row_per_student(graded_class):
    assert graded_class["status"] == 0
    rows = graded_class["rows"]
    assert list(rows) == ["alice", "bob", "carol", "erin", "frank"]
    assert list(rows["alice"]) == ["student_id", *layout.exercise_ids(), "total", "max", "status", "seconds", "notes"]
    assert (rows["alice"]["total"], rows["alice"]["max"], rows["alice"]["status"]) == (str(points()), str(points()), "ok")
    assert (rows["bob"]["total"], rows["bob"]["status"]) == ("0", "ok")


def test_edited_tests_are_flagged_and_never_used(graded_class):
    carol = graded_class["rows"]["carol"]
    assert carol["status"] == "tampered", carol
    assert "ex01_listen_test.py was edited" in carol["notes"], carol
    with open(graded_class["out"].with_name("grades-tests.csv"), encoding="utf-8-sig") as file:
        lost = [row for row in csv.DictReader(file) if row["student_id"] == "carol" and row["status"] != "passed"]
    assert carol["total"] == str(points()) and carol["ex01_listen"] == str(points("ex01_listen")), ("graded with the kit's tests, not hers", lost)


def test_broken_and_empty_submissions(graded_class):
    rows = graded_class["rows"]
    assert rows["erin"]["status"] == "error" and "zip" in rows["erin"]["notes"]
    assert rows["frank"]["total"] == "0" and "no exercise files" in rows["frank"]["notes"]


def test_a_hanging_submission_keeps_what_it_earned(graded_class):
    dave = graded_class["dave"]
    assert dave.status == "timeout" and "stopped after 3 s" in dave.notes
    assert dave.scores.get("ex01_listen") == points("ex01_listen"), "ex01 was graded before the time ran out"
    assert dave.seconds < 10


def test_summary_and_plot(graded_class):
    out = graded_class["out"]
    summary = out.with_name("grades-summary.txt").read_text(encoding="utf-8")
    assert f"5 submissions, out of {points()} points" in summary
    assert "Tests failed most (" in summary and "ex01_listen::test_reports_the_real_port" in summary
    assert "carol: tampered" in summary
    assert out.with_suffix(".png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with open(out.with_name("grades-tests.csv"), encoding="utf-8-sig") as file:
        tests = list(csv.DictReader(file))
    assert len([t for t in tests if t["student_id"] == "alice"]) == len(manifest_tests())


def test_the_summary_and_plot_speak_korean_to_a_korean_instructor(graded_class, monkeypatch, tmp_path):
    """The summary's words and the plot's labels in Korean; statuses and test names as the CSV writes them."""
    monkeypatch.setattr(summary, "_", language.translator("ko"))
    dave = graded_class["dave"]
    text = summary.summary([dave], layout.exercise_ids())
    assert text.startswith(f"제출물 1개, {points()}점 만점: 평균 ")
    for heading in ("총점 분포:", "연습 문제별(평균 점수, 만점을 받은 학생 수):", "가장 많이 틀린 테스트(", "살펴봐야 할 제출물:"):
        assert heading in text, heading
    assert "dave: timeout" in text and "ex02_accept_loop::" in text
    assert "submissions" not in text and "Look at these" not in text
    summary.plot([dave], tmp_path / "grades.png")  # the suite's warnings are errors: a missing Hangul glyph fails here
    assert (tmp_path / "grades.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_exercise_files_are_found_anywhere(tmp_path):
    (tmp_path / "deep" / "src").mkdir(parents=True)
    (tmp_path / "deep" / "src" / "ex03_threads.py").write_text("", encoding="utf-8")
    (tmp_path / "solutions").mkdir()
    (tmp_path / "solutions" / "ex04_broadcast.py").write_text("", encoding="utf-8")  # never a student's
    found = bulk.exercise_files(tmp_path, ["ex03_threads", "ex04_broadcast"])
    assert list(found) == ["ex03_threads"]
