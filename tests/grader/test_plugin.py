"""The grader's pieces: names of exercises, results formats, check(), progress, diagnosis of hangs."""

import json

import pytest

from chatkit.grader import check, layout
from chatkit.grader.commands import progress
from chatkit.grader.sandbox import diagnose
from chatkit.grader.results import Results, TestResult
from chatkit.grader.results.tables import text_table
from grading_helpers import exercises_copy


@pytest.mark.parametrize("name", ["ex03", "ex03_threads", "3", "ex3", "ex03_threads.py", "EX03", "ex03_threads_test"])
def test_short_names_find_an_exercise(name):
    assert layout.resolve(name) == "ex03_threads"


def test_unknown_exercise_lists_the_real_ones():
    with pytest.raises(ValueError, match="the exercises are: ex01_listen, ex02_accept_loop"):
        layout.resolve("ex99")


def sample_results():
    return Results([TestResult("ex01_listen", "test_a", "Does a.", 2, 2, "passed"),
                    TestResult("ex01_listen", "test_b", "Does b.", 1, 3, "failed", hint="Look at b.", output="Hint: b"),
                    TestResult("ex02_accept_loop", "test_c", "Does c.", 0, 1, "not run")], seconds=1.5)


def test_results_are_gradescope_json():
    data = sample_results().to_json()
    assert {"score", "execution_time", "output", "tests"} <= set(data)
    assert (data["score"], data["extra_data"]["max_score"]) == (3, 6)
    assert "max_score" not in data, "not a top-level field of Gradescope's spec"
    first = data["tests"][1]
    assert {key: first[key] for key in ("name", "number", "score", "max_score", "status", "visibility")} == {
        "name": "ex01_listen: Does b.", "number": "1.2", "score": 1, "max_score": 3, "status": "failed",
        "visibility": "visible"}
    again = Results.from_json(json.loads(json.dumps(data)))
    assert [t.status for t in again.tests] == ["passed", "failed", "not run"]


def test_score_table_says_what_is_next():
    table = text_table(sample_results())
    assert "ex01_listen" in table and "3/5" in table and "total" in table
    assert "Next: ex01_listen, test_b (3 points): Does b.\n  Hint: Look at b." in table


def test_check_shows_a_table_and_returns_the_result(capsys):
    result = check("ex06", solutions=True)
    assert result.passed and (result.score, result.max_score) == (8, 8)
    printed = capsys.readouterr().out
    assert "ex06_framing" in printed and "All graded tests pass." in printed
    assert "<table>" in result._repr_html_() and "&#10003;" in result._repr_html_()
    assert repr(result) == "<CheckResult ex06_framing: 8/8 points>"


def test_check_on_a_stub_shows_the_hints(capsys):
    result = check("ex06")
    assert not result.passed and result.score == 0
    assert "Hint:" in result._repr_html_() and "not written yet" in result._repr_html_()


def test_classroom_and_gradescope_files(tmp_path):
    from chatkit.grader.commands.run import run_grader

    exercises = exercises_copy(tmp_path)
    classroom = tmp_path / "classroom.json"
    run = run_grader([exercises / "ex06_framing_test.py"], tmp_path / "results.json", solutions=False,
                     cwd=tmp_path, extra_args=["--grade-classroom", str(classroom)])
    data = json.loads(classroom.read_text(encoding="utf-8"))
    assert (data["version"], data["status"], data["max_score"]) == (1, "fail", 8)
    assert {t["status"] for t in data["tests"]} == {"fail"} and data["tests"][0]["score"] == 0
    assert run.results.max_score == 8


def test_progress_names_the_next_exercise_and_its_hint():
    results = Results([TestResult("ex01_listen", "test_a", "Does a.", 1, 1, "passed"),
                       TestResult("ex02_accept_loop", "test_c", "Does c.", 0, 2, "failed", hint="Loop again.")])
    lines = progress.lines_for(results)
    assert lines[0].split()[:3] == ["guided", "ex01_listen", "done"]
    assert lines[1].split()[:3] == ["ex02_accept_loop", "in", "progress"] or lines[1].split()[:3] == [
        "ex02_accept_loop", "not", "started"]
    assert "You are on the guided rung: exercise 2 of 2 (1 done)." in lines
    assert "Next: ex02_accept_loop (Exercise 2 (guided): the accept loop, one client at a time (stage 2))" in lines
    assert "  Hint: Loop again." in lines
    assert "  Check it with: pytest exercises/ex02_accept_loop_test.py  (or: python -m chatkit watch)" in lines


def test_progress_lists_exercises_by_rung():
    """The ladder's rungs head their exercises; the optional ones come last."""
    results = Results([TestResult(exercise, "test_a", "Does a.", 0, 1, "failed", hint="h")
                       for exercise in layout.exercise_ids()])
    lines = progress.lines_for(results)
    assert [line.split()[0] for line in lines[:9] if not line.startswith(" ")] == ["guided", "specified", "open"]
    assert lines[0].startswith("guided") and lines[3].startswith("specified") and lines[8].startswith("open")


def test_a_thread_stuck_everywhere_the_same_is_waiting_one_moving_is_busy():
    student = "/tmp/exercises/ex09_demo.py"
    waiting = {"thread": "client-1", "frames": [[student, 10, "run", "data = conn.recv(1024)"]]}
    busy = [{"thread": "client-2", "frames": [[student, 20 + n, "run", "x += 1"]]} for n in range(3)]
    text = diagnose.explain_stacks([[waiting, busy[n]] for n in range(3)], student)
    assert "thread 'client-1' is waiting in recv() for data that has not come, at exercises/ex09_demo.py:10" in text
    assert "thread 'client-2' is running Python code without waiting (a loop that never ends?)" in text


def test_a_loop_given_little_cpu_by_a_busy_machine_is_still_named_by_its_own_cpu_time():
    """On a loaded machine a loop gets a few ms between the looks: its thread's CPU time says it is busy."""
    student = "/tmp/exercises/ex03_demo.py"

    def look(n, loop_cpu, reader_cpu):
        return {"cpu": 1.0 + 0.01 * n, "threads": [  # the process: 20 ms in all, under the old 50 ms bar
            {"thread": "grader call RunServer.run()", "frames": [[student, 36, "run", "conn = self.wait_for_client()"]],
             "cpu": loop_cpu},
            {"thread": "reader", "frames": [[student, 10, "serve", "data = conn.recv(1024)"]], "cpu": reader_cpu}]}

    looks = [look(n, loop_cpu=0.5 + 0.008 * n, reader_cpu=0.2) for n in range(3)]
    assert diagnose.named_cause(looks, student).startswith("Your code runs in a loop that never waits, at ")
    assert "waiting in recv()" in diagnose.explain_stacks(looks, student)  # its CPU did not move: it waits

    idle = [look(n, loop_cpu=0.5, reader_cpu=0.2) for n in range(3)]
    idle = [{**sample, "cpu": 1.0 + 0.2 * n} for n, sample in enumerate(idle)]  # our looks cost CPU, not theirs
    assert diagnose.named_cause(idle, student) is None
