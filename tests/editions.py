"""The students' edition and a student's machine, for the tests of releases, installs and terminals.

    student_edition     (fixture: import it) python -m chatkit release student, once a run, in a scratch folder
    student_env()       the environment a student's shell has: none of this test run's Python, venv or settings
    base_python()       the Python this run's .venv was made from (what a student would have)
    run(...)            a command with a deadline, its output kept for the assertion message
    partly_done(folder) an exercise in progress: a reference answer with one TODO block left undone
    scores(output)      {exercise: (points, max)} and the total, read off the grader's score table
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from chatkit.grader import layout
from chatkit.grader.authoring import stubs
from chatkit.grader.commands.run import run_grader
from chatkit.tools import release

KIT = Path(__file__).resolve().parent.parent


BUILT = {}  # one students' edition a run, whichever test module asks first (each imports the fixture)


@pytest.fixture(scope="session")
def student_edition(tmp_path_factory):
    if "student" not in BUILT:
        BUILT["student"] = tmp_path_factory.mktemp("editions") / "chatkit-students"
        release.write(KIT, BUILT["student"])
    return BUILT["student"]


def base_python():
    """The interpreter a student has: the one this run's .venv was made from."""
    for name in ("python3", "python"):
        candidate = Path(sys.base_prefix) / "bin" / name
        if candidate.exists():
            return str(candidate)
    return sys.executable


def student_env(**extra):
    """os.environ without this test run's virtual environment, chatkit or pytest settings."""
    ours = str(Path(sys.executable).parent)
    env = {key: value for key, value in os.environ.items()
           if key not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "CHATKIT_ROOT", "CHATKIT_IN_KIT_VENV",
                          # nor the variables of the make running these tests (make passes them on)
                          "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "VENV", "PYTHON", "EXTRAS", "LAB_ROOT", "LAB_ARGS")
           and not key.startswith("PYTEST_")}
    env["PATH"] = os.pathsep.join(part for part in env.get("PATH", "").split(os.pathsep) if part != ours)
    env.update(extra)
    return env


def run(command, cwd, timeout=600, env=None, check=True):
    """Run `command`; a CompletedProcess whose stdout holds stderr too. Fails the test on a bad exit if `check`."""
    done = subprocess.run(command, cwd=cwd, env=env or student_env(), stdin=subprocess.DEVNULL, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    if check:
        assert done.returncode == 0, f"{' '.join(map(str, command))} exited {done.returncode}:\n{done.stdout[-6000:]}"
    return done


def half_done(solution_text, todo):
    """The reference answer with its block number `todo` (0: the first) turned back into the stub's TODO."""
    lines = solution_text.splitlines(keepends=True)
    kept, block = [], -1
    for line in lines:
        if stubs.BEGIN.match(line):
            block += 1
            if block != todo:
                continue  # an answered block: its code stays, its markers go
        elif stubs.END.match(line) and block != todo:
            continue
        kept.append(line)
    return stubs.make_stub("".join(kept))


def partly_done(tmp_path):
    """(exercise, file text) of work in progress that earns some of the exercise's points, not all:
    the first reference answer that scores so with one of its TODO blocks left undone."""
    for exercise in layout.exercise_ids(KIT):
        solution = (layout.solutions_dir(KIT) / f"{exercise}.py").read_text(encoding="utf-8")
        for todo in range(1, solution.count("# BEGIN SOLUTION")):
            text = half_done(solution, todo)
            folder = tmp_path / f"{exercise}-{todo}"
            shutil.copytree(layout.exercises_dir(KIT), folder / "exercises", ignore=shutil.ignore_patterns("__pycache__"))
            shutil.copy(KIT / "pyproject.toml", folder)
            (folder / "exercises" / f"{exercise}.py").write_text(text, encoding="utf-8")
            graded = run_grader([folder / "exercises" / f"{exercise}_test.py"], folder / "results.json", cwd=folder)
            if 0 < graded.results.score < graded.results.max_score:
                return exercise, text
    raise AssertionError("no reference answer earns part of its points with one TODO block left undone")


SCORE_LINE = re.compile(r"^(ex\d\d_\w+|total)\s+(?:\d+/\d+\s+)?([\d.]+)/(\d+)(?:[ \t]+\S.*)?[ \t]*$", re.MULTILINE)


def scores(output):
    """{exercise or 'total': (points, max points)} from the last score table in `output`."""
    table = output.rsplit("chatkit grades", 1)[-1]
    return {name: (float(points), int(maximum)) for name, points, maximum in SCORE_LINE.findall(table)}
