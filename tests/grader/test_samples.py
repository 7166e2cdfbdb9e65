"""Buggy submissions lose the points they should, with the right hint, in bounded time.

Each bug of chatkit.grader.authoring.samples (the report's own weaknesses first: no
lock, one recv() taken as one message, no leave notice on a reset; then, exercise
by exercise, the mistakes beginners make: SO_REUSEADDR after bind(), a single
accept, a thread never started, a lock taken twice, a goodbye said twice, a take()
that polls, ...) is applied to one reference answer, and that exercise is graded
with the kit's tests: it must lose exactly the points of the tests it breaks, keep
all the others, and the first failing test's hint must name the mistake.
"""

import os
import pickle
import sys
from pathlib import Path

import pytest

from chatkit.grader.authoring.samples import BUGS, STAGE5_LOSES, STAGE5_SAYS
from chatkit.grader.commands import progress
from chatkit.grader.results.tables import html_table, text_table
import early
import grading_helpers
from grading_helpers import exercises_copy

TIME_BOUND = 40  # seconds one buggy exercise may take to grade, hangs included
pytestmark = pytest.mark.timeout(600)  # grading every bug (the module fixture) takes about 2 minutes, more when busy


def start_grading_every_bug(folder):
    """Grade every bug in a process of its own, four at a time: it takes two minutes, mostly waiting
    on timeouts, so it starts with the session and runs beside the other tests (tests/early.py)."""
    helpers = Path(grading_helpers.__file__)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(helpers.parent), str(helpers.parent.parent)])}
    return folder, early.Command([sys.executable, helpers, "grade-bugs", folder], folder,
                                 output=folder / "grading.txt", env=env)


every_bug_graded = pytest.mark.early(start=start_grading_every_bug)


@pytest.fixture(scope="module")
def graded():
    """{bug name: runner.Run}, every bug graded once by the command started early."""
    folder, command = early.started(start_grading_every_bug)
    done = command.wait(timeout=580)
    assert done.returncode == 0, f"grading the bugs failed (exit {done.returncode}):\n{done.stdout[-6000:]}"
    return pickle.loads((folder / "graded.pickle").read_bytes())


@every_bug_graded
@pytest.mark.parametrize("bug", BUGS, ids=[bug.name for bug in BUGS])
def test_bug_loses_its_points(graded, bug):
    run = graded[bug.name]
    assert run.results.complete and not run.timed_out, run.output[-3000:]
    lost = {t.test: t.max_score - t.score for t in run.results.tests if t.score < t.max_score}
    assert lost == bug.loses, run.output[-4000:]


@every_bug_graded
@pytest.mark.parametrize("bug", BUGS, ids=[bug.name for bug in BUGS])
def test_failure_says_what_to_look_at(graded, bug):
    first = next(t for t in graded[bug.name].results.tests if t.test == next(iter(bug.loses)))
    assert bug.says in first.output, first.output
    assert first.hint or "not written" in first.output or "ended" in first.output, first.output


@every_bug_graded
@pytest.mark.parametrize("bug", BUGS, ids=[bug.name for bug in BUGS])
def test_bug_is_graded_in_bounded_time(graded, bug):
    assert graded[bug.name].seconds < TIME_BOUND


def test_bugs_are_many_and_cover_every_exercise():
    """At least five realistic mistakes for every exercise, and 50 in all."""
    from chatkit.grader import layout

    per_exercise = {exercise: sum(bug.exercise == exercise for bug in BUGS) for exercise in layout.exercise_ids()}
    assert all(count >= 5 for count in per_exercise.values()), per_exercise
    assert len(BUGS) >= 50


@every_bug_graded
def test_named_causes_of_hangs(graded):
    """A hang names what the student's threads were doing, in their own file, and the hint names the cause."""
    deadlock = next(t for t in graded["a lock taken twice (deadlock)"].results.tests
                    if t.test == "test_everyone_hears_a_message")
    assert "waiting for a lock" in deadlock.output and "ex04_broadcast.py" in deadlock.output
    assert deadlock.hint.startswith("`add_user` holds self.lock (line ") and "calls `send_all`, which takes it again" \
        in deadlock.hint, deadlock.hint
    loop = next(t for t in graded["a loop that never returns"].results.tests
                if t.test == "test_stop_disconnects_everyone")
    assert "did not return within" in loop.output and "ex03_threads.py" in loop.output
    import_loop = graded["an endless loop at import"].results.tests
    assert all(t.hint.startswith("Importing your file never finishes: the code at exercises/ex07_slow_reader.py:")
               and "the main thread (importing your file) is running Python code" in t.output for t in import_loop)


@every_bug_graded
def test_stage5_fails_the_capstone_where_its_design_breaks(graded):
    """The report's server (stage 5), handed in for exercise 9, loses the points of each behaviour its design
    gets wrong, and each failure's hint names that weakness; the reference server and stage 6 lose only the
    point for writing the server yourself (samples "the reference server imported", "stage 6 imported")."""
    tests = {t.test: t for t in graded["stage 5 handed in (the report's design)"].results.tests}
    assert set(STAGE5_SAYS) == set(STAGE5_LOSES)
    for test, says in STAGE5_SAYS.items():
        assert says in tests[test].hint, f"{test}: {tests[test].hint}"
    for kit_server in ("the reference server imported", "stage 6 imported"):
        lost = [t.test for t in graded[kit_server].results.tests if not t.passed]
        assert lost == ["test_the_server_is_your_own"], (kit_server, lost)


@every_bug_graded
def test_crash_in_one_test_does_not_stop_the_run(graded):
    """sys.exit() in a client thread fails the /quit test; the other tests of the exercise still pass."""
    tests = graded["sys.exit on /quit"].results.tests
    assert [t.test for t in tests if not t.passed] == ["test_quit_is_announced_once"]
    assert "ends the whole program" in tests[3].hint and "sys.exit(0)" in tests[3].hint


@every_bug_graded
def test_an_exception_leads_every_view_of_the_hint(graded):
    """The student's own exception, at their line, is the first hint: in the table, on the "Next:" line,
    in progress, and in check()'s notebook table (all made from the same results)."""
    results = graded["bind() given two arguments"].results
    lead = "Hint: Your code raised TypeError at exercises/ex01_listen.py:"
    assert lead in text_table(results), text_table(results)
    assert any(line.startswith("  " + lead) for line in progress.lines_for(results))
    assert lead.removeprefix("Hint: ") in html_table(results)
    assert "(self.listener.bind(self.host, self.port))" in html_table(results), "the line itself, in the table"


def test_edited_test_file_is_reported(tmp_path):
    """An edited graded test zeroes its exercise; an added conftest.py is ignored; both are said."""
    exercises = exercises_copy(tmp_path)
    test_file = exercises / "ex06_framing_test.py"
    test_file.write_text(test_file.read_text(encoding="utf-8").replace("points(2)", "points(20)"), encoding="utf-8")
    (exercises / "extra").mkdir()
    (exercises / "extra" / "conftest.py").write_text("", encoding="utf-8")
    from chatkit.grader.commands.run import run_grader

    run = run_grader([exercises / "ex06_framing_test.py"], tmp_path / "results.json", cwd=tmp_path)
    assert "exercises/ex06_framing_test.py was edited (it differs from the kit's copy)" in run.results.tampered
    assert "exercises/extra/conftest.py (test files and conftest.py belong to the kit)" in run.results.ignored
    assert "WARNING: exercises/ex06_framing_test.py was edited" in run.output
    assert "NOTE: ignored exercises/extra/conftest.py" in run.output
    korean = next(t for t in run.results.tests if t.test == "test_korean_cut_anywhere")
    assert korean.max_score == 2, "points come from the kit's manifest, not from the edited file"
    assert {t.kind for t in run.results.tests} == {"tampered"}, "the edited test file's exercise earns nothing"
    assert run.results.score == 0 and {t.status for t in run.results.tests} == {"failed"}, \
        "tests that ran (and passed) after the edit was found earn nothing either"


def test_deselected_tests_count_zero(tmp_path):
    """Tests a run leaves out (-k, renamed, skipped) are listed as not run, with 0 points."""
    from chatkit.grader.commands.run import run_grader

    run = run_grader([exercises_copy(tmp_path) / "ex06_framing_test.py"], tmp_path / "results.json",
                     solutions=False, cwd=tmp_path, extra_args=["-k", "one_line"])
    statuses = {t.test: t.status for t in run.results.tests}
    assert statuses["test_one_line"] == "failed"
    assert statuses["test_korean_cut_anywhere"] == "not run"
    assert run.results.max_score == 8
