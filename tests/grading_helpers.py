"""Helpers for the grader's tests: grade a copy of the kit's exercises/ in a scratch folder.

    python tests/grading_helpers.py grade-bugs FOLDER   every sample bug graded (test_samples.py starts it early)
"""

import pickle
import shutil
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from chatkit.grader import layout
from chatkit.grader.authoring import tamper
from chatkit.grader.authoring.samples import BUGS
from chatkit.grader.commands.run import run_grader


def exercises_copy(folder):
    """A copy of the kit's exercises/ (stubs, tests, conftest.py) and pyproject.toml in `folder`."""
    folder = Path(folder)
    shutil.copytree(layout.exercises_dir(), folder / "exercises", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(layout.KIT_ROOT / "pyproject.toml", folder / "pyproject.toml")
    return folder / "exercises"


def grade_copy(folder, exercise, text, time_limit=60, env=None):
    """Grade one exercise whose file holds `text`, with the kit's tests (`env`: more environment): a runner.Run."""
    exercises = exercises_copy(folder)
    (exercises / f"{exercise}.py").write_text(text, encoding="utf-8")
    return run_grader([exercises / f"{exercise}_test.py"], Path(folder) / "results.json",
                      time_limit=time_limit, cwd=folder, env=env)


def solution_text(exercise):
    return (layout.solutions_dir() / f"{exercise}.py").read_text(encoding="utf-8")


def manifest_tests(exercise=None):
    tests = tamper.load_manifest()["tests"]
    return [(ex, test["test"], test["points"]) for ex in tests for test in tests[ex] if exercise in (None, ex)]


def points(exercise=None):
    """The points of one exercise, or the total of the required ones (an optional exercise's are extra),
    as the manifest gives them."""
    optional = [] if exercise else tamper.load_manifest().get("optional", [])
    return sum(p for ex, _, p in manifest_tests(exercise) if ex not in optional)


def grade_every_bug(folder, at_once=4):
    """{bug name: runner.Run} for every sample bug, `at_once` at a time (they mostly wait on timeouts)."""
    def grade(bug):
        return grade_copy(tempfile.mkdtemp(prefix=f"{bug.exercise}-", dir=folder), bug.exercise,
                          bug.apply(solution_text(bug.exercise)))

    slow_first = sorted(BUGS, key=lambda bug: -sum(bug.loses.values()))  # the hangs take longest
    with ThreadPoolExecutor(at_once) as pool:
        return dict(zip([bug.name for bug in slow_first], pool.map(grade, slow_first)))


if __name__ == "__main__" and sys.argv[1:2] == ["grade-bugs"]:
    graded = grade_every_bug(sys.argv[2])
    (Path(sys.argv[2]) / "graded.pickle").write_bytes(pickle.dumps(graded))
