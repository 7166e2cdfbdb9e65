"""Every graded test passes on the reference answers and fails on the untouched stubs."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from chatkit.grader import layout
from chatkit.grader.commands.run import run_grader
from grading_helpers import exercises_copy, manifest_tests

GRADED = manifest_tests()


@pytest.fixture(scope="module")
def graded_runs(tmp_path_factory):
    """Grade the solutions and the stubs once, side by side (two processes)."""
    solutions_dir = tmp_path_factory.mktemp("solutions")
    stubs_dir = tmp_path_factory.mktemp("stubs")
    stubs = exercises_copy(stubs_dir)
    with ThreadPoolExecutor(2) as pool:
        on_solutions = pool.submit(run_grader, [layout.exercises_dir()], solutions_dir / "results.json",
                                   solutions=True, time_limit=120)
        on_stubs = pool.submit(run_grader, [stubs], stubs_dir / "results.json", time_limit=120, cwd=stubs_dir)
        return {"solutions": on_solutions.result(), "stubs": on_stubs.result()}


def result(run, exercise, test):
    return next(t for t in run.results.tests if (t.exercise, t.test) == (exercise, test))


def test_every_exercise_has_graded_tests():
    assert layout.exercise_ids() == ["ex01_listen", "ex02_accept_loop", "ex03_threads", "ex04_broadcast",
                                     "ex05_nicknames", "ex06_framing", "ex07_slow_reader"]
    assert {exercise for exercise, _, _ in GRADED} == set(layout.exercise_ids())


@pytest.mark.parametrize("exercise, test, points", GRADED, ids=[f"{e}::{t}" for e, t, _ in GRADED])
def test_passes_on_the_solution(graded_runs, exercise, test, points):
    got = result(graded_runs["solutions"], exercise, test)
    assert (got.status, got.score) == ("passed", points), got.output


@pytest.mark.parametrize("exercise, test, points", GRADED, ids=[f"{e}::{t}" for e, t, _ in GRADED])
def test_fails_on_the_stub_naming_the_todo(graded_runs, exercise, test, points):
    got = result(graded_runs["stubs"], exercise, test)
    assert (got.status, got.score) == ("failed", 0)
    assert "not written yet" in got.output and "TODO" in got.output, got.output


def test_runs_are_complete_and_fast(graded_runs):
    for name, run in graded_runs.items():
        assert run.results.complete and not run.timed_out, (name, run.output[-2000:])
        assert run.seconds < 60, f"grading the {name} took {run.seconds:.0f} s"
    assert graded_runs["solutions"].results.score == graded_runs["solutions"].results.max_score
    assert graded_runs["stubs"].results.score == 0
    assert graded_runs["solutions"].results.tampered == [] == graded_runs["stubs"].results.tampered


def test_every_stub_has_a_todo_and_no_solution_left():
    for exercise in layout.exercise_ids():
        stub = (layout.exercises_dir() / f"{exercise}.py").read_text(encoding="utf-8")
        assert "# TODO:" in stub and "raise NotImplementedError" in stub, exercise
        assert "BEGIN SOLUTION" not in stub and "END SOLUTION" not in stub, exercise


def test_server_exercises_run_in_the_live_lab():
    """A server exercise runs with chatkit.lab.LiveServer(module=...), like the stages (solutions here)."""
    import importlib.util
    import sys

    from chatkit.lab import LiveClient, LiveServer

    path = layout.solutions_dir() / "ex05_nicknames.py"
    spec = importlib.util.spec_from_file_location("ex05_nicknames_live", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # as an import would: the lab's views read its source
    spec.loader.exec_module(module)
    with LiveServer(module=module, name="ex05 live") as server:
        with LiveClient(server, "alice") as alice, LiveClient(server, "bob"):
            alice.say("hi")
            alice.expect("alice: hi")
    del sys.modules[spec.name]
