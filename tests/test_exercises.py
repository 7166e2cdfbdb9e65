"""Every graded test passes on the reference answers and fails on the untouched stubs; the exercises
are a ladder (guided, then specified, then open; an optional one past it, whose points are extra),
and what a student writes from exercise 4 on is never imported from, nor inherited from, the kit's
code the notebooks show."""

import ast
import os
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from chatkit.grader import layout
from chatkit.grader.commands.run import run_grader
from chatkit.grader.ladder import OPTIONAL, rung
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
                                     "ex05_nicknames", "ex06_framing", "ex07_slow_reader", "ex08_client",
                                     "ex09_chat_server", "ex10_redis_bridge"]
    assert {exercise for exercise, _, _ in GRADED} == set(layout.exercise_ids())


RUNGS = ["guided", "specified", "open"]


def test_the_exercises_are_a_ladder():
    """Guided first, then specified, the open capstone, then the optional one; each rung of the ladder is
    worth more than the one before."""
    rungs = [rung(exercise) for exercise in layout.exercise_ids()]
    assert rungs == sorted(rungs, key=[*RUNGS, OPTIONAL].index) and set(rungs) == {*RUNGS, OPTIONAL}, rungs
    points = {exercise: sum(p for e, _, p in GRADED if e == exercise) for exercise in layout.exercise_ids()
              if rung(exercise) != OPTIONAL}
    for lower, higher in zip(RUNGS, RUNGS[1:]):
        most = max(points[e] for e in points if rung(e) == lower)
        least = min(points[e] for e in points if rung(e) == higher)
        assert most < least, f"a {lower} exercise is worth {most} points, a {higher} one only {least}: {points}"


def written_parts(tree):
    """{class name: [its methods whose body the student writes]} in a stub (they raise NotImplementedError)."""
    found = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            todo = [item.name for item in node.body if isinstance(item, ast.FunctionDef)
                    and any(isinstance(statement, ast.Raise) and "NotImplementedError" in ast.unparse(statement)
                            for statement in ast.walk(item))]
            if todo:
                found[node.name] = todo
    return found


def kit_names(tree):
    """The names a file binds to the kit's modules or to what it imports from them."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("chatkit"):
            names |= {alias.asname or alias.name for alias in node.names}
        elif isinstance(node, ast.Import):
            names |= {(alias.asname or alias.name).split(".")[0] for alias in node.names if alias.name.startswith("chatkit")}
    return names


@pytest.mark.parametrize("exercise", [e for e in layout.exercise_ids() if rung(e) != "guided"])
@pytest.mark.parametrize("folder", ["exercises", "solutions"])
def test_what_the_student_writes_is_not_the_kits(exercise, folder):
    """From exercise 4 on, a class the student writes subclasses nothing of the kit (the stage the notebook
    shows would hand them its methods), and no name of it is imported from the kit."""
    tree = ast.parse((layout.KIT_ROOT / folder / f"{exercise}.py").read_text(encoding="utf-8"))
    stub = ast.parse((layout.exercises_dir() / f"{exercise}.py").read_text(encoding="utf-8"))
    parts = written_parts(stub)
    assert parts, f"{exercise}: the stub has no method for the student to write"
    from_kit = kit_names(tree)
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name in parts:
            bases = [ast.unparse(base) for base in node.bases]
            assert not [base for base in bases if base.split(".")[0] in from_kit], \
                f"{folder}/{exercise}.py: {node.name}, which the student writes, subclasses the kit's {bases}"
    borrowed = from_kit & ({*parts} | {method for methods in parts.values() for method in methods})
    assert not borrowed, f"{folder}/{exercise}.py imports {borrowed} from the kit: the student's part"


def test_the_open_exercise_stub_imports_and_names_its_todos():
    """The capstone's stub keeps only the interface: its top-level TODO is a comment, so the file imports."""
    stub = (layout.exercises_dir() / "ex09_chat_server.py").read_text(encoding="utf-8")
    tree = ast.parse(stub)
    assert not [node for node in tree.body if isinstance(node, ast.Raise)], "a raise at the top would stop the import"
    assert written_parts(tree) == {"RunServer": ["__init__", "server_open", "run", "stop"]}


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
    solved = graded_runs["solutions"].results
    assert solved.extra_score == solved.extra_max_score == sum(p for e, _, p in GRADED if rung(e) == OPTIONAL) > 0
    assert solved.max_score == sum(p for e, _, p in GRADED if rung(e) != OPTIONAL), "optional points in the total"
    assert graded_runs["solutions"].results.tampered == [] == graded_runs["stubs"].results.tampered


def test_the_optional_exercise_without_redis_is_skipped_and_costs_nothing(tmp_path):
    """Where redis-server is missing, exercise 10's tests are skipped, say what to install, and the score
    of the required exercises is what it would be anyway."""
    optional = [e for e in layout.exercise_ids() if rung(e) == OPTIONAL]
    paths = [layout.test_file(e) for e in ("ex01_listen", *optional)]
    no_redis = {**os.environ, "PATH": os.path.dirname(os.path.realpath(sys.executable))}
    run = run_grader(paths, tmp_path / "results.json", solutions=True, time_limit=120, env=no_redis)
    skipped = [t for t in run.results.tests if t.exercise in optional]
    assert skipped and all(t.status == "not run" and "apt install redis-server" in t.output for t in skipped), \
        run.output[-2000:]
    assert "needs redis-server" in skipped[0].hint
    assert (run.results.score, run.results.max_score) == (5, 5), run.output[-2000:]
    assert (run.results.extra_score, run.results.extra_max_score) == (0, 8)
    assert "(optional)" in run.output and "not in the total" in run.output, run.output[-2000:]


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
